"""Entry laws of weight entries: moments, quadrature rules and cumulant functions vs closed forms
and mpmath; sampling vs Monte Carlo with error bars; validation."""

import math

import mpmath
import numpy as np
import pytest
from scipy import stats

from rmthess.laws.entry import (
    GAUSSIAN,
    RADEMACHER,
    UNIFORM,
    DiscreteEntries,
    ScipyEntries,
    entry_law,
)

#: closed-form moments vs the code (a few ulps)
RTOL_CLOSED = 1e-14
#: cumulant functions vs mpmath at 30 digits: the series/closed-form branches lose at most ~30 ulps
#: (the 1/c² − 1/sinh² c difference just above the series switch at c = 0.25)
TOL_CGF = 1e-13
#: Monte Carlo: K_SIGMA standard errors (two-sided normal false-alarm rate 5e-6 per check)
K_SIGMA = 4.5


def _mp_uniform_cgf(t):
    """ψ, ψ', ψ'' of U(−√3, √3) from mpmath integrals of e^{tx} (no closed form used)."""
    b = mpmath.sqrt(3)
    with mpmath.workdps(30):
        t = mpmath.mpf(t)
        mom = [mpmath.quad(lambda x, k=k: x ** k * mpmath.exp(t * x), [-b, 0, b]) / (2 * b)
               for k in range(3)]
        mean = mom[1] / mom[0]
        return float(mpmath.log(mom[0])), float(mean), float(mom[2] / mom[0] - mean ** 2)


