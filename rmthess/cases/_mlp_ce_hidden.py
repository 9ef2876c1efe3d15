r"""The ζ-expectation of the mlp-ce hidden pair terms (theory/cases.md, (CASE-33)).

Given ``(u, u')`` the Isserlis formula of (CASE-15) is a polynomial in 21 functions of the class
coordinates ζ: with ``Ñ = ζᵀQζ − trQ·I``, ``P̃ = ζᵀQ'ζ − trQ'·I``, ``M = ζᵀQQ'ζ``,

    E_w[κ_ij κ'_ij]/τ² = (c_iᵀÑc_j + δ_ij trQ)(c_iᵀP̃c_j + δ_ij trQ')
                         + (1 − |c_j|²) c_iᵀMc_i + P_ij (c_iᵀMc_j + c_jᵀMc_i)
                         + (1 − |c_i|²) c_jᵀMc_j + ((1 − |c_i|²)(1 − |c_j|²) + P_ij²) tr QQ',

``P_ij = δ_ij − c_i·c_j``. The classes are iid given ``(u, u')``, so the ζ-expectation of each of
``Ñ_ab P̃_cd``, ``Ñ_ab trQ'``, ``trQ P̃_cd``, ``trQ trQ'``, ``M_ab``, ``tr QQ'`` is a sum over the set
partitions of products of bivariate power sums ``P(k, k', f) = Σ_c p_c^k p'_c^{k'} f(ζ_c)``:

    E Π P = Σ_π (C)_q ∫∫ t^{K−1} t'^{K'−1} Π_B ψ_B(t, t') φ(t, t')^{C−q} dt dt' / (Γ(K)Γ(K')),

``ψ_{k,k',f} = E[e^{kx + k'y} f(ζ) exp(−te^x − t'e^y)]``, ``x = σ1ζ1``, ``y = βζ1 + γζ2``. The
weights are written in the coordinates centred at the tilted means, ``ζ − (σ1, 0)`` for the
factors of p and ``ζ − (β, γ)`` for those of p', so that no partition term is larger than the
result by a power of C. A product without a factor of p (of p') is multiplied by ``Σ p = 1``
(``Σ p' = 1``), so every term is a double integral. The expansion is generated once
(:func:`_expansion`); the quadrature reuses the tables of the output block
(:func:`weighted_tables`, (CASE-32)) with polynomial weights.
"""

from __future__ import annotations

import math
from collections import defaultdict
from functools import lru_cache

import numpy as np

from rmthess._jit import interpreted, jit, parallel_jit, prange
from rmthess.cases._mlp_ce_output import (
    _log_phi,
    quadrature_points,
    range_nats,
    u_step,
    weighted_tables,
)
from rmthess.integrals.powersums import _set_partitions

__all__ = ["hidden_expectations", "hidden_pair_terms", "hidden_check", "contract", "TARGETS"]

#: symmetric index pairs (a, b) of the 2×2 forms Ñ and P̃
_SYM = ((0, 0), (0, 1), (1, 1))
#: the 21 ζ-expectations, in the order of :func:`hidden_expectations`' columns
TARGETS = (tuple(("NP", ab, cd) for ab in _SYM for cd in _SYM)
           + tuple(("NT", ab) for ab in _SYM) + tuple(("TP", cd) for cd in _SYM) + (("TT",),)
           + tuple(("M", a, b) for a in (0, 1) for b in (0, 1)) + (("TQQ",),))
#: extra nats of the ξ, η ranges for weights of degree ≤ 4
_EXTRA = 8.0

# -- polynomials in the centred coordinates: exponents (a1, a2, b1, b2) of
#    ξ̃1 = ζ1 − σ1, ξ̃2 = ζ2 (factors of p), η̃1 = ζ1 − β, η̃2 = ζ2 − γ (factors of p')
_ONE = ((0, 0, 0, 0),)


def _pmul(p, q):
    out: dict = defaultdict(float)
    for k1, c1 in p.items():
        for k2, c2 in q.items():
            out[tuple(a + b for a, b in zip(k1, k2, strict=True))] += c1 * c2
    return {k: c for k, c in out.items() if c}


def _var(which, a):
    e = [0, 0, 0, 0]
    e[2 * which + a] = 1
    return {tuple(e): 1.0}


def _ps(k, kp, poly):
    """The expression ``P(k, k', poly)``: a list of ``(coef, factors)``."""
    return [(1.0, ((k, kp, tuple(sorted(poly.items()))),))]


def _add(*exprs):
    return [t for e in exprs for t in e]


