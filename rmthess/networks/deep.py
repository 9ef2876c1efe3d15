r"""Deeper ReLU networks (no bias) through a generic layer recursion: gradients, HVPs, GN products.

Layers ``W_1 ∈ R^{h_1×d}, …, W_L ∈ R^{C×h_{L−1}}``: ``z_l = W_l a_{l−1}``, ``a_l = D_l ⊙ z_l`` with
``D_l = 1(z_l > 0)`` for ``l < L``, ``a_0 = x``, logits ``f = z_L``. The Hessian-vector product is
the forward-over-reverse recursion (Pearlmutter's R-operator), eq. (NET-14) of
``theory/networks.md``:

    ż_l = ȧ_{l−1} W_lᵀ + a_{l−1} Ẇ_lᵀ,   ȧ_l = D_l ⊙ ż_l,   ȧ_0 = 0
    g_L = R/N,  g_{l−1} = D_{l−1} ⊙ (g_l W_l)
    ġ_L = Q ż_L / N,  ġ_{l−1} = D_{l−1} ⊙ (ġ_l W_l + g_l Ẇ_l)
    (H θ̇)_{W_l} = ġ_lᵀ a_{l−1} + g_lᵀ ȧ_{l−1}

Dropping the two terms that carry ``g`` (the residual) gives the Gauss–Newton product. For ``L = 2``
this is (NET-7). The dense Hessian is assembled from batches of products with unit vectors: exact,
but ``O(P)`` products, so meant for small networks. Parameters are ordered layer by layer, rows
within a layer, so the diagonal blocks are the rows of every weight matrix.
"""

from __future__ import annotations

import numpy as np

from rmthess._softmax import softmax_logsumexp
from rmthess._validate import check_finite_array
from rmthess.networks.model import BlockLayout, _check_labels, loss_name

__all__ = ["DeepNetwork"]


