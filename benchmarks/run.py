#!/usr/bin/env python3
"""Runs eigenml and its peers (libtorch, numpy, scikit-learn) interleaved and prints the table.

Usage (after benchmarks/run.sh has built everything; run.sh calls this):
    /usr/bin/python3 benchmarks/run.py --build build/release [--rounds 3] [--threads 1 2] [--quick]

For each thread count and round, it runs bench_eigenml, bench_torch and bench_numpy.py one after
another (so slow drift of the machine hits all of them alike), then reports per workload the
median time of each library, the ratio eigenml / peer, eigenml's GFLOP/s and that rate as a
fraction of Eigen's own matrix-product rate measured in the same run. Peers run twice when the
environment sets OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (as the machine has them and with both unset);
where it sets neither, also with OPENBLAS_CORETYPE naming the kernel for this CPU (see peer_environments).
The table goes to stdout and between the markers in benchmarks/README.md; ratios.png is the plot.
"""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# Floating-point operations per iteration (multiply-add = 2). A training step counts as three
# forward passes (forward, and the two products of backward); that is the usual convention.
def mlp_fwd(n):
    return 2 * n * (784 * 256 + 256 * 128 + 128 * 10)

def cnn_fwd(n):
    return 2 * n * (8 * 28 * 28 * 1 * 9 + 16 * 14 * 14 * 8 * 9 + 784 * 10)

def rnn_fwd(gates):
    return 2 * 32 * 50 * gates * (32 * 128 + 128 * 128) + 2 * 32 * 128 * 10

FLOPS = {
    "W1/train/b64": 3 * mlp_fwd(64), "W1/infer/b1": mlp_fwd(1), "W1/infer/b256": mlp_fwd(256),
    "W2/train/b64": 3 * cnn_fwd(64), "W2/infer/b1": cnn_fwd(1), "W2/infer/b256": cnn_fwd(256),
    "W3/rnn/train": 3 * rnn_fwd(1), "W3/lstm/train": 3 * rnn_fwd(4),
    "W4/gd100": 100 * 4 * 100000 * 20,
    "W5/1000kx10/gd100": 100 * 4 * 1000000 * 10, "W5/100kx100/gd100": 100 * 4 * 100000 * 100,
    "W5/1000kx10/normal_eq": 1000000 * 11 * 11, "W5/100kx100/normal_eq": 100000 * 101 * 101,
}
DOUBLE = ("W4", "W5")

# The targets: median ratio eigenml / peer at 1 thread.
TARGETS = {
    ("W1/train/b64", "libtorch"): 0.67, ("W1/infer/b1", "libtorch"): 0.33, ("W1/infer/b256", "libtorch"): 1.0,
    ("W2/train/b64", "libtorch"): 0.5, ("W2/infer/b256", "libtorch"): 0.33,
    ("W3/rnn/train", "libtorch"): 0.67, ("W3/lstm/train", "libtorch"): 0.67,
    ("W4/gd100", "libtorch"): 0.5, ("W4/exact", "sklearn"): 1.0,
    ("W5/1000kx10/exact", "eigenml normal eq."): 1.2, ("W5/100kx100/exact", "eigenml normal eq."): 1.2,
}


def run_gbench(binary, env, args):
    out = subprocess.run([binary, "--benchmark_format=json", *args], env=env, check=True,
                         capture_output=True, text=True).stdout
    data = json.loads(out)
    res = {}
    for b in data["benchmarks"]:
        if b.get("run_type") == "aggregate":
            continue
        scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
        # Benchmarks are registered with their arguments bound (no "/arg" suffix), so the name is the key.
        res.setdefault(b["name"], []).append(b["real_time"] * scale)
    return res


def run_numpy(env, repetitions):
    out = subprocess.run([sys.executable, os.path.join(HERE, "peers", "bench_numpy.py"),
                          "--repetitions", str(repetitions)], env=env, check=True,
                         capture_output=True, text=True).stdout
    res, extra = defaultdict(list), {}
    for line in out.splitlines():
        r = json.loads(line)
        res[(r["name"], r["library"])] += r["times"]
        if r["extra"]:
            extra[(r["name"], r["library"])] = r["extra"]
    return res, extra


