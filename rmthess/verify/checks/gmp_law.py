r"""Check ``gmp-law``: the generalized Marchenko–Pastur law against simulated eigenvalues.

For a few weight laws ν and aspect ratios γ (Marchenko–Pastur with and without an atom at 0, a
two-point law with a negative atom, a law with an atom of weights at 0) the check draws replicates
of ``B = (1/N) X Λ Xᵀ`` with :meth:`GeneralizedMarchenkoPastur.sample_eigenvalues` at two sizes d
and 2d and compares

* the first two spectral moments ``(1/d) tr B`` and ``(1/d) tr B²`` with their exact finite-size
  expectations ``Eλ`` and ``(Eλ)²(1 − 1/N) + Eλ²(d + 2)/N`` (rule ``z``), and the limits
  ``m_1, m_2`` of :meth:`~GeneralizedMarchenkoPastur.moment` (computed by the law from its free
  cumulants) with the d → ∞ limits ``Eλ`` and ``(Eλ)² + γEλ²`` of those expectations (rule ``tol``);
* the empirical distribution function at the quartiles of the continuous part with
  :meth:`~GeneralizedMarchenkoPastur.cdf`, Richardson-extrapolated from d and 2d (rule
  ``richardson``);
* the fraction of zero eigenvalues with :attr:`~GeneralizedMarchenkoPastur.atom_at_zero`.

theory/verification.md, (VER-5).
"""

from __future__ import annotations

import numpy as np

from rmthess.verify.base import Check, CheckOutput, register
from rmthess.verify.checks._stats import mean_se, quantile_points, quartile_levels
from rmthess.verify.rules import against_prediction, richardson, within_tolerance

__all__ = ["GMPLawCheck", "gmp_examples", "MOMENT_RTOL"]

#: the law's moments come from its free cumulants (GMP-6), exact to round-off (~1e-15 relative);
#: 1e-10 leaves room for the cancellation in m2 of a law with weights of both signs
MOMENT_RTOL = 1e-10


def gmp_examples():
    """The (label, weight law, γ) triples the check uses."""
    from rmthess.laws import DiscreteLaw, PointMass

    return [
        ("MP", PointMass(1.0), 0.5),
        ("MP with atom", PointMass(1.0), 2.0),
        ("two-point ±", DiscreteLaw([-1.0, 2.0], [0.4, 0.6]), 0.25),
        ("half zero weights", DiscreteLaw([0.0, 1.0], [0.5, 0.5]), 1.0),
    ]


def _spectral_stats(law, d, reps, seeds, levels_x, zero_tol):
    m1, m2, cdf, zero = [], [], [], []
    for k in range(reps):
        ev = np.asarray(law.sample_eigenvalues(d, rng=np.random.default_rng(seeds[k])), dtype=float)
        m1.append(ev.mean())
        m2.append(np.mean(ev**2))
        cdf.append([(ev <= x).mean() for x in levels_x])
        zero.append((np.abs(ev) <= zero_tol).mean())
    return np.array(m1), np.array(m2), np.array(cdf), np.array(zero)


@register
class GMPLawCheck(Check):
    name = "gmp-law"
    title = "Generalized Marchenko–Pastur law against simulated eigenvalues"
    description = __doc__.split("\n\n", 1)[1].rsplit("theory/", 1)[0]
    sizes = {
        "tiny": {"d": 40, "reps": 8},
        "quick": {"d": 120, "reps": 32},
        "full": {"d": 800, "reps": 100},
    }

    def run(self, ctx):
        from rmthess.gmp import GeneralizedMarchenkoPastur

        p = self.params(ctx.size)
        d0, reps = p["d"], p["reps"]
        out = CheckOutput()
        for j, (label, weights, gamma) in enumerate(gmp_examples()):
            law = GeneralizedMarchenkoPastur(weights, gamma)
            atom = float(law.atom_at_zero)
            levels = quartile_levels(atom)
            xs = quantile_points(law, levels)
            zero_tol = 1e-8 * max(abs(b) for bulk in law.support() for b in bulk)
            e1, e2 = float(weights.moment(1)), float(weights.moment(2))
            stats = {}
            for s, d in enumerate((d0, 2 * d0)):
                ctx.progress(f"{label}, γ={gamma:g}, d={d}, {reps} replicates")
                seeds = ctx.child(j, s).spawn(reps)
                stats[d] = _spectral_stats(law, d, reps, seeds, xs, zero_tol)
            base = {"law": label, "gamma": gamma}
            lim1, lim2 = float(law.moment(1)), float(law.moment(2))
            for d in (d0, 2 * d0):
                n = int(round(d / gamma))
                m1, m2 = stats[d][0], stats[d][1]
                x, se = mean_se(m1)
                out.rows.append(against_prediction("spectral moment m1",
                                                   {**base, "d": d, "reps": reps},
                                                   simulation=x, stderr=se, prediction=e1,
                                                   limit=lim1, dof=reps - 1))
                pred2 = e1**2 * (1.0 - 1.0 / n) + e2 * (d + 2.0) / n
                x, se = mean_se(m2)
                out.rows.append(against_prediction("spectral moment m2",
                                                   {**base, "d": d, "reps": reps},
                                                   simulation=x, stderr=se, prediction=pred2,
                                                   limit=lim2, dof=reps - 1))
            for name, value, ref in (("m1", lim1, e1), ("m2", lim2, e1**2 + gamma * e2)):
                out.rows.append(within_tolerance(
                    f"law moment {name} against the d → ∞ limit of its finite-size expectation",
                    base,
                    value=value, reference=ref, tol=MOMENT_RTOL, relative=True,
                    note="moment from the free cumulants (GMP-6) vs closed form"))
            small, large = stats[d0], stats[2 * d0]
            for i, (q, x) in enumerate(zip(levels, xs, strict=True)):
                a, sa = mean_se(small[2][:, i])
                b, sb = mean_se(large[2][:, i])
                out.rows.append(richardson(f"cdf F({x:.4g})", {**base, "d": f"{d0}→{2 * d0}",
                                                                "reps": reps},
                                           small=a, small_se=sa, large=b, large_se=sb,
                                           limit=float(q), dof=reps - 1,
                                           note="theory value is the cdf of the GMP law"))
            if atom > 0:
                a, sa = mean_se(small[3])
                b, sb = mean_se(large[3])
                out.rows.append(richardson("atom at 0",
                                           {**base, "d": f"{d0}→{2 * d0}", "reps": reps},
                                           small=a, small_se=sa, large=b, large_se=sb, limit=atom,
                                           dof=reps - 1,
                                           note="fraction of eigenvalues with |x| ≤ 1e-8·edge"))
        return out
