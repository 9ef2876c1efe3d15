"""Monte Carlo kernels of the mlp-ce case (numba) and their plain-numpy twins.

For every output matrix ``V[b]`` (C×m) and inner draws ``U[b, t]`` ~ N(0, I_m) the kernels accumulate
the sums over t of (theory/cases.md, (CASE-9)):

* ``a_ij = κ_ij(u) 1(u_i > 0) 1(u_j > 0)`` and ``a_ij²``, ``κ(u) = Σ_c p_c (v_c − μ)(v_c − μ)ᵀ``,
  ``μ = Σ_c p_c v_c`` (= ``Vᵀ(diag p − ppᵀ)V`` without cancellation), ``p = softmax(V relu(u))``;
* ``w s sᵀ`` and ``w² |s|⁴`` for the output weights ``w = p_c(1 − p_c)`` (block (c, c)) and
  ``w = −p_c p_{c+1 mod C}`` (block (c, c+1)).

The kernels receive the random draws as arrays; they own no generator.
"""

from __future__ import annotations

import math

import numpy as np

from rmthess._jit import parallel_jit, prange

__all__: list[str] = []


def _alloc(V):
    nV, C, m = V.shape
    return (np.zeros((nV, m, m)), np.zeros((nV, m, m)), np.zeros((nV, C, m, m)), np.zeros((nV, C)),
            np.zeros((nV, C, m, m)), np.zeros((nV, C)))


@parallel_jit
def _sums_numba(V, U, hS, hS2, odS, odS2, ooS, ooS2):  # pragma: no cover - compiled
    nV, C, m = V.shape
    nu = U.shape[1]
    for b in prange(nV):
        s = np.empty(m)
        z = np.empty(C)
        mu = np.empty(m)
        for t in range(nu):
            s4 = 0.0
            for k in range(m):
                s[k] = U[b, t, k] if U[b, t, k] > 0.0 else 0.0
                s4 += s[k] * s[k]
            s4 = s4 * s4
            zmax = -np.inf
            for c in range(C):
                acc = 0.0
                for k in range(m):
                    acc += V[b, c, k] * s[k]
                z[c] = acc
                if acc > zmax:
                    zmax = acc
            tot = 0.0
            for c in range(C):
                z[c] = math.exp(z[c] - zmax)
                tot += z[c]
            for c in range(C):
                z[c] /= tot
            for k in range(m):
                acc = 0.0
                for c in range(C):
                    acc += z[c] * V[b, c, k]
                mu[k] = acc
            for i in range(m):
                if U[b, t, i] <= 0.0:
                    continue
                for j in range(i, m):
                    if U[b, t, j] <= 0.0:
                        continue
                    acc = 0.0
                    for c in range(C):
                        acc += z[c] * (V[b, c, i] - mu[i]) * (V[b, c, j] - mu[j])
                    hS[b, i, j] += acc
                    hS2[b, i, j] += acc * acc
                    if j != i:
                        hS[b, j, i] += acc
                        hS2[b, j, i] += acc * acc
            for c in range(C):
                wd = z[c] * (1.0 - z[c])
                wo = -z[c] * z[(c + 1) % C]
                odS2[b, c] += wd * wd * s4
                ooS2[b, c] += wo * wo * s4
                for k in range(m):
                    for l in range(m):
                        q = s[k] * s[l]
                        odS[b, c, k, l] += wd * q
                        ooS[b, c, k, l] += wo * q


def sums_numba(V, U):
    """Kernel sums (numba). ``V``: (nV, C, m), ``U``: (nV, nu, m); returns six arrays."""
    V = np.ascontiguousarray(V, dtype=np.float64)
    U = np.ascontiguousarray(U, dtype=np.float64)
    out = _alloc(V)
    _sums_numba(V, U, *out)
    return out


def sums_numpy(V, U):
    """The plain-numpy twin of :func:`sums_numba` (same inputs, same outputs)."""
    V = np.asarray(V, dtype=np.float64)
    U = np.asarray(U, dtype=np.float64)
    hS, hS2, odS, odS2, ooS, ooS2 = _alloc(V)
    for b in range(V.shape[0]):
        Vb = V[b]
        s = np.maximum(U[b], 0.0)                              # (nu, m)
        z = s @ Vb.T                                           # (nu, C)
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        mu = p @ Vb                                            # (nu, m)
        D = Vb[None, :, :] - mu[:, None, :]                    # (nu, C, m)
        kap = np.einsum("tc,tci,tcj->tij", p, D, D)
        pos = (U[b] > 0).astype(float)
        a = kap * pos[:, :, None] * pos[:, None, :]
        hS[b] = a.sum(0)
        hS2[b] = (a * a).sum(0)
        s4 = (s * s).sum(1) ** 2
        ss = s[:, :, None] * s[:, None, :]
        wd = p * (1 - p)
        wo = -p * np.roll(p, -1, axis=1)
        odS[b] = np.einsum("tc,tkl->ckl", wd, ss)
        ooS[b] = np.einsum("tc,tkl->ckl", wo, ss)
        odS2[b] = (wd * wd * s4[:, None]).sum(0)
        ooS2[b] = (wo * wo * s4[:, None]).sum(0)
    return hS, hS2, odS, odS2, ooS, ooS2
