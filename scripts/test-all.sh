#!/usr/bin/env bash
# test-all.sh - every test of the workspace: unit, TopologyTestDriver, doc, compile-fail UI tests,
# and the integration tests that need a real Apache Kafka broker.
#
# It installs what the build needs (Debian packages, once), starts a real single-node Kafka 4.x
# broker on loopback with scripts/kafka-broker.sh (jars from Maven Central, cached), exports
# KAFKA_BOOTSTRAP for the tests, runs `cargo test --workspace`, and stops the broker on exit.
#
# Build artifacts go to $CARGO_TARGET_DIR (default /var/cache/streams/target, outside the
# clone) so repeated runs and fresh clones reuse the compiled dependencies.
#
# Usage: scripts/test-all.sh [extra cargo test args...]
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/cache/streams/target}
mkdir -p "$CARGO_TARGET_DIR"

scripts/install-deps.sh

# A broker of this run's own (own state file), stopped however the run ends.
export KAFKA_STATE_FILE=$CARGO_TARGET_DIR/kafka-test-broker.state
trap 'scripts/kafka-broker.sh stop >/dev/null 2>&1 || true' EXIT
eval "$(scripts/kafka-broker.sh start | sed 's/^/export /')"
echo "test-all: Kafka broker at $KAFKA_BOOTSTRAP"

cargo test --workspace "$@"
