r"""Checks ``linear-ratios`` and ``mlp-ratios``: block ratios of theorems 1 and 2 against Monte
Carlo.

Monte Carlo ratios of means ``mean_{i≠j}‖H_ij‖²_F / mean_i‖H_ii‖²_F`` come from
:func:`rmthess.montecarlo.simulate` (true, coupled blocks); limits from
:meth:`rmthess.cases.Case.limits`; C → ∞ asymptotes from :meth:`rmthess.cases.Case.asymptote`.
theory/verification.md, (VER-6) and (VER-7).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rmthess.verify.base import Check, CheckOutput, register
from rmthess.verify.checks._fixed_v import moments_over_v
from rmthess.verify.checks._mlp import mlp_replicates
from rmthess.verify.checks._simulation import simulate_cells
from rmthess.verify.checks._stats import controlled_ratio, ratio_difference
from rmthess.verify.power import effective_dof, target
from rmthess.verify.rules import (
    against_prediction,
    geometric_remainder,
    richardson,
    within_tolerance,
)

__all__ = ["LinearRatiosCheck", "MlpRatiosCheck", "CONSTANT_RTOL", "LIMIT_RTOL", "LIMIT_D"]

#: the finite-size prediction evaluated at this d (N = d/γ) is the limit up to its O(1/d) terms
LIMIT_D = 10**8
#: those terms are at most ~C/d = 3e-7 relative for C ≤ 30 (measured: ≤ 6e-8), and the prediction's
#: Monte Carlo error enters only through them
LIMIT_RTOL = 1e-6
#: a theorem-2 limit is requested to this fraction of the row's MDE target (where ``rtol=`` exists)
LIMIT_RTOL_FRACTION = 10
#: time budget of one such limit, in seconds, by size level: at ``full`` the target 1e-3 of the
#: output block takes minutes per limit on 2 cores (theory/cases.md, CASE-18), beyond the default
LIMIT_MAX_TIME = {"tiny": 60.0, "quick": 60.0, "full": 3600.0}
#: precision of a limit that is only drawn (the figure's curve at a C with no row): 1 % is far
#: below what a plotted curve shows, and at C ≥ 300 a tenth of the row target costs many minutes
CURVE_RTOL = 1e-2
#: batches of the prediction's own Monte Carlo (its standard error has this many − 1 dof); 32
#: instead of the default 8 at the same number of samples: fewer than ~30 dof on the prediction's
#: error, which rivals the simulation's at γ = 4, C = 30, would raise k through Welch–Satterthwaite
PREDICTION_BATCHES = 32

#: C^p·ratio at C, 2C and 4C, extrapolated to second order in 1/C, leaves r₃/(8C³)-size residuals
#: (measured 1.6e-11 relative at C = 1e5 for linear CE, where the 1/C² coefficient r₂ ≈ 2·10³ is
#: large); the quadrature is good to ~1e-12 relative and the weights (1, −6, 8)/3 amplify that by 5
#: → 1e-9
CONSTANT_RTOL = 1e-9
#: C at which the theorem constants are extrapolated
CONSTANT_C = 100_000


def _limit_row(case, gamma, classes, limits, quantity, attr):
    """Theory vs theory: the limit against the finite-size prediction at d = LIMIT_D (VER-6)."""
    from rmthess.montecarlo.finite_size import predict_norms

    p = predict_norms(case, "v", d=LIMIT_D, n_samples=int(round(LIMIT_D / gamma)), classes=classes,
                      samples=2**14, batches=4, seed=0)
    value = {"ratio": limits.ratio, "diag": limits.g_ii}[attr]
    ref = {"ratio": p.ratio, "diag": p.diag}[attr]
    return within_tolerance(quantity, {"case": case, "gamma": gamma, "C": classes},
                            value=float(value), reference=float(ref), tol=LIMIT_RTOL, relative=True,
                            column="prediction",
                            note="limit of rmthess.cases vs the finite-size prediction at "
                                 f"d = {LIMIT_D:.0e}")


def _constant_row(case, block, gamma, power, m=None):
    """Theory vs theory: C^p·ratio at C, 2C, 4C extrapolated in 1/C against the closed-form
    asymptote."""
    from rmthess.cases import get_case

    c = get_case(case)
    kw = {} if m is None else {"m": m}
    C1 = CONSTANT_C
    f = [(k * C1) ** power * c.limits(gamma, k * C1, **kw).blocks[block].ratio for k in (1, 2, 4)]
    value = (f[0] - 6.0 * f[1] + 8.0 * f[2]) / 3.0
    const = C1**power * c.asymptote(gamma, C1, **kw)[block]
    params = {"case": case, "gamma": gamma} | ({} if m is None else {"m": m})
    return within_tolerance(f"C→∞ constant lim C^{power}·ratio ({block})", params,
                            value=float(value), reference=float(const), tol=CONSTANT_RTOL,
                            relative=True,
                            note=f"exact ratio at C = {C1}, {2 * C1}, {4 * C1}, extrapolated "
                                 "in 1/C")


def _prediction_row(quantity, params, *, simulation, stderr, prediction, limit, reps, family, size,
                    prediction_se=0.0):
    """Rule ``z`` against the finite-size prediction, its O(d⁻²) remainder bounded (VER-2)."""
    return against_prediction(quantity, params, simulation=simulation, stderr=stderr,
                              prediction=prediction, prediction_se=prediction_se,
                              prediction_dof=PREDICTION_BATCHES - 1 if prediction_se else None,
                              limit=limit, dof=reps - 1,
                              remainder=geometric_remainder(prediction - limit, abs(limit)),
                              target=target(family, size))


def _ratio_row(res, block, limit, reps, family, size, prediction=None):
    """Rule ``z`` for a ratio of means; ``prediction`` a NormPrediction (default: the result's
    own)."""
    b = res.blocks[block]
    params = {"case": res.case, "gamma": res.gamma, "C": res.classes, "d": res.d, "reps": reps}
    if res.m is not None:
        params["m"] = res.m
    if prediction is None:
        pred, pse = b.prediction, b.prediction_stderr
    else:
        pred, pse = prediction.ratio, _ratio_se(prediction)
    return _prediction_row(f"ratio g_ij/g_ii ({block})", params, simulation=b.ratio,
                           stderr=b.stderr, prediction=pred, limit=float(limit.ratio),
                           prediction_se=pse, reps=reps, family=family, size=size)


def _conditional_row(res, block, limit, size):
    """Rule ``z`` for a ratio of means against the mean of its per-replicate predictions (MLP
    cases, conditional on each replicate's V): the standard error from the residuals (MC-11), in
    which the between-V spread cancels and the predictions' own errors are included."""
    b = res.blocks[block]
    params = {"case": res.case, "gamma": res.gamma, "C": res.classes, "d": res.d,
              "reps": res.reps, "m": res.m}
    return against_prediction(
        f"ratio g_ij/g_ii ({block})", params, simulation=b.ratio,
        stderr=b.prediction_residual_stderr, prediction=b.prediction, limit=float(limit.ratio),
        dof=res.reps - 1, remainder=geometric_remainder(b.prediction - limit.ratio,
                                                         abs(limit.ratio)),
        target=target("theorem-2", size),
        note="standard error of the residuals against the per-replicate predictions given V "
             "(MC-11), their own errors inside it")


def _ratio_se(p) -> float:
    """Standard error of ``offdiag/diag`` of a NormPrediction (batch errors in quadrature)."""
    rel_off = p.offdiag_stderr / abs(p.offdiag) if p.offdiag else 0.0
    return float(abs(p.ratio) * math.hypot(rel_off, p.diag_stderr / abs(p.diag)))


#: points of the prediction's Sobol' rules where fewer than the default (2¹⁸) suffice: MSE (its
#: error was 0.1 % of the simulation's at 2¹⁸) and CE at C = 3 (3–4 %); measured at 2¹⁴: 1.3–1.7 %
#: (MSE) and 28–31 % (CE, C = 3, where the MDE is 26–30 % of the target), which raises the combined
#: error by ≤ 5 % and keeps the prediction's own below 1/15 of the MDE. At C = 10 and 30 (13–70 %
#: at 2¹⁸) the default is kept.
PREDICTION_SAMPLES = {("linear-mse", 10): 2**14, ("linear-ce", 3): 2**14}


def _predict(ctx, res, k):
    """The finite-size prediction of a linear cell (MC-6, MC-8) with PREDICTION_BATCHES batches
    and :data:`PREDICTION_SAMPLES` points where set (else the default)."""
    from rmthess.montecarlo.finite_size import predict_norms

    ctx.progress(f"finite-size prediction, {res.case}, γ={res.gamma:g}, C={res.classes}")
    return predict_norms(res.case, "v", d=res.d, n_samples=res.n_samples, classes=res.classes,
                         batches=PREDICTION_BATCHES, seed=ctx.child(3, k),
                         samples=PREDICTION_SAMPLES.get((res.case, res.classes)))


def _grid(cmin, cmax, n=25):
    return np.unique(np.round(np.geomspace(cmin, cmax, n)).astype(int))


@register
class LinearRatiosCheck(Check):
    name = "linear-ratios"
    title = "Theorem 1: linear model, block ratios against the number of classes"
    description = r"""
Linear model `z = Vx`, CE and MSE losses. For several aspect ratios γ and numbers of classes C, the
Monte Carlo ratio of means of the off-diagonal over the diagonal squared block norms of the true
Hessian is compared with the exact finite-size prediction (rule `z`, its O(d⁻²) remainder bounded),
and the limit `g_ij/g_ii` of `rmthess.cases` with the same prediction evaluated at d = 10⁸ (rule
`tol`), so that the limit is tested on its own. For MSE the off-diagonal blocks vanish identically;
the diagonal norm `(1/d)‖H_ii‖²_F` is compared with `1 + (d + 1)/N` and its limit `1 + γ`. The
theorem's constant `lim C² g_ij/g_ii = (1 + γe²)/(1 + γe)` is checked against the exact ratio at
C = 10⁵, 2·10⁵ and 4·10⁵ extrapolated in 1/C (rule `tol`). Replicates per γ are set so that every
Monte Carlo row detects a 1 % error of its prediction (γ = 4 has N = d/4 samples and needs the
most; the MSE cells, whose norms spread less, need about a quarter as many).
"""
    sizes = {
        "tiny": {"d": 40, "reps": {1.0: 6}, "mse_reps": {1.0: 6}, "gammas": (1.0,),
                 "classes": (3, 10), "C_diag": 10},
        "quick": {"d": 200, "reps": {0.25: 64, 1.0: 300, 4.0: 2000},
                  "mse_reps": {0.25: 32, 1.0: 128, 4.0: 500}, "gammas": (0.25, 1.0, 4.0),
                  "classes": (3, 10, 30), "C_diag": 10},
        "full": {"d": 1000, "reps": {0.25: 64, 1.0: 300, 4.0: 2000},
                 "mse_reps": {0.25: 64, 1.0: 300, 4.0: 2000}, "gammas": (0.25, 1.0, 4.0),
                 "classes": (3, 10, 30, 100, 300), "C_diag": 10},
    }

    def run(self, ctx):
        from rmthess.cases import get_case
        from rmthess.plotting.ratios import RatioCurve, RatioPanel, RatioPoints

        p = self.params(ctx.size)
        d, reps = p["d"], p["reps"]
        fam = ("theorem-1", ctx.size)
        cells = [{"case": "linear-ce", "d": d, "gamma": g, "classes": C, "reps": reps[g],
                  "predictions": False, "limits": False}
                 for g in p["gammas"] for C in p["classes"]]
        cells += [{"case": "linear-mse", "d": d, "gamma": g, "classes": p["C_diag"],
                   "reps": p["mse_reps"][g], "predictions": False, "limits": False}
                  for g in p["gammas"]]
        results = simulate_cells(ctx, cells)
        preds = {id(res): _predict(ctx, res, k) for k, res in enumerate(results)}
        out = CheckOutput()
        ce = get_case("linear-ce")
        curves, points = [], []
        for g in p["gammas"]:
            group = f"γ = {g:g}"
            sims = [r for r in results if r.case == "linear-ce" and r.gamma == g]
            for res in sims:
                lim = ce.limits(g, res.classes).blocks["v"]
                pr = preds[id(res)]
                out.rows.append(_ratio_row(res, "v", lim, reps[g], *fam, prediction=pr))
                out.rows.append(_limit_row("linear-ce", g, res.classes, lim,
                                           "limit g_ij/g_ii (v) vs prediction at d → ∞", "ratio"))
                if res.classes == p["C_diag"]:
                    b = res.blocks["v"]
                    params = {"case": "linear-ce", "gamma": g, "C": res.classes, "d": d,
                              "reps": reps[g]}
                    for name, sim, se, pred, pse, limv in (
                            ("(1/d)‖H_ii‖²_F", b.diag, b.diag_stderr, pr.diag, pr.diag_stderr,
                             lim.g_ii),
                            ("(1/d)‖H_ij‖²_F", b.offdiag, b.offdiag_stderr, pr.offdiag,
                             pr.offdiag_stderr, lim.g_ij)):
                        out.rows.append(_prediction_row(name, params, simulation=sim, stderr=se,
                                                        prediction=pred, prediction_se=pse,
                                                        limit=limv, reps=reps[g], family=fam[0],
                                                        size=fam[1]))
            out.rows.append(_constant_row("linear-ce", "v", g, 2))
            grid = _grid(2, 10_000)
            curves.append(RatioCurve(group, grid, [ce.limits(g, int(C)).blocks["v"].ratio
                                                   for C in grid]))
            big = grid[grid >= 10]
            curves.append(RatioCurve(group, big, [ce.asymptote(g, int(C))["v"] for C in big],
                                     kind="asymptote"))
            points.append(RatioPoints(f"Monte Carlo, {group}", [r.classes for r in sims],
                                      [r.blocks["v"].ratio for r in sims],
                                      [r.blocks["v"].stderr for r in sims], group=group))
        mse = get_case("linear-mse")
        for res in (r for r in results if r.case == "linear-mse"):
            b = res.blocks["v"]
            lim = mse.limits(res.gamma, res.classes).blocks["v"]
            params = {"case": "linear-mse", "gamma": res.gamma, "C": res.classes, "d": d,
                      "reps": res.reps}
            pr = preds[id(res)]
            out.rows.append(_prediction_row("(1/d)‖H_ii‖²_F", params, simulation=b.diag,
                                            stderr=b.diag_stderr, prediction=pr.diag,
                                            prediction_se=pr.diag_stderr, limit=lim.g_ii,
                                            reps=res.reps, family=fam[0], size=fam[1]))
            out.rows.append(_limit_row("linear-mse", res.gamma, res.classes, lim,
                                       "limit (1/d)‖H_ii‖²_F vs prediction at d → ∞", "diag"))
            out.rows.append(within_tolerance("off-diagonal blocks ‖H_ij‖²_F", params,
                                             value=b.offdiag, reference=0.0, tol=0.0,
                                             scale=b.diag, note="H_ij ≡ 0 for MSE; MDE relative "
                                                                "to the diagonal norm"))
        out.figures["figure1"] = [RatioPanel(f"linear CE: blocks $H_{{v_i v_j}}$\n"
                                             f"Monte Carlo at d = {d}", tuple(curves),
                                             tuple(points))]
        return out


@register
class MlpRatiosCheck(Check):
    name = "mlp-ratios"
    title = "Theorem 2: 1-hidden-layer ReLU network, hidden and output block ratios"
    description = r"""
1-hidden-layer ReLU network with m hidden units, CE and MSE losses. Hidden blocks `H_{w_i w_j}`
(d×d) and output blocks `H_{v_c v_c'}` (m×m), output weights V redrawn in every replicate. The Monte
Carlo ratio of means, with control variates for the between-V spread (statistics of `VᵀV` and, for
MSE, of the weights, whose expectations are closed-form Gaussian and Bernoulli moments), at d and 2d
is extrapolated in 1/d and compared with the limit of `rmthess.cases`
(rule `richardson`): for MSE the closed form `(1 + 4γ)/(4(1 + 2γ)(C + 2))` (hidden; the off-diagonal
output blocks vanish identically). For CE the theorem is checked as the composition it is: at fixed
V, the simulated ratio minus the ratio of the replicates' own fixed-V theory (hidden:
`(E a)² + γ E a²` under `u ~ N(0, WWᵀ)`, extrapolated in 1/d with four weight-moment controls of
mean 0; output: the exact finite-N expectation, rule `z`), and over V, the mean of the fixed-V
limits over 2500 Gaussian V (plain nested Monte Carlo) against the limit of `rmthess.cases` (rule
`z`; the limit is requested to a relative error of a tenth of the row's MDE target, and its own
standard error enters). At size `full` the MSE hidden ratio at d is
also compared with the mean of its finite-size predictions conditional on each replicate's V
(rule `z`, the standard error from the residuals against them, MC-11, where the between-V spread
cancels). The C → ∞
constant of the MSE hidden ratio,
`(1 + 4γ)/(4(1 + 2γ))`, is checked against the exact ratio at C = 10⁵, 2·10⁵, 4·10⁵ (rule `tol`).
"""
    sizes = {
        "tiny": {"d": 40, "reps": 8, "ce_reps": {1.0: 8}, "v_draws": 64, "m": 4, "gammas": (1.0,),
                 "classes": (3, 10), "curve_classes": (3, 10), "predictions": False},
        "quick": {"d": 160, "reps": 128, "ce_reps": {0.5: 48, 2.0: 48}, "v_draws": 2500, "m": 8,
                  "gammas": (0.5, 2.0), "classes": (3, 10, 30),
                  "curve_classes": (3, 10, 30, 100), "predictions": False},
        # full: 1024 replicates of the conditional predictions (their residual standard error
        # 0.25–0.46 % of the ratio at 64 replicates; MDE 0.38–0.73 % at 1024) and 512 CE
        # replicates at γ = 2, cheap there (output row at C = 100: MDE 1.1 % at 256, 0.75 % at
        # 512); measured by `rmthess verify --full --only mlp-ratios --seed 0`
        "full": {"d": 800, "reps": 512, "pred_reps": 1024, "ce_reps": {0.5: 256, 2.0: 512},
                 "v_draws": 100_000, "m": 8,
                 "gammas": (0.5, 2.0), "classes": (3, 10, 30, 100),
                 "curve_classes": (3, 10, 30, 100, 300, 1000), "predictions": True},
    }

    def run(self, ctx):
        from rmthess.cases import get_case
        from rmthess.plotting.ratios import RatioCurve, RatioPanel, RatioPoints

        p = self.params(ctx.size)
        d, reps, m = p["d"], p["reps"], p["m"]
        out = CheckOutput()
        results, raw = {}, {}
        for k, (case, g, C, dd) in enumerate((case, g, C, dd) for case in ("mlp-mse", "mlp-ce")
                                             for g in p["gammas"] for C in p["classes"]
                                             for dd in (d, 2 * d)):
            r = p["ce_reps"][g] if case == "mlp-ce" else reps
            ctx.progress(f"{case}, d={dd}, γ={g:g}, C={C}, m={m}, {r} replicates")
            raw[case, g, C, dd] = mlp_replicates(case, d=dd, gamma=g, classes=C, m=m, reps=r,
                                                 seed=ctx.child(1, k))
            results[case, g, C, dd] = _controlled(raw[case, g, C, dd])
        over_v = {}
        for C in p["classes"]:
            ctx.progress(f"mlp-ce fixed-V limits of {p['v_draws']} draws of V, C = {C}")
            over_v[C] = moments_over_v(C, m, p["v_draws"], V_AVERAGE_U_DRAWS, ctx.child(4, C))
        if p["predictions"]:
            pred_cells = [{"case": "mlp-mse", "d": d, "gamma": g, "classes": C, "m": m,
                           "reps": p.get("pred_reps", reps)}
                          for g in p["gammas"] for C in p["classes"]]
            for res in simulate_cells(ctx, pred_cells, key=0):
                lim = get_case("mlp-mse").limits(res.gamma, int(res.classes),
                                                 m=m).blocks["hidden"]
                out.rows.append(_conditional_row(res, "hidden", lim, ctx.size))
        mse, ce = get_case("mlp-mse"), get_case("mlp-ce")
        panels = {"hidden": ([], []), "output": ([], [])}
        goal = target("theorem-2", ctx.size)
        ctx.progress(f"mlp-ce limits (Monte Carlo integrals), γ = "
                     f"{', '.join(f'{g:g}' for g in p['gammas'])}, from one set of draws per C")
        # the sampler's rows do not depend on γ (CASE-9): one run per C serves every γ
        ce_lims = {C: ce.limits_over_gamma(p["gammas"], int(C), m=m,
                                           rng=_cseed(ctx.child(2, 0), C),
                                           rtol=goal / LIMIT_RTOL_FRACTION
                                           if C in p["classes"] else CURVE_RTOL,
                                           max_time=LIMIT_MAX_TIME[ctx.size])
                   for C in sorted(set(p["curve_classes"]) | set(p["classes"]))}
        for gi, g in enumerate(p["gammas"]):
            group = f"γ = {g:g}"
            lims = {"mlp-ce": {C: by_gamma[g] for C, by_gamma in ce_lims.items()},
                    "mlp-mse": {C: mse.limits(g, int(C), m=m) for C in p["classes"]}}
            pts = {"hidden": [], "output": []}
            for case in ("mlp-mse", "mlp-ce"):
                for C in p["classes"]:
                    small, large = results[case, g, C, d], results[case, g, C, 2 * d]
                    params = {"case": case, "gamma": g, "C": C, "d": f"{d}→{2 * d}", "m": m,
                              "reps": reps}
                    for block in ("hidden", "output"):
                        a, b = small.blocks[block], large.blocks[block]
                        L = lims[case][C].blocks[block]
                        if case == "mlp-ce":
                            out.rows.extend(_fixed_v_rows(
                                block, params | {"reps": p["ce_reps"][g]},
                                raw[case, g, C, d], raw[case, g, C, 2 * d], L, goal))
                            if block == "hidden" or gi == 0:
                                out.rows.append(_over_v_row(block, g, C, m, over_v[C], L, goal))
                            pts[block].append((C, b.ratio, b.stderr))
                            continue
                        if case == "mlp-mse" and block == "output":
                            out.rows.append(within_tolerance(
                                "off-diagonal output blocks", params, value=b.offdiag,
                                reference=0.0, tol=0.0, scale=b.diag,
                                note="H_(v_c v_c') ≡ 0 for c ≠ c' (MSE); MDE relative to the "
                                     "diagonal norm"))
                            continue
                        note = f"{a.n_controls} control variates (VER-7)"
                        if L.estimate:
                            note += "; limit is a Monte Carlo integral"
                        out.rows.append(richardson(
                            f"ratio ({block})", params, small=a.ratio, small_se=a.stderr,
                            large=b.ratio, large_se=b.stderr, limit=float(L.ratio),
                            limit_se=float(L.stderr_ratio or 0.0), dof=min(a.dof, b.dof),
                            target=goal, note=note))
            out.rows.append(_constant_row("mlp-mse", "hidden", g, 1, m=m))
            for block in ("hidden", "output"):
                if block == "output" and gi > 0:
                    continue  # the output-block limit does not depend on γ
                cs = sorted(lims["mlp-ce"])
                grp = group
                curves, points = panels[block]
                curves.append(RatioCurve(grp, cs, [lims["mlp-ce"][C].blocks[block].ratio
                                                   for C in cs]))
                big = np.unique(np.round(np.geomspace(max(10, cs[0]), max(cs[-1], 1000), 20)))
                curves.append(RatioCurve(grp, big, [ce.asymptote(g, int(C), m=m)[block]
                                                    for C in big], kind="asymptote"))
                Cs, rs, ses = zip(*pts[block], strict=True)
                points.append(RatioPoints(f"Monte Carlo, {grp}, d = {2 * d}", Cs, rs, ses,
                                          group=grp))
        out.figures["figure1"] = [
            RatioPanel(f"1-hidden-layer CE: hidden blocks $H_{{w_i w_j}}$\n"
                       f"m = {m}, Monte Carlo at d = {2 * d}", *map(tuple, panels["hidden"])),
            RatioPanel(f"1-hidden-layer CE: output blocks $H_{{v_c v_{{c'}}}}$\n"
                       f"m = {m}, γ = {p['gammas'][0]:g} (limit free of γ), d = {2 * d}",
                       *map(tuple, panels["output"]),
                       ylabel=r"ratio $\|H_{v_c v_{c'}}\|_F^2/\|H_{v_c v_c}\|_F^2$")]
        return out


#: draws of u per V in the average over V of the fixed-V limits (their U-statistics are unbiased at
#: any number of draws; the spread over V dominates the error)
V_AVERAGE_U_DRAWS = 128


#: degrees of freedom of the standard error of an mlp-ce limit (its independent Sobol' scrambles
#: − 1)
LIMIT_DOF = 31


def _fixed_v_rows(block, params, small, large, limit, goal):
    """Theorem 2 at fixed V (VER-13): simulated ratio minus the replicates' own fixed-V theory."""
    diffs = []
    for rep in (small, large):
        arr, th = rep.norms[block], rep.theory[block]
        diffs.append(ratio_difference(arr[:, 1], arr[:, 0], th[:, 1], th[:, 0],
                                      rep.theory_controls[block]))
    (xs, ss, ns), (xl, sl, nl) = diffs
    scale = abs(float(limit.ratio))
    if block == "hidden":
        return [richardson("ratio (hidden) − fixed-V limit G(V)", params, small=xs, small_se=ss,
                           large=xl, large_se=sl, limit=0.0, dof=min(ns, nl), scale=scale,
                           target=goal,
                           note="per replicate G(V) = (E a)² + γ E a² under u ~ N(0, WWᵀ); "
                                "4 weight-moment controls; MDE relative to the limit")]
    # both cells estimate 0 exactly: inverse-variance weights (the 2d cell has twice the samples)
    total = ss * ss + sl * sl
    ws, wl = (sl * sl / total, ss * ss / total) if total > 0 else (0.5, 0.5)
    x, se = ws * xs + wl * xl, math.hypot(ws * ss, wl * sl)
    nu = effective_dof([(ws * ss, ns), (wl * sl, nl)])
    return [against_prediction("ratio (output) − fixed-V expectation", params, simulation=x,
                               stderr=se, prediction=0.0, dof=nu, scale=scale,
                               target=goal,
                               note="exact finite-N expectation given V, W; the cells at d and "
                                    "2d weighted by their inverse variances; MDE relative to the "
                                    "limit")]


def _over_v_row(block, gamma, classes, m, over_v, limit, goal):
    """The limit of rmthess.cases against the average over V of the fixed-V limits (VER-13)."""
    from rmthess.verify.checks._mlp import wishart_controls

    t, Vs = over_v
    if block == "hidden":
        num, den = t[:, 1] + gamma * t[:, 3], t[:, 0] + gamma * t[:, 2]
    else:
        num, den = t[:, 5], t[:, 4]
    ctrl = np.array([wishart_controls(V, "ce", 1.0) for V in Vs])
    ratio, se, dof = controlled_ratio(num, den, ctrl)
    params = {"case": "mlp-ce", "gamma": gamma if block == "hidden" else "any", "C": classes,
              "m": m, "V draws": len(Vs)}
    return against_prediction(f"E_V of the fixed-V limit, ratio ({block})", params,
                              simulation=ratio, stderr=se, dof=dof, prediction=float(limit.ratio),
                              prediction_se=float(limit.stderr_ratio or 0.0),
                              prediction_dof=LIMIT_DOF, limit=float(limit.ratio), target=goal,
                              note=f"{V_AVERAGE_U_DRAWS} draws of u per V (numpy route), 2 Wishart "
                                   f"controls; against the RQMC limit of rmthess.cases")


@dataclass(frozen=True)
class _Block:
    """Mean block norms of one cell and its controlled ratio of means (VER-7)."""

    diag: float
    offdiag: float
    ratio: float
    stderr: float
    dof: int
    n_controls: int


@dataclass(frozen=True)
class _Cell:
    """The blocks of one Monte Carlo cell: ``block -> _Block``."""

    blocks: dict


def _controlled(rep) -> _Cell:
    """The :class:`_Cell` of an :class:`~rmthess.verify.checks._mlp.MlpReplicates`."""
    out = {}
    for block, arr in rep.norms.items():
        diag, off = float(arr[:, 0].mean()), float(arr[:, 1].mean())
        ctrl = rep.controls[block]
        if off == 0.0 and not arr[:, 1].any():
            out[block] = _Block(diag, off, 0.0, 0.0, arr.shape[0] - 1, 0)
            continue
        ratio, se, dof = controlled_ratio(arr[:, 1], arr[:, 0], ctrl)
        out[block] = _Block(diag, off, ratio, se, dof, ctrl.shape[1])
    return _Cell(out)


def _cseed(seed, C):
    return np.random.SeedSequence(seed.entropy, spawn_key=tuple(seed.spawn_key) + (int(C),))
