r"""Expectations of products of Gaussian-softmax power sums with polynomial weights (theory/cases.md,
(CASE-19)).

For ``x ~ N(0, I_C)``, ``X_c = e^{σ x_c}``, ``S = Σ X_c``, ``p = X/S``, a *power sum* is
``P(k, f) = Σ_c p_c^k f(x_c)`` with an integer ``k >= 1`` and a polynomial ``f``. The expectation of
a product ``Π_a P(k_a, f_a)`` is a sum over the set partitions π of the factors: the factors of one
block share a class, distinct blocks have distinct classes, so with ``q = |π|``, block powers
``k_B = Σ_{a∈B} k_a`` and weights ``f_B = Π_{a∈B} f_a``, ``K = Σ k_B``,

    E Π_a P(k_a, f_a) = Σ_π (C)_q E[Π_B X_B^{k_B} f_B(x_B) S^{−K}]
                      = Σ_π (C)_q Γ(K)^{−1} ∫_0^∞ t^{K−1} Π_B ψ_{k_B, f_B}(t) φ(t)^{C−q} dt,

``ψ_{k,f}(t) = E[e^{kσx} f(x) e^{−t e^{σx}}]``, ``φ = ψ_{0,1}`` (the representation of
theory/softmax_moments.md, (SM-4), with polynomial weights). Every block integral is positive when its
weights are, and keeping the weight of a block as one polynomial (``x² − 1`` rather than ``x²`` and
``−1``) avoids cancellation between partitions. C enters only through ``(C)_q`` and the exponent.

Quadrature: the trapezoid rule in ``u = log t`` (step and range as in (SM-6)) and in x (step
``≤ 0.3/σ``: the integrand ``exp(−t e^{σx})`` is analytic in ``|Im x| < π/(2σ)``, so the error is
``~ e^{−π²/(σh)}``); ``1 − φ`` is summed directly and ``φ^n = exp(n log1p(−(1 − φ)))``.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

__all__ = ["powersum_expectations"]

_DIGITS = 14.0
_SQRT2PI = math.sqrt(2.0 * math.pi)


@lru_cache(maxsize=None)
def _set_partitions(n: int):
    """All set partitions of ``range(n)`` as tuples of tuples."""
    if n == 0:
        return ((),)
    out = []
    for part in _set_partitions(n - 1):
        for b in range(len(part)):
            out.append(part[:b] + (part[b] + (n - 1,),) + part[b + 1:])
        out.append(part + ((n - 1,),))
    return tuple(out)


def _falling(n: int, q: int) -> float:
    out = 1.0
    for i in range(q):
        out *= n - i
    return out


def _poly_mul(a, b):
    return tuple(np.polynomial.polynomial.polymul(a, b).tolist())


@lru_cache(maxsize=None)
def _blocks(factors):
    """``[(q, K, ((k_B, f_B), …))]`` over the set partitions of one product of power sums."""
    out = []
    for part in _set_partitions(len(factors)):
        blocks = []
        for B in part:
            k, f = 0, (1.0,)
            for a in B:
                k += factors[a][0]
                f = _poly_mul(f, factors[a][1])
            blocks.append((k, f))
        out.append((len(part), sum(k for k, _ in blocks), tuple(sorted(blocks))))
    return tuple(out)


def _expand(expr):
    """Merge the partition terms of an expression: ``[(coef, q, K, blocks)]``."""
    acc: dict = {}
    for coef, factors in expr:
        for key in _blocks(tuple((int(k), tuple(float(c) for c in f)) for k, f in factors)):
            acc[key] = acc.get(key, 0.0) + coef
    return [(c, *key) for key, c in acc.items() if c != 0.0]


def powersum_expectations(expressions, classes: int, sigma: float, digits: float = _DIGITS):
    r"""``E[expression]`` for each expression, at ``p = softmax(σ x)``, ``x ~ N(0, I_C)``.

    Parameters
    ----------
    expressions : sequence
        Each expression is a list of terms ``(coef, ((k_1, f_1), (k_2, f_2), …))``: the coefficient
        times the product of power sums ``P(k_a, f_a) = Σ_c p_c^{k_a} f_a(x_c)``; ``f_a`` are polynomial
        coefficient tuples, lowest degree first. An empty product is the constant 1.
    classes : int
        ``C >= 2``.
    sigma : float
        ``σ > 0``.
    digits : float
        Target relative accuracy of each integral, ``10^{−digits}``.

    Returns
    -------
    numpy.ndarray
        One value per expression (theory/cases.md, (CASE-19)).
    """
    C = int(classes)
    sigma = float(sigma)
    terms = [_expand(expr) for expr in expressions]
    if not sigma > 0.0:
        raise ValueError(f"sigma must be > 0, got {sigma!r}")
    A = math.log(10.0) * digits + 4.0
    kmax = max([k for expr in terms for _, _, _, bl in expr for k, _ in bl] + [1])
    Ks = [K for expr in terms for _, _, K, _ in expr if K > 0]
    Kmax, Kmin = max(Ks + [1]), min(Ks + [1])
    hu = math.pi ** 2 / (A + 2.0 + 0.5 * Kmax)
    uc = -math.log(C) - 0.5 * sigma * sigma
    u_lo = min(uc, 0.0) - A / Kmin - 2.0
    u_hi = max(uc, 0.0) + math.sqrt(2.0 * A) * sigma + 6.0
    u = np.arange(u_lo, u_hi + hu, hu)
    L = math.sqrt(2.0 * A) + 1.0
    hx = min(0.25, 0.3 / sigma)
    x = np.arange(-L - sigma, kmax * sigma + L + hx, hx)
    ex = np.exp(np.minimum(u[:, None] + sigma * x[None, :], 700.0))
    E = np.exp(-ex)
    Ec = -np.expm1(-ex)
    logg = math.log(hx / _SQRT2PI) - 0.5 * x * x
    gauss = np.exp(logg)
    omp = Ec @ gauss                                         # 1 − φ(e^u)
    with np.errstate(divide="ignore"):
        logphi = np.where(omp < 0.5, np.log1p(-np.minimum(omp, 0.5)), np.log(E @ gauss))
    cache: dict = {}

    def psi(k, f):
        key = (k, f)
        if key not in cache:
            w = np.exp(logg + k * sigma * x) * np.polynomial.polynomial.polyval(x, f)
            cache[key] = E @ w
        return cache[key]

    out = []
    for expr in terms:
        total = 0.0
        for c, q, K, blocks in expr:
            ff = _falling(C, q)
            if ff == 0.0:
                continue
            if K == 0:              # the empty product
                total += c
                continue
            g = np.exp(K * u + (C - q) * logphi - math.lgamma(K))
            for k, f in blocks:
                g = g * psi(k, f)
            total += c * ff * hu * g.sum()
        out.append(total)
    return np.array(out)

