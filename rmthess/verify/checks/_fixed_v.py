r"""Theorem 2 for the CE network at a fixed V: the per-V limit by plain Monte Carlo over u.

At fixed output weights V (C×m) the hidden blocks of the 1-hidden-layer CE network obey (CASE-9)

.. math:: (1/d)\|H_{w_iw_j}\|_F^2 → G_{ij}(V) = (E_u a_{ij})^2 + γ\,E_u a_{ij}^2,

``a_ij(u) = κ_ij(u) 1(u_i>0) 1(u_j>0)``, ``κ(u) = Vᵀ(diag p − ppᵀ)V``, ``p = softmax(V relu(u))``,
and the output blocks ``H_{v_c v_c'} = (1/N) Σ_n b_cc'(u_n) s_n s_nᵀ`` (``b_cc = p_c − p_c²``,
``b_cc' = −p_c p_c'``, ``s = relu(u)``) have, for N iid draws ``u_n``, the exact expectation

.. math:: E\|H_{v_cv_{c'}}\|_F^2 = (1 − 1/N)\,\|E_u[b_{cc'} s sᵀ]\|_F^2 + E_u[b_{cc'}^2 |s|^4]/N.

:func:`per_v_moments` estimates the ingredients for one V by plain Monte Carlo over ``n_u`` fresh
draws ``u = L g`` (``g ~ N(0, I_m)``, ``L`` a covariance factor, identity by default) with unbiased
U-statistics for the squared means, written in numpy from the formulas above — a route independent
of the Rao–Blackwellized RQMC integrals of :mod:`rmthess.cases.mlp_ce` (theory/verification.md,
VER-13). Softmax, ``1 − p`` and ``κ`` are those of :mod:`rmthess._softmax` (tested against mpmath).
"""

from __future__ import annotations

import numpy as np

from rmthess._softmax import kappa, softmax, softmax_complement

__all__ = ["per_v_moments", "pair_moments", "moments_over_v", "hidden_weights", "MOMENTS"]

#: columns of :func:`per_v_moments`: hidden (E a)² and E a² averaged over the diagonal and the
#: off-diagonal pairs, output ‖E b s sᵀ‖² and E b²|s|⁴ averaged over c and over the pairs c ≠ c'
MOMENTS = ("T1_ii", "T1_ij", "T2_ii", "T2_ij", "O_ii", "O_ij", "Q_ii", "Q_ij")

_CHUNK = 2048


def per_v_moments(V, rng, n_u, *, factor=None, output_draws=None) -> np.ndarray:
    """The :data:`MOMENTS` of one V from ``n_u`` draws of u; ``factor`` L gives ``u = L g``
    (covariance ``LLᵀ``). The output columns use the first ``output_draws`` draws (default all;
    their pair sums cost ``O(n²C)``; 0: output columns 0)."""
    V = np.asarray(V, dtype=float)
    C, m = V.shape
    n_u = int(n_u)
    if n_u < 2:
        raise ValueError(f"n_u must be >= 2, got {n_u}")
    a1 = np.zeros(m * m)
    a2 = np.zeros(m * m)
    n_out = n_u if output_draws is None else min(int(output_draws), n_u)
    if n_out == 1:
        raise ValueError("output_draws must be 0 or >= 2")
    G = []
    for start in range(0, n_u, _CHUNK):
        k = min(_CHUNK, n_u - start)
        u = rng.standard_normal((k, m))
        if factor is not None:
            u = u @ np.asarray(factor, dtype=float).T
        s = np.maximum(u, 0.0)
        p, q = softmax_complement(s @ V.T)
        a = _weights(V, u, p)
        a1 += a.sum(axis=0)
        a2 += (a * a).sum(axis=0)
        if start < n_out:
            G.append((s[:n_out - start], p[:n_out - start], q[:n_out - start]))
    nn = float(n_u) * (n_u - 1)
    eye = np.eye(m, dtype=bool).ravel()
    sq = (a1 * a1 - a2) / nn
    ms = a2 / n_u
    out = [sq[eye].mean(), sq[~eye].mean(), ms[eye].mean(), ms[~eye].mean()]
    if n_out:
        out += _output_moments(*(np.concatenate(x) for x in zip(*G, strict=True)))
    else:
        out += [0.0, 0.0, 0.0, 0.0]
    return np.asarray(out, dtype=float)


def _weights(V, u, p):
    """``a_ij(u)`` for every pair, shape ``(n, m²)``, given the softmax probabilities ``p``."""
    k, m = u.shape
    on = (u > 0).astype(float)
    return (kappa(V, p) * on[:, :, None] * on[:, None, :]).reshape(k, m * m)


