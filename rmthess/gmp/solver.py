r"""Stieltjes transform on the upper half plane and on the real axis, always on the Herglotz branch.

Every returned value is a verified root: Newton converged, the residual of (GMP-3) is at rounding
level and :math:`\mathrm{Im}\,t<0` (:math:`\mathrm{Im}\,s>0`). For :math:`\mathrm{Im}\,z>0` the
root with :math:`\mathrm{Im}\,s>0` is unique (GMP-1), so a verified root is the Stieltjes
transform. On the real axis inside a bulk exactly one conjugate pair of roots is non-real (GMP-8),
so the verified root is the boundary value; outside the bulks the density is exactly 0.
"""

from __future__ import annotations

import numpy as np

from rmthess.gmp._vectorized import (
    BULK_POINTS_MIN,
    BULK_WORK_MAX,
    COMPLEX_WORK_MAX,
    IM_RTOL,
    bulk_roots,
    complex_homotopy,
    complex_roots,
    edge_guess,
)
from rmthess.gmp.edges import Bulk
from rmthess.gmp.equation import AtomicEquation

__all__ = ["solve_t_complex", "solve_t_bulk", "herglotz_root_poly"]

#: the compiled kernels this module calls, loaded with numba on first use (module attributes)
_COMPILED = ("bulk_continuation", "newton_homotopy")


def __getattr__(name):
    """A compiled kernel of :data:`_COMPILED`, imported (with numba) when first asked for."""
    if name in _COMPILED:
        from rmthess.gmp import _kernels

        globals()[name] = getattr(_kernels, name)
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _compiled(name):
    """The kernel ``name``: the module attribute when loaded (or replaced), else loaded now."""
    return globals()[name] if name in globals() else __getattr__(name)


def solve_t_complex(eq: AtomicEquation, z: np.ndarray, bulks=()) -> np.ndarray:
    r"""Return :math:`t(z) = 1/s(z)` for complex ``z`` (``Im z > 0``, any shape) (GMP-9).

    Newton starts from :math:`-z + \mathbb{E}\lambda`, or, for z close above a bulk, from the
    boundary value there moved by :math:`i\,\mathrm{Im}z/z'(t)`; every result is verified and
    unverified points are reached by the homotopy of (GMP-9). Up to
    :data:`~rmthess.gmp._vectorized.COMPLEX_WORK_MAX` points × atoms the Newton step runs in numpy
    (:func:`~rmthess.gmp._vectorized.complex_roots`, then the same homotopy,
    :func:`~rmthess.gmp._vectorized.complex_homotopy`) and only the points both leave go to the
    compiled homotopy.
    """
    z = np.asarray(z, dtype=np.complex128)
    flat = np.ascontiguousarray(z.ravel())
    t0 = -flat + eq.mean
    for bulk in bulks:
        width = bulk.right - bulk.left
        near = np.flatnonzero((flat.real > bulk.left) & (flat.real < bulk.right)
                              & (flat.imag < NEAR_AXIS_RTOL * width))
        if near.size:
            tb = solve_t_bulk(eq, bulk, flat.real[near])
            t0[near] = tb + 1j * flat.imag[near] / eq.dz_dt(tb)
    height = 4.0 * eq.scale + 1.0
    if flat.size * eq.tau.size <= COMPLEX_WORK_MAX:
        ts, ok = complex_roots(flat, t0, *eq.kernel_args)
        rest = np.flatnonzero(~ok)
        if rest.size:
            ts[rest], ok[rest] = complex_homotopy(flat[rest], *eq.kernel_args, height)
            rest = rest[~ok[rest]]
        if rest.size:
            ts[rest], ok[rest] = _compiled("newton_homotopy")(
                np.ascontiguousarray(flat[rest]), np.ascontiguousarray(t0[rest]),
                *eq.kernel_args, height)
    else:
        ts, ok = _compiled("newton_homotopy")(flat, t0, *eq.kernel_args, height)
    if not np.all(ok):
        for i in np.flatnonzero(~ok):
            ts[i] = 1.0 / herglotz_root_poly(eq, flat[i])
    return ts.reshape(z.shape)


def solve_t_bulk(eq: AtomicEquation, bulk: Bulk, x: np.ndarray) -> np.ndarray:
    r"""Return :math:`t(x+i0)` for real ``x`` strictly inside ``bulk`` (GMP-8).

    From :data:`~rmthess.gmp._vectorized.BULK_POINTS_MIN` points up to
    :data:`~rmthess.gmp._vectorized.BULK_WORK_MAX` points × atoms in numpy
    (:func:`~rmthess.gmp._vectorized.bulk_roots`); the points it leaves and other sizes by the
    compiled continuation; points neither verifies by :func:`_bulk_fallback`. Points next to an
    edge where ``z'' = 0`` take its series (:func:`_cubic_edge_points`).
    """
    x = np.asarray(x, dtype=float).ravel()
    cubic, t_cubic = _cubic_edge_points(eq, bulk, x)
    if cubic.any():
        out = t_cubic
        if not cubic.all():
            out[~cubic] = solve_t_bulk(eq, bulk, x[~cubic])
        return out
    order = np.argsort(x, kind="stable")
    xs = np.ascontiguousarray(x[order])
    edges = (bulk.t_left, bulk.left, bulk.d2_left, bulk.t_right, bulk.right, bulk.d2_right)
    if BULK_POINTS_MIN <= xs.size and xs.size * eq.tau.size <= BULK_WORK_MAX:
        ts, ok = bulk_roots(xs, *edges, *eq.kernel_args)
        rest = np.flatnonzero(~ok)
        if rest.size:
            ts[rest], ok[rest] = _compiled("bulk_continuation")(
                np.ascontiguousarray(xs[rest]), *edges, *eq.kernel_args)
    else:
        ts, ok = _compiled("bulk_continuation")(xs, *edges, *eq.kernel_args)
    if not np.all(ok):
        for i in np.flatnonzero(~ok):
            ts[i] = _bulk_fallback(eq, bulk, xs[i])
    out = np.empty_like(ts)
    out[order] = ts
    return out


