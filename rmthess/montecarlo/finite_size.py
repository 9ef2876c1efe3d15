r"""Finite-size predictions of the mean squared block norms (theory/montecarlo.md §3).

For a d×d block ``B = (1/N) Σ_n λ_n x^m_n x^mᵀ_n`` whose weights ``λ_n = F(M x^w_n)`` depend on the
data through the rank-r first layer M (rows orthonormal up to the Gaussian fluctuation of
``M Mᵀ``), with ``w = U x^w`` and ``y = U x^m = √t w + √(1−t) w̃`` standard normal in ``R^r``
(t = 1 coupled, 0 decoupled/sharp, t on the Lindeberg path), the exact expectation at orthonormal
rows is

.. math::

   E\tfrac1d‖B‖_F^2 = \frac{E λ^2|y|^4 + 2(d−r) E λ^2|y|^2 + E λ^2((d−r)^2 + 2(d−r))}{dN}
      + \frac{N−1}{dN}\big[‖E λ y yᵀ‖_F^2 + (Eλ)^2 (d−r)\big]                           (MC-6)

and the Gaussian fluctuation ``M Mᵀ = σ²(I + E/√d)`` adds, to ``O(d^{−2})``,

.. math::

   (Eλ)^2 → (Eλ)^2 + \frac1d\big[\tfrac12 Eλ\,E λh + \tfrac12‖E λ(wwᵀ − I)‖_F^2\big],\qquad
   Eλ^2 → Eλ^2 + \frac{E λ^2 h}{4d},\qquad h = (|w|^2 − r)^2 − 4(|w|^2 − r) − 2r          (MC-8)

(the heat-equation expansion of ``E_{N(0,I+Δ)} F`` with Wishart ``Δ``; ``h`` is the Hermite weight
of the bi-Laplacian). The m×m output blocks of the MLP use the exact finite-N expression
``E‖B‖²_F = E λ²|s|⁴/N + (1 − 1/N)‖E λ s sᵀ‖²_F`` at ``W Wᵀ = I``, ``s = relu(y)``, plus the
``O(1/d)`` term from the fluctuations of ``W Wᵀ`` (MC-17): with ``a = w``, ``b = w̃``,
``E λ²|s|⁴ → E λ²|s|⁴(1 + h_2/(4d))`` and

.. math::

   ‖T‖_F^2 → ‖T‖_F^2
   + \frac1d\Big[\tfrac12 \sum_e T_e\,E[F_e h_2] + \tfrac14 E_E‖E[F\,φ_E]‖_F^2\Big],
   \quad h_2 = h(a) + h(b) + 2\big((a·b)^2 − |a|^2 − |b|^2 + r\big),\quad
   φ_E = aᵀEa + bᵀEb − 2\,\mathrm{tr}\,E

(``F_e = λ s_k s_l`` the entries of ``T = E λ s sᵀ``, ``E`` a GOE matrix; the b-terms vanish at
t = 1).

All moments are averages over randomized quasi-Monte Carlo batches: independent randomly digitally
shifted Sobol' nets for ``(w, w̃) ~ N(0, I_{2r})`` (MC-18). Squared means use the product of the
means of two halves of a batch (unbiased), and the batch spread gives the prediction's own
standard error. When the
weight law is exchangeable in the block index (linear models) the r×r matrices are averaged over the
orbits of the coordinate permutations that fix the block, and ``E λ``, ``E λ²`` are taken exact
from :mod:`rmthess.integrals` where available. Weighted second moments of the MLP blocks are
accumulated by a numba kernel (:mod:`rmthess.montecarlo._prediction_kernels`), and the weights of
all block types are evaluated once per batch (:func:`predict_all_norms`).

References
----------
Dong, Zhang, Yao, Sun, arXiv:2505.02809 (2025).

Examples
--------
>>> from rmthess.montecarlo.finite_size import predict_norms
>>> p = predict_norms("linear-mse", "v", d=50, n_samples=100, classes=3, samples=4096, seed=0)
>>> abs(p.diag - (1 + 51 / 100)) < 5 * p.diag_stderr     # exact value 1 + (d + 1)/N
True
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from rmthess._validate import spawn_seeds
from rmthess.cases import Params, get_case
from rmthess.montecarlo._prediction_kernels import weighted_second_moments
from rmthess.montecarlo.blocknorms import StructuredWeights
from rmthess.montecarlo.stats import ratio_of_means

__all__ = ["OFFSET_CLASSES_LIMIT", "NormPrediction", "predict_norms", "predict_all_norms",
           "hermite_h", "gaussian_points"]

#: the prediction with class offsets (ANI-11) averages ``C(C−1)/2`` off-diagonal weight columns of
#: ``C×C`` moments each (``O(C⁴)`` per point, about 2 s for the default points at C = 12): it is
#: refused above this many classes (and :func:`rmthess.montecarlo.simulate` leaves it out)
OFFSET_CLASSES_LIMIT = 12


@dataclass(frozen=True)
class NormPrediction:
    """Predicted mean squared norms of the diagonal and off-diagonal blocks of one block type.

    ``diag``/``offdiag`` are normalized by d for d×d blocks; ``*_stderr`` are the standard errors of
    the prediction's own (randomized quasi-) Monte Carlo, from the spread of its batches.
    ``ratio_stderr`` is that of ``ratio``: the delta method (MC-10) over the batches, which carries
    the covariance of the two means' errors (they share every batch, MC-19); ``None`` when the
    prediction was not built from batches. With class offsets (ANI-11) ``diag_columns`` and
    ``diag_columns_stderr`` are the per-class diagonal norms and their standard errors (None
    otherwise).
    """

    block: str
    diag: float
    offdiag: float
    diag_stderr: float
    offdiag_stderr: float
    ratio_stderr: float | None = None
    diag_columns: np.ndarray | None = None
    diag_columns_stderr: np.ndarray | None = None

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
    ``{first[c], second[c]}``.
    Returns a list of ``(M×B array, orbit size)``: in-in diagonal, in-in off-diagonal, in-out (both
    orders), out-out diagonal, out-out off-diagonal.
    """
    first, second = sets
    r = Y.shape[1]
    Y2 = Y * Y
    whole = second is None and np.array_equal(first, np.arange(r))
    a = Y if whole else Y[:, first]           # S = {c} for every column c: no copy needed
    a2 = Y2 if whole else Y2[:, first]
    s = 1
    if second is not None:
        a = a + Y[:, second]
        a2 = a2 + Y2[:, second]
        s = 2
    tot = Y.sum(1)[:, None]
    tot2 = Y2.sum(1)[:, None]
    rest = tot - a
    out2 = tot2 - a2
    # an orbit of size 0 (in-in off-diagonal when |S| = 1, out-out when r - s < 2) is never read
    return [(a2, s), (a * a - a2 if s > 1 else None, s * (s - 1)),
            (2.0 * a * rest, 2 * s * (r - s)), (out2, r - s),
            (rest * rest - out2 if r - s > 1 else None, (r - s) * (r - s - 1))]


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
            # Σ λ (wwᵀ) − λ̄ Σ wwᵀ = Σ (λ − λ̄) wwᵀ, with the sparse λ (ReLU indicators) in the kernel
            Lw = np.concatenate([L[sl], np.ones((n, 1))], axis=1)
            Mw = weighted_second_moments(np.ascontiguousarray(Lw), np.ascontiguousarray(w[sl]))
            G = (Mw[:-1] - L.mean(0)[:, None, None] * Mw[-1]) / n
            if y is w:
                T = Mw[:-1] / n
            else:
                T = weighted_second_moments(np.ascontiguousarray(L[sl]),
                                            np.ascontiguousarray(y[sl])) / n
            parts.append((T.reshape(T.shape[0], -1), G.reshape(G.shape[0], -1)))
    if sets is not None:
        Tn = sum(size * a * b for (a, size), (b, _) in zip(parts[0][0], parts[1][0], strict=True))
        Gn = sum(size * a * b for (a, size), (b, _) in zip(parts[0][1], parts[1][1], strict=True))
        return np.full(L.shape[1], Tn), np.full(L.shape[1], Gn)
    return (np.sum(parts[0][0] * parts[1][0], axis=1), np.sum(parts[0][1] * parts[1][1], axis=1))


