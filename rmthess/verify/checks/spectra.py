r"""Check ``block-spectra``: limiting spectral laws of Hessian blocks against simulated eigenvalues.

For the linear model with CE loss the d×d blocks ``H_{v_i v_j} = (1/N) Σ λ_n x_n x_nᵀ`` have weights
``λ = p_i(1 − p_i)`` (diagonal) or ``−p_i p_j`` (off-diagonal) that depend on the data through the
rank-C projection ``V x``; their limiting spectral law is the GMP law of the weight law
(:meth:`rmthess.cases.Case.block_law`), because that dependence moves at most 2C eigenvalues.
Eigenvalues of true blocks come from :func:`rmthess.montecarlo.spectra.block_spectrum`. Rows: the
empirical distribution function at the quartiles of the continuous part, extrapolated from d and 2d
(rule ``richardson``), and the fraction of zero eigenvalues against the atom (γ > 1).

For the 1-hidden-layer network (m hidden units) the d×d hidden blocks ``H_{w_i w_j}`` have weights
``a_ij(u)`` that depend on the data through the rank-m projection ``u = Wx`` *and* on the output
weights V, so their limiting law is a GMP law at fixed V (``block_law("hidden", …, V=V)``; MSE:
``κ_ii`` times Bernoulli(1/2) on the diagonal, ``κ_ij`` times Bernoulli(1/4) off it, ``κ = VᵀV``;
CE: the empirical law of ``a_ij(u)``, ``u ~ N(0, I_m)``). V is redrawn in every replicate
(``block_spectrum(..., return_second=True)`` returns it), so each replicate is compared with its own
law: the statistics are ``m̂₂/m₂(F_V) − 1`` (its mean estimated with the control variates
``(m̂₁ − m₁(F_V))/√m₂(F_V)`` and the zero fraction minus the atom, which remove the fluctuation of
the number of active samples), ``F̂(x_V) − F_V(x_V)`` at the quartiles ``x_V`` of the continuous
part of that law, and the fraction of zero eigenvalues minus the law's atom. Their means at d and 2d
are extrapolated and compared with 0 (rule ``richardson``). The CE law is built from a fresh Monte
Carlo sample of u in each replicate, so its sampling error is part of the replicate spread and hence
of the standard error. Edge rows (linear CE diagonal block, on the decoupled block whose law is
exactly the GMP law; MLP MSE hidden diagonal block, per V): the largest eigenvalue relative to the
right edge E minus its Tracy–Widom mean ``(c d)^{-2/3} E[TW₁]`` (theory/gmp.md, GMP-13), with
control variates of exact mean, extrapolated from d and 2d to 0 with a measured remainder
allowance. theory/verification.md, (VER-8).
"""

from __future__ import annotations

import numpy as np

from rmthess.verify.base import Check, CheckOutput, register
from rmthess.verify.checks._stats import (
    controlled_mean_se,
    mean_se,
    quantile_points,
    quartile_levels,
)
from rmthess.verify.power import target
from rmthess.verify.rules import richardson

__all__ = ["BlockSpectraCheck"]

#: bulks lighter than this are not drawn as separate edges: a continuous weight law is discretized
#: for the GMP solver, and the discretization splits the far tail into tiny bulks (mass ~1e-5 each)
EDGE_MIN_MASS = 1e-3

#: eigenvalues below this fraction of the largest one count as zero (the atom); round-off in
#: eigvalsh is ~1e-15 relative
ZERO_FRACTION = 1e-9


#: seeds of the replicates of the edge rows: a key outside the range of the panel indices
_EDGE_KEY = 7927

#: seeds of the per-replicate Monte Carlo samples that build the CE hidden-block laws: a key outside
#: the range of the panel indices, so they never coincide with the seeds of the simulated blocks
_LAW_KEY = 7919

#: draws of u of the per-V CE laws (``block_law(samples=...)``), and of the u-integrals of the
#: weight-moment controls, which reuse them. The law's sampling error is part of each replicate's
#: spread; measured at ``quick`` (seed 0), 2¹⁴ draws instead of 2¹⁶ leave the MDE of every CE
#: hidden row unchanged to ≤ 0.6 % (its share of the variance is below 1 %) at a quarter of the cost
LAW_SAMPLES = 1 << 14


