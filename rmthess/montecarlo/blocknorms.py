r"""Frobenius norms of all Hessian blocks of a realization, from the N×N Gram matrix.

Every block has the form ``B_ij = (1/N) Σ_n λ_n^{ij} f_n f_nᵀ`` with features ``f_n`` (the data
``x_n`` for the d×d blocks, the hidden activations ``s_n`` for the m×m output blocks). With
``G = F Fᵀ`` (``F`` has rows ``f_n``) and ``K = G∘G``,

.. math:: ‖B_ij‖_F^2 = \frac{1}{N^2} \sum_{n,n'} K_{nn'} λ^{ij}_n λ^{ij}_{n'}        (MC-3)

so no d×d block is ever formed. The per-sample weight matrices ``Λ_n = (λ_n^{ij})_{ij}`` come in two
shapes:

* :class:`StructuredWeights`: ``Λ_n = diag(α_n) − β_n β_nᵀ`` (linear models and output blocks; CE
  ``α = β = p``, MSE ``α = 1, β = 0``). The sums over all diagonal and all off-diagonal blocks are

  .. math::

     S_{diag} = Σ K∘(A Aᵀ),\quad S_{off} = Σ K∘\big((ββᵀ)^{∘2} − (β^{∘2})(β^{∘2})ᵀ\big),\quad
     A = α − β^{∘2}                                                                      (MC-4)

  three N×N products with inner dimension C, against the Gram product's inner dimension d;
* :class:`DenseWeights`: ``Λ_n`` given as an array (hidden blocks of the MLP, ``B = m`` small):
  ``S_all = Σ K∘(L Lᵀ)`` with ``L`` the ``N×B²`` flattening, ``S_off = S_all − S_diag``.

The Gram matrix is processed in chunk×chunk tiles over the upper block triangle
(``G_IJ = F_I F_Jᵀ`` for ``J ≥ I``), and each tile in panels of a few rows whose weight products
stay in cache, on and above the diagonal only: the work is one symmetric Gram product plus the
three weight products on and above the diagonal (inner dimension C: about ``1 + 3C/d`` Gram
products in all, the floor of (MC-4)), no N×N weight array is written to memory, and the memory is
``O(chunk² + N(d + B))`` (:func:`block_norm_sums`). The full table of
all ``B²`` block norms costs one dense product ``K @ [β_i∘β_j]_{ij}`` (``N² B²`` flops), done row by
row (:func:`block_norm_table`).

References
----------
Dong, Zhang, Yao, Sun, *Towards Quantifying the Hessian Structure of Neural Networks*,
arXiv:2505.02809 (2025).

Examples
--------
>>> import numpy as np
>>> from rmthess.montecarlo.blocknorms import StructuredWeights, block_norm_means
>>> rng = np.random.default_rng(0)
>>> F = rng.standard_normal((50, 8))
>>> p = rng.dirichlet(np.ones(3), size=50)
>>> w = StructuredWeights(p, p)
>>> diag, off = block_norm_means(F, w)
>>> B01 = (F.T * (-p[:, 0] * p[:, 1])) @ F / 50
>>> bool(np.isclose(off, np.mean([np.sum(((F.T * (-p[:, i] * p[:, j])) @ F / 50) ** 2)
...      for i in range(3) for j in range(3) if i != j])))
True
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from rmthess.montecarlo import _kernels

__all__ = ["StructuredWeights", "DenseWeights", "block_norm_means", "block_norm_sums",
           "block_norm_table", "diag_block_norms", "block_matrix"]

#: rows per chunk of the Gram matrix: up to N = 2048 the whole matrix is one tile (one SYRK per
#: product); the four work arrays of a tile take at most 134 MB
DEFAULT_CHUNK = 2048
#: work arrays of chunks up to this many rows (an 8 MB Gram array and the panels) are kept per
#: thread between calls
KEEP_ROWS = 1024
#: rows per panel of the weight products (:func:`block_norm_sums`): three 64×2048 panels take 3 MB,
#: within a core's cache. Block norms / Gram product at d = N = 1000 for 16, 32, 64, 128, 256 rows
#: (``python benchmarks/ratio_blocknorms.py --panel-rows 16 32 64 128 256``, one run): C = 10
#: 1.15–1.26 whatever the height (noise), C = 100 1.74, 1.63, 1.54, 1.55, 1.59, C = 1000 7.62,
#: 5.74, 5.26, 5.06, 4.95 — hence 64 rows, doubled above 128 weight columns (:func:`_panel_rows`)
PANEL_ROWS = 64


class _WeightsShape:
    """``n_samples`` and ``n_blocks`` of a weight container, read off its leading ``N×B…`` array."""

    def _lead(self):
        raise NotImplementedError

    @property
    def n_blocks(self) -> int:
        return int(np.shape(self._lead())[1])

    @property
    def n_samples(self) -> int:
        return int(np.shape(self._lead())[0])


@dataclass(frozen=True)
class StructuredWeights(_WeightsShape):
    r"""Per-sample block weights ``Λ_n = diag(α_n) − β_n β_nᵀ`` (``N×B`` arrays ``alpha``,
    ``beta``).

    ``beta=None`` means ``β = 0`` (every off-diagonal block vanishes). ``diag``, when given, is
    ``α − β²`` computed by the caller without cancellation (e.g. ``p (1 − p)`` from the softmax
    complement, SMX-1); it is then used for the diagonal blocks instead of ``α − β²``.
    """

    alpha: np.ndarray
    beta: np.ndarray | None = None
    diag: np.ndarray | None = None

    def _lead(self):
        return self.alpha

    def diag_weights(self) -> np.ndarray:
        """``N×B`` array of the weights of the diagonal blocks, ``α − β²``."""
        if self.diag is not None:
            return np.asarray(self.diag, float)
        a = np.asarray(self.alpha, float)
        return a if self.beta is None else a - self.beta * self.beta

    def block(self, i: int, j: int) -> np.ndarray:
        """Weights ``λ^{ij}`` (length N) of block ``(i, j)``."""
        if i == j:
            return self.diag_weights()[:, i]
        if self.beta is None:
            return np.zeros(self.n_samples)
        return -self.beta[:, i] * self.beta[:, j]


@dataclass(frozen=True)
class DenseWeights(_WeightsShape):
    r"""Per-sample block weights given as an ``N×B×B`` array ``lam`` (symmetric in the last two
    axes)."""

    lam: np.ndarray

    def _lead(self):
        return self.lam

    def diag_weights(self) -> np.ndarray:
        return np.ascontiguousarray(np.diagonal(self.lam, axis1=1, axis2=2))

    def block(self, i: int, j: int) -> np.ndarray:
        return np.asarray(self.lam[:, i, j])


def _chunks(n: int, chunk: int):
    """Row ranges of at most ``chunk`` rows, as equal as possible (no thin last panel)."""
    count = -(-n // chunk)
    edges = [i * n // count for i in range(count + 1)]
    return list(zip(edges[:-1], edges[1:], strict=True))


class _Buffers:
    """Reusable flat work arrays of the given numbers of elements, kept per thread between calls.

    Fresh arrays of a few MB are new pages from the system on every call: their page faults and
    unmapping cost as much as the small products written into them (measured at N = 500: 1 ms per
    2 MB array against 0.3 ms for the product), so the arrays of the last call are reused when
    ``keep`` (the caller keeps it to at most 32 MB per thread).
    """

    _local = threading.local()

    def __init__(self, sizes, keep: bool):
        kept = list(getattr(self._local, "flat", []))
        kept += [None] * (len(sizes) - len(kept))
        flat = [a if a is not None and a.size >= n else np.empty(n)
                for a, n in zip(kept, sizes, strict=False)]
        if keep:
            self._local.flat = flat
        self._flat = flat

    def product(self, k: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``x @ y.T`` written into work array ``k`` (C-contiguous, shape ``(len(x), len(y))``;
        numpy takes the symmetric product, SYRK, when ``y`` is ``x``)."""
        out = self._flat[k][:x.shape[0] * y.shape[0]].reshape(x.shape[0], y.shape[0])
        return np.matmul(x, y.T, out=out)


