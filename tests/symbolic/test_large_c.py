"""Large-C expansion of the linear CE ratio: vs THEORY/paper formulas and vs the exact integrals."""

import math

import pytest
import sympy as sp

from rmthess.cases import get_case
from rmthess.symbolic.large_c import (
    GAMMA_SYM,
    Q_SYM,
    X_SYM,
    linear_ce_norm_series,
    linear_ce_ratio_asymptotic,
    linear_ce_ratio_series,
    softmax_moment_series,
)

g, e = GAMMA_SYM, Q_SYM
#: float64 ratio from the exact integrals: relative error ≤ 1e-12 (tests/integrals)
RTOL_EXACT = 1e-12
#: the next term bounds the truncation error; allow twice |r_{J+1}|/C^{J+1} (the series is
#: asymptotic)
NEXT_TERM_FACTOR = 2.0


@pytest.fixture(scope="module")
def series3():
    return linear_ce_ratio_series(3)


def test_r0_is_the_paper_constant(series3):
    assert sp.simplify(series3[0] - (1 + g * e ** 2) / (1 + g * e)) == 0


def test_r1_matches_the_spec(series3):
    r1 = (2 + g * (3 * e - 7 * e ** 2 + 16 * e ** 3 - 8 * e ** 4)
          + g ** 2 * (-e ** 3 + 7 * e ** 4 - 4 * e ** 5)) / (1 + g * e) ** 2
    assert sp.simplify(series3[1] - r1) == 0


def test_norm_series_match_the_spec():
    gii, gij = linear_ce_norm_series(1)
    assert sp.expand(gii - ((1 + g * e) - e * (2 + g * (1 - 3 * e + 4 * e ** 2)) * X_SYM)) == 0
    first = 2 - 2 * e + g * (10 * e ** 3 - 8 * e ** 4 - 2 * e ** 2)
    assert sp.expand(gij - ((1 + g * e ** 2) + first * X_SYM)) == 0


def test_moment_series_leading_terms():
    """E p_1^k ≈ q^{k(k−1)/2}/C^k and E p_1 = 1/C exactly at every order."""
    for k in (2, 3, 4):
        assert softmax_moment_series((k,), 0) == Q_SYM ** sp.Rational(k * (k - 1), 2) * X_SYM ** k
    assert sp.expand(softmax_moment_series((1,), 2) - X_SYM) == 0


@pytest.mark.parametrize("sigma", [0.5, 1.0])
@pytest.mark.parametrize("gamma", [0.25, 1.0, 4.0])
@pytest.mark.parametrize("C", [10**4, 10**5])
def test_series_against_exact_integrals(series3, sigma, gamma, C):
    exact = get_case("linear-ce").limits(gamma, C, sigma_v=sigma).blocks["v"].ratio * C ** 2
    q = math.exp(sigma * sigma)
    r = [float(c.subs({GAMMA_SYM: gamma, Q_SYM: q})) for c in series3]
    two_terms = r[0] + r[1] / C
    three_terms = two_terms + r[2] / C ** 2
    noise = RTOL_EXACT * exact
    # the rate: the remainder after r0 + r1/C is r2/C² up to the next term
    next_term = NEXT_TERM_FACTOR * abs(r[3]) / C ** 3
    assert abs(exact - two_terms) <= abs(r[2]) / C ** 2 + next_term + noise
    assert abs(exact - three_terms) <= NEXT_TERM_FACTOR * abs(r[3]) / C ** 3 + noise
    assert linear_ce_ratio_asymptotic(gamma, C, sigma, order=2) == pytest.approx(three_terms,
                                                                                 rel=1e-14)


def test_slow_convergence_to_r0():
    """Spec: about 8% below r0 at C = 100 and 1% at C = 1000 for γ = 1."""
    r0 = (1 + math.e ** 2) / (1 + math.e)
    for C, gap in ((100, 0.08), (1000, 0.01)):
        ratio = get_case("linear-ce").limits(1.0, C).blocks["v"].ratio * C ** 2
        assert 0.5 * gap < 1 - ratio / r0 < 1.5 * gap


def test_caches_are_bounded_and_hold_immutable_values():
    """Every cache of derived expressions has a bound, and what it holds cannot be changed by a
    caller (tuples of sympy expressions, which are immutable)."""
    from rmthess.symbolic import large_c

    for f in (large_c._centred_cumulants, large_c._sum_moments, softmax_moment_series,
              linear_ce_norm_series, linear_ce_ratio_series, large_c._numeric):
        assert f.cache_info().maxsize is not None, f.__name__
    r = linear_ce_ratio_series(1)
    assert isinstance(r, tuple) and isinstance(large_c._sum_moments(2)[1], tuple)
    linear_ce_ratio_series.cache_clear()
    assert linear_ce_ratio_series(1) == r      # recomputed, not served from a changed entry
