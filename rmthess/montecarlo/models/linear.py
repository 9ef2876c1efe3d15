r"""Cases 1 and 2: the linear model ``z_n = V x_n`` with MSE or CE loss.

Blocks are indexed by the rows ``v_i`` of ``V ∈ R^{C×d}``, ``V_ci = σ_v ε_ci/√d`` with ``ε`` of the
model's entry law (Gaussian by default: ``V_ci ~ N(0, σ_v²/d)``); every block is
``H_{v_i v_j} = (1/N) Σ_n λ_n^{ij} x_n x_nᵀ`` with ``Λ_n = I`` (MSE) or ``Λ_n = diag(p_n) − p_n p_nᵀ``
(CE, ``p_n = softmax(V x_n)``): structured weights with ``α = β = p`` (theory/montecarlo.md, MC-1).
"""

from __future__ import annotations

import numpy as np

from rmthess.montecarlo import _kernels
from rmthess.montecarlo.blocknorms import StructuredWeights
from rmthess.montecarlo.models._base import Model, Params

__all__ = ["LinearMSE", "LinearCE"]


class _Linear(Model):
    block_types = ("v",)
    hidden = False

    def rank(self, classes, m):
        return int(classes)

    def first_sigma(self, sigma_v):
        return float(sigma_v)

    def draw(self, rng, d, classes, m, sigma_v):
        V = self.v_law.sample(rng, (classes, d)) * (sigma_v / np.sqrt(d))
        return Params(first=V)

    def exchangeable(self, block):
        return True


class LinearMSE(_Linear):
    """Case 1: ``H_{v_i v_i} = (1/N) X Xᵀ``, off-diagonal blocks vanish."""

    name = "linear-mse"
    loss = "mse"

    def weights(self, params, U):
        return {"v": StructuredWeights(np.ones(U.shape), None)}

    def exact_moments(self, block, which, classes, sigma_v):
        return (1.0, 1.0) if which == "diag" else (0.0, 0.0)


class LinearCE(_Linear):
    """Case 2: ``Λ_n = diag(p_n) − p_n p_nᵀ``, ``p_n = softmax(V x_n)``."""

    name = "linear-ce"
    loss = "ce"

    def weights(self, params, U):
        p = _kernels.softmax_rows(np.ascontiguousarray(U, dtype=float))
        return {"v": StructuredWeights(p, p)}

    def exact_moments(self, block, which, classes, sigma_v):
        """Exact ``(E a, E a²)`` / ``(E b, E b²)`` from :func:`rmthess.integrals.softmax_moments`."""
        try:
            from rmthess.integrals import softmax_moments
        except ImportError:
            return None
        mom = softmax_moments(classes, sigma_v)
        if which == "diag":
            return float(mom.mean_a), float(mom.mean_a2)
        return float(mom.mean_b), float(mom.mean_b2)
