#!/usr/bin/env bash
# Builds eigenml's benchmarks and the libtorch peer (optimised), then runs everything side by
# side with numpy / scikit-learn: benchmarks/run.sh [run.py options, e.g. --rounds 5 --threads 1]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
# libopenblas0-pthread: the optimised BLAS that numpy and libtorch pick up through Debian's
# alternatives (without it they fall back to the reference BLAS, 20x slower, an unfair peer).
ensure_packages "${EIGENML_BUILD_PACKAGES[@]}" libbenchmark-dev libtorch-dev libopenblas0-pthread \
  python3-numpy python3-sklearn python3-matplotlib

cmake --preset release -DEIGENML_BUILD_BENCHMARKS=ON >/dev/null
cmake --build --preset release --target bench_eigenml bench_torch compile_probe
/usr/bin/python3 benchmarks/run.py --build build/release "$@"
