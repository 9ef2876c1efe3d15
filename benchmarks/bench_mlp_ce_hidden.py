"""Benchmark: precision against time of the mlp-ce HIDDEN block, ζ sampled against ζ integrated.

In one run, per number of classes C (default 10³, 10⁴, 10⁵, 10⁶ at γ = 1, m = 8, σ_v = 1):

* **sampled** — the hidden columns of the Rao–Blackwellized pair draws (theory/cases.md,
  (CASE-15), (CASE-18)): scrambled Sobol' points in ``(u, u', ζ)``, the uniform-p controls, cost
  O(C) per point;
* **integrated** — ζ integrated out by quadrature (CASE-33): scrambled Sobol' points in
  ``(u, u')`` only, the large-C and pilot-fitted controls, cost independent of C per point;
* **rule** — the norms integrated too, by a Gauss rule over a table of the ζ-expectations, and
  only the directions sampled, stratified by the pattern of active units (CASE-35); its table
  (two levels, accepted at 1e-5 relative) is in the time, and its error bound in the error.

Both add the same exact γ-term (CASE-19), whose CPU time is printed once per C and is not in the
columns. Each route doubles its points per replicate (32 replicates) and records (CPU seconds,
worst relative standard error of the hidden g_ii, g_ij and ratio) until the error is below 1e-4 or
the budget is spent; printed: the CPU seconds (set-up and pilot included) to reach 1e-2, 1e-3,
1e-4 ('~': extrapolated from the last point as error ∝ time^(-1/2)), their ratio, and the two
estimates with their standard errors and C·ratio against K_h. CPU seconds (process time, both
cores) because the machine is shared; compilation is excluded.

Run ``python benchmarks/bench_mlp_ce_hidden.py`` (``--budget 60`` CPU seconds per route and C).
``--levels`` prints instead the rule's table error per level (against a finer one, on the same
draws), ``--spread`` the coefficients of variation of the rule's and the sampled draws.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _precision import pm, time_to

from rmthess.cases._blocks import BLOCK_HIDDEN
from rmthess.cases._estimate import summarize, worst_rse
from rmthess.cases._mlp_ce_constants import hidden_constant
from rmthess.cases._mlp_ce_gamma import gamma_term
from rmthess.cases._mlp_ce_hidden_rule import (
    FINE_TAU,
    LEVELS,
    WIDE_LEVELS,
    HiddenRule,
    _directions,
    radial_table,
)
from rmthess.cases._mlp_ce_output_rule import tau_within
from rmthess.cases.mlp_ce import REPLICATES, _HiddenSampler, _PairSampler

TARGETS = (1e-2, 1e-3, 1e-4)


def _curve(step, first, budget, gamma, offset, finish=None):
    """``finish(block, γ)``: the block as reported (the rule's table bound added)."""
    t0 = time.process_time()
    out, done, n = [], 0, first
    while True:
        rows = step(n)
        done += n
        blk = summarize(np.column_stack([rows, np.ones((rows.shape[0], 2))]), gamma)[BLOCK_HIDDEN]
        if finish is not None:
            blk = finish(blk, gamma)
        el = time.process_time() - t0 + offset
        out.append((el, worst_rse({BLOCK_HIDDEN: blk}), done, blk))
        if out[-1][1] <= min(TARGETS) or 2.0 * el > budget:
            return out
        n = done


def levels(C, m, sv, sizes=None):
    """The table's error per level: the rule's pair terms at each size against the finest, on the
    same draws of the directions (32 per pattern), relative, g_ii / g_ij (``sizes`` None: the
    levels the rule uses at this τ, then (12, 14, 0.9))."""
    if sizes is None:
        sizes = (LEVELS if tau_within(m, sv, FINE_TAU) else WIDE_LEVELS) + ((12, 14, 0.9),)
    rule = HiddenRule(C, m, sv, np.random.SeedSequence(1), (0.0, 0.0), 1.0, REPLICATES)
    rng = np.random.default_rng(3)
    draws = [_directions(*p, rng, 32) for p in rule.shape]
    est = []
    for size in sizes:
        t = time.process_time()
        rule.table = radial_table(C, m, rule.tau, size)
        el = time.process_time() - t
        est.append((size, el, sum(rule.prob[k] * rule._draws(k, *draws[k])[0].mean(0)
                                  for k in range(len(rule.shape)))))
    ref = est[-1][2]
    print(f"table levels at C={C}, m={m}, sigma_v={sv:g}: error against {sizes[-1]}, CPU s")
    for size, el, e in est[:-1]:
        err = np.abs(e - ref) / np.abs(ref)
        print(f"  {size}: g_ii {err[0]:.1e}  g_ij {err[1]:.1e}  ({el:.2f} s)")


def spread(C, m, sv, n=256):
    """Coefficients of variation of the hidden draws (T1_ii, T1_ij): the rule's within a pattern
    (pooled, before and after its ρⁿ controls), over all ``(u, u')`` with the norms and ζ
    integrated, and the sampled draws of (CASE-18) after their controls."""
    rule = HiddenRule(C, m, sv, np.random.SeedSequence(1), (0.0, 0.0), 1.0, REPLICATES)
    rng = np.random.default_rng(4)
    mean, within, within_cv, second = 0.0, 0.0, 0.0, 0.0
    for k, p in enumerate(rule.shape):
        y, x = rule._draws(k, *_directions(*p, rng, n))
        adj = y - x @ rule.beta[k]
        mean = mean + rule.prob[k] * y.mean(0)
        within = within + rule.prob[k] * y.var(0)
        within_cv = within_cv + rule.prob[k] * adj.var(0)
        second = second + rule.prob[k] * (y * y).mean(0)
    pairs = _PairSampler(C, m, sv, np.random.SeedSequence(5), (0.0, 0.0))
    t = pairs._adjusted(pairs._terms(np.random.default_rng(6), 16 * n))[:, :2]
    print(f"coefficient of variation of the hidden draws at C={C}, m={m}, sigma_v={sv:g}, "
          f"g_ii / g_ij:")
    for name, cv in (("rule, within a pattern", np.sqrt(within) / mean),
                     ("rule, within a pattern, after the rho^n controls",
                      np.sqrt(within_cv) / mean),
                     ("norms and zeta integrated, over all (u, u')",
                      np.sqrt(second - mean * mean) / mean),
                     ("sampled (CASE-18), after its controls", t.std(0) / t.mean(0))):
        print(f"  {name}: {cv[0]:.2g} / {cv[1]:.2g}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--classes", type=int, nargs="+", default=[10**3, 10**4, 10**5, 10**6])
    ap.add_argument("--m", type=int, default=8)
    ap.add_argument("--sigma-v", type=float, default=1.0)
    ap.add_argument("--gamma", type=float, default=1.0)
    ap.add_argument("--budget", type=float, default=60.0, help="CPU seconds per route")
    ap.add_argument("--levels", action="store_true",
                    help="instead: the rule's table error per level at each C")
    ap.add_argument("--spread", action="store_true",
                    help="instead: the spread of the rule's and the sampled draws at each C")
    args = ap.parse_args(argv)
    m, sv, g = args.m, args.sigma_v, args.gamma
    if args.levels or args.spread:
        for C in args.classes:
            (levels if args.levels else spread)(C, m, sv)
        return
    _HiddenSampler(3, m, sv, np.random.SeedSequence(0), (0.0, 0.0))(2)     # compile
    _PairSampler(3, m, sv, np.random.SeedSequence(0), (0.0, 0.0))(2)
    print(f"mlp-ce hidden block, m={m} sigma_v={sv:g} gamma={g:g}: CPU seconds to a worst "
          f"relative standard error of g_ii, g_ij, ratio ('~' = extrapolated)")
    print(f"{'C':>8s} {'target':>7s} {'sampled':>10s} {'integrated':>11s} {'rule':>8s} "
          f"{'sampled/rule':>12s}")
    for C in args.classes:
        t = time.process_time()
        exact = gamma_term(C, m, sv)[:2]
        t_gamma = time.process_time() - t
        t = time.process_time()
        old_s = _PairSampler(C, m, sv, np.random.SeedSequence(1), exact)
        old = _curve(lambda n, s=old_s: s(n)[:, :4], 16, args.budget, g,
                     time.process_time() - t)
        t = time.process_time()
        new_s = _HiddenSampler(C, m, sv, np.random.SeedSequence(2), exact)
        new = _curve(new_s, 2, args.budget, g, time.process_time() - t)
        t = time.process_time()
        rule_s = HiddenRule(C, m, sv, np.random.SeedSequence(3), exact, 1e-5, REPLICATES)
        rule = _curve(rule_s, rule_s.first, args.budget, g, time.process_time() - t,
                      rule_s.widen)
        for tgt in TARGETS:
            a, b, c = (time_to([p[:2] for p in cur], tgt) for cur in (old, new, rule))
            print(f"{C:8d} {tgt:7.0e} {a:>10s} {b:>11s} {c:>8s} "
                  f"{float(a.lstrip('~')) / float(c.lstrip('~')):12.3g}")
        print(f"    gamma-term quadrature: {t_gamma:.1f} s (both routes)")
        K = hidden_constant(g, m, sv) if 2.0 * sv * sv / m < 1.0 else float("nan")
        for name, cur in (("sampled", old), ("integrated", new), ("rule", rule)):
            el, err, n, blk = cur[-1]
            print(f"    {name}: {n} points/replicate, {el:.1f} s, "
                  f"g_ii={pm(blk.g_ii, blk.stderr_g_ii)} g_ij={pm(blk.g_ij, blk.stderr_g_ij)} "
                  f"C*ratio={pm(C * blk.ratio, C * blk.stderr_ratio)} (K_h={K:.7g})")


if __name__ == "__main__":
    main()
