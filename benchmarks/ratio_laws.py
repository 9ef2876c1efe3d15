"""Large exact weight laws: GMP law setup against the number of atoms, and Marchenko–Pastur.

Registered with ``benchmarks/run_all.py`` (``run(quick, machine)``); also runs alone:
``python benchmarks/ratio_laws.py [--quick]``.

Rows (medians of a few runs by CPU time, one BLAS thread, numba warm-up excluded):

* law setup (``GeneralizedMarchenkoPastur(DiscreteLaw(K atoms), γ)``: edges and bulks, GMP-7) at
  K = 10⁴ atoms drawn from a normal law, against the 0.5 s target;
* its growth exponent between the two largest K (3·10³ → 10⁴ quick, 3·10³ → 3·10⁴ full;
  sub-quadratic: target < 2);
* the density of ``PointMass(1)`` (plain Marchenko–Pastur) on 2000 points through the law object,
  against the bare closed form (GMP-4b) in numpy, with the general solver of (GMP-8) on the same
  law beside it (detail ``solver_ratio``);
* the default compression of an empirical law (10⁴ Gamma(3) samples → 256 atoms) against the
  exact 10⁴-atom law: the density error on 2000 equally spaced points, relative to the maximum,
  against the 1e-4 stated in ``EmpiricalLaw`` (full run only: the exact density costs seconds).
"""

from __future__ import annotations

import math
import time

import _limits
import numpy as np

SIZES_QUICK = (1000, 3000, 10_000)
SIZES_FULL = (1000, 3000, 10_000, 30_000)


def _median(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return float(np.median(times))


def setup_times(sizes, gamma=0.5, repeat=3):
    from rmthess.gmp import GeneralizedMarchenkoPastur
    from rmthess.laws import DiscreteLaw

    GeneralizedMarchenkoPastur(DiscreteLaw([1.0, 2.0], [0.5, 0.5]), gamma)      # warm-up
    out = {}
    for K in sizes:
        law = DiscreteLaw(np.random.default_rng(K).standard_normal(K), np.full(K, 1.0 / K))
        out[K] = _median(lambda law=law: GeneralizedMarchenkoPastur(law, gamma), repeat)
    return out


def mp_density(gamma=0.25, repeat=20):
    from rmthess.gmp import GeneralizedMarchenkoPastur
    from rmthess.gmp.density import density
    from rmthess.laws import PointMass

    law = GeneralizedMarchenkoPastur(PointMass(1.0), gamma)
    a, b = (1 - math.sqrt(gamma)) ** 2, (1 + math.sqrt(gamma)) ** 2
    x = np.linspace(0.0, 1.1 * b, 2000)

    def closed():
        out = np.zeros_like(x)
        i = (x > a) & (x < b)
        out[i] = np.sqrt((b - x[i]) * (x[i] - a)) / (2 * np.pi * gamma * x[i])
        return out

    def solver():
        return density(law._eq, law._bulks, x)

    for f in (closed, solver, lambda: law.pdf(x)):
        f()
    t = {"closed": [], "law": [], "solver": []}
    for _ in range(repeat):                       # interleaved
        for k, f in (("closed", closed), ("law", lambda: law.pdf(x)), ("solver", solver)):
            t0 = time.process_time()
            f()
            t[k].append(time.process_time() - t0)
    med = {k: float(np.median(v)) for k, v in t.items()}
    err = float(np.max(np.abs(law.pdf(x) - closed())) / closed().max())
    return med, err


def compression_error():
    from rmthess.gmp import GeneralizedMarchenkoPastur
    from rmthess.laws import EmpiricalLaw

    x = np.random.default_rng(0).gamma(3.0, size=10_000)
    gamma = 0.5
    exact = GeneralizedMarchenkoPastur(EmpiricalLaw(x, tol=0), gamma)
    comp = GeneralizedMarchenkoPastur(EmpiricalLaw(x), gamma)
    grid = np.concatenate([np.linspace(a, b, 2002)[1:-1] for a, b in exact.support()])
    ref = exact.pdf(grid)
    return float(np.max(np.abs(comp.pdf(grid) - ref)) / ref.max())


def run(quick: bool, machine: dict | None = None) -> list[dict]:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, "blas"):
        return _rows(quick)


def _rows(quick):
    sizes = SIZES_QUICK if quick else SIZES_FULL
    t = setup_times(sizes)
    k0, k1 = sizes[-2], sizes[-1]
    slope = math.log(t[k1] / t[k0]) / math.log(k1 / k0)
    rows = [
        _limits.result("GMP law setup, 10^4 atoms: seconds / 0.5 s", t[10_000] / 0.5, 1.0,
                       unit="of target", **{f"seconds_K{k}": v for k, v in t.items()}),
        _limits.result(f"GMP law setup: growth exponent in K ({k0} -> {k1})", slope, 2.0,
                       unit="exponent"),
    ]
    med, err = mp_density()
    rows.append(_limits.result(
        "Marchenko-Pastur pdf, 2000 points: law / bare closed form", med["law"] / med["closed"],
        3.0, closed_s=med["closed"], law_s=med["law"], solver_s=med["solver"],
        solver_ratio=med["solver"] / med["closed"], max_rel_diff=err))
    if not quick:
        rows.append(_limits.result(
            "empirical 10^4 -> 256 atoms: density error / 1e-4 stated", compression_error() / 1e-4,
            1.0, unit="of stated"))
    return rows


def main(argv=None):
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    for r in run(args.quick):
        extra = ", ".join(f"{k}={v:.3g}" for k, v in r["detail"].items()
                          if isinstance(v, float))
        print(f"{r['name']:<62} {r['value']:8.3g} (target {r['target']:g})  {extra}")


if __name__ == "__main__":
    main()
