"""The fixed-V theory of the CE network (VER-13): per-V moments, their controls and the average over
V."""

import math

import numpy as np
import pytest

from rmthess.cases import get_case
from rmthess.cases._mlp_ce_kernels import sums_numba
from rmthess.cases.mlp_ce import _per_v_statistics
from rmthess.verify.checks import _mlp
from rmthess.verify.checks._fixed_v import (
    hidden_weights,
    moments_over_v,
    pair_moments,
    per_v_moments,
)
from rmthess.verify.checks._stats import ratio_difference

#: |mean| ≤ 4.5 standard errors: false-alarm rate ≈ 7e-6 per assertion (means of ≥ 300 draws)
Z = 4.5


def _V(C, m, seed=0):
    return np.random.default_rng(seed).standard_normal((C, m)) / math.sqrt(m)


@pytest.mark.parametrize("C, m", [(3, 4), (7, 3)])
def test_per_v_moments_agree_with_the_kernel_of_the_limits(C, m):
    # a second implementation: the numba sums of rmthess.cases.mlp_ce on the same draws of u
    # (one chunk: per_v_moments draws u as rng.standard_normal((n, m))); round-off only
    V, n = _V(C, m), 1500
    ours = per_v_moments(V, np.random.default_rng(5), n)
    U = np.random.default_rng(5).standard_normal((n, m))
    ref = _per_v_statistics(sums_numba(V[None], U[None]), n)[0]
    # the kernel's off-diagonal output column averages the cyclic pairs (c, c+1 mod C) only — the
    # same expectation over V, and at fixed V the same value only for C = 3, where they are all
    # pairs
    cols = 6 if C == 3 else 5
    np.testing.assert_allclose(ours[:cols], ref[:cols], rtol=1e-10, atol=1e-15)
    # E b²|s|⁴ by its definition on the same draws
    s = np.maximum(U, 0.0)
    z = s @ V.T
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    s4 = (s * s).sum(axis=1) ** 2
    q_d = np.mean([np.mean((p[:, c] - p[:, c] ** 2) ** 2 * s4) for c in range(C)])
    q_o = np.mean([np.mean((p[:, c] * p[:, e]) ** 2 * s4) for c in range(C) for e in range(C)
                   if c != e])
    np.testing.assert_allclose(ours[6:], [q_d, q_o], rtol=1e-10)


def test_per_v_moments_at_v_zero_are_gaussian_half_moments():
    # V = 0: p uniform, κ = 0 (a ≡ 0), b_cc = 1/C − 1/C², b_cc' = −1/C²; ‖E s sᵀ‖² = m/4
    # + m(m−1)/(4π²) (E s_k² = 1/2, E s_k s_l = 1/(2π)), E|s|⁴ = 3m/2 + m(m−1)/4
    C, m = 4, 3
    t = per_v_moments(np.zeros((C, m)), np.random.default_rng(2), 4096)
    assert np.all(t[:4] == 0.0)
    bd, bo = 1 / C - 1 / C**2, 1 / C**2
    ss, s4 = m / 4 + m * (m - 1) / (4 * math.pi**2), 1.5 * m + m * (m - 1) / 4
    # 4096 draws: relative standard errors of these means ≈ 3 %; 20 % is > 6 of them
    np.testing.assert_allclose(t[4:], [bd**2 * ss, bo**2 * ss, bd**2 * s4, bo**2 * s4], rtol=0.2)


def test_hidden_weights_are_those_of_the_simulation_model():
    model = get_case("mlp-ce")
    rng = np.random.default_rng(0)
    params = model.draw(rng, 30, 5, 4, 1.0)
    U = rng.standard_normal((40, 4))
    np.testing.assert_allclose(hidden_weights(params.second, U),
                               model.weights(params, U)["hidden"].lam, atol=1e-14)


def test_pair_moments_are_u_statistics_of_the_pair():
    V, n = _V(5, 4, 3), 1000
    L = np.linalg.cholesky(np.eye(4) + 0.1)
    t1, t2 = pair_moments(V, np.random.default_rng(9), n, 0, 1, factor=L)
    a = hidden_weights(V, np.random.default_rng(9).standard_normal((n, 4)) @ L.T)[:, 0, 1]
    assert t1 == pytest.approx((a.sum() ** 2 - a @ a) / (n * (n - 1)), rel=1e-12)
    assert t2 == pytest.approx(np.mean(a * a), rel=1e-12)
    with pytest.raises(ValueError, match="n_u"):
        pair_moments(V, np.random.default_rng(0), 1, 0, 1)


