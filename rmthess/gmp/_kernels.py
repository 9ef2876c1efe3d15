"""Compiled kernels of the GMP solver (numba) and their plain-numpy twins.

All kernels work with the reciprocal variable t = 1/s of theory/gmp.md (GMP-3):
    z(t) = -t + mean - sum_k w_k / (t - tau_k),   Herglotz branch  <=>  Im t < 0,
evaluated in the best of the three equal forms of (GMP-3a) (arrays tau, a = p·lambda, p, w and the
scalars E lambda, 1/gamma and c0 = P(lambda != 0)/gamma - 1).
They receive arrays only and own no state; ``tests/gmp/test_kernels.py`` checks each against its
twin. The same iterations run in numpy for small problems (:mod:`rmthess.gmp._vectorized`, which
holds the tolerances of both; ``tests/gmp/test_vectorized.py`` compares the two).
"""

from __future__ import annotations

import math

import numpy as np

from rmthess._jit import jit
from rmthess.gmp._vectorized import (
    BOUND_WINDOW,
    IM_RTOL,
    MAX_BRACKET,
    MAX_NEWTON,
    RESIDUAL_RTOL,
    SKIP_MARGIN,
    STEP_RTOL,
)

__all__ = [
    "edge_roots", "edge_roots_numpy", "edge_values",
    "bulk_continuation", "bulk_newton_numpy",
    "newton_homotopy", "newton_homotopy_numpy",
]

_EPS = 2.220446049250313e-16


# ------------------------------------------------------------------------------------------------
# edges: roots of h(t) = sum_k w_k/(t - tau_k)^2 = 1, i.e. critical points z'(t) = 0 (GMP-7)
# ------------------------------------------------------------------------------------------------
@jit
def _h(t, tau, w):
    acc = 0.0
    dacc = 0.0
    for k in range(tau.size):
        r = 1.0 / (t - tau[k])
        r2 = r * r
        acc += w[k] * r2
        dacc -= 2.0 * w[k] * r2 * r
    return acc, dacc


@jit
def _hprime(t, tau, w):
    acc = 0.0
    dacc = 0.0
    for k in range(tau.size):
        r = 1.0 / (t - tau[k])
        r2 = r * r
        acc -= 2.0 * w[k] * r2 * r
        dacc += 6.0 * w[k] * r2 * r2
    return acc, dacc


@jit
def _solve_monotone(lo, hi, increasing, which, tau, w):
    """Root of g = h - 1 (which=0) or g = h' (which=1) on the bracket (lo, hi); g monotone there."""
    t = 0.5 * (lo + hi)
    for _ in range(MAX_BRACKET):
        if which == 0:
            g, dg = _h(t, tau, w)
            g -= 1.0
        else:
            g, dg = _hprime(t, tau, w)
        if g == 0.0:
            return t
        if (g > 0.0) == increasing:
            hi = t
        else:
            lo = t
        width = hi - lo
        if width <= 4.0 * _EPS * max(abs(lo), abs(hi)) or width == 0.0:
            return 0.5 * (lo + hi)
        tn = t - g / dg if dg != 0.0 else 0.5 * (lo + hi)
        if not (lo < tn < hi) or not math.isfinite(tn):
            tn = 0.5 * (lo + hi)
        elif abs(tn - t) <= 2.0 * _EPS * abs(t):
            return tn
        t = tn
    return t


@jit
def _interval_lower_bound(i, tau, w):
    """Lower bound of h on (tau[i], tau[i+1]) from the poles within :data:`BOUND_WINDOW` (GMP-7).

    The two poles bounding the interval give min_t [w_i/(t - tau_i)^2 + w_{i+1}/(tau_{i+1} - t)^2]
    = (w_i^{1/3} + w_{i+1}^{1/3})^3 / g^2 (g the gap; the minimum is at
    t - tau_i = g / (1 + (w_{i+1}/w_i)^{1/3})); every other pole j adds at least its term at the
    far end of the interval. All terms of h are positive, so the bound holds. O(window) per call.
    """
    K = tau.size
    a = tau[i]
    b = tau[i + 1]
    g = b - a
    c = w[i] ** (1.0 / 3.0) + w[i + 1] ** (1.0 / 3.0)
    lb = c * c * c / (g * g)
    for j in range(max(0, i - BOUND_WINDOW), i):
        r = b - tau[j]
        lb += w[j] / (r * r)
    for j in range(i + 2, min(K, i + 2 + BOUND_WINDOW)):
        r = tau[j] - a
        lb += w[j] / (r * r)
    return lb


