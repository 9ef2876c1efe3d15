r"""Hessian-vector and Gauss–Newton-vector products, batched over probe vectors.

For a direction ``θ̇ = (Ẇ, V̇)`` the forward tangents are ``u̇_n = Ẇ x_n``, ``ṡ_n = D_n ⊙ u̇_n`` and
``ḟ_n = V ṡ_n + V̇ s_n``; the Gauss–Newton product pulls ``g_n = Q_n ḟ_n`` back through ``J_nᵀ``,
and the residual part adds the mixed second derivatives ``∂²f_nc/∂w_ia ∂v_cb = δ_bi D_ni x_na``
(eq. NET-7 of ``theory/networks.md``)::

    (Hθ̇)_W = (1/N) [((G V + R V̇) ⊙ D)ᵀ X]           (Hθ̇)_V = (1/N) [Gᵀ S + Rᵀ (D ⊙ U̇)]

with ``G`` the stack of ``g_n``. Each product costs ``O(N (md + Cm))`` — no Hessian is formed,
which is how block structure is measured for models too large to hold.

Batches of up to ``_MAX_PROBES`` directions are done together, one block of samples at a time: each
product above is one matrix product over all the directions of the batch (their tangents side by
side as columns), and a block's tangents (``probes × rows × C``, ``_BLOCK_FLOATS`` floats) stay in
cache from the forward product ``X_b Ẇᵀ`` to the backward one ``(…)ᵀ X_b``. The data ``X``, ``P``
and ``R`` are then read from memory once per batch instead of several times per direction, so a
batched product costs less per direction than a single one. The sums over samples are accumulated
block by block (round-off of order ``ε`` relative, as for any order of summation).
"""

from __future__ import annotations

import numpy as np

from rmthess._threads import blas_threads
from rmthess._validate import check_finite_array
from rmthess.networks.model import Network

__all__ = ["hvp", "gnvp"]

#: probes per batch: every product of a batch is one matrix product over the batch's columns
_MAX_PROBES = 8
#: floats of the tangents of one block of samples (probes × rows × C, about 1 MB): small enough
#: to stay in cache between the forward and backward products of the block
_BLOCK_FLOATS = 1 << 17
#: fewest samples per block (below, the per-block overhead of the products dominates)
_MIN_ROWS = 64
#: fewest samples per block of the linear model, whose accumulator ``k C × d`` is as large as the
#: block's products are long: 1024 rows keep its update below a tenth of the block's time
_MIN_ROWS_LINEAR = 1024


def _q_inplace(net: Network, G: np.ndarray, P: np.ndarray, axes: str) -> np.ndarray:
    """``Q_n g = p ⊙ (g − pᵀg)`` (CE) or ``g`` (MSE) on ``G`` in place; ``axes`` names the
    axes of ``G`` (``"rkc"``: rows, probes, classes; ``"krc"``: probes first)."""
    if net.loss == "mse":
        return G
    G -= np.einsum(f"{axes},rc->{axes[:2]}", G, P)[:, :, None]
    G *= P[:, None, :] if axes == "rkc" else P[None, :, :]
    return G


