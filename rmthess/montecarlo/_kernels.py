r"""numba kernels of the Monte Carlo engine, each with a plain-numpy twin.

Every kernel receives its random draws as arrays and owns no generator. The numpy twins
(``*_numpy``) compute the same quantity with vectorised numpy; ``tests/montecarlo/test_kernels.py``
checks that each pair agrees.

Kernels
-------
``sq_weighted_sum``       ``Σ_{n,n'} G_{nn'}² W_{nn'}``     (one Hadamard-weighted reduction)
                          (both: over a whole array, or a panel of a symmetric one by its upper
                          triangle)
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
def sq_weighted_sum(g, w, upper):
    """``Σ g[n,n']² w[n,n']`` over two arrays of equal shape (numba); ``upper``: over the
    entries ``n' ≥ n`` only, those with ``n' > n`` counted twice (the sum over a symmetric square
    from its upper triangle; rows may be fewer than columns: a row panel of it)."""
    n1, n2 = g.shape
    tot = 0.0
    for i in range(n1):
        row = 0.0
        for j in range(i if upper else 0, n2):
            x = g[i, j]
            row += x * x * w[i, j]
        if upper:
            x = g[i, i]
            row = 2.0 * row - x * x * w[i, i]
        tot += row
    return tot


def _upper_sum(x):
    """``Σ_{j ≥ i} x_ij`` with the entries ``j > i`` counted twice (numpy)."""
    return float(2.0 * np.triu(x).sum() - np.trace(x[:, :x.shape[0]]))


def sq_weighted_sum_numpy(g, w, upper):
    """numpy twin of :func:`sq_weighted_sum`."""
    t = g * g * w
    return _upper_sum(t) if upper else float(t.sum())


@jit
def sq_weighted_struct(g, aa, bb, qq, upper):
    """``(Σ g²·aa, Σ g²·(bb² − qq))`` in one pass over the arrays (numba); ``upper`` as in
    :func:`sq_weighted_sum`.

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
        for j in range(i if upper else 0, n2):
            k = g[i, j] * g[i, j]
            b = bb[i, j]
            rd += k * aa[i, j]
            ro += k * (b * b - qq[i, j])
        if upper:
            k = g[i, i] * g[i, i]
            b = bb[i, i]
            rd = 2.0 * rd - k * aa[i, i]
            ro = 2.0 * ro - k * (b * b - qq[i, i])
        sd += rd
        so += ro
    return sd, so


def sq_weighted_struct_numpy(g, aa, bb, qq, upper):
    """numpy twin of :func:`sq_weighted_struct`."""
    k = g * g
    td, to = k * aa, k * (bb * bb - qq)
    if upper:
        return _upper_sum(td), _upper_sum(to)
    return float(td.sum()), float(to.sum())


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