def _panel_rows(columns: int) -> int:
    """Rows per panel of the weight products: :data:`PANEL_ROWS`, twice that above 128 weight
    columns (there the products are dearer than the passes over them)."""
    return PANEL_ROWS if columns <= 128 else 2 * PANEL_ROWS


def block_norm_sums(features, weights, *, chunk: int = DEFAULT_CHUNK,
                    kernel: bool = True) -> tuple[float, float]:
    r"""``(S_diag, S_off)``: the sums of ``N² ‖B_ij‖²_F`` over the diagonal and over the
    off-diagonal blocks (MC-3, MC-4), before the division of :func:`block_norm_means`.

    The Gram matrix ``G = F Fᵀ`` is formed ``chunk×chunk`` at a time over the upper block triangle
    (pairs ``J > I`` counted twice; a diagonal chunk by one SYRK), in reused work arrays. Each
    chunk is then reduced in panels of a few rows: the weight products of a panel (inner dimension
    C) are formed in small arrays that stay in the core's cache and reduced at once against the
    panel of G (``kernel``: numba, else the numpy twins) — in a diagonal chunk only on and above
    the diagonal, the entries above it counted twice. So no N×N weight array is written to
    memory and read again (at N = 1000 each is 8 MB, and those passes were most of the time above
    the Gram product at C ≤ 100): memory ``O(chunk² + N(p + B))`` on top of the inputs.
    """
    F = np.ascontiguousarray(features, dtype=float)
    n = F.shape[0]
    if weights.n_samples != n:
        raise ValueError(f"weights have {weights.n_samples} samples, features {n}")
    chunk = int(chunk)
    if chunk < 1:
        raise ValueError(f"chunk must be a positive integer, got {chunk!r}")
    A = np.ascontiguousarray(weights.diag_weights(), dtype=float)
    sq_sum = _kernels.sq_weighted_sum if kernel else _kernels.sq_weighted_sum_numpy
    sq_struct = _kernels.sq_weighted_struct if kernel else _kernels.sq_weighted_struct_numpy
    # the factors whose products weight the Gram panel, and the reduction of a panel
    if not isinstance(weights, StructuredWeights):              # Σ K∘(LLᵀ) over all blocks
        factors = [A, np.ascontiguousarray(weights.lam, dtype=float).reshape(n, -1)]

        def reduce(g, W, upper):
            sd = sq_sum(g, W[0], upper)
            return sd, sq_sum(g, W[1], upper) - sd
    elif weights.beta is None:                                  # Λ = diag(α): no off-diagonal
        factors = [A]

        def reduce(g, W, upper):
            return sq_sum(g, W[0], upper), 0.0
    else:                                                       # (MC-4)
        beta = np.ascontiguousarray(weights.beta, dtype=float)
        factors = [A, beta, beta * beta]

        def reduce(g, W, upper):
            return sq_struct(g, W[0], W[1], W[2], upper)
    parts = _chunks(n, chunk)
    width = max((b - a for a, b in parts), default=0)
    rows = _panel_rows(max(f.shape[1] for f in factors))
    buf = _Buffers([width * width] + [rows * width] * len(factors), keep=width <= KEEP_ROWS)
    s_diag = 0.0
    s_off = 0.0
    for ii, (a, b) in enumerate(parts):
        for (c, e) in parts[ii:]:
            same = c == a
            factor = 1.0 if same else 2.0
            G = buf.product(0, F[a:b], F[c:e])
            for r0 in range(a, b, rows):
                r1 = min(b, r0 + rows)
                lo = r0 if same else c          # diagonal chunk: on and above the diagonal
                g = G[r0 - a:r1 - a, lo - c:]
                W = [buf.product(k + 1, f[r0:r1], f[lo:e]) for k, f in enumerate(factors)]
                sd, so = reduce(g, W, same)
                s_diag += factor * sd
                s_off += factor * so
    return s_diag, s_off


