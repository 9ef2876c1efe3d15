r"""Moments of the GMP law from its free cumulants :math:`\kappa_k = \gamma^{k-1}\mathbb{E}\lambda^k` (GMP-6).

The non-crossing moment–cumulant relation, written with the moment series
:math:`M(u) = \sum_{n\ge0} m_n u^n`, is :math:`m_n = \sum_{s=1}^n \kappa_s\,[u^{n-s}]\,M(u)^s`.
It is evaluated in exact rational arithmetic from the float values of :math:`\gamma` and
:math:`\mathbb{E}\lambda^k` (every float is a dyadic rational), so the result is the correctly
rounded value of the exact formula; beyond :data:`EXACT_ORDER_MAX` float64 is used.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

__all__ = ["free_cumulants", "moments_from_cumulants", "gmp_moments", "EXACT_ORDER_MAX"]

#: highest order evaluated in exact rational arithmetic (cost O(k³) big-rational operations)
EXACT_ORDER_MAX = 64


def free_cumulants(weight_moments, gamma):
    r"""Return :math:`[\kappa_1, \dots, \kappa_K]` with :math:`\kappa_k = \gamma^{k-1}\mathbb{E}\lambda^k`.

    ``weight_moments`` is ``[E λ, ..., E λ^K]``; entries may be floats or ``Fraction``.
    """
    return [gamma ** (k - 1) * mk for k, mk in enumerate(weight_moments, start=1)]


def moments_from_cumulants(kappa) -> list:
    r"""Moments :math:`[m_1, \dots, m_K]` from free cumulants :math:`[\kappa_1, \dots, \kappa_K]`.

    Works in whatever number type ``kappa`` holds (float, ``Fraction``, sympy expressions).

    Examples
    --------
    >>> from rmthess.gmp.moments import moments_from_cumulants
    >>> moments_from_cumulants([0, 1, 0, 0, 0, 0])    # semicircle: Catalan numbers
    [0, 1, 0, 2, 0, 5]
    """
    K = len(kappa)
    if K == 0:
        return []
    zero = kappa[0] * 0
    one = zero + 1
    m = [one] + [zero] * K
    # C[s][r] = [u^r] M(u)^s, filled as soon as m_0..m_r are known
    C = [[zero] * (K + 1) for _ in range(K + 1)]
    C[0][0] = one
    for n in range(1, K + 1):
        total = zero
        for s in range(1, n + 1):
            r = n - s
            acc = zero
            for i in range(r + 1):
                acc = acc + m[i] * C[s - 1][r - i]
            C[s][r] = acc
            total = total + kappa[s - 1] * acc
        m[n] = total
    return m[1:]


def gmp_moments(law, gamma: float, kmax: int) -> np.ndarray:
    """``[m_1..m_kmax]`` of the GMP law of ``law`` and ``gamma`` (exact rational when possible)."""
    if kmax == 0:
        return np.zeros(0)
    wm = law.moments(kmax)
    if kmax <= EXACT_ORDER_MAX:
        kappa = free_cumulants([Fraction(float(v)) for v in wm], Fraction(float(gamma)))
        return np.array([float(v) for v in moments_from_cumulants(kappa)])
    kappa = free_cumulants([float(v) for v in wm], float(gamma))
    return np.array(moments_from_cumulants(kappa), dtype=float)
