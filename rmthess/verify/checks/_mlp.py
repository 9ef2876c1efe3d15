r"""Replicates of the 1-hidden-layer network with control variates for the between-V spread.

The block-norm ratio of the 1-hidden-layer network is a ratio of means over replicates, each with its
own output weights V. Most of its spread is the spread of ``κ = VᵀV`` (m×m, m = 8): with 24 replicates
the relative standard error is 20 %. This module runs the replicates itself (from the public strategy
objects of :mod:`rmthess.montecarlo.models` and :func:`~rmthess.montecarlo.blocknorms.block_norm_means`,
exactly as :func:`rmthess.montecarlo.simulate` does) so that it can also return, per replicate,
statistics of V and of the weights whose expectations are known in closed form; these serve as
regression control variates (theory/verification.md, VER-7):

* every case: ``mean_{i≠j} K_ij²`` and ``mean_i K_ii²`` with ``K = VᵀPV`` (``P = I`` for MSE,
  ``P = I − 11ᵀ/C`` for CE, where the softmax weights see V only through its centred rows). ``K`` is
  Wishart with ``r = C`` (MSE) or ``C − 1`` (CE) degrees of freedom and scale ``σ_v²/m``, so
  ``E K_ij² = r σ_v⁴/m²`` and ``E K_ii² = (r² + 2r) σ_v⁴/m²``;
* MSE hidden blocks, where ``a_ij(n) = κ_ij b_n`` with ``b_n`` Bernoulli(q), q = 1/4 (i ≠ j) or 1/2:
  the conditional expectation of ``(1/d)‖H_ij‖²_F`` given the weights,
  ``c_ij = ((d + 1) Σ_n a_ij(n)² + (Σ_n a_ij(n))²)/N²``, whose expectation is
  ``E κ_ij² ((d + 2) q/N + (1 − 1/N) q²)`` up to the ``O(1/d)`` effect of ``W Wᵀ ≠ I`` (removed with the
  rest of the ``O(1/d)`` bias by the extrapolation in d).
"""

from __future__ import annotations

import numpy as np

__all__ = ["MlpReplicates", "mlp_replicates"]


class MlpReplicates:
    """Per-replicate mean diagonal/off-diagonal block norms and centred control variates.

    Attributes
    ----------
    norms : dict
        ``block -> (R×2 array)`` of ``(diag, offdiag)`` mean squared block norms (d×d blocks / d).
    controls : dict
        ``block -> (R×p array)`` of control variates with expectation 0 (up to ``O(1/d)``).
    """

    def __init__(self, norms: dict, controls: dict):
        self.norms = norms
        self.controls = controls


def _wishart_controls(V, loss, sigma_v):
    C, m = V.shape
    P = np.eye(C) - 1.0 / C if loss == "ce" else np.eye(C)
    r = C - 1 if loss == "ce" else C
    K = V.T @ P @ V
    diag = np.diag(K)
    off = (np.sum(K * K) - np.sum(diag * diag)) / (m * (m - 1))
    unit = sigma_v**4 / m**2
    return [off - r * unit, float(np.mean(diag * diag)) - (r * r + 2 * r) * unit]


def _conditional_controls(lam, V, d, n, sigma_v):
    """MSE hidden blocks: E[(1/d)‖H‖² | weights] minus its closed-form expectation, off and diag."""
    C, m = V.shape
    s1 = lam.sum(axis=0)
    s2 = (lam * lam).sum(axis=0)
    c = ((d + 1.0) * s2 + s1 * s1) / n**2
    mask = ~np.eye(m, dtype=bool)
    unit = sigma_v**4 / m**2
    out = []
    for sel, q, ek2 in ((mask, 0.25, C * unit), (np.eye(m, dtype=bool), 0.5, (C * C + 2 * C) * unit)):
        expect = ek2 * ((d + 2.0) * q / n + (1.0 - 1.0 / n) * q * q)
        out.append(float(c[sel].mean()) - expect)
    return out


def mlp_replicates(case: str, *, d: int, gamma: float, classes: int, m: int, reps: int, seed,
                   sigma_v: float = 1.0) -> MlpReplicates:
    """Run ``reps`` replicates of ``case`` (``"mlp-mse"`` or ``"mlp-ce"``) at dimension d.

    Replicate ``k`` draws parameters and data from ``numpy.random.default_rng(seed.spawn(reps)[k])``.
    """
    from rmthess.montecarlo.blocknorms import block_norm_means
    from rmthess.montecarlo.models import get_model

    model = get_model(case)
    if not model.hidden:
        raise ValueError(f"case {case!r} has no hidden layer")
    n = max(1, int(round(d / gamma)))
    loss = case.split("-")[1]
    norms = {b: [] for b in model.block_types}
    controls = {b: [] for b in model.block_types}
    for child in np.random.SeedSequence(seed.entropy, spawn_key=seed.spawn_key).spawn(reps):
        rng = np.random.default_rng(child)
        params = model.draw(rng, d, classes, m, sigma_v)
        X = rng.standard_normal((n, d))
        U = X @ params.first.T
        weights = model.weights(params, U)
        V = params.second
        wish = _wishart_controls(V, loss, sigma_v)
        for block in model.block_types:
            dg, od = block_norm_means(model.features(block, X, U), weights[block])
            scale = d if model.square(block) else 1.0
            norms[block].append((dg / scale, od / scale))
            extra = []
            if loss == "mse" and block == "hidden":
                extra = _conditional_controls(weights[block].lam, V, d, n, sigma_v)
            controls[block].append(wish + extra)
    return MlpReplicates({b: np.asarray(v, float) for b, v in norms.items()},
                         {b: np.asarray(v, float) for b, v in controls.items()})