class DeepNetwork:
    r"""A ReLU network of any depth (no bias) with its data and loss.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Samples as rows.
    y : array_like of int, shape (N,)
        Labels in ``[0, C)``.
    weights : sequence of array_like
        ``[W_1, …, W_L]``, ``W_l`` of shape ``(h_l, h_{l−1})``, ``h_0 = d``, ``h_L = C``.
    loss : {"ce", "mse"}

    Notes
    -----
    Eq. (NET-14) of ``theory/networks.md``. With two layers it is the network of
    :class:`~rmthess.networks.model.Network` (``W_1 = W``, ``W_2 = V``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ws = [rng.standard_normal((4, 3)), rng.standard_normal((4, 4)), rng.standard_normal((2, 4))]
    >>> net = DeepNetwork(rng.standard_normal((10, 3)), rng.integers(0, 2, 10), ws)
    >>> H = net.dense_hessian()
    >>> H.shape, bool(np.allclose(H, H.T))
    ((36, 36), True)
    """

    def __init__(self, X, y, weights, loss: str = "ce"):
        loss = loss_name(loss)
        X = check_finite_array("X", X, ndim=2)
        if len(weights) < 1:
            raise ValueError("weights must hold at least one layer")
        ws = [check_finite_array(f"weights[{layer}]", w, ndim=2)
              for layer, w in enumerate(weights)]
        fan_in = X.shape[1]
        for layer, w in enumerate(ws):
            if w.shape[1] != fan_in:
                raise ValueError(f"weights[{layer}] must have {fan_in} columns, "
                                 f"got shape {w.shape}")
            fan_in = w.shape[0]
        C = ws[-1].shape[0]
        if loss == "ce" and C < 2:
            raise ValueError(f"cross-entropy needs at least 2 classes, got {C}")
        self.X, self.weights, self.loss = X, ws, loss
        self.n_samples, self.classes = X.shape[0], C
        self.labels = _check_labels(y, X.shape[0], C)
        self.layout = BlockLayout(tuple((f"layer{layer + 1}", w.shape[0], w.shape[1])
                                        for layer, w in enumerate(ws)))
        self._forward()

    @property
    def n_params(self) -> int:
        """Number of parameters P."""
        return self.layout.n_params

    def _forward(self) -> None:
        acts, masks = [self.X], []
        for w in self.weights[:-1]:
            z = acts[-1] @ w.T
            mask = (z > 0).astype(np.float64)
            masks.append(mask)
            acts.append(z * mask)
        F = acts[-1] @ self.weights[-1].T
        rows = np.arange(self.n_samples)
        if self.loss == "ce":
            self.P, lse = softmax_logsumexp(F)
            R = self.P.copy()
            self._loss = float(np.mean(lse - F[rows, self.labels]))
        else:
            self.P = None
            R = F.copy()
        R[rows, self.labels] -= 1.0
        if self.loss == "mse":
            self._loss = float(0.5 * np.mean(np.einsum("nc,nc->n", R, R)))
        self.acts, self.masks, self.F, self.R = acts, masks, F, R
        # backward pass of the gradient: g_l = ∂L/∂z_l (already divided by N)
        g = [None] * len(self.weights)
        g[-1] = R / self.n_samples
        for layer in range(len(self.weights) - 1, 0, -1):
            g[layer - 1] = masks[layer - 1] * (g[layer] @ self.weights[layer])
        self._g = g

    def loss_value(self) -> float:
        """Average loss."""
        return self._loss

    def flatten(self) -> np.ndarray:
        """Flat parameter vector, layer by layer, rows within a layer."""
        return np.concatenate([w.ravel() for w in self.weights])

    def with_params(self, theta) -> DeepNetwork:
        """Same data and loss, parameters ``theta``."""
        theta = check_finite_array("theta", theta, ndim=1)
        if theta.size != self.n_params:
            raise ValueError(f"theta must have {self.n_params} entries, got {theta.size}")
        off = np.cumsum([0] + [w.size for w in self.weights])
        ws = [theta[off[layer]:off[layer + 1]].reshape(w.shape)
              for layer, w in enumerate(self.weights)]
        return DeepNetwork(self.X, self.labels, ws, self.loss)

    def gradient(self) -> np.ndarray:
        """Gradient of the average loss, flat: ``∂L/∂W_l = g_lᵀ a_{l−1}``."""
        return np.concatenate([(gl.T @ a).ravel()
                               for gl, a in zip(self._g, self.acts, strict=True)])

    def _q(self, G):
        if self.loss == "mse":
            return G
        PG = self.P * G
        PG -= self.P * PG.sum(axis=-1, keepdims=True)
        return PG

    def _product(self, vectors, residual: bool) -> np.ndarray:
        vec = check_finite_array("vectors", vectors)
        single = vec.ndim == 1
        vec = np.atleast_2d(vec)
        if vec.ndim != 2 or vec.shape[1] != self.n_params:
            raise ValueError(f"vectors must have shape (P,) or (K, P) with P = {self.n_params}")
        K = vec.shape[0]
        off = np.cumsum([0] + [w.size for w in self.weights])
        dws = [vec[:, off[layer]:off[layer + 1]].reshape((K,) + w.shape)
               for layer, w in enumerate(self.weights)]
        L = len(self.weights)
        # forward tangents ȧ_l (K, N, h_l); ȧ_0 = 0
        da = [np.zeros((K,) + self.X.shape)]
        for layer in range(L):
            dz = np.matmul(self.acts[layer], dws[layer].transpose(0, 2, 1))
            if layer > 0:
                dz += da[layer] @ self.weights[layer].T
            if layer < L - 1:
                da.append(dz * self.masks[layer])
        dg = self._q(dz) / self.n_samples  # ġ_L
        out = [None] * L
        for layer in range(L - 1, -1, -1):
            o = np.matmul(dg.transpose(0, 2, 1), self.acts[layer])
            if residual and layer > 0:
                o += np.matmul(self._g[layer].T, da[layer])
            out[layer] = o.reshape(K, -1)
            if layer > 0:
                back = dg @ self.weights[layer]
                if residual:
                    back += np.matmul(self._g[layer], dws[layer])
                dg = back * self.masks[layer - 1]
        res = np.concatenate(out, axis=1)
        return res[0] if single else res

    def hvp(self, vectors) -> np.ndarray:
        """Hessian-vector products (NET-14), shape of ``vectors`` ((P,) or (K, P))."""
        return self._product(vectors, residual=True)

    def gnvp(self, vectors) -> np.ndarray:
        """Gauss–Newton-vector products (NET-14 without the residual terms)."""
        return self._product(vectors, residual=False)

    def dense_hessian(self, part: str = "full", *, batch: int = 256) -> np.ndarray:
        """Dense ``H`` (``part="full"``) or ``G`` (``"gn"``) from products with unit vectors."""
        if part not in ("full", "gn"):
            raise ValueError(f"part must be 'full' or 'gn', got {part!r}")
        p = self.n_params
        H = np.empty((p, p))
        for s in range(0, p, batch):
            E = np.zeros((min(batch, p - s), p))
            E[np.arange(E.shape[0]), s + np.arange(E.shape[0])] = 1.0
            H[s:s + E.shape[0]] = self._product(E, residual=(part == "full"))
        return 0.5 * (H + H.T)
