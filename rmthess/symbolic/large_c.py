r"""Large-C expansion of the linear cross-entropy block norms and ratio, derived with sympy.

With ``Y_i = e^{σ z_i}/e^{σ²/2}`` (``E Y^j = q^{j(j−1)/2}``, ``q = e^{σ²}``) and
``S = Σ_j Y_j = C(1 + ε)``, every Gaussian-softmax moment ``E[Π Y_i^{k_i} S^{−K}]`` is expanded as
``C^{−K} Σ_n binom(−K, n) E[Π Y_i^{k_i} ε^n]``; ``E[… ε^n]`` splits into the q named classes and the
sum ``W`` of the other ``C − q`` centred terms, whose moments follow from its cumulants ``(C − q)
κ_j(Y)`` (theory/cases.md, (CASE-13)). Keeping ``n ≤ 2J`` gives every moment to relative order
``C^{−J}``. The series is asymptotic (not convergent): lognormal moments grow like ``q^{j²/2}``.
"""

from __future__ import annotations

import functools
import math

import sympy as sp

__all__ = [
    "GAMMA_SYM",
    "Q_SYM",
    "X_SYM",
    "softmax_moment_series",
    "linear_ce_norm_series",
    "linear_ce_ratio_series",
    "linear_ce_ratio_asymptotic",
]

#: bound of each cache of derived expressions: one entry per series order (or tuple of powers and
#: order) in use; the package and its tests use a handful of orders and four power tuples
_CACHE_SIZE = 32

GAMMA_SYM = sp.Symbol("gamma", positive=True)
#: ``q = e^{σ_v²}``
Q_SYM = sp.Symbol("q", positive=True)
#: ``x = 1/C``
X_SYM = sp.Symbol("x", positive=True)


def _ymoment(j: int):
    return Q_SYM ** sp.Rational(j * (j - 1), 2)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _centred_cumulants(rmax: int):
    """Cumulants κ_1..κ_rmax of ``Y − 1`` (κ_1 = 0) from the moments ``E Y^j``."""
    rmax = max(rmax, 1)
    t = sp.Symbol("t")
    mgf = sum(_ymoment(j) * t ** j / sp.factorial(j) for j in range(rmax + 1))
    logm = sp.series(sp.log(mgf), t, 0, rmax + 1).removeO()
    kap = [sp.expand(logm.coeff(t, j) * sp.factorial(j)) for j in range(rmax + 1)]
    kap[1] = sp.Integer(0)
    return tuple(kap)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _sum_moments(rmax: int):
    """``E W^r`` (r ≤ rmax) for W a sum of ``N`` iid copies of ``Y − 1``, as polynomials in N."""
    N = sp.Symbol("N")
    kap = _centred_cumulants(rmax)
    mom = [sp.Integer(1)]
    for r in range(1, rmax + 1):
        mom.append(sp.expand(sum(sp.binomial(r - 1, j - 1) * N * kap[j] * mom[r - j]
                                 for j in range(1, r + 1))))
    return N, tuple(mom)


def _expect_named(powers, extra):
    """``E[Π Y_i^{k_i} (Σ_i (Y_i − 1))^extra]`` for independent named classes."""
    ys = sp.symbols(f"y0:{len(powers)}")
    named = sp.Mul(*[y ** k for y, k in zip(ys, powers, strict=True)])
    poly = sp.Poly(named * sum(y - 1 for y in ys) ** extra, *ys)
    total = sp.Integer(0)
    for exps, coef in poly.terms():
        total += coef * sp.Mul(*[_ymoment(e) for e in exps])
    return sp.expand(total)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def softmax_moment_series(powers: tuple, order: int):
    r"""``E[p_1^{k_1} ⋯ p_q^{k_q}]`` as a polynomial in ``x = 1/C`` up to ``x^{K + order}``
    (CASE-13).

    Parameters
    ----------
    powers : tuple of int
        ``(k_1, …, k_q)``; ``K = Σ k_i``.
    order : int
        Relative order kept beyond the leading ``x^K``.

    Returns
    -------
    sympy.Expr
        Polynomial in :data:`X_SYM` with coefficients in :data:`Q_SYM` (``q = e^{σ_v²}``).

    Examples
    --------
    >>> from rmthess.symbolic.large_c import softmax_moment_series, X_SYM, Q_SYM
    >>> softmax_moment_series((2,), 0)     # E p_1² ≈ q/C²
    q*x**2
    """
    powers = tuple(int(k) for k in powers)
    q = len(powers)
    K = sum(powers)
    nmax = 2 * order
    N, mom = _sum_moments(nmax)
    x = X_SYM
    named = [_expect_named(powers, e) for e in range(nmax + 1)]
    total = sp.Integer(0)
    for n in range(nmax + 1):
        inner = sum(sp.binomial(n, r) * named[n - r] * mom[r] for r in range(n + 1))
        total += sp.binomial(-K, n) * x ** n * inner
    return _truncate(x ** K * total.subs(N, 1 / x - q), K, K + order)


