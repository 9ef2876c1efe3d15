r"""numba kernels of the Monte Carlo engine, each with a plain-numpy twin.

Every kernel receives its random draws as arrays and owns no generator. The numpy twins
(``*_numpy``) compute the same quantity with vectorised numpy; ``tests/montecarlo/test_kernels.py``
checks that each pair agrees.

Kernels
-------
``softmax_rows``          row-wise softmax of a logit matrix (max-shifted, overflow safe)
``sq_weighted_sum``       ``Σ_{n,n'} G_{nn'}² W_{nn'}``            (one Hadamard-weighted reduction)
``sq_weighted_struct``    ``(Σ G²∘AA, Σ G²∘(BB∘BB − QQ))``         (diagonal and off-diagonal sums, MC-4)
``mlp_hidden_weights``    ``a_ij(n) = κ_ij(n) 1(u_ni > 0) 1(u_nj > 0)``, ``κ(n) = Vᵀ(diag p − ppᵀ)V``
``stieltjes_rows``        ``(1/d) Σ_k 1/(e_rk − z)`` for every row of eigenvalues and every z
"""

from __future__ import annotations

import numpy as np

from rmthess._jit import jit

__all__ = [
    "softmax_rows",
    "softmax_rows_numpy",
    "sq_weighted_sum",
    "sq_weighted_sum_numpy",
    "sq_weighted_struct",
    "sq_weighted_struct_numpy",
    "mlp_hidden_weights",
    "mlp_hidden_weights_numpy",
    "stieltjes_rows",
    "stieltjes_rows_numpy",
]


@jit
def softmax_rows(z):
    """Row-wise softmax of a 2-D float64 array (numba)."""
    n, c = z.shape
    out = np.empty((n, c))
    for i in range(n):
        mx = z[i, 0]
        for j in range(1, c):
            if z[i, j] > mx:
                mx = z[i, j]
        tot = 0.0
        for j in range(c):
            e = np.exp(z[i, j] - mx)
            out[i, j] = e
            tot += e
        inv = 1.0 / tot
        for j in range(c):
            out[i, j] *= inv
    return out


def softmax_rows_numpy(z):
    """Row-wise softmax of a 2-D array (numpy twin of :func:`softmax_rows`)."""
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


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

    With ``aa = A Aᵀ`` (diagonal weights), ``bb = β βᵀ`` and ``qq = (β∘β)(β∘β)ᵀ`` these are the sums of
    the squared Frobenius norms of all diagonal and all off-diagonal blocks of
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
def mlp_hidden_weights(u, v, p):
    """Hidden-block weights ``a[n, i, j] = κ_ij(n) 1(u_ni > 0) 1(u_nj > 0)`` (numba).

    ``u`` is ``N×m`` (pre-activations), ``v`` is ``C×m`` (output weights) and ``p`` is ``N×C``
    (softmax probabilities; CE loss, ``κ(n) = Vᵀ(diag p_n − p_n p_nᵀ)V``). The MSE weights
    ``κ = VᵀV`` do not depend on n and need no kernel.
    """
    n, m = u.shape
    c = v.shape[0]
    out = np.zeros((n, m, m))
    q = np.empty(m)
    for t in range(n):
        for i in range(m):
            acc = 0.0
            for k in range(c):
                acc += v[k, i] * p[t, k]
            q[i] = acc
        for i in range(m):
            if u[t, i] <= 0.0:
                continue
            for j in range(i, m):
                if u[t, j] <= 0.0:
                    continue
                acc = 0.0
                for k in range(c):
                    acc += p[t, k] * v[k, i] * v[k, j]
                val = acc - q[i] * q[j]
                out[t, i, j] = val
                out[t, j, i] = val
    return out


def mlp_hidden_weights_numpy(u, v, p):
    """numpy twin of :func:`mlp_hidden_weights` (CE: ``κ(n) = Vᵀ(diag p_n − p_n p_nᵀ)V``)."""
    q = p @ v
    kappa = np.einsum("nc,ci,cj->nij", p, v, v) - q[:, :, None] * q[:, None, :]
    on = (u > 0).astype(float)
    return kappa * on[:, :, None] * on[:, None, :]


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
