r"""The extreme eigenvalue of a finite-d matrix at a soft edge of its GMP law (Tracy–Widom).

For ``B = (1/N) X Λ Xᵀ`` (d×d, real Gaussian X, β = 1) whose law has a square-root edge ``E`` with
density ``ρ(x) ≈ (c/π)√|E − x|`` (:meth:`GeneralizedMarchenkoPastur.soft_edge
<rmthess.gmp.GeneralizedMarchenkoPastur.soft_edge>`, GMP-12), the largest eigenvalue satisfies
``λ_max = E + (c d)^{-2/3} TW₁ + O(1/d)`` and the smallest, at a left edge,
``λ_min = E − (c d)^{-2/3} TW₁ + O(1/d)`` (GMP-13), with TW₁ the β = 1 Tracy–Widom law.

Examples
--------
>>> from rmthess.gmp import GeneralizedMarchenkoPastur
>>> from rmthess.gmp.tracy_widom import edge_fluctuation_scale, extreme_eigenvalue_mean
>>> from rmthess.laws import PointMass
>>> mp = GeneralizedMarchenkoPastur(PointMass(1.0), 0.5)
>>> round(edge_fluctuation_scale(mp, 100), 6)    # Johnstone's σ/N: (1 + √γ)^{4/3} γ^{1/2} d^{-2/3}
0.066963
>>> round(extreme_eigenvalue_mean(mp, 100), 5)
2.83342
"""

from __future__ import annotations

import math

from rmthess._validate import DIM

__all__ = ["TW1_MEAN", "TW1_SD", "edge_fluctuation_scale", "extreme_eigenvalue_mean"]

#: mean and standard deviation of the β = 1 Tracy–Widom law (F. Bornemann, Math. Comp. 79 (2010),
#: table 3: mean −1.2065335745820, variance 1.6077810345)
TW1_MEAN = -1.2065335745820
TW1_SD = math.sqrt(1.6077810345)


def edge_fluctuation_scale(law, d: int, side: str = "right") -> float:
    """``(c d)^{-2/3}``: the scale of the fluctuation of the extreme eigenvalue of a d×d matrix at
    the law's ``side`` edge (GMP-13)."""
    d = DIM.validate(d)
    _, c = law.soft_edge(side)
    return (c * d) ** (-2.0 / 3.0)


def extreme_eigenvalue_mean(law, d: int, side: str = "right") -> float:
    """``E ± (c d)^{-2/3} E[TW₁]``: the mean of the largest (``"right"``) or smallest (``"left"``)
    eigenvalue of a d×d matrix to ``O(1/d)`` (GMP-13)."""
    d = DIM.validate(d)
    edge, c = law.soft_edge(side)
    shift = (c * d) ** (-2.0 / 3.0) * TW1_MEAN
    return edge + shift if side == "right" else edge - shift
