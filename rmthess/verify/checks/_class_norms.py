r"""Per-class diagonal block norms of linear CE with class offsets, estimated with small variance.

The diagonal block of class c is ``H_cc = (1/N) Σ_n a_nc x_n x_nᵀ`` with ``a_nc = p_nc(1 − p_nc)``,
``p_n = softmax(V x_n + b)``, ``b_c = log π_c``, and
``(1/d)‖H_cc‖²_F = (1/(dN²)) Σ_{n,m} a_nc a_mc (x_n·x_m)²``. Its spread over replicates is
mostly the spread of the sample moments ``mean_n a_nc`` and ``mean_n a_nc²`` (5–19 % per replicate
at d = 200 for a Zipf prior at C = 10, the more the rarer the class) and, far less, the fluctuation
of the data given the weights (with the controls below on the plain norm 1.7–3.3 % per replicate are
left, on the Rao–Blackwellized norm 0.3–0.8 %). Two unbiased reductions (theory/verification.md,
VER-15):

* *Rao–Blackwellization over the orthogonal data.* With Q an orthonormal basis of the row space of
  V, ``x_n = Q w_n + u_n``: ``w_n = Qᵀx_n ~ N(0, I_C)`` carries the weights, and the ``u_n`` are iid
  ``N(0, I − QQᵀ)`` independent of them. Given ``V`` and the ``w_n`` (``k = d − C``),

  .. math:: E[(x_n·x_m)^2] = (w_n·w_m)^2 + k \;(n ≠ m),\qquad
            E[|x_n|^4] = |w_n|^4 + 2k|w_n|^2 + k(k + 2),

  so the conditional expectation of the norm costs ``O(N²C)``, with ``w_n·w_m = U_n M^{-1} U_mᵀ``
  (``U = X Vᵀ``, ``M = V Vᵀ``): no ``N×N`` Gram matrix in d dimensions.
* *Control variates with exact means.* Given x, ``V x ~ N(0, σ_v² s I_C)`` with
  ``s = |x|²/d ~ χ²_d/d`` (V has iid ``N(0, σ_v²/d)`` entries), so the weights of every sample have
  the exact moments ``μ_k = E_s F_k(σ_v √s)``, ``F_1 = E a_c``, ``F_2 = E a_c²`` of (SMO-2) at the
  logit scale ``σ_v √s`` (:func:`weight_moments_at_d`; not the moments at ``σ_v``, which differ by
  ``O(1/d)``). ``mean_n a_nc − μ_1`` and ``mean_n a_nc² − μ_2`` have mean 0 at every d; their
  coefficients are fitted out of fold (:func:`rmthess.verify.checks._stats.crossfit_mean_se`), so
  the estimate stays unbiased.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["MIXTURE_NODES", "ClassNormReplicates", "class_norm_replicates", "conditional_norms",
           "weight_moments_at_d"]

#: nodes of the Gauss rule of the Gamma(d/2) law in :func:`weight_moments_at_d` (measured for a
#: Zipf prior at C = 10 against 24 nodes: 5·10⁻¹² relative at d = 30, ≤ 6·10⁻¹⁵ at d ≥ 100)
MIXTURE_NODES = 10


def weight_moments_at_d(prior, d: int, sigma_v: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    r"""Exact ``(E a_c, E a_c²)`` per class of the linear-CE weights at dimension d (VER-15).

    ``a_c = p_c(1 − p_c)``, ``p = softmax(V x + log π)``, ``x ~ N(0, I_d)``, V with iid
    ``N(0, σ_v²/d)`` entries. Given x the logits are ``N(0, σ_v² s I_C)``, ``s = |x|²/d``, and
    ``t = ds/2`` has the Gamma(d/2) law, so ``E a_c^k = E_t F_k(σ_v √(2t/d))`` with ``F_k`` the
    moments of :func:`rmthess.integrals.softmax_offsets.offset_softmax_moments` (SMO-2), by
    the Gauss rule of the Gamma(d/2) law (:data:`MIXTURE_NODES` nodes).
    """
    from scipy.linalg import eigh_tridiagonal

    from rmthess._validate import DIM
    from rmthess.integrals.softmax_offsets import offset_softmax_moments
    from rmthess.laws.prior import validate_prior

    d = DIM.validate(d)
    pi = np.asarray(prior, dtype=float)
    b = np.log(validate_prior(pi, pi.size if pi.ndim == 1 else 0))
    # Golub–Welsch for the Gamma(d/2) law (weight t^α e^{−t}, α = d/2 − 1): monic recurrence
    # a_j = 2j + α + 1, b_j = j(j + α); stable at any α (scipy's roots_genlaguerre overflows its
    # weights beyond α ≈ 170)
    alpha = d / 2.0 - 1.0
    j = np.arange(MIXTURE_NODES, dtype=float)
    t, vec = eigh_tridiagonal(2.0 * j + alpha + 1.0, np.sqrt(j[1:] * (j[1:] + alpha)))
    w = vec[0] ** 2
    mean_a = np.zeros(len(b))
    mean_a2 = np.zeros(len(b))
    for tk, wk in zip(t, w, strict=True):
        mom = offset_softmax_moments(b, sigma_v * np.sqrt(2.0 * tk / d))
        mean_a += wk * mom.mean_a
        mean_a2 += wk * mom.mean_a2
    return mean_a, mean_a2


def conditional_norms(a, U, V, d: int) -> np.ndarray:
    r"""``E[(1/d)‖H_cc‖²_F | V, Qᵀx_1, …, Qᵀx_N]`` for every column c of the weights ``a`` (VER-15).

    ``a`` (N×B) are weights that depend on the data only through ``U = X Vᵀ`` (N×C), V (C×d) has
    full row rank. With ``M = VVᵀ = LLᵀ`` the rows of ``W = U L^{−T}`` are the coordinates
    ``w_n = Qᵀx_n`` in the orthonormal basis ``Q = Vᵀ L^{−T}``; the orthogonal parts ``u_n`` are iid
    ``N(0, I − QQᵀ)`` given them, so with ``k = d − C`` ``E[(x_n·x_m)²] = (w_n·w_m)² + k`` (n ≠ m),
    ``E|x_n|⁴ = |w_n|⁴ + 2k|w_n|² + k(k + 2)``, and the norm ``(1/(dN²)) Σ a_n a_m (x_n·x_m)²``
    has the conditional expectation returned, at ``O(N²(B + C))`` cost.
    """
    a = np.asarray(a, dtype=float)
    U = np.asarray(U, dtype=float)
    V = np.asarray(V, dtype=float)
    n, k = U.shape[0], int(d) - V.shape[0]
    if k < 1 or V.shape[1] != int(d) or a.shape[0] != n:
        raise ValueError(f"need U (N×C), V (C×d) with C < d and a with N rows; got U {U.shape}, "
                         f"V {V.shape}, a {a.shape}, d = {d}")
    L = np.linalg.cholesky(V @ V.T)
    W = U @ np.linalg.inv(L).T                        # rows w_n = Qᵀx_n, Q = Vᵀ L^{-T}
    K = W @ W.T                                       # w_n·w_m
    w2 = np.diag(K).copy()
    np.multiply(K, K, out=K)
    K += k
    K[np.diag_indices(n)] = w2 * w2 + 2.0 * k * w2 + k * (k + 2.0)
    return np.einsum("nc,nc->c", a, K @ a) / (n * n * int(d))


@dataclass(frozen=True)
class ClassNormReplicates:
    """Per-replicate Rao–Blackwellized per-class norms and their controls.

    Attributes
    ----------
    norms : ndarray, shape (R, C)
        ``E[(1/d)‖H_cc‖²_F | V, Qᵀx_1, …, Qᵀx_N]`` of every class, per replicate.
    controls : ndarray, shape (R, C, 2)
        ``mean_n a_nc − E a_c`` and ``mean_n a_nc² − E a_c²`` (mean 0 exactly).
    d, n_samples : int
    """

    norms: np.ndarray
    controls: np.ndarray
    d: int
    n_samples: int


def class_norm_replicates(prior, *, d: int, gamma: float, reps: int, seed,
                          sigma_v: float = 1.0) -> ClassNormReplicates:
    """Run ``reps`` replicates of linear CE with the offsets ``log π`` at dimension d (VER-15).

    Each replicate draws V and the data as :func:`rmthess.montecarlo.simulate` does
    (:func:`~rmthess.montecarlo.simulation.draw_replicate`, coupled design, the weights of
    :meth:`rmthess.cases.Case.weights`); replicate ``k`` uses ``default_rng(seed.spawn(reps)[k])``
    (``seed``: anything :func:`numpy.random.default_rng` accepts, or a ``SeedSequence``).
    """
    from rmthess._validate import REPS, seed_sequence
    from rmthess.montecarlo.simulation import draw_replicate, make_spec

    prior = np.asarray(prior, dtype=float)
    if prior.ndim != 1:
        raise ValueError(f"prior must be a 1-d array of class probabilities, got shape "
                         f"{prior.shape}")
    C = len(prior)
    spec, model, design = make_spec("linear-ce", d=d, gamma=gamma, classes=C, sigma_v=sigma_v,
                                    prior=prior)
    reps = REPS.validate(reps)
    if reps < 2:
        raise ValueError(f"reps must be >= 2, got {reps!r}")
    d, n = spec.d, spec.n_samples
    mu1, mu2 = weight_moments_at_d(prior, d, spec.sigma_v)
    norms = np.empty((reps, C))
    controls = np.empty((reps, C, 2))
    seed = seed_sequence(seed)
    children = np.random.SeedSequence(seed.entropy, spawn_key=seed.spawn_key).spawn(reps)
    for r, child in enumerate(children):
        rng = np.random.default_rng(child)
        params, _, X = draw_replicate(model, design, rng, d=d, n_samples=n, classes=C, m=None,
                                      sigma_v=spec.sigma_v)
        U = X @ params.first.T
        a = model.weights(params, U)["v"].diag_weights()
        norms[r] = conditional_norms(a, U, params.first, d)
        controls[r, :, 0] = a.mean(axis=0) - mu1
        controls[r, :, 1] = (a * a).mean(axis=0) - mu2
    return ClassNormReplicates(norms, controls, d, n)
