r"""Block-wise Hutchinson estimators of block traces and block Frobenius norms, from ``H z`` only.

With probes ``z`` of i.i.d. entries (Rademacher ±1, or standard Gaussian) and ``u = H z``, one
product gives an unbiased estimate of every block trace, ``T̂_l = z_lᵀ u_l``; averaged over ``K``
probes its variance at fixed ``H`` is (eq. NET-11 of ``theory/networks.md``)

    Var T̂_l = (1/K) [ 2‖H_ll‖²_F − 2κ Σ_i (H_ll)_ii² + Σ_{k≠l} ‖H_lk‖²_F ]

with κ = 1 (Rademacher) or 0 (Gaussian).

A probe ``z^{(k)}`` supported on block ``k`` gives every squared block norm of block column ``k``:
``E ‖(H z^{(k)})_l‖² = ‖H_lk‖²_F`` (NET-12) — block-diagonality measured without forming ``H``.

With mini-batch Hessians ``H_B`` the estimator's variance becomes ``E_B[v_l(H_B)]/K + Var_B[tr
H_B,ll]``, where ``v_l`` is the bracket above; probes beyond ``K* = E_B[v_l]/Var_B[tr H_B,ll]`` buy
little (the batch noise dominates) (NET-13).

The operator may be a dense matrix, a :class:`~rmthess.networks.model.Network` (exact products
:func:`~rmthess.networks.products.hvp`) or any callable mapping a ``(K, P)`` stack to ``(K, P)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rmthess._validate import as_generator
from rmthess.networks.blocks import block_norm_map
from rmthess.networks.model import BlockLayout, Network
from rmthess.networks.products import hvp

__all__ = ["PROBES", "probes", "BlockEstimate", "block_traces", "block_frobenius",
           "block_trace_variance", "CriticalProbes", "critical_probe_count", "minibatch_hessians"]

PROBES = ("rademacher", "gaussian")
_KAPPA = {"rademacher": 1.0, "gaussian": 0.0}


def probes(shape, kind: str = "rademacher", *, rng=None) -> np.ndarray:
    """Probe vectors with i.i.d. Rademacher (±1) or standard Gaussian entries.

    Examples
    --------
    >>> z = probes((3, 4), rng=0)
    >>> sorted(set(z.ravel().tolist())) == [-1.0, 1.0]
    True
    """
    if kind not in PROBES:
        raise ValueError(f"probe must be one of {PROBES}, got {kind!r}")
    gen = as_generator(rng)
    if kind == "gaussian":
        return gen.standard_normal(shape)
    return 2.0 * gen.integers(0, 2, size=shape).astype(np.float64) - 1.0


def _matvec(operator):
    if isinstance(operator, Network):
        return lambda Z: hvp(operator, Z)
    if callable(operator):
        return operator
    H = np.asarray(operator, dtype=np.float64)
    if H.ndim != 2 or H.shape[0] != H.shape[1]:
        raise ValueError("operator must be a square matrix, a Network or a callable, "
                         f"got shape {H.shape}")
    return lambda Z: Z @ H  # H symmetric: (H zᵀ)ᵀ = z H


def _layout_offsets(layout) -> np.ndarray:
    sizes = layout.sizes if isinstance(layout, BlockLayout) else layout
    sizes = np.asarray(sizes, dtype=np.intp)
    if sizes.ndim != 1 or sizes.size == 0 or np.any(sizes <= 0):
        raise ValueError("layout must be a BlockLayout or a non-empty sequence of positive sizes")
    return np.concatenate([[0], np.cumsum(sizes)])


def _check_count(n, name):
    if int(n) != n or n < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")
    return int(n)


@dataclass(frozen=True)
class BlockEstimate:
    """A Monte Carlo estimate with its standard error (same shape), from ``n_probes`` probes."""

    estimate: np.ndarray
    stderr: np.ndarray
    n_probes: int
    probe: str


def block_traces(operator, layout, n_probes: int, *, probe: str = "rademacher", rng=None,
                 batch: int = 64) -> BlockEstimate:
    r"""Hutchinson estimates of all block traces ``tr H_ll`` from ``n_probes`` products (NET-11).

    Parameters
    ----------
    operator : ndarray, Network or callable
        The symmetric matrix, or its products ``(K, P) -> (K, P)``.
    layout : BlockLayout or sequence of int
        Block sizes.
    n_probes : int
        Number of probes K (one product each).
    probe : {"rademacher", "gaussian"}
    rng : seed or Generator
    batch : int
        Probes per call of the operator.

    Returns
    -------
    BlockEstimate
        ``estimate[l] = mean_k z_lᵀ (H z)_l``, ``stderr`` = sample standard deviation / √K.

    Examples
    --------
    >>> H = np.diag([1.0, 2.0, 3.0, 4.0])
    >>> est = block_traces(H, [2, 2], 10, rng=0)
    >>> est.estimate              # Rademacher probes are exact for a diagonal H
    array([3., 7.])
    """
    off = _layout_offsets(layout)
    K = _check_count(n_probes, "n_probes")
    mv = _matvec(operator)
    gen = as_generator(rng)
    samples = np.empty((K, off.size - 1))
    for s in range(0, K, batch):
        Z = probes((min(batch, K - s), off[-1]), probe, rng=gen)
        U = mv(Z)
        samples[s:s + Z.shape[0]] = np.add.reduceat(Z * U, off[:-1], axis=1)
    se = samples.std(axis=0, ddof=1) / np.sqrt(K) if K > 1 else np.full(off.size - 1, np.nan)
    return BlockEstimate(samples.mean(axis=0), se, K, probe)


def block_frobenius(operator, layout, n_probes: int, *, probe: str = "rademacher", rng=None,
                    batch: int = 64) -> BlockEstimate:
    r"""Estimates of all squared block norms ``‖H_lk‖²_F`` from ``B·n_probes`` products (NET-12).

    Returns
    -------
    BlockEstimate
        ``estimate`` is a ``B × B`` map (block column ``k`` from probes supported on block ``k``).

    Examples
    --------
    >>> H = np.diag([1.0, 2.0, 3.0, 4.0])
    >>> block_frobenius(H, [2, 2], 5, rng=1).estimate    # exact for a diagonal H
    array([[ 5.,  0.],
           [ 0., 25.]])
    """
    off = _layout_offsets(layout)
    K = _check_count(n_probes, "n_probes")
    mv = _matvec(operator)
    gen = as_generator(rng)
    B = off.size - 1
    est = np.empty((B, B))
    se = np.empty((B, B))
    for k in range(B):
        samples = np.empty((K, B))
        for s in range(0, K, batch):
            n = min(batch, K - s)
            Z = np.zeros((n, off[-1]))
            Z[:, off[k]:off[k + 1]] = probes((n, off[k + 1] - off[k]), probe, rng=gen)
            U = mv(Z)
            samples[s:s + n] = np.add.reduceat(U * U, off[:-1], axis=1)
        est[:, k] = samples.mean(axis=0)
        se[:, k] = samples.std(axis=0, ddof=1) / np.sqrt(K) if K > 1 else np.nan
    return BlockEstimate(est, se, K, probe)


def block_trace_variance(H, layout, *, probe: str = "rademacher") -> np.ndarray:
    r"""Exact per-probe variance ``v_l`` of the block-trace estimator at fixed ``H`` (NET-11).

    ``v_l = 2‖H_ll‖²_F − 2κ Σ_i (H_ll)_ii² + Σ_{k≠l} ‖H_lk‖²_F``; divide by K for K probes.

    Examples
    --------
    >>> H = np.array([[2.0, 1.0], [1.0, 3.0]])
    >>> block_trace_variance(H, [1, 1], probe="gaussian")    # 2·4 + 1, 2·9 + 1
    array([ 9., 19.])
    """
    if probe not in PROBES:
        raise ValueError(f"probe must be one of {PROBES}, got {probe!r}")
    H = np.asarray(H, dtype=np.float64)
    off = _layout_offsets(layout)
    sq = block_norm_map(H, np.diff(off), squared=True)
    diag_sq = np.add.reduceat(np.diag(H) ** 2, off[:-1])
    own = np.diag(sq)
    return 2 * own - 2 * _KAPPA[probe] * diag_sq + (sq.sum(axis=1) - own)


@dataclass(frozen=True)
class CriticalProbes:
    r"""Probe noise against mini-batch noise, per block (NET-13).

    Attributes
    ----------
    probe_variance : ndarray
        ``E_B[v_l(H_B)]`` (per-probe variance averaged over batches).
    batch_variance : ndarray
        ``Var_B[tr H_B,ll]`` across mini-batches.
    k_star : ndarray
        ``E_B[v_l] / Var_B[tr H_B,ll]``.
    mean_trace : ndarray
        ``E_B[tr H_B,ll]``.
    """

    probe_variance: np.ndarray
    batch_variance: np.ndarray
    k_star: np.ndarray
    mean_trace: np.ndarray

    def total_variance(self, n_probes: int) -> np.ndarray:
        """Variance of a K-probe estimate on a fresh mini-batch: ``E_B v/K + Var_B tr``."""
        return self.probe_variance / n_probes + self.batch_variance


def minibatch_hessians(net: Network, batch_size: int, n_batches: int, *, rng=None):
    """Yield the dense Hessians of ``n_batches`` random mini-batches (drawn without replacement)."""
    from rmthess.networks.hessian import dense_hessian

    b = _check_count(batch_size, "batch_size")
    if b > net.n_samples:
        raise ValueError(f"batch_size must be at most N = {net.n_samples}, got {b}")
    gen = as_generator(rng)
    for _ in range(_check_count(n_batches, "n_batches")):
        idx = gen.choice(net.n_samples, size=b, replace=False)
        sub = Network(net.X[idx], net.labels[idx], net.V, net.W, net.loss)
        yield dense_hessian(sub)


def critical_probe_count(hessians, layout, *, probe: str = "rademacher") -> CriticalProbes:
    r"""Critical probe count ``K*`` per block from a sample of mini-batch Hessians (NET-13).

    Parameters
    ----------
    hessians : iterable of ndarray
        Dense mini-batch Hessians ``H_B`` (e.g. from :func:`minibatch_hessians`), at least two.
    layout : BlockLayout or sequence of int
    probe : {"rademacher", "gaussian"}

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> Hs = [np.diag(rng.uniform(1, 2, 4)) + 0.1 for _ in range(20)]
    >>> cp = critical_probe_count(Hs, [2, 2])
    >>> cp.k_star.shape
    (2,)
    """
    off = _layout_offsets(layout)
    sizes = np.diff(off)
    v, t = [], []
    for H in hessians:
        H = np.asarray(H, dtype=np.float64)
        v.append(block_trace_variance(H, sizes, probe=probe))
        t.append(np.add.reduceat(np.diag(H), off[:-1]))
    if len(v) < 2:
        raise ValueError("need at least two mini-batch Hessians")
    v, t = np.array(v), np.array(t)
    pv, bv = v.mean(axis=0), t.var(axis=0, ddof=1)
    with np.errstate(divide="ignore"):
        k_star = np.where(bv > 0, pv / np.where(bv > 0, bv, 1.0), np.inf)
    return CriticalProbes(pv, bv, k_star, t.mean(axis=0))
