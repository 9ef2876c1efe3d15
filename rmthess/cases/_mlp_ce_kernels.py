"""numba kernels of the mlp-ce case.

Each kernel is written once in plain Python that numba compiles (:mod:`rmthess._jit`); its
``py_func`` is the interpreted twin, and tests/cases/kernel_oracles.py holds independent dense
numpy formulations that the tests compare with. Softmax, ``1 − p`` and ``κ(u) = Vᵀ(diag p − ppᵀ)V``
come from :mod:`rmthess._softmax` (stable at saturation, (SMX-1)).

* :func:`hidden_weights`: the Monte Carlo weights ``a_ij(n) = κ_ij(n) 1(u_ni > 0) 1(u_nj > 0)``.
* :func:`sums_numba`: for every output matrix ``V[b]`` (C×m) and inner draws ``U[b, t]`` ~ N(0, I_m)
  the sums over t of (theory/cases.md, (CASE-9)) ``a_ij`` and ``a_ij²``, ``p = softmax(V relu(u))``,
  and ``w s sᵀ``, ``w² |s|⁴`` for the output weights ``w = p_c(1 − p_c)`` (block (c, c)) and
  ``w = −p_c p_{c+1 mod C}`` (block (c, c+1)).
* :func:`pair_terms_numba`: the Rao–Blackwellized pair terms (CASE-15, CASE-17, CASE-18), with
  logit offsets (CASE-31).
* :func:`gamma_terms_numba`: the γ-term draws with logit offsets (CASE-31).
* :func:`ndtri_numba`: the standard normal quantile (AS 241).

The kernels receive the random draws as arrays; they own no generator.
"""

from __future__ import annotations

import math

import numpy as np

from rmthess._jit import interpreted, jit, parallel_jit, prange
from rmthess._softmax import centre_row, kappa_entry, softmax_row

__all__: list[str] = []


def _alloc(V):
    nV, C, m = V.shape
    return (np.zeros((nV, m, m)), np.zeros((nV, m, m)), np.zeros((nV, C, m, m)), np.zeros((nV, C)),
            np.zeros((nV, C, m, m)), np.zeros((nV, C)))


@jit
def hidden_weights(U, V, p):  # twin: interpreted(hidden_weights)
    """Hidden-block weights ``a[n, i, j] = κ_ij(n) 1(u_ni > 0) 1(u_nj > 0)``.

    ``U`` is ``N×m`` (pre-activations), ``V`` is ``C×m`` (output weights) and ``p`` is ``N×C``
    (softmax probabilities), ``κ(n) = Vᵀ(diag p_n − p_n p_nᵀ)V``.
    """
    n, m = U.shape
    out = np.zeros((n, m, m))
    D = np.empty((V.shape[0], m))
    for t in range(n):
        centre_row(V, p[t], D)
        for i in range(m):
            if U[t, i] <= 0.0:
                continue
            for j in range(i, m):
                if U[t, j] <= 0.0:
                    continue
                val = kappa_entry(p[t], D, i, j)
                out[t, i, j] = val
                out[t, j, i] = val
    return out


@parallel_jit
def _sums(V, U, hS, hS2, odS, odS2, ooS, ooS2):  # twin: interpreted(_sums)
    nV, C, m = V.shape
    nu = U.shape[1]
    for b in prange(nV):
        s = np.empty(m)
        z = np.empty(C)
        p = np.empty(C)
        q = np.empty(C)
        D = np.empty((C, m))
        for t in range(nu):
            s4 = 0.0
            for k in range(m):
                s[k] = U[b, t, k] if U[b, t, k] > 0.0 else 0.0
                s4 += s[k] * s[k]
            s4 = s4 * s4
            for c in range(C):
                acc = 0.0
                for k in range(m):
                    acc += V[b, c, k] * s[k]
                z[c] = acc
            softmax_row(z, p, q)
            centre_row(V[b], p, D)
            for i in range(m):
                if U[b, t, i] <= 0.0:
                    continue
                for j in range(i, m):
                    if U[b, t, j] <= 0.0:
                        continue
                    acc = kappa_entry(p, D, i, j)
                    hS[b, i, j] += acc
                    hS2[b, i, j] += acc * acc
                    if j != i:
                        hS[b, j, i] += acc
                        hS2[b, j, i] += acc * acc
            for c in range(C):
                wd = p[c] * q[c]
                wo = -p[c] * p[(c + 1) % C]
                odS2[b, c] += wd * wd * s4
                ooS2[b, c] += wo * wo * s4
                for k in range(m):
                    for k2 in range(m):
                        r = s[k] * s[k2]
                        odS[b, c, k, k2] += wd * r
                        ooS[b, c, k, k2] += wo * r


