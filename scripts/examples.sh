#!/usr/bin/env bash
# Builds the examples (optimised) and runs each one (installing missing Debian packages first).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
ensure_packages "${EIGENML_BUILD_PACKAGES[@]}" nlohmann-json3-dev libcpp-httplib-dev

cmake --preset release -DEIGENML_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build --preset release --target examples

# The examples that run to completion on their own, in the order the README tells their story.
# They run inside the build folder, so files they write (train_and_save's model) land there.
cd build/release/examples
for example in linear_regression logistic_regression breast_cancer mlp_digits cnn_digits rnn_sequence train_and_save; do
  echo
  echo "=== $example ==="
  "./$example"
done
