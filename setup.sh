#!/usr/bin/env bash
# The two set-up commands of the README:
#   ./setup.sh demo   install what is missing, build, and run `crisisd demo`
#   ./setup.sh test   install what is missing, build, and run the whole test suite
# Dependencies come from Debian packages only (deploy/install-deps.sh); as root, or with sudo.
set -euo pipefail
cd "$(dirname "$0")"

jobs=$(nproc 2>/dev/null || echo 2)
what=${1:-}
shift || true

case "$what" in
  demo)
    deploy/install-deps.sh --build
    cmake --preset release >/dev/null
    cmake --build --preset release -j "$jobs"
    exec build/release/crisisd demo "$@"
    ;;
  test)
    deploy/install-deps.sh --test
    # The reference VADER port (npm vader-sentiment) for the scorer's agreement test, pinned
    # by the lock file; npm's registry is the only place it comes from.
    if [ -f tests/tools/package-lock.json ]; then
      (cd tests/tools && npm ci --no-audit --no-fund --loglevel=error)
    fi
    # playwright-core drives Debian's Chromium in the console's browser tests.
    if [ -f tests/browser/package-lock.json ]; then
      (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
    fi
    cmake --preset ci >/dev/null
    cmake --build --preset ci -j "$jobs"
    ctest --preset ci -j "$jobs"
    # ASan + UBSan over the unit tests (pure modules and the outbox). The asan build preset builds
    # only their executables (target unit_tests), with line tables (-g1) rather than full debug
    # information: all a sanitizer report needs is file and line, and the rest cost about a
    # fifth of the compile (daemon/net/http_server.cpp: 156 s of CPU with -g, 120 s with -g1).
    cmake --preset asan >/dev/null
    cmake --build --preset asan -j "$jobs"
    ctest --preset asan-unit -j "$jobs"
    ;;
  *)
    echo "usage: $0 demo [crisisd demo options] | test" >&2
    exit 64
    ;;
esac
