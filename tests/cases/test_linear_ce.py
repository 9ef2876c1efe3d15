"""Linear CE case: C = 2 identity, mpmath oracle, properties, block laws."""

import math

import mpmath
import pytest
from hypothesis import given

from rmthess._validate import CLASSES, GAMMA, SIGMA_V
from rmthess.cases import get_case, linear_ce_r0

#: float64 limits vs the mpmath oracle (the moments are good to ~4e-15; ratios add one division)
RTOL_ORACLE = 1e-12
#: GMP second moment vs g: both from the same exact weight moments, (GMP-4) is algebra
RTOL_GMP = 1e-12

case = get_case("linear-ce")


@pytest.mark.parametrize("gamma", [1e-3, 1.0, 1e3])
@pytest.mark.parametrize("sigma_v", [0.3, 1.0, 2.5])
def test_ratio_is_exactly_one_at_two_classes(gamma, sigma_v):
    blk = case.limits(gamma, 2, sigma_v=sigma_v).blocks["v"]
    assert blk.ratio == 1.0 and blk.g_ii == blk.g_ij


def test_two_class_identity_holds_in_the_moments():
    """At C = 2 the generic formula gives 1 too (b = −a), not only the special branch."""
    from rmthess.integrals import softmax_moments
    m = softmax_moments(2)
    assert abs(m.g_offdiag(1.0) / m.g_diag(1.0) - 1) <= RTOL_ORACLE


@pytest.mark.parametrize("C", [3, 10, 1000])
def test_float_limits_match_mpmath(C):
    lo = case.limits(0.7, C).blocks["v"]
    hi = case.limits_mp(0.7, C, dps=18).blocks["v"]
    for f in ("g_ii", "g_ij", "ratio"):
        assert float(abs(getattr(lo, f) / getattr(hi, f) - 1)) <= RTOL_ORACLE


def test_limits_mp_keeps_its_digits():
    a = case.limits_mp(1.0, 10, dps=18).blocks["v"].ratio
    b = case.limits_mp(1.0, 10, dps=24).blocks["v"].ratio
    with mpmath.workdps(24):
        assert abs(a / b - 1) < mpmath.mpf(10) ** -16


@given(gamma=GAMMA.strategy(), C=CLASSES.strategy(2, 10**6), sigma=SIGMA_V.strategy())
def test_offdiagonal_is_dominated(gamma, C, sigma):
    """|b| ≤ a pointwise (p_2 ≤ 1 − p_1) ⇒ 0 < g_ij ≤ g_ii."""
    blk = case.limits(gamma, C, sigma_v=sigma).blocks["v"]
    assert 0 < blk.g_ij <= blk.g_ii * (1 + 1e-12)
    assert 0 < blk.ratio <= 1 + 1e-12


#: the first correction of C²·ratio to r0 is about −12/C for γ in [0.5, 4] (large-C series of
#: rmthess.symbolic.large_c, checked against the exact integrals there); 20/C bounds it
ASYMPTOTE_FIRST_CORRECTION = 20.0


@pytest.mark.parametrize("gamma", [0.5, 4.0])
@pytest.mark.parametrize("C", [10**5, 10**6])
def test_asymptote_against_the_exact_finite_c_ratio(gamma, C):
    """The C → ∞ asymptote r0/C² against the exact ratio of the integrals at large C."""
    exact = case.limits(gamma, C).blocks["v"].ratio
    assert abs(exact / case.asymptote(gamma, C)["v"] - 1) <= ASYMPTOTE_FIRST_CORRECTION / C


def test_r0_is_the_paper_constant():
    """The paper's constant (1 + γe^{2σ²})/(1 + γe^{σ²}), typed from arXiv:2505.02809."""
    gamma = 0.5
    assert linear_ce_r0(gamma, 1 / math.sqrt(3)) == pytest.approx(
        (1 + gamma * math.exp(2 / 3)) / (1 + gamma * math.exp(1 / 3)), rel=1e-15)


@pytest.mark.parametrize("which, field", [("diag", "g_ii"), ("offdiag", "g_ij")])
def test_block_law_second_moment_is_g(which, field):
    law = case.block_law("v", which, 0.8, 12)
    g = getattr(case.limits(0.8, 12).blocks["v"], field)
    assert law.moment(2) == pytest.approx(g, rel=RTOL_GMP)
    assert law.gamma == 0.8