def thread_env(threads, openblas=None):
    """The environment for one run: every library's thread count, and OPENBLAS_CORETYPE /
    OPENBLAS_L2_SIZE as the machine has them (openblas=None), removed ("unset") or
    OPENBLAS_CORETYPE set to a kernel name."""
    env = dict(os.environ)
    for k in ("BENCH_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[k] = str(threads)
    if openblas is not None:
        env.pop("OPENBLAS_CORETYPE", None)
        env.pop("OPENBLAS_L2_SIZE", None)
        if openblas != "unset":
            env["OPENBLAS_CORETYPE"] = openblas
    return env


def peer_environments():
    """How the peers run: as the machine has OpenBLAS configured, and one alternative. Where the
    machine sets OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, the alternative unsets both (the issue's
    request). Where it sets neither, OpenBLAS picks its kernel from the CPU id, and on a CPU newer
    than the OpenBLAS build it falls back to a generic SSE3 kernel ("Prescott": numpy's SGEMM at a
    quarter of Eigen's rate here); the alternative then names the kernel for the CPU's vector
    width, so the peers are also measured at their best."""
    if any(k in os.environ for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")):
        return [("", None), (" (OPENBLAS_* unset)", "unset")]
    try:
        flags = open("/proc/cpuinfo").read()
    except OSError:
        flags = ""
    core = "SkylakeX" if " avx512f " in flags else "Haswell" if " avx2 " in flags else None
    return [("", None)] + ([(f" (OPENBLAS_CORETYPE={core})", core)] if core else [])


def compile_time(build):
    """Seconds for g++ -O2 on the compile probe, as the build would compile it."""
    cmd = ["g++", "-std=c++20", "-O2", "-I", os.path.join(ROOT, "include"), "-I", "/usr/include/eigen3",
           "-c", os.path.join(HERE, "compile_probe", "w2_train.cpp"), "-o", os.path.join(build, "w2_probe.o")]
    best = None
    for _ in range(2):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True)
        t = time.perf_counter() - t0
        best = t if best is None else min(best, t)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "release"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--min-time", default="0.3")
    ap.add_argument("--no-readme", action="store_true", help="print only, leave benchmarks/README.md alone")
    args = ap.parse_args()

    bench_dir = os.path.join(args.build, "benchmarks")
    eig = os.path.join(bench_dir, "bench_eigenml")
    torch = os.path.join(bench_dir, "bench_torch")
    have_torch = os.path.exists(torch)
    peer_envs = peer_environments()
    gb_args = [f"--benchmark_min_time={args.min_time}", "--benchmark_repetitions=3"]

    times = {}  # (threads, name, library) -> [seconds]
    extras = {}
    for threads in args.threads:
        for rnd in range(args.rounds):
            print(f"threads={threads} round {rnd + 1}/{args.rounds}", file=sys.stderr, flush=True)
            for name, ts in run_gbench(eig, thread_env(threads), gb_args).items():
                lib = "eigenml normal eq." if name.endswith("normal_eq") else "eigenml"
                key_name = name.replace("/normal_eq", "/exact") if lib != "eigenml" else name
                times.setdefault((threads, key_name, lib), []).extend(ts)
            for suffix, openblas in peer_envs:
                env = thread_env(threads, openblas)
                if have_torch:
                    for name, ts in run_gbench(torch, env, gb_args).items():
                        times.setdefault((threads, name, "libtorch" + suffix), []).extend(ts)
                np_times, np_extra = run_numpy(env, 3)
                for (name, lib), ts in np_times.items():
                    if name.endswith("normal_eq"):
                        name, lib = name.replace("/normal_eq", "/exact"), "numpy normal eq."
                    times.setdefault((threads, name, lib + suffix), []).extend(ts)
                for (name, lib), e in np_extra.items():
                    extras[(threads, name, lib + suffix)] = e

    med = {k: statistics.median(v) for k, v in times.items()}
    rows = []
    for threads in args.threads:
        g32 = med.get((threads, "gemm/f32/512", "eigenml"))
        g64 = med.get((threads, "gemm/f64/512", "eigenml"))
        rate32 = 2 * 512 ** 3 / g32 / 1e9 if g32 else None
        rate64 = 2 * 512 ** 3 / g64 / 1e9 if g64 else None
        rows.append((threads, "gemm/f32/512", "eigenml", med.get((threads, "gemm/f32/512", "eigenml")), None, None,
                     rate32, 1.0))
        rows.append((threads, "gemm/f64/512", "eigenml", g64, None, None, rate64, 1.0))
        names = sorted({n for (t, n, l) in med if t == threads and not n.startswith("gemm")})
        for name in names:
            mine = med.get((threads, name, "eigenml"))
            flops = FLOPS.get(name)
            gflops = flops / mine / 1e9 if (mine and flops) else None
            peak = rate64 if name.startswith(DOUBLE) else rate32
            frac = gflops / peak if (gflops and peak) else None
            peers = sorted(l for (t, n, l) in med if t == threads and n == name and l != "eigenml")
            for lib in peers:
                theirs = med[(threads, name, lib)]
                rows.append((threads, name, lib, mine, theirs, mine / theirs if mine else None, gflops, frac))
            if not peers:
                rows.append((threads, name, "-", mine, None, None, gflops, frac))

    def fmt_t(s):
        if s is None:
            return "-"
        return f"{s * 1e6:.1f} µs" if s < 1e-3 else f"{s * 1e3:.2f} ms" if s < 1 else f"{s:.2f} s"

    lines = ["| threads | workload | peer | eigenml | peer time | ratio | target | eigenml GFLOP/s | of GEMM rate |",
             "|---:|---|---|---:|---:|---:|---:|---:|---:|"]
    for threads, name, lib, mine, theirs, ratio, gflops, frac in rows:
        target = TARGETS.get((name, re.sub(r" \(OPENBLAS.*\)$", "", lib))) if threads == 1 else None
        mark = "" if target is None or ratio is None else (" ✓" if ratio <= target else " ✗")
        lines.append(f"| {threads} | {name} | {lib} | {fmt_t(mine)} | {fmt_t(theirs)} | "
                     f"{'-' if ratio is None else f'{ratio:.2f}'}{mark} | {'-' if target is None else f'≤ {target}'} | "
                     f"{'-' if gflops is None else f'{gflops:.1f}'} | {'-' if frac is None else f'{frac:.0%}'} |")
    for (threads, name, lib), e in sorted(extras.items()):
        lines.append(f"\n{threads} thread(s), {name}, {lib}: " + ", ".join(f"{k} = {v}" for k, v in e.items()))

    ct = compile_time(args.build)
    cpu = subprocess.run(["sh", "-c", "lscpu | grep 'Model name' | sed 's/.*: *//'"], capture_output=True,
                         text=True).stdout.strip()
    header = (f"Machine: {cpu}, {os.cpu_count()} cores, {platform.platform()}; "
              f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}, "
              f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE', 'unset')}. "
              f"Medians of {args.rounds} interleaved rounds x 3 repetitions. "
              f"Compile time of compile_probe/w2_train.cpp (g++ -O2): {ct:.1f} s (target < 10 s).")
    table = header + "\n\n" + "\n".join(lines)
    print(table)

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        pts = [(f"{n} vs {l}", r) for (t, n, l, m, th, r, g, f) in rows if t == 1 and r is not None]
        if pts:
            fig, ax = plt.subplots(figsize=(9, 0.32 * len(pts) + 1.2))
            ax.barh([p[0] for p in pts], [p[1] for p in pts], color=["tab:green" if p[1] <= 1 else "tab:red" for p in pts])
            ax.axvline(1.0, color="k", lw=0.8)
            ax.set_xscale("log")
            ax.set_xlabel("median time ratio eigenml / peer (1 thread; < 1 means eigenml is faster)")
            ax.invert_yaxis()
            fig.tight_layout()
            fig.savefig(os.path.join(HERE, "ratios.png"), dpi=110)
    except ImportError:
        print("matplotlib not available: no plot", file=sys.stderr)

    if not args.no_readme:
        path = os.path.join(HERE, "README.md")
        text = open(path).read()
        begin, end = "<!-- results:begin -->", "<!-- results:end -->"
        if begin in text and end in text:
            text = text[: text.index(begin) + len(begin)] + "\n" + table + "\n" + text[text.index(end):]
            open(path, "w").write(text)


if __name__ == "__main__":
    main()