@pytest.mark.parametrize("k", [2, 4, 6, 8])
def test_moments_closed_forms(k):
    assert GAUSSIAN.moment(k) == math.prod(range(k - 1, 0, -2))          # (k−1)!!
    # uniform on [−√3, √3]: ∫ x^k dx/(2√3) = 3^{k/2}/(k + 1)
    assert UNIFORM.moment(k) == pytest.approx(3 ** (k // 2) / (k + 1), rel=RTOL_CLOSED)
    assert RADEMACHER.moment(k) == 1.0
    # the discrete law {−2, 0, 2} w.p. {1/4, 1/2, 1/4} has variance 2: standardized atoms
    # ±√2 w.p. 1/4
    law = DiscreteEntries([-2.0, 0.0, 2.0], [0.25, 0.5, 0.25])
    assert law.moment(k) == pytest.approx(0.5 * 2 ** (k // 2), rel=RTOL_CLOSED)
    for lw in (GAUSSIAN, UNIFORM, RADEMACHER, law):
        assert lw.moment(k - 1) == 0.0
    kurtoses = (GAUSSIAN.kurtosis, UNIFORM.kurtosis, RADEMACHER.kurtosis)
    assert kurtoses == (3.0, pytest.approx(1.8), 1.0)


def test_scipy_law_is_standardized():
    law = ScipyEntries(stats.truncnorm(-2, 2))
    assert law.moment(2) == pytest.approx(1.0, rel=RTOL_CLOSED)
    # the kurtosis of N(0,1) truncated to [−2, 2], by mpmath quadrature of the density
    with mpmath.workdps(30):
        Z = mpmath.erf(mpmath.sqrt(2))                                  # P(|x| < 2)
        m2, m4 = (mpmath.quad(lambda x, k=k: x ** k * mpmath.npdf(x), [-2, 2]) / Z for k in (2, 4))
        assert law.kurtosis == pytest.approx(float(m4 / m2 ** 2), rel=1e-10)
        assert law.support_bound == pytest.approx(float(2 / mpmath.sqrt(m2)), rel=1e-12)


@pytest.mark.parametrize("law",
                         [GAUSSIAN, UNIFORM, RADEMACHER, ScipyEntries(stats.truncnorm(-2, 2))],
                         ids=lambda lw: lw.name)
def test_quadrature_integrates_polynomials(law):
    x, w = law.quadrature()
    assert w.sum() == pytest.approx(1.0, rel=RTOL_CLOSED) and np.all(w > 0)
    for k in (2, 4, 6):
        # Gauss rules are exact for these degrees; truncnorm's quantile rule to ~1e-12 (smooth F⁻¹)
        assert w @ x ** k == pytest.approx(law.moment(k), rel=1e-10)


@pytest.mark.parametrize("t", [0.0, 1e-4, 0.1, 0.14, 0.3, 1.0, -2.5, 7.0, 40.0])
def test_uniform_cgf_against_mpmath(t):
    psi, d1, d2 = (float(a) for a in UNIFORM.cgf(np.array(t)))
    ref = _mp_uniform_cgf(t)
    assert abs(psi - ref[0]) <= TOL_CGF * max(1.0, abs(ref[0]))
    assert abs(d1 - ref[1]) <= TOL_CGF
    assert abs(d2 - ref[2]) <= TOL_CGF
    # and the uniform law's quadrature rule (log-sum-exp over 96 Gauss nodes) agrees where |t| ≤ 7
    if abs(t) <= 7:
        from rmthess.laws.entry import _atomic_cgf
        got = _atomic_cgf(*UNIFORM.quadrature(), np.array(t))
        assert abs(float(got[2]) - ref[2]) <= 1e-12


def test_discrete_and_gaussian_cgf():
    t = np.array([-3.0, 0.0, 0.5, 20.0])
    psi, d1, d2 = RADEMACHER.cgf(t)
    # Rademacher: ψ = log cosh t, ψ' = tanh t, ψ'' = 1 − tanh² t
    np.testing.assert_allclose(psi, np.log(np.cosh(t)), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(d1, np.tanh(t), rtol=1e-14)
    np.testing.assert_allclose(d2, 1 - np.tanh(t) ** 2, rtol=1e-12, atol=1e-16)
    psi, d1, d2 = GAUSSIAN.cgf(t)
    np.testing.assert_array_equal(psi, t * t / 2)
    np.testing.assert_array_equal(d2, 1.0)
    np.testing.assert_allclose(UNIFORM.mgf(np.array([1.0])), np.sinh(math.sqrt(3)) / math.sqrt(3),
                               rtol=1e-14)


@pytest.mark.parametrize("law", [GAUSSIAN, UNIFORM, RADEMACHER, ScipyEntries(stats.laplace())],
                         ids=lambda lw: lw.name)
def test_samples_have_unit_variance_and_the_kurtosis(law):
    n = 400_000
    x = law.sample(np.random.default_rng(3), (n // 4, 4)).ravel()
    for k in (2, 4):
        y = x ** k
        assert abs(y.mean() - law.moment(k)) <= K_SIGMA * y.std(ddof=1) / math.sqrt(n)
    assert abs(x.mean()) <= K_SIGMA * x.std(ddof=1) / math.sqrt(n)


def test_sample_interface_advances_a_generator():
    gen = np.random.default_rng(0)
    a, b = UNIFORM.sample(gen, 3), UNIFORM.sample(gen, 3)
    assert a.shape == (3,) and not np.array_equal(a, b)
    # the Gaussian law draws the same stream as rng.standard_normal (old results are unchanged)
    np.testing.assert_array_equal(GAUSSIAN.sample(5, (2, 3)),
                                  np.random.default_rng(5).standard_normal((2, 3)))


@pytest.mark.parametrize("bad, match", [
    (stats.expon(), "symmetric"),
    (stats.norm(loc=1.0), "symmetric"),
    (stats.t(3), "fourth moment"),
    (stats.t(2), "variance"),
    ("cauchy", "unknown entry law"),
    (3.0, "entry law must be"),
])
def test_invalid_laws(bad, match):
    with pytest.raises(ValueError, match=match):
        entry_law(bad)


def test_invalid_discrete_laws_and_missing_mgf():
    with pytest.raises(ValueError, match="symmetric"):
        DiscreteEntries([-1.0, 2.0], [0.5, 0.5])
    with pytest.raises(ValueError, match="point mass"):
        DiscreteEntries([0.0], [1.0])
    with pytest.raises(ValueError, match="sum to 1"):
        DiscreteEntries([-1.0, 1.0], [0.5, 0.6])
    with pytest.raises(ValueError, match="moment generating function"):
        ScipyEntries(stats.t(6)).cgf(1.0)


def test_names_and_equality():
    assert entry_law() is GAUSSIAN and entry_law("normal") is GAUSSIAN
    assert entry_law("uniform") == UNIFORM and hash(entry_law("uniform")) == hash(UNIFORM)
    assert RADEMACHER != DiscreteEntries([-1.0, 0.0, 1.0], [0.25, 0.5, 0.25])
    assert ScipyEntries(stats.truncnorm(-2, 2)).name == "truncnorm(-2, 2)"