def block_norm_means(features, weights, *, chunk: int = DEFAULT_CHUNK,
                     kernel: bool = True) -> tuple[float, float]:
    r"""Mean squared Frobenius norm over all diagonal blocks and over all off-diagonal blocks.

    Parameters
    ----------
    features : array_like, shape (N, p)
        Rows ``f_n`` (data ``x_n`` or activations ``s_n``).
    weights : StructuredWeights or DenseWeights
        Per-sample block weights for ``B`` blocks per side.
    chunk : int
        Rows per chunk of the Gram matrix (work memory ``O(chunk²)``).
    kernel : bool
        Use the numba reductions (``False``: their numpy twins).

    Returns
    -------
    diag, offdiag : float
        ``(1/B) Σ_i ‖B_ii‖²_F`` and ``(1/(B(B−1))) Σ_{i≠j} ‖B_ij‖²_F`` (``offdiag`` is 0
        when ``B = 1``).

    Notes
    -----
    (MC-3), (MC-4) of theory/montecarlo.md.
    """
    n = np.shape(features)[0]
    B = weights.n_blocks
    sd, so = block_norm_sums(features, weights, chunk=chunk, kernel=kernel)
    diag = sd / (n * n * B)
    off = so / (n * n * B * (B - 1)) if B > 1 else 0.0
    return float(diag), float(off)


