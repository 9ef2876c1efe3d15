"""numba kernels of the finite-size predictions (:mod:`rmthess.montecarlo.finite_size`).

Each kernel has a plain-numpy twin (``*_numpy``) and a test that they agree. Kernels run single
threaded and call no BLAS: the predictions are many small reductions, for which a threaded BLAS on a
busy machine mostly waits (see :mod:`rmthess._threads`).
"""

from __future__ import annotations

import numpy as np

from rmthess._jit import jit

__all__ = ["weighted_second_moments", "weighted_second_moments_numpy"]


@jit
def weighted_second_moments(L, Y):
    """``out[k, i, j] = Σ_n L[n, k] Y[n, i] Y[n, j]`` (numba; skips zero weights and zero entries).

    The weights of the MLP blocks vanish whenever a ReLU is off, and ``Y`` is often a ReLU output,
    so most products are skipped.
    """
    n, K = L.shape
    p = Y.shape[1]
    out = np.zeros((K, p, p))
    idx = np.empty(p, np.int64)
    for s in range(n):
        nz = 0
        for i in range(p):
            if Y[s, i] != 0.0:
                idx[nz] = i
                nz += 1
        for k in range(K):
            lam = L[s, k]
            if lam == 0.0:
                continue
            for a in range(nz):
                ia = idx[a]
                v = lam * Y[s, ia]
                for b in range(a, nz):
                    ib = idx[b]
                    out[k, ia, ib] += v * Y[s, ib]
    for k in range(K):
        for i in range(p):
            for j in range(i + 1, p):
                out[k, j, i] = out[k, i, j]
    return out


def weighted_second_moments_numpy(L, Y):
    """numpy twin of :func:`weighted_second_moments`."""
    return np.einsum("nk,ni,nj->kij", L, Y, Y)
