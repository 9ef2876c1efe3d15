"""Gaussian-softmax weight laws: exact moments vs sampling, the discretization's guarantees."""

import math

import numpy as np
import pytest

from rmthess.integrals import softmax_moments
from rmthess.laws.softmax import GaussianSoftmaxLaw
from tests._mc import monte_carlo, z_threshold

#: exact moments of the law vs the SoftmaxMoments formulas (two integral routes)
RTOL_EXACT = 1e-12
#: discretization: mean and second moment matched up to rounding
RTOL_DISCRETE = 1e-12
#: stated false-alarm rate of the sampling check (three moments compared)
ALPHA = 1e-4


@pytest.mark.parametrize("C", [2, 7, 1000])
def test_moments_match_softmax_moments(C):
    m = softmax_moments(C)
    d, o = GaussianSoftmaxLaw(C, which="diag"), GaussianSoftmaxLaw(C, which="offdiag")
    assert d.moment(1) == pytest.approx(m.mean_a, rel=RTOL_EXACT)
    assert d.moment(2) == pytest.approx(m.mean_a2, rel=RTOL_EXACT)
    assert o.moment(1) == pytest.approx(m.mean_b, rel=RTOL_EXACT)
    assert o.moment(2) == pytest.approx(m.mean_b2, rel=RTOL_EXACT)


@monte_carlo(alpha=ALPHA, seed=17, params={"diag": dict(which="diag"),
                                           "offdiag": dict(which="offdiag")})
def check_moments_against_samples(seed, which):
    law = GaussianSoftmaxLaw(6, 0.8, which)
    x = law.sample(300_000, rng=seed)
    k_sigma = z_threshold(ALPHA, comparisons=3)          # 3·10⁵ draws: normal quantile
    for k in (1, 2, 3):
        xs = x ** k
        assert abs(xs.mean() - law.moment(k)) <= k_sigma * xs.std(ddof=1) / math.sqrt(xs.size)


@pytest.mark.parametrize("which", ["diag", "offdiag"])
def test_moments_against_samples(which):
    check_moments_against_samples(17, which)


@pytest.mark.parametrize("C", [2, 10, 10**5])
@pytest.mark.parametrize("which", ["diag", "offdiag"])
def test_discretize_keeps_mean_and_second_moment(C, which):
    law = GaussianSoftmaxLaw(C, which=which)
    disc = law.discretize()
    assert disc.moment(1) == pytest.approx(law.moment(1), rel=RTOL_DISCRETE)
    assert disc.moment(2) == pytest.approx(law.moment(2), rel=RTOL_DISCRETE)
    sign = 1 if which == "diag" else -1
    assert np.all(sign * disc.atoms > 0)
    assert law.prob_nonzero == 1.0


def test_scaled_and_two_class_symmetry():
    d = GaussianSoftmaxLaw(2, which="diag")
    o = GaussianSoftmaxLaw(2, which="offdiag")
    assert o.moment(3) == pytest.approx(-d.moment(3), rel=RTOL_EXACT)
    s = d.scaled(-2.0)
    assert s.moment(2) == pytest.approx(4 * d.moment(2), rel=1e-15)
    assert s.discretize().moment(1) == pytest.approx(-2 * d.moment(1), rel=RTOL_DISCRETE)
    assert np.array_equal(d.sample(5, rng=1), d.sample(5, rng=1))


def test_scaled_copy_shares_no_cache_with_the_original():
    """A scaled copy starts from a snapshot of the original's moments and keeps its own cache: what
    either computes (or a corrupted entry in one) never reaches the other."""
    law = GaussianSoftmaxLaw(3, which="diag")
    law.moment(2)
    s = law.scaled(3.0)
    assert s._cache is not law._cache and 2 in s._cache
    law.moment(4)
    assert 4 not in s._cache
    s._cache[5] = float("nan")           # a bad entry in the copy ...
    assert math.isfinite(law.moment(5))  # ... is not seen by the original
    # the copy's moments are those of a fresh law (its own computation) times 3^k
    fresh = GaussianSoftmaxLaw(3, which="diag")
    assert s.moment(4) == pytest.approx(3.0**4 * fresh.moment(4), rel=1e-15)


def test_validation():
    with pytest.raises(ValueError, match="which"):
        GaussianSoftmaxLaw(3, which="upper")
    with pytest.raises(ValueError, match="classes"):
        GaussianSoftmaxLaw(1)
    with pytest.raises(ValueError, match="sigma_v"):
        GaussianSoftmaxLaw(3, sigma_v=-1)
