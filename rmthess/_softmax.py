r"""The softmax, its Jacobian ``Q = diag p − ppᵀ`` and ``κ = Vᵀ Q V``, without cancellation.

Every part of the package that needs class probabilities uses this module
(theory/softmax_moments.md, (SMX-1)). For logits ``z ∈ R^C`` with a largest entry ``z_k``:

* ``e_c = exp(z_c − z_k)`` (``e_k = 1``), ``S = Σ_c e_c``, ``p_c = e_c/S``;
* ``q_c = 1 − p_c`` is taken as ``(Σ_{c'≠k} e_{c'})/S`` for ``c = k`` — never as ``1 − p_k``, which
  loses all digits when ``p_k → 1`` — and as ``1 − p_c`` otherwise (``p_c ≤ 1/2`` there, no
  cancellation). ``Q_cc = p_c q_c`` and ``Q_cc' = −p_c p_c'``;
* ``κ = Vᵀ Q V = Σ_c p_c (v_c − μ)(v_c − μ)ᵀ`` with ``μ = Σ_c p_c v_c`` the rows ``v_c`` of V. The
  centred rows are formed from the differences to the row of the largest class,
  ``δ_c = v_c − v_k``: ``μ − v_k = Σ_{c≠k} p_c δ_c`` is a sum of small terms when ``p_k → 1``, so
  ``v_k − μ`` keeps its relative accuracy where ``v_k − Σ_c p_c v_c`` would cancel.

Every entry of ``p``, ``q``, ``Q`` is then accurate to a few units in the last place, and ``κ`` to a
few units relative to ``√(κ_ii κ_jj)``, however saturated the logits (tested against mpmath at 50
digits, tests/test_softmax.py). ``p`` alone determines ``κ`` accurately: the reference class is
``argmax p`` and only the small ``p_c`` (c ≠ k) enter ``μ − v_k``.

Two forms of the one definition: the row functions (``softmax_row``, ``centre_row``,
``kappa_entry``) are written in plain Python that numba compiles (:func:`rmthess._jit.jit`; their
interpreted twins by :func:`rmthess._jit.interpreted`) and are the building blocks of the kernels of
the model cases; the array functions (:func:`softmax`, :func:`softmax_complement`,
:func:`softmax_logsumexp`, :func:`softmax_jacobian`, :func:`kappa`) are their vectorised numpy form
over rows (:func:`kappa` runs the compiled row functions). tests/test_softmax.py holds both forms to
the same mpmath oracle and to each other.

Examples
--------
>>> import numpy as np
>>> p, q = softmax_complement(np.array([0.0, -40.0]))      # p_0 = 1 − e^{−40} + …
>>> float(1.0 - p[0]), float(q[0] / np.exp(-40.0))       # the complement keeps every digit
(0.0, 1.0)
"""

from __future__ import annotations

import math

import numpy as np

from rmthess._jit import jit, parallel_jit, prange

__all__ = ["softmax_row", "centre_row", "kappa_entry", "softmax", "softmax_complement",
           "softmax_logsumexp", "softmax_jacobian", "kappa"]


@jit
def softmax_row(z, p, q):
    """Fill ``p = softmax(z)`` and ``q = 1 − p`` (stable, see the module notes) for one row of
    logits; return ``log Σ_c e^{z_c}``."""
    C = z.shape[0]
    k = 0
    for c in range(1, C):
        if z[c] > z[k]:
            k = c
    tot = 0.0
    rest = 0.0
    for c in range(C):
        e = math.exp(z[c] - z[k])
        p[c] = e
        tot += e
        if c != k:
            rest += e
    for c in range(C):
        p[c] /= tot
        q[c] = 1.0 - p[c]
    q[k] = rest / tot
    return z[k] + math.log(tot)


@jit
def centre_row(V, p, D):
    """Fill ``D[c] = v_c − μ``, ``μ = Σ_c p_c v_c`` (rows ``v_c`` of the C×m matrix ``V``), from the
    differences to the row of the most probable class (no cancellation as ``p_k → 1``)."""
    C, m = V.shape
    k = 0
    for c in range(1, C):
        if p[c] > p[k]:
            k = c
    for i in range(m):
        mu = 0.0
        for c in range(C):
            if c != k:
                mu += p[c] * (V[c, i] - V[k, i])
        for c in range(C):
            D[c, i] = (V[c, i] - V[k, i]) - mu if c != k else -mu


