r"""Replicates of the 1-hidden-layer network with control variates for the between-V spread.

The block-norm ratio of the 1-hidden-layer network is a ratio of means over replicates, each with
its own output weights V. Most of its spread is the spread of ``κ = VᵀV`` (m×m, m = 8): with 24
replicates the relative standard error is 20 %. This module runs the replicates itself (from the
public strategy weights of :meth:`rmthess.cases.Case.weights` and
:func:`~rmthess.montecarlo.blocknorms.block_norm_means`, exactly as
:func:`rmthess.montecarlo.simulate` does) so that it can also return, per replicate, statistics of V
and of the weights whose expectations are known in closed form; these serve as regression control
variates (theory/verification.md, VER-7):

* every case: ``mean_{i≠j} K_ij²`` and ``mean_i K_ii²`` with ``K = VᵀPV`` (``P = I`` for MSE,
  ``P = I − 11ᵀ/C`` for CE, where the softmax weights see V only through its centred rows). ``K`` is
  Wishart with ``r = C`` (MSE) or ``C − 1`` (CE) degrees of freedom and scale ``σ_v²/m``, so
  ``E K_ij² = r σ_v⁴/m²`` and ``E K_ii² = (r² + 2r) σ_v⁴/m²``;
* MSE hidden blocks, where ``a_ij(n) = κ_ij b_n`` with ``b_n`` Bernoulli(q), q = 1/4 (i ≠ j) or 1/2:
  the conditional expectation of ``(1/d)‖H_ij‖²_F`` given the weights,
  ``c_ij = ((d + 1) Σ_n a_ij(n)² + (Σ_n a_ij(n))²)/N²``, whose expectation is
  ``E κ_ij² ((d + 2) q/N + (1 − 1/N) q²)`` up to the ``O(1/d)`` effect of ``W Wᵀ ≠ I`` (removed with
  the rest of the ``O(1/d)`` bias by the extrapolation in d).

For CE the replicates also carry the fixed-V theory of their own V (theory/verification.md, VER-13):
the u-moments of :func:`~rmthess.verify.checks._fixed_v.per_v_moments` under the law of the
replicate's ``u_n = W x_n``, ``N(0, WWᵀ)`` — hidden ``G_ij = (E a_ij)² + γ E a_ij²`` (``γ = d/N``)
and the exact output expectation ``(1 − 1/N)‖E b s sᵀ‖² + E b²|s|⁴/N`` — and, for the hidden blocks,
the sample moments of the replicate's own weights minus their expectations (mean 0 exactly: the
``u_n`` are iid ``N(0, WWᵀ)`` given W).
"""

from __future__ import annotations

import numpy as np

__all__ = ["MlpReplicates", "mlp_replicates", "wishart_controls"]


class MlpReplicates:
    """Per-replicate mean diagonal/off-diagonal block norms and centred control variates.

    Attributes
    ----------
    norms : dict
        ``block -> (R×2 array)`` of ``(diag, offdiag)`` mean squared block norms (d×d blocks / d).
    controls : dict
        ``block -> (R×p array)`` of control variates with expectation 0 (up to ``O(1/d)``).
    theory : dict or None
        CE only: ``block -> (R×2 array)`` of the fixed-V theory ``(diag, offdiag)`` of each
        replicate.
    theory_controls : dict or None
        CE only: ``block -> (R×p array)`` of weight-moment controls with expectation 0 given V, W.
    """

    def __init__(self, norms: dict, controls: dict, theory=None, theory_controls=None):
        self.norms = norms
        self.controls = controls
        self.theory = theory
        self.theory_controls = theory_controls


#: draws of u per replicate for its fixed-V theory (hidden columns)
FIXED_V_DRAWS = 2048
#: of which the output columns use the first (their pair sums cost O(n²C))
FIXED_V_OUTPUT_DRAWS = 1024


def _fixed_v(params, lam, d, n, rng):
    """Fixed-V theory of one CE replicate and its hidden weight-moment controls (VER-13)."""
    from rmthess.verify.checks._fixed_v import per_v_moments

    L = np.linalg.cholesky(params.first @ params.first.T)
    t = per_v_moments(params.second, rng, FIXED_V_DRAWS, factor=L,
                      output_draws=FIXED_V_OUTPUT_DRAWS)
    g = d / n
    theory = {"hidden": (t[0] + g * t[2], t[1] + g * t[3]),
              "output": ((1 - 1 / n) * t[4] + t[6] / n, (1 - 1 / n) * t[5] + t[7] / n)}
    s1, s2 = lam.sum(axis=0), (lam * lam).sum(axis=0)
    u1, m2 = (s1 * s1 - s2) / (n * (n - 1.0)), s2 / n
    eye = np.eye(lam.shape[1], dtype=bool)
    ctrl = [u1[~eye].mean() - t[1], m2[~eye].mean() - t[3], u1[eye].mean() - t[0],
            m2[eye].mean() - t[2]]
    return theory, ctrl


