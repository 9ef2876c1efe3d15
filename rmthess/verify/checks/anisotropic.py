r"""Check ``anisotropic``: the model cases with a data covariance Σ and with class offsets.

Monte Carlo of :func:`rmthess.montecarlo.simulate` with ``covariance=`` (``x = Σ^{1/2} y``) against
the finite-size prediction (ANI-12) and the limits (ANI-3); with ``prior=`` (logits ``Vx + log π``,
a Zipf prior) the class-averaged ratio and the per-class diagonal norms at d and 2d, extrapolated in
1/d, against the limits of (CASE-30); both together (ANI-15) the same way against the limits of
(ANI-13). The one-hidden-layer cases (ANI-14): the mlp-mse hidden ratio
with Σ and the mlp-ce class-averaged output ratio with the Zipf prior, at d and 2d extrapolated in
1/d, against (ANI-6) and (CASE-31). theory/verification.md, (VER-14).
"""

from __future__ import annotations

import numpy as np

from rmthess.verify.base import Check, CheckOutput, register
from rmthess.verify.checks.ratios import LIMIT_D, LIMIT_MAX_TIME, LIMIT_RTOL, PREDICTION_BATCHES
from rmthess.verify.power import target
from rmthess.verify.rules import (
    against_prediction,
    geometric_remainder,
    richardson,
    within_tolerance,
)

__all__ = ["AnisotropicCheck", "SPECTRUM", "ZIPF_EXPONENT"]

#: the covariance spectrum of the Σ rows: power law σ ∝ i^{−1} over a condition number 20
SPECTRUM = "powerlaw:alpha=1,kappa=20"
#: the Zipf exponent S of the prior rows (π_c ∝ c^{−S})
ZIPF_EXPONENT = 1.0


def _per_rep_se(values):
    """Mean and standard error over replicates (axis 0)."""
    v = np.asarray(values, float)
    return v.mean(axis=0), v.std(axis=0, ddof=1) / np.sqrt(v.shape[0])


