"""MSE cases: closed forms vs sympy derivations and vs Monte Carlo with error bars."""

import math

import numpy as np
import pytest

from rmthess.cases import get_case
from rmthess.symbolic.mse import linear_mse_limits, mlp_mse_hidden_limits, mlp_mse_output_norm
from tests._mc import monte_carlo, z_threshold

#: closed form vs sympy evaluated in float64
RTOL_CLOSED = 1e-13
#: stated false-alarm rate of the Monte Carlo check (three comparisons; ≥ 2·10⁵ draws: normal
#: quantile; the delta-method error of the output norm is normal to O(1/n))
ALPHA = 1e-4
K_SIGMA = z_threshold(ALPHA, comparisons=3)


def _num(expr, **values):
    """Evaluate a sympy expression, matching its free symbols by name."""
    return float(expr.subs({sym: values[sym.name] for sym in expr.free_symbols}))


@pytest.mark.parametrize("gamma", [1e-3, 0.25, 1.0, 4.0, 1e3])
def test_linear_mse_matches_sympy(gamma):
    g_ii, g_ij = linear_mse_limits()
    blk = get_case("linear-mse").limits(gamma, 7).blocks["v"]
    assert blk.g_ii == pytest.approx(_num(g_ii, gamma=gamma), rel=RTOL_CLOSED)
    assert blk.g_ij == 0.0 and blk.ratio == 0.0


def test_linear_mse_high_precision_and_asymptote():
    """``limits_mp`` against the sympy closed form at 40 digits; the ratio is 0 at any C."""
    import mpmath
    import sympy

    g_ii, _ = linear_mse_limits()
    lim = get_case("linear-mse").limits_mp(0.3, 7, dps=40).blocks["v"]
    exact = g_ii.subs({sym: sympy.Rational(0.3) for sym in g_ii.free_symbols})  # the float's value
    with mpmath.workdps(40):
        assert abs(lim.g_ii - mpmath.mpf(str(sympy.N(exact, 50)))) <= mpmath.mpf(10) ** -38
    assert lim.g_ij == 0 and lim.ratio == 0
    assert get_case("linear-mse").asymptote(0.3, 7) == {"v": 0.0}


def test_linear_mse_block_law_is_marchenko_pastur():
    law = get_case("linear-mse").block_law("v", "diag", 0.5, 3)
    assert law.moment(2) == pytest.approx(1.5, rel=RTOL_CLOSED)
    assert get_case("linear-mse").block_law("v", "offdiag", 0.5, 3).moment(2) == 0.0


@pytest.mark.parametrize("gamma, C, m, sigma", [(0.25, 2, 3, 1.0), (1.0, 10, 8, 1.0),
                                                (4.0, 100, 5, 0.7), (1e3, 10**6, 64, 1.3)])
def test_mlp_mse_matches_sympy(gamma, C, m, sigma):
    g_ii, g_ij, ratio = mlp_mse_hidden_limits()
    subs = {"gamma": gamma, "C": C, "m": m, "sigma": sigma}
    g_ii, g_ij, ratio = (_num(e, **subs) for e in (g_ii, g_ij, ratio))
    lim = get_case("mlp-mse").limits(gamma, C, m=m, sigma_v=sigma)
    h = lim.blocks["hidden"]
    assert h.g_ii == pytest.approx(g_ii, rel=RTOL_CLOSED)
    assert h.g_ij == pytest.approx(g_ij, rel=RTOL_CLOSED)
    assert h.ratio == pytest.approx(ratio, rel=RTOL_CLOSED)
    # the paper's m-independent form, typed from THEORY (4): (1 + 4γ)/(4(1 + 2γ)(C + 2))
    assert h.ratio == pytest.approx((1 + 4 * gamma) / (4 * (1 + 2 * gamma) * (C + 2)), rel=1e-14)
    o = lim.blocks["output"]
    assert o.g_ii == pytest.approx(_num(mlp_mse_output_norm(), m=m), rel=RTOL_CLOSED)
    assert o.g_ij == 0.0 and o.ratio == 0.0


@monte_carlo(alpha=ALPHA, seed=7)
def check_mlp_mse_monte_carlo(seed):
    """E κ_ij², E κ_ii² over V and ‖E s sᵀ‖²_F by sampling, within K_SIGMA standard errors."""
    rng = np.random.default_rng(seed)
    C, m, sigma = 6, 4, 0.9
    V = sigma / math.sqrt(m) * rng.standard_normal((200_000, C, m))
    kap = np.einsum("rci,rcj->rij", V, V)
    lim = get_case("mlp-mse").limits(1.0, C, m=m, sigma_v=sigma).blocks["hidden"]
    fixed_diag = 0.25 + 0.5        # (1/4 + γ/2) at γ = 1
    fixed_off = 1 / 16 + 0.25      # (1/16 + γ/4)
    x_ii = kap[:, 0, 0] ** 2 * fixed_diag
    x_ij = kap[:, 0, 1] ** 2 * fixed_off
    for x, g in ((x_ii, lim.g_ii), (x_ij, lim.g_ij)):
        assert abs(x.mean() - g) <= K_SIGMA * x.std(ddof=1) / math.sqrt(x.size)
    s = np.maximum(rng.standard_normal((400_000, m)), 0.0)
    # ‖E s sᵀ‖²_F = m (E s_1²)² + m(m−1)(E s_1 s_2)², estimated from x_t = mean_i s_ti² and
    # y_t = s_t1 s_t2; delta-method standard error of f(x̄, ȳ) = m x̄² + m(m−1) ȳ²
    x, y = (s * s).mean(1), s[:, 0] * s[:, 1]
    est = m * x.mean() ** 2 + m * (m - 1) * y.mean() ** 2
    grad = np.array([2 * m * x.mean(), 2 * m * (m - 1) * y.mean()])
    se = math.sqrt(grad @ np.cov(np.stack([x, y])) @ grad / x.size)
    out = get_case("mlp-mse").limits(1.0, C, m=m).blocks["output"].g_ii
    assert abs(est - out) <= K_SIGMA * se
    # and the ReLU closed form: E s² = 1/2, E s = 1/√(2π), so ‖E s sᵀ‖²_F = m/4 + m(m−1)/(4π²)
    assert out == pytest.approx(m / 4 + m * (m - 1) / (4 * math.pi**2), rel=RTOL_CLOSED)


