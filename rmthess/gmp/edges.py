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

from dataclasses import dataclass

import numpy as np

from rmthess.gmp._kernels import edge_roots
from rmthess.gmp.equation import AtomicEquation

__all__ = ["Bulk", "find_bulks"]

#: edges closer to 0 than this times the spectral scale are rounding of an exact 0
_ZERO_EDGE_RTOL = 8 * np.finfo(float).eps


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
    """Return the bulks of the GMP law of ``eq``, sorted by their left edge (GMP-7)."""
    if eq.tau.size == 0:
        return []
    roots = edge_roots(eq.tau, eq.w)
    if roots.size % 2:
        raise RuntimeError("internal error: odd number of critical points of z(t)")
    zr = eq.z_of_t(roots)
    # an edge within rounding of 0 is 0 (gamma = P(lambda != 0): the bulk reaches the origin)
    tol = _ZERO_EDGE_RTOL * eq.scale
    at_zero = (np.abs(zr) <= tol) & (np.abs(roots) <= tol)
    zr[at_zero] = 0.0
    roots = np.where(at_zero, 0.0, roots)
    d2 = eq.d2z_dt2(roots)
    bulks = []
    for i in range(0, roots.size, 2):
        a, b = i + 1, i  # left edge from r_{2i}, right edge from r_{2i-1}
        if zr[a] < zr[b]:
            bulks.append(Bulk(float(zr[a]), float(zr[b]), float(roots[a]), float(roots[b]),
                              float(d2[a]), float(d2[b])))
    bulks.sort(key=lambda bk: bk.left)
    # touching bulks (a cusp up to rounding) are kept apart; overlaps would be a bug
    for u, v in zip(bulks, bulks[1:]):
        if v.left < u.right - 1e-9 * max(abs(u.right), 1e-300):
            raise RuntimeError("internal error: overlapping bulks")
    return bulks