def _weight_controls(case, which, gamma, V, lam, W, mom2, law_seed, law) -> tuple:
    r"""CE hidden blocks: the sample moments of the replicate's weights minus their expectations,
    and the effect of ``WWᵀ ≠ I`` (and of the law's own sample) on the fixed-V limit.

    With ``g`` the :data:`LAW_SAMPLES` standard normal draws from which the replicate's law ``F_V``
    is built (``law_seed``): ``((Σa)² − Σa²)/(N(N − 1)) − (E a)²`` and ``Σa²/N − E a²``, the
    expectations over ``u = Lg`` (``LLᵀ = WWᵀ``, the law of the replicate's ``u_n = W x_n`` given W;
    mean exactly 0), and ``G(V, W) − G(V)``, ``G = (E a)² + γ E a²`` over ``u = Lg`` and ``u = g``
    (mean ``O(1/d)``, removed with the rest of the ``O(1/d)`` bias by the extrapolation; on the
    law's own draws, so that it also carries the law's sampling error: the moments over ``u = g``
    are those of the samples of ``law``, the empirical law of ``a(g)``); all divided by
    ``m₂(F_V)`` (VER-8).
    """
    if case != "mlp-ce":
        return ()
    import math

    from rmthess.verify.checks._fixed_v import pair_moments

    j = 0 if which == "diag" else 1
    L = np.linalg.cholesky(W @ W.T)
    t1, t2 = pair_moments(V, np.random.default_rng(law_seed), LAW_SAMPLES, 0, j, factor=L)
    a = law.weights.samples
    s1, s2 = math.fsum(a), math.fsum(a * a)
    i1, i2 = (s1 * s1 - s2) / (a.size * (a.size - 1.0)), s2 / a.size
    n = lam.size
    s1, s2 = float(lam.sum()), float(lam @ lam)
    return (((s1 * s1 - s2) / (n * (n - 1.0)) - t1) / mom2, (s2 / n - t2) / mom2,
            (t1 + gamma * t2 - i1 - gamma * i2) / mom2)


#: the estimator of the second-moment rows (theory/verification.md, VER-8)
_M2_NOTE = ("ratio to m̂₁²: the sample mean of the weights, which moves both moments, cancels "
            "(5× smaller spread than m̂₂)")

#: points of the density grid of a panel
_GRID = 800

#: replicates per size of the edge rows at ``quick``: linear CE diagonal block at γ = 0.5
#: (decoupled), MLP MSE hidden diagonal block at γ = 1, m = 4
EDGE_REPS_QUICK = (576, 640)

#: bound on the remainder of the extrapolated extreme eigenvalue, relative to the edge, at
#: d = 120 → 240, measured (VER-8); assumed to fall at least like the fluctuation scale d^(-2/3)
EDGE_REMAINDER_120 = 1.5e-3


def edge_remainder(d: int) -> float:
    """The allowance for the remainder of the extrapolated extreme eigenvalue at sizes d → 2d,
    relative to the edge: :data:`EDGE_REMAINDER_120` times ``(120/d)^(2/3)`` (VER-8)."""
    return EDGE_REMAINDER_120 * (120.0 / d) ** (2.0 / 3.0)


def _edge_statistics(case, which, gamma, C, m, d, seed, law, moments) -> tuple:
    r"""One replicate of an edge row: the relative deviation of the largest eigenvalue from its
    Tracy–Widom mean, and control variates with exact expectations (VER-8).

    Linear CE: the *decoupled* block (weights from an independent copy of the data), whose law is
    exactly the GMP law of the weight law, with no eigenvalue moved by the rank-C dependence of the
    weights; controls ``mean λ − Eλ`` and ``mean λ² − Eλ²`` (exact moments); ``law`` is the block's
    law. MLP MSE hidden diagonal block: weights ``κ_ii 1(u_i > 0)``, each replicate against its own
    law ``F_V``; control: the fraction of active samples − 1/2 (``P(u_i > 0) = 1/2`` whatever W).
    ``F_V`` is ``κ_ii`` times the law of the weights ``1(u_i > 0)`` (``law``, built once): the block
    is linear in its weights, so its edge, its Tracy–Widom scale and its largest eigenvalue all
    scale by ``κ_ii`` and the statistic is that of ``λ_max/κ_ii`` against ``law`` (the same number
    to round-off, measured 3e-16, without a GMP solve per replicate).
    """
    from rmthess.gmp.tracy_widom import extreme_eigenvalue_mean
    from rmthess.montecarlo.spectra import block_spectrum

    if m is None:
        ev, _, lam, _ = block_spectrum(case, d=d, gamma=gamma, classes=C, which=which,
                                       design="decoupled", seed=seed, return_weights=True)
        controls = (float(lam.mean()) - moments[0], float(lam @ lam) / lam.size - moments[1])
    else:
        ev, V, lam, _ = block_spectrum(case, d=d, gamma=gamma, classes=C, m=m, block="hidden",
                                       which=which, seed=seed, return_weights=True)
        ev = ev / float(V[:, 0] @ V[:, 0])          # κ_00 = (VᵀV)_00: F_V = κ_00 · law
        controls = (float(np.mean(lam != 0)) - 0.5,)
    edge, _ = law.soft_edge("right")
    return ((ev[-1] - extreme_eigenvalue_mean(law, d)) / edge, *controls)