def sums_numba(V, U, *, compiled=True):
    """Kernel sums. ``V``: (nV, C, m), ``U``: (nV, nu, m); returns six arrays ``(Σa, Σa², Σ w_d s
    sᵀ,
    Σ w_d²|s|⁴, Σ w_o s sᵀ, Σ w_o²|s|⁴)``. ``compiled=False`` runs the interpreted twin."""
    V = np.ascontiguousarray(V, dtype=np.float64)
    U = np.ascontiguousarray(U, dtype=np.float64)
    out = _alloc(V)
    (_sums if compiled else interpreted(_sums))(V, U, *out)
    return out


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
def _horner(c, x):
    return c[0] + x * (c[1] + x * (c[2] + x * (c[3] + x * (c[4] + x * (c[5] + x * (
        c[6] + x * c[7]))))))


@jit
def _ndtri(p):
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
def _ndtri_inplace(x):
    flat = x.reshape(-1)
    for k in prange(flat.size):
        flat[k] = _ndtri(flat[k])


def ndtri_numba(x):
    """Standard normal quantiles of an array of points in (0, 1), in place on a float64 copy."""
    x = np.array(x, dtype=np.float64, order="C")
    _ndtri_inplace(x)
    return x


# --------------------------------------------------------------------------------------------------
# Rao–Blackwellized pair terms (theory/cases.md, (CASE-15), (CASE-17), (CASE-18), (CASE-31))
#
# Inputs: standard normal draws U, U2 (n, m) for u, u' and ZETA (n, C, 2) for the coordinates of the
# rows v_c/√τ on the orthonormal basis (e1, e2) of span(s, s'); τ = σ_v²/m; the logit offsets b (C)
# and the prior π = softmax(b) of the controls (b = 0, π = 1/C: identical classes).  Output row t:
#   0 T1 diag, 1 T1 off-diag   E_w[a_ij(u) a_ij(u')]          (pair conditioning, CASE-15)
#   2 output diag, 3 output off-diag                          (CASE-17)
#   4, 5 the control variates of 0, 1 (the same formulas with p = p' = π), 6 (s·s')², and
#   7..9 (s·s')² τ times |s|² A, b1² A + 2 b1 b2 D + b2² B and |s|(b1 A + b2 D), where
#   A = Σ_c (ζ_c1 − ζ̄_1)² − (C − 1), B likewise with ζ_2, D = Σ_c (ζ_c1 − ζ̄_1)(ζ_c2 − ζ̄_2) have
#   mean zero given (u, u'), s'= b1 e1 + b2 e2  (CASE-18)
# Diagonal terms are averaged over i, off-diagonal terms over the ordered pairs i ≠ j, with the
# indicators 1(u_i > 0) etc. included.  With a non-empty ``cls`` (n, C) its row t receives the
# per-class output-diagonal draws (s·s')² w_c w'_c, and ``cpair`` (n, P) the draws
# (s·s')² p_c p_c' p'_c p'_c' of the output blocks of the class ``pairs`` (P × 2).  (The γ-term
# is computed by quadrature, CASE-19, or with offsets sampled by :func:`gamma_terms_numba`,
# CASE-31.)
PAIR_COLUMNS = 10


@jit
def _pair_value(ci1, ci2, cj1, cj2, same, N11, N12, N22, P11, P12, P22, M11, M12, M21, M22,
                trQ, trQp, trQQ, tau):
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


