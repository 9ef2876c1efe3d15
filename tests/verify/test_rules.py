"""Verdict rules: thresholds, z-scores and the four rules on hand-made inputs."""

import math

import pytest
from scipy import integrate, stats

from rmthess.verify.rules import (
    TAIL_PROBABILITY,
    Z_MAX,
    against_prediction,
    geometric_remainder,
    richardson,
    within_tolerance,
    z_threshold,
)

#: quadrature of the Student-t density is good to ~1e-10; thresholds are compared in tail
#: probability
TAIL_RTOL = 1e-6


def test_tail_probability_is_that_of_four_sigma():
    # independent route: integrate the Gaussian density beyond 4
    tail, _ = integrate.quad(lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi), Z_MAX,
                             math.inf)
    assert TAIL_PROBABILITY == pytest.approx(2 * tail, rel=TAIL_RTOL)


@pytest.mark.parametrize("dof", [3, 9, 39, 199])
def test_student_threshold_has_the_gaussian_tail(dof):
    k = z_threshold(dof)
    assert k > Z_MAX
    density = stats.t(dof).pdf
    tail, _ = integrate.quad(density, k, math.inf)
    assert 2 * tail == pytest.approx(TAIL_PROBABILITY, rel=TAIL_RTOL)


def test_threshold_limits_and_validation():
    assert z_threshold(None) == Z_MAX
    assert z_threshold(10**6) == Z_MAX
    assert z_threshold(100) > z_threshold(1000) > Z_MAX
    with pytest.raises(ValueError):
        z_threshold(0)


def test_against_prediction_pass_and_fail():
    ok = against_prediction("q", {"C": 3}, simulation=1.03, stderr=0.01, prediction=1.0)
    assert ok.passed and ok.z == pytest.approx(3.0) and ok.rule == "z"
    bad = against_prediction("q", {"C": 3}, simulation=1.05, stderr=0.01, prediction=1.0)
    assert not bad.passed and bad.verdict == "FAIL"
    with pytest.raises(ValueError):
        against_prediction("q", {}, simulation=float("nan"), stderr=0.1, prediction=1.0)
    with pytest.raises(ValueError):
        against_prediction("q", {}, simulation=1.0, stderr=-1.0, prediction=1.0)


def test_zero_stderr_is_exact_comparison():
    assert against_prediction("q", {}, simulation=0.5, stderr=0.0, prediction=0.5).passed
    row = against_prediction("q", {}, simulation=0.5 + 1e-6, stderr=0.0, prediction=0.5)
    assert not row.passed and math.isinf(row.z)


def test_prediction_rule_includes_the_remainder_and_the_predictions_error():
    # prediction 1.10, limit 1.00: the O(1/d) correction 0.1 gives R = 0.1²/1 = 0.01 (VER-2)
    row = against_prediction("q", {}, simulation=1.14, stderr=0.0, prediction=1.10, limit=1.0,
                             prediction_se=0.01, remainder=geometric_remainder(0.1, 1.0))
    assert row.remainder == pytest.approx(0.01)
    assert row.band == pytest.approx(4 * 0.01 + 0.01)
    assert row.passed and row.reference == 1.10
    # the limit is shown, not tested: a simulation at the limit is far from the prediction
    assert not against_prediction("q", {}, simulation=1.0, stderr=0.01, prediction=1.10,
                                  limit=1.0).consistent


def test_richardson_removes_a_one_over_d_bias():
    limit, a = 2.0, 3.0
    small, large = limit + a / 100, limit + a / 200  # exact 1/d bias
    row = richardson("q", {}, small=small, small_se=0.001, large=large, large_se=0.001, limit=limit)
    assert row.simulation == pytest.approx(limit, abs=1e-12)
    assert row.stderr == pytest.approx(math.sqrt(5) * 0.001)
    # geometric bound on the O(d⁻²) term: 2 (x_d − x_2d)² / |L|
    assert row.remainder == pytest.approx(2 * (small - large) ** 2 / limit)
    assert row.passed
    assert not richardson("q", {}, small=small, small_se=1e-4, large=large + 0.01, large_se=1e-4,
                          limit=limit).passed


def test_richardson_adds_a_stated_remainder_to_band_and_mde():
    # the same row with and without a stated allowance r: band + r, MDE + 2r/scale (VER-12)
    args = dict(small=1.03, small_se=0.001, large=1.015, large_se=0.001, limit=1.0, scale=1.0)
    plain, wide = richardson("q", {}, **args), richardson("q", {}, remainder=0.002, **args)
    assert wide.remainder == pytest.approx(plain.remainder + 0.002, abs=1e-15)
    assert wide.band == pytest.approx(plain.band + 0.002, abs=1e-15)
    assert wide.mde == pytest.approx(plain.mde + 0.004, abs=1e-15)
    for bad in (-1e-3, math.nan, math.inf):
        with pytest.raises(ValueError, match="remainder"):
            richardson("q", {}, remainder=bad, **args)


def test_within_tolerance_absolute_and_relative():
    assert within_tolerance("q", {}, value=1.0 + 1e-9, reference=1.0, tol=1e-8).passed
    assert not within_tolerance("q", {}, value=1.1, reference=1.0, tol=0.05).passed
    assert within_tolerance("q", {}, value=101.0, reference=100.0, tol=0.02, relative=True).passed


def test_row_dict_and_check_name():
    row = against_prediction("q", {"gamma": 0.25, "C": 10}, simulation=1.0, stderr=0.1,
                             prediction=1.0)
    d = row.with_check("name").as_dict()
    assert d["check"] == "name" and d["verdict"] == "PASS"
    assert d["parameters_text"] == "gamma=0.25, C=10"


def test_reference_standard_errors_add_in_quadrature():
    row = against_prediction("q", {}, simulation=1.05, stderr=0.03, prediction=1.0,
                             prediction_se=0.04)
    assert row.z == pytest.approx(1.0)
    row = richardson("q", {}, small=1.0, small_se=0.0, large=1.5, large_se=0.0, limit=1.0,
                     limit_se=0.5)
    assert row.stderr == 0.0 and row.theory_se == 0.5 and row.z == pytest.approx(2.0)


def test_at_most_is_an_exact_inequality():
    from rmthess.verify.rules import at_most

    assert at_most("q", {}, value=0.99, bound=1.0).passed
    assert at_most("q", {}, value=1.0 + 1e-12, bound=1.0, slack=1e-9).passed
    assert not at_most("q", {}, value=1.01, bound=1.0, slack=1e-9).passed