def _scale(c, e):
    return [(c * a, f) for a, f in e]


def _mul(e1, e2):
    return [(a * b, f + g) for a, f in e1 for b, g in e2]


def _centred_form(a, b, prime):
    """``Ñ_ab`` (``P̃_ab`` when ``prime``) = ``Σp(ξ̃_aξ̃_b − δ_ab) − (Σpξ̃_a)(Σpξ̃_b) + δ_ab Σp²``:
    ``ζᵀQζ − trQ·I`` with the centre cancelling out (``Σ p = 1``)."""
    w, (k, kp) = (1, (0, 1)) if prime else (0, (1, 0))
    f = _pmul(_var(w, a), _var(w, b))
    if a == b:
        f[(0, 0, 0, 0)] = f.get((0, 0, 0, 0), 0.0) - 1.0
    e = _add(_ps(k, kp, f), _scale(-1.0, _mul(_ps(k, kp, _var(w, a)), _ps(k, kp, _var(w, b)))))
    return _add(e, _ps(2 * k, 2 * kp, {_ONE[0]: 1.0})) if a == b else e


def _target_expressions():
    one = {_ONE[0]: 1.0}
    const = [(1.0, ())]
    tr_q = _add(const, _scale(-1.0, _ps(2, 0, one)))
    tr_qp = _add(const, _scale(-1.0, _ps(0, 2, one)))
    out = []
    for t in TARGETS:
        if t[0] == "NP":
            out.append(_mul(_centred_form(*t[1], False), _centred_form(*t[2], True)))
        elif t[0] == "NT":
            out.append(_mul(_centred_form(*t[1], False), tr_qp))
        elif t[0] == "TP":
            out.append(_mul(tr_q, _centred_form(*t[1], True)))
        elif t[0] == "TT":
            out.append(_mul(tr_q, tr_qp))
        elif t[0] == "M":
            a, b = t[1], t[2]
            ma, mb = _ps(1, 0, _var(0, a)), _ps(0, 1, _var(1, b))
            # (Qζ_a)_c = p_c(ξ̃_ca − m_a), m_a = Σ p ξ̃_a; likewise Q'ζ_b with η̃
            out.append(_add(_ps(1, 1, _pmul(_var(0, a), _var(1, b))),
                            _scale(-1.0, _mul(ma, _ps(1, 1, _var(1, b)))),
                            _scale(-1.0, _mul(mb, _ps(1, 1, _var(0, a)))),
                            _mul(_mul(ma, mb), _ps(1, 1, one))))
        else:                       # tr QQ' = Σpp' − Σpp'² − Σp²p' + (Σpp')²
            out.append(_add(_ps(1, 1, one), _scale(-1.0, _ps(1, 2, one)),
                            _scale(-1.0, _ps(2, 1, one)), _mul(_ps(1, 1, one), _ps(1, 1, one))))
    return out


@lru_cache(maxsize=1)
def _expansion():
    """The partition terms of the 21 targets as arrays for the kernel:
    ``(const, W, key_q, key_K, key_Kp, key_blocks, blk_k, blk_kp, group_start, term_block,
    term_a, term_b, term_c, xmono, ymono)``, the terms ``c A[k, a] B[k', b]`` of the blocks'
    ψ sorted by their table ``B[k', b]``."""
    keys: dict = defaultdict(lambda: np.zeros(len(TARGETS)))
    const = np.zeros(len(TARGETS))
    for n, expr in enumerate(_target_expressions()):
        for coef, factors in expr:
            if not factors:
                const[n] += coef
                continue
            fs = list(factors)
            if sum(f[0] for f in fs) == 0:
                fs.append((1, 0, tuple({_ONE[0]: 1.0}.items())))
            if sum(f[1] for f in fs) == 0:
                fs.append((0, 1, tuple({_ONE[0]: 1.0}.items())))
            for part in _set_partitions(len(fs)):
                blocks = []
                for B in part:
                    w = {_ONE[0]: 1.0}
                    for a in B:
                        w = _pmul(w, dict(fs[a][2]))
                    blocks.append((sum(fs[a][0] for a in B), sum(fs[a][1] for a in B),
                                   tuple(sorted(w.items()))))
                key = (len(part), sum(b[0] for b in blocks), sum(b[1] for b in blocks),
                       tuple(sorted(blocks)))
                keys[key][n] += coef
    keys = {k: w for k, w in keys.items() if np.any(w != 0.0)}
    blocks = sorted({b for k in keys for b in k[3]})
    bindex = {b: i for i, b in enumerate(blocks)}
    xm = [(0, 0)] + sorted({(e[0], e[2]) for b in blocks for e, _ in b[2]} - {(0, 0)})
    ym = [(0, 0)] + sorted({(e[1], e[3]) for b in blocks for e, _ in b[2]} - {(0, 0)})
    xi, yi = {e: i for i, e in enumerate(xm)}, {e: i for i, e in enumerate(ym)}
    terms = sorted((b[1], yi[(e[1], e[3])], r, xi[(e[0], e[2])], c)
                   for r, b in enumerate(blocks) for e, c in b[2])   # grouped by table B[k', b]
    gstart = [0] + [n for n in range(1, len(terms) + 1)
                    if n == len(terms) or terms[n][:2] != terms[n - 1][:2]]
    klist = list(keys)
    kb = np.full((len(klist), 4), -1, dtype=np.int64)
    for r, k in enumerate(klist):
        kb[r, :len(k[3])] = [bindex[b] for b in k[3]]
    i64 = np.int64
    return (const, np.array([keys[k] for k in klist]), np.array([k[0] for k in klist], i64),
            np.array([k[1] for k in klist], i64), np.array([k[2] for k in klist], i64), kb,
            np.array([b[0] for b in blocks], i64), np.array([b[1] for b in blocks], i64),
            np.array(gstart, i64), np.array([t[2] for t in terms], i64),
            np.array([t[3] for t in terms], i64), np.array([t[1] for t in terms], i64),
            np.array([t[4] for t in terms]), np.array(xm, i64), np.array(ym, i64))


