#!/usr/bin/env bash
# Builds and runs every eigenml test (installing missing Debian packages first).
#   scripts/test.sh             optimised build, Eigen's assertions on
#   scripts/test.sh --sanitize  the same tests under ASan + UBSan
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
ensure_packages "${EIGENML_BUILD_PACKAGES[@]}" catch2 nlohmann-json3-dev libcpp-httplib-dev clang libclang-rt-14-dev

preset=test
if [ "${1:-}" = "--sanitize" ]; then preset=sanitize; fi
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
ctest --preset "$preset"
