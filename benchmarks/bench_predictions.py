"""Benchmark of the finite-size predictions: the former implementation against the present one.

Run ``python benchmarks/bench_predictions.py`` (``--reps`` replicates of V, default 10). For the
MLP-CE prediction at ``d = 200, γ = 0.5, C = 10, m = 8`` (the per-replicate prediction that
``rmthess simulate --case mlp-ce --d 200 --gamma 0.5 --classes 10 --m 8`` attaches to every
replicate), printed side by side, JIT warm-up and imports excluded:

1. seconds (wall clock) per replicate of the former implementation (pseudo-random batches of 2^15
   points, one call per block type, numpy/BLAS products; kept in
   ``tests/montecarlo/finite_size_oracle.py``) and of
   :func:`rmthess.montecarlo.finite_size.predict_all_norms` (scrambled Sobol' batches of 2^13 points
   in all, weights evaluated once, numba accumulation), with the process's default BLAS threads and
   with BLAS limited to one thread; the ratio old/new;
2. accuracy beside speed: the relative standard error of each prediction (diag, off-diagonal, both
   block types) for both, ``|new − old|`` in units of the combined standard error, the same for the
   new prediction without the O(1/d) W Wᵀ term of MC-17 (which the former one omits), that term's
   relative size, and the
   work-normalized ratio ``(t_old·se_old²)/(t_new·se_new²)`` — the speed-up at equal accuracy, since
   the cost of a Monte Carlo prediction grows like 1/se² (single-threaded times).
"""

from __future__ import annotations

import argparse
import importlib.util
import pathlib
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _oracle():
    path = ROOT / "tests" / "montecarlo" / "finite_size_oracle.py"
    spec = importlib.util.spec_from_file_location("finite_size_oracle", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def _run(fn, params_list):
    t = time.perf_counter()
    out = [fn(p, k) for k, p in enumerate(params_list)]
    return (time.perf_counter() - t) / len(params_list), out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=10)
    args = ap.parse_args(argv)

    from threadpoolctl import threadpool_limits

    from rmthess.cases import get_case
    from rmthess.montecarlo.finite_size import predict_all_norms

    old = _oracle()
    model = get_case("mlp-ce")
    d, gamma, C, m = 200, 0.5, 10, 8
    N = round(d / gamma)
    rng = np.random.default_rng(0)
    params_list = [model.draw(rng, d, C, m, 1.0) for _ in range(args.reps)]
    kw = dict(d=d, n_samples=N, classes=C, m=m)

    def run_old(p, k):
        return {b: old.predict_norms(model, b, params=p, seed=k, **kw) for b in model.block_types}

    def run_new(p, k):
        return predict_all_norms(model, params=p, seed=k, **kw)

    run_old(params_list[0], 0)          # warm-up (JIT, imports)
    run_new(params_list[0], 0)
    print(f"mlp-ce d={d} N={N} C={C} m={m}: seconds per replicate (both block types)")
    print(f"{'BLAS threads':14s} {'old':>10s} {'new':>10s} {'old/new':>8s}")
    results, times = {}, {}
    for label, limit in (("default", None), ("1", 1)):
        if limit is None:
            t_old, r_old = _run(run_old, params_list)
            t_new, r_new = _run(run_new, params_list)
        else:
            with threadpool_limits(limits=limit, user_api="blas"):
                t_old, r_old = _run(run_old, params_list)
                t_new, r_new = _run(run_new, params_list)
        results[label] = (r_old, r_new)
        times[label] = t_old / t_new
        print(f"{label:14s} {t_old:10.4f} {t_new:10.4f} {t_old / t_new:8.1f}")
    r_old, r_new = results["1"]
    t_ratio = times["1"]
    with threadpool_limits(limits=1, user_api="blas"):      # the new one without the W Wᵀ term
        r_new0 = [predict_all_norms(model, params=p, seed=k, blocks=("output",),
                                    **{**kw, "d": 10**9}) for k, p in enumerate(params_list)]
    print("\naccuracy (mean over replicates): relative standard error, |new − old| / combined se, "
          "and the speed-up at equal accuracy (BLAS 1 thread)")
    print(f"{'block':8s} {'part':8s} {'old rse':>10s} {'new rse':>10s} {'|z|':>6s} {'|z| I':>6s} "
          f"{'W term':>8s} {'work':>8s}")
    for b in model.block_types:
        for part in ("diag", "offdiag"):
            o = np.array([getattr(r[b], part) for r in r_old])
            n = np.array([getattr(r[b], part) for r in r_new])
            so = np.array([getattr(r[b], part + "_stderr") for r in r_old])
            sn = np.array([getattr(r[b], part + "_stderr") for r in r_new])
            z = np.abs(n - o) / np.hypot(so, sn)
            work = t_ratio * (np.mean(so / o) / np.mean(sn / n)) ** 2
            z0 = term = "—"
            if b == "output":       # (the d×d hidden blocks have no W Wᵀ term of this kind)
                n0 = np.array([getattr(r[b], part) for r in r_new0])
                sn0 = np.array([getattr(r[b], part + "_stderr") for r in r_new0])
                z0 = f"{np.mean(np.abs(n0 - o) / np.hypot(so, sn0)):.2f}"
                term = f"{np.mean((n - n0) / n0):.1e}"
            print(f"{b:8s} {part:8s} {np.mean(so / o):10.2e} {np.mean(sn / n):10.2e} "
                  f"{np.mean(z):6.2f} {z0:>6s} {term:>8s} {work:8.1f}")
    print("\n|z| I: the new prediction without the W Wᵀ term (d = 10⁹ in it, same N) against the "
          "former one, which omits it;\nW term: the relative size of that term (MC-17) at this d")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