@jit
def kappa_entry(p, D, i, j):
    """``κ_ij = Σ_c p_c D_ci D_cj`` from the centred rows of :func:`centre_row`."""
    acc = 0.0
    for c in range(p.shape[0]):
        acc += p[c] * D[c, i] * D[c, j]
    return acc


@parallel_jit
def _kappa_rows(V, p, out):  # twin: _kappa_rows.py_func
    C, m = V.shape
    rows = p.shape[0]
    for c in prange((rows + 63) // 64):          # blocks of 64 rows, one scratch array each
        D = np.empty((C, m))
        for t in range(64 * c, min(rows, 64 * c + 64)):
            centre_row(V, p[t], D)
            for i in range(m):
                for j in range(i, m):
                    val = kappa_entry(p[t], D, i, j)
                    out[t, i, j] = val
                    out[t, j, i] = val


def _logits(z):
    z = np.asarray(z, dtype=np.float64)
    if z.ndim not in (1, 2) or z.shape[-1] < 1:
        raise ValueError(f"logits must be a 1-D or 2-D array with at least one class, "
                         f"got shape {z.shape}")
    if not np.all(np.isfinite(z)):
        raise ValueError("logits must be finite (found NaN or inf)")
    return np.ascontiguousarray(np.atleast_2d(z)), z.ndim == 1


def _rows(z):
    """``(p, q, log-sum-exp)`` of every row: the vectorised form of :func:`softmax_row`."""
    z2, flat = _logits(z)
    top = z2.max(axis=-1, keepdims=True)
    e = np.exp(z2 - top)
    tot = e.sum(axis=-1, keepdims=True)
    p = e / tot
    rows, k = np.arange(z2.shape[0]), np.argmax(z2, axis=-1)
    e[rows, k] = 0.0
    q = 1.0 - p
    q[rows, k] = e.sum(axis=-1) / tot[:, 0]
    lse = (top + np.log(tot))[:, 0]
    return (p[0], q[0], lse[0]) if flat else (p, q, lse)


def softmax_complement(z):
    """``(p, 1 − p)`` of every row of logits ``z`` (shape ``(C,)`` or ``(n, C)``), both accurate to
    a few units in the last place at any saturation."""
    return _rows(z)[:2]


def softmax_logsumexp(z):
    """``(p, log Σ_c e^{z_c})`` of every row of logits ``z`` (the loss of the CE networks)."""
    p, _, lse = _rows(z)
    return p, lse


def softmax(z):
    """Row-wise softmax of ``z`` (shape ``(C,)`` or ``(n, C)``), overflow-safe."""
    return softmax_complement(z)[0]


def softmax_jacobian(z):
    """``Q = diag p − ppᵀ`` for every row of logits: shape ``(C, C)`` or ``(n, C, C)``; the diagonal
    is ``p_c (1 − p_c)`` with the complement of :func:`softmax_complement`."""
    p, q = softmax_complement(z)
    Q = -p[..., :, None] * p[..., None, :]
    idx = np.arange(p.shape[-1])
    Q[..., idx, idx] = p * q
    return Q


def kappa(V, p):
    """``κ_n = Vᵀ(diag p_n − p_n p_nᵀ)V`` for the C×m matrix ``V`` and probabilities ``p`` of shape
    ``(C,)`` or ``(n, C)``: shape ``(m, m)`` or ``(n, m, m)``."""
    V = np.ascontiguousarray(V, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    flat = p.ndim == 1
    p2 = np.ascontiguousarray(np.atleast_2d(p))
    if V.ndim != 2 or p2.ndim != 2 or p2.shape[1] != V.shape[0]:
        raise ValueError(f"V must be C×m and p must have C columns, got shapes {V.shape}, "
                         f"{p.shape}")
    if not (np.all(np.isfinite(V)) and np.all(np.isfinite(p2))):
        raise ValueError("V and p must be finite (found NaN or inf)")
    out = np.empty((p2.shape[0], V.shape[1], V.shape[1]))
    _kappa_rows(V, p2, out)
    return out[0] if flat else out
