"""Benchmark: precision against time of the mlp-ce OUTPUT block, ζ sampled against ζ integrated.

In one run, per number of classes C (default 10, 10⁴, 10⁵ at γ = 1, m = 8, σ_v = 1):

* **sampled** — the output columns of the Rao–Blackwellized pair draws (theory/cases.md, (CASE-17),
  (CASE-18)): scrambled Sobol' points in ``(u, u', ζ)``, the ζ-controls, cost O(C) per point;
* **integrated** — ζ integrated out by quadrature (CASE-32): scrambled Sobol' points in ``(u, u')``
  only, the degree-2 polynomial controls, cost independent of C per point;
* **rule** — no sampling: the deterministic product rule over ``(|s|, |s'|, ρ)`` of (CASE-34), its
  weights built afresh for every target; its error is the bound of two successive rules, which it
  takes to ``min(target, 1e-6)``.

Each route doubles its points per replicate (32 replicates) and records (CPU seconds, worst relative
standard error of the output g_ii, g_ij and ratio) until the error is below 1e-4 or the budget is
spent; printed: the CPU seconds to reach 1e-2, 1e-3, 1e-4 ('~': extrapolated from the last point
as error ∝ time^(-1/2)), and the two estimates with their standard errors. CPU seconds (process
time, both cores) are reported because the machine is shared. Compilation is excluded.

Run ``python benchmarks/bench_mlp_ce_output.py`` (``--budget 60`` CPU seconds per route and C;
``--routes sampled rule`` to leave the integrated route out). ``--levels`` prints instead the
rule's signed relative error per size ``(n_r, n_ρ)`` against a 24 × 20 rule, and the CPU seconds
of each size (CASE-34, "Between τ = 1/8 and 1/4": e.g. ``--m 4 --sigma-v 1 --classes 10 100000
--levels``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _precision import pm, time_to

from rmthess.cases._blocks import BLOCK_OUTPUT
from rmthess.cases._estimate import summarize, worst_rse
from rmthess.cases._mlp_ce_gamma import gamma_term
from rmthess.cases._mlp_ce_output_rule import (
    RULE_LEVELS,
    RULE_LEVELS_WIDE,
    RULE_LEVELS_WIDTH,
    _apply,
    _rule_kind,
    output_rule,
    rule_nodes,
)
from rmthess.cases._mlp_ce_output_rule import _radial_rule as radial_rule
from rmthess.cases._mlp_ce_output_wide import WIDE_LEVELS, rho_weights, wide_rule
from rmthess.cases._mlp_ce_output_wide import _radial as radial
from rmthess.cases.mlp_ce import _OutputSampler, _PairSampler

TARGETS = (1e-2, 1e-3, 1e-4)
ROUTES = ("sampled", "integrated", "rule")


def _curve(step, first, budget):
    t0 = time.process_time()
    out, done, n = [], 0, first
    while True:
        rows = step(n)
        done += n
        blk = summarize(np.column_stack([np.ones((rows.shape[0], 4)), rows]), 1.0)[BLOCK_OUTPUT]
        el = time.process_time() - t0
        out.append((el, worst_rse({BLOCK_OUTPUT: blk}), done, blk))
        if out[-1][1] <= min(TARGETS) or 2.0 * el > budget:
            return out
        n = done


def _rule_times(C, m, sv):
    """CPU seconds of the deterministic rule (CASE-34) per target, its weights built afresh (cache
    cleared), and its last result."""
    out = {}
    for tgt in TARGETS:
        rule_nodes.cache_clear()
        radial_rule.cache_clear()
        t = time.process_time()
        res = output_rule(C, m, sv, tgt)
        out[tgt] = f"{time.process_time() - t:9.2f}"
    return out, res


def levels(C, m, sv, reference=(24, 20)):
    """Signed relative errors of g_ii, g_ij and the ratio per rule size against ``reference``
    ((6, 6) and the first three sizes the rule runs at this m; weights built beforehand; CPU
    seconds of the evaluation). Where the wide rule (CASE-36) serves — above m = 32, and above
    τ = 1/16 from m = 17 — its four sizes against (16, 32, 16)."""
    if _rule_kind(m, sv) == "wide":
        sizes, reference = WIDE_LEVELS, (16, 32, 16)

        def warm(size):
            rho_weights(m, size[2])
            radial(m, size[0])

        def run(size):
            return wide_rule(C, m, sv, size)
    else:
        sizes = ((6, 6),) + (RULE_LEVELS[:3] if m <= RULE_LEVELS_WIDTH else RULE_LEVELS_WIDE[:3])

        def warm(size):
            rule_nodes(m, *size)

        def run(size):
            return _apply(C, m, sv, *size)
    got = []
    for size in sizes + (reference,):
        warm(size)                                       # the weights, cached, outside the timing
        t = time.process_time()
        g = run(size)
        got.append((size, time.process_time() - t, g))
    ref = got[-1][2]
    print(f"output rule sizes at C={C}, m={m}, sigma_v={sv:g}: signed relative error against "
          f"{reference} (g_ii, g_ij, ratio), CPU s")
    for size, el, g in got[:-1]:
        e = g / ref - 1.0
        er = (g[1] / g[0]) / (ref[1] / ref[0]) - 1.0
        print(f"  {size}: {e[0]:+.1e} {e[1]:+.1e} {er:+.1e}  ({el:.2f} s)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--classes", type=int, nargs="+", default=[10, 10**4, 10**5])
    ap.add_argument("--m", type=int, default=8)
    ap.add_argument("--sigma-v", type=float, default=1.0)
    ap.add_argument("--budget", type=float, default=60.0, help="CPU seconds per route")
    ap.add_argument("--routes", nargs="+", default=list(ROUTES), choices=ROUTES,
                    help="routes to time; the last column is the first route over the last")
    ap.add_argument("--levels", action="store_true",
                    help="instead: the rule's signed error per size at each C")
    args = ap.parse_args(argv)
    m, sv = args.m, args.sigma_v
    if args.levels:
        for C in args.classes:
            levels(C, m, sv)
        return
    _OutputSampler(3, m, sv, np.random.SeedSequence(0))(2)            # compile
    _PairSampler(3, m, sv, np.random.SeedSequence(0), gamma_term(3, m, sv)[:2])(2)
    print(f"mlp-ce output block, m={m} sigma_v={sv:g}: CPU seconds to a worst relative standard "
          f"error (rule: error bound) of g_ii, g_ij, ratio ('~' = extrapolated)")
    print(f"{'C':>8s} {'target':>7s} " + " ".join(f"{r:>11s}" for r in args.routes)
          + f" {'ratio':>7s}")
    for C in args.classes:
        times, last = {}, {}
        if "sampled" in args.routes:
            t = time.process_time()
            old_s = _PairSampler(C, m, sv, np.random.SeedSequence(1), (0.0, 0.0))
            old_set = time.process_time() - t

            def old_step(n, s=old_s):
                return s(n)[:, 4:]

            cur = [(el + old_set, e, n, b) for el, e, n, b in _curve(old_step, 16, args.budget)]
            times["sampled"] = {tgt: time_to([c[:2] for c in cur], tgt) for tgt in TARGETS}
            last["sampled"] = cur[-1]
        if "integrated" in args.routes:
            t = time.process_time()
            new_s = _OutputSampler(C, m, sv, np.random.SeedSequence(2))
            new_set = time.process_time() - t
            cur = [(el + new_set, e, n, b) for el, e, n, b in _curve(new_s, 16, args.budget)]
            times["integrated"] = {tgt: time_to([c[:2] for c in cur], tgt) for tgt in TARGETS}
            last["integrated"] = cur[-1]
        if "rule" in args.routes:
            times["rule"], rule = _rule_times(C, m, sv)
        for tgt in TARGETS:
            cols = [times[r][tgt] for r in args.routes]
            first, end = (float(c.lstrip("~")) for c in (cols[0], cols[-1]))
            print(f"{C:8d} {tgt:7.0e} " + " ".join(f"{c:>11s}" for c in cols)
                  + f" {first / end:7.3g}")
        for name, (el, _, n, blk) in last.items():
            print(f"    {name}: {n} points/replicate, {el:.1f} s, "
                  f"g_ii={pm(blk.g_ii, blk.stderr_g_ii)} g_ij={pm(blk.g_ij, blk.stderr_g_ij)} "
                  f"ratio={pm(blk.ratio, blk.stderr_ratio)}")
        if "rule" in args.routes:
            (g_ii, g_ij), (e_ii, e_ij, e_r) = rule
            print(f"    rule: g_ii={pm(g_ii, e_ii)} g_ij={pm(g_ij, e_ij)} "
                  f"ratio={pm(g_ij / g_ii, e_r)}")


if __name__ == "__main__":
    main()
