"""The (CASE-19) expectations at C = 2 by an independent 1-D route (theory/cases.md, (CASE-19),
checks).

With ``p = (P, 1 − P)``, ``P = logistic(√2σd)``, ``d = (x_1 − x_2)/√2 ~ N(0, 1)`` and
``q = P(1 − P)``: ``n = 2qd²``, ``trQ = 2q``, ``mm = 4q²d²``, ``trQ2 = 4q²``, so
``(E(n − trQ)², E mm, E trQ2, E n², E n·trQ, E trQ²) = E 4q²·((d² − 1)², d², 1, d⁴, d², 1)``.
Gauss–Legendre (400 nodes) in ``t = √2σ|d|`` on ``[0, min(60, 10√2σ)]``: q² is analytic in
``|Im t| < π`` and falls like ``e^{−2t}``, the Gaussian factor has width ``√2σ`` in t; 400 and 600
nodes agree to 1e-12.
"""

import math

import numpy as np

_NODES = np.polynomial.legendre.leggauss(400)


def two_class_moments(sigma):
    """``[E(n − trQ)², E mm, E trQ2, E n², E n·trQ, E trQ²]`` at ``C = 2``, ``p = softmax(σx)``."""
    gx, gw = _NODES
    c = math.sqrt(2.0) * sigma
    top = min(60.0, 10.0 * c)
    t = 0.5 * top * (gx + 1.0)
    d = t / c
    e = np.exp(-t)
    base = (top * gw) * 4.0 * (e / (1.0 + e) ** 2) ** 2 * np.exp(-0.5 * d * d) / (
        math.sqrt(2.0 * math.pi) * c)
    d2 = d * d
    return np.array([base @ (d2 - 1) ** 2, base @ d2, base.sum(), base @ d2 ** 2, base @ d2,
                     base.sum()])
