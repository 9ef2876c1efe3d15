"""Compiled kernel of the separable support scan (numba); its plain-numpy twin is
:func:`rmthess.gmp.separable_support.branch_points_numpy`, and ``tests/gmp/test_separable.py``
checks that they agree.

For each real t (with g = g(t), h t² given) and each branch j: the real root x of
f(x) = sum_k q_k sigma_k / (sigma_k g - x) = 1/t in the branch's bracket by safeguarded Newton
(f is increasing there), and Delta = 1 - h t² sum_k q_k sigma_k² / D_k² (theory/separable.md,
SEP-7).
"""

from __future__ import annotations

import numpy as np

from rmthess._jit import jit

__all__ = ["branch_points_kernel"]

_EPS = 2.220446049250313e-16


@jit
def branch_points_kernel(t, g, ht2, sig, q, s1):
    """``(x, delta)`` of shape (t.size, K): inner branches j < K − 1, the outer branch last."""
    n = t.size
    K = sig.size
    x = np.empty((n, K))
    delta = np.empty((n, K))
    P = np.empty(K)
    for i in range(n):
        e = 1.0 / t[i]
        pmin = np.inf
        pmax = -np.inf
        for k in range(K):
            P[k] = sig[k] * g[i]
            pmin = min(pmin, P[k])
            pmax = max(pmax, P[k])
        st = s1 * abs(t[i])
        for j in range(K):
            if j < K - 1:
                lo = min(P[j], P[j + 1])
                hi = max(P[j], P[j + 1])
            elif t[i] > 0:
                lo = pmin - st
                hi = min(pmin, pmax - st)
            else:
                lo = max(pmax, pmin + st)
                hi = pmax + st
            xc = 0.5 * (lo + hi)
            for _ in range(200):
                F = -e
                dF = 0.0
                for k in range(K):
                    r = 1.0 / (P[k] - xc)
                    F += q[k] * sig[k] * r
                    dF += q[k] * sig[k] * r * r
                if F == 0.0:
                    break
                if F > 0.0:
                    hi = xc
                else:
                    lo = xc
                xn = xc - F / dF
                if not (lo < xn < hi):
                    xn = 0.5 * (lo + hi)
                done = abs(xn - xc) <= 2.0 * _EPS * abs(xc) or hi - lo <= 2.0 * _EPS * abs(xn)
                xc = xn
                if done:
                    break
            x[i, j] = xc
            U = 0.0
            for k in range(K):
                r = sig[k] / (P[k] - xc)
                U += q[k] * r * r
            d = 1.0 - ht2[i] * U
            delta[i, j] = d if d == d else -np.inf
    return x, delta
