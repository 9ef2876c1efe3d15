"""Control variates of the checks: their expectations are 0 and the controlled estimates
unbiased."""

import math

import numpy as np
import pytest

from rmthess.verify.checks._mlp import _conditional_controls, mlp_replicates, wishart_controls
from rmthess.verify.checks._stats import controlled_mean_se, controlled_ratio

#: |mean| ≤ 4.5 standard errors: false-alarm rate ≈ 7e-6 per assertion (Gaussian means of ≥ 6000
#: draws)
Z = 4.5


@pytest.mark.parametrize("loss, C", [("mse", 3), ("mse", 10), ("ce", 3), ("ce", 10)])
def test_wishart_controls_have_mean_zero(loss, C):
    # oracle: Monte Carlo over V ~ N(0, σ²/m), against the Wishart moments used by the controls
    rng = np.random.default_rng(C + (loss == "ce"))
    m, sigma = 5, 1.3
    vals = np.array([wishart_controls(rng.standard_normal((C, m)) * sigma / math.sqrt(m), loss,
                                       sigma) for _ in range(8000)])
    mean, se = vals.mean(axis=0), vals.std(axis=0, ddof=1) / math.sqrt(len(vals))
    assert np.all(np.abs(mean) <= Z * se), (mean, se)


def test_conditional_controls_of_mse_hidden_blocks_have_mean_zero():
    # oracle: Monte Carlo over V, W and the data, with the weights a_ij(n) = κ_ij 1(u_ni>0)
    # 1(u_nj>0) of the MSE hidden blocks, u_n = W x_n correlated through WWᵀ (d small, so the
    # correlations are large and an unconditional q = 1/4 would be visibly biased)
    rng = np.random.default_rng(3)
    C, m, d, n, sigma = 4, 5, 6, 45, 1.0
    vals = []
    for _ in range(6000):
        V = rng.standard_normal((C, m)) * sigma / math.sqrt(m)
        W = rng.standard_normal((m, d)) / math.sqrt(d)
        on = (rng.standard_normal((n, d)) @ W.T > 0).astype(float)
        lam = (V.T @ V)[None] * on[:, :, None] * on[:, None, :]
        vals.append(_conditional_controls(lam, V, W, d, n))
    vals = np.asarray(vals)
    mean, se = vals.mean(axis=0), vals.std(axis=0, ddof=1) / math.sqrt(len(vals))
    assert np.all(np.abs(mean) <= Z * se), (mean, se)


def test_controlled_mean_removes_the_controlled_spread():
    rng = np.random.default_rng(0)
    c = rng.standard_normal(400)
    y = 2.0 + 3.0 * c + 0.1 * rng.standard_normal(400)
    mean, se, dof = controlled_mean_se(y, c[:, None])
    assert dof == 398
    assert abs(mean - 2.0) <= Z * se and se < 0.01  # plain se would be 3/√400 = 0.15
    with pytest.raises(ValueError, match="too few"):
        controlled_mean_se(y[:3], np.column_stack([c[:3], c[:3] ** 2]))


def test_controlled_ratio_is_the_ratio_of_means_when_the_controls_are_noise():
    rng = np.random.default_rng(1)
    den = 1.0 + 0.1 * rng.standard_normal(200)
    num = 0.5 * den + 0.01 * rng.standard_normal(200)
    ratio, se, dof = controlled_ratio(num, den, rng.standard_normal((200, 1)))
    assert abs(ratio - 0.5) <= Z * se and dof == 47   # 48 jackknife groups


def test_mlp_replicates_are_reproducible_and_shaped():
    seed = np.random.SeedSequence(4)
    a = mlp_replicates("mlp-mse", d=20, gamma=1.0, classes=3, m=4, reps=3, seed=seed)
    b = mlp_replicates("mlp-mse", d=20, gamma=1.0, classes=3, m=4, reps=3, seed=seed)
    assert a.norms["hidden"].shape == (3, 2) and a.controls["hidden"].shape == (3, 4)
    assert a.controls["output"].shape == (3, 2)
    np.testing.assert_array_equal(a.norms["hidden"], b.norms["hidden"])
    assert not a.norms["output"][:, 1].any()  # MSE: off-diagonal output blocks vanish
    with pytest.raises(ValueError, match="no hidden layer"):
        mlp_replicates("linear-ce", d=20, gamma=1.0, classes=3, m=4, reps=3, seed=seed)
