r"""Support of the separable law: the real curve of (SEP-3), its branches and their critical points.

For real t the real solutions x of :math:`R(t;x)=0` are the roots of
:math:`f(x) = \sum_j q_j\sigma_j/(\sigma_j g(t) - x) = 1/t`; f increases between its poles
:math:`\sigma_j g(t)`, so there is exactly one root between consecutive poles (the ``K_H − 1``
inner branches) and one outside them (the outer branch, left of the poles for t > 0, right for
t < 0): every branch is a bracketed monotone solve (SEP-7). On the real curve
:math:`dx/dt = -\Delta/(\partial_x R)` with :math:`\partial_x R > 0`, and a real point with
:math:`\Delta>0` is the boundary value of the Stieltjes transform (SEP-5). So the complement of the
support is the image of :math:`\{\Delta>0\}` on the branches, and the edges are the values of x
where :math:`\Delta = 0` ends such a component. The curve is traced in the angle
:math:`\varphi = \arctan t` (so t = ±∞, where x = ∓∞ on the outer branch, is the interior point
:math:`\varphi = \pi/2` of one interval), between the poles :math:`\arctan\tau_k` where every branch
has :math:`\Delta\to-\infty`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rmthess.gmp.separable_equation import SeparableEquation

__all__ = ["SeparableBulk", "branch_points", "branch_points_numpy", "find_separable_bulks",
           "SAMPLES_PER_INTERVAL"]

_EPS = np.finfo(float).eps
#: samples of the angle per interval between two poles (Chebyshev-like, plus geometric ones
#: approaching each pole from 1e-3 to 1e-14 of the interval)
SAMPLES_PER_INTERVAL = 160
#: cost guard: samples × branches × covariance atoms per scan
MAX_SCAN_COST = 5e7
#: a bulk narrower than this times its distance from 0 is refused (ValueError): the Newton
#: continuation of (SEP-5) in float64 is not reliable inside it (measured: a failure at 7e-9; the
#: density raises RuntimeError rather than return a wrong value where it fails above the limit)
MIN_RELATIVE_WIDTH = 1e-8


@dataclass(frozen=True)
class SeparableBulk:
    """One bulk ``[left, right]`` with the real t at both edges (on the rescaled law)."""

    left: float
    right: float
    t_left: float
    t_right: float


def branch_points(eq: SeparableEquation, t: np.ndarray):
    r"""``(x, delta)``, each of shape ``(t.size, K_H)``: the real solutions x of
    :math:`R(t;x) = 0` on every branch (column ``K_H − 1`` the outer one) and :math:`\Delta` there
    (compiled kernel, loaded with numba on first use)."""
    from rmthess.gmp._separable_kernels import branch_points_kernel

    t = np.ascontiguousarray(np.asarray(t, dtype=float).ravel())
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        g = eq.g(t)
        ht2 = eq.h(t) * t * t
    return branch_points_kernel(t, np.ascontiguousarray(g), np.ascontiguousarray(ht2),
                                eq.sig, eq.q, eq.s1)


def branch_points_numpy(eq: SeparableEquation, t: np.ndarray):
    """Twin of :func:`branch_points`: all brackets at once with numpy."""
    t = np.asarray(t, dtype=float).ravel()
    g = eq.g(t)
    P = eq.sig * g[:, None]              # poles, ordered like sigma (reversed where g < 0)
    n, K = P.shape
    e = 1.0 / t
    lo = np.empty((n, K))
    hi = np.empty((n, K))
    # inner branch j lies between sigma_j g and sigma_{j+1} g: continuous through g = 0
    lo[:, :-1], hi[:, :-1] = np.minimum(P[:, :-1], P[:, 1:]), np.maximum(P[:, :-1], P[:, 1:])
    pmin, pmax = P.min(axis=1), P.max(axis=1)
    st = eq.s1 * np.abs(t)
    pos = t > 0
    lo[:, -1] = np.where(pos, pmin - st, np.maximum(pmax, pmin + st))
    hi[:, -1] = np.where(pos, np.minimum(pmin, pmax - st), pmax + st)
    x = 0.5 * (lo + hi)
    qs = eq.q * eq.sig
    active = np.ones((n, K), dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        # a zero-width bracket (g = 0: the inner poles merge at 0) gives x = 0 and Delta = -inf
        return _solve_branches(eq, t, x, lo, hi, active, P, qs, e)


def _solve_branches(eq, t, x, lo, hi, active, P, qs, e):
    """Safeguarded Newton on the increasing f(x) - 1/t in each bracket [lo, hi] (in place)."""
    for _ in range(200):
        idx = np.nonzero(active)
        if idx[0].size == 0:
            break
        xa = x[idx]
        D = P[idx[0]] - xa[:, None]
        F = np.sum(qs / D, axis=1) - e[idx[0]]
        dF = np.sum(qs / (D * D), axis=1)
        up = F > 0
        h_, l_ = hi[idx], lo[idx]
        h_ = np.where(up, xa, h_)
        l_ = np.where(up, l_, xa)
        with np.errstate(all="ignore"):
            xn = xa - F / dF
        inside = (xn > l_) & (xn < h_) & np.isfinite(xn)
        xn = np.where(inside, xn, 0.5 * (l_ + h_))
        xn = np.where(F == 0, xa, xn)
        conv = (np.abs(xn - xa) <= 2 * _EPS * np.abs(xa)) | (h_ - l_ <= 2 * _EPS * np.abs(xn))
        x[idx], lo[idx], hi[idx] = xn, l_, h_
        active[idx[0][conv], idx[1][conv]] = False
    D = P[:, None, :] - x[:, :, None]
    U = np.sum(eq.q * eq.sig**2 / (D * D), axis=2)
    delta = 1.0 - (eq.h(t) * t * t)[:, None] * U
    return x, np.where(np.isnan(delta), -np.inf, delta)


def _samples(a: float, b: float, n: int) -> np.ndarray:
    i = np.arange(n)
    rel = np.concatenate([(1 - np.cos(np.pi * (i + 0.5) / n)) / 2,
                          10.0 ** -np.arange(3, 15), 1 - 10.0 ** -np.arange(3, 15)])
    return np.unique(a + (b - a) * rel)


def find_separable_bulks(eq: SeparableEquation) -> list[SeparableBulk]:
    """The bulks of the separable law of ``eq`` (rescaled), sorted (SEP-7)."""
    from scipy.optimize import brentq

    tau = eq.nu.tau
    if tau.size == 0:
        return []
    K_H = eq.sig.size
    phis = np.arctan(tau)
    ends = np.concatenate([phis, [phis[0] + np.pi]])
    cost = tau.size * (SAMPLES_PER_INTERVAL + 24) * K_H * K_H
    if cost > MAX_SCAN_COST:
        raise ValueError(f"the support scan of a separable law with {tau.size} weight atoms and "
                         f"{K_H} covariance atoms costs ~{cost:.2g} operations per iteration (more "
                         f"than {MAX_SCAN_COST:.0e}); discretize the laws with fewer atoms")

    def delta_at(phi: float, j: int) -> float:
        return float(branch_points(eq, np.array([np.tan(phi)]))[1][0, j])

    gaps = []          # (x_low, x_high, t at x_low, t at x_high)
    wrap = None
    for a, b in zip(ends[:-1], ends[1:], strict=True):
        phi = _samples(a, b, SAMPLES_PER_INTERVAL)
        phi = phi[(phi > a) & (phi < b)]
        t = np.tan(phi)
        x, delta = branch_points(eq, t)
        for j in range(K_H):
            pos = delta[:, j] > 0
            if pos[0] or pos[-1]:
                # Delta -> -inf at the pole, so a root of Delta lies within 1e-14 of the
                # interval from it: an edge closer to a pole than float64 resolves in the angle
                raise ValueError(
                    f"a bulk of the separable law next to the weight atom "
                    f"{-float(np.tan(a if pos[0] else b)) / eq.nu.gamma * eq.nu.unit:.6g} is too "
                    f"narrow to resolve in float64 (an atom of very small probability); merge or "
                    f"drop improbable atoms")
            up = np.flatnonzero(~pos[:-1] & pos[1:])
            down = np.flatnonzero(pos[:-1] & ~pos[1:])
            for ia, ib in zip(up, down, strict=True):
                fa = brentq(delta_at, phi[ia], phi[ia + 1], args=(j,), xtol=1e-300, rtol=4 * _EPS)
                fb = brentq(delta_at, phi[ib], phi[ib + 1], args=(j,), xtol=1e-300, rtol=4 * _EPS)
                ta, tb = np.tan(fa), np.tan(fb)
                xa, xb = branch_points(eq, np.array([ta, tb]))[0][:, j]
                if j == K_H - 1 and fa < np.pi / 2 < fb:
                    if wrap is not None:
                        raise RuntimeError("internal error: two components through x = infinity")
                    wrap = (float(xa), float(xb), float(ta), float(tb))
                else:
                    gaps.append((float(xb), float(xa), float(tb), float(ta)))
    if wrap is None:
        raise RuntimeError("internal error: no component of the real curve through x = infinity")
    gaps.sort()
    edges = [(wrap[0], wrap[2])]
    for lo, hi, tlo, thi in gaps:
        edges += [(lo, tlo), (hi, thi)]
    edges.append((wrap[1], wrap[3]))
    xs = [v for v, _ in edges]
    if any(b <= a for a, b in zip(xs[:-1], xs[1:], strict=True)):
        raise RuntimeError("internal error: the components of the complement overlap")
    for left, right in zip(xs[0::2], xs[1::2], strict=True):
        if right - left <= MIN_RELATIVE_WIDTH * max(abs(left), abs(right)):
            raise ValueError(
                f"the separable law has a bulk near {0.5 * (left + right) * eq.unit:.6g} of width "
                f"{(right - left) * eq.unit:.3g}, below the float64 resolution needed to evaluate "
                f"it ({MIN_RELATIVE_WIDTH:g} of its position); bulks narrow like the square root "
                f"of an atom's probability: merge or drop improbable atoms (a continuous law: "
                f"fewer n_atoms), or use a gamma nearer 1")
    return [SeparableBulk(edges[2 * i][0], edges[2 * i + 1][0], edges[2 * i][1],
                          edges[2 * i + 1][1]) for i in range(len(edges) // 2)]