def test_theory_controls_of_ce_replicates_have_mean_zero(monkeypatch):
    # the weight moments of a replicate minus their expectations under u ~ N(0, WWᵀ): mean exactly 0
    # given V and W, whatever the number of draws of the integral (fewer here, for speed)
    monkeypatch.setattr(_mlp, "FIXED_V_DRAWS", 256)
    monkeypatch.setattr(_mlp, "FIXED_V_OUTPUT_DRAWS", 64)
    rep = _mlp.mlp_replicates("mlp-ce", d=12, gamma=1.0, classes=3, m=3, reps=400,
                              seed=np.random.SeedSequence(4))
    c = rep.theory_controls["hidden"]
    assert c.shape == (400, 4) and rep.theory_controls["output"].shape == (400, 0)
    mean, se = c.mean(axis=0), c.std(axis=0, ddof=1) / math.sqrt(len(c))
    assert np.all(np.abs(mean) <= Z * se), (mean, se)
    # the output blocks at fixed V, W: their theory is the exact expectation (no d → ∞ limit)
    x, se, _ = ratio_difference(rep.norms["output"][:, 1], rep.norms["output"][:, 0],
                                rep.theory["output"][:, 1], rep.theory["output"][:, 0])
    assert abs(x) <= Z * se


def test_ratio_difference():
    rng = np.random.default_rng(1)
    den = 1.0 + 0.2 * rng.standard_normal(50)
    num = 0.3 * den + 0.05 * rng.standard_normal(50)
    x, se, dof = ratio_difference(num, den, num, den)
    assert x == 0.0 and se == 0.0 and dof == 49
    # a theory that shares the spread: the difference has a far smaller error than either ratio
    x, se, _ = ratio_difference(num, den, num + 0.01 * rng.standard_normal(50), den)
    assert se < 0.01 / math.sqrt(50) * 3
    with pytest.raises(ValueError, match="average to 0"):
        ratio_difference(num, np.zeros_like(den), num, den)


@pytest.mark.slow
def test_average_over_v_matches_the_limits_of_the_case():
    # two routes to E_V G: plain nested Monte Carlo here, Rao–Blackwellized RQMC in rmthess.cases
    from rmthess.cases import get_case

    t, _ = moments_over_v(3, 3, 3000, 128, 11)
    lim = get_case("mlp-ce").limits(1.0, 3, m=3, rng=0, rtol=0.01).blocks
    for block, (num, den) in {"hidden": (t[:, 1] + t[:, 3], t[:, 0] + t[:, 2]),
                              "output": (t[:, 5], t[:, 4])}.items():
        from rmthess.verify.checks._stats import controlled_ratio

        r, se, _ = controlled_ratio(num, den, np.zeros((len(num), 0)))
        assert abs(r - lim[block].ratio) <= Z * math.hypot(se, lim[block].stderr_ratio), block


@pytest.mark.parametrize("which", ["diag", "offdiag"])
def test_weight_controls_of_the_block_spectra_have_mean_zero(monkeypatch, which):
    # the first two controls of the CE hidden m₂ rows have mean exactly 0 given V and W at any d,
    # whatever the number of draws of their integrals (fewer here, for speed)
    from rmthess.cases import get_case
    from rmthess.montecarlo.spectra import block_spectrum
    from rmthess.verify.checks import spectra

    monkeypatch.setattr(spectra, "LAW_SAMPLES", 256)
    model = get_case("mlp-ce")
    vals = []
    for r in range(300):
        _, V, lam, W = block_spectrum("mlp-ce", d=12, gamma=1.0, classes=3, m=3, which=which,
                                      seed=r, return_weights=True)
        seed = np.random.SeedSequence(10_000 + r)
        law = model.block_law("hidden", which, 1.0, 3, m=3, V=V, rng=np.random.default_rng(seed),
                              samples=256)
        vals.append(spectra._weight_controls("mlp-ce", which, 1.0, V, lam, W, 1.0, seed, law))
    vals = np.asarray(vals)
    mean, se = vals[:, :2].mean(axis=0), vals[:, :2].std(axis=0, ddof=1) / math.sqrt(len(vals))
    assert np.all(np.abs(mean) <= Z * se), (mean, se)
    # the third control takes the identity-covariance moments from the law's own samples: the
    # same draws through pair_moments (a second route) give the same control to round-off
    L = np.linalg.cholesky(W @ W.T)
    j = 0 if which == "diag" else 1
    t1, t2 = pair_moments(V, np.random.default_rng(seed), 256, 0, j, factor=L)
    i1, i2 = pair_moments(V, np.random.default_rng(seed), 256, 0, j)
    third = t1 + t2 - i1 - i2
    assert abs(vals[-1, 2] - third) <= 1e-12 * (abs(t1) + abs(t2) + abs(i1) + abs(i2))
    assert spectra._weight_controls("mlp-mse", which, 1.0, V, lam, W, 1.0, 0, None) == ()
