#!/usr/bin/env bash
# Installs every build, test and run-time dependency of crisisd from Debian 12 packages.
# Usage: deploy/install-deps.sh [--runtime|--build|--test]   (default --test: everything)
# Runs as root, or through sudo when not root. Installs only what is missing.
set -euo pipefail

mode=${1:---test}

runtime_pkgs=(
  ca-certificates
  libboost-json1.81.0 libyaml-cpp0.7 libsimdjson14 libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0
  libsqlite3-0 libssl3 libvectorscan5 libsystemd0 zlib1g libexpat1 tzdata
  libnats3.4
)
build_pkgs=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-json1.81-dev
  libsimdjson-dev libyaml-cpp-dev prometheus-cpp-dev libsqlite3-dev libssl-dev libvectorscan-dev
  libsystemd-dev zlib1g-dev libnats-dev libexpat1-dev
  libgtest-dev libgmock-dev libbenchmark-dev
)
test_pkgs=(
  python3 curl openssl sqlite3
  prometheus prometheus-alertmanager chromium
  nats-server
)

case "$mode" in
  --runtime) wanted=("${runtime_pkgs[@]}") ;;
  --build)   wanted=("${runtime_pkgs[@]}" "${build_pkgs[@]}") ;;
  --test)    wanted=("${runtime_pkgs[@]}" "${build_pkgs[@]}" "${test_pkgs[@]}") ;;
  *) echo "usage: $0 [--runtime|--build|--test]" >&2; exit 64 ;;
esac

missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Node.js runs the reference VADER port and the browser tests. A machine may already have a
# Node.js from elsewhere whose npm conflicts with Debian's; only install Debian's when none is there.
if [ "$mode" = --test ]; then
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
fi
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#wanted[@]} packages present"
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
