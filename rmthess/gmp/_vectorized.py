"""The GMP solver's iterations in numpy, for all brackets or points at once (small problems).

The compiled kernels of :mod:`rmthess.gmp._kernels` loop over points and atoms one at a time;
their first call in a process costs the import of numba and the loading of the compiled code
(≈ 0.8 s of CPU with numba's cache written, seconds on a fresh install, whose cache is empty),
far more than a law with a few atoms evaluated on a few thousand points needs. This module runs
the same iterations — the forms of (GMP-3a), the edge search of (GMP-7), the guesses, Newton
stopping rules and Herglotz acceptance of (GMP-8), with the tolerances defined here once and
imported by the kernels — as numpy operations on (points × atoms) arrays, every point or bracket
with its own state. :mod:`rmthess.gmp.edges` and :mod:`rmthess.gmp.solver` use it up to
:data:`EDGE_ATOMS_MAX` atoms, for the bulk from :data:`BULK_POINTS_MIN` points up to
:data:`BULK_WORK_MAX` point·atoms, and off the axis (Newton and the homotopy of (GMP-9)) up to
:data:`COMPLEX_WORK_MAX` point·atoms; the compiled kernels elsewhere
(``benchmarks/ratio_coldstart.py`` measures both sides of the choice). The choice depends on the
sizes of the call alone, so the same call gives the same numbers in any process.

The results are the kernels' up to the order of the sums over atoms: each iteration is the
kernel's, so a bracket converges to the same edge, and the bulk root is the unique verified root
of (GMP-8) whichever guess reached it (``tests/gmp/test_vectorized.py`` compares the two to
1e-12). Only the bulk's guesses differ: every point starts from the better of the square-root
expansions at the two edges (the kernel's guess after its Euler predictor); a point where Newton
fails from there is handed back (``ok`` False) to the kernel's continuation and its fallbacks.
"""

from __future__ import annotations

import numpy as np

__all__ = ["edge_roots", "edge_values", "edge_guess", "bulk_roots", "complex_roots",
           "complex_homotopy", "EDGE_ATOMS_MAX",
           "BULK_POINTS_MIN", "BULK_WORK_MAX", "COMPLEX_WORK_MAX"]

_EPS = 2.220446049250313e-16
#: Newton stops once the step is below this multiple of |t| (the next step would be ~eps²)
STEP_RTOL = 1e-13
#: accepted residual |z(t) - x| relative to the size of the terms of z(t)
RESIDUAL_RTOL = 1e-11
MAX_NEWTON = 60
#: |Im t| below this times |t| is rounding noise of a real root
IM_RTOL = 1e-12
#: iterations of the safeguarded Newton-bisection on one bracket of the edge search
MAX_BRACKET = 200
#: poles on each side whose terms enter the lower bound of h on an interval between poles
BOUND_WINDOW = 8
#: an interval is skipped when the lower bound of h exceeds 1 by this (relative) margin, far above
#: the rounding of the bound and of the K-term sum h(t_min) (K eps < 1e-9 for K < 10^6), so that
#: every skipped interval is one where the full search also finds h(t_min) >= 1 and no root
SKIP_MARGIN = 1e-9

#: the edge search runs here up to this many atoms, compiled above (measured: ≤ 3 ms at 256 atoms,
#: once per law, against ≈ 0.8 s of CPU to load the compiled kernels; the arrays grow like K²)
EDGE_ATOMS_MAX = 256
#: the bulk roots run here up to this many points × atoms, compiled above (measured: ≈ 0.4 µs
#: per point·atom, ≈ 25 ms at this size, 10× the compiled kernel's time once it is loaded: a
#: process that evaluates large grids many times is better served by the kernel)
BULK_WORK_MAX = 50_000
#: calls on fewer points go to the compiled kernel: such calls come in loops (quadrature of the
#: density, root finding on the cdf), where numpy's fixed cost per call (measured ≈ 0.8 ms, against
#: ≈ 0.05 ms compiled) soon exceeds the one-time load of the kernels
BULK_POINTS_MIN = 16
#: corrector attempts of the numpy homotopy over all points (the kernel allows 4000 steps per
#: point; an attempt is a step or a halving)
_HOMOTOPY_ATTEMPTS = 32_000
#: Stieltjes transforms off the axis run here up to this many points × atoms, for any number of
#: points (a user's first call is often one point; the verify checks call it a few times per run)
COMPLEX_WORK_MAX = BULK_WORK_MAX


