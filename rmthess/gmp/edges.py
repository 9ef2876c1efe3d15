r"""Support of the GMP law: bulks from the real critical points of the inverse map (GMP-7).

With :math:`h(t) = \sum_k w_k/(t-\tau_k)^2` one has :math:`z'(t) = h(t) - 1`. The function
:math:`h` is convex between consecutive poles and tends to 0 at :math:`\pm\infty`, so
:math:`h = 1` has exactly one root left of all poles, one right of all poles and 0 or 2 between
two consecutive poles. Sorted, the roots :math:`r_1 < \dots < r_{2m}` bound the components
:math:`[r_{2i-1}, r_{2i}]` of :math:`\{h \ge 1\}`; outside them :math:`z` is decreasing in
:math:`t` (increasing in :math:`s`) and maps onto the complement of the support. Bulk :math:`i` is
:math:`[z(r_{2i}), z(r_{2i-1})]`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from rmthess.gmp import _vectorized
from rmthess.gmp.equation import AtomicEquation

__all__ = ["Bulk", "find_bulks"]

#: edges closer to 0 than this times the spectral scale are rounding of an exact 0
_ZERO_EDGE_RTOL = 8 * np.finfo(float).eps
#: when gamma = P(lambda != 0), roots of h = 1 closer to t = 0 than this times sqrt(eps/h''(0)) are
#: rounding of a root at 0: rounding moves h by ~eps, which splits a double root at 0 by
#: ~sqrt(8 eps/h''(0)); a true gap (0, r) that small spans |z| ~ h''(0) r^3/12 ~ 1e-20/sqrt(h''(0)),
#: below the rounding of z itself, so it cannot be resolved
_ZERO_ROOT_WINDOW = 64.0
#: a bulk narrower than this times its distance from 0 is refused: its edges are known to
#: eps·|edge|, so the density inside would carry a relative error above ~eps/1e-9 ≈ 2e-7 (GMP-11)
MIN_RELATIVE_WIDTH = 1e-9
#: such narrow bulks are dropped, not refused, while their total mass stays below this (e.g. the
#: bulks of the extreme nodes of a Gauss rule, of probability ~1e-40): the cdf stays exact to it
NEGLIGIBLE_MASS = 1e-12


@dataclass(frozen=True)
class Bulk:
    """One interval of the support with the data of the square-root expansions at its edges.

    ``left = z(t_left)``, ``right = z(t_right)``; ``d2_left``, ``d2_right`` are :math:`z''` there.
    """

    left: float
    right: float
    t_left: float
    t_right: float
    d2_left: float
    d2_right: float


def find_bulks(eq: AtomicEquation) -> list[Bulk]:
    """Return the bulks of the GMP law of ``eq``, sorted by their left edge (GMP-7).

    ``ValueError`` if a bulk is too narrow to be resolved in float64 (:data:`MIN_RELATIVE_WIDTH`),
    unless such bulks carry a total mass below :data:`NEGLIGIBLE_MASS`; those are dropped.
    """
    if eq.tau.size == 0:
        return []
    if eq.tau.size <= _vectorized.EDGE_ATOMS_MAX:   # numpy; compiled kernels for many atoms
        edge_roots, edge_values = _vectorized.edge_roots, _vectorized.edge_values
    else:
        from rmthess.gmp._kernels import edge_roots, edge_values
    roots = edge_roots(eq.tau, eq.w)
    if roots.size % 2:
        raise RuntimeError("internal error: odd number of critical points of z(t)")
    if eq.c0 == 0.0:
        # gamma = P(lambda != 0) exactly: t = 0 is a critical point, z(0) = 0 (GMP-5); the root
        # found there is within rounding of 0
        at_zero = np.abs(roots) <= _ZERO_EDGE_RTOL * eq.scale
        roots = np.where(at_zero, 0.0, roots)
        hpp = 6.0 * float(np.sum(eq.w / eq.tau**4))                    # h''(0) > 0
        window = min(_ZERO_ROOT_WINDOW * np.sqrt(np.finfo(float).eps / hpp),
                     0.25 * float(np.min(np.abs(eq.tau))))
        roots = _root_at_zero(roots, window)
    zr, d2 = edge_values(roots, *eq.kernel_args)
    if eq.c0 == 0.0:
        # z''(0) = h'(0) = -2 sum w/tau^3 at a double root is 0 up to rounding: exactly 0, so
        # that the density is solved with the cubic series there (solver._cubic_edge_points)
        noise = 64.0 * np.finfo(float).eps * 2.0 * float(np.sum(np.abs(eq.w / eq.tau**3)))
        d2 = np.where((roots == 0.0) & (np.abs(d2) <= noise), 0.0, d2)
    left, right = zr[1::2], zr[0::2]      # bulk i: left edge from r_{2i}, right from r_{2i-1}
    narrow = right - left <= MIN_RELATIVE_WIDTH * np.maximum(np.abs(left), np.abs(right))
    keep = range(left.size)
    if narrow.any():
        keep = np.flatnonzero(~_negligible(eq, roots, narrow, left, right))
    bulks = [Bulk(float(left[i]), float(right[i]), float(roots[2 * i + 1]), float(roots[2 * i]),
                  float(d2[2 * i + 1]), float(d2[2 * i])) for i in keep]
    bulks.sort(key=lambda bk: bk.left)
    # touching bulks (a cusp up to rounding) are kept apart; overlaps would be a bug
    for u, v in itertools.pairwise(bulks):
        if v.left < u.right - 1e-9 * max(abs(u.right), 1e-300):
            raise RuntimeError("internal error: overlapping bulks")
    return bulks


def _root_at_zero(roots: np.ndarray, window: float) -> np.ndarray:
    r"""The roots of :math:`h = 1` with the one at :math:`t = 0` restored (``gamma =
    P(lambda != 0)``, so :math:`h(0) = 1` exactly), from the roots within ``window`` of 0.

    * One root there: the root at 0, displaced by rounding (by up to
      :math:`\epsilon/|h'(0)|` when :math:`h'(0) = -2\,\mathbb{E}[1/\lambda]/\gamma^2` is
      small): set to 0.
    * Two: the root at 0 and a second one at :math:`\approx -2h'(0)/h''(0)`, or a double root at 0
      (:math:`h'(0) = 0`, e.g. a symmetric law) that rounding split into two roots
      :math:`\approx\pm\sqrt{8\epsilon/h''(0)}`; either way they bound a gap of
      :math:`\{h < 1\}` (h is convex between its poles) too small to resolve: both set to 0.
    * None, with 0 strictly inside a component of :math:`\{h \ge 1\}`: a double root that
      rounding missed; 0, 0 inserted.

    At a double root the image of :math:`\{h \ge 1\}` contains 0 in its interior,
    :math:`z \approx z^{(3)}(0)\,t^3/6`, and the density diverges like :math:`|x|^{-1/3}` there
    (GMP-5): the law gets two bulks touching at :math:`x = 0`, the density of each solved around
    its edge at :math:`t = 0`.
    """
    near = np.flatnonzero(np.abs(roots) <= window)
    if near.size in (1, 2) and np.all(np.diff(near) == 1):
        roots = roots.copy()
        roots[near] = 0.0
        return roots
    lo, hi = roots[0::2], roots[1::2]                        # components [r_{2i-1}, r_{2i}]
    inside = np.flatnonzero((lo < 0.0) & (hi > 0.0))
    if near.size == 0 and inside.size:
        return np.insert(roots, 2 * inside[0] + 1, [0.0, 0.0])
    return roots


def _negligible(eq: AtomicEquation, roots, narrow, left, right) -> np.ndarray:
    """Which ``narrow`` bulks to drop: all of them if their total mass is below
    :data:`NEGLIGIBLE_MASS`; otherwise ``ValueError`` naming the first one (GMP-11)."""
    # mass of each bulk (GMP-10): (1/gamma) sum of p_k over the poles inside its component of
    # {h >= 1}, plus 1 - P/gamma when t = 0 lies in it, i.e. then 1 - (1/gamma) sum over the others
    lo, hi = roots[0::2], roots[1::2]
    inside = (eq.tau[None, :] > lo[:, None]) & (eq.tau[None, :] < hi[:, None])
    p_in = (inside * eq.probs).sum(axis=1) / eq.gamma
    p_out = (~inside * eq.probs).sum(axis=1) / eq.gamma
    mass = np.where((lo < 0) & (hi > 0), 1.0 - p_out, p_in)
    drop = narrow & (np.cumsum(np.where(narrow, np.abs(mass), 0.0)) <= NEGLIGIBLE_MASS)
    refuse = narrow & ~drop
    if np.any(refuse):
        i = int(np.flatnonzero(refuse)[0])
        mid = 0.5 * (left[i] + right[i]) * eq.unit
        width = max(right[i] - left[i], 0.0) * eq.unit
        raise ValueError(
            f"at gamma = {eq.gamma!r} the bulk near {mid:.6g} has width {width:.3g}, below the "
            f"float64 resolution needed to evaluate it ({MIN_RELATIVE_WIDTH:g} of its position); "
            f"bulks narrow like sqrt(gamma) for small gamma, like 1/sqrt(gamma) relative to their "
            f"position for large gamma, and like sqrt(p_k) for atoms of small probability p_k: "
            f"use a gamma nearer 1 or merge improbable atoms")
    return drop