@jit
def _pair_sums(e1, e2, both, nboth, S11, S12, S22, N11, N12, N22, P11, P12, P22, M11, M12, M21,
               M22, trQ, trQp, trQQ, tau):
    """``(Σ_i v_ii, Σ_{i≠j} v_ij)`` of :func:`_pair_value` over the active units ``both[:nboth]``
    in O(nboth): the double sum of every term is a trace of 2 × 2 products with the Gram matrix
    ``S = Σ_i c_i c_iᵀ`` (``Σ_{ij}(c_iᵀA c_j)(c_iᵀB c_j) = tr(S A S Bᵀ)``), the diagonal a sum
    over the units; the off-diagonal sum is their difference (theory/cases.md, (CASE-15))."""
    a = float(nboth)
    trS = S11 + S22
    # 2 × 2 products: SN = S N, SP = S P, SS = S S
    SN11 = S11 * N11 + S12 * N12
    SN12 = S11 * N12 + S12 * N22
    SN21 = S12 * N11 + S22 * N12
    SN22 = S12 * N12 + S22 * N22
    SP11 = S11 * P11 + S12 * P12
    SP12 = S11 * P12 + S12 * P22
    SP21 = S12 * P11 + S22 * P12
    SP22 = S12 * P12 + S22 * P22
    SS11 = S11 * S11 + S12 * S12
    SS12 = S11 * S12 + S12 * S22
    SS22 = S12 * S12 + S22 * S22
    trSNSP = SN11 * SP11 + SN12 * SP21 + SN21 * SP12 + SN22 * SP22         # tr(S N S P)
    trNS = SN11 + SN22
    trPS = SP11 + SP22
    trSSN = SS11 * N11 + 2.0 * SS12 * N12 + SS22 * N22
    trSSP = SS11 * P11 + 2.0 * SS12 * P12 + SS22 * P22
    trMS = M11 * S11 + (M12 + M21) * S12 + M22 * S22
    trSSM = SS11 * M11 + SS12 * (M12 + M21) + SS22 * M22                 # = tr(S S Mᵀ)
    trSS = SS11 + SS22
    pp = a - 2.0 * trS + trSS                                             # Σ (δ_ij − c_i·c_j)²
    total = tau * tau * (trSNSP + (trNS - trSSN) * trQp + (trPS - trSSP) * trQ
                         + 2.0 * (a - trS) * trMS + 2.0 * trMS - 2.0 * trSSM
                         + pp * trQ * trQp + ((a - trS) ** 2 + pp) * trQQ)
    diag = 0.0
    for k in range(nboth):
        i = both[k]
        diag += _pair_value(e1[i], e2[i], e1[i], e2[i], True, N11, N12, N22, P11, P12, P22,
                            M11, M12, M21, M22, trQ, trQp, trQQ, tau)
    return diag, (total - diag if nboth >= 2 else 0.0)


