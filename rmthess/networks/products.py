r"""Hessian-vector and Gauss–Newton-vector products, batched over probe vectors.

For a direction ``θ̇ = (Ẇ, V̇)`` the forward tangents are ``u̇_n = Ẇ x_n``, ``ṡ_n = D_n ⊙ u̇_n`` and
``ḟ_n = V ṡ_n + V̇ s_n``; the Gauss–Newton product pulls ``g_n = Q_n ḟ_n`` back through ``J_nᵀ``,
and the residual part adds the mixed second derivatives ``∂²f_nc/∂w_ia ∂v_cb = δ_bi D_ni x_na``
(eq. NET-7 of ``theory/networks.md``)::

    (Hθ̇)_W = (1/N) [((G V + R V̇) ⊙ D)ᵀ X]           (Hθ̇)_V = (1/N) [Gᵀ S + Rᵀ (D ⊙ U̇)]

with ``G`` the stack of ``g_n``. Each product costs a few passes over the data, ``O(N (md + Cm))``
— no Hessian is formed, which is how block structure is measured for models too large to hold.
"""

from __future__ import annotations

import numpy as np

from rmthess._validate import check_finite_array
from rmthess.networks.model import Network

__all__ = ["hvp", "gnvp"]

# at most this many floats in one batch of forward tangents (about 128 MB)
_MAX_TANGENT = 16_000_000


def _q_inplace(net: Network, G: np.ndarray) -> np.ndarray:
    """``Q_n g = p ⊙ (g − pᵀg)`` (CE) or ``g`` (MSE), overwriting the fresh tangent ``G``."""
    if net.loss == "mse":
        return G
    G -= np.einsum("knc,nc->kn", G, net.P)[:, :, None]
    G *= net.P
    return G


def _products(net: Network, vectors, *, gn: bool, residual: bool) -> np.ndarray:
    vec = check_finite_array("vectors", vectors)
    single = vec.ndim == 1
    vec = np.atleast_2d(vec)
    if vec.ndim != 2 or vec.shape[1] != net.n_params:
        raise ValueError(f"vectors must have shape (P,) or (K, P) with P = {net.n_params}, "
                         f"got {np.shape(vectors)}")
    n = net.n_samples
    per = n * (net.classes + (net.width or 0))
    chunk = max(1, _MAX_TANGENT // max(per, 1))
    out = np.empty_like(vec)
    for start in range(0, vec.shape[0], chunk):
        blk = vec[start:start + chunk]
        dV, dW = net.split(blk)
        k = blk.shape[0]
        if net.is_linear:
            G = _q_inplace(net, np.matmul(net.X, dV.transpose(0, 2, 1)))  # (K, N, C)
            res = np.matmul(G.transpose(0, 2, 1), net.X) / n
            out[start:start + chunk] = res.reshape(blk.shape[0], -1)
            continue
        du = np.matmul(net.X, dW.transpose(0, 2, 1))  # (K, N, m)
        ds = du * net.D
        back = np.zeros_like(du)  # (K, N, m): what multiplies D ⊙ (·) before Xᵀ
        oV = np.zeros_like(dV)
        if gn:
            # ḟ = [ṡ, s] [Vᵀ; V̇ᵀ]: one product per probe, one pass over the (K, N, C) tangent
            lhs = np.concatenate([ds, np.broadcast_to(net.S, ds.shape)], axis=2)
            rhs = np.concatenate([np.broadcast_to(net.V.T, (k,) + net.V.T.shape),
                                  dV.transpose(0, 2, 1)], axis=1)
            G = _q_inplace(net, np.matmul(lhs, rhs))
            back += G @ net.V
            oV += np.matmul(G.transpose(0, 2, 1), net.S)
        if residual:
            back += np.matmul(net.R, dV)
            oV += np.matmul(net.R.T, ds)
        back *= net.D
        oW = np.matmul(back.transpose(0, 2, 1), net.X)
        res = np.concatenate([oW.reshape(k, -1), oV.reshape(k, -1)], axis=1)
        out[start:start + chunk] = res / n
    return out[0] if single else out


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
