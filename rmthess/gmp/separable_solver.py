r"""Herglotz roots of the separable equation (SEP-3) off the axis and on the real axis in a bulk.

Every returned t is verified: Newton converged with a residual at rounding level and
:math:`\mathrm{Im}\,t<0`. For :math:`\mathrm{Im}\,z>0` the solution with :math:`\mathrm{Im}\,e>0`
is unique (SEP-2), and at real x at most one root has :math:`\mathrm{Im}\,e>0` and it is the
boundary value (SEP-5); so a verified root is the answer and no wrong branch is ever returned
(``RuntimeError`` if none is found).
"""

from __future__ import annotations

import numpy as np

from rmthess.gmp.separable_equation import SeparableEquation
from rmthess.gmp.separable_support import SeparableBulk

__all__ = ["solve_separable_complex", "solve_separable_bulk"]

#: points with Im z below this times the bulk width start from the bulk's boundary value
NEAR_AXIS_RTOL = 1e-2


def _dt_dz(eq: SeparableEquation, t, z):
    r""":math:`dt/dz = -(V/T^2)/\Delta`, :math:`V = \sum_j q_j\sigma_j/D_j^2` (SEP-4)."""
    g = eq.g(t)
    D = eq.sig * g[..., None] - z[..., None]
    T = np.sum(eq.q * eq.sig / D, axis=-1)
    V = np.sum(eq.q * eq.sig / (D * D), axis=-1)
    _, delta, _ = eq.residual(t, z)
    return -(V / (T * T)) / delta


def _start(eq: SeparableEquation, z):
    r"""Large-z expansion :math:`t \approx (-z + s_2\mathbb{E}\lambda/s_1)/s_1` (SEP-6)."""
    return (-z + eq.s2 * eq.nu.mean / eq.s1) / eq.s1


def _homotopy(eq: SeparableEquation, z: complex) -> complex | None:
    """The root at z reached along z + iu, u from 4·scale + |z| down to 0 (SEP-8)."""
    u = 4.0 * eq.scale + abs(z) + 1.0
    zu = np.array([z + 1j * u])
    t, ok = eq.newton(_start(eq, zu), zu, strict=False)
    if not ok[0]:
        return None
    for _ in range(4000):
        if u == 0.0:
            return complex(t[0])
        un = 0.0 if u <= z.imag else 0.5 * u
        while True:
            zn = np.array([z + 1j * un])
            guess = t + 1j * (un - u) * _dt_dz(eq, t, np.array([z + 1j * u]))
            tn, ok = eq.newton(guess, zn, strict=False)
            if ok[0]:
                t, u = tn, un
                break
            un = 0.5 * (u + un)
            if u - un <= 1e-15 * u:
                return None
    return None


def solve_separable_complex(eq: SeparableEquation, z: np.ndarray, bulks=()) -> np.ndarray:
    r"""Verified :math:`t(z)` for ``Im z > 0`` (any shape): Newton from the large-z expansion or,
    just above a bulk, from its boundary value; the homotopy of (SEP-8) where that fails."""
    z = np.asarray(z, dtype=np.complex128)
    flat = z.ravel()
    t0 = _start(eq, flat)
    for bulk in bulks:
        width = bulk.right - bulk.left
        near = np.flatnonzero((flat.real > bulk.left) & (flat.real < bulk.right)
                              & (flat.imag < NEAR_AXIS_RTOL * width))
        if near.size:
            tb = solve_separable_bulk(eq, bulk, flat.real[near])
            t0[near] = tb + 1j * flat.imag[near] * _dt_dz(eq, tb, flat.real[near] + 0j)
    ts, ok = eq.newton(t0, flat, strict=False)
    if not np.all(ok):
        bad = np.flatnonzero(~ok)
        ts[bad], ok[bad] = _descend(eq, flat.real[bad], flat.imag[bad])
    for i in np.flatnonzero(~ok):
        t = _homotopy(eq, complex(flat[i]))
        if t is None:
            raise RuntimeError(f"no verified Herglotz root of the separable equation at "
                               f"z = {complex(flat[i])!r}")
        ts[i] = t
    return ts.reshape(z.shape)


