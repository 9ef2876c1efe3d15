"""Soft edges of the GMP law and the Tracy–Widom mean of the extreme eigenvalue (GMP-12, GMP-13).

Oracles: the closed-form Marchenko–Pastur density and Johnstone's centring and scaling of the
largest eigenvalue of a white Wishart matrix (I. M. Johnstone, Ann. Statist. 29 (2001)); the
density of the law itself near the edge (a second route to the coefficient); and a simulation of
white Wishart matrices against Ma's refined centring (Z. Ma, Bernoulli 18 (2012)), with error bars.
"""

import math

import numpy as np
import pytest

from rmthess.gmp import GeneralizedMarchenkoPastur
from rmthess.gmp.tracy_widom import (
    TW1_MEAN,
    TW1_SD,
    edge_fluctuation_scale,
    extreme_eigenvalue_mean,
)
from rmthess.laws import DiscreteLaw, PointMass
from tests._mc import monte_carlo, z_threshold

#: the edge coefficient from the critical point against closed forms: rounding of z'' and t only
CLOSED_FORM_RTOL = 1e-10
#: c from the density at distance h of the edge: ρ(E − h)π/√h = c(1 + O(h/width)); h = 1e-7 of
#: the bulk width leaves a relative O(1e-7), the density itself is accurate to ~1e-9
DENSITY_H = 1e-7
DENSITY_RTOL = 1e-5


@pytest.mark.parametrize("gamma", [0.25, 0.5, 2.0, 4.0])
@pytest.mark.parametrize("sigma", [1.0, 3.0])
def test_marchenko_pastur_edges_are_the_closed_form(gamma, sigma):
    # λ ≡ σ: ρ(x) = √((b − x)(x − a))/(2πγσx), a, b = σ(1 ∓ √γ)²; near b: c = √(b − a)/(2γσb),
    # near a (γ < 1, a > 0): c = √(b − a)/(2γσa)
    law = GeneralizedMarchenkoPastur(PointMass(sigma), gamma)
    a, b = sigma * (1 - math.sqrt(gamma)) ** 2, sigma * (1 + math.sqrt(gamma)) ** 2
    edge, c = law.soft_edge("right")
    assert edge == pytest.approx(b, rel=CLOSED_FORM_RTOL)
    assert c == pytest.approx(math.sqrt(b - a) / (2 * gamma * sigma * b), rel=CLOSED_FORM_RTOL)
    if gamma < 1:
        edge, c = law.soft_edge("left")
        assert edge == pytest.approx(a, rel=CLOSED_FORM_RTOL)
        assert c == pytest.approx(math.sqrt(b - a) / (2 * gamma * sigma * a),
                                  rel=CLOSED_FORM_RTOL)


@pytest.mark.parametrize("d, n", [(100, 200), (300, 100), (5000, 7000)])
def test_scale_and_centre_are_johnstones(d, n):
    # Johnstone: λ_max(XXᵀ) ≈ μ + σ TW₁, μ = (√n + √p)², σ = (√n + √p)(1/√n + 1/√p)^{1/3} with
    # p = d, n = N samples (his n − 1 is the same to O(1/d)); divided by N for XXᵀ/N
    law = GeneralizedMarchenkoPastur(PointMass(1.0), d / n)
    mu = (math.sqrt(n) + math.sqrt(d)) ** 2 / n
    sigma = (math.sqrt(n) + math.sqrt(d)) * (1 / math.sqrt(n) + 1 / math.sqrt(d)) ** (1 / 3) / n
    assert edge_fluctuation_scale(law, d) == pytest.approx(sigma, rel=CLOSED_FORM_RTOL)
    assert extreme_eigenvalue_mean(law, d) == pytest.approx(mu + sigma * TW1_MEAN,
                                                            rel=CLOSED_FORM_RTOL)


@pytest.mark.parametrize("atoms, probs, gamma", [
    ([1.0, 3.0], [0.5, 0.5], 0.5),
    ([-2.0, 0.5, 1.0], [0.2, 0.3, 0.5], 1.5),
    ([0.0, 1.0], [0.5, 0.5], 1.0),
])
def test_edge_coefficient_is_that_of_the_density(atoms, probs, gamma):
    """Second route: the density (GMP-8) just inside each outer edge."""
    law = GeneralizedMarchenkoPastur(DiscreteLaw(atoms, probs), gamma)
    bulks = law.support()
    for side, (lo, hi), sign in (("right", bulks[-1], -1), ("left", bulks[0], 1)):
        edge, c = law.soft_edge(side)
        h = DENSITY_H * (hi - lo)
        assert c == pytest.approx(float(law.pdf(edge + sign * h)) * math.pi / math.sqrt(h),
                                  rel=DENSITY_RTOL)


