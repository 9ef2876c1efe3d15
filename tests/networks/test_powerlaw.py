"""The power-law spectral method on exact Zipf, Marchenko–Pastur and exponential spectra."""

import itertools
import math

import numpy as np
import pytest
from scipy import integrate, stats

from rmthess.networks import ks_critical_value, power_law_fit, zipf_slope_bias
from tests._mc import monte_carlo, z_threshold

# closed forms evaluated in float64
EXACT_RTOL = 1e-12
K = 1000  # the reference's number of top eigenvalues


@pytest.mark.parametrize("s", [0.5, 1.0, 2.0, 3.0])
@pytest.mark.parametrize("k", [100, K])
def test_zipf_spectrum_recovers_slope(s, k):
    lam = np.arange(1.0, 3 * k + 1) ** -s
    fit = power_law_fit(lam, k)
    # exact: Σ ln(λ_i/λ_K) = s (K ln K − ln K!) — an independent closed form via lgamma
    bias = (k * math.log(k) - math.lgamma(k + 1)) / k
    assert fit.slope / s == pytest.approx(bias, rel=EXACT_RTOL)
    # Stirling: ln k! = k ln k − k + ½ ln(2πk) + θ/(12k), 0 < θ < 1, so the bias is bounded exactly
    stirling = math.log(2 * math.pi * k) / (2 * k) + 1 / (12 * k * k)
    assert abs(fit.slope / s - 1) <= stirling + EXACT_RTOL
    assert fit.accepted and fit.d_ks < fit.d_c
    assert fit.sigma_beta == pytest.approx((fit.beta - 1) / math.sqrt(k), rel=EXACT_RTOL)
    assert zipf_slope_bias(k) == pytest.approx(bias, rel=EXACT_RTOL)


def _mp_quantiles(gamma, n):
    a, b = (1 - math.sqrt(gamma)) ** 2, (1 + math.sqrt(gamma)) ** 2
    pdf = lambda x: math.sqrt(max((b - x) * (x - a), 0.0)) / (2 * math.pi * gamma * x)  # noqa: E731
    grid = np.linspace(a, b, 4001)
    cdf = np.concatenate([[0.0], np.cumsum([integrate.quad(pdf, u, v)[0]
                                            for u, v in itertools.pairwise(grid)])])
    return np.interp((np.arange(n) + 0.5) / n, cdf / cdf[-1], grid)


def test_marchenko_pastur_and_exponential_spectra_are_rejected():
    mp = _mp_quantiles(0.5, 4 * K)
    assert not power_law_fit(mp, K).accepted
    expo = stats.expon.ppf((np.arange(4 * K) + 0.5) / (4 * K))
    assert not power_law_fit(expo, K).accepted
    assert not power_law_fit(np.exp(-np.arange(4 * K) / 300.0), K).accepted


#: stated false-alarm rate: the slope within its error bar (MLE over K = 1000 points: normal
#: quantile), plus the KS acceptance at the fit's own level (power_law_fit accepts below its 5 %
#: critical value)
ALPHA = 1e-4


@monte_carlo(alpha=ALPHA + 0.05, seed=0)
def check_pareto_fit(seed):
    beta = 2.5  # density ∝ λ^{-β}: Pareto with shape β − 1
    lam = stats.pareto.rvs(beta - 1, size=40 * K, random_state=np.random.default_rng(seed))
    fit = power_law_fit(lam, K)
    assert abs(fit.beta - beta) <= z_threshold(ALPHA) * fit.sigma_beta
    assert fit.accepted


def test_pareto_sample_is_accepted_with_error_bar():
    check_pareto_fit(0)


def test_critical_value_and_bad_input():
    # THEORY gives 4 digits of c(0.05)
    assert ks_critical_value(K) == pytest.approx(1.358 / math.sqrt(K), rel=1e-3)
    with pytest.raises(ValueError, match="positive"):
        power_law_fit(np.concatenate([np.ones(5), -np.ones(5)]), 8)
    with pytest.raises(ValueError, match="at least k"):
        power_law_fit(np.ones(5), 10)
    with pytest.raises(ValueError, match="all equal"):
        power_law_fit(np.ones(5), 3)
    with pytest.raises(ValueError, match="alpha"):
        ks_critical_value(10, alpha=1.5)
