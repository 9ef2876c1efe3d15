"""Every term of the finite-size prediction (MC-6, MC-8) at small d, in closed form.

For the mlp-mse hidden blocks at a fixed V, ``λ_ij(w) = κ_ij 1(w_i > 0) 1(w_j > 0)``, ``κ = VᵀV``.
The orthant indicators do not depend on |w|, so ``E λh = E λ²h = 0`` (``h`` depends on |w| only and
has mean 0), and ``E λ(wwᵀ − I)`` has the single non-zero pair
``κ_ij E[w_i 1(w_i > 0)]² = κ_ij/(2π)``: ``‖E λ(wwᵀ − I)‖²_F = κ_ij²/(2π²)`` for i ≠ j and 0 for
i = j. With the decoupled design (t = 0) the data side y is independent of w:
``E λ²|y|⁴ = (r² + 2r)Eλ²``, ``E λ²|y|² = r Eλ²``, ``‖E λ y yᵀ‖²_F = r (Eλ)²``. So (MC-6) with
(MC-8) is a closed form in κ, used here as the oracle; at d = 6 the 1/d term of (MC-8) is some 8 %
of the off-diagonal prediction and resolved.
"""

import math

import numpy as np

from rmthess.cases import get_case
from rmthess.montecarlo.finite_size import predict_norms
from tests._mc import monte_carlo, z_threshold

#: stated false-alarm rate (two comparisons: diagonal and off-diagonal blocks)
ALPHA = 1e-3
M, C, D, N = 3, 3, 6, 600
SAMPLES, BATCHES = 2**19, 16


def _closed_form(E1, E2, G):
    r, dr = M, D - M
    first = ((r * r + 2 * r) * E2 + 2 * dr * r * E2 + E2 * (dr * dr + 2 * dr)) / (D * N)
    return first + (N - 1) / (D * N) * (r * E1 * E1 + (E1 * E1 + 0.5 * G / D) * dr)


@monte_carlo(alpha=ALPHA, seed=3)
def check_closed_form_at_small_d(seed):
    model = get_case("mlp-mse")
    rng = np.random.default_rng(seed)
    params = model.draw(rng, D, C, M, 1.0)
    kappa = params.second.T @ params.second
    i, j = np.triu_indices(M, 1)
    k_off, k_diag = kappa[i, j], np.diag(kappa)
    want_off = np.mean(_closed_form(k_off / 4, k_off**2 / 4, k_off**2 / (2 * math.pi**2)))
    want_diag = np.mean(_closed_form(k_diag / 2, k_diag**2 / 2, 0.0))
    p = predict_norms(model, "hidden", d=D, n_samples=N, classes=C, m=M, params=params, t=0.0,
                      samples=SAMPLES, batches=BATCHES, seed=int(rng.integers(2**32)))
    k = z_threshold(ALPHA, dof=BATCHES - 1, comparisons=2)   # standard errors from 16 batches
    assert abs(p.offdiag - want_off) <= k * p.offdiag_stderr, (p.offdiag, want_off)
    assert abs(p.diag - want_diag) <= k * p.diag_stderr, (p.diag, want_diag)


def test_prediction_in_closed_form_at_small_d():
    check_closed_form_at_small_d(3)