def _rows(net: Network, k: int, least: int):
    """Slices of the samples: blocks whose (k, rows, C) tangent holds ``_BLOCK_FLOATS`` floats."""
    n = net.n_samples
    step = max(least, _BLOCK_FLOATS // max(1, k * max(net.classes, net.width or 0)))
    return [slice(s, min(n, s + step)) for s in range(0, n, step)]


def _linear_batch(net: Network, blk: np.ndarray) -> np.ndarray:
    """``(1/N) Xᵀ Q (X V̇ᵀ)`` for a batch of ``k`` directions (rows of ``blk``)."""
    k, C, d = blk.shape[0], net.classes, net.dim
    dVt = blk.reshape(k * C, d).T  # (d, kC): column (probe, class)
    acc = np.zeros((k * C, d))
    for sl in _rows(net, k, _MIN_ROWS_LINEAR):
        Xb = net.X[sl]
        G = (Xb @ dVt).reshape(-1, k, C)  # one pass over the block of X for all probes
        _q_inplace(net, G, None if net.P is None else net.P[sl], "rkc")
        acc += G.reshape(-1, k * C).T @ Xb
    return acc.reshape(k, C * d)


def _mlp_batch(net: Network, blk: np.ndarray, *, gn: bool, residual: bool) -> np.ndarray:
    """The products of eq. (NET-7) for a batch of ``k`` directions, block of samples by block."""
    k, C, m, d = blk.shape[0], net.classes, net.width, net.dim
    dV, dW = net.split(blk)  # (k, C, m), (k, m, d)
    dWt = dW.reshape(k * m, d).T  # (d, km): column (probe, unit)
    # ḟ = [Ṡ, S] [Vᵀ; V̇ᵀ]: one product per probe with inner dimension 2m
    rhs = np.concatenate([np.broadcast_to(net.V.T, (k, m, C)), dV.transpose(0, 2, 1)], axis=1)
    dV_ck = dV.transpose(1, 0, 2).reshape(C, k * m)  # R V̇ for all probes: (C, km)
    oW = np.zeros((k * m, d))
    oV = np.zeros((k, C, m))
    oV_res = np.zeros((C, k * m))  # Rᵀ (D ⊙ U̇), column (probe, unit)
    for sl in _rows(net, k, _MIN_ROWS):
        Xb, Db, Sb = net.X[sl], net.D[sl], net.S[sl]
        r = Xb.shape[0]
        ds = (Xb @ dWt).reshape(r, k, m)  # U̇ = X Ẇᵀ, one pass over the block of X
        ds *= Db[:, None, :]  # Ṡ = D ⊙ U̇
        back = np.zeros((k, r, m))
        if gn:
            lhs = np.concatenate([ds.transpose(1, 0, 2), np.broadcast_to(Sb, (k, r, m))], axis=2)
            G = _q_inplace(net, np.matmul(lhs, rhs), None if net.P is None else net.P[sl], "krc")
            back += (G.reshape(k * r, C) @ net.V).reshape(k, r, m)
            oV += np.matmul(G.transpose(0, 2, 1), Sb)
        if residual:
            back += (net.R[sl] @ dV_ck).reshape(r, k, m).transpose(1, 0, 2)
            oV_res += net.R[sl].T @ ds.reshape(r, k * m)
        back *= Db[None, :, :]
        # the second pass over the block of X, still in cache
        oW += back.transpose(0, 2, 1).reshape(k * m, r) @ Xb
    oV += oV_res.reshape(C, k, m).transpose(1, 0, 2)
    return np.concatenate([oW.reshape(k, m * d), oV.reshape(k, C * m)], axis=1)


def _products(net: Network, vectors, *, gn: bool, residual: bool) -> np.ndarray:
    vec = check_finite_array("vectors", vectors)
    single = vec.ndim == 1
    vec = np.atleast_2d(vec)
    if vec.ndim != 2 or vec.shape[1] != net.n_params:
        raise ValueError(f"vectors must have shape (P,) or (K, P) with P = {net.n_params}, "
                         f"got {np.shape(vectors)}")
    out = np.empty_like(vec)
    with blas_threads(flops=vec.shape[0] * _flops(net)):
        for start in range(0, vec.shape[0], _MAX_PROBES):
            blk = vec[start:start + _MAX_PROBES]
            if net.is_linear:  # H = G: no residual term
                res = _linear_batch(net, blk)
            else:
                res = _mlp_batch(net, blk, gn=gn, residual=residual)
            np.divide(res, net.n_samples, out=out[start:start + blk.shape[0]])
    return out[0] if single else out


def _flops(net: Network) -> float:
    """Operations of one product: ``4 N d C`` (linear), ``4 N d m + 12 N C m`` (ReLU network)."""
    n, d, C = net.n_samples, net.dim, net.classes
    if net.is_linear:
        return 4.0 * n * d * C
    return 4.0 * n * net.width * (d + 3 * C)


def hvp(net: Network, vectors) -> np.ndarray:
    r"""Hessian-vector products ``H v`` for one vector (shape (P,)) or a stack (shape (K, P)).

    Parameters
    ----------
    net : Network
        Model, data and loss.
    vectors : array_like, shape (P,) or (K, P)
        Directions in parameter order.

    Returns
    -------
    ndarray
        Same shape as ``vectors``.

    Notes
    -----
    Eq. (NET-7) of ``theory/networks.md``; exact (no finite differences).

    Examples
    --------
    >>> from rmthess.networks.hessian import dense_hessian
    >>> rng = np.random.default_rng(0)
    >>> net = Network(rng.standard_normal((8, 3)), rng.integers(0, 3, 8),
    ...               V=rng.standard_normal((3, 2)), W=rng.standard_normal((2, 3)))
    >>> v = rng.standard_normal(net.n_params)
    >>> bool(np.allclose(hvp(net, v), dense_hessian(net) @ v))
    True
    """
    return _products(net, vectors, gn=True, residual=True)


def gnvp(net: Network, vectors) -> np.ndarray:
    r"""Gauss–Newton-vector products ``G v = (1/N) Σ_n J_nᵀ Q_n J_n v`` (same shapes as
    :func:`hvp`).

    Examples
    --------
    >>> from rmthess.networks.hessian import dense_hessian
    >>> rng = np.random.default_rng(0)
    >>> net = Network(rng.standard_normal((8, 3)), rng.integers(0, 3, 8),
    ...               V=rng.standard_normal((3, 3)))
    >>> v = rng.standard_normal(net.n_params)
    >>> bool(np.allclose(gnvp(net, v), dense_hessian(net, "gn") @ v))
    True
    """
    return _products(net, vectors, gn=True, residual=False)
