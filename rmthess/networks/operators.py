r"""Any symmetric operator as products ``(K, P) → (K, P)``: how the structure tools read a Hessian.

The structure tools (:mod:`~rmthess.networks.blocks`, :mod:`~rmthess.networks.hutchinson`,
:mod:`~rmthess.networks.spectra`, :mod:`~rmthess.networks.lanczos`) read a Hessian through
:func:`as_products`, which accepts

* a dense square array (``Z @ H``, H symmetric);
* a :class:`~rmthess.networks.model.Network` (exact products,
  :func:`~rmthess.networks.products.hvp`);
* a ``scipy.sparse.linalg.LinearOperator`` — e.g. the PyTorch adapter's
  :func:`rmthess.torch.hessian_operator` — or a scipy sparse matrix, or anything with ``@`` and a
  square ``shape`` (``(H @ Zᵀ)ᵀ``);
* a callable mapping a ``(K, P)`` stack to ``(K, P)`` (with ``size=P`` where the size is needed).

Exact block quantities of an operator come from its *block columns* ``H E_k``
(:func:`block_column`): ``n_k`` products for block ``k``, memory ``P × n_k`` — the whole map costs
``P`` products, never a ``P × P`` array.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["as_products", "operator_size", "is_dense", "block_column", "layout_offsets"]


def is_dense(operator) -> bool:
    """Whether ``operator`` is an in-memory array (a numpy array, a list or a tuple)."""
    return isinstance(operator, (np.ndarray, list, tuple))


def operator_size(operator, size: int | None = None) -> int:
    """The dimension ``P`` of a square operator (``size`` for a bare callable)."""
    from rmthess.networks.model import Network

    if isinstance(operator, Network):
        return operator.layout.n_params
    shape = getattr(operator, "shape", None)
    if shape is None and is_dense(operator):
        shape = np.shape(operator)
    if shape is not None:
        if len(shape) != 2 or shape[0] != shape[1]:
            raise ValueError(f"the operator must be square, got shape {tuple(shape)}")
        return int(shape[0])
    if size is None:
        raise ValueError("a callable operator needs its size P (size=)")
    return int(size)


def as_products(operator) -> Callable[[np.ndarray], np.ndarray]:
    r"""Return ``f`` with ``f(Z) = (H Zᵀ)ᵀ`` for a ``(K, P)`` stack ``Z`` (``= Z H``, H symmetric).

    Examples
    --------
    >>> from scipy.sparse.linalg import aslinearoperator
    >>> H = np.diag([1.0, 2.0, 3.0])
    >>> as_products(aslinearoperator(H))(np.ones((2, 3)))
    array([[1., 2., 3.],
           [1., 2., 3.]])
    """
    from rmthess.networks.model import Network
    from rmthess.networks.products import hvp

    if isinstance(operator, Network):
        return lambda Z: hvp(operator, Z)
    if is_dense(operator):
        H = np.asarray(operator, dtype=np.float64)
        if H.ndim != 2 or H.shape[0] != H.shape[1]:
            raise ValueError("operator must be a square matrix, a Network, a LinearOperator, "
                             f"anything with @, or a callable; got shape {H.shape}")
        return lambda Z: Z @ H
    if hasattr(operator, "shape") and hasattr(operator, "__matmul__"):
        operator_size(operator)

        def apply(Z):
            out = operator @ np.ascontiguousarray(np.asarray(Z, dtype=np.float64).T)
            return np.asarray(out.toarray() if hasattr(out, "toarray") else out,
                              dtype=np.float64).T
        return apply
    if callable(operator):
        return operator
    raise ValueError("operator must be a square matrix, a Network, a LinearOperator, anything "
                     f"with @ and a shape, or a callable; got {type(operator).__name__}")


def layout_offsets(layout, size: int | None = None) -> np.ndarray:
    """Block starts followed by ``P``, from a :class:`~rmthess.networks.model.BlockLayout` or a
    sequence of block sizes; with ``size`` the sizes must add up to it.

    >>> layout_offsets([2, 3])
    array([0, 2, 5])
    """
    from rmthess.networks.model import BlockLayout

    sizes = np.asarray(layout.sizes if isinstance(layout, BlockLayout) else layout, dtype=np.intp)
    if sizes.ndim != 1 or sizes.size == 0 or np.any(sizes <= 0):
        raise ValueError("layout must be a BlockLayout or a non-empty sequence of positive sizes")
    if size is not None and int(sizes.sum()) != size:
        raise ValueError(f"block sizes add up to {int(sizes.sum())}, but the matrix is "
                         f"{size} × {size}")
    return np.concatenate([[0], np.cumsum(sizes)]).astype(np.intp)


def block_column(operator, offsets, k: int, *, batch: int = 64, products=None) -> np.ndarray:
    r"""The block column ``H[:, block k]``, transposed to ``(n_k, P)``, from ``n_k`` products.

    ``offsets`` are the block starts followed by ``P``; ``products`` (from :func:`as_products`) may
    be passed to avoid rebuilding it. A dense operator is sliced, not multiplied.
    """
    a, b = int(offsets[k]), int(offsets[k + 1])
    if is_dense(operator):
        return np.asarray(operator, dtype=np.float64)[a:b]  # symmetric: rows = columns
    mv = products if products is not None else as_products(operator)
    P = int(offsets[-1])
    out = np.empty((b - a, P))
    for s in range(a, b, batch):
        e = min(b, s + batch)
        Z = np.zeros((e - s, P))
        Z[np.arange(e - s), np.arange(s, e)] = 1.0
        out[s - a:e - a] = mv(Z)
    return out
