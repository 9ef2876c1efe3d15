r"""Moment polynomials of the separable law :math:`\mathrm{GMP}(\nu,\gamma)\boxtimes H` (SEP-6).

:func:`separable_moment_polynomials` runs the recursion of (SEP-6) on sympy symbols: the result
:math:`m_k` is a polynomial in :math:`\gamma`, :math:`\ell_j = \mathbb{E}\lambda^j` and
:math:`s_j = \mathbb{E}_H\sigma^j`.
"""

from __future__ import annotations

import sympy as sp

from rmthess.gmp.separable_moments import separable_moment_series
from rmthess.symbolic.gmp import weight_moment_symbols

__all__ = ["separable_moment_polynomials", "covariance_moment_symbols"]


def covariance_moment_symbols(kmax: int):
    r"""Symbols :math:`s_1, \dots, s_{k_{max}}` for the moments :math:`\mathbb{E}_H\sigma^j`."""
    return sp.symbols(f"s1:{kmax + 1}", positive=True)


def separable_moment_polynomials(kmax: int, gamma=None, ell=None, s=None) -> list:
    r"""Return :math:`[m_1, \dots, m_{k_{max}}]` of the separable law as expanded polynomials.

    ``ell`` are the weight moments :math:`\ell_1..\ell_{k_{max}}`, ``s`` the covariance moments
    :math:`s_1..s_{k_{max}+1}` (symbols by default).

    Examples
    --------
    >>> from rmthess.symbolic.separable import separable_moment_polynomials
    >>> separable_moment_polynomials(2)
    [l1*s1, gamma*l2*s1**2 + l1**2*s2]
    """
    if not isinstance(kmax, int) or isinstance(kmax, bool) or kmax < 0:
        raise ValueError(f"kmax must be a non-negative integer, got {kmax!r}")
    gamma = sp.Symbol("gamma", positive=True) if gamma is None else gamma
    ell = weight_moment_symbols(kmax) if ell is None else ell
    s = covariance_moment_symbols(kmax + 1) if s is None else s
    kappa = [gamma ** (k - 1) * ell[k - 1] for k in range(1, kmax + 1)]
    if kmax == 0:
        return []
    return [sp.expand(v) for v in separable_moment_series(kappa, list(s), kmax)]
