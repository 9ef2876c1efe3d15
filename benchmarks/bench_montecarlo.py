"""Benchmark of the Monte Carlo engine's block norms and of Dask scaling.

Run ``python benchmarks/bench_montecarlo.py`` (full: linear CE at d = N = 2000, C = 100) or with
``--quick`` (d = N = 600, C = 30). Printed side by side, JIT warm-up excluded:

1. the N×N Gram product ``X Xᵀ`` alone (the floor);
2. the mean diagonal and off-diagonal block norms over all C² blocks
   (:func:`rmthess.montecarlo.blocknorms.block_norm_means`) — target ≤ 1.5× the Gram product;
3. forming blocks with numpy, ``(1/N) X diag(λ) Xᵀ`` and its Frobenius norm, timed on a sample of
   blocks and extrapolated to all C² blocks — target ≥ 50× slower than 2.;
4. the full C×C table (:func:`block_norm_table`) against the one dense product it needs;
5. peak memory of 2. (tracemalloc) against N² and dN doubles;
6. replicates per second on a local Dask cluster of 1 and 2 worker processes, and the scaling
   efficiency ``rate₂ / (2 rate₁)``.
Accuracy is tracked beside speed (sampled blocks against the table; kernels against the numpy
twins).
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc

import numpy as np


def _best(fn, repeat=3):
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def _replicates(spec_kw, seed, idx):
    from rmthess.montecarlo.simulation import make_spec, run_replicates

    spec, _, _ = make_spec(**spec_kw)
    return run_replicates(spec, seed, idx, predictions=False)


def bench_norms(d, C, repeat, sample_blocks):
    from rmthess._softmax import softmax
    from rmthess.montecarlo.blocknorms import StructuredWeights, block_norm_means, block_norm_table

    rng = np.random.default_rng(0)
    n = d
    X = rng.standard_normal((n, d))
    V = rng.standard_normal((C, d)) / np.sqrt(d)
    p = softmax(X @ V.T)
    w = StructuredWeights(p, p)
    block_norm_means(X[:50], StructuredWeights(p[:50], p[:50]))  # JIT warm-up
    # interleaved, so that both see the same machine load; best of `repeat` rounds
    tg, tm = [], []
    for _ in range(repeat):
        tg.append(_best(lambda: X @ X.T, 1)[0])
        t, (dg, od) = _best(lambda: block_norm_means(X, w), 1)
        tm.append(t)
    t_gram, t_means = min(tg), min(tm)
    ratio_median = float(np.median(np.array(tm) / np.array(tg)))
    t_numpy_twin, (dg2, od2) = _best(lambda: block_norm_means(X, w, kernel=False), 1)

    # forming blocks explicitly, on a sample, extrapolated to all C² blocks
    pairs = [(0, 0)] + [(i, (i + 1) % C) for i in range(sample_blocks - 1)]
    t0 = time.perf_counter()
    sampled = []
    for i, j in pairs:
        lam = (i == j) * p[:, i] - p[:, i] * p[:, j]
        B = (X.T * lam) @ X / n
        sampled.append(float(np.sum(B * B)))
    t_block = (time.perf_counter() - t0) / len(pairs)
    t_all_blocks = t_block * C * C

    t_table, table = _best(lambda: block_norm_table(X, w), 1)
    K = X @ X.T
    K *= K
    L = p[:, :1] * p
    t_one, _ = _best(lambda: K @ L, repeat)
    t_dense = t_one * C            # the table's dense product K [β_i∘β_j] in flops-equivalent
    err_table = max(abs(table[i, j] - s) / abs(s) for (i, j), s in zip(pairs, sampled, strict=True))
    off = ~np.eye(C, dtype=bool)
    err_means = max(abs(np.mean(np.diag(table)) - dg) / dg, abs(np.mean(table[off]) - od) / od)

    tracemalloc.start()
    block_norm_means(X, w)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    mb = 1 / 2**20
    print(f"linear CE, d = N = {d}, C = {C}  (all {C * C} blocks)")
    print(f"  Gram product X Xᵀ alone             {t_gram:9.3f} s")
    print(f"  mean diag/off-diag norms (numba)    {t_means:9.3f} s   = "
          f"{t_means / t_gram:5.2f}× Gram   (target ≤ 1.5×; median of paired rounds "
          f"{ratio_median:.2f}×)")
    print(f"  same with numpy twins               {t_numpy_twin:9.3f} s   agree to "
          f"{max(abs(dg2 - dg) / dg, abs(od2 - od) / od):.1e}")
    print(f"  forming blocks with numpy (extrap.) {t_all_blocks:9.1f} s   = "
          f"{t_all_blocks / t_means:7.0f}× slower   (target ≥ 50×; {t_block:.3f} s/block, "
          f"{len(pairs)} sampled)")
    print(f"  full C×C table                      {t_table:9.3f} s   = "
          f"{t_table / t_dense:5.2f}× its dense product ({t_dense:.3f} s)")
    print(f"  accuracy: sampled blocks vs table {err_table:.1e}; means vs table {err_means:.1e}")
    print(f"  peak memory of the means            {peak * mb:9.1f} MiB  (N² doubles "
          f"{n * n * 8 * mb:.1f} MiB, dN doubles {d * n * 8 * mb:.1f} MiB)")


def bench_dask(d, C, reps):
    from distributed import Client, LocalCluster

    kw = dict(case="linear-ce", d=d, gamma=1.0, classes=C)
    rates = {}
    for nw in (1, 2):
        env = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        with LocalCluster(n_workers=nw, threads_per_worker=1, processes=True,
                          dashboard_address=None, env=env) as cluster, Client(cluster) as client:
            client.gather(client.map(_replicates, [kw] * nw, [0] * nw,
                                     [range(k, k + 1) for k in range(nw)]))  # warm-up
            chunks = [range(k, k + 2) for k in range(0, reps, 2)]
            t = time.perf_counter()
            res = client.gather(client.map(_replicates, [kw] * len(chunks), [1] * len(chunks),
                                           chunks, pure=False))
            rates[nw] = reps / (time.perf_counter() - t)
            rows = np.vstack([r["v"] for r in res])
            rates[f"rows{nw}"] = rows
    same = np.array_equal(rates["rows1"], rates["rows2"], equal_nan=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Dask, linear CE d = N = {d}, C = {C}, {reps} replicates (1 BLAS thread per worker; "
          f"{os.cpu_count()} CPUs, load average {load:.1f})")
    print(f"  1 worker  {rates[1]:8.2f} replicates/s")
    print(f"  2 workers {rates[2]:8.2f} replicates/s   scaling efficiency "
          f"{rates[2] / (2 * rates[1]):.0%}   identical numbers: {same}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (d = N = 600, C = 30)")
    args = ap.parse_args(argv)
    if args.quick:
        bench_norms(600, 30, repeat=2, sample_blocks=5)
        bench_dask(200, 10, reps=16)
    else:
        bench_norms(2000, 100, repeat=7, sample_blocks=6)
        bench_dask(600, 30, reps=40)


if __name__ == "__main__":
    main()
