r"""Expectations of products of Gaussian-softmax power sums with polynomial weights
(theory/cases.md, (CASE-19)).

For ``x ~ N(0, I_C)``, ``X_c = e^{σ x_c}``, ``S = Σ X_c``, ``p = X/S``, a *power sum* is
``P(k, f) = Σ_c p_c^k f(x_c)`` with an integer ``k >= 1`` and a polynomial ``f``. The expectation of
a product ``Π_a P(k_a, f_a)`` is a sum over the set partitions π of the factors: the factors of one
block share a class, distinct blocks have distinct classes, so with ``q = |π|``, block powers
``k_B = Σ_{a∈B} k_a`` and weights ``f_B = Π_{a∈B} f_a``, ``K = Σ k_B``,

    E Π_a P(k_a, f_a) = Σ_π (C)_q E[Π_B X_B^{k_B} f_B(x_B) S^{−K}]
                      = Σ_π (C)_q Γ(K)^{−1} ∫_0^∞ t^{K−1} Π_B ψ_{k_B, f_B}(t) φ(t)^{C−q} dt,

``ψ_{k,f}(t) = E[e^{kσx} f(x) e^{−t e^{σx}}]``, ``φ = ψ_{0,1}`` (the representation of
theory/softmax_moments.md, (SM-4), with polynomial weights). Every block integral is positive when
its weights are, and keeping the weight of a block as one polynomial (``x² − 1`` rather than ``x²``
and ``−1``) avoids cancellation between partitions. C enters only through ``(C)_q`` and the
exponent.

Quadrature: the tilt ``ψ_{k,f}(t) = e^{k²σ²/2} E[f(y + kσ) exp(−t e^{kσ²} e^{σy})]`` keeps every
factor in logarithms (no overflow at large σ); the trapezoid rule in ``u = log t`` (step as in
(SM-6), range down to ``−k_max σ²`` where the last tilted factor switches off, tails checked) and in
y (step ``≤ 0.35/σ``: the integrand ``exp(−t e^{σy})`` is analytic in ``|Im y| < π/(2σ)``, so the
error is ``~ e^{−π²/(σh)}``); ``1 − φ`` is summed directly and ``φ^n = exp(n log1p(−(1 − φ)))``.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

__all__ = ["powersum_expectations"]

_DIGITS = 12.0
_SQRT2PI = math.sqrt(2.0 * math.pi)
#: cache bounds: set partitions of up to this many factors (Bell(8) = 4140 partitions for 8 power
#: sums, more than any expression uses) ...
_PARTITION_CACHE = 16
#: ... and the partition terms of this many distinct products of power sums (the mlp-ce γ-term and
#: its tests use 25)
_BLOCKS_CACHE = 256


@lru_cache(maxsize=_PARTITION_CACHE)
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


@lru_cache(maxsize=_BLOCKS_CACHE)
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
        times the product of power sums ``P(k_a, f_a) = Σ_c p_c^{k_a} f_a(x_c)``; ``f_a`` are
        polynomial coefficient tuples, lowest degree first. An empty product is the constant 1.
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
    tol = math.exp(-A)
    kmax = max([k for expr in terms for _, _, _, bl in expr for k, _ in bl] + [1])
    Ks = [K for expr in terms for _, _, K, _ in expr if K > 0]
    Kmax, Kmin = max(Ks + [1]), min(Ks + [1])
    s2 = sigma * sigma
    L = math.sqrt(2.0 * A) + 1.0
    hu = math.pi ** 2 / (A + 2.0 + 0.5 * Kmax)
    if s2 >= hu:        # σ² a multiple of the step: every tilted factor lies on one lattice
        hu = s2 / math.ceil(s2 / hu - 1e-12)
    uc = -math.log(C) - 0.5 * s2
    # the tilted factors ψ_k(e^u) switch off near u = −kσ², the last one at u ≈ −k_max σ²
    u_lo = min(uc, 0.0) - kmax * s2 - sigma * L - A / Kmin - 2.0
    u_hi = max(uc, 0.0) + sigma * L + 6.0
    n_u = int(math.ceil((u_hi - u_lo) / hu)) + 1
    u = u_lo + hu * np.arange(n_u)
    hy = min(0.25, 0.35 / sigma)
    # the tilt e^{k²σ²/2} lifts the far lower tail of y (where e^{σy} ≪ 1), and 1 − φ draws its
    # mass from y ≈ σ: the range is [−L − (k_max + 1)σ, L + σ]
    y = np.arange(-L - (kmax + 1) * sigma, L + sigma + hy, hy)
    gauss = hy * np.exp(-0.5 * y * y) / _SQRT2PI
    lattice = s2 >= hu
    step_k = int(round(s2 / hu)) if lattice else 0    # rows per unit of k
    rows = n_u + kmax * step_k
    E_all = np.exp(-np.exp(np.minimum((u_lo + hu * np.arange(rows))[:, None] + sigma * y[None, :],
                                      700.0)))
    ex0 = np.exp(np.minimum(u[:, None] + sigma * y[None, :], 700.0))
    omp = -np.expm1(-ex0) @ gauss                            # 1 − φ(e^u), summed directly
    with np.errstate(divide="ignore"):
        logphi = np.where(omp < 0.5, np.log1p(-np.minimum(omp, 0.5)), np.log(E_all[:n_u] @ gauss))
    shifted: dict = {}

    def matrix(k):
        """``exp(−e^{u + kσ² + σy})`` on the u-lattice (rows of one table when σ² is on it)."""
        if lattice:
            return E_all[k * step_k:k * step_k + n_u]
        if k not in shifted:
            arg = np.minimum(u[:, None] + k * s2 + sigma * y[None, :], 700.0)
            shifted[k] = np.exp(-np.exp(arg))
        return shifted[k]

    # every ψ_{k,f} needed, one matrix product per shift k
    needed: dict = {}
    for expr in terms:
        for _, _, _, blocks in expr:
            for k, f in blocks:
                needed.setdefault(k, set()).add(f)
    cache: dict = {}
    for k, fs in needed.items():
        fs = sorted(fs)
        W = np.stack([gauss * np.polynomial.polynomial.polyval(y + k * sigma, f) for f in fs], 1)
        vals = matrix(k) @ W
        with np.errstate(divide="ignore"):
            logs = 0.5 * k * k * s2 + np.log(np.abs(vals))
        for i, f in enumerate(fs):
            cache[(k, f)] = (logs[:, i], np.sign(vals[:, i]))

    def log_psi(k, f):
        """``(log|ψ_{k,f}(e^u)|, sign)``: ψ = e^{k²σ²/2} E[f(y + kσ) exp(−e^{u + kσ² + σy})]."""
        return cache[(k, f)]

    out = []
    for expr in terms:
        total, tails = 0.0, 0.0
        for c, q, K, blocks in expr:
            ff = _falling(C, q)
            if ff == 0.0:
                continue
            if K == 0:              # the empty product
                total += c
                continue
            logg = K * u + (C - q) * logphi - math.lgamma(K)
            sign = np.ones_like(u)
            for k, f in blocks:
                lp, sg = log_psi(k, f)
                logg = logg + lp
                sign = sign * sg
            g = sign * np.exp(logg)
            total += c * ff * hu * g.sum()
            tails += abs(c) * ff * (abs(g[0]) / K + abs(g[-1]))
        if not (math.isfinite(total) and tails <= tol * max(abs(total), 1e-300) * 1e3):
            raise ValueError(f"power-sum quadrature failed at C={C}, sigma={sigma:g} "
                             f"(value {total!r}, tails {tails:.2g})")
        out.append(total)
    return np.array(out)

