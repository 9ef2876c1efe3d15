"""Benchmark: precision against time of the mlp-ce finite-C limits, old and new estimator side by
side.

In one run, at (γ, C, m, σ_v) = (1, 10, 8, 1) by default:

* **old** — the nested Monte Carlo of theory/cases.md (CASE-9) with Gaussian V: independent V draws,
  2048 draws of u each, U-statistics (the route the package keeps for non-Gaussian V-entry laws);
  the number of V draws doubles from 64;
* **pairs** — the Rao–Blackwellized pair estimator (CASE-15)–(CASE-18): scrambled Sobol' replicates
  with control variates; the points per replicate double;
* **limits** — what ``get_case("mlp-ce").limits(γ, C, m=m, sigma_v=σ_v, rtol=target)`` does
  now, one call per target (every set-up, the γ-term quadrature and the rules' tables and weights
  included: the caches are cleared before each call): the output block by the rules of (CASE-34)
  or (CASE-36) where they serve and, where also m ≤ 16 and the target pays, the hidden block by
  the rule of (CASE-35); elsewhere the sampled routes.

Each route records (elapsed time, worst relative standard error over g_ii, g_ij and the ratio of
both blocks, and of each block alone) after every doubling, until the error is below the smallest
target or the budget is spent. Printed: the time to reach each target (1e-2, 1e-3, 1e-4); past the
budget the time is extrapolated from the last point with the Monte Carlo rate (error ∝ time^{-1/2})
and marked ``~``.
Numba compilation is excluded (warm-up call first).

Run ``python benchmarks/bench_mlp_ce_limits.py`` (``--budget 60`` seconds per route by default;
``--classes 3 10 100 1000`` for several C; ``--m``, ``--sigma-v`` for other networks;
``--limits-only`` to time the ``limits`` calls alone, e.g. ``--m 32 --classes 3 10 100
--limits-only`` or ``--m 4 --sigma-v 1 --classes 10 1000 100000 --limits-only``). Wall-clock
seconds: quote them from a quiet machine or as ratios.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _precision import time_to

from rmthess.cases import (
    _mlp_ce_gamma,
    _mlp_ce_hidden_rule,
    _mlp_ce_output_rule,
    _mlp_ce_output_wide,
    get_case,
)
from rmthess.cases._estimate import summarize, worst_rse
from rmthess.cases._mlp_ce_gamma import gamma_term
from rmthess.cases._mlp_ce_hidden import hidden_expectations
from rmthess.cases._mlp_ce_output import output_expectations
from rmthess.cases.mlp_ce import _first_points, _PairSampler, nested_rows

TARGETS = (1e-2, 1e-3, 1e-4)
OLD_U_DRAWS = 2048
OLD_FIRST_V = 64


def _curve(step, first, gamma, budget, target):
    """``[(seconds, {"all", "hidden", "output"}: worst rse, units)]`` after each doubling."""
    t0 = time.perf_counter()
    out, done, n = [], 0, first
    while True:
        rows = step(n)
        done += n
        blocks = summarize(rows, gamma)
        err = {"all": worst_rse(blocks)} | {b: worst_rse({b: blocks[b]}) for b in blocks}
        el = time.perf_counter() - t0
        out.append((el, err, done))
        if err["all"] <= target or 2.0 * el > budget:
            return out
        n = done                      # doubling, as in the package's stopping rule


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gamma", type=float, default=1.0)
    ap.add_argument("--classes", type=int, nargs="+", default=[10])
    ap.add_argument("--m", type=int, default=8)
    ap.add_argument("--sigma-v", type=float, default=1.0)
    ap.add_argument("--budget", type=float, default=60.0, help="seconds per route")
    ap.add_argument("--limits-only", action="store_true",
                    help="time the limits calls alone (no old or pair-sampler curves)")
    args = ap.parse_args(argv)
    for C in args.classes:
        if args.limits_only:
            _warm(C, args.m, args.sigma_v)
            lim = _limits_times(args.gamma, C, args.m, args.sigma_v)
            print(f"mlp-ce limits, gamma={args.gamma:g} C={C} m={args.m} "
                  f"sigma_v={args.sigma_v:g}: seconds (worst relative error) per target: "
                  + ", ".join(f"{tgt:.0e}: {sec:.2f} ({err:.2g})"
                              for tgt, (sec, err) in lim.items()))
        else:
            _one(args.gamma, C, args.m, args.sigma_v, args.budget)


def _warm(C, m, sv):
    """Numba compilation of the kernels, outside the timings (the array kernels at a small C: the
    compiled code does not depend on it, the memory of the nested kernel does)."""
    small = min(C, 10)
    nested_rows(small, m, sv, 0, 2, 8)
    one = np.array([0.5])
    hidden_expectations(one, one, one, C)
    output_expectations(one, one, one, C)
    _PairSampler(small, m, sv, np.random.SeedSequence(0), gamma_term(small, m, sv)[:2])(16)


def _limits_times(g, C, m, sv):
    """Seconds of one ``limits`` call per target, every cache cleared first."""
    case = get_case("mlp-ce")
    out = {}
    for tgt in TARGETS:
        _mlp_ce_gamma._CACHE.clear()
        for f in (_mlp_ce_output_rule.rule_nodes, _mlp_ce_output_rule._radial_rule,
                  _mlp_ce_output_wide.rho_weights, _mlp_ce_output_wide._radial,
                  _mlp_ce_output_wide._rho_basis,
                  _mlp_ce_hidden_rule.patterns, _mlp_ce_hidden_rule._degree_weights):
            f.cache_clear()
        t = time.perf_counter()
        lim = case.limits(g, C, m=m, sigma_v=sv, rng=3, rtol=tgt)
        out[tgt] = (time.perf_counter() - t, worst_rse(lim.blocks))
    return out


def _one(g, C, m, sv, budget):
    _warm(C, m, sv)

    rows = []

    def old_step(n):
        rows.append(nested_rows(C, m, sv, np.random.SeedSequence([1, len(rows)]), n, OLD_U_DRAWS))
        return np.concatenate(rows)

    t = time.perf_counter()
    _mlp_ce_gamma._CACHE.clear()               # the quadrature is timed, not looked up
    new_sampler = _PairSampler(C, m, sv, np.random.SeedSequence(2), gamma_term(C, m, sv)[:2])
    pilot = time.perf_counter() - t          # the γ-term quadrature and the control-variate pilot
    new = _curve(new_sampler, _first_points(C, m), g, budget, min(TARGETS))
    new = [(el + pilot, err, n) for el, err, n in new]
    old = _curve(old_step, OLD_FIRST_V, g, budget, min(TARGETS))
    lim = _limits_times(g, C, m, sv)

    print(f"mlp-ce limits, gamma={g:g} C={C} m={m} sigma_v={sv:g}: seconds to reach a worst "
          f"relative standard error (g_ii, g_ij, ratio of both blocks); '~' = extrapolated as "
          f"error ∝ time^(-1/2)")
    for which in ("all", "hidden", "output"):
        print(f"[{which} blocks]")
        print(f"{'target':>8s} {'old (nested MC)':>16s} {'pairs (RB+RQMC)':>16s} {'old/pairs':>9s}"
              + (f" {'limits':>8s} {'pairs/limits':>12s}" if which == "all" else ""))
        for tgt in TARGETS:
            a, b = time_to([(e, r[which]) for e, r, _ in old], tgt), \
                time_to([(e, r[which]) for e, r, _ in new], tgt)
            ratio = float(a.lstrip("~")) / float(b.lstrip("~"))
            line = f"{tgt:8.0e} {a:>16s} {b:>16s} {ratio:9.3g}"
            if which == "all":
                sec, err = lim[tgt]
                assert err <= tgt, (tgt, err)
                line += f" {sec:8.2f} {float(b.lstrip('~')) / sec:12.3g}"
            print(line)
    print("last points: old", f"{old[-1][0]:.1f} s, error {old[-1][1]['all']:.2g}, "
          f"{old[-1][2]} V draws; new {new[-1][0]:.1f} s, error {new[-1][1]['all']:.2g}, "
          f"{new[-1][2]} points per replicate")


if __name__ == "__main__":
    main()