@jit
def edge_roots(tau, w):
    """All real roots of h(t) = 1, sorted; tau sorted ascending, w > 0."""
    K = tau.size
    out = np.empty(2 * K, dtype=np.float64)
    n = 0
    if K == 0:
        return out[:0]
    W = 0.0
    for k in range(K):
        W += w[k]
    sq = math.sqrt(W)
    # leftmost interval: h increases from 0 to inf
    out[n] = _solve_monotone(tau[0] - 1.0001 * sq - 1e-300, tau[0], True, 0, tau, w)
    n += 1
    for i in range(K - 1):
        a = tau[i]
        b = tau[i + 1]
        if _interval_lower_bound(i, tau, w) > 1.0 + SKIP_MARGIN:
            continue                                 # h > 1 on (a, b): no root there
        tm = _solve_monotone(a, b, True, 1, tau, w)  # h' increases through 0 (h convex)
        hm, _ = _h(tm, tau, w)
        if hm < 1.0:
            out[n] = _solve_monotone(a, tm, False, 0, tau, w)
            out[n + 1] = _solve_monotone(tm, b, True, 0, tau, w)
            n += 2
    out[n] = _solve_monotone(tau[K - 1], tau[K - 1] + 1.0001 * sq + 1e-300, False, 0, tau, w)
    n += 1
    return out[:n]


@jit
def edge_values(roots, tau, a, p, w, mean, ginv, c0):
    """z and z'' at the real critical points ``roots`` (GMP-7), z by the forms of (GMP-3a)."""
    n = roots.size
    zr = np.empty(n, dtype=np.float64)
    d2 = np.empty(n, dtype=np.float64)
    for i in range(n):
        t = roots[i]
        f, _, _ = _zfun(complex(t), 0.0, tau, a, p, w, mean, ginv, c0)
        zr[i] = f.real
        acc = 0.0
        for k in range(tau.size):
            r = 1.0 / (t - tau[k])
            acc += w[k] * r * r * r
        d2[i] = -2.0 * acc
    return zr, d2


def edge_roots_numpy(tau, w, iterations: int = 200):
    """Twin of :func:`edge_roots`: vectorised pure bisection over all brackets at once."""
    tau = np.asarray(tau, float)
    w = np.asarray(w, float)
    if tau.size == 0:
        return np.zeros(0)

    def h(t):
        return np.sum(w / (t[:, None] - tau) ** 2, axis=1)

    def hp(t):
        return -2.0 * np.sum(w / (t[:, None] - tau) ** 3, axis=1)

    def bisect(lo, hi, g, increasing):
        lo, hi = lo.copy(), hi.copy()
        for _ in range(iterations):
            mid = 0.5 * (lo + hi)
            up = (g(mid) > 0) == increasing
            hi = np.where(up, mid, hi)
            lo = np.where(up, lo, mid)
        return 0.5 * (lo + hi)

    sq = np.sqrt(w.sum())
    roots = [bisect(np.array([tau[0] - 1.0001 * sq]), tau[:1], lambda t: h(t) - 1, True),
             bisect(tau[-1:], np.array([tau[-1] + 1.0001 * sq]), lambda t: h(t) - 1, False)]
    if tau.size > 1:
        a, b = tau[:-1], tau[1:]
        tm = bisect(a, b, hp, True)
        open_ = h(tm) < 1
        a, b, tm = a[open_], b[open_], tm[open_]
        roots += [bisect(a, tm, lambda t: h(t) - 1, False), bisect(tm, b, lambda t: h(t) - 1, True)]
    return np.sort(np.concatenate(roots))


