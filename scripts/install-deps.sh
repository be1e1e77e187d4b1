#!/usr/bin/env bash
# install-deps.sh - installs the Debian packages the build needs, if missing; with `--kafka`,
# also what the real-broker tests need (Java 17 and Maven, which fetches Kafka's jars).
# It also creates /var/cache/streams, where .cargo/config.toml puts the build (outside the clone).
# Idempotent and quiet when everything is there. Needs root (or sudo) only when it installs.
#
# Without root, install these by hand first (Debian/Ubuntu names):
#   build:   build-essential pkg-config libclang-dev libssl-dev
#   --kafka: openjdk-17-jre-headless maven
set -euo pipefail

need=()
command -v cc >/dev/null || need+=(build-essential)
command -v make >/dev/null || need+=(make)
command -v pkg-config >/dev/null || need+=(pkg-config)
# libclang: bindgen in librocksdb-sys (the `rocksdb` crate builds RocksDB from source).
dpkg -s libclang-dev >/dev/null 2>&1 || need+=(libclang-dev)
# OpenSSL headers: librdkafka is built with TLS (security.protocol=SSL/SASL_SSL).
dpkg -s libssl-dev >/dev/null 2>&1 || need+=(libssl-dev)
if [[ ${1:-} == --kafka ]]; then
  command -v java >/dev/null || need+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null || need+=(maven)
fi

sudo=""
[[ $(id -u) -eq 0 ]] || sudo=sudo
if ((${#need[@]})); then
  echo "install-deps: installing ${need[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

# The shared target directory of .cargo/config.toml, writable by whoever builds.
cache=/var/cache/streams
if [[ -z ${CARGO_TARGET_DIR:-} && ! -w $cache ]]; then
  $sudo install -d -o "$(id -u)" -g "$(id -g)" "$cache"
fi
