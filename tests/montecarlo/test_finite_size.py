"""Finite-size predictions: closed forms, the Hermite identity, and the decoupled exact formula."""

import math

import numpy as np
import pytest

from rmthess.montecarlo.finite_size import hermite_h, predict_norms
from rmthess.montecarlo.models import get_model

#: Monte Carlo predictions are compared at this many of their own standard errors, which rest on 8
#: batches: false alarm P(|t_7| > 4) ≈ 5e-3 per comparison
K_SIGMA = 4.0


def test_linear_mse_closed_form():
    # λ ≡ 1: E (1/d)‖(1/N) X Xᵀ‖²_F = 1 + (d + 1)/N exactly (Wishart moments)
    for d, n in [(20, 50), (50, 25)]:
        p = predict_norms("linear-mse", "v", d=d, n_samples=n, classes=3, seed=1, samples=2**14)
        assert abs(p.diag - (1 + (d + 1) / n)) < K_SIGMA * p.diag_stderr + 1e-12
        assert p.offdiag == 0.0


def test_hermite_identity_by_quadrature():
    # E[Δ²F(w)] = E[F(w) h(w)] for F = w1² w2² + w1⁴ (r = 2): Δ²F = 8 + 24 = 32.
    x, wt = np.polynomial.hermite_e.hermegauss(12)
    wt = wt / wt.sum()
    W1, W2 = np.meshgrid(x, x, indexing="ij")
    w = np.stack([W1.ravel(), W2.ravel()], axis=1)
    weights = np.outer(wt, wt).ravel()
    F = w[:, 0] ** 2 * w[:, 1] ** 2 + w[:, 0] ** 4
    assert np.sum(weights * F * hermite_h(w)) == pytest.approx(32.0, rel=1e-12)


#: (MC-8) is exact to relative O(d^-2); at d = 400 we allow one d^-2 with an O(1) constant
#: (1/d² ≈ 6e-6, below the prediction's own Monte Carlo error ≈ 4e-5 relative)
MC8_REL_BIAS = 1.0


def _mc8_corrections(C, rng, batches=16, per=2**15):
    """Per-batch Monte Carlo of E λh, E λ²h and ‖E λ(wwᵀ − I)‖²_F (the last as a product of two
    independent halves, unbiased) for λ = p_1(1 − p_1), p = softmax(w), w ~ N(0, I_C)."""
    out = []
    for _ in range(batches):
        w = rng.standard_normal((2, per, C))
        e = np.exp(w - w.max(-1, keepdims=True))
        p = e / e.sum(-1, keepdims=True)
        lam = p[..., 0] * (1 - p[..., 0])
        q = np.sum(w * w, -1) - C
        h = q * q - 4 * q - 2 * C
        G = [np.einsum("t,ti,tj->ij", lam[k], w[k], w[k]) / per - lam[k].mean() * np.eye(C)
             for k in range(2)]
        out.append(((lam * h).mean(), (lam**2 * h).mean(), np.sum(G[0] * G[1])))
    return np.array(out)


def test_decoupled_linear_ce_equals_iid_formula():
    # Decoupled weights at orthonormal V: E(1/d)‖B‖² = Eλ²(d+2)/N + (Eλ)²(1 − 1/N) (THEORY §2).
    # With Gaussian V the prediction adds the O(1/d) V-fluctuation terms (MC-8):
    #   (Eλ)² → (Eλ)² + [½ Eλ·E λh + ½ ‖E λ(wwᵀ − I)‖²_F]/d,   Eλ² → Eλ² + E λ²h/(4d).
    # Oracle: the exact moments Eλ, Eλ² (mpmath-checked integrals) plus an independent Monte Carlo
    # of the correction terms, with its batch spread as error bar.
    from rmthess.integrals import softmax_moments

    C, d, n = 3, 400, 200
    mom = softmax_moments(C)
    iid = mom.mean_a2 * (d + 2) / n + mom.mean_a**2 * (1 - 1 / n)
    corr = _mc8_corrections(C, np.random.default_rng(20240))
    sq_mean = mom.mean_a**2 + (0.5 * mom.mean_a * corr[:, 0] + 0.5 * corr[:, 2]) / d
    mean_sq = mom.mean_a2 + corr[:, 1] / (4 * d)
    oracle = mean_sq * (d + 2) / n + sq_mean * (1 - 1 / n)
    se_oracle = oracle.std(ddof=1) / math.sqrt(oracle.size)
    p = predict_norms("linear-ce", "v", d=d, n_samples=n, classes=C, t=0.0, seed=2)
    tol = K_SIGMA * math.hypot(p.diag_stderr, se_oracle) + MC8_REL_BIAS * iid / d**2
    assert abs(p.diag - oracle.mean()) < tol
    # the correction is resolved: the iid formula alone is rejected
    assert abs(p.diag - iid) > K_SIGMA * math.hypot(p.diag_stderr, se_oracle)


def test_mlp_needs_params_and_rank_check():
    with pytest.raises(ValueError, match="conditional on V"):
        predict_norms("mlp-ce", "hidden", d=20, n_samples=20, classes=3, m=3)
    with pytest.raises(ValueError, match="must exceed the rank"):
        predict_norms("linear-ce", "v", d=3, n_samples=20, classes=3)
    with pytest.raises(ValueError, match="block types"):
        predict_norms("linear-ce", "hidden", d=30, n_samples=20, classes=3)


def test_mlp_mse_hidden_limit():
    # MLP-MSE, fixed V, d → ∞: (1/d)‖H_ii‖² → κ_ii²(1/4 + γ/2), ‖H_ij‖² → κ_ij²(1/16 + γ/4) (THEORY §4)
    model = get_model("mlp-mse")
    rng = np.random.default_rng(3)
    params = model.draw(rng, 10, 3, 4, 1.0)
    kappa = params.second.T @ params.second
    d = 10**6
    p = predict_norms(model, "hidden", d=d, n_samples=d, classes=3, m=4, params=params, seed=4)
    gamma = 1.0
    want_d = np.mean(np.diag(kappa) ** 2) * (0.25 + gamma / 2)
    off = ~np.eye(4, dtype=bool)
    want_o = np.mean(kappa[off] ** 2) * (1 / 16 + gamma / 4)
    assert abs(p.diag - want_d) < K_SIGMA * p.diag_stderr + 1e-9
    assert abs(p.offdiag - want_o) < K_SIGMA * p.offdiag_stderr + 1e-9
    assert math.isfinite(p.ratio)