def _truncate(expr, lo, hi):
    expr = sp.expand(expr)
    return sum(expr.coeff(X_SYM, j) * X_SYM ** j for j in range(lo, hi + 1))


@functools.lru_cache(maxsize=_CACHE_SIZE)
def linear_ce_norm_series(order: int = 2):
    r"""``(C² g_ii, C⁴ g_ij)`` as polynomials in ``x = 1/C`` to ``x^order`` (CASE-13).

    ``g_ii = (1/C − M_2)² + γ(M_2 − 2M_3 + M_4)``, ``g_ij = (1/C − M_2)²/(C − 1)² + γ Q``.

    Examples
    --------
    >>> from rmthess.symbolic.large_c import linear_ce_norm_series
    >>> gii, gij = linear_ce_norm_series(0)
    >>> gii, gij
    (gamma*q + 1, gamma*q**2 + 1)
    """
    x, g = X_SYM, GAMMA_SYM
    M2 = softmax_moment_series((2,), order)
    M3 = softmax_moment_series((3,), order)
    M4 = softmax_moment_series((4,), order)
    Q = softmax_moment_series((2, 2), order)
    ea = x - M2
    gii = _truncate(ea ** 2 + g * (M2 - 2 * M3 + M4), 2, 2 + order)
    inv_cm1 = sum(x ** (j + 1) for j in range(order + 2))  # 1/(C − 1) = x/(1 − x)
    gij = _truncate((ea * inv_cm1) ** 2 + g * Q, 4, 4 + order)
    return (sp.expand(gii / x ** 2), sp.expand(gij / x ** 4))


@functools.lru_cache(maxsize=_CACHE_SIZE)
def linear_ce_ratio_series(order: int = 2):
    r"""Coefficients ``(r_0, …, r_order)`` of ``C² g_ij/g_ii = Σ r_j C^{−j}`` (CASE-14).

    Returns
    -------
    tuple of sympy.Expr
        Rational functions of :data:`GAMMA_SYM` and :data:`Q_SYM` (``q = e^{σ_v²}``).

    Notes
    -----
    ``r_0 = (1 + γq²)/(1 + γq)`` reproduces arXiv:2505.02809, theorem 1 at σ_v = 1 (q = e).

    Examples
    --------
    >>> from rmthess.symbolic.large_c import linear_ce_ratio_series
    >>> linear_ce_ratio_series(0)[0]
    (gamma*q**2 + 1)/(gamma*q + 1)
    """
    gii, gij = linear_ce_norm_series(order)
    A = [gii.coeff(X_SYM, j) for j in range(order + 1)]
    B = [gij.coeff(X_SYM, j) for j in range(order + 1)]
    r = []
    for j in range(order + 1):  # power-series division B/A
        r.append(sp.cancel((B[j] - sum(A[i] * r[j - i] for i in range(1, j + 1))) / A[0]))
    return tuple(sp.factor(c) for c in r)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _numeric(order: int):
    return tuple(sp.lambdify((GAMMA_SYM, Q_SYM), r, "math") for r in linear_ce_ratio_series(order))


def linear_ce_ratio_asymptotic(gamma, classes, sigma_v=1.0, order: int = 2) -> float:
    r"""``Σ_{j ≤ order} r_j(γ, σ_v) C^{−j}``, the truncated large-C series of ``C² g_ij/g_ii``.

    Examples
    --------
    >>> from rmthess.symbolic.large_c import linear_ce_ratio_asymptotic
    >>> import math
    >>> r0 = linear_ce_ratio_asymptotic(1.0, 10**9, order=0)
    >>> abs(r0 - (1 + math.e**2) / (1 + math.e)) < 1e-15
    True
    """
    q = math.exp(sigma_v * sigma_v)
    return sum(f(gamma, q) / classes ** j for j, f in enumerate(_numeric(order)))
