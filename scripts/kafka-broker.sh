#!/usr/bin/env bash
# kafka-broker.sh - a real single-node Apache Kafka 4.x broker on loopback for integration tests.
#
# Kafka comes from Maven Central jars (no Kafka download site needed): `fetch` resolves
# org.apache.kafka:kafka_2.13 + kafka-tools (+ slf4j-simple for logging) with `mvn` into
#   ${STREAMS_CACHE_DIR:-$HOME/.cache/streams}/kafka/<version>/libs
# once; later runs do no network at all. The broker runs in KRaft mode, combined
# broker+controller, node.id=1, PLAINTEXT on 127.0.0.1 only.
#
# Usage: scripts/kafka-broker.sh COMMAND
#   start            fetch if needed, format a fresh data dir, start the broker in the background,
#                    wait until it serves, print `KAFKA_BOOTSTRAP=127.0.0.1:PORT` on stdout.
#                    Idempotent: if the broker is already running, just prints that line. A halted
#                    or crashed broker from the state file is discarded (data dir deleted) first.
#   stop             stop the broker (SIGTERM, SIGKILL after $KAFKA_STOP_TIMEOUT s), delete its data dir.
#   restart [--hard] stop the process (SIGTERM, or SIGKILL with --hard) and start it again on the
#                    SAME ports with the SAME data dir (topics/offsets survive). Prints the env line.
#   halt [--hard]    stop only the process, keep data dir + state (broker "down" for a while) ...
#   resume           ... and bring it back on the same ports/data (halt + resume == restart).
#   status           print state; exit 0 if running, 3 if not.
#   env              print `export KAFKA_BOOTSTRAP=127.0.0.1:PORT` for the running broker (exit 1 if none).
#   fetch            only download/cache the jars.
#   classpath        print the Java classpath of the cached jars (for Kafka's own CLI tools).
#   tool CLASS ARGS  run a Kafka main class on that classpath, e.g.
#                    tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BOOTSTRAP" --list
#
# NOTE: auto.create.topics.enable=false - tests must create their topics explicitly.
# Other test settings: offsets/transaction-state RF=1, transaction.state.log.min.isr=1,
# group.initial.rebalance.delay.ms=0, num.partitions=1, broker.session.timeout.ms=5000,
# offsets.topic.num.partitions=4 and transaction.state.log.num.partitions=4.
#
# Environment (all optional):
#   STREAMS_CACHE_DIR      cache root (default $HOME/.cache/streams)
#   KAFKA_VERSION          Kafka version from Maven Central (default 4.4.0)
#   KAFKA_STATE_FILE       state file (default $STREAMS_CACHE_DIR/kafka-broker.state); it is
#                          shell-sourceable: KAFKA_BOOTSTRAP, KAFKA_PID, KAFKA_DATA_DIR, KAFKA_LOG, ...
#   KAFKA_PORT             broker port (default: a free loopback port)
#   KAFKA_CONTROLLER_PORT  KRaft controller port (default: a free loopback port)
#   KAFKA_DATA_DIR         data dir for `start`; must not exist or be empty (default: mktemp under $TMPDIR
#                          or /tmp). Holds server.properties, broker.log and the log segments.
#   KAFKA_HEAP             max heap (default 512m);  KAFKA_JVM_OPTS extra JVM options
#   KAFKA_JAVA             java binary (default: `java` on PATH; Java 17+)
#   KAFKA_CONFIG_OVERRIDES extra server properties, whitespace-separated key=value (last wins)
#   KAFKA_START_TIMEOUT    seconds to wait for startup (default 60); KAFKA_STOP_TIMEOUT (default 30)
# Needs: bash, java 17+, mvn (first fetch only), flock; python3 is used to pick free ports if present.
set -euo pipefail

VERSION=${KAFKA_VERSION:-4.4.0}
CACHE=${STREAMS_CACHE_DIR:-${HOME:-/tmp}/.cache/streams}
LIBS=$CACHE/kafka/$VERSION/libs
STATE=${KAFKA_STATE_FILE:-$CACHE/kafka-broker.state}
JAVA=${KAFKA_JAVA:-java}
START_TIMEOUT=${KAFKA_START_TIMEOUT:-60}
STOP_TIMEOUT=${KAFKA_STOP_TIMEOUT:-30}
MARKER=.streams-kafka-broker   # only data dirs holding this file are ever deleted
REQ_PORT=${KAFKA_PORT:-} REQ_CPORT=${KAFKA_CONTROLLER_PORT:-} REQ_DATA=${KAFKA_DATA_DIR:-}