# ------------------------------------------------------------------------------------------------
# Newton on z(t) = x
# ------------------------------------------------------------------------------------------------
@jit
def _zfun(t, x, tau, a, p, w, mean, ginv, c0):
    """Residual z(t) - x, its derivative, and a bound on the rounding of the residual.

    z(t) is evaluated in whichever of its three equal forms has the smallest rounding bound
    (GMP-3a): the sum ``-t + mean - sum_k w_k/(t - tau_k)`` (exact for |t| >> |tau| when the mean
    is small), the factored form ``t (-1 + sum_k a_k/(t - tau_k))`` (a_k = p_k lambda_k; no
    cancellation against a large mean) and the form around the atom
    ``t (c0 - (t/gamma) sum_k p_k/(t - tau_k))`` (c0 = P(lambda != 0)/gamma - 1, exact at t = 0
    where z(0) = 0). ``ginv`` is 1/gamma.
    """
    tr = t.real
    ti = t.imag
    ti2 = ti * ti
    ar = 0.0
    ai = 0.0
    sa = 0.0
    br = 0.0
    bi = 0.0
    sb = 0.0
    qr = 0.0
    qi = 0.0
    sq = 0.0
    dr = -1.0
    di = 0.0
    for k in range(tau.size):
        u = tr - tau[k]
        den = u * u + ti2
        rr = u / den            # 1/(t - tau) = (u - i ti)/den
        ri = -ti / den
        m = abs(rr) + abs(ri)
        ar += a[k] * rr
        ai += a[k] * ri
        sa += abs(a[k]) * m
        br += p[k] * rr
        bi += p[k] * ri
        sb += p[k] * m
        qr += w[k] * rr
        qi += w[k] * ri
        sq += w[k] * m
        dr += w[k] * (rr * rr - ri * ri)
        di += w[k] * 2.0 * rr * ri
    at = abs(t)
    size_f = at * (1.0 + sa)
    size_z = at * (abs(c0) + at * ginv * sb)
    size_o = at + abs(mean) + sq
    if size_o <= size_f and size_o <= size_z:
        z = -t + mean - complex(qr, qi)
        size = size_o
    elif size_z < size_f:
        z = t * (c0 - t * ginv * complex(br, bi))
        size = size_z
    else:
        z = t * (complex(ar, ai) - 1.0)
        size = size_f
    return z - x, complex(dr, di), size + abs(x)


@jit
def _zfun_local(t, x, te, ze, c1, tau, w, wu):
    """Residual z(t) - x written around an edge te (z(te) = ze, c1 = h(te) - 1), GMP-8:

        z(t) - x = (ze - x) + d c1 - d^2 sum_k w_k / ((t - tau_k)(te - tau_k)^2),   d = t - te,

    an exact identity that avoids the cancellation of the direct sum near the edge;
    ``wu[k] = w[k] / (te - tau[k])**2``.
    """
    tr = t.real
    ti = t.imag
    ti2 = ti * ti
    sr = 0.0
    si = 0.0
    sabs = 0.0
    dr = -1.0
    di = 0.0
    for k in range(tau.size):
        a = tr - tau[k]
        den = a * a + ti2
        ra = a / den            # 1/(t - tau) = (a - i ti)/den
        rb = -ti / den
        sr += wu[k] * ra
        si += wu[k] * rb
        sabs += wu[k] * math.sqrt(ra * ra + rb * rb)
        dr += w[k] * (ra * ra - rb * rb)
        di += w[k] * 2.0 * ra * rb
    d = t - te
    d2 = d * d
    f = (ze - x) + d * c1 - d2 * complex(sr, si)
    size = abs(ze - x) + abs(d * c1) + abs(d2) * sabs + _EPS * (abs(x) + abs(ze))
    return f, complex(dr, di), size


@jit
def _residual(t, x, tau, a, p, w, mean, ginv, c0, te, ze, c1, wu, local):
    """:func:`_zfun_local` around the edge ``te`` if ``local``, else :func:`_zfun`."""
    if local:
        return _zfun_local(t, x, te, ze, c1, tau, w, wu)
    return _zfun(t, x, tau, a, p, w, mean, ginv, c0)


@jit
def _accept(t, df, strict):
    """Herglotz test of a converged root.

    On the real axis inside a bulk (``strict``) the root must be genuinely non-real: real roots show
    up with |Im t| at rounding level, while the bulk root has |Im t| >= sqrt(eps)·scale even one ulp
    from an edge. Off the axis, Im t < 0; a root with |Im t| at rounding level (z next to the axis
    outside the support) must also have Re z'(t) < 0, which is the sign that makes Im t < 0 for
    Im z > 0, whereas the other near-real roots have z'(t) > 0.
    """
    if strict:
        return t.imag < -IM_RTOL * abs(t)
    if t.imag >= 0.0:
        return False
    return t.imag < -IM_RTOL * abs(t) or df.real < 0.0


