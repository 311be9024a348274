#!/usr/bin/env python3
"""W4 and W5 with numpy and scikit-learn, timed the way Google Benchmark times eigenml.

Prints one JSON object per line: {"name", "library", "threads", "times": [seconds, ...], "extra"}.
Threads are set by the caller through OPENBLAS_NUM_THREADS / OMP_NUM_THREADS.
Run with Debian's interpreter: /usr/bin/python3 benchmarks/peers/bench_numpy.py --repetitions 5
"""
import argparse
import json
import os
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, LogisticRegression


def timed(fn, repetitions):
    fn()  # warm-up
    times = []
    for _ in range(repetitions):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def logistic_grad_inf_norm(X, y, w, b, C):
    """Max-norm of the gradient of sklearn's objective divided by C*n (API.md's stopping rule)."""
    n = X.shape[0]
    z = X @ w + b
    p = 1.0 / (1.0 + np.exp(-z))
    r = p - y
    gw = X.T @ r / n + w / (C * n)
    gb = r.sum() / n
    return float(max(np.abs(gw).max(), abs(gb)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--filter", default="")
    args = ap.parse_args()
    threads = int(os.environ.get("OPENBLAS_NUM_THREADS", "0") or 0)
    rng = np.random.default_rng(0)

    def emit(name, library, times, **extra):
        if args.filter and args.filter not in name:
            return
        print(json.dumps({"name": name, "library": library, "threads": threads, "times": times, "extra": extra}),
              flush=True)

    # W4: logistic regression, 100,000 x 20, double.
    X = rng.standard_normal((100_000, 20))
    y = (X[:, 0] + 0.5 * rng.standard_normal(100_000) > 0).astype(np.float64)
    n = X.shape[0]

    def gd100():
        w = np.zeros(20)
        b = 0.0
        for _ in range(100):
            r = 1.0 / (1.0 + np.exp(-(X @ w + b))) - y
            w -= 0.1 * (X.T @ r) / n
            b -= 0.1 * r.sum() / n
        return w, b

    if not args.filter or "W4" in args.filter:
        emit("W4/gd100", "numpy", timed(gd100, args.repetitions))
        clf = LogisticRegression(solver="lbfgs", C=1.0)

        def fit():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf.fit(X, y)

        t = timed(fit, args.repetitions)
        emit("W4/exact", "sklearn", t,
             grad_inf_norm=logistic_grad_inf_norm(X, y, clf.coef_[0], clf.intercept_[0], 1.0),
             n_iter=int(clf.n_iter_[0]))

    # W5: linear regression, double.
    for rows, cols in ((1_000_000, 10), (100_000, 100)):
        tag = f"W5/{rows // 1000}kx{cols}"
        if args.filter and tag not in args.filter and "W5" not in args.filter:
            continue
        X = rng.standard_normal((rows, cols))
        y = X @ rng.standard_normal(cols) + 0.5 + 0.1 * rng.standard_normal(rows)
        Xc = np.hstack([X, np.ones((rows, 1))])
        emit(f"{tag}/exact", "numpy-lstsq", timed(lambda: np.linalg.lstsq(Xc, y, rcond=None), args.repetitions))
        emit(f"{tag}/normal_eq", "numpy", timed(lambda: np.linalg.solve(Xc.T @ Xc, Xc.T @ y), args.repetitions))
        emit(f"{tag}/exact", "sklearn", timed(lambda: LinearRegression().fit(X, y), args.repetitions))

        def lin_gd100():
            w = np.zeros(cols)
            b = 0.0
            for _ in range(100):
                r = X @ w + b - y
                w -= 0.01 * 2.0 * (X.T @ r) / rows
                b -= 0.01 * 2.0 * r.sum() / rows
            return w

        emit(f"{tag}/gd100", "numpy", timed(lin_gd100, args.repetitions))


if __name__ == "__main__":
    main()