die() { echo "kafka-broker: error: $*" >&2; exit 1; }
info() { echo "kafka-broker: $*" >&2; }

fetch() {
  [[ -f $LIBS/.complete ]] && return 0
  command -v mvn >/dev/null || die "mvn not found (needed once to fetch Kafka $VERSION jars)"
  local work; work=$(mktemp -d); mkdir -p "$(dirname "$LIBS")"
  cat >"$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.streams</groupId><artifactId>kafka-broker-libs</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-simple</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
EOF
  info "fetching Kafka $VERSION jars from Maven Central into $LIBS ..."
  rm -rf "$LIBS.tmp"
  if ! (cd "$work" && mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$LIBS.tmp") >"$work/mvn.log" 2>&1; then
    tail -n 30 "$work/mvn.log" >&2; rm -rf "$work" "$LIBS.tmp"; die "mvn failed to fetch Kafka $VERSION"
  fi
  rm -rf "$work" "$LIBS"; touch "$LIBS.tmp/.complete"; mv "$LIBS.tmp" "$LIBS"
  local jars=("$LIBS"/*.jar); info "cached ${#jars[@]} jars in $LIBS"
}

# Prints N distinct free loopback ports.
free_ports() {
  if command -v python3 >/dev/null; then
    python3 -c 'import socket,sys
ss=[socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1",0))
print(" ".join(str(s.getsockname()[1]) for s in ss))' "$1"
  else
    local out=() p
    while (( ${#out[@]} < $1 )); do
      p=$(( 20000 + RANDOM % 30000 ))
      port_open "$p" || [[ " ${out[*]} " == *" $p "* ]] || out+=("$p")
    done
    echo "${out[*]}"
  fi
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

load_state() { [[ -f $STATE ]] || return 1; # shellcheck disable=SC1090
  source "$STATE"; VERSION=$KAFKA_VERSION LIBS=$KAFKA_LIBS; }
# True if $1 is a live kafka.Kafka process for data dir $2 (guards against PID reuse).
alive() { local c; c=$(tr '\0' ' ' <"/proc/${1:-x}/cmdline" 2>/dev/null) && [[ $c == *"kafka.Kafka $2/server.properties"* ]]; }
# True once pid $1 has fully exited (its cmdline vanishes before its sockets are closed).
gone() { local st; st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 0; [[ -z $st || $st == Z ]]; }
running() { load_state && alive "$KAFKA_PID" "$KAFKA_DATA_DIR"; }

write_state() {
  mkdir -p "$(dirname "$STATE")"
  { printf 'KAFKA_BOOTSTRAP=%q\n' "127.0.0.1:$KAFKA_PORT"
    printf 'KAFKA_PORT=%q\nKAFKA_CONTROLLER_PORT=%q\n' "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"
    printf 'KAFKA_PID=%q\nKAFKA_DATA_DIR=%q\n' "$KAFKA_PID" "$KAFKA_DATA_DIR"
    printf 'KAFKA_LOG=%q\nKAFKA_VERSION=%q\nKAFKA_LIBS=%q\n' "$KAFKA_DATA_DIR/broker.log" "$VERSION" "$LIBS"
  } >"$STATE.tmp"
  mv "$STATE.tmp" "$STATE"
}

write_config() {
  local d=$1
  cat >"$d/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$d/kraft-logs
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
# 4 instead of 50: creating __consumer_offsets (on the first group lookup) with 50 partitions
# stalls a fresh single-node broker on 2 cores while the first tests already run.
offsets.topic.num.partitions=4
transaction.state.log.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# After a SIGKILL the old broker registration blocks re-registration until its session expires
# (default 9 s); a shorter session makes a hard restart faster.
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=5000
EOF
  local kv
  for kv in ${KAFKA_CONFIG_OVERRIDES:-}; do
    [[ $kv == *=* ]] || die "bad KAFKA_CONFIG_OVERRIDES entry '$kv' (want key=value)"; echo "$kv" >>"$d/server.properties"
  done
}

run_java() { "$JAVA" -cp "$LIBS/*" "$@"; }

# Launches the broker for $KAFKA_DATA_DIR and waits until it serves; sets KAFKA_PID.
launch() {
  local log=$KAFKA_DATA_DIR/broker.log
  local _; for _ in $(seq 50); do port_open "$KAFKA_PORT" || port_open "$KAFKA_CONTROLLER_PORT" || break; sleep 0.2; done
  ! port_open "$KAFKA_PORT" || die "port $KAFKA_PORT on 127.0.0.1 is already in use"
  ! port_open "$KAFKA_CONTROLLER_PORT" || die "port $KAFKA_CONTROLLER_PORT on 127.0.0.1 is already in use"
  local from=$(( $(stat -c %s "$log" 2>/dev/null || echo 0) + 1 ))
  echo "===== kafka-broker.sh: launch at $(date -Is) =====" >>"$log"
  # shellcheck disable=SC2086
  setsid "$JAVA" -Xmx"${KAFKA_HEAP:-512m}" -Xms128m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dorg.slf4j.simpleLogger.showDateTime=true -Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS \
    ${KAFKA_JVM_OPTS:-} -cp "$LIBS/*" kafka.Kafka "$KAFKA_DATA_DIR/server.properties" \
    </dev/null >>"$log" 2>&1 9>&- &
  KAFKA_PID=$!
  local deadline=$(( SECONDS + START_TIMEOUT ))
  while (( SECONDS < deadline )); do
    if ! kill -0 "$KAFKA_PID" 2>/dev/null; then fail_start "broker process exited during startup" "$log"; fi
    # The broker's PLAINTEXT acceptor opens only after it is unfenced; then confirm with a real
    # Kafka admin request (metadata) from Kafka's own CLI.
    if tail -c +"$from" "$log" | grep -c 'Kafka Server started' >/dev/null && port_open "$KAFKA_PORT" &&
       timeout 20 "$JAVA" -cp "$LIBS/*" org.apache.kafka.tools.TopicCommand \
         --bootstrap-server "127.0.0.1:$KAFKA_PORT" --list >/dev/null 2>>"$KAFKA_DATA_DIR/probe.log"; then
      return 0
    fi
    sleep 0.2
  done
  kill -9 "$KAFKA_PID" 2>/dev/null || true
  fail_start "broker not ready after ${START_TIMEOUT}s" "$log"
}
fail_start() {
  echo "kafka-broker: error: $1. Log: $2 (data dir kept for inspection). Last lines:" >&2
  tail -n 40 "$2" >&2 || true; exit 1
}

# Stops the process of the broker in the state file; $1=--hard for SIGKILL.
halt_process() {
  alive "$KAFKA_PID" "$KAFKA_DATA_DIR" || return 0
  if [[ ${1:-} == --hard ]]; then kill -9 "$KAFKA_PID"; else kill -TERM "$KAFKA_PID"; fi
  local deadline=$(( SECONDS + STOP_TIMEOUT ))
  while ! gone "$KAFKA_PID"; do
    if (( SECONDS >= deadline )); then
      info "broker pid $KAFKA_PID did not stop within ${STOP_TIMEOUT}s; sending SIGKILL"
      kill -9 "$KAFKA_PID" 2>/dev/null || true; deadline=$(( SECONDS + 10 ))
    fi
    sleep 0.1
  done
}

remove_data_dir() { [[ -n ${1:-} && -f $1/$MARKER ]] && rm -rf "$1"; return 0; }

cmd_start() {
  if running; then echo "KAFKA_BOOTSTRAP=$KAFKA_BOOTSTRAP"; return 0; fi
  if load_state; then info "removing stale state (pid $KAFKA_PID is gone)"; remove_data_dir "$KAFKA_DATA_DIR"; rm -f "$STATE"; fi
  fetch
  local p; for p in $REQ_PORT $REQ_CPORT; do ! port_open "$p" || die "requested port $p on 127.0.0.1 is already in use"; done
  local ports; read -r -a ports <<<"$(free_ports 2)"
  KAFKA_PORT=${REQ_PORT:-${ports[0]}}
  KAFKA_CONTROLLER_PORT=${REQ_CPORT:-${ports[1]}}
  [[ $KAFKA_PORT != "$KAFKA_CONTROLLER_PORT" ]] || KAFKA_CONTROLLER_PORT=${ports[0]}
  if [[ -n $REQ_DATA ]]; then
    mkdir -p "$REQ_DATA"; [[ -z $(ls -A "$REQ_DATA") ]] || die "KAFKA_DATA_DIR $REQ_DATA is not empty"
    KAFKA_DATA_DIR=$(cd "$REQ_DATA" && pwd)
  else
    KAFKA_DATA_DIR=$(mktemp -d "${TMPDIR:-/tmp}/streams-kafka.XXXXXX")
  fi
  touch "$KAFKA_DATA_DIR/$MARKER"
  write_config "$KAFKA_DATA_DIR"
  local cluster_id=-   # 16 random bytes, base64url; a leading '-' would be parsed as an option
  while [[ $cluster_id == -* ]]; do cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '='); done
  run_java kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_DATA_DIR/server.properties" \
    >"$KAFKA_DATA_DIR/format.log" 2>&1 || fail_start "formatting KRaft storage failed" "$KAFKA_DATA_DIR/format.log"
  launch
  write_state
  info "broker pid $KAFKA_PID, data dir $KAFKA_DATA_DIR, log $KAFKA_DATA_DIR/broker.log"
  echo "KAFKA_BOOTSTRAP=127.0.0.1:$KAFKA_PORT"
}

cmd_stop() {
  load_state || { info "no broker state at $STATE; nothing to stop"; return 0; }
  halt_process
  remove_data_dir "$KAFKA_DATA_DIR"; rm -f "$STATE"
  info "stopped broker (pid $KAFKA_PID), removed $KAFKA_DATA_DIR"
}

cmd_halt() {
  load_state || die "no broker state at $STATE (run start first)"
  halt_process "${1:-}"; info "broker pid $KAFKA_PID halted${1:+ ($1)}; data kept in $KAFKA_DATA_DIR"
}

cmd_resume() {
  load_state || die "no broker state at $STATE (run start first)"
  if alive "$KAFKA_PID" "$KAFKA_DATA_DIR"; then echo "KAFKA_BOOTSTRAP=$KAFKA_BOOTSTRAP"; return 0; fi
  [[ -f $KAFKA_DATA_DIR/server.properties ]] || die "data dir $KAFKA_DATA_DIR is gone; use stop + start"
  fetch; launch; write_state
  info "broker resumed as pid $KAFKA_PID on the same port"
  echo "KAFKA_BOOTSTRAP=$KAFKA_BOOTSTRAP"
}

cmd_status() {
  if running; then
    echo "running: pid $KAFKA_PID, KAFKA_BOOTSTRAP=$KAFKA_BOOTSTRAP, version $KAFKA_VERSION, data $KAFKA_DATA_DIR, log $KAFKA_LOG"
  elif load_state; then echo "not running (halted or crashed; data dir $KAFKA_DATA_DIR, log $KAFKA_LOG)"; return 3
  else echo "not running (no state at $STATE)"; return 3; fi
}

locked() { mkdir -p "$(dirname "$STATE")"; exec 9>"$STATE.lock"; flock -w 300 9 || die "could not lock $STATE.lock"; "$@"; }

case ${1:-} in
  start)     locked cmd_start ;;
  stop)      locked cmd_stop ;;
  restart)   [[ -z ${2:-} || $2 == --hard ]] || die "usage: restart [--hard]"; locked cmd_halt "${2:-}"; cmd_resume ;;
  halt)      [[ -z ${2:-} || $2 == --hard ]] || die "usage: halt [--hard]"; locked cmd_halt "${2:-}" ;;
  resume)    locked cmd_resume ;;
  status)    cmd_status ;;
  env)       running || die "no running broker (state file $STATE)"; echo "export KAFKA_BOOTSTRAP=$KAFKA_BOOTSTRAP" ;;
  fetch)     (locked fetch); echo "$LIBS" ;;
  classpath) (locked fetch); echo "$LIBS/*" ;;
  tool)      shift; [[ $# -ge 1 ]] || die "usage: tool MAIN_CLASS [ARGS...]"; (locked fetch); run_java "$@" ;;
  *)         sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
