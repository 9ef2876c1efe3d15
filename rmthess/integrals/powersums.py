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

Quadrature (σ-adaptive; theory/cases.md, (CASE-19)): every table is kept as ``(log|ψ|, sign)``
with the tilt ``ψ_{k,f}(e^u) = e^{k²σ²/2} ∫ ϕ(y) f(y + kσ) exp(−e^{u + kσ² + σy}) dy``; each row is
summed on the lattice ``j·h_y`` only inside the window around the Laplace point of its integrand
(explicit bounds, :func:`_cut_window`, :func:`_rise_window`), with ``h_y ∝ 1/σ`` from the strip of
analyticity; the u-range is of order σ, the u-step grows like ``σ/√(2 log C)`` and is confirmed by
step doubling (on the combinations of the expressions the caller needs), the ends by tail bounds;
``1 − φ`` is summed directly and ``φ^n = exp(n log1p(−(1 − φ)))``. The work is ``O(σ)`` table
entries per call where fixed grids need ``O(σ⁴)``; :func:`powersum_work` counts it before any table
is computed.
"""

from __future__ import annotations

import math
from functools import lru_cache
from statistics import NormalDist

import numpy as np

__all__ = ["powersum_expectations", "powersum_work"]

_DIGITS = 12.0
#: extra e-folds of the y-windows beyond the target (polynomial weights, the factor 2 of the 1 − φ
#: bound)
_WINDOW_MARGIN = 8.0
#: grids tried (each failing check extends the u-range or halves the u-step) before giving up
_MAX_GRIDS = 6
#: an end of the u-range passes when its tail mass is below this many times 10^{−digits} of the sum
_TAIL_SLACK = 1e3
_NEWTON_STEPS = 12
#: u-step per unit of σ/√(2 log C) at large σ, in units of the step of (SM-6)
_U_STEP_SIGMA = 0.5
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


def _log_lambert_exp(b):
    """``w = log W(e^b)``, i.e. the root of ``e^w + w = b`` (Newton from above: the function is
    convex and increasing, so the iterates decrease monotonically to the root)."""
    b = np.asarray(b, dtype=float)
    w = np.where(b > 1.0, np.log(np.maximum(b, 1.0)), b)
    for _ in range(_NEWTON_STEPS):
        ew = np.exp(w)
        w = w - (ew + w - b) / (ew + 1.0)
    return w


def _cut_window(a, sigma, A1):
    r"""Window of ``ℓ(y) = −y²/2 − e^{a + σy}`` (concave): ``(y_lo, y_hi, ℓ*)`` with ``ℓ ≤ ℓ* − A1``
    outside ``[y_lo, y_hi]`` (theory/cases.md, (CASE-19), windows).

    The maximum is at ``y* = −v/σ``, ``v = W(σ² e^a)``, where ``e := e^{a + σy*} = v/σ²`` and
    ``σe = |y*|``. With ``d = |y − y*|``: left of the maximum
    ``ℓ − ℓ* ≤ min(−d²/2, −d|y*| − d²/2 + e)``; right of it
    ``ℓ − ℓ* ≤ −d²/2 − e(e^{σd} − 1 − σd)``, which is ``≤ −A1`` at ``σd = log(1 + A1/e) + 1``.
    """
    w = _log_lambert_exp(a + 2.0 * math.log(sigma))
    log_e = w - 2.0 * math.log(sigma)
    e = np.exp(log_e)
    ys = -np.exp(w) / sigma
    d = math.sqrt(2.0 * A1)
    left = np.minimum(d, np.sqrt(ys * ys + 2.0 * (A1 + e)) + ys)
    right = np.minimum(d, (np.logaddexp(math.log(A1), log_e) - log_e + 1.0) / sigma)
    return ys - left, ys + right, -0.5 * ys * ys - e


def _rise_window(u, sigma, A1):
    r"""Window of ``1 − φ``: its integrand ``ϕ(y)(1 − exp(−e^{u + σy}))`` lies between ``B/2`` and
    ``B``, ``log B = −y²/2 + min(0, σ(y − y_c))``, ``y_c = −u/σ`` (concave, two Gaussian pieces);
    ``(y_lo, y_hi, max log B)`` with ``log B ≤ max − A1`` outside."""
    yc = -u / sigma
    yb = np.clip(yc, 0.0, sigma)
    top = -0.5 * yb * yb + np.minimum(0.0, sigma * (yb - yc))
    T = top - A1
    right = np.sqrt(-2.0 * T)                               # crossing on the piece y >= y_c
    left = np.sqrt(np.maximum(sigma * sigma - 2.0 * sigma * yc - 2.0 * T, 0.0))
    lo = np.where(-right >= yc, -right, sigma - left)
    hi = np.where(right >= yc, right, sigma + left)
    return lo, hi, top


def _lattice(lo, hi, hy):
    """Lattice points ``j·hy`` covering ``[lo_i, hi_i]`` for every row, and the mask of points
    to sum: one shared row of points (mask None) when the union of the windows is at most twice
    the widest one (small σ: the windows hardly move with u), else one row per window."""
    jlo = np.floor(lo / hy).astype(np.int64)
    jhi = np.ceil(hi / hy).astype(np.int64)
    span = jhi - jlo
    if jhi.max() - jlo.min() <= 2 * span.max() + 8:
        return (jlo.min() + np.arange(int(jhi.max() - jlo.min()) + 1)) * hy, None
    cols = np.arange(int(span.max()) + 1)
    return (jlo[:, None] + cols[None, :]) * hy, cols[None, :] <= span[:, None]


def _log_rise(z):
    """``log(1 − exp(−e^z))`` without underflow (``z − e^z/2`` to 1e-27 below z = −30)."""
    z = np.minimum(z, 700.0)
    small = z < -30.0
    with np.errstate(divide="ignore"):
        big = np.log(-np.expm1(-np.exp(np.where(small, 0.0, z))))
    return np.where(small, z - 0.5 * np.exp(np.minimum(z, -30.0)), big)


def _y_step(sigma, A, k, degree):
    """y-step of the tables of shift k: the integrand is analytic in ``|Im y| < π/(2σ)``
    (``e^{−π²/(σh)}``), and weights of degree d that vanish at the peak of a window of width
    ``~1/(kσ)`` lose up to ``(1 + kσ)^d`` of relative accuracy."""
    return min(0.25, math.pi ** 2 / (sigma * (A + 4.0 + degree * math.log1p(k * sigma))))


def _plan(C, sigma, A, kmax, Kmax, Kmin):
    """``(u_lo, u_hi, h_u, h_u0)``: the first u-grid of (CASE-19) and the step of (SM-6)."""
    s2 = sigma * sigma
    t0 = max(1.0, math.sqrt(2.0 * math.log(C)))
    L = math.sqrt(2.0 * A) + 1.0
    hu0 = math.pi ** 2 / (A + 2.0 + 0.5 * Kmax)
    # φ(t)^C turns off at u ≈ −log C − σ²/2 (small σ) or −σ√(2 log C) (large σ)
    uc = -math.log(C) - min(0.5 * s2, sigma * t0)
    # below u_c the integrand falls at least like e^{−(u − u_c)²/(2σ²)} (all blocks cut off), or
    # like e^{Ku} once they are all saturated (u < −k_max σ²); the tail check extends the range
    reach = min(kmax * s2 + sigma * L, sigma * math.sqrt(2.0 * A))
    u_lo = min(uc, 0.0) - reach - A / Kmin - 2.0
    u_hi = max(uc, 0.0) + sigma * L + 6.0
    # for σ ≫ 1 the integrand varies on the scale σ/t0 (the cut-off of φ^C); the step doubling
    # check on the combinations asked for confirms the larger step, or it is halved
    return u_lo, u_hi, hu0 * max(1.0, _U_STEP_SIGMA * sigma / t0), hu0


def _window_sum(a, sigma, hy, A1, weights=((1.0,),), shift=0.0):
    """``(ℓ*, Σ)`` per row: ``∫ ϕ(y) f(y + shift) exp(−e^{a + σy}) dy = e^{ℓ*} Σ`` for each weight
    polynomial f, on the lattice ``j·hy`` covering the window of :func:`_cut_window` (points
    beyond it add their share, which is below ``e^{−A1}``; ``ℓ ≤ ℓ*`` everywhere)."""
    lo, hi, top = _cut_window(a, sigma, A1)
    Y, inside = _lattice(lo, hi, hy)
    Yr = Y[None, :] if inside is None else Y
    base = np.exp(-0.5 * Yr * Yr - np.exp(np.minimum(a[:, None] + sigma * Yr, 700.0))
                  - top[:, None]) * (hy / _SQRT2PI)
    if inside is None:              # one shared row: the weights once, one matrix product
        F = np.stack([np.polynomial.polynomial.polyval(Y + shift, f) for f in weights], 1)
        return top, list((base @ F).T)
    base = np.where(inside, base, 0.0)
    return top, [(base * np.polynomial.polynomial.polyval(Y + shift, f)).sum(1) for f in weights]


def _log_phi(u, sigma, A):
    """``log φ(e^u)``: from ``1 − φ`` (summed directly) where it is below ½ — certainly not
    for ``u ≥ σ``, where ``1 − φ ≥ P(x ≥ −1)(1 − e^{−1}) > ½`` — and from φ elsewhere."""
    A1 = A + _WINDOW_MARGIN
    hy = _y_step(sigma, A, 0, 0)
    logphi = np.empty_like(u)
    rise = u < sigma
    omp = np.ones_like(u)
    if rise.any():
        lo, hi, top = _rise_window(u[rise], sigma, A1)
        Y, inside = _lattice(lo, hi, hy)
        Yr = Y[None, :] if inside is None else Y
        vals = np.exp(-0.5 * Yr * Yr + _log_rise(u[rise][:, None] + sigma * Yr) - top[:, None])
        if inside is not None:
            vals = np.where(inside, vals, 0.0)
        omp[rise] = np.exp(top) * vals.sum(1) * (hy / _SQRT2PI)
    small = omp < 0.5
    logphi[small] = np.log1p(-omp[small])
    if not small.all():
        top, (vals,) = _window_sum(u[~small], sigma, hy, A1)
        with np.errstate(divide="ignore"):
            logphi[~small] = top + np.log(vals)
    return logphi


def _k_tables(u, sigma, needed, A):
    """``{(k, f): (log|ψ_{k,f}|, sign)}`` on the u-grid."""
    s2 = sigma * sigma
    out = {}
    for k, fs in needed.items():
        fs = sorted(fs)
        hy = _y_step(sigma, A, k, max(len(f) - 1 for f in fs))
        top, sums = _window_sum(u + k * s2, sigma, hy, A + _WINDOW_MARGIN, fs, k * sigma)
        for f, vals in zip(fs, sums, strict=True):
            with np.errstate(divide="ignore"):
                out[(k, f)] = (0.5 * k * k * s2 + top + np.log(np.abs(vals)), np.sign(vals))
    return out


def _extent(expressions):
    """``(terms, k_max, K_max, K_min, q_max)`` of a list of expressions: the expanded partition
    terms, the largest block power, the largest and smallest total power, the most blocks."""
    terms = [_expand(expr) for expr in expressions]
    Ks = [K for expr in terms for _, _, K, _ in expr if K > 0]
    return (terms, max([k for expr in terms for _, _, _, bl in expr for k, _ in bl] + [1]),
            max(Ks + [1]), min(Ks + [1]), max([q for expr in terms for _, q, _, _ in expr] + [0]))


def powersum_work(classes: int, sigma: float, kmax: int = 4, Kmax: int = 4, Kmin: int = 1,
                  degree: int = 4, qmax: int = 4, digits: float = _DIGITS) -> float:
    """Number of table entries the first grid of :func:`powersum_expectations` evaluates (a cost
    estimate made before any table is computed: the windows only).

    The u-grid is cut where ``(C − q_max)(1 − φ) ≥ A′`` certainly holds:
    ``1 − φ(e^u) ≥ (1 − e^{−1}) P(u + σx ≥ 0) = (1 − e^{−1}) Φ̄(−u/σ)``.
    """
    A = math.log(10.0) * digits + 4.0
    A1 = A + _WINDOW_MARGIN
    C = int(classes)
    u_lo, u_hi, hu, _ = _plan(C, float(sigma), A, kmax, Kmax, Kmin)
    if C > qmax and A1 / ((1.0 - math.exp(-1.0)) * (C - qmax)) < 0.5:
        w = NormalDist().inv_cdf(1.0 - A1 / ((1.0 - math.exp(-1.0)) * (C - qmax)))
        u_hi = max(u_lo + hu, min(u_hi, -sigma * w + 2.0 * hu))
    u = u_lo + hu * np.arange(int(math.ceil((u_hi - u_lo) / hu)) + 1)
    lo, hi, _ = _rise_window(u, sigma, A1)
    work = u.size * (math.ceil(float((hi - lo).max()) / _y_step(sigma, A, 0, 0)) + 2)
    for k in range(kmax + 1):
        lo, hi, _ = _cut_window(u + k * sigma * sigma, sigma, A1)
        hy = _y_step(sigma, A, k, degree if k else 0)
        work += u.size * (math.ceil(float((hi - lo).max()) / hy) + 2)
    return float(work)


def powersum_expectations(expressions, classes: int, sigma: float, digits: float = _DIGITS,
                          combinations=None):
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
    combinations : array_like, optional
        Rows of non-negative weights: the accuracy checks (tails, step doubling) apply to these
        linear combinations of the expressions instead of to each expression (the identity).

    Returns
    -------
    numpy.ndarray
        One value per expression (theory/cases.md, (CASE-19)). ``ValueError`` if the grid cannot be
        made to meet its checks (tails, step halving).
    """
    C = int(classes)
    sigma = float(sigma)
    if not sigma > 0.0:
        raise ValueError(f"sigma must be > 0, got {sigma!r}")
    terms, kmax, Kmax, Kmin, qmax = _extent(expressions)
    W = np.eye(len(terms)) if combinations is None else np.atleast_2d(
        np.asarray(combinations, dtype=float))
    if W.shape[1] != len(terms) or np.any(W < 0) or not np.all(np.isfinite(W)):
        raise ValueError(f"combinations must be non-negative finite rows of {len(terms)} weights")
    A = math.log(10.0) * digits + 4.0
    tol = math.exp(-A)
    u_lo, u_hi, hu, hu0 = _plan(C, sigma, A, kmax, Kmax, Kmin)
    needed: dict = {}
    for expr in terms:
        for _, _, _, blocks in expr:
            for k, f in blocks:
                needed.setdefault(k, set()).add(f)
    for _ in range(_MAX_GRIDS):
        n_u = int(math.ceil((u_hi - u_lo) / hu)) + 1
        u = u_lo + hu * np.arange(n_u)
        logphi = _log_phi(u, sigma, A)
        if C > qmax:            # every term carries φ^{C − q} ≤ φ^{C − q_max}: drop where it is off
            off = np.nonzero((C - qmax) * logphi < -(A + _WINDOW_MARGIN))[0]
            if off.size and off[0] + 2 < n_u:
                u, logphi = u[:off[0] + 2], logphi[:off[0] + 2]
        psi = _k_tables(u, sigma, needed, A)
        total, half, left, right, size = _sum_terms(terms, C, u, hu, logphi, psi)
        scale = np.maximum(np.abs(W @ total), 1e-300)
        low = np.any(W @ left > _TAIL_SLACK * tol * scale)
        high = np.any(W @ right > _TAIL_SLACK * tol * scale)
        coarse = hu > hu0 and np.any(np.abs(W @ half) > math.sqrt(tol) * scale)
        if not (low or high or coarse):
            # each partition term is good to ~10^{−digits} of its size: refuse a result that
            # cancellation between them leaves with fewer than half the digits
            cond = float(np.max(W @ size / scale))
            if cond > 10.0 ** (0.5 * digits):
                raise ValueError(
                    f"power sums at C={C}, sigma={sigma:g}: the partition terms cancel to "
                    f"1/{cond:.2g} of their size, leaving fewer than {0.5 * digits:g} digits; "
                    f"ask for the non-negative combinations that are needed (combinations=)")
            return total
        if coarse:
            hu = max(hu0, 0.5 * hu)
        width = u_hi - u_lo
        u_lo -= 0.5 * width if low else 0.0
        u_hi += 0.5 * width if high else 0.0
    raise ValueError(f"power-sum quadrature failed at C={C}, sigma={sigma:g} (the integrand does "
                     f"not decay within the grid, or halving its step changes it)")