def edge_row(ctx, j: int, spec: tuple, *, d0: int, reps: int):
    r"""The edge row of panel ``spec`` (index ``j``): ``λ_max/E − 1 − (c d)^{-2/3}E[TW₁]/E``,
    its control-variate means at d0 and 2d0 extrapolated to 0 (rule ``richardson``, VER-8).

    The Tracy–Widom mean (GMP-13) removes the ``d^{-2/3}`` term, the extrapolation the ``1/d``
    term; the band adds the measured remainder bound :func:`edge_remainder`.
    """
    from rmthess.cases import get_case

    case, which, gamma, C, *rest = spec
    m = rest[0] if rest else None
    if (case, which, m is None) not in (("linear-ce", "diag", True), ("mlp-mse", "diag", False)):
        raise ValueError(f"no edge row for {spec}: only the linear CE diagonal block and the MLP "
                         f"MSE hidden diagonal block have controls with exact expectations and "
                         f"no outlier (VER-8)")
    model = get_case(case)
    if m is None:
        law = model.block_law("v", which, gamma, C)
    else:
        # the per-V law at unit scale: V with κ_00 = 1 (the laws of all V are its multiples)
        unit = np.zeros((C, m))
        unit[0, 0] = 1.0
        law = model.block_law("hidden", which, gamma, C, m=m, V=unit)
    moments = model.exact_moments("v", which, C, 1.0) if m is None else None
    means = []
    for s, d in enumerate((d0, 2 * d0)):
        ctx.progress(f"{case} {'hidden ' if m else ''}{which} block, γ={gamma:g}, C={C}, d={d}, "
                     f"{reps} replicates for the largest eigenvalue")
        stats = np.asarray([_edge_statistics(case, which, gamma, C, m, d, seed, law, moments)
                            for seed in ctx.child(_EDGE_KEY, j, s).spawn(reps)])
        means.append(controlled_mean_se(stats[:, 0], stats[:, 1:]))
    (a, sa, dof), (b, sb, _) = means
    base = {"case": case, "block": f"{'hidden ' if m else ''}{which}", "gamma": gamma, "C": C}
    if m is not None:
        base["m"] = m
    base.update({"d": f"{d0}→{2 * d0}", "reps": reps})
    how = ("decoupled block (exactly the GMP law: no outlier from the rank-C dependence of the "
           "weights); controls: sample moments of the weights − exact ones" if m is None else
           "per-V law F_V, V redrawn in each replicate; control: fraction of active samples − 1/2")
    return richardson("λ_max/E − 1 − (c d)^(-2/3) E[TW₁]/E (right edge E)", base, small=a,
                      small_se=sa, large=b, large_se=sb, limit=0.0, dof=dof, scale=1.0,
                      target=target("block-edge", ctx.size), remainder=edge_remainder(d0),
                      note=f"{how}; Tracy–Widom mean removed at each d, O(1/d) by the "
                           f"extrapolation; remainder allowance {edge_remainder(d0):.1e} measured "
                           f"at d = 120→240")


def _continuous_quartiles(law, scale: float) -> np.ndarray:
    """Levels of ``F`` at the quartiles of the continuous part of a law with an atom at 0 only.

    The continuous part has mass ``1 − a`` (``a`` the atom), of which ``w₋ = F(0⁻)`` lies below 0.
    Its quartile ``q`` has continuous mass ``c = (1 − a)q`` to its left, hence ``F = c`` if
    ``c < w₋`` (a negative point) and ``F = c + a`` otherwise (weights of either sign: off-diagonal
    blocks).
    """
    atom = float(law.atom_at_zero)
    below = float(law.cdf(-1e-12 * scale))
    c = (1.0 - atom) * np.array([0.25, 0.5, 0.75])
    return np.where(c < below, c, c + atom)


def _scale(bulks) -> float:
    return max(abs(e) for b in bulks for e in b)