@parallel_jit
def _pair_terms(U, U2, Z, tau, boff, pi, out, cls, pairs, cpair):  # twin: _pair_terms.py_func
    n, m = U.shape
    C = Z.shape[1]
    st = math.sqrt(tau)
    s2pi = 0.0
    s3pi = 0.0
    c0 = 0.0
    for c in range(C):
        s2pi += pi[c] * pi[c]
        s3pi += pi[c] * pi[c] * pi[c]
        c0 += pi[c] * (1.0 - pi[c])    # tr Q0, Q0 = diag π − ππᵀ
    t0 = s2pi - 2.0 * s3pi + s2pi * s2pi   # tr Q0²
    per_class = cls.shape[0] > 0
    for t in prange(n):
        s = np.empty(m)
        s2 = np.empty(m)
        e1 = np.empty(m)
        e2 = np.empty(m)
        z = np.empty(C)
        zp = np.empty(C)
        p = np.empty(C)
        pp = np.empty(C)
        q = np.empty(C)
        qq = np.empty(C)
        D = np.empty((C, 2))
        Dp = np.empty((C, 2))
        D0 = np.empty((C, 2))
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
        for c in range(C):
            z[c] = st * ns * Z[t, c, 0] + boff[c]
            zp[c] = st * (b1 * Z[t, c, 0] + b2 * Z[t, c, 1]) + boff[c]
        softmax_row(z, p, q)
        softmax_row(zp, pp, qq)
        Zt = Z[t]
        centre_row(Zt, p, D)                       # ζ_c − Σ p ζ, and with p' (SMX-1)
        centre_row(Zt, pp, Dp)
        centre_row(Zt, pi, D0)                     # the control's Q0 ζ = π∘(ζ − Σ π ζ)
        N11 = kappa_entry(p, D, 0, 0)               # ζᵀ Q ζ and ζᵀ Q' ζ (2×2)
        N12 = kappa_entry(p, D, 0, 1)
        N22 = kappa_entry(p, D, 1, 1)
        P11 = kappa_entry(pp, Dp, 0, 0)
        P12 = kappa_entry(pp, Dp, 0, 1)
        P22 = kappa_entry(pp, Dp, 1, 1)
        trQ = 0.0
        trQp = 0.0
        spp = 0.0
        sp_pp2 = 0.0
        sp2_pp = 0.0
        spp2 = 0.0
        od = 0.0
        mz1 = 0.0
        mz2 = 0.0
        M11 = M12 = M21 = M22 = 0.0
        O11 = O12 = O22 = 0.0
        for c in range(C):
            trQ += p[c] * q[c]
            trQp += pp[c] * qq[c]
            spp += p[c] * pp[c]
            sp_pp2 += p[c] * pp[c] * pp[c]
            sp2_pp += p[c] * p[c] * pp[c]
            spp2 += (p[c] * pp[c]) ** 2
            od += p[c] * q[c] * pp[c] * qq[c]
            w = p[c] * pp[c]
            M11 += w * D[c, 0] * Dp[c, 0]            # ζᵀ Q Q' ζ
            M12 += w * D[c, 0] * Dp[c, 1]
            M21 += w * D[c, 1] * Dp[c, 0]
            M22 += w * D[c, 1] * Dp[c, 1]
            w0 = pi[c] * pi[c]                      # ζᵀ Q0 Q0 ζ
            O11 += w0 * D0[c, 0] * D0[c, 0]
            O12 += w0 * D0[c, 0] * D0[c, 1]
            O22 += w0 * D0[c, 1] * D0[c, 1]
            mz1 += Z[t, c, 0]
            mz2 += Z[t, c, 1]
        mz1 /= C
        mz2 /= C
        Z11 = Z12 = Z22 = 0.0
        for c in range(C):
            d1 = Z[t, c, 0] - mz1
            d2 = Z[t, c, 1] - mz2
            Z11 += d1 * d1
            Z12 += d1 * d2
            Z22 += d2 * d2
        cvA = Z11 - (C - 1.0)
        cvB = Z22 - (C - 1.0)
        cvD = Z12
        N011 = kappa_entry(pi, D0, 0, 0)              # ζᵀ Q0 ζ
        N012 = kappa_entry(pi, D0, 0, 1)
        N022 = kappa_entry(pi, D0, 1, 1)
        trQQ = spp - sp_pp2 - sp2_pp + spp * spp
        S11 = S12 = S22 = 0.0                        # Gram matrix of the active c_i
        for a in range(nboth):
            i = both[a]
            S11 += e1[i] * e1[i]
            S12 += e1[i] * e2[i]
            S22 += e2[i] * e2[i]
        t1d, t1o = _pair_sums(e1, e2, both, nboth, S11, S12, S22, N11, N12, N22, P11, P12, P22,
                              M11, M12, M21, M22, trQ, trQp, trQQ, tau)
        c1d, c1o = _pair_sums(e1, e2, both, nboth, S11, S12, S22, N011, N012, N022, N011, N012,
                              N022, O11, O12, O12, O22, c0, c0, t0, tau)
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
        if per_class:
            for c in range(C):
                cls[t, c] = ss2 * p[c] * q[c] * pp[c] * qq[c]
        for k in range(pairs.shape[0]):
            c, c2 = pairs[k, 0], pairs[k, 1]
            cpair[t, k] = ss2 * p[c] * p[c2] * pp[c] * pp[c2]


def _offsets(C, offsets):
    """``(b, π)``: the logit offsets and the prior ``π = softmax(b)`` of the controls."""
    if offsets is None:
        return np.zeros(C), np.full(C, 1.0 / C)
    b = np.ascontiguousarray(offsets, dtype=np.float64)
    e = np.exp(b - b.max())
    return b, e / e.sum()


