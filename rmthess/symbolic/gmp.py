r"""Symbolic (sympy) derivations for the GMP law: moment polynomials and the Stieltjes polynomial.

* :func:`gmp_moment_polynomials` expands the functional equation (GMP-1) at :math:`z=\infty`
  with :math:`s = -\sum_k m_k z^{-k-1}` and solves for :math:`m_k` order by order, as polynomials
  in :math:`\gamma` and :math:`\ell_j = \mathbb{E}\lambda^j`.
* :func:`stieltjes_polynomial` clears denominators in (GMP-1) for an atomic law (GMP-3).
"""

from __future__ import annotations

import sympy as sp

__all__ = ["gmp_moment_polynomials", "stieltjes_polynomial", "weight_moment_symbols"]


def weight_moment_symbols(kmax: int):
    r"""Symbols :math:`\ell_1, \dots, \ell_{k_{max}}` for the weight moments
    :math:`\mathbb{E}\lambda^j`."""
    return sp.symbols(f"l1:{kmax + 1}", real=True)


def gmp_moment_polynomials(kmax: int, gamma=None, ell=None) -> list:
    r"""Return :math:`[m_1, \dots, m_{k_{max}}]` as polynomials in :math:`\gamma` and
    :math:`\ell_j`.

    Derived from the series of (GMP-1) at :math:`z=\infty` (GMP-6): with unknown
    :math:`m_k` in :math:`s = -\sum_k m_k u^{k+1}`, the coefficient of :math:`u^k` of
    :math:`s(-z+\mathbb{E}[\lambda/(1+\gamma\lambda s)]) - 1` is linear in :math:`m_k` and is
    solved order by order.

    Examples
    --------
    >>> import sympy as sp
    >>> from rmthess.symbolic.gmp import gmp_moment_polynomials, weight_moment_symbols
    >>> g = sp.Symbol("gamma", positive=True)
    >>> l1, l2 = weight_moment_symbols(2)
    >>> [sp.expand(m) for m in gmp_moment_polynomials(2, g, (l1, l2))]
    [l1, gamma*l2 + l1**2]
    """
    if not isinstance(kmax, int) or kmax < 0:
        raise ValueError(f"kmax must be a non-negative integer, got {kmax!r}")
    gamma = sp.Symbol("gamma", positive=True) if gamma is None else gamma
    ell = weight_moment_symbols(kmax) if ell is None else ell
    # s(u) = sum_i c_i u^i with u = 1/z and c_0 = 0, c_1 = -1, c_{k+1} = -m_k; truncated series
    # arithmetic on coefficient lists of length kmax + 2
    n = kmax + 2
    c = [sp.Integer(0), sp.Integer(-1)] + [sp.Integer(0)] * (n - 2)

    def mul(a, b):
        out = [sp.Integer(0)] * n
        for i, ai in enumerate(a):
            if ai == 0:
                continue
            for j in range(n - i):
                if b[j] != 0:
                    out[i + j] += ai * b[j]
        return [sp.expand(v) for v in out]

    for k in range(1, kmax + 1):
        # coefficient of u^k in s (-z + E[lambda/(1 + gamma lambda s)]) - 1, where
        # s (-z) = -sum_i c_i u^(i-1) and
        # E[lambda/(1+gamma lambda s)] = sum_j (-gamma)^j l_{j+1} s^j
        unknown = sp.Symbol("c_next")
        cc = c[:]
        cc[k + 1] = unknown
        power = cc[:]                         # s^(j+1), starting at j = 0
        coeff = -cc[k + 1]
        for j in range(0, k):
            coeff += (-gamma) ** j * ell[j] * power[k]
            power = mul(power, cc)
        c[k + 1] = sp.expand(sp.solve(sp.expand(coeff), unknown)[0])
    return [sp.expand(-c[k + 1]) for k in range(1, kmax + 1)]


def stieltjes_polynomial(atoms, probs, gamma, s=None, z=None) -> sp.Poly:
    r"""Polynomial :math:`P(s; z)` whose roots in :math:`s` solve (GMP-1) for an atomic law (GMP-3).

    .. math::

        P = (zs+1)\prod_k(1+\gamma\lambda_k s)
            - s\sum_k p_k\lambda_k\prod_{j\ne k}(1+\gamma\lambda_j s),

    over all atoms (an atom at 0 contributes the factor 1 and the term 0). Floats are converted
    exactly with ``sympy.Rational``; pass sympy numbers or symbols to keep them.

    Examples
    --------
    >>> import sympy as sp
    >>> from rmthess.symbolic.gmp import stieltjes_polynomial
    >>> g, s, z = sp.symbols("gamma s z")
    >>> stieltjes_polynomial([1], [1], g, s, z).as_expr().expand()     # Marchenko–Pastur
    gamma*s**2*z + gamma*s + s*z - s + 1
    """
    s = sp.Symbol("s") if s is None else s
    z = sp.Symbol("z") if z is None else z
    if len(atoms) == 0 or len(atoms) != len(probs):
        raise ValueError("atoms and probs must be non-empty and of the same length")
    lam = [_exact(a) for a in atoms]
    p = [_exact(q) for q in probs]
    gamma = _exact(gamma)
    factors = [1 + gamma * lk * s for lk in lam]
    prod = sp.Mul(*factors)
    acc = sum(p[k] * lam[k] * sp.Mul(*(factors[:k] + factors[k + 1:])) for k in range(len(lam)))
    return sp.Poly(sp.expand((z * s + 1) * prod - s * acc), s)


def _exact(v):
    if isinstance(v, float):
        return sp.Rational(v)
    return sp.sympify(v)