@register
class AnisotropicCheck(Check):
    name = "anisotropic"
    title = ("Linear and 1-hidden-layer models with a data covariance Σ and with class offsets "
             "log π_c (Zipf prior)")
    description = r"""
Linear model `z = Vx`. **Covariance:** `x = Σ^{1/2} y`, Σ diagonal with the d midpoint quantiles of
a power-law spectrum (`powerlaw:alpha=1,kappa=20`). The Monte Carlo norms `(1/d)‖H_ii‖²_F`,
`(1/d)‖H_ij‖²_F` and their ratio of means (CE), and `(1/d)‖H_ii‖²_F` (MSE), against the finite-size
prediction (ANI-12) at the same Σ (rule `z`, its O(d⁻²) remainder bounded as in VER-2); the limit
(ANI-3) against that prediction at d = 10⁸ with the spectrum's own moments (rule `tol`).
**Class offsets:** logits `Vx + b`, `b_c = log π_c`, a Zipf prior `π_c ∝ 1/c` over C = 10 classes.
The class-averaged ratio `mean_{c≠c'}‖H_cc'‖²/mean_c‖H_cc‖²`, the class mean of `(1/d)‖H_cc‖²_F`
and the per-class `(1/d)‖H_cc‖²_F` of the most frequent, a middle and the rarest class at 2d
against the finite-size prediction with offsets (ANI-11, rule `z`); all but the class mean also at
d and 2d, extrapolated in 1/d, against the limits of (CASE-30) (rule `richardson`). The per-class
norms, whose weights `p_c(1 − p_c)` are small and heavy-tailed for the rare classes, are estimated
from replicates of their own with the variance reductions of VER-15: the expectation over the data
orthogonal to the row space of V in closed form, and the sample moments of the weights as control
variates with exactly known means, fitted out of fold. Every row carries the theorem-1 target.
**Prior and covariance together** (ANI-15): logits `Vx + log π` with `x = Σ^{1/2} y`, the same Zipf
prior (C = 10) and power-law Σ, γ = 4: the class-averaged ratio and the class mean of
`(1/d)‖H_cc‖²_F` at d and 2d, extrapolated in 1/d, against the limits of (ANI-13) (rule
`richardson`, theorem-1 target).
**One hidden layer** (no finite-size prediction is derived, ANI-14): the mlp-mse hidden-block ratio
with the power-law Σ and the mlp-ce class-averaged output-block ratio with the Zipf prior (C = 10,
m = 16), at d and 2d, extrapolated in 1/d, against the limits (ANI-6, exact; CASE-31, an estimate
whose standard error enters the band) (rule `richardson`, theorem-2 target).
"""
    sizes = {
        "tiny": {"d": 40, "ce_reps": 8, "mse_reps": 8, "classes": 5, "prior_d": 30,
                 "prior_reps": 8, "figure_reps": 4, "figure_exponents": (0.5,),
                 "curve_classes": (3,), "curve_reps": 4, "mlp_d": 24, "mlp_m": 4,
                 "mlp_reps": 16, "mlp_rtol": 2e-2,
                 "joint_d": 40, "joint_gamma": 4.0, "joint_reps": 8},
        "quick": {"d": 200, "ce_reps": 600, "mse_reps": 400, "classes": 10, "prior_d": 100,
                  "prior_reps": 1200, "figure_reps": 200, "figure_exponents": (0.5, 1.5, 2.0),
                  "curve_classes": (3, 30), "curve_reps": 150, "mlp_d": 64, "mlp_m": 16,
                  "mlp_reps": 2000, "mlp_rtol": 3e-3,
                  "joint_d": 200, "joint_gamma": 4.0, "joint_reps": 2500},
        "full": {"d": 400, "ce_reps": 1200, "mse_reps": 600, "classes": 10, "prior_d": 200,
                 "prior_reps": 4000, "figure_reps": 800,
                 "figure_exponents": (0.25, 0.5, 1.5, 2.0), "curve_classes": (3, 30, 100),
                 "curve_reps": 300, "mlp_d": 64, "mlp_m": 16, "mlp_reps": 40000,
                 "mlp_rtol": 1e-3,
                 "joint_d": 400, "joint_gamma": 4.0, "joint_reps": 2500},
    }

    def run(self, ctx):
        p = self.params(ctx.size)
        out = CheckOutput()
        rows, ce_cell = self._covariance_rows(ctx, p)
        out.rows += rows
        out.figures["figure1"] = [self._covariance_panel(ctx, p, ce_cell)]
        rows, figure = self._prior_rows(ctx, p)
        out.rows += rows
        out.figures["figure5"] = figure
        out.rows += self._joint_rows(ctx, p)
        out.rows += self._hidden_rows(ctx, p)
        return out

    # ------------------------------------------------------------------ covariance
    def _covariance_rows(self, ctx, p):
        from rmthess.cases import get_case
        from rmthess.gmp.covariance import parse_covariance, spectrum_values
        from rmthess.montecarlo import simulate
        from rmthess.montecarlo.finite_size import predict_norms

        H = parse_covariance(SPECTRUM)
        d, C, gamma = p["d"], p["classes"], 1.0
        fam = ("theorem-1", ctx.size)
        rows, ce_cell = [], None
        spectrum = spectrum_values(H, d)
        for k, (case, reps) in enumerate((("linear-ce", p["ce_reps"]),
                                          ("linear-mse", p["mse_reps"]))):
            ctx.progress(f"{case}, covariance {SPECTRUM}, d={d}, C={C}, {reps} replicates")
            res = simulate(case, d=d, gamma=gamma, classes=C, reps=reps, covariance=H,
                           predictions=False, limits=False, rng=ctx.child(1, k))
            pred = predict_norms(case, "v", d=d, n_samples=res.n_samples, classes=C,
                                 batches=PREDICTION_BATCHES, seed=ctx.child(2, k),
                                 spectrum=spectrum)
            lim = get_case(case).limits(gamma, C, covariance=H).blocks["v"]
            b = res.blocks["v"]
            ce_cell = res if case == "linear-ce" else ce_cell
            params = {"case": case, "Σ": SPECTRUM, "gamma": gamma, "C": C, "d": d, "reps": reps}
            items = [("(1/d)‖H_ii‖²_F", b.diag, b.diag_stderr, pred.diag, pred.diag_stderr,
                      lim.g_ii)]
            if case == "linear-ce":
                items += [("(1/d)‖H_ij‖²_F", b.offdiag, b.offdiag_stderr, pred.offdiag,
                           pred.offdiag_stderr, lim.g_ij),
                          ("ratio g_ij/g_ii", b.ratio, b.stderr, pred.ratio,
                           pred.ratio_stderr, lim.ratio)]
            for name, sim, se, pv, pse, limv in items:
                rows.append(against_prediction(
                    name + " with Σ", params, simulation=sim, stderr=se, prediction=pv,
                    prediction_se=pse, prediction_dof=PREDICTION_BATCHES - 1, limit=limv,
                    dof=reps - 1, remainder=geometric_remainder(pv - limv, abs(limv)),
                    target=target(*fam), note="finite-size prediction (ANI-12)"))
            far = predict_norms(case, "v", d=LIMIT_D, n_samples=int(round(LIMIT_D / gamma)),
                                classes=C, samples=2**14, batches=4, seed=0, spectrum=H)
            value, ref = (lim.ratio, far.ratio) if case == "linear-ce" else (lim.g_ii, far.diag)
            what = "ratio" if case == "linear-ce" else "(1/d)‖H_ii‖²_F"
            rows.append(within_tolerance(
                f"limit {what} with Σ (ANI-3) vs prediction at d → ∞", {"case": case,
                                                                        "Σ": SPECTRUM,
                                                                        "gamma": gamma, "C": C},
                value=float(value), reference=float(ref), tol=LIMIT_RTOL, relative=True,
                column="prediction",
                note=f"(ANI-12) at d = {LIMIT_D:.0e} with the moments of the spectrum law"))
        return rows, ce_cell

    def _covariance_panel(self, ctx, p, cell):
        """Figure 1 panel: the ratio against C with Σ beside Σ = I (limits, C → ∞ asymptotes) and
        the simulated ratio with Σ at the check's d (the rows' cell and ``curve_classes``)."""
        from rmthess.cases import get_case
        from rmthess.gmp.covariance import parse_covariance
        from rmthess.montecarlo import simulate
        from rmthess.plotting.ratios import RatioCurve, RatioPanel, RatioPoints

        H = parse_covariance(SPECTRUM)
        ce = get_case("linear-ce")
        grid = np.unique(np.round(np.geomspace(2, 10_000, 25)).astype(int))
        big = grid[grid >= 10]
        curves = []
        for group, cov in (("Σ = I", None), (f"Σ: {SPECTRUM}", H)):
            curves.append(RatioCurve(group, grid, [ce.limits(1.0, int(C), covariance=cov)
                                                   .blocks["v"].ratio for C in grid]))
            curves.append(RatioCurve(group, big, [ce.asymptote(1.0, int(C), covariance=cov)["v"]
                                                  for C in big], kind="asymptote"))
        sims = [cell]
        for k, C in enumerate(p["curve_classes"]):
            ctx.progress(f"linear-ce, covariance {SPECTRUM}, d={cell.d}, C={C}, "
                         f"{p['curve_reps']} replicates")
            sims.append(simulate("linear-ce", d=cell.d, gamma=1.0, classes=C,
                                 reps=p["curve_reps"], covariance=H, predictions=False,
                                 limits=False, rng=ctx.child(5, k)))
        sims.sort(key=lambda r: r.classes)
        points = RatioPoints(f"Monte Carlo, Σ: {SPECTRUM}", [r.classes for r in sims],
                             [r.blocks["v"].ratio for r in sims],
                             [r.blocks["v"].stderr for r in sims], group=f"Σ: {SPECTRUM}")
        return RatioPanel(f"linear CE with a data covariance, γ = 1\nMonte Carlo at d = {cell.d}",
                          tuple(curves), (points,))

    # ------------------------------------------------------------------ class offsets
    def _prior_cells(self, ctx, p, exponent, reps, key):
        """Replicate arrays ``(ratio pieces, per-class diag)`` at d and 2d for one Zipf exponent."""
        from rmthess.laws.prior import zipf_prior
        from rmthess.montecarlo import simulate

        C = p["classes"]
        prior = zipf_prior(C, exponent)
        out = []
        for j, d in enumerate((p["prior_d"], 2 * p["prior_d"])):
            ctx.progress(f"linear-ce, Zipf prior S={exponent:g}, d={d}, C={C}, {reps} replicates")
            out.append(simulate("linear-ce", d=d, gamma=1.0, classes=C, reps=reps, prior=prior,
                                predictions=False, limits=False, rng=ctx.child(key, j)))
        return prior, out

    def _class_cells(self, ctx, p, prior):
        """Per-class norm replicates at d and 2d for the Zipf prior (VER-15)."""
        from rmthess.verify.checks._class_norms import class_norm_replicates

        out = []
        for j, d in enumerate((p["prior_d"], 2 * p["prior_d"])):
            ctx.progress(f"linear-ce per-class norms, Zipf prior S={ZIPF_EXPONENT:g}, d={d}, "
                         f"C={len(prior)}, {p['prior_reps']} replicates")
            out.append(class_norm_replicates(prior, d=d, gamma=1.0, reps=p["prior_reps"],
                                             seed=ctx.child(3, 2 + j)))
        return out

    def _prior_rows(self, ctx, p):
        from rmthess.cases import get_case
        from rmthess.laws.prior import zipf_prior
        from rmthess.montecarlo.finite_size import predict_norms
        from rmthess.plotting.offsets import ClassNormPanel, DiagonalityPanel
        from rmthess.verify.checks._stats import crossfit_mean_se

        ce = get_case("linear-ce")
        C, reps, gamma = p["classes"], p["prior_reps"], 1.0
        rows = []
        prior, (small, large) = self._prior_cells(ctx, p, ZIPF_EXPONENT, reps, 3)
        lim = ce.limits(gamma, C, prior=prior).blocks["v"]
        cl = ce.class_limits(gamma, prior)
        name = f"zipf:{ZIPF_EXPONENT:g}"
        fam = target("theorem-1", ctx.size)
        classes = sorted({0, C // 2 - 1, C - 1})
        # at 2d: against the finite-size prediction with offsets (ANI-11), rule z
        ctx.progress(f"finite-size prediction with offsets, C={C}, d={large.d}")
        pred = predict_norms(ce.with_data(prior=prior), "v", d=large.d,
                             n_samples=large.n_samples, classes=C, batches=PREDICTION_BATCHES,
                             seed=ctx.child(4))
        b = large.blocks["v"]
        params = {"case": "linear-ce", "prior": name, "gamma": gamma, "C": C, "d": large.d,
                  "reps": reps}
        items = [("class-averaged ratio g_ij/g_ii with offsets", b.ratio, b.stderr, pred.ratio,
                  pred.ratio_stderr, lim.ratio),
                 ("class mean (1/d)‖H_cc‖²_F with offsets", b.diag, b.diag_stderr, pred.diag,
                  pred.diag_stderr, lim.g_ii)]
        for quantity, sim, se, pv, pse, limv in items:
            rows.append(against_prediction(
                quantity, params, simulation=sim, stderr=se, prediction=pv, prediction_se=pse,
                prediction_dof=PREDICTION_BATCHES - 1, limit=limv, dof=reps - 1,
                remainder=geometric_remainder(pv - limv, abs(limv)), target=fam,
                note="finite-size prediction with offsets (ANI-11)"))
        # the per-class norms: Rao–Blackwellized, with exact-mean controls fitted out of fold
        cells = self._class_cells(ctx, p, prior)
        est = [[crossfit_mean_se(cell.norms[:, c], cell.controls[:, c, :]) for c in range(C)]
               for cell in cells]
        per_s, per_l = (np.asarray(e, float) for e in est)       # (C, 3): estimate, se, dof
        note = "; per-class estimator of (VER-15)"
        for c in classes:
            limv, pv = float(cl["g_ii"][c]), float(pred.diag_columns[c])
            rows.append(against_prediction(
                f"(1/d)‖H_cc‖²_F of class c = {c + 1} (π_c = {prior[c]:.3g})", params,
                simulation=per_l[c, 0], stderr=per_l[c, 1], prediction=pv,
                prediction_se=float(pred.diag_columns_stderr[c]),
                prediction_dof=PREDICTION_BATCHES - 1, limit=limv, dof=per_l[c, 2],
                remainder=geometric_remainder(pv - limv, abs(limv)), target=fam,
                note="finite-size prediction with offsets (ANI-11)" + note))
        # d and 2d: against the limits of (CASE-30) themselves, rule richardson
        params = dict(params, d=f"{small.d}, {large.d}")
        rows.append(richardson("class-averaged ratio g_ij/g_ii with offsets, d → ∞", params,
                               small=small.blocks["v"].ratio, small_se=small.blocks["v"].stderr,
                               large=large.blocks["v"].ratio, large_se=large.blocks["v"].stderr,
                               limit=float(lim.ratio), dof=reps - 1, target=fam,
                               note="limit of (CASE-30), extrapolated in 1/d"))
        for c in classes:
            rows.append(richardson(
                f"(1/d)‖H_cc‖²_F of class c = {c + 1}, d → ∞", params,
                small=per_s[c, 0], small_se=per_s[c, 1], large=per_l[c, 0],
                large_se=per_l[c, 1], limit=float(cl["g_ii"][c]),
                dof=min(per_s[c, 2], per_l[c, 2]), target=fam,
                note="per-class limit g_ii(c) of (CASE-30), extrapolated in 1/d" + note))
        # figure: C² × class-averaged ratio against the exponent; per-class g_ii against π_c
        grid = np.linspace(0.0, 2.0, 41)
        theory = [C**2 * ce.limits(gamma, C, prior=zipf_prior(C, s)).blocks["v"].ratio
                  for s in grid]
        pts = {ZIPF_EXPONENT: (small.blocks["v"], large.blocks["v"])}
        for k, s in enumerate(p["figure_exponents"]):
            _, (a, b) = self._prior_cells(ctx, p, s, p["figure_reps"], 10 + k)
            pts[s] = (a.blocks["v"], b.blocks["v"])
        xs = sorted(pts)
        ext = [2.0 * pts[s][1].ratio - pts[s][0].ratio for s in xs]
        ext_se = [float(np.hypot(2.0 * pts[s][1].stderr, pts[s][0].stderr)) for s in xs]
        label = f"Monte Carlo at d = {small.d} and {large.d}, extrapolated in 1/d"
        diag_ext = 2.0 * per_l[:, 0] - per_s[:, 0]
        diag_se = np.hypot(2.0 * per_l[:, 1], per_s[:, 1])
        figure = [DiagonalityPanel(f"linear CE, C = {C}, γ = {gamma:g}", grid, np.asarray(theory),
                                   np.asarray(xs), C**2 * np.asarray(ext),
                                   C**2 * np.asarray(ext_se),
                                   label),
                  ClassNormPanel(f"per-class diagonal blocks, Zipf S = {ZIPF_EXPONENT:g}",
                                 prior, cl["g_ii"], diag_ext, diag_se,
                                 label)]
        return rows, figure

    # ------------------------------------------------------------------ prior and Σ together
    def _joint_rows(self, ctx, p):
        """The Zipf prior and the power-law Σ together (ANI-15): the class-averaged ratio and the
        class mean of ``(1/d)‖H_cc‖²_F`` at d and 2d, ``2x_2d − x_d`` against the limits of
        (ANI-13) (rule richardson, theorem-1 target). γ = 4: much of the spread of the class
        mean over the replicates comes from the draw of V (the per-class logit scales), so
        N = d/4 raises it only 1.5-fold against γ = 1 (measured at d = 200) while the Gram
        products shrink 16-fold (VER-14)."""
        from rmthess.cases import get_case
        from rmthess.gmp.covariance import parse_covariance
        from rmthess.laws.prior import zipf_prior
        from rmthess.montecarlo import simulate

        H = parse_covariance(SPECTRUM)
        C, d, reps, gamma = p["classes"], p["joint_d"], p["joint_reps"], p["joint_gamma"]
        prior = zipf_prior(C, ZIPF_EXPONENT)
        cells = []
        for j, size in enumerate((d, 2 * d)):
            ctx.progress(f"linear-ce, Zipf prior S={ZIPF_EXPONENT:g} and covariance {SPECTRUM}, "
                         f"d={size}, C={C}, {reps} replicates")
            cells.append(simulate("linear-ce", d=size, gamma=gamma, classes=C, reps=reps,
                                  prior=prior, covariance=H, predictions=False, limits=False,
                                  rng=ctx.child(30, j)).blocks["v"])
        lim = get_case("linear-ce").limits(gamma, C, prior=prior, covariance=H).blocks["v"]
        small, large = cells
        params = {"case": "linear-ce", "prior": f"zipf:{ZIPF_EXPONENT:g}", "Σ": SPECTRUM,
                  "gamma": gamma, "C": C, "d": f"{d}, {2 * d}", "reps": reps}
        items = (("class-averaged ratio g_ij/g_ii with offsets and Σ", "ratio", "stderr",
                  lim.ratio),
                 ("class mean (1/d)‖H_cc‖²_F with offsets and Σ", "diag", "diag_stderr",
                  lim.g_ii))
        return [richardson(f"{quantity}, d → ∞", params, small=getattr(small, value),
                           small_se=getattr(small, se), large=getattr(large, value),
                           large_se=getattr(large, se), limit=float(limit), dof=reps - 1,
                           target=target("theorem-1", ctx.size),
                           note="limit of (ANI-13), extrapolated in 1/d")
                for quantity, value, se, limit in items]

    # ------------------------------------------------------------------ one hidden layer
    def _hidden_rows(self, ctx, p):
        """mlp-mse hidden ratio with Σ, mlp-ce class-averaged output ratio with the Zipf prior:
        ``2x_2d − x_d`` against the limits (ANI-14; rule richardson)."""
        from rmthess.cases import get_case
        from rmthess.cases.mlp_ce import REPLICATES
        from rmthess.gmp.covariance import parse_covariance
        from rmthess.laws.prior import zipf_prior
        from rmthess.montecarlo import simulate

        d, C, m, reps, gamma = p["mlp_d"], p["classes"], p["mlp_m"], p["mlp_reps"], 1.0
        prior = zipf_prior(C, ZIPF_EXPONENT)
        settings = (("mlp-mse", "hidden", {"covariance": parse_covariance(SPECTRUM)},
                     {"Σ": SPECTRUM}, "with Σ"),
                    ("mlp-ce", "output", {"prior": prior}, {"prior": f"zipf:{ZIPF_EXPONENT:g}"},
                     "with offsets (class-averaged)"))
        rows = []
        for k, (case, block, data, shown, label) in enumerate(settings):
            cells = []
            for j, size in enumerate((d, 2 * d)):
                ctx.progress(f"{case}, {label}, d={size}, C={C}, m={m}, {reps} replicates")
                cells.append(simulate(case, d=size, gamma=gamma, classes=C, m=m, reps=reps,
                                      predictions=False, limits=False, rng=ctx.child(20 + k, j),
                                      **data).blocks[block])
            model = get_case(case)
            if case == "mlp-ce":
                ctx.progress(f"mlp-ce limits with the Zipf prior, C={C}, m={m}")
                lim = model.limits(gamma, C, m=m, rtol=p["mlp_rtol"], rng=ctx.child(22),
                                   max_time=LIMIT_MAX_TIME[ctx.size], **data).blocks[block]
            else:
                lim = model.limits(gamma, C, m=m, **data).blocks[block]
            small, large = cells
            params = {"case": case, **shown, "gamma": gamma, "C": C, "m": m,
                      "d": f"{d}, {2 * d}", "reps": reps}
            rows.append(richardson(
                f"ratio ({block}) {label}, d → ∞", params, small=small.ratio,
                small_se=small.stderr, large=large.ratio, large_se=large.stderr,
                limit=float(lim.ratio), limit_se=float(lim.stderr_ratio or 0.0),
                limit_dof=REPLICATES - 1 if lim.estimate else None, dof=reps - 1,
                target=target("theorem-2", ctx.size),
                note="no finite-size prediction (ANI-14); limit of "
                     + ("(ANI-6)" if case == "mlp-mse" else "(CASE-31), a Monte Carlo integral")
                     + ", extrapolated in 1/d"))
        return rows
