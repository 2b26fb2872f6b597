#!/usr/bin/env bash
# Installs what postbox needs to build and test on Debian 12, idempotently.
# Called by `make run`, `make test` (--test) and `make bench` (--bench); safe to run again
# (it only installs what is missing).
set -euo pipefail

BUILD_PACKAGES=(
  build-essential cmake ninja-build pkg-config python3
  libboost-dev libboost-system-dev libssl-dev librocksdb-dev libjemalloc-dev
  nlohmann-json3-dev libsimdjson-dev libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev
  libcurl4-openssl-dev
  libgtest-dev libgmock-dev
)
TEST_PACKAGES=(
  awscli python3-boto3 python3-celery python3-kombu python3-pycurl python3-aiosmtpd
  clang libclang-rt-14-dev curl
  # A real Prometheus scrapes /metrics in the suite; util-linux's prlimit and e2fsprogs make
  # the connection-limit and read-only file system tests (both in Debian's base system).
  prometheus util-linux e2fsprogs
)
# `make bench` also measures the peer issue 3 names: Redis streams with appendfsync always.
BENCH_PACKAGES=(redis-server)

want=("${BUILD_PACKAGES[@]}")
if [[ "${1:-}" == "--bench" ]]; then
  want+=("${BENCH_PACKAGES[@]}")
fi
if [[ "${1:-}" == "--test" ]]; then
  want+=("${TEST_PACKAGES[@]}")
  # Node.js may come from another packaging (it then bundles npm); only ask Debian when absent.
  command -v node >/dev/null 2>&1 || want+=(nodejs)
  command -v npm >/dev/null 2>&1 || want+=(npm)
fi

missing=()
for pkg in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: need root to install Debian packages: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # Packages with a daemon (prometheus, redis-server) must not start it: the suite starts its
  # own on 127.0.0.1 when it needs one. policy-rc.d forbids service starts during the install.
  policy=/usr/sbin/policy-rc.d
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