def hidden_weights(V, u) -> np.ndarray:
    """``a_ij(u_n)`` for rows ``u_n``: shape ``(n, m, m)``."""
    V = np.asarray(V, dtype=float)
    u = np.atleast_2d(np.asarray(u, dtype=float))
    m = V.shape[1]
    return _weights(V, u, softmax(np.maximum(u, 0.0) @ V.T)).reshape(-1, m, m)


def pair_moments(V, rng, n_u, i, j, *, factor=None) -> tuple[float, float]:
    """``((E a_ij)², E a_ij²)`` of one pair from ``n_u`` draws ``u = L g`` (unbiased
    U-statistic)."""
    n_u = int(n_u)
    if n_u < 2:
        raise ValueError(f"n_u must be >= 2, got {n_u}")
    m = np.shape(V)[1]
    s1 = s2 = 0.0
    for start in range(0, n_u, _CHUNK):
        u = rng.standard_normal((min(_CHUNK, n_u - start), m))
        if factor is not None:
            u = u @ np.asarray(factor, dtype=float).T
        p = softmax(np.maximum(u, 0.0) @ V.T)
        a = kappa(V[:, [i, j]], p)[:, 0, 1] * (u[:, i] > 0) * (u[:, j] > 0)
        s1 += float(a.sum())
        s2 += float(a @ a)
    return (s1 * s1 - s2) / (n_u * (n_u - 1.0)), s2 / n_u


def _output_moments(s, p, q):
    r"""Output columns from the pair sums over ``u ≠ u'``: with ``T_c = Σ_u b_cc(u) s sᵀ`` and
    ``P_cc' = Σ_u p_c p_c' s sᵀ``, ``Σ_c ‖T_c‖²`` and ``Σ_{c≠c'} ‖P_cc'‖²`` are the sums over all
    pairs ``(u, u')`` of ``(s·s')² (b_u·b_u')`` and ``(s·s')² ((p_u·p_u')² − p_u²·p_u'²)``;
    dropping ``u = u'`` gives the U-statistics; ``b_cc = p_c (1 − p_c)`` with the complement ``q``
    (SMX-1), so the diagonal sum has no cancellation.

    The matrices are formed directly, on the ``m(m + 1)/2`` entries ``i ≤ j`` (the others by
    symmetry) and the pairs ``c < c'``: one product ``Zᵀ Y`` with ``Z = [s_i s_j]``
    (``n × m(m + 1)/2``) and ``Y = [b_c]`` or ``[p_c p_c']``, ``O(n m² C²)`` work instead of the
    ``O(n² (m + C))`` of the pair sums (the block-norm sums of MC-4 with the weights
    ``Λ_u = diag p − ppᵀ``, which give the same numbers to round-off). The ``u = u'`` terms,
    ``|s|⁴ |b|²`` and ``|s|⁴ ((Σ p²)² − Σ p⁴)``, are subtracted and give the ``Q`` columns.
    """
    n, C = p.shape
    m = s.shape[1]
    b = p * q
    p2 = p * p
    iu, ju = np.triu_indices(m)
    w = np.where(iu == ju, 1.0, 2.0)
    Z = s[:, iu] * s[:, ju]
    T = Z.T @ b
    all_d = float(w @ np.einsum("kc,kc->k", T, T))
    ic, jc = np.triu_indices(C, 1)
    P = Z.T @ (p[:, ic] * p[:, jc])
    all_o = 2.0 * float(w @ np.einsum("kc,kc->k", P, P))
    s4 = np.einsum("ij,ij->i", s, s) ** 2
    self_d = float(s4 @ (b * b).sum(axis=1))
    self_o = float(s4 @ ((p2.sum(axis=1)) ** 2 - (p2 * p2).sum(axis=1)))
    nn = float(n) * (n - 1)
    o_d = (all_d - self_d) / nn / C
    o_o = (all_o - self_o) / nn / (C * (C - 1))
    return [o_d, o_o, self_d / n / C, self_o / n / (C * (C - 1))]


def moments_over_v(classes, m, n_v, n_u, seed, *, sigma_v=1.0):
    """:func:`per_v_moments` of ``n_v`` independent Gaussian V (entries ``N(0, σ_v²/m)``), ``n_u``
    draws of ``u ~ N(0, I_m)`` each; returns ``(moments (n_v×8), V stack (n_v×C×m))``."""
    rng = np.random.default_rng(seed)
    Vs = rng.standard_normal((int(n_v), int(classes), int(m))) * (sigma_v / np.sqrt(m))
    return np.array([per_v_moments(V, rng, n_u) for V in Vs]), Vs
