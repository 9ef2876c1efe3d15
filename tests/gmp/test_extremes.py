"""Extreme but valid inputs answered right, and inputs beyond float64 refused with a clear error.

Oracles: exact scaling under lambda -> c lambda (GMP-11: the law of cB is the law of B scaled by
c; for c a power of 2 every float operation scales exactly), closed-form Marchenko–Pastur in
mpmath, the closed-form bulk masses p_k/gamma, tanh-sinh quadrature of the density, exact rational
moments.
"""

from fractions import Fraction

import mpmath
import numpy as np
import pytest

from rmthess.cli import main
from rmthess.gmp import GeneralizedMarchenkoPastur
from rmthess.gmp.moments import free_cumulants, moments_from_cumulants
from rmthess.laws import DiscreteLaw, EmpiricalLaw, PointMass
from tests.gmp.test_law import tanh_sinh

#: tanh-sinh quadrature of a square-root-edged density: converged to ~1e-12 of the mass
QUAD_ATOL = 1e-10
#: results of a law with atoms rounded to float (c not a power of 2): relative perturbation eps of
#: the atoms moves edges and densities by a few eps (well-conditioned points)
ROUNDED_SCALE_RTOL = 1e-12


def test_atoms_across_24_decades():
    """Atoms 1e-12 … 1e12 at gamma = 10: 25 separate bulks, each of mass p/gamma = 0.004 (GMP-10),
    the atom 1 - 1/gamma = 0.9; every bulk's density integrates to its mass."""
    law = GeneralizedMarchenkoPastur(DiscreteLaw(np.logspace(-12, 12, 25), np.full(25, 1 / 25)),
                                     10.0)
    bulks = law.support()
    assert len(bulks) == 25
    np.testing.assert_allclose(law.bulk_masses(), 0.004, rtol=1e-12)
    assert law.atom_at_zero == pytest.approx(0.9, abs=1e-15)
    for (a, b), mass in zip(bulks[:12], law.bulk_masses(), strict=False):  # the first 12
        q, err = tanh_sinh(law.pdf, a, b)
        assert q == pytest.approx(mass, abs=QUAD_ATOL * 0.004 + 10 * err)


@pytest.mark.parametrize("c", [2.0**-990, 2.0**-500, 2.0**500, 2.0**990])
def test_exact_scaling_by_powers_of_two(c):
    weights = DiscreteLaw([-1.0, 0.5, 2.0], [0.3, 0.3, 0.4])
    base = GeneralizedMarchenkoPastur(weights, 3.0)
    scaled = GeneralizedMarchenkoPastur(weights.scaled(c), 3.0)
    assert scaled.support() == [(c * a, c * b) for a, b in base.support()]
    x = np.concatenate([np.linspace(a, b, 9)[1:-1] for a, b in base.support()])
    np.testing.assert_array_equal(scaled.pdf(c * x), base.pdf(x) / c)
    z = np.array([0.3 + 0.2j, -2.0 + 1e-6j, 5.0 + 3.0j])
    np.testing.assert_array_equal(scaled.stieltjes(c * z), base.stieltjes(z) / c)
    np.testing.assert_array_equal(scaled.cdf(c * x), base.cdf(x))


@pytest.mark.parametrize("c", [1e-300, 1e-150, 1e150, 1e300])
def test_scaling_by_decimal_factors(c):
    weights = DiscreteLaw([1.0, 5.0], [0.5, 0.5])
    base = GeneralizedMarchenkoPastur(weights, 0.5)
    scaled = GeneralizedMarchenkoPastur(weights.scaled(c), 0.5)
    np.testing.assert_allclose(np.array(scaled.support()) / c, base.support(),
                               rtol=ROUNDED_SCALE_RTOL)
    z = np.array([1.0 + 1.0j, 3.0 + 1e-3j])
    np.testing.assert_allclose(scaled.stieltjes(c * z) * c, base.stieltjes(z),
                               rtol=ROUNDED_SCALE_RTOL)
    (a, b), = base.support()
    x = np.linspace(a, b, 7)[1:-1]
    np.testing.assert_allclose(scaled.pdf(c * x) * c, base.pdf(x), rtol=ROUNDED_SCALE_RTOL)


def test_point_mass_1e_300_is_marchenko_pastur():
    c, gamma = 1e-300, 0.5
    law = GeneralizedMarchenkoPastur(PointMass(c), gamma)
    x = np.array([0.0, 0.2, 1.0, 2.5, 3.0]) * c
    got = law.pdf(x)
    with mpmath.workdps(30):
        g, cm = mpmath.mpf(gamma), mpmath.mpf(c)
        a, b = cm * (1 - mpmath.sqrt(g)) ** 2, cm * (1 + mpmath.sqrt(g)) ** 2
        want = [float(mpmath.sqrt((xm - a) * (b - xm)) / (2 * mpmath.pi * g * cm * xm))
                if a < xm < b else 0.0 for xm in map(mpmath.mpf, x)]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_tiny_gamma_with_centred_weights():
    """E lambda = 0: the bulk is [-2, 2]·sqrt(gamma E lambda^2) wide around 0, resolvable even at
    gamma = 1e-60; mass 1 and m_2 = gamma E lambda^2 (GMP-6) by quadrature of the density."""
    gamma = 1e-60
    law = GeneralizedMarchenkoPastur(DiscreteLaw([-1.0, 1.0], [0.5, 0.5]), gamma)
    (a, b), = law.support()
    q0, e0 = tanh_sinh(law.pdf, a, b)
    q2, e2 = tanh_sinh(lambda t: (t / b) ** 2 * law.pdf(t), a, b)
    assert q0 == pytest.approx(1.0, abs=QUAD_ATOL + 10 * e0)
    assert q2 * b * b == pytest.approx(gamma, rel=QUAD_ATOL + 10 * e2)