def _square_prediction(L, sets, w, y, d, N, exact, cov=(1.0, 1.0, 1.0)):
    """Per-batch prediction (MC-6, MC-8; with a data covariance, ANI-12), one value per column of
    L.

    Moments are written around their exactly known parts (``E|y|² = r``, ``E h = 0``, and
    ``E λ``, ``E λ²`` where ``exact`` gives them) so that the Monte Carlo only estimates the small
    remainders: ``E λ²|y|² = r Eλ² + E λ² q``, ``E λ²|y|⁴ = r² Eλ² + 2r E λ² q + E λ² q²`` with
    ``q = |y|² − r``. ``cov = (s_1, s_2, s_3)`` are the spectrum moments ``tr Σᵏ/d`` (all 1 for
    Σ = I, where every added term is an exact 0 or 1 and the isotropic arithmetic is unchanged).
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
    s1, s2, s3 = cov
    qs = s2 / s1                                # QᵀΣQ → (s_2/s_1) I
    kk = s3 / s1 - qs * qs                      # QᵀΣP⊥ΣQ → kk I
    t1 = d * s1 - r * qs                        # tr P⊥Σ
    t2 = d * s2 - 2 * r * s3 / s1 + r * qs * qs  # tr P⊥ΣP⊥Σ
    hf = s2 / (s1 * s1)                         # variance of V Σ Vᵀ relative to Σ = I
    e1y = r * e1 + (L * q).mean(0)              # E λ|y|²
    e1sq_eff = e1sq + hf * (0.5 * e1 * eh + 0.5 * Gn) / d
    e2_eff = e2 + hf * e2h / (4.0 * d)
    pred = (qs * qs * a4 + 2 * qs * t1 * a2 + 4 * kk * a2 + e2_eff * (t1 * t1 + 2 * t2)) / (d * N) \
        + (N - 1) / (d * N) * (qs * qs * Tn + 2 * kk * e1 * e1y + e1sq_eff * t2)
    return pred


def _hermite_pair(a, b):
    r"""Per-sample ``h_2 = h(a) + h(b) + 2((a·b)² − |a|² − |b|² + r)`` of (MC-17).

    Without b (t = 1) only ``h(a)``: the b-terms average to zero when nothing depends on b.
    """
    h2 = hermite_h(a)
    if b is not None:
        r = a.shape[1]
        aa = np.einsum("ij,ij->i", a, a)
        bb = np.einsum("ij,ij->i", b, b)
        ab = np.einsum("ij,ij->i", a, b)
        h2 = h2 + hermite_h(b) + 2.0 * (ab * ab - aa - bb + r)
    return h2


def _goe_weights(a, b, E):
    """``φ_E = aᵀEa − tr E`` (+ ``bᵀEb − tr E`` with b) per sample, one column per matrix of the
    stack ``E`` (MC-17)."""
    tr = np.trace(E, axis1=1, axis2=2)
    phi = np.einsum("ni,qij,nj->nq", a, E, a) - tr
    if b is not None:
        phi = phi + np.einsum("ni,qij,nj->nq", b, E, b) - tr
    return phi


def _output_prediction(weights: StructuredWeights, s, a, b, E, d, N):
    r"""Per-batch (diag, offdiag) prediction for the m×m output blocks (MC-9, MC-17).

    ``E‖B‖²_F = Q/N + (1 − 1/N)‖T‖²`` at ``W Wᵀ = I`` (``Q = E λ²|s|⁴``, ``T = E λ s sᵀ``) averaged
    over W to first order in 1/d: ``Q → Q + E[λ²|s|⁴ h_2]/(4d)`` and
    ``‖T‖² → ‖T‖² + (½ Σ_e T_e E[F_e h_2] + ¼ mean_q ‖E[F φ_{E_q}]‖²)/d`` over the GOE stack ``E``.
    Every product of two means uses the two halves of the batch.
    """
    M, m = s.shape
    half = M // 2
    s4 = np.einsum("ij,ij->i", s, s) ** 2
    h2 = _hermite_pair(a, b)
    phi = _goe_weights(a, b, E)
    nE = phi.shape[1]
    A = weights.diag_weights()
    C = A.shape[1]
    sc = np.ascontiguousarray(s)

    def corrected(T1, T2, axes):
        """‖T‖² + (½ Σ T·T^h + ¼ mean_q ‖T^{E_q}‖²)/d from the halves' stacks (plain, h_2, φ…)."""
        main = np.sum(T1[0] * T2[0], axis=axes)
        hterm = 0.5 * np.sum(T1[0] * T2[1] + T2[0] * T1[1], axis=axes)
        vterm = np.mean([np.sum(T1[2 + q] * T2[2 + q], axis=axes) for q in range(nE)], axis=0)
        return main + (0.5 * hterm + 0.25 * vterm) / d

    stacks = []
    for sl in (slice(0, half), slice(half, M)):
        n = sl.stop - sl.start
        cols = np.concatenate([np.ones((n, 1)), h2[sl, None], phi[sl]], axis=1)
        L = (A[sl][:, None, :] * cols[:, :, None]).reshape(n, -1)
        stacks.append(weighted_second_moments(L, sc[sl]).reshape(2 + nE, C, m, m) / n)
    q_d = ((A * A) * (s4 * (1.0 + h2 / (4.0 * d)))[:, None]).mean(0)
    diag = np.mean(q_d / N + (1 - 1 / N) * corrected(stacks[0], stacks[1], (1, 2)))
    if weights.beta is None:
        return float(diag), 0.0
    beta = weights.beta
    b2 = beta * beta
    q_o = weighted_second_moments(np.ascontiguousarray((s4 * (1.0 + h2 / (4.0 * d)))[:, None]),
                                  np.ascontiguousarray(b2))[0] / M
    stacks = []
    for sl in (slice(0, half), slice(half, M)):
        n = sl.stop - sl.start
        Psi = (beta[sl][:, :, None] * s[sl][:, None, :]).reshape(n, C * m)
        L = np.concatenate([np.ones((n, 1)), h2[sl, None], phi[sl]], axis=1)
        stacks.append(weighted_second_moments(L, Psi).reshape(2 + nE, C, m, C, m) / n)
    norms = corrected(stacks[0], stacks[1], (1, 3))
    off_mask = ~np.eye(C, dtype=bool)
    off = np.mean((q_o / N + (1 - 1 / N) * norms)[off_mask])
    return float(diag), float(off)


