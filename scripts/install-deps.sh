#!/usr/bin/env bash
# install-deps.sh - installs the system packages the build and tests need, if missing.
# Idempotent and quiet when everything is there. Needs root (or sudo) the first time.
set -euo pipefail

need=()
command -v java >/dev/null || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || need+=(maven)
command -v cc >/dev/null || need+=(build-essential)
# libclang: bindgen in librocksdb-sys (the `rocksdb` crate builds RocksDB from source).
dpkg -s libclang-dev >/dev/null 2>&1 || need+=(libclang-dev)
# OpenSSL headers + pkg-config: librdkafka is built with TLS (security.protocol=SSL/SASL_SSL).
dpkg -s libssl-dev >/dev/null 2>&1 || need+=(libssl-dev)
command -v pkg-config >/dev/null || need+=(pkg-config)

if ((${#need[@]})); then
  echo "install-deps: installing ${need[*]}" >&2
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
