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
:func:`~rmthess.networks.products.hvp`), a ``LinearOperator`` (e.g.
:func:`rmthess.torch.hessian_operator`), anything with ``@``, or any callable mapping a ``(K, P)``
stack to ``(K, P)`` (:func:`~rmthess.networks.operators.as_products`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rmthess._validate import as_generator
from rmthess.networks.blocks import block_norm_map
from rmthess.networks.model import Network
from rmthess.networks.operators import as_products, layout_offsets

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


def _check_count(n, name):
    if int(n) != n or n < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")
    return int(n)


@dataclass(frozen=True)
class BlockEstimate:
    """A Monte Carlo estimate with its standard error (same shape), from ``n_probes`` probes.

    ``n_products`` counts the operator products spent (probes, plus a Hutch++ sketch), ``method``
    is ``"hutchinson"`` or ``"hutch++"``.
    """

    estimate: np.ndarray
    stderr: np.ndarray
    n_probes: int
    probe: str
    n_products: int = 0
    method: str = "hutchinson"
    #: with ``rtol``: whether every watched standard error met it (``None`` without ``rtol``)
    target_met: bool | None = None

    def probes_for(self, rtol: float) -> np.ndarray:
        r"""Probes that bring every standard error to ``rtol·|estimate|``: ``⌈K (se/(rtol |T̂|))²⌉``.

        From the sample variance of this run (the standard error falls as ``1/√K``); ``inf`` where
        the estimate is zero.
        """
        _check_rtol(rtol)
        with np.errstate(divide="ignore", invalid="ignore"):
            need = self.n_probes * (self.stderr / (rtol * np.abs(self.estimate))) ** 2
        return np.where(np.isfinite(need), np.ceil(need), np.inf)


def _check_rtol(rtol):
    if rtol is None:
        return None
    if not (np.isfinite(rtol) and rtol > 0):
        raise ValueError(f"rtol must be positive and finite, got {rtol!r}")
    return float(rtol)


def _sample(draw, n_probes: int, rtol, max_probes: int | None, watch=lambda x: x):
    """Samples from ``draw(k)`` until the relative standard error meets ``rtol`` (NET-19).

    Starts with ``n_probes``; while some watched estimate (``watch(samples)``) has
    ``se > rtol·|mean|``, draws the projected shortfall (at least doubling, at most up to
    ``max_probes``). Returns the samples and whether the target was met (``True`` without
    ``rtol``).
    """
    rtol = _check_rtol(rtol)
    cap = None if max_probes is None else _check_count(max_probes, "max_probes")
    samples = draw(n_probes)
    while rtol is not None:
        K = samples.shape[0]
        if K < 2:  # one probe has no standard error: draw a second
            if cap is not None and cap < 2:
                return samples, False
            samples = np.concatenate([samples, draw(1)])
            continue
        seen = watch(samples)
        mean = seen.mean(axis=0)
        se = seen.std(axis=0, ddof=1) / np.sqrt(K)
        short = se > rtol * np.abs(mean)
        if not short.any():
            return samples, True
        with np.errstate(divide="ignore", invalid="ignore"):
            need = K * np.max((se[short] / (rtol * np.abs(mean[short]))) ** 2)
        need = need if np.isfinite(need) else 2.0 * K
        more = int(min(max(np.ceil(need) - K, K), np.iinfo(np.int32).max))
        if cap is not None:
            more = min(more, cap - K)
        if more <= 0:
            return samples, False
        samples = np.concatenate([samples, draw(more)])
    return samples, True


def _finish(samples, probe, n_products, method, offset=0.0, met=None, rtol=None,
            cap=None) -> BlockEstimate:
    K = samples.shape[0]
    se = (samples.std(axis=0, ddof=1) / np.sqrt(K) if K > 1
          else np.full(samples.shape[1:], np.nan))
    if met is False:
        import warnings

        warnings.warn(f"rtol = {rtol:g} not met within max_probes = {cap} ({K} probes); the "
                      "standard errors say how far (BlockEstimate.probes_for tells the count)",
                      UserWarning, stacklevel=3)
    return BlockEstimate(offset + samples.mean(axis=0), se, K, probe, n_products, method,
                         None if rtol is None else bool(met))


def _sketch(mv, P: int, size: int, gen) -> tuple:
    """Orthonormal ``Q`` (P, s) spanning ``H S`` for Gaussian ``S``, and ``H Q`` (2s products)."""
    S = gen.standard_normal((size, P))
    Q, _ = np.linalg.qr(mv(S).T)
    return Q, mv(Q.T).T


def block_traces(operator, layout, n_probes: int, *, probe: str = "rademacher", rng=None,
                 batch: int = 64, method: str = "hutchinson", sketch: int | None = None,
                 rtol: float | None = None, max_probes: int | None = None) -> BlockEstimate:
    r"""Estimates of all block traces ``tr H_ll`` (NET-11), by Hutchinson or block-wise Hutch++.

    Parameters
    ----------
    operator : ndarray, Network, LinearOperator, anything with ``@``, or callable
        The symmetric matrix, or its products ``(K, P) -> (K, P)``.
    layout : BlockLayout or sequence of int
        Block sizes.
    n_probes : int
        Number of probes K (one product each), or the first round when ``rtol`` is given.
    probe : {"rademacher", "gaussian"}
    rng : seed or Generator
    batch : int
        Probes per call of the operator.
    method : {"hutchinson", "hutch++"}
        ``"hutch++"`` (NET-18) first sketches the range of ``H`` with ``sketch`` Gaussian products
        (``Q``: an orthonormal basis of ``H S``; ``sketch`` more products give ``H Q``) and takes
        the part ``Q Qᵀ H + (I − QQᵀ) H QQᵀ`` of every block trace exactly; the probes estimate
        only the block traces of ``(I − QQᵀ) H (I − QQᵀ)``. It lowers the variance when a few large
        eigenvalues dominate ``‖H‖_F`` (outliers: the Hessians of trained networks).
    sketch : int, optional
        Sketch size for ``"hutch++"`` (default ``n_probes``; cost ``2·sketch`` products).
    rtol : float, optional
        Draw probes until every standard error is at most ``rtol·|estimate|`` or ``max_probes``
        is reached (``BlockEstimate.probes_for`` tells how many a target needs); a target not
        met gives a ``UserWarning`` and ``target_met=False``.
    max_probes : int, optional
        Default: ``P``, the products of the exact traces (block columns), beyond which an
        estimate costs more than the exact value.

    Returns
    -------
    BlockEstimate
        ``estimate[l] = mean_k z_lᵀ (H z)_l`` (+ the exact sketch part), ``stderr`` = sample
        standard deviation / √K.

    Examples
    --------
    >>> H = np.diag([1.0, 2.0, 3.0, 4.0])
    >>> est = block_traces(H, [2, 2], 10, rng=0)
    >>> est.estimate              # Rademacher probes are exact for a diagonal H
    array([3., 7.])
    """
    off = layout_offsets(layout)
    K = _check_count(n_probes, "n_probes")
    if method not in ("hutchinson", "hutch++"):
        raise ValueError(f"method must be 'hutchinson' or 'hutch++', got {method!r}")
    mv = as_products(operator)
    gen = as_generator(rng)
    P = int(off[-1])
    offset, used = 0.0, 0
    project = None
    if method == "hutch++":
        s = _check_count(sketch if sketch is not None else K, "sketch")
        Q, HQ = _sketch(mv, P, min(s, P), gen)
        used = 2 * Q.shape[1]
        exact = np.einsum("ij,ij->i", Q, 2.0 * HQ - Q @ (Q.T @ HQ))
        offset = np.add.reduceat(exact, off[:-1])

        def project(Z):
            return Z - (Z @ Q) @ Q.T

    def draw(n):
        out = np.empty((n, off.size - 1))
        for s in range(0, n, batch):
            Z = probes((min(batch, n - s), P), probe, rng=gen)
            U = mv(Z if project is None else project(Z))
            if project is not None:
                U = project(U)
            out[s:s + Z.shape[0]] = np.add.reduceat(Z * U, off[:-1], axis=1)
        return out

    cap = max(K, P) if max_probes is None else max_probes  # P products: the exact traces
    samples, met = _sample(draw, K, rtol, cap)
    return _finish(samples, probe, used + samples.shape[0], method, offset, met, rtol, cap)


def block_frobenius(operator, layout, n_probes: int, *, probe: str = "rademacher", rng=None,
                    batch: int = 64, rtol: float | None = None,
                    max_probes: int | None = None) -> BlockEstimate:
    r"""Estimates of all squared block norms ``‖H_lk‖²_F`` from ``B·n_probes`` products (NET-12).

    ``rtol`` and ``max_probes`` as :func:`block_traces` (every diagonal block's norm must meet the
    target; off-diagonal ones are reported with their standard errors); ``max_probes`` defaults
    to ``⌈P/B⌉``, the cost of the exact map (:func:`~rmthess.networks.blocks.block_norm_map`).

    With few probes (``n_probes ≲ 30``) a squared norm's estimate is skewed (a sum of squares), so
    its t-statistic has heavier tails than the normal law: use at least 30 probes where the
    standard errors feed a test.

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
    off = layout_offsets(layout)
    K = _check_count(n_probes, "n_probes")
    mv = as_products(operator)
    gen = as_generator(rng)
    B = off.size - 1

    def draw(n):
        out = np.empty((n, B, B))
        for k in range(B):
            for s in range(0, n, batch):
                c = min(batch, n - s)
                Z = np.zeros((c, off[-1]))
                Z[:, off[k]:off[k + 1]] = probes((c, off[k + 1] - off[k]), probe, rng=gen)
                U = mv(Z)
                out[s:s + c, :, k] = np.add.reduceat(U * U, off[:-1], axis=1)
        return out

    cap = max(K, -(-int(off[-1]) // B)) if max_probes is None else max_probes  # ≈ exact cost
    samples, met = _sample(draw, K, rtol, cap, watch=lambda x: np.einsum("nkk->nk", x))
    return _finish(samples, probe, B * samples.shape[0], "hutchinson", 0.0, met, rtol, cap)


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
    off = layout_offsets(layout)
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
    off = layout_offsets(layout)
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
