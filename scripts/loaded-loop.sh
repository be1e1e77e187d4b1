#!/usr/bin/env bash
# loaded-loop.sh - the real-broker suites in a loop while both cores are kept busy: the check
# that rebalances and restoration never stall (flaky is broken) under the load of a shared
# machine.
#
# Builds the Kafka test binary once, starts a fresh broker of its own (scripts/kafka-broker.sh,
# own state file) and a CPU load generator (one busy loop per core, `LOAD_PROCS` to change), runs
# the real-broker suites (the `broker::` and `state::` tests of `tests/kafka`) RUNS times
# (default 20), each run bounded by RUN_TIMEOUT seconds (default 900), and prints one line per
# run and a summary. Everything it started is stopped on exit. The output of failed runs is kept
# in <target dir>/loaded-loop/run-N.log.
#
# Usage: scripts/loaded-loop.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-20}
run_timeout=${RUN_TIMEOUT:-900}
procs=${LOAD_PROCS:-$(nproc)}
filters=(broker:: state::)

target_dir=$(cargo metadata --no-deps --format-version 1 |
  sed -E 's/.*"target_directory":"([^"]*)".*/\1/')
logs=$target_dir/loaded-loop
mkdir -p "$logs"

# One build, run as it is: edits made while the loop runs do not change what it tests.
binary=$(cargo test --test kafka --no-run 2>&1 |
  sed -nE 's/.*Executable tests\/kafka\/main.rs \((.*)\)/\1/p')
[[ -x $binary ]] || { echo "loaded-loop: no test binary built" >&2; exit 1; }
# A copy of its own: a rebuild while the loop runs replaces the original, and the crash tests
# re-run their own executable.
cp "$binary" "$logs/kafka-tests"
binary=$logs/kafka-tests
echo "loaded-loop: $binary"

export KAFKA_STATE_FILE=$logs/broker.state
load=()
cleanup() {
  ((${#load[@]})) && kill "${load[@]}" 2>/dev/null
  scripts/kafka-broker.sh stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
eval "$(scripts/kafka-broker.sh start | sed 's/^/export /')"
echo "loaded-loop: broker at $KAFKA_BOOTSTRAP, $procs busy loops, $runs runs"

for ((i = 0; i < procs; i++)); do
  (while :; do :; done) &
  load+=($!)
done

passed=0 failed=0
for ((run = 1; run <= runs; run++)); do
  start=$(date +%s)
  if timeout "$run_timeout" "$binary" "${filters[@]}" >"$logs/run-$run.log" 2>&1; then
    passed=$((passed + 1))
    echo "run $run: ok ($(($(date +%s) - start)) s, load $(cut -d' ' -f1 /proc/loadavg))"
    rm -f "$logs/run-$run.log"
  else
    failed=$((failed + 1))
    echo "run $run: FAILED ($(($(date +%s) - start)) s): $logs/run-$run.log"
    grep -E "^test .*FAILED|panicked at" "$logs/run-$run.log" | head -5 || true
  fi
done
echo "loaded-loop: $passed passed, $failed failed"
((failed == 0))
