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

from rmthess._jit import jit, parallel_jit, prange

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


# --------------------------------------------------------------------------------------------------
# Standard normal quantile for the Sobol' points: Wichura's algorithm AS 241 (PPND16, relative error
# ~1e-16), Applied Statistics 37 (1988) 477–484.  Twin: scipy.special.ndtri.
_AS241_A = (3.3871328727963666080e0, 1.3314166789178437745e2, 1.9715909503065514427e3,
            1.3731693765509461125e4, 4.5921953931549871457e4, 6.7265770927008700853e4,
            3.3430575583588128105e4, 2.5090809287301226727e3)
_AS241_B = (1.0, 4.2313330701600911252e1, 6.8718700749205790830e2, 5.3941960214247511077e3,
            2.1213794301586595867e4, 3.9307895800092710610e4, 2.8729085735721942674e4,
            5.2264952788528545610e3)
_AS241_C = (1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0,
            3.64784832476320460504e0, 1.27045825245236838258e0, 2.41780725177450611770e-1,
            2.27238449892691845833e-2, 7.74545014278341407640e-4)
_AS241_D = (1.0, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
            1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4,
            1.05075007164441684324e-9)
_AS241_E = (6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0,
            2.96560571828504891230e-1, 2.65321895265761230930e-2, 1.24266094738807843860e-3,
            2.71155556874348757815e-5, 2.01033439929228813265e-7)
_AS241_F = (1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
            7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7,
            2.04426310338993978564e-15)


@jit
def _horner(c, x):  # pragma: no cover - compiled
    return c[0] + x * (c[1] + x * (c[2] + x * (c[3] + x * (c[4] + x * (c[5] + x * (c[6] + x * c[7]))))))


@jit
def _ndtri(p):  # pragma: no cover - compiled
    """Standard normal quantile of ``p`` in (0, 1) (AS 241)."""
    q = p - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        return q * _horner(_AS241_A, r) / _horner(_AS241_B, r)
    r = p if q < 0.0 else 1.0 - p
    r = math.sqrt(-math.log(r))
    if r <= 5.0:
        r -= 1.6
        v = _horner(_AS241_C, r) / _horner(_AS241_D, r)
    else:
        r -= 5.0
        v = _horner(_AS241_E, r) / _horner(_AS241_F, r)
    return -v if q < 0.0 else v


@parallel_jit
def _ndtri_inplace(x):  # pragma: no cover - compiled
    flat = x.reshape(-1)
    for k in prange(flat.size):
        flat[k] = _ndtri(flat[k])


def ndtri_numba(x):
    """Standard normal quantiles of an array of points in (0, 1), in place on a float64 copy."""
    x = np.array(x, dtype=np.float64, order="C")
    _ndtri_inplace(x)
    return x


# --------------------------------------------------------------------------------------------------
# Rao–Blackwellized pair terms (theory/cases.md, (CASE-15), (CASE-17), (CASE-18))
#
# Inputs: standard normal draws U, U2 (n, m) for u, u' and ZETA (n, C, 2) for the coordinates of the
# rows v_c/√τ on the orthonormal basis (e1, e2) of span(s, s'); τ = σ_v²/m.  Output row t:
#   0 T1 diag, 1 T1 off-diag   E_w[a_ij(u) a_ij(u')]          (pair conditioning, CASE-15)
#   2 output diag, 3 output off-diag                          (CASE-17)
#   4, 5 the control variates of 0, 1 (the same formulas with p = p' = 1/C), 6 (s·s')², and
#   7..9 (s·s')² τ times |s|² A, b1² A + 2 b1 b2 D + b2² B and |s|(b1 A + b2 D), where
#   A = Σ_c (ζ_c1 − ζ̄_1)² − (C − 1), B likewise with ζ_2, D = Σ_c (ζ_c1 − ζ̄_1)(ζ_c2 − ζ̄_2) have
#   mean zero given (u, u'), s'= b1 e1 + b2 e2  (CASE-18)
# Diagonal terms are averaged over i, off-diagonal terms over the ordered pairs i ≠ j, with the
# indicators 1(u_i > 0) etc. included.  (The γ-term is computed by quadrature, CASE-19.)
PAIR_COLUMNS = 10


