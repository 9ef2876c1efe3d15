r"""The decoupling error ``d·δ_N(z)`` by the exact coupling (common random numbers).

Per replicate the true block H and its exact coupling H♯ (same X, V, weights; only the projection
of each x_n onto the row space of the first layer redrawn) give ``d·(s_H(z) − s_{H♯}(z))``, whose
mean estimates ``d·δ_N(z)``. Because ``rank(H − H♯) ≤ 2r``, ``|s_H(z) − s_{H♯}(z)| ≤ 2r/(d Im z)``
on every realization (MC-12). The literal estimator with an independent copy X̃ is computed beside
it, and the ratio of the two spreads; the limit ``c(z)`` comes from
:func:`rmthess.montecarlo.coupling_limit.coupling_constant` (MC-13 … MC-16).

Examples
--------
>>> from rmthess.montecarlo.spectra.exact_coupling import coupling
>>> res = coupling("linear-ce", d=40, gamma=1.0, classes=3, z=[0.5 + 1.0j], reps=3, seed=0,
...                prediction=False)
>>> bool(res.rank_bound_ratio <= 1.0)
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rmthess._validate import REPS, check_upper_half_plane, seed_sequence
from rmthess.montecarlo import _kernels
from rmthess.montecarlo.blocknorms import block_matrix
from rmthess.montecarlo.coupling_limit import _block_index, _square_block, coupling_constant
from rmthess.montecarlo.designs import Decoupled, Sharp, _row_space_basis
from rmthess.montecarlo.seeds import COUPLING_LIMIT_KEY, replicate_seed
from rmthess.montecarlo.simulation import make_spec
from rmthess.montecarlo.spectra._realization import complex_mean_se, draw_params, fixed_second

__all__ = ["coupling", "CouplingResult"]


@dataclass(frozen=True)
class CouplingResult:
    r"""The decoupling error ``d·δ_N(z)`` estimated two ways, with the rank bound and ``c(z)``.

    Complex standard errors hold the error of the real part in ``.real`` and of the imaginary part
    in ``.imag``. ``spread`` is the per-replicate standard deviation ``sqrt(Var Re + Var Im)``.
    ``prediction_error`` is the error estimate of ``c(z)`` (zero for the exact rules, MC-14…MC-16);
    ``z_real``/``z_imag`` divide by the simulation's standard error and it in quadrature.
    ``replicates`` (``R × len(z)``) holds the per-replicate values of ``d·(s_H − s_H♯)`` (means over
    the redraws) and ``controls`` the exchangeable control of each replicate (``control_weight``),
    whose expectation is exactly 0; both None unless asked for.
    """

    case: str
    block: str
    which: str
    d: int
    n_samples: int
    gamma: float
    classes: int
    m: int | None
    reps: int
    rank: int
    z: np.ndarray
    scaled_difference: np.ndarray
    stderr: np.ndarray
    spread: np.ndarray
    literal_difference: np.ndarray | None
    literal_stderr: np.ndarray | None
    literal_spread: np.ndarray | None
    spread_ratio: np.ndarray | None
    rank_bound_ratio: float
    prediction: np.ndarray | None
    prediction_error: np.ndarray | None
    z_real: np.ndarray | None
    z_imag: np.ndarray | None
    replicates: np.ndarray | None = None
    controls: np.ndarray | None = None


def _spread(x):
    if x.shape[0] < 2:
        return np.full(x.shape[1], math.nan)
    return np.sqrt(np.var(x.real, axis=0, ddof=1) + np.var(x.imag, axis=0, ddof=1))


def coupling(case, *, d, gamma, classes, z, reps, m=None, block=None, which="diag", seed=None,
             sigma_v=1.0, literal=True, prediction=True, samples=2**13, redraws=1,
             control_weight=None) -> CouplingResult:
    r"""Estimate ``d·δ_N(z) = d(E s_H(z) − E s_H̃(z))`` with the exact coupling (common random
    numbers).

    Parameters
    ----------
    case, d, gamma, classes, m, sigma_v
        Model case and sizes (``N = round(d/γ)``).
    z : array_like
        Points with ``Im z > 0``.
    reps : int
        Replicates.
    block : str, optional
        d×d block type (``"v"`` or ``"hidden"``; default the first).
    which : {"diag", "offdiag"}
        Block ``(0, 0)`` or ``(0, 1)``.
    literal : bool
        Also compute the literal estimator with an independent copy X̃ and the ratio of spreads.
    prediction : bool
        Attach ``c(z)`` (:func:`coupling_constant`) and z-scores of the real and imaginary parts.
    samples : int
        Points per scrambled Sobol' rule of ``c(z)`` where no deterministic rule applies (a power
        of two; :func:`rmthess.montecarlo.coupling_limit.coupling_constant`).
    redraws : int
        Independent redraws of the projection per replicate; the replicate's value is their mean.
        Beyond one, every redraw costs ``O(d²r)`` instead of an eigendecomposition: with
        ``H♯ − H = U M Uᵀ`` of rank ≤ 2r, ``d(s_H − s_H♯) = tr[(M⁻¹ + UᵀGU)⁻¹ UᵀG²U]``,
        ``G = (H − z)⁻¹`` from one eigendecomposition of H (:func:`_woodbury`).
    control_weight : float, optional
        Also return, per replicate, the same estimator for the block with every weight replaced by
        this constant, on the same X and the same redraws. Its weights do not see the data, so X and
        X♯ are exchangeable and its expectation is exactly 0: a control variate.

    Notes
    -----
    (MC-12) … (MC-16) of theory/montecarlo.md.
    """
    spec, model, _ = make_spec(case, d=d, gamma=gamma, classes=classes, m=m, sigma_v=sigma_v)
    block = _square_block(model, block)
    reps = REPS.validate(reps)
    zz = check_upper_half_plane(np.atleast_1d(z)).ravel()
    i, j = _block_index(which)
    root = seed_sequence(seed)
    second = fixed_second(model, spec, root)
    r = model.rank(spec.classes, spec.m)
    redraws = REPS.validate(redraws)
    if control_weight is not None and not (math.isfinite(control_weight) and control_weight != 0):
        raise ValueError(f"control_weight must be a finite nonzero number, got {control_weight!r}")
    fast = redraws > 1 or control_weight is not None
    sharp, dec = Sharp(), Decoupled()
    diffs, lits, ctrls, bound = [], [], [], 0.0
    for k in range(reps):
        rng = np.random.default_rng(replicate_seed(root, k))
        params = draw_params(model, spec, rng, second)
        X = rng.standard_normal((spec.n_samples, spec.d))
        w = model.weights(params, X @ params.first.T)[block]
        if fast:
            lam = np.asarray(w.block(i, j), float)
            e_h, E = np.linalg.eigh(block_matrix(X, w, i, j))
            if control_weight is not None:
                e_c, E_c = np.linalg.eigh((X.T @ X) * (control_weight / X.shape[0]))
                lam_c = np.full(X.shape[0], float(control_weight))
            Q = _row_space_basis(params.first)
            Y = X @ Q
            # the redraws in one batch: the same draws as one (n, r) array after another
            delta = rng.standard_normal((redraws, *Y.shape)) - Y
            vals = _woodbury(e_h, E, X, Q, lam, delta, zz)
            if control_weight is not None:
                cvals = _woodbury(e_c, E_c, X, Q, lam_c, delta, zz)
            bound = max(bound, float(np.max(np.abs(vals) * zz.imag / (2 * r))))
            diffs.append(vals.mean(axis=0))
            if control_weight is not None:
                ctrls.append(np.mean(cvals, axis=0))
            if literal:
                s = _kernels.stieltjes_rows(e_h[None, :], zz)
        else:
            e_h = np.linalg.eigvalsh(block_matrix(X, w, i, j))
            Xs, _ = sharp.matrices(X, params.first, rng)
            e_s = np.linalg.eigvalsh(block_matrix(Xs, w, i, j))
            s = _kernels.stieltjes_rows(np.stack([e_h, e_s]), zz)
            diff = s[0] - s[1]
            bound = max(bound, float(np.max(np.abs(diff) * spec.d * zz.imag / (2 * r))))
            diffs.append(spec.d * diff)
        if literal:
            _, Xt = dec.matrices(X, params.first, rng)
            wt = model.weights(params, Xt @ params.first.T)[block]
            e_t = np.linalg.eigvalsh(block_matrix(X, wt, i, j))
            lits.append(spec.d * (s[0] - _kernels.stieltjes_rows(e_t[None, :], zz)[0]))
    diffs = np.asarray(diffs)
    mean, se = complex_mean_se(diffs)
    spread = _spread(diffs)
    lmean = lse = lspread = ratio = None
    if literal:
        lits = np.asarray(lits)
        lmean, lse = complex_mean_se(lits)
        lspread = _spread(lits)
        ratio = lspread / spread
    pred = perr = zr = zi = None
    if prediction:
        pred, perr = coupling_constant(model.name, zz, gamma=spec.gamma, classes=spec.classes,
                                       m=spec.m, block=block, which=which, sigma_v=spec.sigma_v,
                                       V=second, samples=samples,
                                       seed=replicate_seed(root, COUPLING_LIMIT_KEY),
                                       return_error=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            zr = (mean.real - pred.real) / np.hypot(se.real, perr.real)
            zi = (mean.imag - pred.imag) / np.hypot(se.imag, perr.imag)
    return CouplingResult(model.name, block, which, spec.d, spec.n_samples, spec.gamma,
                          spec.classes, spec.m, reps, 2 * r, zz, mean, se, spread, lmean, lse,
                          lspread, ratio, bound, pred, perr, zr, zi,
                          diffs if fast else None,
                          np.asarray(ctrls) if control_weight is not None else None)


def _woodbury(e, E, X, Q, lam, delta, z) -> np.ndarray:
    r"""``tr(H − z)⁻¹ − tr(H♯ − z)⁻¹`` for ``H = EΛEᵀ = (1/N) Xᵀ diag(λ) X`` and ``H♯`` the same
    with ``x_n + Q δ_n`` (a redraw of the coordinates ``Qᵀx_n``: ``δ_n = g_n − Qᵀx_n``).

    ``H♯ − H = AQᵀ + QAᵀ + QBQᵀ = U M Uᵀ`` with ``A = (1/N) Σ λ_n x_n δ_nᵀ``, ``B = (1/N) Σ λ_n δ_n
    δ_nᵀ``, ``U = [A, Q]``, ``M = [[0, I], [I, B]]`` (``M⁻¹ = [[−B, I], [I, 0]]``); by the Woodbury
    identity ``tr G − tr G♯ = tr[(M⁻¹ + UᵀGU)⁻¹ UᵀG²U]`` (MC-12).

    ``delta`` of shape ``(n, r)`` gives the values at the points ``z`` (shape ``(len(z),)``); a
    stack ``(R, n, r)`` of redraws gives shape ``(R, len(z))``, all redraws in a few batched
    products (``EᵀQ`` is shared by them).
    """
    single = delta.ndim == 2
    D = delta[None] if single else delta
    R, n, r = D.shape
    d = X.shape[1]
    A = ((X.T * lam) @ D.transpose(1, 0, 2).reshape(n, R * r)) / n
    WA = (E.T @ A).reshape(d, R, r).transpose(1, 0, 2)
    W = np.concatenate([WA, np.broadcast_to(E.T @ Q, (R, d, r))], axis=2)
    B = np.matmul(D.transpose(0, 2, 1) * lam, D) / n
    minv = np.zeros((R, 2 * r, 2 * r))
    minv[:, :r, :r] = -B
    minv[:, :r, r:] = minv[:, r:, :r] = np.eye(r)
    Wt = W.transpose(0, 2, 1)
    out = np.empty((R, z.size), complex)
    for k, zk in enumerate(z):
        g = 1.0 / (e - zk)
        WG = Wt * g
        sol = np.linalg.solve(minv + WG @ W, (WG * g) @ W)
        out[:, k] = np.trace(sol, axis1=1, axis2=2)
    return out[0] if single else out