#: the series of :func:`_cubic_edge_points` is used where |t − t_e| is below this times the
#: distance to the nearest pole (its relative error ~ this squared; Newton's ~ eps/|t − t_e|)
CUBIC_SERIES_RTOL = 1e-5
#: points with Im z below this times the bulk width start from the bulk's boundary value
NEAR_AXIS_RTOL = 1e-2
#: within this relative distance of an edge the square-root expansion is used when Newton stalls
EDGE_EXPANSION_RTOL = 1e-12


def _cubic_edge_points(eq: AtomicEquation, bulk: Bulk, xs: np.ndarray):
    """``(sel, t)``: the points of ``xs`` close enough to an edge where ``z'' = 0`` (two bulks
    touching at x = 0, GMP-7) for its series, and t there.

    With ``r_k = 1/(t_e − τ_k)`` and ``d = t − t_e``, ``z − x_e = c3 d³ (1 + (c4/c3) d + O(d²))``,
    ``c3 = Σ w r⁴ > 0``, ``c4 = −Σ w r⁵``: ``d = d0 (1 − κ d0 + O(d0²))``, ``κ = c4/(3 c3)`` real,
    with ``d0`` the cube root of ``(x − x_e)/c3`` with ``Im d0 < 0`` (``e^{−2iπ/3}`` times the
    real one for ``x > x_e``, ``e^{−iπ/3}`` for ``x < x_e``). At ``t_e = 0`` then
    ``s = 1/t = 1/d0 + κ + O(d0)``: the first correction is real, so ``Im s`` (the density) and the
    cdf's ``Im Φ(t)`` of ``t = d0`` are exact to relative ``O(d0²)``. Used where ``|d0|`` is below
    :data:`CUBIC_SERIES_RTOL` of the distance from ``t_e`` to the nearest pole, where Newton on
    the residual would only reach ``ε/|d|``.
    """
    sel = np.zeros(xs.size, dtype=bool)
    t = np.zeros(xs.size, dtype=complex)
    for xe, te, d2 in ((bulk.left, bulk.t_left, bulk.d2_left),
                       (bulk.right, bulk.t_right, bulk.d2_right)):
        if d2 != 0.0:
            continue
        tc = edge_guess(xs, xe, te, 0.0, eq.tau, eq.w)                # te + d0
        near = (np.abs(tc - te) <= CUBIC_SERIES_RTOL * float(np.min(np.abs(te - eq.tau)))) & ~sel
        t[near] = tc[near]
        sel |= near
    return sel, t


def _bulk_fallback(eq: AtomicEquation, bulk: Bulk, x: float) -> complex:
    """Edge expansion right at an edge; otherwise the companion-matrix root, verified.

    At a square-root edge ``t ≈ t_e − i√(2|x − x_e|/|z''|)`` (GMP-12). At an edge where
    ``z'' = 0`` (the touching point ``x = 0`` of two bulks when ``gamma = P(lambda != 0)`` and
    ``h'(0) = 0``, GMP-7) ``z ≈ x_e + z⁽³⁾(t_e)(t − t_e)³/6`` with ``z⁽³⁾ > 0``, and ``t − t_e`` is
    the cube root with ``Im t < 0``: ``e^{−2iπ/3}`` times the real one for ``x > x_e``,
    ``e^{−iπ/3}`` for ``x < x_e`` (relative error ``O(|t − t_e|)``).
    """
    width = bulk.right - bulk.left
    for xe, te, d2 in ((bulk.left, bulk.t_left, bulk.d2_left),
                       (bulk.right, bulk.t_right, bulk.d2_right)):
        if abs(x - xe) > EDGE_EXPANSION_RTOL * max(width, abs(xe)):
            continue
        if d2 != 0:
            return complex(te, -np.sqrt(abs(2.0 * (x - xe) / d2)))
        return complex(edge_guess(np.array([x]), xe, te, 0.0, eq.tau, eq.w)[0])
    return 1.0 / herglotz_root_poly(eq, complex(x, 0.0))


def herglotz_root_poly(eq: AtomicEquation, z: complex) -> complex:
    """Root of the polynomial (GMP-3) with the largest Im s, Newton-polished and verified.

    Of the K'+1 roots at most one has Im s > 0 for Im z > 0 (GMP-1) and exactly one conjugate pair
    is non-real inside a bulk (GMP-8), so the largest Im s is the only candidate. It is polished by
    four Newton steps on (GMP-3a) and accepted only on the Herglotz test of the kernels; otherwise
    ``RuntimeError``.
    """
    roots = np.roots(eq.polynomial(z))
    if roots.size == 0:
        return -1.0 / z
    s = roots[np.argmax(roots.imag)]
    t = 1.0 / s
    for _ in range(4):
        t = t - (eq.z_of_t(t) - z) / eq.dz_dt(t)
    q = eq.a / (t - eq.tau)
    size = abs(t) * (1.0 + np.sum(np.abs(q))) + abs(z)
    resid = abs(eq.z_of_t(t) - z)
    df = eq.dz_dt(t)
    herglotz = t.imag < -IM_RTOL * abs(t) or (t.imag < 0 and z.imag > 0 and df.real < 0)
    if not herglotz or resid > 1e-9 * size:
        raise RuntimeError(f"no verified Herglotz root at z = {z!r}")
    return 1.0 / t
