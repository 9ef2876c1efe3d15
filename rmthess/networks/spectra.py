r"""Spectra of exact Hessians: the whole, its Gauss–Newton part, its diagonal blocks, outliers.

* :func:`network_spectra` — eigenvalues of ``H``, of its Gauss–Newton part ``G`` and of every
  diagonal block (whose traces agree for ``H`` and ``G``: the residual part has zero diagonal
  blocks, NET-3).
* :func:`gauss_newton_dual` — the ``NC × NC`` matrix ``(1/N) Q^{½} J Jᵀ Q^{½}`` whose nonzero
  eigenvalues are those of ``G = (1/N) Jᵀ Q J`` (NET-9): the cheaper route when ``N C < P``.
* :func:`count_outliers` — bulk + outliers (Sagun et al. 2017; Papyan 2019): the number of outliers
  is the position of the largest gap between the logarithms of consecutive top eigenvalues.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rmthess._validate import check_finite_array
from rmthess.networks.blocks import norm_map_and_diagonal
from rmthess.networks.hessian import dense_hessian
from rmthess.networks.model import Network
from rmthess.networks.operators import is_dense, operator_size

__all__ = ["NetworkSpectra", "OutlierCount", "network_spectra", "block_spectra",
           "gauss_newton_dual", "count_outliers"]


@dataclass(frozen=True)
class NetworkSpectra:
    """Eigenvalues (ascending) of ``H``, of ``G`` and of each diagonal block of ``H``."""

    full: np.ndarray = field(repr=False)
    gauss_newton: np.ndarray | None = field(repr=False)
    blocks: tuple = field(repr=False)
    layout: object = field(repr=False)


def block_spectra(H, layout) -> tuple:
    """Eigenvalues (ascending) of every diagonal block ``H_ll`` of a symmetric matrix or operator.

    ``H`` is dense, or an operator as :func:`~rmthess.networks.operators.as_products` takes it
    (each block is formed from its ``n_l`` block-column products; for blocks too large to form, use
    :func:`~rmthess.networks.lanczos.top_eigenvalues` with ``block=``).
    """
    if is_dense(H):
        H = np.asarray(H, dtype=np.float64)
        if H.ndim != 2 or H.shape[0] != H.shape[1]:
            raise ValueError(f"H must be a square matrix, got shape {H.shape}")
    off = layout.offsets
    if operator_size(H) != off[-1]:
        raise ValueError(f"H must have shape ({off[-1]}, {off[-1]}) for this layout, "
                         f"got size {operator_size(H)}")
    _, diagonal = norm_map_and_diagonal(H, layout)
    return tuple(np.linalg.eigvalsh(0.5 * (A + A.T)) for A in diagonal)


def network_spectra(net: Network, *, gauss_newton: bool = True,
                    blocks: bool = True) -> NetworkSpectra:
    r"""Full eigenvalues of the exact Hessian, its Gauss–Newton part and its diagonal blocks.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> net = Network(rng.standard_normal((30, 5)), rng.integers(0, 3, 30),
    ...               V=rng.standard_normal((3, 2)), W=rng.standard_normal((2, 5)))
    >>> sp = network_spectra(net)
    >>> sp.full.shape, len(sp.blocks)
    ((16,), 5)
    >>> bool(abs(sum(b.sum() for b in sp.blocks) - sp.gauss_newton.sum()) < 1e-10)
    True
    """
    H = dense_hessian(net)
    full = np.linalg.eigvalsh(H)
    blk = block_spectra(H, net.layout) if blocks else ()
    del H
    gn = np.linalg.eigvalsh(dense_hessian(net, "gn")) if gauss_newton else None
    return NetworkSpectra(full, gn, blk, net.layout)


def _q_sqrt(net: Network) -> np.ndarray:
    """Symmetric square roots ``Q_n^{½}``, shape (N, C, C)."""
    C = net.classes
    if net.loss == "mse":
        return np.broadcast_to(np.eye(C), (net.n_samples, C, C))
    Q = -net.P[:, :, None] * net.P[:, None, :]
    Q[:, np.arange(C), np.arange(C)] += net.P
    lam, U = np.linalg.eigh(Q)
    lam = np.clip(lam, 0.0, None)  # Q_n is PSD; rounding can leave -1e-17
    return np.einsum("nik,nk,njk->nij", U, np.sqrt(lam), U)


def gauss_newton_dual(net: Network) -> np.ndarray:
    r"""The ``NC × NC`` matrix ``K = (1/N) Q^{½} J Jᵀ Q^{½}`` (sample-major: row ``n·C + c``).

    Notes
    -----
    With ``J_n J_kᵀ = (x_n·x_k) V diag(D_n ⊙ D_k) Vᵀ + (s_n·s_k) I_C`` (ReLU network) or
    ``(x_n·x_k) I_C`` (linear model), the nonzero eigenvalues of ``K`` and of the Gauss–Newton
    matrix ``G = (1/N) Jᵀ Q J`` coincide (``AB`` and ``BA`` share nonzero eigenvalues; eq. NET-9).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> net = Network(rng.standard_normal((4, 6)), rng.integers(0, 3, 4),
    ...               V=rng.standard_normal((3, 6)))
    >>> ev_dual = np.linalg.eigvalsh(gauss_newton_dual(net))
    >>> ev_gn = np.linalg.eigvalsh(dense_hessian(net, "gn"))
    >>> bool(np.allclose(np.sort(ev_dual)[-8:], np.sort(ev_gn)[-8:]))
    True
    """
    n, C = net.n_samples, net.classes
    XX = net.X @ net.X.T
    if net.is_linear:
        JJ = np.einsum("nk,ab->nakb", XX, np.eye(C))
    else:
        V, D = net.V, net.D
        # V diag(D_n ⊙ D_k) Vᵀ for every pair (n, k): Σ_i V_ai V_bi D_ni D_ki
        JJ = np.einsum("nk,ni,ki,ai,bi->nakb", XX, D, D, V, V, optimize=True)
        JJ += np.einsum("nk,ab->nakb", net.S @ net.S.T, np.eye(C))
    Qh = _q_sqrt(net)
    K = np.einsum("nac,nckd,kdb->nakb", Qh, JJ, Qh, optimize=True)
    return K.reshape(n * C, n * C) / n


@dataclass(frozen=True)
class OutlierCount:
    r"""Bulk/outlier split of a spectrum by the largest log-gap.

    Attributes
    ----------
    n_outliers : int
        Eigenvalues above the largest gap.
    log_gap : float
        ``log λ_k − log λ_{k+1}`` at that gap (natural log).
    threshold : float
        Geometric mean of the two eigenvalues around the gap (separates bulk and outliers).
    """

    n_outliers: int
    log_gap: float
    threshold: float


def count_outliers(eigenvalues, *, top: int | None = None) -> OutlierCount:
    r"""Count outliers above the bulk: the largest gap between consecutive ``log λ`` among the top
    ones.

    Parameters
    ----------
    eigenvalues : array_like
        A spectrum (any order); only the positive eigenvalues are used.
    top : int, optional
        Look at the ``top`` largest positive eigenvalues only (default: all positive ones). Keeping
        it a few times the expected number of outliers avoids gaps deep in the bulk's tail.

    Notes
    -----
    Sagun et al. (2017): the Hessian spectrum is a bulk near 0 plus about C outliers; Papyan (2019)
    ties the outliers to the class means. Section "Spectra" of ``theory/networks.md``.

    Examples
    --------
    >>> count_outliers([0.01, 0.02, 0.03, 0.05, 4.0, 5.0, 7.0]).n_outliers
    3
    """
    ev = check_finite_array("eigenvalues", eigenvalues).ravel()
    pos = np.sort(ev[ev > 0])[::-1]
    if top is not None:
        if int(top) != top or top < 2:
            raise ValueError(f"top must be an integer >= 2, got {top!r}")
        pos = pos[:int(top)]
    if pos.size < 2:
        raise ValueError("need at least two positive eigenvalues to find a gap")
    gaps = np.log(pos[:-1]) - np.log(pos[1:])
    k = int(np.argmax(gaps))
    return OutlierCount(k + 1, float(gaps[k]), float(np.sqrt(pos[k] * pos[k + 1])))