def wishart_controls(V, loss, sigma_v):
    C, m = V.shape
    P = np.eye(C) - 1.0 / C if loss == "ce" else np.eye(C)
    r = C - 1 if loss == "ce" else C
    K = V.T @ P @ V
    diag = np.diag(K)
    off = (np.sum(K * K) - np.sum(diag * diag)) / (m * (m - 1))
    unit = sigma_v**4 / m**2
    return [off - r * unit, float(np.mean(diag * diag)) - (r * r + 2 * r) * unit]


def _conditional_controls(lam, V, W, d, n):
    """MSE hidden blocks: ``c − E[c | V, W]`` for the mean over i ≠ j and over i of
    ``c_ij = ((d + 1) Σ_n a_ij(n)² + (Σ_n a_ij(n))²)/N²``, ``a_ij(n) = κ_ij b_n`` (VER-7).

    Given the weights ``(V, W)`` the ``b_n = 1(u_ni > 0) 1(u_nj > 0)``, ``u_n = W x_n ~ N(0, WWᵀ)``,
    are iid Bernoulli(q_ij) with the orthant probability ``q_ij = 1/4 + arcsin(ρ_ij)/(2π)`` (``ρ``
    the correlation of ``WWᵀ``; ``q_ii = 1/2``), so
    ``E[c_ij | V, W] = κ_ij²((d + 2) q_ij/N + (1 − 1/N) q_ij²)`` exactly: the control has mean 0 at
    every d, and removes the spread of the data given the weights.
    """
    m = V.shape[1]
    s1 = lam.sum(axis=0)
    s2 = (lam * lam).sum(axis=0)
    c = ((d + 1.0) * s2 + s1 * s1) / n**2
    G = W @ W.T
    sd = np.sqrt(np.diag(G))
    rho = np.clip(G / np.outer(sd, sd), -1.0, 1.0)
    q = 0.25 + np.arcsin(rho) / (2.0 * np.pi)
    np.fill_diagonal(q, 0.5)
    K = V.T @ V
    expect = K * K * ((d + 2.0) * q / n + (1.0 - 1.0 / n) * q * q)
    mask = ~np.eye(m, dtype=bool)
    return [float((c - expect)[sel].mean()) for sel in (mask, ~mask)]


def mlp_replicates(case: str, *, d: int, gamma: float, classes: int, m: int, reps: int, seed,
                   sigma_v: float = 1.0) -> MlpReplicates:
    """Run ``reps`` replicates of ``case`` (``"mlp-mse"`` or ``"mlp-ce"``) at dimension d.

    Replicate ``k`` draws parameters and data from
    ``numpy.random.default_rng(seed.spawn(reps)[k])``.
    """
    from rmthess.cases import get_case
    from rmthess.montecarlo.blocknorms import block_norm_means

    model = get_case(case)
    if not model.hidden:
        raise ValueError(f"case {case!r} has no hidden layer")
    n = max(1, int(round(d / gamma)))
    loss = model.loss
    if n < 2:
        raise ValueError(f"d/gamma gives N = {n} samples; need >= 2")
    norms = {b: [] for b in model.block_types}
    controls = {b: [] for b in model.block_types}
    theory = {b: [] for b in model.block_types} if loss == "ce" else None
    tctrl = {b: [] for b in model.block_types} if loss == "ce" else None
    for child in np.random.SeedSequence(seed.entropy, spawn_key=seed.spawn_key).spawn(reps):
        rng = np.random.default_rng(child)
        params = model.draw(rng, d, classes, m, sigma_v)
        X = rng.standard_normal((n, d))
        U = X @ params.first.T
        weights = model.weights(params, U)
        V = params.second
        wish = wishart_controls(V, loss, sigma_v)
        for block in model.block_types:
            dg, od = block_norm_means(model.features(block, X, U), weights[block])
            scale = d if model.square(block) else 1.0
            norms[block].append((dg / scale, od / scale))
            extra = []
            if loss == "mse" and block == "hidden":
                extra = _conditional_controls(weights[block].lam, V, params.first, d, n)
            controls[block].append(wish + extra)
        if theory is not None:
            th, ctrl = _fixed_v(params, weights["hidden"].lam, d, n, rng)
            for block in model.block_types:
                theory[block].append(th[block])
                tctrl[block].append(ctrl if block == "hidden" else [])
    return MlpReplicates(_arrays(norms, reps), _arrays(controls, reps), _arrays(theory, reps),
                         _arrays(tctrl, reps))


def _arrays(per_block, reps):
    if per_block is None:
        return None
    return {b: np.asarray(v, float).reshape(reps, -1) for b, v in per_block.items()}
