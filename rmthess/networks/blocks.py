r"""Block structure of a Hessian: block-norm maps, block ratios and a block-diagonality index.

With the diagonal blocks of a :class:`~rmthess.networks.model.BlockLayout` (sizes ``n_1 … n_B``),
the *block-norm map* is the ``B × B`` table ``M_lk = ‖H_lk‖_F``. Inside one group of equal blocks
(the hidden blocks ``H_{w_i w_j}``, the output blocks ``H_{v_c v_c'}`` or the linear model's
``H_{v_i v_j}``) the *block ratio* is the ratio of means

    r = mean_{l≠k} ‖H_lk‖²_F / mean_l ‖H_ll‖²_F                                     (NET-8)

the finite-size counterpart of ``E‖H_ij‖²_F / E‖H_ii‖²_F`` (= ``g_ij/g_ii`` in the limit) that the
theory of arXiv:2505.02809 predicts. The *block-diagonality index* is the share of the squared
Frobenius mass carried by the diagonal blocks, ``Σ_l M_ll² / Σ_lk M_lk²`` ∈ [0, 1] (1: block
diagonal).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rmthess.networks.model import BlockLayout
from rmthess.networks.operators import (
    as_products,
    block_column,
    is_dense,
    layout_offsets,
    operator_size,
)

__all__ = ["BlockRatio", "block_norm_map", "norm_map_and_diagonal", "block_ratio",
           "block_ratios", "block_diagonality", "cross_block_norm"]


def block_norm_map(H, layout, *, squared: bool = False) -> np.ndarray:
    r"""Frobenius norms of all blocks: ``M_lk = ‖H_lk‖_F`` (or its square).

    Parameters
    ----------
    H : array_like (P, P), LinearOperator, Network, anything with ``@``
        A symmetric (Hessian) matrix or operator (:func:`~rmthess.networks.operators.as_products`),
        e.g. :func:`rmthess.torch.hessian_operator`.
    layout : BlockLayout or sequence of int
        Block sizes summing to P.
    squared : bool
        Return ``‖H_lk‖²_F`` instead.

    Returns
    -------
    ndarray, shape (B, B)

    Notes
    -----
    Computed strip by strip (one block row at a time) with ``np.add.reduceat``, so the extra memory
    is one strip, not a copy of ``H``. An operator's strips are its block columns (exact, ``P``
    products in all); :func:`~rmthess.networks.hutchinson.block_frobenius` estimates the map from
    fewer products, with standard errors.

    Examples
    --------
    >>> H = np.arange(16.0).reshape(4, 4)
    >>> block_norm_map(H, [1, 3], squared=True)
    array([[   0.,   14.],
           [ 224., 1002.]])
    """
    out, _ = norm_map_and_diagonal(H, layout, keep_diagonal=False)
    return out if squared else np.sqrt(out)


def norm_map_and_diagonal(H, layout, *, keep_diagonal: bool = True, batch: int = 64) -> tuple:
    r"""Squared block-norm map ``‖H_lk‖²_F`` and the diagonal blocks ``H_ll``, from one pass over
    the block columns (for an operator: ``P`` products, one block column in memory at a time).

    Returns ``(map, diagonal)``: ``diagonal`` lists the ``H_ll`` (empty without
    ``keep_diagonal``). :func:`block_norm_map` is this map; ``rmthess analyze`` keeps the
    diagonal blocks for their exact eigenvalues.
    """
    if is_dense(H):
        H = np.asarray(H, dtype=np.float64)
        if H.ndim != 2 or H.shape[0] != H.shape[1]:
            raise ValueError(f"H must be a square matrix, got shape {H.shape}")
    off = layout_offsets(layout, operator_size(H))
    B = off.size - 1
    out = np.empty((B, B))
    diagonal = []
    mv = None if is_dense(H) else as_products(H)
    for blk in range(B):
        strip = block_column(H, off, blk, batch=batch, products=mv)
        out[blk] = np.add.reduceat(np.einsum("ij,ij->j", strip, strip), off[:-1])
        if keep_diagonal:
            diagonal.append(strip[:, off[blk]:off[blk + 1]])
    if not np.all(np.isfinite(out)):
        raise ValueError("H must be finite (found NaN or inf)")
    return out, diagonal


@dataclass(frozen=True)
class BlockRatio:
    r"""Ratio of means of off-diagonal to diagonal squared block norms inside one group (NET-8).

    Attributes
    ----------
    block_type : str
        ``"hidden"``, ``"output"`` or ``"v"``.
    ratio : float
        ``mean_{l≠k} ‖H_lk‖²_F / mean_l ‖H_ll‖²_F`` (NaN for a group of one block).
    diag_mean, offdiag_mean : float
        The two means of squared Frobenius norms.
    n_diag, n_offdiag : int
        Number of blocks averaged.
    """

    block_type: str
    ratio: float
    diag_mean: float
    offdiag_mean: float
    n_diag: int
    n_offdiag: int


def block_ratio(norms_sq: np.ndarray, layout: BlockLayout, block_type: str) -> BlockRatio:
    """:class:`BlockRatio` of one group from a squared block-norm map (``squared=True``)."""
    r = layout.block_range(block_type)
    sub = np.asarray(norms_sq)[r.start:r.stop, r.start:r.stop]
    k = sub.shape[0]
    diag = np.diag(sub)
    dm = float(diag.mean())
    if k < 2:
        return BlockRatio(block_type, float("nan"), dm, float("nan"), k, 0)
    om = float(sub[~np.eye(k, dtype=bool)].mean())
    return BlockRatio(block_type, om / dm if dm > 0 else float("nan"), dm, om, k, k * (k - 1))


def block_ratios(H, layout: BlockLayout) -> dict:
    r"""Block ratios (NET-8) of every group of an exact Hessian, keyed by block type.

    Parameters
    ----------
    H : array_like (P, P) or operator
        Hessian in the parameter order of ``layout`` (dense, or an operator as
        :func:`block_norm_map` takes it).
    layout : BlockLayout
        E.g. ``Network.layout`` or :func:`~rmthess.networks.model.block_layout`.

    Returns
    -------
    dict of str to BlockRatio
        One entry per group of ``layout.block_types``: ``{"hidden": ..., "output": ...}`` (ReLU
        network) or ``{"v": ...}`` (linear model), the block types of :mod:`rmthess.cases` —
        compare ``.ratio`` with ``CaseLimits.blocks[type].ratio`` — or the module paths of a
        PyTorch layout (:mod:`rmthess.torch`). A group of one block has no off-diagonal block:
        its ratio is NaN.

    Examples
    --------
    >>> from rmthess.networks.model import block_layout
    >>> X = np.random.default_rng(0).standard_normal((50, 4))
    >>> H = np.kron(np.eye(3), X.T @ X / 50)     # linear model, squared error
    >>> block_ratios(H, block_layout(4, 3))["v"].ratio
    0.0
    """
    sq = block_norm_map(H, layout, squared=True)
    return {t: block_ratio(sq, layout, t) for t in layout.block_types}


def block_diagonality(norm_map) -> float:
    r"""Share of the squared Frobenius mass in the diagonal blocks, ``Σ M_ll² / Σ M_lk²`` ∈ [0, 1].

    Parameters
    ----------
    norm_map : array_like, shape (B, B)
        Block-norm map (not squared), as returned by :func:`block_norm_map`.

    Examples
    --------
    >>> block_diagonality(np.array([[2.0, 1.0], [1.0, 2.0]]))
    0.8
    """
    M = np.asarray(norm_map, dtype=np.float64)
    if M.ndim != 2 or M.shape[0] != M.shape[1]:
        raise ValueError(f"norm_map must be square, got shape {M.shape}")
    total = float(np.sum(M**2))
    if total == 0:
        raise ValueError("norm_map is identically zero; the index is undefined")
    return float(np.sum(np.diag(M) ** 2) / total)


def cross_block_norm(norms_sq: np.ndarray, layout: BlockLayout) -> float:
    r"""Mean squared Frobenius norm of the hidden–output blocks ``H_{w_i v_c}`` (ReLU network only).

    The quantity that training drives down as the softmax saturates (see ``theory/networks.md``).
    """
    if "hidden" not in layout.block_types:
        raise ValueError("hidden–output blocks exist only for the 1-hidden-layer network")
    h, o = layout.block_range("hidden"), layout.block_range("output")
    sub = np.asarray(norms_sq)[h.start:h.stop, o.start:o.stop]
    return float(sub.mean())
