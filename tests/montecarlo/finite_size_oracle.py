r"""Oracle: the former implementation of the finite-size predictions (pseudo-random batches of 2^15
points, numpy and BLAS), kept only for tests and benchmarks/bench_predictions.py.

Finite-size predictions of the mean squared block norms (theory/montecarlo.md §3).

For a d×d block ``B = (1/N) Σ_n λ_n x^m_n x^mᵀ_n`` whose weights ``λ_n = F(M x^w_n)`` depend on the
data through the rank-r first layer M (rows orthonormal up to the Gaussian fluctuation of ``M Mᵀ``),
with ``w = U x^w`` and ``y = U x^m = √t w + √(1−t) w̃`` standard normal in ``R^r`` (t = 1 coupled, 0
decoupled/sharp, t on the Lindeberg path), the exact expectation at orthonormal rows is

.. math::

   E\tfrac1d‖B‖_F^2 = \frac{E λ^2|y|^4 + 2(d−r) E λ^2|y|^2 + E λ^2((d−r)^2 + 2(d−r))}{dN}
      + \frac{N−1}{dN}\big[‖E λ y yᵀ‖_F^2 + (Eλ)^2 (d−r)\big]                           (MC-6)

and the Gaussian fluctuation ``M Mᵀ = σ²(I + E/√d)`` adds, to ``O(d^{−2})``,

.. math::

   (Eλ)^2 → (Eλ)^2 + \frac1d\big[\tfrac12 Eλ\,E λh + \tfrac12‖E λ(wwᵀ − I)‖_F^2\big],\qquad
   Eλ^2 → Eλ^2 + \frac{E λ^2 h}{4d},\qquad h = (|w|^2 − r)^2 − 4(|w|^2 − r) − 2r          (MC-8)

(the heat-equation expansion of ``E_{N(0,I+Δ)} F`` with Wishart ``Δ``; ``h`` is the Hermite weight
of the bi-Laplacian). The m×m output blocks of the MLP use the exact finite-N expression
``E‖B‖²_F = E λ²|s|⁴/N + (1 − 1/N)‖E λ s sᵀ‖²_F`` at ``W Wᵀ = I`` (its ``O(1/d)`` fluctuation
correction is not included).

All moments are Monte Carlo averages over ``w, w̃ ~ N(0, I_r)`` in independent batches; squared means
use the product of the means of two independent halves (unbiased), and the batch spread gives the
prediction's own standard error. When the weight law is exchangeable in the block index (linear
models) the r×r matrices are averaged over the orbits of the coordinate permutations that fix the
block, and ``E λ``, ``E λ²`` are taken exact from :mod:`rmthess.integrals` where available.

References
----------
Dong, Zhang, Yao, Sun, arXiv:2505.02809 (2025).

"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rmthess._validate import spawn_seeds
from rmthess.cases import Params, get_case
from rmthess.montecarlo.blocknorms import StructuredWeights

__all__ = ["NormPrediction", "predict_norms", "hermite_h"]


@dataclass(frozen=True)
class NormPrediction:
    """Predicted mean squared norms of the diagonal and off-diagonal blocks of one block type.

    ``diag``/``offdiag`` are normalized by d for d×d blocks; ``*_stderr`` are Monte Carlo errors of
    the prediction itself.
    """

    block: str
    diag: float
    offdiag: float
    diag_stderr: float
    offdiag_stderr: float

    @property
    def ratio(self) -> float:
        return self.offdiag / self.diag


def hermite_h(w: np.ndarray) -> np.ndarray:
    r"""``h(w) = (|w|² − r)² − 4(|w|² − r) − 2r`` row-wise, so that ``E[Δ²F(w)] = E[F(w) h(w)]``
    (MC-8)."""
    r = w.shape[1]
    q = np.einsum("ij,ij->i", w, w) - r
    return q * q - 4.0 * q - 2.0 * r


def _orbit_sums(Y, sets):
    """Per column, the sums of ``y_k y_l`` over the five orbits of the permutations fixing ``S``.

    ``sets`` is ``(first, second)``: column ``c`` has ``S = {first[c]}`` or
    ``{first[c], second[c]}``. Returns a list of ``(M×B array, orbit size)``: in-in diagonal, in-in
    off-diagonal, in-out (both orders), out-out diagonal, out-out off-diagonal.
    """
    first, second = sets
    r = Y.shape[1]
    Y2 = Y * Y
    a = Y[:, first]
    a2 = Y2[:, first]
    s = 1
    if second is not None:
        a = a + Y[:, second]
        a2 = a2 + Y2[:, second]
        s = 2
    tot = Y.sum(1)[:, None]
    tot2 = Y2.sum(1)[:, None]
    rest = tot - a
    return [(a2, s), (a * a - a2, s * (s - 1)), (2.0 * a * rest, 2 * s * (r - s)),
            (tot2 - a2, r - s), (rest * rest - (tot2 - a2), (r - s) * (r - s - 1))]


def _columns(weights, which: str, exch: bool):
    """``(L, sets)``: weight columns of the diagonal or off-diagonal blocks, and their index sets.

    ``sets`` (exchangeable weights only) gives the block's coordinates for the orbit sums.
    """
    B = weights.n_blocks
    if which == "diag":
        L = weights.diag_weights()
        return L, ((np.arange(B), None) if exch else None)
    if isinstance(weights, StructuredWeights):
        if exch:
            k = B // 2
            first, second = np.arange(0, 2 * k, 2), np.arange(1, 2 * k, 2)
            if weights.beta is None:
                return np.zeros((weights.n_samples, k)), (first, second)
            beta = weights.beta
            return -beta[:, first] * beta[:, second], (first, second)
        i, j = np.triu_indices(B, 1)
        if weights.beta is None:
            return np.zeros((weights.n_samples, i.size)), None
        return -weights.beta[:, i] * weights.beta[:, j], None
    i, j = np.triu_indices(B, 1)
    return weights.lam[:, i, j], None


def _matrix_norms(L, sets, w, y, e1x):
    """``(‖E λ y yᵀ‖²_F, ‖E λ(w wᵀ − I)‖²_F)`` per column (pooled over columns if exchangeable).

    For exchangeable weights the diagonal orbits are anchored at ``e1x`` (E λ, exact where known):
    their means are ``e1x + E[λ(y_k² − 1)]``, which removes most of the Monte Carlo noise.
    """
    M, r = w.shape
    half = M // 2
    Lc = L - L.mean(0)
    parts = []
    for sl in (slice(0, half), slice(half, M)):
        n = sl.stop - sl.start
        if sets is not None:
            T = []
            for k, (o, size) in enumerate(_orbit_sums(y[sl], sets)):
                if not size:
                    T.append((0.0, 0))
                elif k in (0, 3):          # diagonal orbits: E y_k² = 1
                    T.append((float(np.mean(e1x)) + np.mean(L[sl] * (o / size - 1.0)), size))
                else:
                    T.append((np.mean(L[sl] * o) / size, size))
            G = [(np.mean(Lc[sl] * o) / size if size else 0.0, size)
                 for o, size in _orbit_sums(w[sl], sets)]
            parts.append((T, G))
        else:
            ys, ws = y[sl], w[sl]
            Y2 = (ys[:, :, None] * ys[:, None, :]).reshape(n, r * r)
            W2 = (ws[:, :, None] * ws[:, None, :]).reshape(n, r * r)
            parts.append((L[sl].T @ Y2 / n, Lc[sl].T @ W2 / n))
    if sets is not None:
        Tn = sum(size * a * b for (a, size), (b, _) in zip(parts[0][0], parts[1][0], strict=True))
        Gn = sum(size * a * b for (a, size), (b, _) in zip(parts[0][1], parts[1][1], strict=True))
        return np.full(L.shape[1], Tn), np.full(L.shape[1], Gn)
    return (np.sum(parts[0][0] * parts[1][0], axis=1), np.sum(parts[0][1] * parts[1][1], axis=1))


def _square_prediction(L, sets, w, y, d, N, exact):
    """Per-batch prediction (MC-6, MC-8) averaged over the columns of L.

    Moments are written around their exactly known parts (``E|y|² = r``, ``E h = 0``, and
    ``E λ``, ``E λ²`` where ``exact`` gives them) so that the Monte Carlo only estimates the small
    remainders: ``E λ²|y|² = r Eλ² + E λ² q``, ``E λ²|y|⁴ = r² Eλ² + 2r E λ² q + E λ² q²`` with
    ``q = |y|² − r``.
    """
    M, r = w.shape
    half = M // 2
    h = hermite_h(w)[:, None]
    q = (np.einsum("ij,ij->i", y, y) - r)[:, None]
    L2 = L * L
    e1 = L.mean(0)
    e1sq = L[:half].mean(0) * L[half:].mean(0)
    e2 = L2.mean(0)
    if exact is not None:
        e1 = np.full_like(e1, exact[0])
        e1sq = np.full_like(e1, exact[0] ** 2)
        e2 = np.full_like(e1, exact[1])
    l2q = (L2 * q).mean(0)
    a2 = r * e2 + l2q
    a4 = r * r * e2 + 2 * r * l2q + (L2 * (q * q)).mean(0)
    eh = ((L - L.mean(0)) * h).mean(0)          # E h = 0: centring only removes variance
    e2h = ((L2 - L2.mean(0)) * h).mean(0)
    Tn, Gn = _matrix_norms(L, sets, w, y, e1)
    e1sq_eff = e1sq + (0.5 * e1 * eh + 0.5 * Gn) / d
    e2_eff = e2 + e2h / (4.0 * d)
    dr = d - r
    pred = (a4 + 2 * dr * a2 + e2_eff * (dr * dr + 2 * dr)) / (d * N) \
        + (N - 1) / (d * N) * (Tn + e1sq_eff * dr)
    return float(np.mean(pred))


def _output_prediction(weights: StructuredWeights, s, N):
    """Per-batch (diag, offdiag) prediction for the m×m output blocks (exact finite N at W
    Wᵀ = I)."""
    M, m = s.shape
    half = M // 2
    s4 = np.einsum("ij,ij->i", s, s) ** 2
    S2 = (s[:, :, None] * s[:, None, :]).reshape(M, m * m)
    A = weights.diag_weights()
    C = A.shape[1]
    q_d = ((A * A) * s4[:, None]).mean(0)
    Ta = A[:half].T @ S2[:half] / half
    Tb = A[half:].T @ S2[half:] / (M - half)
    diag = np.mean(q_d / N + (1 - 1 / N) * np.sum(Ta * Tb, axis=1))
    if weights.beta is None:
        return float(diag), 0.0
    beta = weights.beta
    b2 = beta * beta
    q_o = (b2.T @ (b2 * s4[:, None])) / M
    Ts = []
    for sl in (slice(0, half), slice(half, M)):
        n = sl.stop - sl.start
        Psi = (beta[sl][:, :, None] * s[sl][:, None, :]).reshape(n, C * m)
        Ts.append((Psi.T @ Psi / n).reshape(C, m, C, m))
    norms = np.einsum("ckdl,ckdl->cd", Ts[0], Ts[1])
    off_mask = ~np.eye(C, dtype=bool)
    off = np.mean((q_o / N + (1 - 1 / N) * norms)[off_mask])
    return float(diag), float(off)


def predict_norms(case, block: str, *, d: int, n_samples: int, classes: int, m: int | None = None,
                  sigma_v: float = 1.0, t: float = 1.0, params: Params | None = None,
                  samples: int | None = None, batches: int = 8, seed=0) -> NormPrediction:
    r"""Finite-size prediction of the mean diagonal and off-diagonal squared block norms.

    Parameters
    ----------
    case : str or Model
        Model case (``"linear-ce"``, …).
    block : str
        Block type (``"v"``, ``"hidden"``, ``"output"``).
    d, n_samples : int
        Dimension and number of samples N.
    classes, m, sigma_v
        Model parameters.
    t : float
        Squared correlation between the matrix-side and weight-side projections: 1 for the coupled
        design, 0 for the decoupled and sharp designs, t on the Lindeberg path.
    params : Params, optional
        For MLP cases, the parameters whose output weights V the prediction is conditional on
        (required there).
    samples : int, optional
        Monte Carlo samples of ``w`` (default ``min(2**18, max(2**15, 2**24 // r))`` for linear
        cases, ``2**15`` for MLP cases).
    batches : int
        Independent batches (the prediction's standard error comes from their spread).
    seed
        Seed of the prediction's own Monte Carlo.

    Returns
    -------
    NormPrediction

    Notes
    -----
    (MC-6), (MC-8), (MC-9) of theory/montecarlo.md.
    """
    model = get_case(case) if isinstance(case, str) else case
    if block not in model.block_types:
        raise ValueError(f"case {model.name!r} has block types {model.block_types}, not {block!r}")
    r = model.rank(classes, m)
    if d <= r:
        raise ValueError(f"d = {d} must exceed the rank {r} of the first layer")
    if model.conditional() and params is None:
        raise ValueError(f"case {model.name!r}: the prediction is conditional on V; pass params")
    if params is None:
        params = Params(first=np.zeros((r, 1)))
    samples = int(samples or (min(2**18, max(2**15, 2**24 // r)) if not model.hidden else 2**15))
    per = max(2 * (samples // (2 * batches)), 16)
    sig = model.first_sigma(sigma_v)
    exch = model.exchangeable(block)
    ex_d = model.exact_moments(block, "diag", classes, sigma_v) if exch else None
    ex_o = model.exact_moments(block, "offdiag", classes, sigma_v) if exch else None
    st, s1t = math.sqrt(t), math.sqrt(1.0 - t)
    diag, off = [], []
    for child in spawn_seeds(seed, batches):
        rng = np.random.default_rng(child)
        w = rng.standard_normal((per, r))
        y = w if t == 1.0 else st * w + s1t * rng.standard_normal((per, r))
        weights = model.weights(params, sig * w)[block]
        if model.square(block):
            Ld, Sd = _columns(weights, "diag", exch)
            Lo, So = _columns(weights, "offdiag", exch)
            diag.append(_square_prediction(Ld, Sd, w, y, d, n_samples, ex_d))
            off.append(_square_prediction(Lo, So, w, y, d, n_samples, ex_o))
        else:
            a, b = _output_prediction(weights, np.maximum(sig * y, 0.0), n_samples)
            diag.append(a)
            off.append(b)
    k = len(diag)
    return NormPrediction(
        block=block,
        diag=float(np.mean(diag)), offdiag=float(np.mean(off)),
        diag_stderr=float(np.std(diag, ddof=1) / math.sqrt(k)),
        offdiag_stderr=float(np.std(off, ddof=1) / math.sqrt(k)),
    )
