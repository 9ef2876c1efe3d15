"""Case 1: linear model ``z = V x`` with the mean-squared-error loss (theory/cases.md, (CASE-3))."""

from __future__ import annotations

import numpy as np

from rmthess.cases._architectures import LinearArchitecture, covariance_moments
from rmthess.cases._base import BlockLimit, CaseLimits
from rmthess.cases._blocks import BLOCK_V
from rmthess.cases._registry import register

__all__ = ["LinearMSE"]


@register
class LinearMSE(LinearArchitecture):
    r"""Linear model, MSE loss: ``H_{v_i v_i} = (1/N) X Xᵀ``, ``H_{v_i v_j} ≡ 0``.

    Notes
    -----
    (CASE-3): ``g_ii = 1 + γ`` (the second moment of the Marchenko–Pastur law), ``g_ij = 0``, ratio
    0; independent of C and σ_v (labels never enter; ``H`` is its Gauss–Newton part). Monte Carlo
    weights: ``Λ_n = I`` (theory/montecarlo.md, MC-1).

    With a data covariance of spectrum law H (``covariance``, :mod:`rmthess.gmp.covariance`):
    ``g_ii = s_2 + γ s_1²``, ``s_k = E_H σᵏ`` (theory/anisotropic.md, ANI-2), ratio 0.

    Examples
    --------
    >>> from rmthess.cases import get_case
    >>> get_case("linear-mse").limits(0.5, 10).blocks["v"].g_ii
    1.5
    """

    name = "linear-mse"
    loss = "mse"

    def limits(self, gamma, classes, *, m=None, sigma_v=1.0, covariance=None, rng=None,
               samples=None, prior=None) -> CaseLimits:
        self._refuse_prior(prior)
        gamma, classes, m, sigma_v = self._check(gamma, classes, m, sigma_v)
        s1, s2 = covariance_moments(covariance)
        return CaseLimits(self.name, gamma, classes, m, sigma_v,
                          {BLOCK_V: BlockLimit(s2 + gamma * (s1 * s1), 0.0, 0.0)},
                          covariance=None if covariance is None else (s1, s2))

    def limits_mp(self, gamma, classes, *, m=None, sigma_v=1.0, covariance=None,
                  dps=30) -> CaseLimits:
        import mpmath

        gamma, classes, m, sigma_v = self._check_mp(gamma, classes, m, sigma_v, dps)
        s1, s2 = covariance_moments(covariance)
        with mpmath.workdps(dps):
            g = mpmath.mpf(s2) + mpmath.mpf(gamma) * mpmath.mpf(s1) ** 2
            z = mpmath.mpf(0)
        return CaseLimits(self.name, gamma, classes, m, sigma_v, {BLOCK_V: BlockLimit(g, z, z)},
                          covariance=None if covariance is None else (s1, s2))

    def block_law(self, block, which, gamma, classes, *, m=None, sigma_v=1.0, covariance=None,
                  **kwargs):
        """Marchenko–Pastur law (weights ≡ 1) for ``"diag"`` — with a ``covariance`` H the
        Marchenko–Pastur law with population spectrum H (separable law, ANI-4) — and the point
        mass at 0 for ``"offdiag"``."""
        from rmthess.gmp import GeneralizedMarchenkoPastur, SeparableMarchenkoPastur
        from rmthess.laws import PointMass

        gamma, classes, m, sigma_v = self._check_law(block, which, gamma, classes, m, sigma_v)
        covariance_moments(covariance)
        if covariance is not None and which == "diag":
            return SeparableMarchenkoPastur(PointMass(1.0), covariance, gamma)
        return GeneralizedMarchenkoPastur(PointMass(1.0 if which == "diag" else 0.0), gamma)

    def asymptote(self, gamma, classes, *, m=None, sigma_v=1.0, covariance=None) -> dict:
        self._check(gamma, classes, m, sigma_v)
        covariance_moments(covariance)
        return {BLOCK_V: 0.0}

    def weights(self, params, U):
        """``Λ_n = I``: structured weights ``α = 1``, no rank-one part."""
        from rmthess.montecarlo.blocknorms import StructuredWeights

        return {BLOCK_V: StructuredWeights(np.ones(U.shape), None)}

    def exact_moments(self, block, which, classes, sigma_v):
        return (1.0, 1.0) if which == "diag" else (0.0, 0.0)

    def exact_weight_rule(self, block, ij, params, r):
        """λ ≡ 1 (diagonal block) or 0 (off-diagonal): one node with ``E y yᵀ = I``."""
        lam = 1.0 if ij[0] == ij[1] else 0.0
        return np.array([lam]), np.array([1.0]), np.eye(r)[None]
