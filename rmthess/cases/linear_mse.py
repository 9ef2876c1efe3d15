"""Case 1: linear model ``z = V x`` with the mean-squared-error loss (theory/cases.md, (CASE-3))."""

from __future__ import annotations

import mpmath
import numpy as np

from rmthess.cases._architectures import LinearArchitecture
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

    Examples
    --------
    >>> from rmthess.cases import get_case
    >>> get_case("linear-mse").limits(0.5, 10).blocks["v"].g_ii
    1.5
    """

    name = "linear-mse"
    loss = "mse"

    def limits(self, gamma, classes, *, m=None, sigma_v=1.0, rng=None, samples=None) -> CaseLimits:
        gamma, classes, m, sigma_v = self._check(gamma, classes, m, sigma_v)
        return CaseLimits(self.name, gamma, classes, m, sigma_v,
                          {BLOCK_V: BlockLimit(1.0 + gamma, 0.0, 0.0)})

    def limits_mp(self, gamma, classes, *, m=None, sigma_v=1.0, dps=30) -> CaseLimits:
        gamma, classes, m, sigma_v = self._check_mp(gamma, classes, m, sigma_v, dps)
        with mpmath.workdps(dps):
            g = 1 + mpmath.mpf(gamma)
            z = mpmath.mpf(0)
        return CaseLimits(self.name, gamma, classes, m, sigma_v, {BLOCK_V: BlockLimit(g, z, z)})

    def block_law(self, block, which, gamma, classes, *, m=None, sigma_v=1.0, **kwargs):
        """Marchenko–Pastur law (weights ≡ 1) for ``"diag"``, the point mass at 0 for
        ``"offdiag"``."""
        from rmthess.gmp import GeneralizedMarchenkoPastur
        from rmthess.laws import PointMass

        gamma, classes, m, sigma_v = self._check_law(block, which, gamma, classes, m, sigma_v)
        return GeneralizedMarchenkoPastur(PointMass(1.0 if which == "diag" else 0.0), gamma)

    def asymptote(self, gamma, classes, *, m=None, sigma_v=1.0) -> dict:
        self._check(gamma, classes, m, sigma_v)
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