def _edge_guess(eq: SeparableEquation, x: np.ndarray, xe: float, te: float) -> np.ndarray:
    r"""Square-root expansion at an edge: :math:`\partial_xR\,(x-x_e) + \tfrac12\partial_t\Delta\,
    \delta^2 = 0`, :math:`t = t_e+\delta` with :math:`\mathrm{Im}\,\delta<0` (SEP-7)."""
    rx = float(eq.x_derivative(np.array([te]), np.array([xe]))[0])
    rtt = float(eq.delta_derivative(np.array([te]), np.array([xe]))[0])
    d2 = -2.0 * rx * (x - xe) / rtt
    return te - 1j * np.sqrt(np.abs(d2))


def solve_separable_bulk(eq: SeparableEquation, bulk: SeparableBulk, x: np.ndarray) -> np.ndarray:
    r"""Verified :math:`t(x+i0)` for real ``x`` strictly inside ``bulk`` (SEP-5).

    Newton from the square-root expansion at the nearer edge; points where it fails are reached
    down the vertical line above them (:func:`_descend`), then from a converged neighbour in 2, 8,
    32, 128 sub-steps.
    """
    x = np.asarray(x, dtype=float).ravel()
    order = np.argsort(x, kind="stable")
    xs = x[order]
    near_left = xs - bulk.left <= bulk.right - xs
    guess = np.where(near_left, _edge_guess(eq, xs, bulk.left, bulk.t_left),
                     _edge_guess(eq, xs, bulk.right, bulk.t_right))
    ts, ok = eq.newton(guess, xs + 0j, strict=True)
    if not np.all(ok):
        bad = np.flatnonzero(~ok)
        ts[bad], ok[bad] = _descend(eq, xs[bad], np.zeros(bad.size))
    for i in np.flatnonzero(~ok):
        good = np.flatnonzero(ok)
        t = None
        if good.size:
            j = good[np.argmin(np.abs(xs[good] - xs[i]))]
            for m in (2, 8, 32, 128):
                tt, xp, fine = ts[j:j + 1], xs[j], True
                dx = (xs[i] - xs[j]) / m
                for k in range(1, m + 1):
                    pred = tt + dx * _dt_dz(eq, tt, np.array([xp + 0j]))
                    xp = xs[j] + dx * k
                    tt, fine_k = eq.newton(pred, np.array([xp + 0j]), strict=True)
                    if not fine_k[0]:
                        fine = False
                        break
                if fine:
                    t = complex(tt[0])
                    break
        if t is None:
            raise RuntimeError(f"no verified root of the separable equation at x = {xs[i]!r} "
                               f"inside the bulk [{bulk.left!r}, {bulk.right!r}]")
        ts[i], ok[i] = t, True
    out = np.empty_like(ts)
    out[order] = ts
    return out


def _descend(eq: SeparableEquation, x: np.ndarray, eta: np.ndarray):
    r"""Roots at :math:`x + i\eta` (vectorised): from :math:`x + i(4\,\mathrm{scale}+|x|)`, where
    Newton from the large-z expansion converges, down the vertical line by factors of 10 to
    :math:`\eta` (0 on the real axis: strict Herglotz test there). Returns ``(t, ok)``."""
    x = np.asarray(x, dtype=float)
    eta = np.asarray(eta, dtype=float)
    u = 4.0 * eq.scale + np.abs(x) + 1.0
    z = x + 1j * np.maximum(u, eta)
    t, ok = eq.newton(_start(eq, z), z, strict=False)
    floor = 1e-9 * eq.scale
    while np.any(u > np.maximum(eta, floor)):
        u = np.where(u > np.maximum(eta, floor), 0.1 * u, u)
        z = x + 1j * np.maximum(u, eta)
        t, fine = eq.newton(t, z, strict=False)
        ok &= fine
    z = x + 1j * eta
    t, fine = eq.newton(t, z, strict=bool(np.all(eta == 0)))
    return t, ok & fine