@jit
def _newton(t, x, tau, a, p, w, mean, ginv, c0, te, ze, c1, wu, local, strict):
    """Newton from t; returns (t, ok), ok = converged, Herglotz (:func:`_accept`), small residual.

    Stops when the step is below ``STEP_RTOL |t|``, or when the residual is at rounding level
    (``4 eps`` times the size of the terms) and the steps stopped shrinking: near an edge the root
    is ill-conditioned and Newton stagnates there.
    """
    prev = np.inf
    for _ in range(MAX_NEWTON):
        f, df, size = _residual(t, x, tau, a, p, w, mean, ginv, c0, te, ze, c1, wu, local)
        if df == 0.0:
            return t, False
        step = f / df
        astep = abs(step)
        if astep <= STEP_RTOL * abs(t):
            t = t - step
            return t, _accept(t, df, strict)
        if abs(f) <= 4.0 * _EPS * size and astep >= 0.25 * prev:
            return t, _accept(t, df, strict)     # stagnated at rounding level (ill-conditioned)
        prev = astep
        t = t - step
        if not (math.isfinite(t.real) and math.isfinite(t.imag)):
            return t, False
    f, df, size = _residual(t, x, tau, a, p, w, mean, ginv, c0, te, ze, c1, wu, local)
    return t, _accept(t, df, strict) and abs(f) <= RESIDUAL_RTOL * size


@jit
def _h_minus_1(t, tau, p, w, ginv, c0):
    """h(t) - 1 for real t, in whichever of two equal forms has the smaller rounding bound:
    ``sum_k w_k/(t - tau_k)^2 - 1`` or, around t = 0 where h(0) - 1 = c0 exactly (GMP-3a),
    ``c0 + (t/gamma) sum_k p_k (2 tau_k - t)/(t - tau_k)^2``."""
    hd = 0.0
    sz = 0.0
    bz = 0.0
    for k in range(tau.size):
        r = 1.0 / (t - tau[k])
        r2 = r * r
        hd += w[k] * r2
        q = p[k] * (2.0 * tau[k] - t) * r2
        sz += q
        bz += abs(q)
    if abs(c0) + abs(t) * ginv * bz < hd:
        return c0 + t * ginv * sz
    return hd - 1.0


@jit
def _edge_guess(x, xe, te, d2, tau, w):
    """Square-root expansion at an edge: z(te + d) ~ xe + d2 d²/2, branch Im t < 0; where
    d2 = 0 (two bulks touching at x = 0, GMP-7) the cubic z(te + d) ~ xe + d3 d³/6, d3 > 0."""
    if d2 == 0.0:
        d3 = 0.0
        for k in range(tau.size):
            r = 1.0 / (te - tau[k])
            d3 += 6.0 * w[k] * r * r * r * r
        c = (6.0 * abs(x - xe) / d3) ** (1.0 / 3.0)
        if x > xe:
            return te + c * complex(-0.5, -0.8660254037844386)
        return te + c * complex(0.5, -0.8660254037844386)
    q = 2.0 * (x - xe) / d2
    if q < 0.0:
        return te - 1j * math.sqrt(-q)
    return te + math.sqrt(q) - 1e-300j


@jit
def bulk_continuation(xs, tl, xl, d2l, tr, xr, d2r, tau, a, p, w, mean, ginv, c0):
    """Herglotz root t(x) for sorted xs strictly inside one bulk [xl, xr] (GMP-8).

    Guesses: the Euler predictor from the previous point, else the better of the square-root
    expansions at both edges; Newton polishes it on the residual written around the nearer edge
    (:func:`_zfun_local`). On failure the step from the
    previous point is cut into 2, 8, 32, 128, 512 substeps. ok[j] is False where nothing converged.
    """
    n = xs.size
    ts = np.empty(n, dtype=np.complex128)
    ok = np.zeros(n, dtype=np.bool_)
    c1l = _h_minus_1(tl, tau, p, w, ginv, c0)
    c1r = _h_minus_1(tr, tau, p, w, ginv, c0)
    wul = w / (tl - tau) ** 2
    wur = w / (tr - tau) ** 2
    have_prev = False
    t_prev = 0.0j
    x_prev = 0.0
    for j in range(n):
        x = xs[j]
        good = False
        if x - xl <= xr - x:
            te, ze, c1, wu = tl, xl, c1l, wul
        else:
            te, ze, c1, wu = tr, xr, c1r, wur
        if have_prev:
            _, dfp, _ = _zfun(t_prev, x_prev, tau, a, p, w, mean, ginv, c0)
            g = t_prev + (x - x_prev) / dfp
            if g.imag < 0.0:
                t, good = _newton(g, x, tau, a, p, w, mean, ginv, c0, te, ze, c1, wu, True, True)
        if not good:
            best = _edge_guess(x, xl, tl, d2l, tau, w)
            fb, _, _ = _zfun(best, x, tau, a, p, w, mean, ginv, c0)
            g = _edge_guess(x, xr, tr, d2r, tau, w)
            fg, _, _ = _zfun(g, x, tau, a, p, w, mean, ginv, c0)
            if abs(fg) < abs(fb):
                best, fb = g, fg
            t, good = _newton(best, x, tau, a, p, w, mean, ginv, c0, te, ze, c1, wu, True, True)
        if not good and have_prev:
            m = 2
            while m <= 1024 and not good:
                tt = t_prev
                good = True
                for i in range(1, m + 1):
                    xi = x_prev + (x - x_prev) * i / m
                    _, dfi, _ = _zfun(tt, xi, tau, a, p, w, mean, ginv, c0)
                    guess = tt + (x - x_prev) / m / dfi
                    tt, good = _newton(guess, xi, tau, a, p, w, mean, ginv, c0, te, ze, c1, wu,
                                       True, True)
                    if not good:
                        break
                t = tt
                m *= 4
        ts[j] = t
        ok[j] = good
        if good:
            have_prev = True
            t_prev = t
            x_prev = x
    return ts, ok


