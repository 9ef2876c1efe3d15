"""Independent dense numpy formulations of the mlp-ce kernels (oracles of tests/cases).

They form ``κ(u) = Vᵀ(diag p − ppᵀ)V`` and ``Q = diag p − ppᵀ`` as dense matrices with vectorised
numpy, where the kernels of :mod:`rmthess.cases._mlp_ce_kernels` loop over classes with the stable
row functions of :mod:`rmthess._softmax`: a second method for the same quantities.
"""

import math

import numpy as np

from rmthess.cases._mlp_ce_kernels import PAIR_COLUMNS


def _alloc(V):
    nV, C, m = V.shape
    return (np.zeros((nV, m, m)), np.zeros((nV, m, m)), np.zeros((nV, C, m, m)), np.zeros((nV, C)),
            np.zeros((nV, C, m, m)), np.zeros((nV, C)))


def hidden_weights_numpy(u, v, p):
    """``a[n, i, j] = κ_ij(n) 1(u_ni > 0) 1(u_nj > 0)`` with
    ``κ(n) = Vᵀ diag(p_n) V − (Vᵀp_n)(Vᵀp_n)ᵀ``."""
    q = p @ v
    kappa = np.einsum("nc,ci,cj->nij", p, v, v) - q[:, :, None] * q[:, None, :]
    on = (u > 0).astype(float)
    return kappa * on[:, :, None] * on[:, None, :]


def sums_numpy(V, U):
    """Dense numpy form of :func:`rmthess.cases._mlp_ce_kernels.sums_numba`."""
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



def _pair_value_numpy(ci, cj, same, N, P, M, trQ, trQp, trQQ, tau):
    """Vectorised (CASE-15) for basis coordinates ``ci, cj`` of shape (n, 2) and 2×2 matrices
    (n, 2, 2)."""
    Pij = same - (ci * cj).sum(1)
    sa = tau * (1.0 - (ci * ci).sum(1))
    sb = tau * (1.0 - (cj * cj).sum(1))
    sab = tau * Pij

    def quad(x, A, y):
        return tau * np.einsum("ta,tab,tb->t", x, A, y)

    X1, Y1 = quad(ci, N, cj), quad(ci, P, cj)
    return (X1 * Y1 + sab * (X1 * trQp + Y1 * trQ) + sb * quad(ci, M, ci)
            + sab * (quad(ci, M, cj) + quad(cj, M, ci)) + sa * quad(cj, M, cj)
            + sab * sab * trQ * trQp + (sa * sb + sab * sab) * trQQ)


def pair_terms_numpy(U, U2, Z, tau, offsets=None):
    """Dense numpy form of :func:`rmthess.cases._mlp_ce_kernels.pair_terms_numba`
    (Q = diag p − ppᵀ; logits plus ``offsets``, controls at ``Q0 = diag π − ππᵀ``,
    ``π = softmax(offsets)``)."""
    U = np.asarray(U, dtype=np.float64)
    U2 = np.asarray(U2, dtype=np.float64)
    Z = np.asarray(Z, dtype=np.float64)
    n, m = U.shape
    C = Z.shape[1]
    s, s2 = np.maximum(U, 0.0), np.maximum(U2, 0.0)
    ns = np.linalg.norm(s, axis=1)
    e1 = np.divide(s, ns[:, None], out=np.zeros_like(s), where=ns[:, None] > 0)
    b1 = (s2 * e1).sum(1)
    r = s2 - b1[:, None] * e1
    nr = np.linalg.norm(r, axis=1)
    ok = nr > 1e-12 * np.linalg.norm(s2, axis=1)
    e2 = np.divide(r, nr[:, None], out=np.zeros_like(r), where=ok[:, None])
    b2 = np.where(ok, nr, 0.0)
    st = math.sqrt(tau)

    def softmax(x):
        x = np.exp(x - x.max(1, keepdims=True))
        return x / x.sum(1, keepdims=True)

    off = np.zeros(C) if offsets is None else np.asarray(offsets, dtype=float)
    p = softmax(st * ns[:, None] * Z[:, :, 0] + off)
    pp = softmax(st * (b1[:, None] * Z[:, :, 0] + b2[:, None] * Z[:, :, 1]) + off)
    pi = softmax(off[None])[0]
    eye = np.eye(C)
    Q = p[:, :, None] * eye - p[:, :, None] * p[:, None, :]
    Qp = pp[:, :, None] * eye - pp[:, :, None] * pp[:, None, :]
    Q0 = np.broadcast_to(np.diag(pi) - np.outer(pi, pi), Q.shape)

    def mats(A, B, W):
        return (np.einsum("tca,tcd,tdb->tab", W, A, W), np.einsum("tca,tcd,tdb->tab", W, B, W),
                np.einsum("tca,tcd,tde,teb->tab", W, A, B, W), np.einsum("tcd,tdc->t", A, B),
                np.trace(A, axis1=1, axis2=2), np.trace(B, axis1=1, axis2=2))

    full, full0 = mats(Q, Qp, Z), mats(Q0, Q0, Z)
    E = np.stack([e1, e2], axis=2)                               # (n, m, 2)
    pos2 = (s > 0) & (s2 > 0)
    cols = np.zeros((n, PAIR_COLUMNS))
    for i in range(m):
        for j in range(m):
            same = float(i == j)
            d = 0 if i == j else 1
            N, P, M, trQQ, trQ, trQp = full
            cols[:, d] += pos2[:, i] * pos2[:, j] * _pair_value_numpy(
                E[:, i], E[:, j], same, N, P, M, trQ, trQp, trQQ, tau)
            N, P, M, trQQ, trQ, trQp = full0
            cols[:, 4 + d] += pos2[:, i] * pos2[:, j] * _pair_value_numpy(
                E[:, i], E[:, j], same, N, P, M, trQ, trQp, trQQ, tau)
    for col in (0, 4):
        cols[:, col] /= m
    for col in (1, 5):
        cols[:, col] /= m * (m - 1.0)
    ss2 = (ns * b1) ** 2
    w, wp = p * (1 - p), pp * (1 - pp)
    cols[:, 2] = ss2 * (w * wp).mean(1)
    x = (p * pp).sum(1)
    cols[:, 3] = ss2 * (x * x - ((p * pp) ** 2).sum(1)) / (C * (C - 1.0))
    cols[:, 6] = ss2
    zc = Z - Z.mean(1, keepdims=True)
    A = (zc[:, :, 0] ** 2).sum(1) - (C - 1.0)
    B = (zc[:, :, 1] ** 2).sum(1) - (C - 1.0)
    D = (zc[:, :, 0] * zc[:, :, 1]).sum(1)
    h = ss2 * tau
    cols[:, 7] = h * ns * ns * A
    cols[:, 8] = h * (b1 * b1 * A + 2.0 * b1 * b2 * D + b2 * b2 * B)
    cols[:, 9] = h * ns * (b1 * A + b2 * D)
    return cols