@functools.lru_cache(maxsize=16)
def _sobol_net(n_log2: int, dim: int, bits: int) -> np.ndarray:
    """The first ``2**n_log2`` points of the (unscrambled) Sobol' sequence as ``bits``-bit
    integers."""
    from scipy.stats import qmc

    u = qmc.Sobol(dim, scramble=False, bits=bits).random_base2(n_log2)
    out = np.rint(u * 2.0**bits).astype(np.uint64)
    out.setflags(write=False)
    return out


def gaussian_points(rng, n_log2: int, dim: int, *, bits: int = 30) -> np.ndarray:
    r"""``2**n_log2`` points of a randomly digitally shifted Sobol' net mapped to ``N(0, I_dim)``
    (MC-18).

    Each coordinate of the net (as a ``bits``-bit integer) is XOR-ed with an independent uniform
    integer, which makes every point uniform on the cells while keeping the net's stratification
    (one randomized QMC rule: unbiased, and independent rules give an honest standard error). The
    points are the midpoints of their ``2^{−bits}`` cells, so no coordinate is 0 or 1 before the
    inverse normal CDF.
    """
    from scipy.special import ndtri

    net = _sobol_net(int(n_log2), int(dim), int(bits))
    shift = rng.integers(0, 2**bits, size=dim, dtype=np.uint64)
    return ndtri(((net ^ shift).astype(float) + 0.5) * 2.0 ** (-bits))


