r"""numba kernels of the Monte Carlo engine, each with a plain-numpy twin.

Every kernel receives its random draws as arrays and owns no generator. The numpy twins
(``*_numpy``) compute the same quantity with vectorised numpy; ``tests/montecarlo/test_kernels.py``
checks that each pair agrees.

Kernels
-------
``sq_weighted_sum``       ``Σ_{n,n'} G_{nn'}² W_{nn'}``     (one Hadamard-weighted reduction)
``sq_weighted_struct``    ``(Σ G²∘AA, Σ G²∘(BB∘BB − QQ))``  (diagonal and off-diagonal sums, MC-4)
``stieltjes_rows``        ``(1/d) Σ_k 1/(e_rk − z)`` for every row of eigenvalues and every z
"""

from __future__ import annotations

import numpy as np

from rmthess._jit import jit

__all__ = [
    "sq_weighted_sum",
    "sq_weighted_sum_numpy",
    "sq_weighted_struct",
    "sq_weighted_struct_numpy",
    "stieltjes_rows",
    "stieltjes_rows_numpy",
]


@jit
def sq_weighted_sum(g, w):
    """``Σ_{n,n'} g[n,n']² w[n,n']`` for two arrays of equal shape (numba)."""
    n1, n2 = g.shape
    tot = 0.0
    for i in range(n1):
        row = 0.0
        for j in range(n2):
            x = g[i, j]
            row += x * x * w[i, j]
        tot += row
    return tot


def sq_weighted_sum_numpy(g, w):
    """numpy twin of :func:`sq_weighted_sum`."""
    return float(np.einsum("ij,ij,ij->", g, g, w))


@jit
def sq_weighted_struct(g, aa, bb, qq):
    """``(Σ g²·aa, Σ g²·(bb² − qq))`` in one pass over the arrays (numba).

    With ``aa = A Aᵀ`` (diagonal weights), ``bb = β βᵀ`` and ``qq = (β∘β)(β∘β)ᵀ`` these are the
    sums of the squared Frobenius norms of all diagonal and all off-diagonal blocks of
    ``Λ_n = diag(α_n) − β_n β_nᵀ`` (theory/montecarlo.md, MC-4), times ``N²``.
    """
    n1, n2 = g.shape
    sd = 0.0
    so = 0.0
    for i in range(n1):
        rd = 0.0
        ro = 0.0
        for j in range(n2):
            k = g[i, j] * g[i, j]
            b = bb[i, j]
            rd += k * aa[i, j]
            ro += k * (b * b - qq[i, j])
        sd += rd
        so += ro
    return sd, so


def sq_weighted_struct_numpy(g, aa, bb, qq):
    """numpy twin of :func:`sq_weighted_struct`."""
    k = g * g
    return float(np.sum(k * aa)), float(np.sum(k * (bb * bb - qq)))


@jit
def stieltjes_rows(eigs, z):
    """``s[r, k] = (1/d) Σ_i 1/(eigs[r, i] − z[k])`` (numba)."""
    r, d = eigs.shape
    nz = z.shape[0]
    out = np.empty((r, nz), dtype=np.complex128)
    for a in range(r):
        for k in range(nz):
            acc = 0.0 + 0.0j
            zk = z[k]
            for i in range(d):
                acc += 1.0 / (eigs[a, i] - zk)
            out[a, k] = acc / d
    return out


def stieltjes_rows_numpy(eigs, z):
    """numpy twin of :func:`stieltjes_rows`."""
    eigs = np.asarray(eigs, dtype=float)
    z = np.asarray(z, dtype=np.complex128)
    return np.mean(1.0 / (eigs[:, :, None] - z[None, None, :]), axis=1)