@jit
def _cap(sig, classes, nats):
    """An upper end of ``u = log t`` beyond which ``φ^{C−4} ≤ e^{−T}``, ``T = nats + 8 + 4 log C``
    (the bulk of a term is ``~C^{−K−K'}``, ``K + K' ≤ 4``, while beyond the end ``e^{Ku + K'v}Πψ``
    is bounded): for any w, ``1 − φ ≥ Φ̄(w)(1 − exp(−e^{u + σw}))`` (the event ``ξ ≥ w``), so
    ``u ≥ log(−log(1 − r/Φ̄(w))) − σw`` with ``r = T/(C − 4)`` suffices; the least over a grid
    of w. +inf where no w qualifies (small C)."""
    if classes <= 4:
        return math.inf
    r = (nats + 8.0 + 4.0 * math.log(classes)) / (classes - 4.0)
    best = math.inf
    for n in range(33):
        w = -4.0 + 0.25 * n
        tail = 0.5 * math.erfc(w / math.sqrt(2.0))
        if r < tail:
            best = min(best, math.log(-math.log1p(-r / tail)) - sig * w)
    return best


@jit
def _point(s1, s2, rho, classes, res, const, W, kq, kK, kKp, kblocks, bk, bkp, gstart, tblock, ta,
           tb, tc, xmono, ymono):
    """The 21 ζ-expectations of (CASE-33) at one point ``(σ1, σ2, ρ)``."""
    C = float(classes)
    nats = range_nats(res)
    u, v, hu, A, B, cx, Bc = weighted_tables(s1, s2, rho, classes, res, 2, 2.0, xmono, ymono,
                                             _EXTRA, _cap(s1, classes, nats) + u_step(res),
                                             _cap(s2, classes, nats) + u_step(res))
    lphi = _log_phi(cx, A[0, 0], B[0, 0], Bc)
    nu, nv, nx = u.size, v.size, A.shape[3]
    nb = bk.size
    psi = np.zeros((nb, nu, nv))
    # ψ_b = Σ_t c_t A[k_b, a_t] B[k'_b, b_t], the terms grouped by their table B[k', b]
    for g in range(gstart.size - 1):
        Bt = B[bkp[tblock[gstart[g]]], tb[gstart[g]]]
        for t in range(gstart[g], gstart[g + 1]):
            At = A[bk[tblock[t]], ta[t]]
            P = psi[tblock[t]]
            for i in range(nu):
                for k in range(nx):
                    a = tc[t] * At[i, k]
                    if a != 0.0:
                        for j in range(nv):
                            P[i, j] += a * Bt[k, j]
    # e^{Ku + K'v} φ^{C−q} for K, K' ∈ {1, 2}, q ≤ 4
    base = np.zeros((3, 3, 5, nu, nv))
    for K in range(1, 3):
        for Kp in range(1, 3):
            for q in range(1, 5):
                for i in range(nu):
                    for j in range(nv):
                        if lphi[i, j] > -math.inf:
                            base[K, Kp, q, i, j] = math.exp(K * u[i] + Kp * v[j]
                                                            + (C - q) * lphi[i, j])
                # below the first row (column) the integrand is e^{Ku}(e^{K'v}) times its value
                # there: the trapezoid sum of the tail is a geometric series
                for j in range(nv):
                    base[K, Kp, q, 0, j] /= -math.expm1(-K * hu)
                for i in range(nu):
                    base[K, Kp, q, i, 0] /= -math.expm1(-Kp * hu)
    out = const.copy()
    for r in range(kq.size):
        q = kq[r]
        if q > classes:
            continue
        g = base[kK[r], kKp[r], q]
        acc = 0.0
        for i in range(nu):
            for j in range(nv):
                x = g[i, j]
                if x == 0.0:
                    continue
                for s in range(4):
                    if kblocks[r, s] >= 0:
                        x *= psi[kblocks[r, s], i, j]
                acc += x
        for i in range(q):
            acc *= C - i                                   # (C)_q
        acc *= hu * hu
        for n in range(out.size):
            out[n] += W[r, n] * acc
    return out