def test_left_edge_of_a_negative_law_mirrors_the_right_edge():
    # the law of −λ is the mirror image: E → −E, same c; λ_min = −λ_max of the mirrored matrix
    pos = GeneralizedMarchenkoPastur(DiscreteLaw([1.0, 3.0], [0.5, 0.5]), 0.5)
    neg = GeneralizedMarchenkoPastur(DiscreteLaw([-3.0, -1.0], [0.5, 0.5]), 0.5)
    (ep, cp), (en, cn) = pos.soft_edge("right"), neg.soft_edge("left")
    assert en == pytest.approx(-ep, rel=CLOSED_FORM_RTOL)
    assert cn == pytest.approx(cp, rel=CLOSED_FORM_RTOL)
    assert extreme_eigenvalue_mean(neg, 50, "left") == pytest.approx(
        -extreme_eigenvalue_mean(pos, 50, "right"), rel=CLOSED_FORM_RTOL)


def test_hard_edges_and_bad_input_are_refused():
    hard = GeneralizedMarchenkoPastur(DiscreteLaw([0.0, 1.0], [0.5, 0.5]), 0.5)   # γ = P(λ ≠ 0)
    with pytest.raises(ValueError, match="hard edge"):
        hard.soft_edge("left")
    with pytest.raises(ValueError, match="side"):
        hard.soft_edge("top")
    with pytest.raises(ValueError):
        extreme_eigenvalue_mean(hard, 0)


#: false-alarm rate of the simulation check (two comparisons)
ALPHA_WISHART = 1e-3
#: replicates and size of the white Wishart simulation (about 1 s)
WISHART_REPS, WISHART_D, WISHART_N = 2000, 60, 120
#: Ma's centring leaves an O(d^(-2/3)) error of the law of (λ_max − μ)/σ; allowances in units of σ
#: at d = 60, N = 120, measured with 4·10⁴ replicates: mean − E[TW₁] = 0.012 ± 0.006 and
#: sd − sd(TW₁) = −0.030 ± 0.005; the allowances are those plus 3 standard errors (the centring
#: (√N + √d)² without the ½ is off by −0.169 ± 0.006: the O(1/d) term of GMP-13)
MA_MEAN_ALLOWANCE, MA_SD_ALLOWANCE = 0.03, 0.045


@monte_carlo(alpha=ALPHA_WISHART, seed=3)
def check_white_wishart_largest_eigenvalue(seed):
    """λ_max of XXᵀ/N (d×N real Gaussian) against μ + σ E[TW₁] and σ sd(TW₁) with Ma's centring
    μ = (√(N − ½) + √(d − ½))²/N and σ = (√(N − ½) + √(d − ½))(1/√(N − ½) + 1/√(d − ½))^{1/3}/N."""
    rng = np.random.default_rng(seed)
    d, n = WISHART_D, WISHART_N
    top = np.empty(WISHART_REPS)
    for r in range(WISHART_REPS):
        x = rng.standard_normal((d, n))
        top[r] = np.linalg.eigvalsh(x @ x.T / n)[-1]
    a, b = math.sqrt(n - 0.5), math.sqrt(d - 0.5)
    mu, sigma = (a + b) ** 2 / n, (a + b) * (1 / a + 1 / b) ** (1 / 3) / n
    z = (top - mu) / sigma
    k = z_threshold(ALPHA_WISHART, comparisons=2)
    se_mean = z.std(ddof=1) / math.sqrt(z.size)
    assert abs(z.mean() - TW1_MEAN) <= k * se_mean + MA_MEAN_ALLOWANCE, z.mean()
    # se of a sample sd ≈ sd·√((κ − 1)/(4R)), κ the kurtosis (TW₁: 3.16; 4 bounds it)
    se_sd = TW1_SD * math.sqrt(3.0 / (4 * z.size))
    assert abs(z.std(ddof=1) - TW1_SD) <= k * se_sd + MA_SD_ALLOWANCE, z.std(ddof=1)


def test_white_wishart_largest_eigenvalue():
    check_white_wishart_largest_eigenvalue(3)
