r"""Moments of the GMP law from its free cumulants
:math:`\kappa_k = \gamma^{k-1}\mathbb{E}\lambda^k` (GMP-6).

The non-crossing moment–cumulant relation, written with the moment series
:math:`M(u) = \sum_{n\ge0} m_n u^n`, is :math:`m_n = \sum_{s=1}^n \kappa_s\,[u^{n-s}]\,M(u)^s`.
It is evaluated in exact rational arithmetic from the float values of :math:`\gamma` and
:math:`\mathbb{E}\lambda^k` (every float is a dyadic rational), so the result is the correctly
rounded value of the exact formula; beyond :data:`EXACT_ORDER_MAX` float64 is used.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

__all__ = ["free_cumulants", "moments_from_cumulants", "gmp_moments", "EXACT_ORDER_MAX",
           "MAX_ORDER"]

#: highest order evaluated in exact rational arithmetic (cost O(k³) big-rational operations)
EXACT_ORDER_MAX = 64
#: default cost guard on the number of moments (float recursion: ~k²/2 dot products)
MAX_ORDER = 2000


def free_cumulants(weight_moments, gamma):
    r"""Return :math:`[\kappa_1, \dots, \kappa_K]` with
    :math:`\kappa_k = \gamma^{k-1}\mathbb{E}\lambda^k`.

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


def _moments_from_cumulants_float(kappa) -> np.ndarray:
    """:func:`moments_from_cumulants` in float64, one dot product per (order, block count)."""
    K = len(kappa)
    m = np.zeros(K + 1)
    m[0] = 1.0
    C = np.zeros((K + 1, K + 1))
    C[0, 0] = 1.0
    for n in range(1, K + 1):
        total = 0.0
        for s in range(1, n + 1):
            r = n - s
            acc = float(np.dot(m[:r + 1], C[s - 1, r::-1]))
            C[s, r] = acc
            total += kappa[s - 1] * acc
        m[n] = total
    return m[1:]


def gmp_moments(law, gamma: float, kmax: int, *, exponent: int = 0,
                max_order: int = MAX_ORDER) -> np.ndarray:
    r"""``[m_1..m_kmax]`` of the GMP law of ``law`` and ``gamma`` (exact rational when possible).

    The recursion runs on the law of :math:`\lambda/2^e` (``e = exponent``, the rescaling of
    GMP-11), whose moments stay in the float64 range, and :math:`m_k = 2^{ek}\tilde m_k` is formed
    at the end, exactly. ``ValueError`` if ``kmax`` exceeds ``max_order`` (the float recursion costs
    ~kmax²/2 dot products) or if a moment overflows float64.
    """
    if kmax > max_order:
        raise ValueError(
            f"moments up to order {kmax} need ~{kmax * kmax // 2:.3g} vector operations "
            f"(~{kmax * kmax * 1e-6:.3g} s) and most overflow float64; the limit is "
            f"max_order = {max_order} (pass a larger max_order to allow it)")
    if kmax == 0:
        return np.zeros(0)
    scaled = law if exponent == 0 else law.scaled(math.ldexp(1.0, -exponent))
    wm = scaled.moments(kmax)
    try:
        if kmax <= EXACT_ORDER_MAX:
            kappa = free_cumulants([Fraction(float(v)) for v in wm], Fraction(float(gamma)))
            two_e = Fraction(2) ** exponent
            return np.array([float(v * two_e ** k)
                             for k, v in enumerate(moments_from_cumulants(kappa), start=1)])
        # kappa_k = gamma^{k-1} E lambda^k, formed as a product of ratios so that no power of
        # gamma overflows on its own
        kappa = [float(v) * math.pow(gamma, k - 1) if math.isfinite(math.pow(gamma, k - 1))
                 else float(v) * math.exp((k - 1) * math.log(gamma))
                 for k, v in enumerate(wm, start=1)]
        if not all(math.isfinite(v) for v in kappa):
            raise OverflowError
        m = _moments_from_cumulants_float(kappa)
        if not np.all(np.isfinite(m)):
            raise OverflowError
        return np.array([math.ldexp(float(v), exponent * k) for k, v in enumerate(m, start=1)])
    except OverflowError:
        raise ValueError(f"a moment of order <= {kmax} of this GMP law overflows float64 "
                         f"(|m_k| grows like the spectral radius to the power k); ask for "
                         f"fewer moments or rescale the weights") from None
