"""Gaussian-softmax power sums with polynomial weights (theory/cases.md, (CASE-19)) against a brute
Gauss–Hermite product rule over the C logits (C = 2, 3), an independent route."""

import itertools
import math

import numpy as np
import pytest

from rmthess.integrals.powersums import powersum_expectations
from tests._two_class import two_class_moments

#: the Gauss–Hermite product rule with 40 (C = 2) / 32 (C = 3) points per axis converges to ~1e-12
#: at σ ≤ 0.8 (measured: the next order changes it by < 1e-13); the quadrature targets 1e-14
RTOL_BRUTE = 1e-10

ONE, X1, X2, X2M1 = (1.0,), (0.0, 1.0), (0.0, 0.0, 1.0), (-1.0, 0.0, 1.0)
N = [(1.0, ((1, X2),)), (-1.0, ((1, X1), (1, X1)))]
N_MINUS_TRQ = [(1.0, ((1, X2M1),)), (-1.0, ((1, X1), (1, X1))), (1.0, ((2, ONE),))]
MM = [(1.0, ((2, X2),)), (-2.0, ((1, X1), (2, X1))), (1.0, ((1, X1), (1, X1), (2, ONE)))]


def _mul(a, b):
    return [(ca * cb, fa + fb) for ca, fa in a for cb, fb in b]


def _brute(C, sigma, order):
    y, w = np.polynomial.hermite_e.hermegauss(order)
    w = w / w.sum()
    tot = np.zeros(4)
    for idx in itertools.product(range(order), repeat=C):
        x = y[list(idx)]
        p = np.exp(sigma * x - (sigma * x).max())
        p /= p.sum()
        xb = (p * x).sum()
        n = (p * x * x).sum() - xb ** 2
        trq = 1 - (p * p).sum()
        mm = (p * p * (x - xb) ** 2).sum()
        tot += np.prod(w[list(idx)]) * np.array([n * n, (n - trq) ** 2, mm, (p ** 3).sum()])
    return tot


@pytest.mark.parametrize("C, sigma, order", [(2, 0.3, 40), (2, 0.8, 40), (3, 0.5, 32)])
def test_against_gauss_hermite_product_rule(C, sigma, order):
    exprs = [_mul(N, N), _mul(N_MINUS_TRQ, N_MINUS_TRQ), MM, [(1.0, ((3, ONE),))]]
    got = powersum_expectations(exprs, C, sigma)
    np.testing.assert_allclose(got, _brute(C, sigma, order), rtol=RTOL_BRUTE)


def test_plain_moments_match_the_softmax_module():
    """P(1, 1) = 1 exactly, E Σp² = C·M_2 and E p_1²p_2² from (SM-2)."""
    from rmthess.integrals import softmax_moments

    C, sigma = 50, 1.3
    m = softmax_moments(C, sigma)
    got = powersum_expectations([[(1.0, ((1, ONE),))], [(1.0, ((2, ONE),))],
                                 [(1.0, ((2, ONE), (2, ONE))), (-1.0, ((4, ONE),))]], C, sigma)
    assert got[0] == pytest.approx(1.0, rel=1e-12)
    assert got[1] == pytest.approx(C * m.M2, rel=1e-12)
    assert got[2] == pytest.approx(C * (C - 1) * m.Q, rel=1e-11)


def test_empty_product_and_bad_sigma():
    assert powersum_expectations([[(2.5, ())]], 4, 0.5)[0] == 2.5
    with pytest.raises(ValueError, match="sigma"):
        powersum_expectations([[(1.0, ((1, ONE),))]], 4, 0.0)


@pytest.mark.parametrize("C, sigma", [(10, 3.5), (3, 4.0)])
def test_large_sigma_against_monte_carlo(C, sigma):
    """Large σ (tilts e^{k²σ²/2} up to e^{128}): against plain Monte Carlo, 4.5 standard errors
    (two-sided false alarm ≈ 7e-6 per comparison)."""
    rng = np.random.default_rng(int(10 * sigma) + C)
    n = 200_000
    x = rng.standard_normal((n, C))
    z = sigma * x
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    xb = (p * x).sum(1)
    nn = (p * x * x).sum(1) - xb ** 2
    trq = 1 - (p * p).sum(1)
    mm = (p * p * (x - xb[:, None]) ** 2).sum(1)
    samples = (nn * nn, (nn - trq) ** 2, mm, (p ** 3).sum(1))
    got = powersum_expectations([_mul(N, N), _mul(N_MINUS_TRQ, N_MINUS_TRQ), MM,
                                 [(1.0, ((3, ONE),))]], C, sigma)
    for v, g in zip(samples, got, strict=True):
        assert abs(v.mean() - g) <= 4.5 * v.std(ddof=1) / math.sqrt(n)


def test_caches_are_bounded_and_clearing_them_changes_nothing():
    """The partition caches have a bound; a value computed after clearing them is the same."""
    from rmthess.integrals import powersums

    assert powersums._set_partitions.cache_info().maxsize is not None
    assert powersums._blocks.cache_info().maxsize is not None
    before = powersum_expectations([MM], 3, 0.5)
    powersums._blocks.cache_clear()
    powersums._set_partitions.cache_clear()
    assert np.array_equal(powersum_expectations([MM], 3, 0.5), before)


@pytest.mark.parametrize("sigma", [3.0, 20.0, 60.0])
def test_large_sigma_against_the_two_class_route(sigma):
    """C = 2 up to σ = 60 (tilts e^{k²σ²/2} up to e^{28800}) against the independent 1-D route of
    tests/_two_class.py (good to 1e-12). The well-conditioned expectations (E(n − trQ)², E trQ2,
    E trQ²: their partition terms cancel to no less than ~1e-3 of their size, so 12 digits leave
    better than 1e-9) to 1e-9; the γ-term's combinations of all six, on which the checks are then
    made, to 1e-9 as well."""
    from rmthess.cases._mlp_ce_gamma import _EXPRESSIONS, _weights

    ref = two_class_moments(sigma)
    well = [0, 2, 5]
    got = powersum_expectations([_EXPRESSIONS[i] for i in well], 2, sigma)
    np.testing.assert_allclose(got, ref[well], rtol=1e-9)
    W = _weights(3, sigma / 2.0)
    got = powersum_expectations(_EXPRESSIONS, 2, sigma, combinations=W)
    np.testing.assert_allclose(W @ got, W @ ref, rtol=1e-9)


def test_cancellation_is_refused_not_returned():
    """E n² alone at σ = 20: its partition terms cancel to ~1e-8 of their size, more than half the
    12 digits: a ValueError that says so, not a value with 1e-7 error (1e-3 at σ = 60)."""
    with pytest.raises(ValueError, match="cancel"):
        powersum_expectations([_mul(N, N)], 2, 20.0)