def bulk_newton_numpy(xs, tl, xl, d2l, tr, xr, d2r, tau, w, mean, iterations: int = 80):
    """Twin of :func:`bulk_continuation`: vectorised Newton from the nearer edge expansion only."""
    xs = np.asarray(xs, float)
    ql = 2.0 * (xs - xl) / d2l
    qr = 2.0 * (xs - xr) / d2r
    gl = tl - 1j * np.sqrt(np.abs(ql))
    gr = tr - 1j * np.sqrt(np.abs(qr))
    t = np.where(xs - xl < xr - xs, gl, gr)
    for _ in range(iterations):
        d = t[:, None] - tau
        f = -t + mean - xs - np.sum(w / d, axis=1)
        df = -1.0 + np.sum(w / d**2, axis=1)
        t = t - f / df
    return t


@jit
def newton_homotopy(z, t0, tau, a, p, w, mean, ginv, c0, height):
    """Herglotz root t(z) for complex z (Im z > 0), one per entry (GMP-9).

    First Newton from t0; if that fails the point is reached along the vertical path
    z + i u, u from ``height + |z|`` down to 0, Newton-corrected with adaptive steps (halved until
    the corrector is accepted; the path is abandoned, ok = False, when the step falls below
    1e-15 u). The path starts from the large-|z| expansion ``t = -z + E lambda``.
    """
    n = z.size
    ts = np.empty(n, dtype=np.complex128)
    ok = np.zeros(n, dtype=np.bool_)
    for j in range(n):
        zj = z[j]
        t, good = _newton(t0[j], zj, tau, a, p, w, mean, ginv, c0, 0.0, 0.0, 0.0, w, False, False)
        if not good:
            u = height + abs(zj)
            zu = zj + 1j * u
            t, good = _newton(-zu + mean, zu, tau, a, p, w, mean, ginv, c0, 0.0, 0.0, 0.0, w,
                              False, False)
            steps = 0
            while good and u > 0.0 and steps < 4000:
                steps += 1
                un = 0.0 if u <= zj.imag else 0.5 * u
                while True:
                    _, df, _ = _zfun(t, zj + 1j * u, tau, a, p, w, mean, ginv, c0)
                    tn, g2 = _newton(t + 1j * (un - u) / df, zj + 1j * un, tau, a, p, w, mean,
                                     ginv, c0, 0.0, 0.0, 0.0, w, False, False)
                    if g2:
                        t, u = tn, un
                        break
                    un = 0.5 * (u + un)
                    if u - un <= 1e-15 * u:
                        good = False
                        break
            good = good and u == 0.0
        ts[j] = t
        ok[j] = good
    return ts, ok


def newton_homotopy_numpy(z, t0, tau, w, mean, iterations: int = 80):
    """Twin of :func:`newton_homotopy` for points where plain Newton from t0 converges."""
    t = np.asarray(t0, complex).copy()
    z = np.asarray(z, complex)
    for _ in range(iterations):
        d = t[:, None] - tau
        f = -t + mean - z - np.sum(w / d, axis=1)
        df = -1.0 + np.sum(w / d**2, axis=1)
        t = t - f / df
    return t