@jit
def _pair_value(ci1, ci2, cj1, cj2, same, N11, N12, N22, P11, P12, P22, M11, M12, M21, M22,
                trQ, trQp, trQQ, tau):  # pragma: no cover - compiled
    """E_w[(aᵀQb)(aᵀQ'b)] of (CASE-15) for the basis coordinates c_i, c_j (τ-scaled)."""
    Pij = (1.0 if same else 0.0) - ci1 * cj1 - ci2 * cj2
    sa = tau * (1.0 - ci1 * ci1 - ci2 * ci2)
    sb = tau * (1.0 - cj1 * cj1 - cj2 * cj2)
    sab = tau * Pij
    X1 = tau * (ci1 * (N11 * cj1 + N12 * cj2) + ci2 * (N12 * cj1 + N22 * cj2))
    Y1 = tau * (ci1 * (P11 * cj1 + P12 * cj2) + ci2 * (P12 * cj1 + P22 * cj2))
    Mii = tau * (ci1 * (M11 * ci1 + M12 * ci2) + ci2 * (M21 * ci1 + M22 * ci2))
    Mjj = tau * (cj1 * (M11 * cj1 + M12 * cj2) + cj2 * (M21 * cj1 + M22 * cj2))
    Mij = tau * (ci1 * (M11 * cj1 + M12 * cj2) + ci2 * (M21 * cj1 + M22 * cj2))
    Mji = tau * (cj1 * (M11 * ci1 + M12 * ci2) + cj2 * (M21 * ci1 + M22 * ci2))
    return (X1 * Y1 + sab * (X1 * trQp + Y1 * trQ) + sb * Mii + sab * (Mij + Mji) + sa * Mjj
            + sab * sab * trQ * trQp + (sa * sb + sab * sab) * trQQ)


@parallel_jit
def _pair_terms_numba(U, U2, Z, tau, out):  # pragma: no cover - compiled
    n, m = U.shape
    C = Z.shape[1]
    st = math.sqrt(tau)
    c0 = (C - 1.0) / C                 # tr Q0, Q0 = (I − 11ᵀ/C)/C
    t0 = (C - 1.0) / (C * C)           # tr Q0²
    for t in prange(n):
        s = np.empty(m)
        s2 = np.empty(m)
        e1 = np.empty(m)
        e2 = np.empty(m)
        p = np.empty(C)
        pp = np.empty(C)
        both = np.empty(m, dtype=np.int64)
        ns = 0.0
        n2 = 0.0
        nboth = 0
        for k in range(m):
            s[k] = U[t, k] if U[t, k] > 0.0 else 0.0
            s2[k] = U2[t, k] if U2[t, k] > 0.0 else 0.0
            ns += s[k] * s[k]
            n2 += s2[k] * s2[k]
            if s[k] > 0.0 and s2[k] > 0.0:
                both[nboth] = k
                nboth += 1
        ns = math.sqrt(ns)
        b1 = 0.0
        for k in range(m):
            e1[k] = s[k] / ns if ns > 0.0 else 0.0
            b1 += s2[k] * e1[k]
        nr = 0.0
        for k in range(m):
            e2[k] = s2[k] - b1 * e1[k]
            nr += e2[k] * e2[k]
        nr = math.sqrt(nr)
        ok = nr > 1e-12 * math.sqrt(n2)
        for k in range(m):
            e2[k] = e2[k] / nr if ok else 0.0
        b2 = nr if ok else 0.0
        zmax = -np.inf
        zpmax = -np.inf
        for c in range(C):
            p[c] = st * ns * Z[t, c, 0]
            pp[c] = st * (b1 * Z[t, c, 0] + b2 * Z[t, c, 1])
            zmax = max(zmax, p[c])
            zpmax = max(zpmax, pp[c])
        S = 0.0
        Sp = 0.0
        for c in range(C):
            p[c] = math.exp(p[c] - zmax)
            S += p[c]
            pp[c] = math.exp(pp[c] - zpmax)
            Sp += pp[c]
        sp2 = 0.0
        spp = 0.0
        sp_pp2 = 0.0
        sp2_pp = 0.0
        spp2 = 0.0
        spq2 = 0.0
        od = 0.0
        m1 = 0.0
        m2 = 0.0
        m1p = 0.0
        m2p = 0.0
        mz1 = 0.0
        mz2 = 0.0
        for c in range(C):
            p[c] /= S
            pp[c] /= Sp
            sp2 += p[c] * p[c]
            spp += p[c] * pp[c]
            sp_pp2 += p[c] * pp[c] * pp[c]
            sp2_pp += p[c] * p[c] * pp[c]
            spp2 += (p[c] * pp[c]) ** 2
            spq2 += pp[c] * pp[c]
            od += p[c] * (1.0 - p[c]) * pp[c] * (1.0 - pp[c])
            m1 += p[c] * Z[t, c, 0]
            m2 += p[c] * Z[t, c, 1]
            m1p += pp[c] * Z[t, c, 0]
            m2p += pp[c] * Z[t, c, 1]
            mz1 += Z[t, c, 0]
            mz2 += Z[t, c, 1]
        mz1 /= C
        mz2 /= C
        N11 = N12 = N22 = P11 = P12 = P22 = 0.0
        M11 = M12 = M21 = M22 = 0.0
        Z11 = Z12 = Z22 = 0.0
        for c in range(C):
            q1 = p[c] * (Z[t, c, 0] - m1)
            q2 = p[c] * (Z[t, c, 1] - m2)
            r1 = pp[c] * (Z[t, c, 0] - m1p)
            r2 = pp[c] * (Z[t, c, 1] - m2p)
            N11 += Z[t, c, 0] * q1
            N12 += Z[t, c, 0] * q2
            N22 += Z[t, c, 1] * q2
            P11 += Z[t, c, 0] * r1
            P12 += Z[t, c, 0] * r2
            P22 += Z[t, c, 1] * r2
            M11 += q1 * r1
            M12 += q1 * r2
            M21 += q2 * r1
            M22 += q2 * r2
            d1 = Z[t, c, 0] - mz1
            d2 = Z[t, c, 1] - mz2
            Z11 += d1 * d1
            Z12 += d1 * d2
            Z22 += d2 * d2
        cvA = Z11 - (C - 1.0)
        cvB = Z22 - (C - 1.0)
        cvD = Z12
        Z11 /= C
        Z12 /= C
        Z22 /= C
        trQ = 1.0 - sp2
        trQp = 1.0 - spq2
        trQQ = spp - sp_pp2 - sp2_pp + spp * spp
        t1d = t1o = c1d = c1o = 0.0
        for a in range(nboth):                       # pair conditioning on (ζ_1, ζ_2)
            i = both[a]
            for b in range(nboth):
                j = both[b]
                e = _pair_value(e1[i], e2[i], e1[j], e2[j], i == j, N11, N12, N22, P11, P12, P22,
                                M11, M12, M21, M22, trQ, trQp, trQQ, tau)
                e0 = _pair_value(e1[i], e2[i], e1[j], e2[j], i == j, Z11, Z12, Z22, Z11, Z12, Z22,
                                 Z11 / C, Z12 / C, Z12 / C, Z22 / C, c0, c0, t0, tau)
                if i == j:
                    t1d += e
                    c1d += e0
                else:
                    t1o += e
                    c1o += e0
        ss2 = (ns * b1) ** 2
        npairs = m * (m - 1.0)
        out[t, 0] = t1d / m
        out[t, 1] = t1o / npairs
        out[t, 2] = ss2 * od / C
        out[t, 3] = ss2 * (spp * spp - spp2) / (C * (C - 1.0))
        out[t, 4] = c1d / m
        out[t, 5] = c1o / npairs
        out[t, 6] = ss2
        h = ss2 * tau
        out[t, 7] = h * ns * ns * cvA
        out[t, 8] = h * (b1 * b1 * cvA + 2.0 * b1 * b2 * cvD + b2 * b2 * cvB)
        out[t, 9] = h * ns * (b1 * cvA + b2 * cvD)


