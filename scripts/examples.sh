#!/usr/bin/env bash
# Builds the examples (optimised) and runs each one (installing missing Debian packages first).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
ensure_packages "${EIGENML_BUILD_PACKAGES[@]}" libcpp-httplib-dev

cmake --preset release -DEIGENML_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build --preset release --target examples

# The examples that run to completion on their own, in the order the README tells their story.
for example in linear_regression logistic_regression breast_cancer mlp_digits cnn_digits rnn_sequence; do
  if [ -x "build/release/examples/$example" ]; then
    echo
    echo "=== $example ==="
    "build/release/examples/$example"
  fi
done