def pair_terms_numba(U, U2, Z, tau, *, offsets=None, per_class=False, pairs=None,
                     compiled=True):
    """Per-draw Rao–Blackwellized terms, shape ``(n, PAIR_COLUMNS)``; see the table above.

    ``offsets``: the logit offsets ``b`` (length C; None: identical classes). ``per_class=True``
    also returns the ``(n, C)`` per-class output-diagonal draws ``(s·s')² w_c w'_c`` and the
    ``(n, P)`` draws ``(s·s')² p_c p_c' p'_c p'_c'`` of the output blocks of the ``pairs``
    (P × 2 class indices). ``compiled=False`` runs the interpreted twin."""
    U = np.ascontiguousarray(U, dtype=np.float64)
    U2 = np.ascontiguousarray(U2, dtype=np.float64)
    Z = np.ascontiguousarray(Z, dtype=np.float64)
    n, C = U.shape[0], Z.shape[1]
    b, pi = _offsets(C, offsets)
    pairs = np.zeros((0, 2), dtype=np.int64) if pairs is None else \
        np.ascontiguousarray(pairs, dtype=np.int64).reshape(-1, 2)
    out = np.empty((n, PAIR_COLUMNS))
    cls = np.zeros((n, C) if per_class else (0, 0))
    cpair = np.zeros((n, pairs.shape[0]))
    (_pair_terms if compiled else interpreted(_pair_terms))(U, U2, Z, float(tau), b, pi, out, cls,
                                                          pairs, cpair)
    return (out, cls, cpair) if per_class else out


# --------------------------------------------------------------------------------------------------
# The γ-term with logit offsets, sampled (theory/cases.md, (CASE-31)): given s = relu(u) and the
# coordinates x = ζ_·1 (n, C) of the rows of V along s, E_w[κ_ij²] of (CASE-19) with
# p = softmax(√τ|s| x + b), averaged over i (column 0) and over the ordered pairs i ≠ j (column 1),
# indicators included.
@parallel_jit
def _gamma_terms(U, X, tau, b, out):  # twin: _gamma_terms.py_func
    n, m = U.shape
    C = X.shape[1]
    st = math.sqrt(tau)
    for t in prange(n):
        z = np.empty(C)
        p = np.empty(C)
        q = np.empty(C)
        a2 = np.empty(m)
        ns = 0.0
        k = 0
        for i in range(m):
            if U[t, i] > 0.0:
                a2[k] = U[t, i] * U[t, i]
                ns += a2[k]
                k += 1
        if k == 0:
            out[t, 0] = 0.0
            out[t, 1] = 0.0
            continue
        for i in range(k):
            a2[i] /= ns
        sig = st * math.sqrt(ns)
        for c in range(C):
            z[c] = sig * X[t, c] + b[c]
        softmax_row(z, p, q)
        sp = sx = sx2m = sp2 = sp3 = trQ = 0.0
        for c in range(C):
            w = p[c]
            sx += w * X[t, c]
            sx2m += w * (X[t, c] * X[t, c] - 1.0)
            sp2 += w * w
            sp3 += w * w * w
            trQ += w * q[c]
            sp += w
        mm = 0.0
        for c in range(C):
            d = X[t, c] - sx
            mm += p[c] * p[c] * d * d
        nmt = sx2m - sx * sx + sp2                   # n − tr Q, no cancellation (CASE-19)
        nn = nmt + trQ
        trQ2 = sp2 - 2.0 * sp3 + sp2 * sp2
        diag = 0.0
        a4 = 0.0
        for i in range(k):
            x = a2[i]
            y = x * nn + (1.0 - x) * trQ
            diag += y * y + 4.0 * x * (1.0 - x) * mm + 2.0 * (1.0 - x) * (1.0 - x) * trQ2
            a4 += x * x
        P2 = 1.0 - a4                                # Σ_{i≠j} a_i² a_j²
        S1 = 2.0 * (k - 1.0)                         # Σ_{i≠j} (a_i² + a_j²)
        NP = k * (k - 1.0)
        off = P2 * nmt * nmt + (S1 - 4.0 * P2) * mm + (NP - S1 + 2.0 * P2) * trQ2
        out[t, 0] = tau * tau * diag / m
        out[t, 1] = tau * tau * off / (m * (m - 1.0))


def gamma_terms_numba(U, X, tau, *, offsets=None, compiled=True):
    """Per-draw γ-terms ``(E_w a_ii², E_w a_ij²)`` averaged over the hidden units and pairs, shape
    ``(n, 2)`` (CASE-31); ``U`` (n, m), ``X`` (n, C) standard normal draws."""
    U = np.ascontiguousarray(U, dtype=np.float64)
    X = np.ascontiguousarray(X, dtype=np.float64)
    b, _ = _offsets(X.shape[1], offsets)
    out = np.empty((U.shape[0], 2))
    (_gamma_terms if compiled else interpreted(_gamma_terms))(U, X, float(tau), b, out)
    return out
