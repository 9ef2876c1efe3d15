r"""Moments of the separable law :math:`\mu_W\boxtimes H` from the two moment sequences (SEP-6).

With :math:`u = 1/z`, :math:`M(u) = \sum_n m_n u^n` the moment series of the law,
:math:`E(u) = \sum_n \epsilon_n u^n` that of :math:`\lim\frac1d\operatorname{tr}\Sigma B^n`, the
free cumulants :math:`\kappa_k = \gamma^{k-1}\mathbb{E}\lambda^k` of the GMP law of the weights
(GMP-6) and the moments :math:`s_j = \mathbb{E}_H\sigma^j` of the covariance spectrum, the coupled
equations (SEP-1) expand at :math:`z=\infty` into

.. math::

    y(u) = \sum_{k\ge1}\kappa_k u^k E(u)^{k-1},\qquad
    E(u) = \sum_{j\ge0} s_{j+1}\,y(u)^j,\qquad M(u) = \sum_{j\ge0} s_j\,y(u)^j,

and :math:`[u^n]y` needs :math:`E` only up to order :math:`n-1`, so the three series are filled
order by order. This is the free multiplicative convolution of the GMP moment sequence with
:math:`(s_j)`; it needs no S-transform, so it holds for weights of mean zero too. The recursion
runs in whatever number type it is given (``Fraction`` for exact rational arithmetic from the
float inputs, sympy symbols for moment polynomials, float).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

__all__ = ["separable_moment_series", "separable_moments", "EXACT_ORDER_MAX"]

#: highest order evaluated in exact rational arithmetic (cost O(k³) big-rational operations)
EXACT_ORDER_MAX = 40


def separable_moment_series(kappa, cov_moments, kmax: int) -> list:
    r"""``[m_1..m_kmax]`` of :math:`\mu_W\boxtimes H` (SEP-6), in the number type of the inputs.

    Parameters
    ----------
    kappa : sequence
        Free cumulants :math:`[\kappa_1, \dots, \kappa_{k_{max}}]` of the GMP law of the weights.
    cov_moments : sequence
        :math:`[s_1, \dots, s_{k_{max}+1}]`, :math:`s_j = \mathbb{E}_H\sigma^j`.

    Examples
    --------
    With :math:`H = \delta_1` (:math:`s_j = 1`) the GMP moments (GMP-6) come back; with the GMP law
    of :math:`\nu=\delta_1` at :math:`\gamma = 1` (:math:`\kappa_k = 1`) and :math:`s_j = 2^j`
    (:math:`\Sigma = 2I`) the law is the Marchenko–Pastur law scaled by 2:

    >>> from rmthess.gmp.separable_moments import separable_moment_series
    >>> separable_moment_series([1, 1, 1], [2, 4, 8, 16], 3)
    [2, 8, 40]
    """
    if kmax == 0:
        return []
    zero = kappa[0] * 0
    one = zero + 1
    n = kmax + 1
    # Ep[k][r] = [u^r] E^k, Yp[j][r] = [u^r] y^j, filled column by column (order r)
    Ep = [[zero] * n for _ in range(n)]
    Yp = [[zero] * n for _ in range(n)]
    Ep[0][0] = one
    Yp[0][0] = one
    E = [zero] * n
    y = [zero] * n
    m = [zero] * n
    E[0] = cov_moments[0]
    for k in range(1, n):                    # [u^0] E^k = s_1^k
        Ep[k][0] = Ep[k - 1][0] * E[0]
    for r in range(1, n):
        # y_r = sum_{k=1}^{r} kappa_k [u^{r-k}] E^{k-1}
        y[r] = sum((kappa[k - 1] * Ep[k - 1][r - k] for k in range(1, r + 1)), zero)
        # [u^r] y^j for j = 1..r (y^j starts at order j)
        for j in range(1, r + 1):
            Yp[j][r] = sum((y[i] * Yp[j - 1][r - i] for i in range(1, r - j + 2)), zero)
        E[r] = sum((cov_moments[j] * Yp[j][r] for j in range(1, r + 1)), zero)
        m[r] = sum((cov_moments[j - 1] * Yp[j][r] for j in range(1, r + 1)), zero)
        for k in range(1, n):                # [u^r] E^k now that E_r is known
            Ep[k][r] = sum((E[i] * Ep[k - 1][r - i] for i in range(r + 1)), zero)
    return m[1:]


def separable_moments(weight_moments, gamma: float, cov_moments, kmax: int) -> np.ndarray:
    r"""``[m_1..m_kmax]`` as floats: exact rational arithmetic on the float inputs up to
    :data:`EXACT_ORDER_MAX` (the result is the correctly rounded value of (SEP-6)), float64 beyond.

    ``weight_moments`` is ``[E λ, ..., E λ^kmax]``, ``cov_moments`` is ``[s_1, ..., s_{kmax+1}]``.
    ``ValueError`` if a moment overflows float64.
    """
    if kmax == 0:
        return np.zeros(0)
    try:
        if kmax <= EXACT_ORDER_MAX:
            g = Fraction(float(gamma))
            kappa = [g ** (k - 1) * Fraction(float(v))
                     for k, v in enumerate(weight_moments[:kmax], start=1)]
            s = [Fraction(float(v)) for v in cov_moments[:kmax + 1]]
            return np.array([float(v) for v in separable_moment_series(kappa, s, kmax)])
        kappa = [float(v) * math.pow(gamma, k - 1)
                 for k, v in enumerate(weight_moments[:kmax], start=1)]
        out = np.array(separable_moment_series(kappa, [float(v) for v in cov_moments], kmax))
    except OverflowError:
        out = np.array([math.inf])
    if not np.all(np.isfinite(out)):
        raise ValueError(f"a moment of order <= {kmax} of this separable law overflows float64 "
                         f"(|m_k| grows like the spectral radius to the power k); ask for fewer "
                         f"moments or rescale the weights or the covariance")
    return out