def pair_terms_numba(U, U2, Z, tau):
    """Per-draw Rao–Blackwellized terms (numba), shape ``(n, PAIR_COLUMNS)``; see the table above."""
    U = np.ascontiguousarray(U, dtype=np.float64)
    U2 = np.ascontiguousarray(U2, dtype=np.float64)
    Z = np.ascontiguousarray(Z, dtype=np.float64)
    out = np.empty((U.shape[0], PAIR_COLUMNS))
    _pair_terms_numba(U, U2, Z, float(tau), out)
    return out


def _pair_value_numpy(ci, cj, same, N, P, M, trQ, trQp, trQQ, tau):
    """Vectorised (CASE-15) for basis coordinates ``ci, cj`` of shape (n, 2) and 2×2 matrices (n, 2, 2)."""
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


def pair_terms_numpy(U, U2, Z, tau):
    """The plain-numpy twin of :func:`pair_terms_numba` (dense matrices Q = diag p − ppᵀ)."""
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

    p = softmax(st * ns[:, None] * Z[:, :, 0])
    pp = softmax(st * (b1[:, None] * Z[:, :, 0] + b2[:, None] * Z[:, :, 1]))
    eye = np.eye(C)
    Q = p[:, :, None] * eye - p[:, :, None] * p[:, None, :]
    Qp = pp[:, :, None] * eye - pp[:, :, None] * pp[:, None, :]
    Q0 = np.broadcast_to((eye - 1.0 / C) / C, Q.shape)

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
