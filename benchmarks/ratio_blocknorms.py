"""Monte Carlo block-norm means against the Gram product of the same size, measured side by side.

Registered with ``benchmarks/run_all.py`` (``run(quick, machine)``); also runs alone:
``python benchmarks/ratio_blocknorms.py [--quick]``.

For features ``X`` (N×d, N = d) and CE weights ``p`` (N×C softmax rows) the rows time, interleaved
round by round on one BLAS thread, by the process's CPU time (medians; other processes on a shared
machine do not inflate it, while the wall clock under such load varied 3× between rounds):

* the Gram product ``X Xᵀ`` (numpy: one SYRK) — the denominator of every ratio;
* :func:`~rmthess.montecarlo.blocknorms.block_norm_means` (mean squared norm of the C diagonal
  and of the C(C−1) off-diagonal d×d blocks);
* the floor of the formula (MC-4): the Gram product plus the three symmetric weight products
  ``AAᵀ, ββᵀ, (β∘β)(β∘β)ᵀ`` of inner dimension C (SYRKs), about ``1 + 3C/d`` Gram products, so
  that a target of 1.3× is out of reach of (MC-4) at C/d ≥ 0.1: those rows state the floor beside
  the measured ratio;
* the numpy twin: what a numpy user writes for the same formula (``K = (X Xᵀ)²`` and the three
  full products, one einsum per sum) — the honest comparison, beside
* the straw man: forming each d×d block ``(1/N) Xᵀ diag(λ) X`` and its norm, timed on a sample of
  blocks and extrapolated to all C² blocks.

``--panel-rows R …`` prints instead the ratio at each panel height of the weight products (the
measurement behind ``PANEL_ROWS``).

Peak memory (full run only): ``block_norm_means`` at d = N = 20000, C = 10 in a child process,
its peak resident set size against the 8 GB target (the features alone take 3.2 GB).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import _limits
import numpy as np

#: (d = N, C, target): ≤ 1.3× the Gram product at d ≥ 1000, ≤ 2× at d = 250–500
QUICK = [(250, 10, 2.0), (500, 10, 2.0), (500, 100, 2.0), (1000, 10, 1.3), (1000, 100, 1.3),
         (1000, 1000, 1.3)]
FULL = QUICK + [(250, 100, 2.0), (2000, 10, 1.3), (2000, 100, 1.3), (2000, 1000, 1.3)]
#: peak-RSS run (full only)
BIG_D, BIG_C, BIG_GB = 20000, 10, 8.0


def _data(d, C):
    from rmthess._softmax import softmax
    from rmthess.montecarlo.blocknorms import StructuredWeights

    rng = np.random.default_rng(0)
    X = rng.standard_normal((d, d))
    p = softmax(X @ (rng.standard_normal((C, d)) / np.sqrt(d)).T)
    return X, p, StructuredWeights(p, p)


def numpy_twin(X, p):
    """The same two means as a numpy user writes them from (MC-3), (MC-4): full N×N arrays."""
    n, C = p.shape
    K = X @ X.T
    K *= K
    a = p - p * p
    q = p * p
    P = p @ p.T
    diag = np.einsum("ij,ij->", K, a @ a.T) / (n * n * C)
    off = np.einsum("ij,ij->", K, P * P - q @ q.T) / (n * n * C * (C - 1))
    return diag, off


def straw_man_time(X, p, blocks):
    """Seconds to form ``blocks`` sampled d×d blocks and their norms, and the factor to all C²."""
    n, C = p.shape
    rng = np.random.default_rng(1)
    pairs = rng.integers(0, C, size=(blocks, 2))
    t = time.process_time()
    for i, j in pairs:
        lam = p[:, i] * ((i == j) - p[:, j])
        B = (X.T * lam) @ X / n
        float(np.sum(B * B))
    return time.process_time() - t, C * C / blocks


def _floor(X, p):
    a = p - p * p
    q = p * p
    for M in (X, a, p, q):
        M @ M.T


def time_case(d, C, rounds):
    from threadpoolctl import threadpool_limits

    from rmthess.montecarlo.blocknorms import block_norm_means

    X, p, w = _data(d, C)
    fns = {"gram": lambda: X @ X.T, "ours": lambda: block_norm_means(X, w),
           "floor": lambda: _floor(X, p), "twin": lambda: numpy_twin(X, p)}
    times = {k: [] for k in fns}
    with threadpool_limits(1, "blas"):
        for f in fns.values():
            f()
        for _ in range(rounds):                 # interleaved: every path sees the same load
            for k, f in fns.items():
                t = time.process_time()
                f()
                times[k].append(time.process_time() - t)
        straw, factor = straw_man_time(X, p, blocks=2 if d >= 2000 else 4)
    med = {k: float(np.median(v)) for k, v in times.items()}
    med.update({k + "_best": float(np.min(v)) for k, v in times.items()})
    med["straw"] = straw * factor
    ours, twin = block_norm_means(X, w), numpy_twin(X, p)
    med["agree"] = max(abs(o - t) / abs(t) for o, t in zip(ours, twin, strict=True))
    return med


_BIG = """
import resource, sys, time, numpy as np
from rmthess.montecarlo.blocknorms import StructuredWeights, block_norm_means
d, C = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
X = rng.standard_normal((d, d))
p = rng.dirichlet(np.ones(C), size=d)
t = time.perf_counter()
block_norm_means(X, StructuredWeights(p, p))
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def peak_memory(d, C):
    """``(seconds, peak RSS bytes)`` of one ``block_norm_means`` at d = N in a fresh process."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", _BIG, str(d), str(C)], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1])


def run(quick: bool, machine: dict | None = None) -> list[dict]:
    rows = []
    for d, C, target in (QUICK if quick else FULL):
        m = time_case(d, C, rounds=7 if quick else 11)
        g = m["gram"]
        floor = m["floor"] / g
        rows.append(_limits.result(
            f"block norms d=N={d}, C={C}: time / Gram product", m["ours"] / g, target,
            gram_s=g, ours_s=m["ours"], best_ratio=m["ours_best"] / m["gram_best"],
            floor_ratio=floor, over_floor=m["ours"] / m["floor"],
            numpy_twin_ratio=m["twin"] / g, straw_man_ratio=m["straw"] / g,
            twin_over_ours=m["twin"] / m["ours"], straw_over_ours=m["straw"] / m["ours"],
            twin_rel_diff=m["agree"],
            note=("floor 1 + 3C/d above the target: unreachable by (MC-4)" if floor > target
                  else "")))
    if not quick:
        secs, rss = peak_memory(BIG_D, BIG_C)
        rows.append(_limits.result(
            f"block norms d=N={BIG_D}, C={BIG_C}: peak RSS / {BIG_GB:g} GB", rss / (BIG_GB * 1e9),
            1.0, unit="of budget", peak_rss_bytes=rss, seconds=secs,
            features_bytes=8.0 * BIG_D * BIG_D))
    return rows


def panel_sweep(cases, panel_rows, rounds=9):
    """``block_norm_means`` / Gram product (process-CPU medians, one BLAS thread) at each panel
    height in ``panel_rows`` (the package's choice, :data:`PANEL_ROWS` doubled above 128 weight
    columns, replaced for the run), for each ``(d = N, C)`` of ``cases``."""
    from threadpoolctl import threadpool_limits

    import rmthess.montecarlo.blocknorms as bn

    chosen = bn._panel_rows
    try:
        for d, C in cases:
            X, p, w = _data(d, C)
            ratios = []
            with threadpool_limits(1, "blas"):
                for rows in panel_rows:
                    bn._panel_rows = lambda columns, rows=rows: rows
                    bn.block_norm_means(X, w)
                    gram, ours = [], []
                    for _ in range(rounds):            # interleaved: both see the same load
                        t = time.process_time()
                        X @ X.T
                        gram.append(time.process_time() - t)
                        t = time.process_time()
                        bn.block_norm_means(X, w)
                        ours.append(time.process_time() - t)
                    ratios.append(float(np.median(ours) / np.median(gram)))
            print(f"d=N={d}, C={C}: block norms / Gram product at panel rows "
                  + ", ".join(f"{r}: {x:.2f}" for r, x in zip(panel_rows, ratios, strict=True))
                  + f" (the package uses {chosen(C)})")
    finally:
        bn._panel_rows = chosen


def main(argv=None):
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--panel-rows", type=int, nargs="+",
                    help="instead, the ratio at these panel heights (d = N = 1000, C = 10, 100, "
                         "1000)")
    args = ap.parse_args(argv)
    if args.panel_rows:
        panel_sweep([(1000, 10), (1000, 100), (1000, 1000)], args.panel_rows)
        return
    rows = run(args.quick)
    print(f"{'case':<46} {'ours':>6} {'floor':>6} {'twin':>6} {'straw':>8} {'target':>7}  "
          f"(× the Gram product)")
    for r in rows:
        x = r["detail"]
        if "floor_ratio" in x:
            print(f"{r['name'].split(':')[0]:<46} {r['value']:6.2f} {x['floor_ratio']:6.2f} "
                  f"{x['numpy_twin_ratio']:6.2f} {x['straw_man_ratio']:8.1f} {r['target']:7.2g}  "
                  f"gram {1e3 * x['gram_s']:.1f} ms, best-of ratio {x['best_ratio']:.2f}")
        else:
            print(f"{r['name']:<46} {r['value']:6.2f} (≤ {r['target']:g}), "
                  f"{x['peak_rss_bytes'] / 1e9:.2f} GB in {x['seconds']:.0f} s")


if __name__ == "__main__":
    main()