def predict_norms(case, block: str, *, d: int, n_samples: int, classes: int, m: int | None = None,
                  sigma_v: float = 1.0, t: float = 1.0, params: Params | None = None,
                  samples: int | None = None, batches: int = 8, seed=0,
                  spectrum=None) -> NormPrediction:
    r"""Finite-size prediction of the mean diagonal and off-diagonal squared block norms of one
    block.

    The prediction of :func:`predict_all_norms` restricted to ``block`` (same parameters).
    """
    return predict_all_norms(case, d=d, n_samples=n_samples, classes=classes, m=m,
                             sigma_v=sigma_v, t=t, params=params, samples=samples,
                             batches=batches, seed=seed, blocks=(block,),
                             spectrum=spectrum)[block]


def predict_all_norms(case, *, d: int, n_samples: int, classes: int, m: int | None = None,
                      sigma_v: float = 1.0, t: float = 1.0, params: Params | None = None,
                      samples: int | None = None, batches: int = 8, seed=0,
                      blocks=None, goe_draws: int = 2, spectrum=None) -> dict:
    r"""Finite-size predictions of the mean diagonal and off-diagonal squared norms of every block
    type.

    Parameters
    ----------
    case : str or Case
        Model case (``"linear-ce"``, …).
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
        Points in all (default ``min(2**18, max(2**15, 2**24 // r))`` for linear cases, ``2**13``
        for MLP cases); each batch gets the largest power of two ``≤ samples/batches`` (at least
        16).
    batches : int
        Independent randomized Sobol' rules (the prediction's standard error comes from their
        spread).
    seed
        Seed of the digital shifts (and of the GOE matrices of MC-17).
    blocks : sequence of str, optional
        Block types to predict (default all of the case).
    goe_draws : int
        GOE matrices per batch for the W Wᵀ-variance term of the output blocks (MC-17): an unbiased
        randomized trace whose noise is part of the batch spread.
    spectrum : array_like or WeightLaw, optional
        Linear cases: the d eigenvalues of a data covariance Σ (``x = Σ^{1/2} y``); the prediction
        is then (ANI-12) of theory/anisotropic.md, with ``s_k = tr Σᵏ/d`` of these values. A
        spectrum law H instead stands for a Σ whose ``tr Σᵏ/d`` are the moments of H (at a d too
        large to list, e.g. the d → ∞ check of the limits). None for Σ = I. With a case whose
        ``prior`` is set as well, the per-class columns of (ANI-11) with these moments: the joint
        prediction (ANI-15).

    Returns
    -------
    dict
        Block type → :class:`NormPrediction`.

    Notes
    -----
    (MC-6), (MC-8), (MC-9), (MC-17), (MC-18) of theory/montecarlo.md; (ANI-12) of
    theory/anisotropic.md with a ``spectrum``, (ANI-11) with class offsets, (ANI-15) with both.
    """
    model = get_case(case) if isinstance(case, str) else case
    cov = (1.0, 1.0, 1.0)
    if spectrum is not None:
        if model.hidden:
            raise ValueError(f"case {model.name!r}: a data covariance spectrum applies to the "
                             "linear cases only")
        if hasattr(spectrum, "moment"):
            from rmthess.cases._architectures import covariance_moments

            covariance_moments(spectrum)              # positive definite, finite
            cov = tuple(float(spectrum.moment(k)) for k in (1, 2, 3))
        else:
            sp = np.asarray(spectrum, dtype=float)
            if sp.shape != (int(d),) or not (np.all(np.isfinite(sp)) and np.all(sp > 0)):
                raise ValueError(f"spectrum must hold the d = {d} eigenvalues of Σ, finite and "
                                 "> 0")
            cov = tuple(float(np.mean(sp**k)) for k in (1, 2, 3))
    blocks = tuple(model.block_types if blocks is None else blocks)
    for block in blocks:
        if block not in model.block_types:
            raise ValueError(f"case {model.name!r} has block types {model.block_types}, "
                             f"not {block!r}")
    r = model.rank(classes, m)
    if d <= r:
        raise ValueError(f"d = {d} must exceed the rank {r} of the first layer")
    if model.conditional() and params is None:
        raise ValueError(f"case {model.name!r}: the prediction is conditional on V; pass params")
    goe_draws = int(goe_draws)
    if goe_draws < 1:
        raise ValueError(f"goe_draws must be an integer >= 1, got {goe_draws!r}")
    batches = int(batches)
    if batches < 2:
        raise ValueError(f"batches must be an integer >= 2 (for a standard error), got {batches!r}")
    offsets = getattr(model, "prior", None) is not None
    if offsets and classes > OFFSET_CLASSES_LIMIT:
        raise ValueError(f"the prediction with class offsets averages C(C-1)/2 weight columns of "
                         f"CxC moments each; C = {classes} is above {OFFSET_CLASSES_LIMIT}")
    if params is None:
        # class offsets (ANI-11): the weights of F(σw + log π), not exchangeable in the classes
        params = Params(first=np.zeros((r, 1)),
                        offset=np.log(model.prior) if offsets else None)
    samples = int(samples or (min(2**18, max(2**15, 2**24 // r)) if not model.hidden else 2**13))
    n_log2 = max(4, int(math.floor(math.log2(max(samples // batches, 1)))))
    # the logits are N(0, σ_v² s_1 (I + Δ)) (ANI-1): the weights at the scale σ_v √s_1
    sig_v = sigma_v * math.sqrt(cov[0])
    sig = model.first_sigma(sig_v)
    st, s1t = math.sqrt(t), math.sqrt(1.0 - t)
    exact = {}
    for block in blocks:
        if model.exchangeable(block) and not offsets:
            exact[block] = (model.exact_moments(block, "diag", classes, sig_v),
                            model.exact_moments(block, "offdiag", classes, sig_v))
    rows = {block: [] for block in blocks}
    for child in spawn_seeds(seed, batches):
        rng = np.random.default_rng(child)
        pts = gaussian_points(rng, n_log2, r if t == 1.0 else 2 * r)
        w = pts[:, :r]
        wt = None if t == 1.0 else pts[:, r:]
        y = w if wt is None else st * w + s1t * wt
        all_weights = model.weights(params, sig * w)
        for block in blocks:
            weights = all_weights[block]
            if model.square(block):
                exch = block in exact
                ex_d, ex_o = exact.get(block, (None, None))
                Ld, Sd = _columns(weights, "diag", exch)
                Lo, So = _columns(weights, "offdiag", exch)
                pd = _square_prediction(Ld, Sd, w, y, d, n_samples, ex_d, cov)
                po = _square_prediction(Lo, So, w, y, d, n_samples, ex_o, cov)
                rows[block].append((float(np.mean(pd)), float(np.mean(po)))
                                   + (tuple(pd) if offsets else ()))
            else:
                Z = rng.standard_normal((goe_draws, r, r))
                E = (Z + Z.transpose(0, 2, 1)) / math.sqrt(2.0)   # GOE: Var E_kk = 2, E_kl = 1

                rows[block].append(_output_prediction(weights, np.maximum(sig * y, 0.0), w, wt, E,
                                                      d, n_samples))
    out = {}
    for block, vals in rows.items():
        v = np.asarray(vals)
        se = v.std(axis=0, ddof=1) / math.sqrt(v.shape[0])
        cols = v.shape[1] > 2
        out[block] = NormPrediction(block=block, diag=float(v[:, 0].mean()),
                                    offdiag=float(v[:, 1].mean()), diag_stderr=float(se[0]),
                                    offdiag_stderr=float(se[1]),
                                    ratio_stderr=ratio_of_means(v[:, 1], v[:, 0]).stderr,
                                    diag_columns=v[:, 2:].mean(axis=0) if cols else None,
                                    diag_columns_stderr=se[2:] if cols else None)
    return out