@parallel_jit
def _points(s1, s2, rho, classes, res, out, const, W, kq, kK, kKp, kblocks, bk, bkp, gstart,
            tblock, ta, tb, tc, xmono, ymono):  # twin: _points.py_func
    for n in prange(s1.size):
        if s1[n] > 0.0 and s2[n] > 0.0:
            out[n] = _point(s1[n], s2[n], rho[n], classes, res, const, W, kq, kK, kKp, kblocks,
                            bk, bkp, gstart, tblock, ta, tb, tc, xmono, ymono)


def hidden_expectations(s1, s2, rho, classes, *, res=1.0, compiled=True):
    """``(n, 21)`` array of the ζ-expectations :data:`TARGETS` of (CASE-33) at the points
    ``(σ1, σ2, ρ)`` = ``(√τ|s|, √τ|s'|, ŝ·ŝ')`` (a point with σ1 = 0 or σ2 = 0 gives zeros: it has
    no active pair). ``OutputDomainError`` (a ``ValueError``) above ``_mlp_ce_output.SIGMA_MAX``."""
    s1, s2, rho = quadrature_points(s1, s2, rho, classes, "the quadrature of (CASE-33)")
    out = np.zeros((s1.size, len(TARGETS)))
    (_points if compiled else interpreted(_points))(s1, s2, rho, int(classes), float(res), out,
                                                    *_expansion())
    return out


def _basis(U, U2):
    """``(e1, e2, |s|, b1, b2, both)`` of (CASE-15) for rows of u, u' (``s' = b1 e1 + b2 e2``,
    ``both``: the units active in u and in u')."""
    s, s2 = np.maximum(U, 0.0), np.maximum(U2, 0.0)
    ns = np.linalg.norm(s, axis=1)
    e1 = np.divide(s, ns[:, None], out=np.zeros_like(s), where=ns[:, None] > 0)
    b1 = (s2 * e1).sum(1)
    r = s2 - b1[:, None] * e1
    nr = np.linalg.norm(r, axis=1)
    ok = nr > 1e-12 * np.linalg.norm(s2, axis=1)
    e2 = np.divide(r, nr[:, None], out=np.zeros_like(r), where=ok[:, None])
    return e1, e2, ns, b1, np.where(ok, nr, 0.0), (s > 0) & (s2 > 0)


def hidden_pair_terms(U, U2, tau, classes, *, res=1.0, compiled=True):
    """``(n, 2)``: the ζ-expectations of the pair terms ``E_w[a_ij(u) a_ij(u')]`` of (CASE-15),
    averaged over the hidden units (column 0) and over the ordered pairs i ≠ j (column 1),
    indicators included — the expectations over ζ of columns 0, 1 of the sampled pair kernel
    (CASE-18), by the quadrature of (CASE-33)."""
    U = np.asarray(U, dtype=np.float64)
    U2 = np.asarray(U2, dtype=np.float64)
    n, m = U.shape
    e1, e2, ns, b1, b2, both = _basis(U, U2)
    st = math.sqrt(tau)
    s2n = np.hypot(b1, b2)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(ns * s2n > 0, b1 / np.maximum(s2n, 1e-300), 0.0)
    E = np.zeros((n, len(TARGETS)))
    act = both.any(1)                       # a point without an active pair contributes 0
    E[act] = hidden_expectations(st * ns[act], st * s2n[act], np.clip(rho[act], 0.0, 1.0),
                                 classes, res=res, compiled=compiled)
    return contract(e1, e2, both, E, tau, m)