@register
class BlockSpectraCheck(Check):
    name = "block-spectra"
    title = "Block spectra against their generalized Marchenko–Pastur laws"
    description = __doc__.split("\n\n", 1)[1].rsplit("theory/", 1)[0]
    #: a panel is (case, which, γ, C) for the linear model and (case, which, γ, C, m) for the hidden
    #: blocks of the 1-hidden-layer network; γ for the MLP panels keeps the effective aspect ratio
    #: γ/P(a ≠ 0) away from 1 (a hard edge at 0 with a fluctuating atom). The hidden panels use more
    #: replicates at ``quick``: the number of active samples, hence the atom and the continuous
    #: mass, fluctuates by O(d^-1/2) per replicate, and 48 replicates instead of 24 resolve a shift
    #: of the distribution function 1.6× smaller: k/√R = z_threshold(47)/√48 = 0.63 against
    #: z_threshold(23)/√24 = 1.00 (``rmthess.verify.rules.z_threshold``).
    sizes = {
        "tiny": {"d": 40, "reps": {"diag": 6, "offdiag": 6}, "hidden_reps": 6,
                 "panels": (("linear-ce", "diag", 0.5, 5), ("linear-ce", "offdiag", 0.5, 5),
                            ("mlp-mse", "diag", 1.0, 5, 4)),
                 "edges": {("linear-ce", "diag", 0.5, 5): 8, ("mlp-mse", "diag", 1.0, 5, 4): 8}},
        "quick": {"d": 120, "reps": {"diag": 128, "offdiag": 256}, "hidden_reps": 96,
                  "panels": (("linear-ce", "diag", 0.5, 10), ("linear-ce", "offdiag", 0.5, 10),
                             ("linear-ce", "diag", 2.0, 10),
                             ("mlp-mse", "diag", 1.0, 10, 4), ("mlp-mse", "offdiag", 1.0, 10, 4),
                             ("mlp-ce", "diag", 0.2, 10, 4), ("mlp-ce", "offdiag", 0.2, 10, 4)),
                  "edges": {("linear-ce", "diag", 0.5, 10): EDGE_REPS_QUICK[0],
                            ("mlp-mse", "diag", 1.0, 10, 4): EDGE_REPS_QUICK[1]}},
        "full": {"d": 600, "reps": {"diag": 96, "offdiag": 192}, "hidden_reps": 64,
                 "panels": (("linear-ce", "diag", 0.5, 10), ("linear-ce", "offdiag", 0.5, 10),
                            ("linear-ce", "diag", 2.0, 10), ("linear-ce", "offdiag", 2.0, 100),
                            ("mlp-mse", "diag", 1.0, 10, 8), ("mlp-mse", "offdiag", 1.0, 10, 8),
                            ("mlp-ce", "diag", 0.2, 10, 8), ("mlp-ce", "offdiag", 0.2, 10, 8)),
                 "edges": {("linear-ce", "diag", 0.5, 10): 96,
                           ("mlp-mse", "diag", 1.0, 10, 8): 96}},
    }

    def run(self, ctx):
        p = self.params(ctx.size)
        out = CheckOutput()
        panels = []
        for j, spec in enumerate(p["panels"]):
            if len(spec) == 4:
                panels.append(self._linear_panel(ctx, out, j, *spec, d0=p["d"],
                                                 reps=p["reps"][spec[1]]))
            else:
                panels.append(self._hidden_panel(ctx, out, j, *spec, d0=p["d"],
                                                 reps=p["hidden_reps"]))
            if spec in p["edges"]:
                out.rows.append(edge_row(ctx, j, spec, d0=p["d"], reps=p["edges"][spec]))
        out.figures["figure2"] = panels
        return out

    @staticmethod
    def _linear_panel(ctx, out, j, case, which, gamma, C, *, d0, reps):
        """Rows and figure panel of a linear-model block: one law for every replicate."""
        from rmthess.cases import get_case
        from rmthess.montecarlo.spectra import block_spectrum
        from rmthess.plotting.spectra import SpectrumPanel

        law = get_case(case).block_law("v", which, gamma, C)
        atom = float(law.atom_at_zero)
        levels = quartile_levels(atom)
        xs = quantile_points(law, levels)
        bulks = law.support()
        scale = _scale(bulks)
        stats, pooled = {}, None
        for s, d in enumerate((d0, 2 * d0)):
            ctx.progress(f"{case} {which} block, γ={gamma:g}, C={C}, d={d}, {reps} replicates")
            seeds = ctx.child(j, s).spawn(reps)
            cdf, zero, eigs, m2 = [], [], [], []
            for seed in seeds:
                ev = block_spectrum(case, d=d, gamma=gamma, classes=C, which=which, seed=seed)
                cdf.append([(ev <= x).mean() for x in xs])
                zero.append((np.abs(ev) <= ZERO_FRACTION * scale).mean())
                m2.append(np.mean(ev**2) / np.mean(ev) ** 2)
                eigs.append(ev)
            stats[d] = (np.asarray(cdf), np.asarray(zero), np.asarray(m2))
            pooled = np.concatenate(eigs)
        base = {"case": case, "block": which, "gamma": gamma, "C": C, "d": f"{d0}→{2 * d0}",
                "reps": reps}
        a, sa = mean_se(stats[d0][2])
        b, sb = mean_se(stats[2 * d0][2])
        m1, m2 = float(law.moment(1)), float(law.moment(2))
        out.rows.append(richardson("normalized second moment m₂/m₁²", base, small=a, small_se=sa,
                                   large=b, large_se=sb, limit=m2 / m1**2, dof=reps - 1,
                                   target=target("block-moment", ctx.size),
                                   note=_M2_NOTE))
        for i, (q, x) in enumerate(zip(levels, xs, strict=True)):
            a, sa = mean_se(stats[d0][0][:, i])
            b, sb = mean_se(stats[2 * d0][0][:, i])
            out.rows.append(richardson(f"cdf F({x:.4g})", base, small=a, small_se=sa, large=b,
                                       large_se=sb, limit=float(q), dof=reps - 1))
        if atom > 0:
            a, sa = mean_se(stats[d0][1])
            b, sb = mean_se(stats[2 * d0][1])
            out.rows.append(richardson("atom at 0", base, small=a, small_se=sa, large=b,
                                       large_se=sb, limit=atom, dof=reps - 1))
        lo = min(b[0] for b in bulks)
        hi = max(b[1] for b in bulks)
        pad = 0.08 * (hi - lo)
        x = np.linspace(lo - pad, hi + pad, _GRID)
        x = x[np.abs(x) > 1e-12 * scale]
        title = (f"{'diagonal' if which == 'diag' else 'off-diagonal'} block, linear CE\n"
                 f"γ = {gamma:g}, C = {C}, d = {2 * d0}")
        masses = np.asarray(law.bulk_masses(), float)
        heavy = [b for b, w in zip(bulks, masses, strict=True) if w >= EDGE_MIN_MASS] or list(bulks)
        if len(heavy) < len(bulks):
            out.notes.append(f"{case} {which}, γ = {gamma:g}, C = {C}: the GMP law of the "
                             f"discretized weight law has {len(bulks) - len(heavy)} bulk(s) of "
                             f"mass < {EDGE_MIN_MASS:g} in the tail (total "
                             f"{masses[masses < EDGE_MIN_MASS].sum():.1e}), an artifact of the "
                             f"discretization; their edges are not drawn.")
        return SpectrumPanel(title, pooled, x, law.pdf(x), edges=tuple(e for b in heavy for e in b),
                             atom=atom, zero_tol=ZERO_FRACTION * scale)

    @staticmethod
    def _hidden_panel(ctx, out, j, case, which, gamma, C, m, *, d0, reps):
        """Rows and figure panel of an MLP hidden block: each replicate against the law at its own
        V."""
        from rmthess.cases import get_case
        from rmthess.montecarlo.spectra import block_spectrum
        from rmthess.plotting.spectra import SpectrumPanel

        model = get_case(case)
        stats, last = {}, None
        for s, d in enumerate((d0, 2 * d0)):
            ctx.progress(f"{case} hidden {which} block, γ={gamma:g}, C={C}, m={m}, d={d}, "
                         f"{reps} replicates, each with its own V and law")
            seeds = ctx.child(j, s).spawn(reps)
            cdf, zero, atoms, reps_data, m2, lev = [], [], [], [], [], []
            for r, seed in enumerate(seeds):
                ev, V, lam, W = block_spectrum(case, d=d, gamma=gamma, classes=C, m=m,
                                               block="hidden", which=which, seed=seed,
                                               return_weights=True)
                law_seed = ctx.child(_LAW_KEY, j, s, r)
                law = model.block_law("hidden", which, gamma, C, m=m, V=V,
                                      rng=np.random.default_rng(law_seed),
                                      **({"samples": LAW_SAMPLES} if case == "mlp-ce" else {}))
                atom = float(law.atom_at_zero)
                scale = _scale(law.support())
                levels = _continuous_quartiles(law, scale)
                xs = quantile_points(law, levels)
                cdf.append([(ev <= x).mean() - q for x, q in zip(xs, levels, strict=True)])
                zero.append((np.abs(ev) <= ZERO_FRACTION * scale).mean() - atom)
                mom1, mom2 = float(law.moment(1)), float(law.moment(2))
                m2.append((np.mean(ev**2) / mom2 - 1.0,
                           (np.mean(ev) - mom1) / np.sqrt(mom2),
                           (np.abs(ev) <= ZERO_FRACTION * scale).mean() - atom)
                          + _weight_controls(case, which, gamma, V, lam, W, mom2, law_seed, law))
                lev.append(levels)
                atoms.append(atom)
                reps_data.append((ev, law, scale))
            stats[d] = (np.asarray(cdf), np.asarray(zero), np.asarray(atoms), np.asarray(m2),
                        np.asarray(lev))
            last = reps_data
        base = {"case": case, "block": f"hidden {which}", "gamma": gamma, "C": C, "m": m,
                "d": f"{d0}→{2 * d0}", "reps": reps}
        note = "per-V law; V redrawn in each replicate"
        has_atom = float(np.mean(np.concatenate([stats[d][2] for d in stats]))) > 0
        cols = [1, 2] if has_atom else [1]
        cols += list(range(3, stats[d0][3].shape[1]))
        (a, sa, dof), (b, sb, _) = (controlled_mean_se(stats[d][3][:, 0], stats[d][3][:, cols])
                                    for d in (d0, 2 * d0))
        ctrl_note = "control variates m̂₁ − m₁(F_V), zero fraction − atom" + (
            ", weight moments − their per-V expectations" if len(cols) > 2 else "")
        out.rows.append(richardson("m̂₂/m₂(F_V) − 1", base, small=a, small_se=sa, large=b,
                                   large_se=sb, limit=0.0, dof=dof, scale=1.0,
                                   target=target("block-moment", ctx.size),
                                   note=f"{note}; {ctrl_note}; relative to m₂(F_V)"))
        for i, level in enumerate(("1/4", "1/2", "3/4")):
            a, sa = mean_se(stats[d0][0][:, i])
            b, sb = mean_se(stats[2 * d0][0][:, i])
            mean_level = float(np.mean(np.concatenate([stats[d][4][:, i] for d in stats])))
            out.rows.append(richardson(f"F̂ − F_V at quartile {level} of F_V", base, small=a,
                                       small_se=sa, large=b, large_se=sb, limit=0.0,
                                       dof=reps - 1, scale=mean_level,
                                       note=f"{note}; MDE relative to the mean level "
                                            f"{mean_level:.3f}"))
        mean_atom = float(np.mean(np.concatenate([stats[d][2] for d in stats])))
        if mean_atom > 0:
            a, sa = mean_se(stats[d0][1])
            b, sb = mean_se(stats[2 * d0][1])
            out.rows.append(richardson("zero fraction − atom of F_V", base, small=a, small_se=sa,
                                       large=b, large_se=sb, limit=0.0, dof=reps - 1,
                                       scale=mean_atom,
                                       note=f"{note}; MDE relative to the mean atom "
                                            f"{mean_atom:.3f}"))
        # figure: pooled eigenvalues at 2d against the mean of the per-V densities (a mixture)
        bulks = [b for _, law, _ in last for b in law.support()]
        lo, hi = min(b[0] for b in bulks), max(b[1] for b in bulks)
        pad = 0.08 * (hi - lo)
        scale = float(np.median([sc for _, _, sc in last]))
        x = np.linspace(lo - pad, hi + pad, _GRID)
        x = x[np.abs(x) > 1e-12 * scale]
        density = np.mean([law.pdf(x) for _, law, _ in last], axis=0)
        kind = "diagonal" if which == "diag" else "off-diagonal"
        title = (f"hidden {kind} block, 1-hidden-layer {case.split('-')[1].upper()}\n"
                 f"γ = {gamma:g}, C = {C}, m = {m}, d = {2 * d0}")
        return SpectrumPanel(title, np.concatenate([ev for ev, _, _ in last]), x, density,
                             atom=float(np.mean(stats[2 * d0][2])), zero_tol=ZERO_FRACTION * scale,
                             density_label="mean of per-V GMP densities")
