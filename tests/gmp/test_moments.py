"""Moments from free cumulants (GMP-6) against THEORY's m1..m4, sympy and the density."""

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from rmthess.gmp import GeneralizedMarchenkoPastur
from rmthess.gmp.moments import free_cumulants, moments_from_cumulants
from rmthess.laws import DiscreteLaw, PointMass
from tests._mc import monte_carlo, z_threshold

#: exact rational evaluation, rounded once: a few ulps
MOMENT_RTOL = 4e-16
#: exact Fractions vs the float64 recursion (GMP-6) to order 20: positive cumulants, so no
#: cancellation (measured 2e-16); 1e-13 allows the rounding of ~400 summed products
HIGH_ORDER_RTOL = 1e-13


def test_catalan_and_narayana():
    # semicircle cumulants -> Catalan; MP (kappa_k = gamma^{k-1}) -> Narayana polynomials
    assert moments_from_cumulants([0, 1, 0, 0, 0, 0, 0, 0]) == [0, 1, 0, 2, 0, 5, 0, 14]
    g = sp.Symbol("g")
    m = moments_from_cumulants([g ** (k - 1) for k in range(1, 5)])
    narayana = [1, 1 + g, 1 + 3 * g + g**2, 1 + 6 * g + 6 * g**2 + g**3]
    assert all(sp.expand(a - b) == 0 for a, b in zip(m, narayana, strict=True))


@pytest.mark.parametrize("atoms,probs,gamma", [
    ([1.0, 5.0], [0.6, 0.4], 0.3),
    ([-1.0, 0.0, 2.0], [0.3, 0.2, 0.5], 7.0),
    ([-0.75, 0.25], [0.5, 0.5], 1e-3),
])
def test_theory_m1_to_m4(atoms, probs, gamma):
    law = DiscreteLaw(atoms, probs)
    l1, l2, l3, l4 = (Fraction(law.moment(k)) for k in range(1, 5))
    g = Fraction(gamma)
    want = [l1, l1**2 + g * l2, l1**3 + 3 * g * l1 * l2 + g**2 * l3,
            l1**4 + 6 * g * l1**2 * l2 + 2 * g**2 * l2**2 + 4 * g**2 * l1 * l3 + g**3 * l4]
    got = GeneralizedMarchenkoPastur(law, gamma).moments(4)
    np.testing.assert_allclose(got, [float(v) for v in want], rtol=MOMENT_RTOL)


def test_marchenko_pastur_moments_narayana():
    for gamma in (0.5, 2.0):
        m = GeneralizedMarchenkoPastur(PointMass(1.0), gamma).moments(6)
        from math import comb
        want = [sum(comb(k, j) * comb(k, j - 1) / k * gamma ** (j - 1) for j in range(1, k + 1))
                for k in range(1, 7)]
        np.testing.assert_allclose(m, want, rtol=MOMENT_RTOL * 4)


def test_high_order_exact_and_float_paths_agree():
    law = GeneralizedMarchenkoPastur(DiscreteLaw([0.5, 1.5], [0.5, 0.5]), 0.4)
    exact = law.moments(20)
    wm = law.weights.moments(20)
    flt = moments_from_cumulants(free_cumulants(list(wm), 0.4))
    np.testing.assert_allclose(exact, flt, rtol=HIGH_ORDER_RTOL)
    assert law.moment(0) == 1.0 and law.moment(20) == exact[-1]


#: stated false-alarm rate of the trace check (20 replicates: Student t with 19 degrees of freedom)
ALPHA_TRACE = 1e-4


@monte_carlo(alpha=ALPHA_TRACE, seed=2)
def check_sample_traces(seed):
    law = GeneralizedMarchenkoPastur(DiscreteLaw([1.0, 3.0], [0.5, 0.5]), 0.5)
    rng = np.random.default_rng(seed)
    tr = [law.sample_eigenvalues(100, rng=rng).mean() for _ in range(20)]
    sd = np.std(tr, ddof=1) / np.sqrt(len(tr))
    k = z_threshold(ALPHA_TRACE, dof=len(tr) - 1)
    assert np.mean(tr) == pytest.approx(law.moment(1), abs=k * sd)


def test_moments_equal_sample_traces():
    """E (1/d) tr B = E lambda exactly at finite size (THEORY §2), by Monte Carlo."""
    check_sample_traces(2)