def test_mlp_mse_monte_carlo_over_V_and_u():
    check_mlp_mse_monte_carlo(7)


def test_mlp_mse_fixed_V_block_law():
    rng = np.random.default_rng(3)
    V = rng.standard_normal((5, 4)) / 2
    kap = V.T @ V
    case = get_case("mlp-mse")
    d = case.block_law("hidden", "diag", 0.5, 5, m=4, V=V, indices=(2, 0))
    o = case.block_law("hidden", "offdiag", 0.5, 5, m=4, V=V, indices=(2, 0))
    assert d.moment(2) == pytest.approx(kap[2, 2] ** 2 * (0.25 + 0.25), rel=RTOL_CLOSED)
    assert o.moment(2) == pytest.approx(kap[2, 0] ** 2 * (1 / 16 + 0.125), rel=RTOL_CLOSED)
    assert d.atom_at_zero == pytest.approx(0.0, abs=1e-12)           # 1 − (1/2)/γ = 0 at γ = 1/2
    with pytest.raises(ValueError, match="V"):
        case.block_law("hidden", "diag", 0.5, 5, m=4)
    with pytest.raises(ValueError, match="shape"):
        case.block_law("hidden", "diag", 0.5, 5, m=4, V=V.T)
    with pytest.raises(ValueError, match="m×m"):
        case.block_law("output", "diag", 0.5, 5, m=4, V=V)


@pytest.mark.parametrize("law", ["uniform", "rademacher", "gaussian"])
@pytest.mark.parametrize("gamma, C, m, sigma", [(0.25, 2, 3, 1.0), (4.0, 100, 5, 0.7)])
def test_mlp_mse_any_entry_law_matches_sympy(law, gamma, C, m, sigma):
    """(CASE-21): the sympy form in the kurtosis μ₄, at the law's μ₄ (9/5, 1, 3: closed forms)."""
    from rmthess.symbolic.mse import mlp_mse_hidden_limits_by_kurtosis
    mu4 = {"uniform": 9 / 5, "rademacher": 1.0, "gaussian": 3.0}[law]
    subs = {"gamma": gamma, "C": C, "m": m, "sigma": sigma, "mu4": mu4}
    ref = [_num(e, **subs) for e in mlp_mse_hidden_limits_by_kurtosis()]
    h = get_case("mlp-mse").limits(gamma, C, m=m, sigma_v=sigma, v_law=law).blocks["hidden"]
    np.testing.assert_allclose([h.g_ii, h.g_ij, h.ratio], ref, rtol=RTOL_CLOSED)
    hm = get_case("mlp-mse").limits_mp(gamma, C, m=m, sigma_v=sigma, v_law=law).blocks["hidden"]
    assert float(hm.ratio) == pytest.approx(h.ratio, rel=RTOL_CLOSED)


def test_mlp_mse_uniform_V_by_monte_carlo():
    """E κ_ii², E κ_ij² over uniform V (the torch default law) by sampling, K_SIGMA standard
    errors."""
    rng = np.random.default_rng(17)
    C, m, sigma = 6, 4, 1 / 3
    a = sigma * math.sqrt(3 / m)                       # U(−a, a) has variance σ²/m
    V = rng.uniform(-a, a, (200_000, C, m))
    kap = np.einsum("rci,rcj->rij", V, V)
    lim = get_case("mlp-mse").limits(1.0, C, m=m, sigma_v=sigma, v_law="uniform").blocks["hidden"]
    x_ii = kap[:, 0, 0] ** 2 * (0.25 + 0.5)
    x_ij = kap[:, 0, 1] ** 2 * (1 / 16 + 0.25)
    for x, g in ((x_ii, lim.g_ii), (x_ij, lim.g_ij)):
        assert abs(x.mean() - g) <= K_SIGMA * x.std(ddof=1) / math.sqrt(x.size)
    # and the Gaussian-V theory is off by more than the error bar: C + 2 = 8 vs C − 1 + 9/5 = 6.8
    gauss = get_case("mlp-mse").limits(1.0, C, m=m, sigma_v=sigma).blocks["hidden"]
    assert abs(x_ii.mean() - gauss.g_ii) > 10 * x_ii.std(ddof=1) / math.sqrt(x_ii.size)