def block_norm_table(features, weights, *, chunk: int = DEFAULT_CHUNK) -> np.ndarray:
    r"""The ``B×B`` table of all squared block norms ``‖B_ij‖²_F`` (MC-3).

    One dense product ``K [λ^{i1} … λ^{iB}]`` per row ``i`` of the table: ``N² B²`` flops in all and
    ``O(N² + NB)`` memory.
    """
    F = np.ascontiguousarray(features, dtype=float)
    n = F.shape[0]
    K = F @ F.T
    np.multiply(K, K, out=K)
    B = weights.n_blocks
    table = np.empty((B, B))
    if isinstance(weights, StructuredWeights):
        A = weights.diag_weights()
        table_diag = np.einsum("ni,ni->i", A, K @ A)
        if weights.beta is None:
            table[:] = 0.0
        else:
            beta = np.asarray(weights.beta, float)
            for i in range(B):
                Li = beta[:, i:i + 1] * beta
                table[i] = np.einsum("nj,nj->j", Li, K @ Li)
        table[np.diag_indices(B)] = table_diag
    else:
        lam = np.asarray(weights.lam, float)
        for i in range(B):
            Li = lam[:, i, :]
            table[i] = np.einsum("nj,nj->j", Li, K @ Li)
    return table / (n * n)


def diag_block_norms(features, weights) -> np.ndarray:
    r"""``‖B_ii‖²_F`` of every diagonal block, ``i = 1..B`` (MC-3): ``λ_iᵀ K λ_i / N²`` for the
    columns ``λ_i`` of the diagonal weights, one product ``K Λ`` (``N² B`` flops, ``O(N² + NB)``
    memory). The per-class block norms of a run with class offsets (theory/anisotropic.md, ANI-10).
    """
    F = np.ascontiguousarray(features, dtype=float)
    n = F.shape[0]
    K = F @ F.T
    np.multiply(K, K, out=K)
    A = np.ascontiguousarray(weights.diag_weights(), dtype=float)
    return np.einsum("ni,ni->i", A, K @ A) / (n * n)


def block_matrix(features, weights, i: int, j: int) -> np.ndarray:
    """Form block ``(i, j)``, ``(1/N) Σ_n λ_n^{ij} f_n f_nᵀ``, explicitly (for spectra and
    checks)."""
    F = np.asarray(features, float)
    lam = weights.block(i, j)
    return (F.T * lam) @ F / F.shape[0]