# ------------------------------------------------------------------------------------------------
# edges: roots of h(t) = sum_k w_k/(t - tau_k)^2 = 1 (GMP-7)
# ------------------------------------------------------------------------------------------------
def _h(t, tau, w):
    """h(t) and h'(t) for real t (array)."""
    r = 1.0 / (t[:, None] - tau)
    r2 = r * r
    return np.sum(w * r2, axis=1), -np.sum(2.0 * w * r2 * r, axis=1)


def _hprime(t, tau, w):
    """h'(t) and h''(t) for real t (array)."""
    r = 1.0 / (t[:, None] - tau)
    r2 = r * r
    return -np.sum(2.0 * w * r2 * r, axis=1), np.sum(6.0 * w * r2 * r2, axis=1)


def _solve_monotone(lo, hi, increasing, which, tau, w):
    """Roots of g = h - 1 (``which`` 0) or g = h' (1) on the brackets (lo, hi), g monotone on each
    (``increasing`` per bracket): Newton kept inside the bracket, which shrinks at every step; the
    kernel's ``_solve_monotone`` for every bracket at once."""
    lo = np.array(lo, dtype=float)
    hi = np.array(hi, dtype=float)
    increasing = np.broadcast_to(np.asarray(increasing, dtype=bool), lo.shape)
    t = 0.5 * (lo + hi)
    out = t.copy()
    act = np.arange(t.size)
    for _ in range(MAX_BRACKET):
        if act.size == 0:
            return out
        tt, lo_, hi_ = t[act], lo[act], hi[act]
        if which == 0:
            g, dg = _h(tt, tau, w)
            g = g - 1.0
        else:
            g, dg = _hprime(tt, tau, w)
        zero = g == 0.0
        up = (g > 0.0) == increasing[act]
        hi_ = np.where(up, tt, hi_)
        lo_ = np.where(up, lo_, tt)
        width = hi_ - lo_
        mid = 0.5 * (lo_ + hi_)
        narrow = (width <= 4.0 * _EPS * np.maximum(np.abs(lo_), np.abs(hi_))) | (width == 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            tn = np.where(dg != 0.0, tt - g / np.where(dg != 0.0, dg, 1.0), mid)
        bad = ~((lo_ < tn) & (tn < hi_)) | ~np.isfinite(tn)
        tn = np.where(bad, mid, tn)
        conv = ~bad & (np.abs(tn - tt) <= 2.0 * _EPS * np.abs(tt))
        done = zero | narrow | conv
        out[act[done]] = np.where(zero, tt, np.where(narrow, mid, tn))[done]
        t[act], lo[act], hi[act] = tn, lo_, hi_
        act = act[~done]
    out[act] = t[act]
    return out


def _interval_lower_bounds(tau, w):
    """Lower bound of h on every interval (tau[i], tau[i+1]) from the poles within
    :data:`BOUND_WINDOW` (GMP-7; the kernel's ``_interval_lower_bound``, which derives it)."""
    K = tau.size
    i = np.arange(K - 1)
    a, b = tau[:-1], tau[1:]
    g = b - a
    c = w[:-1] ** (1.0 / 3.0) + w[1:] ** (1.0 / 3.0)
    lb = c * c * c / (g * g)
    j = np.arange(K)
    left = (j[None, :] >= i[:, None] - BOUND_WINDOW) & (j[None, :] < i[:, None])
    right = (j[None, :] >= i[:, None] + 2) & (j[None, :] < i[:, None] + 2 + BOUND_WINDOW)
    with np.errstate(divide="ignore"):
        rl = b[:, None] - tau[None, :]
        rr = tau[None, :] - a[:, None]
        terms = np.where(left, w / np.where(left, rl * rl, 1.0), 0.0)
        terms += np.where(right, w / np.where(right, rr * rr, 1.0), 0.0)
    return lb + np.sum(terms, axis=1)


def edge_roots(tau, w):
    """All real roots of h(t) = 1, sorted; tau sorted ascending, w > 0 (the kernel's
    ``edge_roots``: one root left and one right of the poles, 0 or 2 between two poles)."""
    K = tau.size
    if K == 0:
        return np.zeros(0)
    sq = float(np.sqrt(np.sum(w)))
    lo = [tau[0] - 1.0001 * sq - 1e-300]
    hi = [tau[0]]
    inc = [True]
    if K > 1:
        cand = np.flatnonzero(_interval_lower_bounds(tau, w) <= 1.0 + SKIP_MARGIN)
        a, b = tau[cand], tau[cand + 1]
        tm = _solve_monotone(a, b, True, 1, tau, w)     # h' increases through 0 (h convex)
        open_ = _h(tm, tau, w)[0] < 1.0
        a, b, tm = a[open_], b[open_], tm[open_]
        pairs = np.stack([a, tm, tm, b], axis=1).reshape(-1, 2)     # (a, tm), (tm, b), ...
        lo += pairs[:, 0].tolist()
        hi += pairs[:, 1].tolist()
        inc += [False, True] * a.size
    lo.append(tau[K - 1])
    hi.append(tau[K - 1] + 1.0001 * sq + 1e-300)
    inc.append(False)
    return _solve_monotone(np.array(lo), np.array(hi), np.array(inc), 0, tau, w)


def edge_values(roots, tau, a, p, w, mean, ginv, c0):
    """z and z'' at the real critical points ``roots`` (GMP-7), z by the forms of (GMP-3a)."""
    roots = np.asarray(roots, dtype=float)
    f, _, _ = zfun(roots.astype(complex), 0.0, tau, a, p, w, mean, ginv, c0)
    r = 1.0 / (roots[:, None] - tau)
    return f.real, -2.0 * np.sum(w * r * r * r, axis=1)


# ------------------------------------------------------------------------------------------------
# Newton on z(t) = x, every point with its own state
# ------------------------------------------------------------------------------------------------
def _inverse_distances(t, tau):
    """Real and imaginary parts of ``1/(t_j − τ_k)`` (points × atoms) for complex ``t`` (numpy's
    scaled complex division: no overflow of ``|t − τ|²`` at |t| ~ 1e200, as in the kernels)."""
    r = 1.0 / (t[:, None] - tau)
    return r.real, r.imag


def zfun(t, x, tau, a, p, w, mean, ginv, c0):
    """Residual z(t) - x, z'(t) and the rounding bound of the residual for complex ``t`` (array),
    z in whichever of the three forms of (GMP-3a) has the smallest bound (the kernel's ``_zfun``,
    which states the forms)."""
    rr, ri = _inverse_distances(t, tau)
    m = np.abs(rr) + np.abs(ri)
    sa = np.sum(np.abs(a) * m, axis=1)
    sb = np.sum(p * m, axis=1)
    sq = np.sum(w * m, axis=1)
    df = (-1.0 + np.sum(w * (rr * rr - ri * ri), axis=1)) + 1j * np.sum(w * 2.0 * rr * ri, axis=1)
    at = np.abs(t)
    size_f = at * (1.0 + sa)
    size_z = at * (abs(c0) + at * ginv * sb)
    size_o = at + abs(mean) + sq
    use_o = (size_o <= size_f) & (size_o <= size_z)
    use_z = ~use_o & (size_z < size_f)
    z = np.where(use_o, -t + mean - (np.sum(w * rr, axis=1) + 1j * np.sum(w * ri, axis=1)),
                 np.where(use_z, t * (c0 - t * ginv * (np.sum(p * rr, axis=1)
                                                        + 1j * np.sum(p * ri, axis=1))),
                          t * ((np.sum(a * rr, axis=1) + 1j * np.sum(a * ri, axis=1)) - 1.0)))
    size = np.where(use_o, size_o, np.where(use_z, size_z, size_f))
    return z - x, df, size + np.abs(x)


def _zfun_local(t, x, te, ze, c1, tau, w, wu):
    """Residual written around the edge ``te`` of each point (GMP-8; the kernel's
    ``_zfun_local``, which states the identity); ``wu`` has one row of w_k/(te - tau_k)^2 per
    point."""
    ra, rb = _inverse_distances(t, tau)
    s = np.sum(wu * ra, axis=1) + 1j * np.sum(wu * rb, axis=1)
    sabs = np.sum(wu * np.sqrt(ra * ra + rb * rb), axis=1)
    df = (-1.0 + np.sum(w * (ra * ra - rb * rb), axis=1)) + 1j * np.sum(w * 2.0 * ra * rb, axis=1)
    d = t - te
    d2 = d * d
    f = (ze - x) + d * c1 - d2 * s
    size = np.abs(ze - x) + np.abs(d * c1) + np.abs(d2) * sabs + _EPS * (np.abs(x) + np.abs(ze))
    return f, df, size


def _accept(t, df, strict):
    """The kernel's Herglotz test ``_accept`` of converged roots (it states the reasons)."""
    if strict:
        return t.imag < -IM_RTOL * np.abs(t)
    return (t.imag < 0.0) & ((t.imag < -IM_RTOL * np.abs(t)) | (df.real < 0.0))


def _newton(t, x, te, ze, c1, tau, w, wu):
    """The kernel's ``_newton`` on the local residual inside a bulk (strict acceptance), for
    every point at once; returns (t, ok)."""
    return _newton_on(t, lambda ta, act: _zfun_local(ta, x[act], te[act], ze[act], c1[act], tau,
                                                     w, wu[act]), True)


def complex_roots(z, t0, tau, a, p, w, mean, ginv, c0):
    """The kernel's plain Newton of (GMP-9) from ``t0`` for complex ``z`` (the first step of its
    ``newton_homotopy``: the residual of (GMP-3a) in its best form, the Herglotz acceptance), for
    every point at once; returns (t, ok), ok False where the kernel would go on to its homotopy."""
    z = np.asarray(z, dtype=complex)
    return _newton_on(t0, lambda ta, act: zfun(ta, z[act], tau, a, p, w, mean, ginv, c0), False)


def complex_homotopy(z, tau, a, p, w, mean, ginv, c0, height):
    """The kernel's ``newton_homotopy`` path for every point at once (GMP-9): from the large-|z|
    start at ``z + i(height + |z|)`` down the vertical path to z, each step an Euler predictor and
    the Newton corrector of :func:`complex_roots`, the step halved where the corrector fails and
    the point given up (ok False) when it falls below 1e-15 of the height left. Returns (t, ok)."""
    z = np.asarray(z, dtype=complex)
    u = height + np.abs(z)
    zu = z + 1j * u
    t, ok = complex_roots(zu, -zu + mean, tau, a, p, w, mean, ginv, c0)
    un = np.where(u <= z.imag, 0.0, 0.5 * u)
    act = np.flatnonzero(ok)
    for _ in range(_HOMOTOPY_ATTEMPTS):
        if act.size == 0:
            break
        _, df, _ = zfun(t[act], z[act] + 1j * u[act], tau, a, p, w, mean, ginv, c0)
        tn, good = complex_roots(z[act] + 1j * un[act], t[act] + 1j * (un[act] - u[act]) / df,
                                 tau, a, p, w, mean, ginv, c0)
        moved, stuck = act[good], act[~good]
        t[moved], u[moved] = tn[good], un[moved]
        un[moved] = np.where(u[moved] <= z[moved].imag, 0.0, 0.5 * u[moved])
        un[stuck] = 0.5 * (u[stuck] + un[stuck])
        lost = ~good & (u[act] - un[act] <= 1e-15 * u[act])
        ok[act[lost]] = False
        act = act[~(lost | (good & (u[act] == 0.0)))]
    ok &= u == 0.0
    return t, ok


def _newton_on(t, residual, strict):
    """The kernel's ``_newton`` for every point at once: ``residual(t_act, act)`` gives
    ``(f, f', rounding bound)`` of the active points; returns (t, ok)."""
    t = np.array(t, dtype=complex)
    ok = np.zeros(t.size, dtype=bool)
    prev = np.full(t.size, np.inf)
    act = np.arange(t.size)
    for _ in range(MAX_NEWTON):
        if act.size == 0:
            return t, ok
        ta = t[act]
        f, df, size = residual(ta, act)
        dead = df == 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            step = f / np.where(dead, 1.0, df)
        astep = np.abs(step)
        small = ~dead & (astep <= STEP_RTOL * np.abs(ta))
        stalled = ~dead & ~small & (np.abs(f) <= 4.0 * _EPS * size) & (astep >= 0.25 * prev[act])
        tn = np.where(stalled | dead, ta, ta - step)
        t[act] = tn
        ok[act] = (small | stalled) & _accept(tn, df, strict)
        moving = ~(dead | small | stalled)
        prev[act] = astep
        lost = moving & ~(np.isfinite(tn.real) & np.isfinite(tn.imag))
        act = act[moving & ~lost]
    if act.size:
        f, df, size = residual(t[act], act)
        ok[act] = _accept(t[act], df, strict) & (np.abs(f) <= RESIDUAL_RTOL * size)
    return t, ok


def _h_minus_1(t, tau, p, w, ginv, c0):
    """h(t) - 1 at a real edge t in the better of its two forms (the kernel's ``_h_minus_1``)."""
    r2 = 1.0 / (t - tau) ** 2
    hd = np.sum(w * r2)
    q = p * (2.0 * tau - t) * r2
    if abs(c0) + abs(t) * ginv * np.sum(np.abs(q)) < hd:
        return c0 + t * ginv * np.sum(q)
    return hd - 1.0


def edge_guess(x, xe, te, d2, tau, w):
    """Square-root expansion at an edge, branch Im t < 0, or the cubic one where d2 = 0 (the
    kernel's ``_edge_guess``)."""
    if d2 == 0.0:
        c = np.cbrt(np.abs(x - xe) / np.sum(w / (te - tau) ** 4))        # 6|x − xe|/d3
        return te + c * np.where(x > xe, complex(-0.5, -0.8660254037844386),
                                 complex(0.5, -0.8660254037844386))
    q = 2.0 * (x - xe) / d2
    return np.where(q < 0.0, te - 1j * np.sqrt(np.abs(q)), te + np.sqrt(np.abs(q)) - 1e-300j)


def bulk_roots(xs, tl, xl, d2l, tr, xr, d2r, tau, a, p, w, mean, ginv, c0):
    """Herglotz root t(x) for xs strictly inside one bulk [xl, xr] (GMP-8); ok[j] False where
    Newton did not verify a root (the kernel ``bulk_continuation`` takes those).

    Every point starts from the better of the two edge expansions (by the residual of (GMP-3a))
    and Newton runs on the residual written around its nearer edge, as in the kernel.
    """
    xs = np.asarray(xs, dtype=float)
    kargs = (tau, a, p, w, mean, ginv, c0)
    left = xs - xl <= xr - xs
    te = np.where(left, tl, tr)
    ze = np.where(left, xl, xr)
    c1 = np.where(left, _h_minus_1(tl, tau, p, w, ginv, c0), _h_minus_1(tr, tau, p, w, ginv, c0))
    wu = np.where(left[:, None], w / (tl - tau) ** 2, w / (tr - tau) ** 2)
    gl = edge_guess(xs, xl, tl, d2l, tau, w)
    gr = edge_guess(xs, xr, tr, d2r, tau, w)
    better_r = np.abs(zfun(gr, xs, *kargs)[0]) < np.abs(zfun(gl, xs, *kargs)[0])
    return _newton(np.where(better_r, gr, gl), xs, te, ze, c1, tau, w, wu)