def contract(e1, e2, both, E, tau, m):
    """``(n, 2)``: the pair terms of (CASE-33) averaged over the m units (column 0) and the
    ordered pairs (column 1), from the basis coordinates ``(e1, e2)`` and the activity ``both``
    of some w ≤ m of the units (``(n, w)`` each; the units left out must be inactive in u or u')
    and the 21 ζ-expectations ``E`` (``(n, 21)``).

    Every term of the double sum over the active units i, j is a product of bilinear forms
    ``c_iᵀ B c_j`` (``c_i = (e1_i, e2_i)``), so the sums reduce to the 2 × 2 Gram matrix
    ``S = Σ_i c_i c_iᵀ``, ``Σ_{ij} (c_iᵀB c_j)(c_iᵀB' c_j) = tr(S B S B'ᵀ)``, and per-unit
    fourth moments for the diagonal: O(n w) instead of the O(n w²) of the literal sum
    (theory/cases.md, (CASE-33); the literal sum is the oracle of the tests).
    """
    n = E.shape[0]
    NP = E[:, :9].reshape(n, 3, 3)
    NT, TP, TT = E[:, 9:12], E[:, 12:15], E[:, 15]
    M = E[:, 16:20].reshape(n, 2, 2)
    TQQ = E[:, 20]
    c = np.stack([e1, e2], axis=2) * both[:, :, None]               # (n, w, 2), inactive rows 0
    a = both.sum(1).astype(float)                                     # active units
    S = np.einsum("nia,nib->nab", c, c)                               # Gram matrix
    trS = S[:, 0, 0] + S[:, 1, 1]
    q = np.stack([c[:, :, 0] ** 2, 2.0 * c[:, :, 0] * c[:, :, 1], c[:, :, 1] ** 2], axis=2)
    Q = q.sum(1)                                                      # Σ_i w_ii
    cc = c[:, :, 0] ** 2 + c[:, :, 1] ** 2                            # |c_i|²
    dq = np.einsum("nia,nab,nib->ni", c, M, c)                        # c_iᵀ M c_i
    # first part: w_ij · NP · w_ij + δ_ij (w_ii · (NT + TP) + TT), w_ij,s = c_iᵀ B_s c_j
    SB = np.stack([S[:, :, 0:1] * np.array([1.0, 0.0]),               # S B_0, B_0 = e0 e0ᵀ
                   S[:, :, ::-1],                                     # S B_1, B_1 = [[0,1],[1,0]]
                   S[:, :, 1:2] * np.array([0.0, 1.0])], axis=1)      # S B_2, B_2 = e1 e1ᵀ
    cross = np.einsum("nsab,ntba->nst", SB, SB)                       # tr(S B_s S B_t), B_t = B_tᵀ
    delta = np.einsum("ns,ns->n", Q, NT + TP) + a * TT
    first_diag = np.einsum("nis,nst,nit->n", q, NP, q) + delta
    first_all = np.einsum("nst,nst->n", NP, cross) + delta
    # second part: r_j dq_i + p_ij (mq_ij + mq_ji) + r_i dq_j + (r_i r_j + p_ij²) TQQ,
    # r_i = 1 - |c_i|², p_ij = δ_ij - c_i·c_j, mq_ij = c_iᵀ M c_j
    trMS = np.einsum("nab,nba->n", M, S)
    SS = np.einsum("nab,nbc->nac", S, S)
    trSS = SS[:, 0, 0] + SS[:, 1, 1]
    second_all = (2.0 * trMS * (a - trS) + 2.0 * trMS - np.einsum("nab,nab->n", SS, M)
                  - np.einsum("nab,nba->n", SS, M)
                  + ((a - trS) ** 2 + a - 2.0 * trS + trSS) * TQQ)
    r = (1.0 - cc) * both
    second_diag = 4.0 * (r * dq).sum(1) + 2.0 * (r * r).sum(1) * TQQ
    diag = tau * tau * (first_diag + second_diag)
    total = tau * tau * (first_all + second_all)
    off = np.where(a >= 2.0, total - diag, 0.0)                     # exactly 0 without a pair
    return np.column_stack([diag / m, off / (m * (m - 1.0))])


def hidden_check(U, U2, tau, classes):
    """Largest relative difference of :func:`hidden_pair_terms` between resolutions 1 and 2."""
    a = hidden_pair_terms(U, U2, tau, classes)
    b = hidden_pair_terms(U, U2, tau, classes, res=2.0)
    mask = b != 0
    return float(np.max(np.abs(a - b)[mask] / np.abs(b[mask]), initial=0.0))
