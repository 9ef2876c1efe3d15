r"""The two models whose Hessians the package forms exactly: linear and 1-hidden-layer ReLU.

A :class:`Network` holds validated data, labels, weights and a loss, and the forward pass that every
derivative needs. Samples are the rows of ``X`` (``N × d``); labels are integers in ``[0, C)``.

* linear model: logits ``f_n = V x_n`` with ``V ∈ R^{C×d}``;
* 1-hidden-layer ReLU network (no bias): ``u_n = W x_n``, ``s_n = relu(u_n)``, ``f_n = V s_n`` with
  ``W ∈ R^{m×d}``, ``V ∈ R^{C×m}``.

Losses are averaged over samples: cross-entropy ``ℓ = −log softmax(f)_y`` and the squared error
``ℓ = ½‖f − e_y‖²`` against the one-hot target. The parameter vector is ordered by blocks: the rows
``w_1 … w_m`` of ``W``, then the rows ``v_1 … v_C`` of ``V`` (only the rows of ``V`` for the linear
model), so the Hessian has ``m + C`` (or ``C``) diagonal blocks.

The forward pass stores, with ``D = 1(U > 0)``, the residual ``R = ∂ℓ/∂f`` (``P − Y`` for CE,
``F − Y`` for MSE) and the softmax probabilities ``P`` that define ``Q_n = diag(p_n) − p_n p_nᵀ``
(eq. NET-1 in ``theory/networks.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rmthess._softmax import softmax_logsumexp
from rmthess._validate import check_finite_array

__all__ = ["LOSSES", "BlockLayout", "Network", "block_layout", "loss_name"]

#: the supported losses
LOSSES = ("ce", "mse")


def loss_name(loss) -> str:
    """The canonical name of ``loss`` (letter case ignored: ``"CE"`` is ``"ce"``).

    >>> loss_name("MSE")
    'mse'
    """
    name = loss.lower() if isinstance(loss, str) else loss
    if name not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES} (any letter case), got {loss!r}")
    return name


@dataclass(frozen=True)
class BlockLayout:
    r"""Sizes and names of the diagonal blocks of a Hessian.

    Attributes
    ----------
    groups : tuple of (str, int, int or tuple of int)
        ``(block_type, count, size)`` for each group of blocks, in parameter order:
        ``(("hidden", m, d), ("output", C, m))`` for the ReLU network, ``(("v", C, d),)`` for the
        linear model. ``size`` is one int for a group of equal blocks, or a tuple of ``count``
        sizes (user-given groups of a PyTorch model, :mod:`rmthess.torch`).
    labels : tuple of str, optional
        One name per block (default ``"{block_type}[{i}]"``).

    Examples
    --------
    >>> lay = block_layout(dim=5, classes=3, width=2)
    >>> lay.sizes
    (5, 5, 2, 2, 2)
    >>> lay.n_params, lay.n_blocks
    (16, 5)
    """

    groups: tuple
    labels: tuple | None = None

    def __post_init__(self):
        for name, count, size in self.groups:
            if not isinstance(size, (int, np.integer)) and len(size) != count:
                raise ValueError(f"group {name!r}: {count} blocks but {len(size)} sizes")
        if self.labels is not None and len(self.labels) != self.n_blocks:
            raise ValueError(f"{len(self.labels)} labels for {self.n_blocks} blocks")

    @staticmethod
    def _group_sizes(count: int, size) -> tuple:
        if isinstance(size, (int, np.integer)):
            return (int(size),) * int(count)
        return tuple(int(z) for z in size)

    @property
    def sizes(self) -> tuple:
        """Size of every diagonal block, in parameter order."""
        return tuple(z for _, count, size in self.groups for z in self._group_sizes(count, size))

    @property
    def group_sizes(self) -> tuple:
        """Number of parameters in every group."""
        return tuple(sum(self._group_sizes(count, size)) for _, count, size in self.groups)

    @property
    def block_labels(self) -> tuple:
        """A name for every block: :attr:`labels`, or ``"{block_type}[{i}]"``."""
        if self.labels is not None:
            return tuple(self.labels)
        return tuple(f"{name}[{i}]" for name, count, _ in self.groups for i in range(count))

    @property
    def offsets(self) -> np.ndarray:
        """Start index of every block, followed by the total number of parameters."""
        return np.concatenate([[0], np.cumsum(self.sizes)]).astype(np.intp)

    @property
    def n_params(self) -> int:
        """Total number of parameters P."""
        return int(sum(self.group_sizes))

    @property
    def n_blocks(self) -> int:
        """Number of diagonal blocks."""
        return int(sum(count for _, count, _ in self.groups))

    @property
    def block_types(self) -> tuple:
        """Names of the groups, e.g. ``("hidden", "output")``."""
        return tuple(name for name, _, _ in self.groups)

    def block_range(self, block_type: str) -> range:
        """Indices (into :attr:`sizes`) of the blocks of one group."""
        start = 0
        for name, count, _ in self.groups:
            if name == block_type:
                return range(start, start + count)
            start += count
        raise ValueError(f"unknown block type {block_type!r}; this layout has {self.block_types}")


def block_layout(dim: int, classes: int, width: int | None = None) -> BlockLayout:
    """Return the :class:`BlockLayout` of the linear model (``width=None``) or the ReLU network."""
    if width is None:
        return BlockLayout((("v", int(classes), int(dim)),))
    return BlockLayout((("hidden", int(width), int(dim)), ("output", int(classes), int(width))))


def _check_labels(y, n: int, classes: int) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"y must hold one label per sample (shape ({n},)), got shape {arr.shape}")
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer)
                                 or np.issubdtype(arr.dtype, np.floating)):
        raise ValueError(f"y must hold integer labels, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ValueError("y must hold integer labels (found non-integer values)")
    labels = arr.astype(np.intp)
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"labels must lie in [0, {classes}) (C = number of rows of V), "
                         f"got range [{labels.min()}, {labels.max()}]")
    return labels


class Network:
    r"""A validated linear model or 1-hidden-layer ReLU network together with its data and loss.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Samples as rows.
    y : array_like of int, shape (N,)
        Labels in ``[0, C)``.
    V : array_like, shape (C, m) or (C, d)
        Output weights (``C × d`` for the linear model).
    W : array_like, shape (m, d), optional
        Hidden weights; ``None`` gives the linear model.
    loss : {"ce", "mse"}
        Cross-entropy or squared error against the one-hot target.

    Raises
    ------
    ValueError
        On shape mismatch, labels out of range, non-finite inputs or an unknown loss.

    Notes
    -----
    The forward quantities follow (NET-1) of ``theory/networks.md``.

    References
    ----------
    .. [1] Dong, Zhang, Yao, Sun, "Towards Quantifying the Hessian Structure of Neural Networks",
       arXiv:2505.02809 (2025).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((6, 4)); y = np.array([0, 1, 2, 0, 1, 2])
    >>> net = Network(X, y, V=rng.standard_normal((3, 2)), W=rng.standard_normal((2, 4)))
    >>> net.n_params, net.layout.sizes
    (14, (4, 4, 2, 2, 2))
    >>> W0 = rng.standard_normal((2, 4))
    >>> net = Network(X, y, V=np.zeros((3, 2)), W=W0)
    >>> bool(np.isclose(net.loss_value(), np.log(3)))   # CE of zero logits: log C
    True
    """

    def __init__(self, X, y, V, W=None, loss: str = "ce"):
        loss = loss_name(loss)
        X = check_finite_array("X", X, ndim=2)
        V = check_finite_array("V", V, ndim=2)
        n, d = X.shape
        C = V.shape[0]
        if loss == "ce" and C < 2:
            raise ValueError(f"cross-entropy needs at least 2 classes (rows of V), got {C}")
        if W is None:
            if V.shape[1] != d:
                raise ValueError(f"linear model: V must have shape (C, d) = (C, {d}) to match "
                                 f"X of shape {X.shape}, got {V.shape}")
            m = None
        else:
            W = check_finite_array("W", W, ndim=2)
            m = W.shape[0]
            if W.shape[1] != d:
                raise ValueError(f"W must have shape (m, d) = (m, {d}) to match X of shape "
                                 f"{X.shape}, got {W.shape}")
            if V.shape[1] != m:
                raise ValueError(f"V must have shape (C, m) = (C, {m}) to match W of shape "
                                 f"{W.shape}, got {V.shape}")
        self.X, self.V, self.W, self.loss = X, V, W, loss
        self.labels = _check_labels(y, n, C)
        self.n_samples, self.dim, self.width, self.classes = n, d, m, C
        self.layout = block_layout(d, C, m)
        self._forward()

    # ------------------------------------------------------------------ forward pass (NET-1)
    def _forward(self) -> None:
        X, V, W = self.X, self.V, self.W
        if W is None:
            self.U = self.D = None
            self.S = X
        else:
            self.U = X @ W.T
            self.D = (self.U > 0).astype(np.float64)
            self.S = self.U * self.D
        self.F = self.S @ V.T
        n = self.n_samples
        rows = np.arange(n)
        if self.loss == "ce":
            self.P, lse = softmax_logsumexp(self.F)
            R = self.P.copy()
            self._loss = float(np.mean(lse - self.F[rows, self.labels]))
        else:
            self.P = None
            R = self.F.copy()
        R[rows, self.labels] -= 1.0
        self.R = R
        if self.loss == "mse":
            self._loss = float(0.5 * np.mean(np.einsum("nc,nc->n", R, R)))

    @property
    def is_linear(self) -> bool:
        """Whether this is the linear model (no hidden layer)."""
        return self.W is None

    @property
    def n_params(self) -> int:
        """Number of parameters P."""
        return self.layout.n_params

    def with_params(self, theta) -> Network:
        """A new :class:`Network` with the same data and loss and parameters ``theta`` (flat)."""
        V, W = self.unflatten(theta)
        return Network(self.X, self.labels, V, W, self.loss)

    def flatten(self, V=None, W=None) -> np.ndarray:
        """Flat parameter vector: rows of ``W`` then rows of ``V`` (defaults: this network's)."""
        V = self.V if V is None else V
        W = self.W if W is None else W
        if self.is_linear:
            return np.ascontiguousarray(V, dtype=np.float64).ravel().copy()
        return np.concatenate([np.ravel(W), np.ravel(V)]).astype(np.float64)

    def unflatten(self, theta):
        """Inverse of :meth:`flatten`: ``(V, W)``, with ``W = None`` for the linear model."""
        theta = check_finite_array("theta", theta, ndim=1)
        if theta.shape[0] != self.n_params:
            raise ValueError(f"theta must have {self.n_params} entries, got {theta.shape[0]}")
        if self.is_linear:
            return theta.reshape(self.classes, self.dim), None
        md = self.width * self.dim
        V = theta[md:].reshape(self.classes, self.width)
        return V, theta[:md].reshape(self.width, self.dim)

    def split(self, vectors: np.ndarray):
        """Split a ``(K, P)`` stack of parameter-space vectors into ``(dV, dW)`` stacks."""
        K = vectors.shape[0]
        if self.is_linear:
            return vectors.reshape(K, self.classes, self.dim), None
        md = self.width * self.dim
        return (vectors[:, md:].reshape(K, self.classes, self.width),
                vectors[:, :md].reshape(K, self.width, self.dim))

    def loss_value(self) -> float:
        """Average loss over the samples."""
        return self._loss

    def accuracy(self) -> float:
        """Fraction of samples whose largest logit is the label."""
        return float(np.mean(np.argmax(self.F, axis=1) == self.labels))

    def gradient(self) -> np.ndarray:
        r"""Gradient of the average loss, flat in parameter order.

        ``∂L/∂V = (1/N) Rᵀ S`` and ``∂L/∂W = (1/N) ((R V) ⊙ D)ᵀ X`` (eq. NET-2).
        """
        n = self.n_samples
        gV = self.R.T @ self.S / n
        if self.is_linear:
            return gV.ravel()
        gW = ((self.R @ self.V) * self.D).T @ self.X / n
        return np.concatenate([gW.ravel(), gV.ravel()])

