#!/usr/bin/env bash
# test-all.sh - every test of the workspace: unit, TopologyTestDriver, doc, compile-fail UI tests,
# and the integration tests that need a real Apache Kafka broker.
#
# It installs what the build needs (Debian packages, once), starts a real single-node Kafka 4.x
# broker on loopback with scripts/kafka-broker.sh (jars from Maven Central, cached), exports
# KAFKA_BOOTSTRAP for the tests, runs every test binary (`cargo test --workspace --no-fail-fast`:
# a failing binary does not hide the ones after it), stops the broker, and ends with one summary:
# each test binary's counts, then `test-all: N passed, N failed, N skipped`.
#
# Build artifacts go to the target directory of .cargo/config.toml (/var/cache/streams/target,
# outside the clone; $CARGO_TARGET_DIR overrides it), shared with `cargo run --example ...`:
# one build of librdkafka and RocksDB serves both. The full output is kept in
# <target dir>/test-all.log, the broker's log in <target dir>/kafka-test-broker.log.
#
# Usage: scripts/test-all.sh [extra cargo test args...]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --kafka
target_dir=$(cargo metadata --no-deps --format-version 1 |
  sed -E 's/.*"target_directory":"([^"]*)".*/\1/')
mkdir -p "$target_dir"
log=$target_dir/test-all.log

# A broker of this run's own (own state file), stopped however the run ends.
export KAFKA_STATE_FILE=$target_dir/kafka-test-broker.state
# Its log is kept next to the test log (the data directory goes with the broker).
keep_broker_log() {
  local log
  log=$(sed -n 's/^KAFKA_LOG=//p' "$KAFKA_STATE_FILE" 2>/dev/null) || true
  [[ -n $log && -f $log ]] && cp "$log" "$target_dir/kafka-test-broker.log"
  scripts/kafka-broker.sh stop >/dev/null 2>&1 || true
}
trap keep_broker_log EXIT
eval "$(scripts/kafka-broker.sh start | sed 's/^/export /')"
echo "test-all: Kafka broker at $KAFKA_BOOTSTRAP"

started=$(date +%s)
status=0
cargo test --workspace --no-fail-fast "$@" 2>&1 | tee "$log" || status=$?
elapsed=$(($(date +%s) - started))

# One line per test binary (its counts, or why it has none), then the totals.
echo
echo "test-all: summary ($((elapsed / 60)) min $((elapsed % 60)) s; full output in $log)"
awk -v status="$status" '
  function close_binary() {
    if (name == "") return
    if (!seen) { printf "  %-60s NO RESULT (did not finish)\n", name; broken++ }
    name = ""; seen = 0
  }
  /^ *Running / {
    close_binary()
    bin = $0; sub(/^.*\//, "", bin); sub(/-[0-9a-f]+\)$/, "", bin)
    src = $0; sub(/^ *Running /, "", src); sub(/ \(.*$/, "", src)
    name = bin " (" src ")"
    next
  }
  /^ *Doc-tests / { close_binary(); name = "doc-tests " $2; next }
  /^test result: / {
    line = $0
    p = f = i = 0
    if (match(line, /[0-9]+ passed/)) p = substr(line, RSTART, RLENGTH) + 0
    if (match(line, /[0-9]+ failed/)) f = substr(line, RSTART, RLENGTH) + 0
    if (match(line, /[0-9]+ ignored/)) i = substr(line, RSTART, RLENGTH) + 0
    if (name != "") {
      printf "  %-60s %s%5d passed %4d failed %4d skipped\n", name, (f ? "FAILED " : "       "), p, f, i
      seen = 1
    }
    passed += p; failed += f; ignored += i; binaries++
    next
  }
  END {
    close_binary()
    if (binaries == 0 || (status != 0 && failed == 0 && broken == 0)) {
      print "  the build or a test harness failed before any result: see the log above"
      broken++
    }
    printf "test-all: %d passed, %d failed, %d skipped\n", passed, failed + broken, ignored
  }
' "$log"
exit "$status"
