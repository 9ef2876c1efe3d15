r"""Check ``block-spectra``: limiting spectral laws of Hessian blocks against simulated eigenvalues.

For the linear model with CE loss the d×d blocks ``H_{v_i v_j} = (1/N) Σ λ_n x_n x_nᵀ`` have weights
``λ = p_i(1 − p_i)`` (diagonal) or ``−p_i p_j`` (off-diagonal) that depend on the data through the rank-C
projection ``V x``; their limiting spectral law is the GMP law of the weight law
(:meth:`rmthess.cases.Case.block_law`), because that dependence moves at most 2C eigenvalues. Eigenvalues
of true blocks come from :func:`rmthess.montecarlo.spectra.block_spectrum`. Rows: the empirical
distribution function at the quartiles of the continuous part, extrapolated from d and 2d (rule
``richardson``), and the fraction of zero eigenvalues against the atom (γ > 1).
theory/verification.md, (VER-8).
"""

from __future__ import annotations

import numpy as np

from rmthess.verify.base import Check, CheckOutput, register
from rmthess.verify.checks._stats import mean_se, quantile_points
from rmthess.verify.rules import richardson

__all__ = ["BlockSpectraCheck"]

#: bulks lighter than this are not drawn as separate edges: a continuous weight law is discretized for
#: the GMP solver, and the discretization splits the far tail into tiny bulks (mass ~1e-5 each)
EDGE_MIN_MASS = 1e-3

#: eigenvalues below this fraction of the largest one count as zero (the atom); round-off in eigvalsh
#: is ~1e-15 relative
ZERO_FRACTION = 1e-9


@register
class BlockSpectraCheck(Check):
    name = "block-spectra"
    title = "Block spectra against their generalized Marchenko–Pastur laws"
    description = __doc__.split("\n\n", 1)[1].rsplit("theory/", 1)[0]
    sizes = {
        "tiny": {"d": 40, "reps": 6,
                 "panels": (("linear-ce", "diag", 0.5, 5), ("linear-ce", "offdiag", 0.5, 5))},
        "quick": {"d": 120, "reps": 24,
                  "panels": (("linear-ce", "diag", 0.5, 10), ("linear-ce", "offdiag", 0.5, 10),
                             ("linear-ce", "diag", 2.0, 10))},
        "full": {"d": 600, "reps": 64,
                 "panels": (("linear-ce", "diag", 0.5, 10), ("linear-ce", "offdiag", 0.5, 10),
                            ("linear-ce", "diag", 2.0, 10), ("linear-ce", "offdiag", 2.0, 100))},
    }

    def run(self, ctx):
        from rmthess.cases import get_case
        from rmthess.montecarlo.spectra import block_spectrum
        from rmthess.plotting.spectra import SpectrumPanel

        p = self.params(ctx.size)
        d0, reps = p["d"], p["reps"]
        out = CheckOutput()
        panels = []
        for j, (case, which, gamma, C) in enumerate(p["panels"]):
            law = get_case(case).block_law("v", which, gamma, C)
            atom = float(law.atom_at_zero)
            levels = atom + (1.0 - atom) * np.array([0.25, 0.5, 0.75])
            xs = quantile_points(law, levels)
            bulks = law.support()
            scale = max(abs(e) for b in bulks for e in b)
            stats, pooled = {}, None
            for s, d in enumerate((d0, 2 * d0)):
                ctx.progress(f"{case} {which} block, γ={gamma:g}, C={C}, d={d}, {reps} replicates")
                seeds = ctx.child(j, s).spawn(reps)
                cdf, zero, eigs = [], [], []
                for seed in seeds:
                    ev = block_spectrum(case, d=d, gamma=gamma, classes=C, which=which, seed=seed)
                    cdf.append([(ev <= x).mean() for x in xs])
                    zero.append((np.abs(ev) <= ZERO_FRACTION * scale).mean())
                    eigs.append(ev)
                stats[d] = (np.asarray(cdf), np.asarray(zero))
                pooled = np.concatenate(eigs)
            base = {"case": case, "block": which, "gamma": gamma, "C": C, "d": f"{d0}→{2 * d0}",
                    "reps": reps}
            for i, (q, x) in enumerate(zip(levels, xs)):
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
            x = np.linspace(lo - pad, hi + pad, 800)
            x = x[np.abs(x) > 1e-12 * scale]
            title = (f"{'diagonal' if which == 'diag' else 'off-diagonal'} block, linear CE\n"
                     f"γ = {gamma:g}, C = {C}, d = {2 * d0}")
            masses = np.asarray(law.bulk_masses(), float)
            heavy = [b for b, w in zip(bulks, masses) if w >= EDGE_MIN_MASS] or list(bulks)
            if len(heavy) < len(bulks):
                out.notes.append(f"{case} {which}, γ = {gamma:g}, C = {C}: the GMP law of the "
                                 f"discretized weight law has {len(bulks) - len(heavy)} bulk(s) of mass "
                                 f"< {EDGE_MIN_MASS:g} in the tail (total "
                                 f"{masses[masses < EDGE_MIN_MASS].sum():.1e}), an artifact of the "
                                 f"discretization; their edges are not drawn.")
            panels.append(SpectrumPanel(title, pooled, x, law.pdf(x),
                                        edges=tuple(e for b in heavy for e in b), atom=atom,
                                        zero_tol=ZERO_FRACTION * scale))
        out.figures["figure2"] = panels
        return out