@pytest.mark.parametrize("weights,gamma,match", [
    (DiscreteLaw([1.0, 5.0], [0.5, 0.5]), 1e-300, "gamma must be in"),
    (DiscreteLaw([1.0, 5.0], [0.5, 0.5]), 1e-30, "float64 resolution"),
    (DiscreteLaw([1e250, 5e250], [0.5, 0.5]), 1e100, "outside the float64 range"),
    (DiscreteLaw([1e-200, 1e200], [0.5, 0.5]), 1.0, "too small against the largest"),
])
def test_unresolvable_laws_refused(weights, gamma, match):
    with pytest.raises(ValueError, match=match):
        GeneralizedMarchenkoPastur(weights, gamma)


def test_stieltjes_derivative_far_out():
    """s'(z) = 1/z² + O(|z|^-3): finite, no NaN from overflowing t²."""
    law = GeneralizedMarchenkoPastur(DiscreteLaw([1.0, 5.0], [0.5, 0.5]), 0.5)
    z = np.array([-1e100 + 1j, 1e150 + 1e140j])
    np.testing.assert_allclose(law.stieltjes_derivative(z), 1 / z**2, rtol=1e-12)
    d = law.stieltjes_derivative(-1e200 + 1j)          # 1e-400 underflows to 0 correctly
    assert np.isfinite(d) and abs(d) <= 1e-300


def test_high_moments_float_path_and_overflow():
    """Orders above the exact range use the float recursion on the rescaled law: checked against
    exact rationals at order 72 (positive cumulants, no cancellation: 1e-13 allows the rounding of
    the ~2600 summed products); an overflowing moment is refused."""
    weights = DiscreteLaw([1.0, 5.0], [0.5, 0.5])
    law = GeneralizedMarchenkoPastur(weights, 0.5)
    wm = [Fraction(1 + 5**k, 2) for k in range(1, 73)]
    exact = moments_from_cumulants(free_cumulants(wm, Fraction(1, 2)))
    np.testing.assert_allclose(law.moments(72), [float(v) for v in exact], rtol=1e-13)
    with pytest.raises(ValueError, match="overflows float64"):
        law.moment(400)
    with pytest.raises(ValueError, match="max_order"):
        law.moments(10**12)


def test_cost_guards_before_allocation():
    law = GeneralizedMarchenkoPastur(DiscreteLaw([1.0, 5.0], [0.5, 0.5]), 0.5)
    with pytest.raises(ValueError, match="GiB.*max_gib"):
        law.sample_eigenvalues(10**6)
    for weights in (DiscreteLaw([1.0, 2.0], [0.5, 0.5]), EmpiricalLaw([1.0, 2.0, 3.0])):
        with pytest.raises(ValueError, match="GiB.*max_gib"):
            weights.sample(10**12)
        assert weights.sample((2, 3), rng=0).shape == (2, 3)


def test_complex_arrays_refused():
    law = GeneralizedMarchenkoPastur(PointMass(1.0), 0.5)
    for bad in (np.array([1.0 + 1e-3j]), np.complex128(1.0)):
        for f in (law.pdf, law.cdf, EmpiricalLaw):
            with pytest.raises(ValueError, match="must be real"):
                f(bad)
    with pytest.raises(ValueError, match="must be real"):
        DiscreteLaw(np.array([1.0 + 0j]), [1.0])


@pytest.mark.parametrize("argv,match", [
    (["--gamma", "1e-300", "--atoms", "1,5", "--json"], "gamma must be in"),
    (["--gamma", "1e-30", "--atoms", "1,5"], "float64 resolution"),
    (["--gamma", "1", "--atoms", "1", "--grid", str(10**12)], "--force"),
    (["--gamma", "1", "--atoms", "1", "--moments", str(10**12)], "--force"),
])
def test_cli_refusals(argv, match, capsys):
    assert main(["gmp", *argv]) == 2
    err = capsys.readouterr().err
    assert match in err and len(err.strip().splitlines()) == 1


def test_negligible_narrow_bulks_dropped():
    # gamma = 1e30: the bulks near gamma·lambda_k have relative width ~1e-15 and mass p_k/gamma
    # = 5e-31 each; the law is the atom at 0 up to 1e-30
    huge = GeneralizedMarchenkoPastur(DiscreteLaw([1.0, 5.0], [0.5, 0.5]), 1e30)
    assert huge.support() == [] and huge.atom_at_zero == 1.0
    """A bulk too narrow to resolve is dropped when its mass p_k/gamma is below 1e-12 (the mass
    stays exact to that), e.g. the extreme nodes of a Gauss rule; the rest of the law is unchanged
    (the bulks of the other atoms against the law without the improbable atom: the perturbation of
    the equation is O(1e-30))."""
    base = GeneralizedMarchenkoPastur(DiscreteLaw([1.0, 2.0], [0.5, 0.5]), 100.0)
    law = GeneralizedMarchenkoPastur(DiscreteLaw([1.0, 2.0, 50.0], [0.5, 0.5 - 1e-30, 1e-30]),
                                     100.0)
    np.testing.assert_allclose(law.support(), base.support(), rtol=1e-14)
    assert law.bulk_masses().sum() + law.atom_at_zero == pytest.approx(1.0, abs=1e-12)
    from scipy import stats

    from rmthess.laws import ContinuousLaw
    gauss = GeneralizedMarchenkoPastur(ContinuousLaw(dist=stats.norm(3.0, 1.0)), 100.0)
    assert gauss.bulk_masses().sum() + gauss.atom_at_zero == pytest.approx(1.0, abs=1e-12)