def _sum_terms(terms, C, u, hu, logphi, psi):
    """Trapezoid sums of every expression, their changes when the step is doubled, and the tail
    masses beyond both ends of the u-range (upper bounds for log-concave decay)."""
    total, half, left, right, size = (np.zeros(len(terms)) for _ in range(5))
    for i, expr in enumerate(terms):
        for c, q, K, blocks in expr:
            ff = _falling(C, q)
            if ff == 0.0:
                continue
            if K == 0:              # the empty product
                total[i] += c
                continue
            logg = K * u - math.lgamma(K) + ((C - q) * logphi if C > q else 0.0)
            sign = np.ones_like(u)
            for k, f in blocks:
                lp, sg = psi[(k, f)]
                logg = logg + lp
                sign = sign * sg
            g = sign * np.exp(logg)
            total[i] += c * ff * hu * g.sum()
            size[i] += abs(c) * ff * hu * np.abs(g).sum()
            half[i] += c * ff * hu * (g.sum() - 2.0 * g[::2].sum())
            left[i] += abs(c) * ff * _tail(np.abs(g[:2]), hu)
            right[i] += abs(c) * ff * _tail(np.abs(g[:-3:-1]), hu)
    if not np.all(np.isfinite(total)):
        raise ValueError(f"power-sum quadrature failed at C={C} (values {total!r})")
    return total, half, left, right, size


def _tail(g, hu):
    """Mass beyond the last point ``g[0]`` of a decaying end (``g[1]`` the next one inwards):
    ``g[0]/slope`` for log-concave decay, infinite if it does not decay."""
    if g[0] == 0.0:
        return 0.0
    if not g[1] > g[0]:
        return math.inf
    return float(g[0] * hu / math.log(g[1] / g[0]))
