"""EmpiricalLaw: exact empirical moments and the measured cost of its compression."""

import math

import numpy as np
import pytest

from rmthess.gmp import GeneralizedMarchenkoPastur
from rmthess.laws import EmpiricalLaw

#: compression keeps bin moments of order <= 3: global moments equal up to summation rounding
KEPT_MOMENT_RTOL = 1e-12
#: measured: density of the 128-atom compression of a 4000-sample Gamma(3) law vs the exact
#: 4000-atom law at gamma = 0.5, max abs error over the bulk relative to the max density: 1.8e-6
#: (median 3e-8); bound with a 10x margin
COMPRESSED_DENSITY_RTOL = 2e-5
#: measured edge shift of the same compression: 2e-8 (left), 9e-6 (right, relative to the edge)
COMPRESSED_EDGE_RTOL = 1e-4


def test_moments_are_empirical():
    x = np.random.default_rng(0).normal(size=1000)
    law = EmpiricalLaw(x)
    assert law.moment(2) == pytest.approx(math.fsum(x**2) / x.size, rel=1e-15)
    assert law.prob_nonzero == 1.0
    assert law.expect(np.abs) == pytest.approx(np.mean(np.abs(x)), rel=1e-14)


def test_small_sample_is_exact():
    law = EmpiricalLaw([1.0, 2.0, 2.0, 0.0], max_atoms=8)
    d = law.discretize()
    assert d.atoms.tolist() == [0.0, 1.0, 2.0] and d.probs.tolist() == [0.25, 0.25, 0.5]
    assert d == law.exact()


@pytest.mark.parametrize("max_atoms", [5, 16, 256])
def test_compression_keeps_three_moments_and_zeros(max_atoms):
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.gamma(2.0, size=60_000), -rng.exponential(size=30_000),
                        np.zeros(10_000)])
    law = EmpiricalLaw(x, max_atoms=max_atoms)
    d = law.discretize()
    assert d.size <= max_atoms
    assert d.prob_nonzero == pytest.approx(law.prob_nonzero, abs=1e-15)
    for k in (1, 2, 3):
        assert d.moment(k) == pytest.approx(law.moment(k), rel=KEPT_MOMENT_RTOL,
                                            abs=KEPT_MOMENT_RTOL * law.moment(2) ** (k / 2))
    # atoms stay inside the sample range
    assert d.atoms.min() >= x.min() and d.atoms.max() <= x.max()


def test_compression_cost_on_density():
    x = np.random.default_rng(5).gamma(3.0, size=4000)
    gamma = 0.5
    exact = GeneralizedMarchenkoPastur(EmpiricalLaw(x).exact(), gamma)
    small = GeneralizedMarchenkoPastur(EmpiricalLaw(x, max_atoms=128), gamma)
    (a, b), = exact.support()
    grid = np.linspace(a, b, 301)[1:-1]
    ref = exact.pdf(grid)
    err = np.max(np.abs(small.pdf(grid) - ref)) / ref.max()
    assert err <= COMPRESSED_DENSITY_RTOL
    np.testing.assert_allclose(small.support(), exact.support(), rtol=COMPRESSED_EDGE_RTOL)
    np.testing.assert_allclose(small.moments(3), exact.moments(3), rtol=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match="empty"):
        EmpiricalLaw([])
    with pytest.raises(ValueError, match="finite"):
        EmpiricalLaw([1.0, np.nan])
    with pytest.raises(ValueError, match="max_atoms"):
        EmpiricalLaw([1.0], max_atoms=4)
    with pytest.raises(ValueError, match="max_atoms"):
        EmpiricalLaw([1.0], max_atoms=8.5)


def test_scaled_and_sample():
    law = EmpiricalLaw([1.0, 2.0, 3.0]).scaled(-1.0)
    assert law.samples.tolist() == [-3.0, -2.0, -1.0]
    s = law.sample(100, rng=0)
    assert set(np.unique(s)) <= {-3.0, -2.0, -1.0}


@pytest.mark.parametrize("tol", [-1e-3, float("nan"), float("inf"), True, "1e-3"])
def test_tol_is_validated(tol):
    with pytest.raises(ValueError, match="tol"):
        EmpiricalLaw([1.0, 2.0], tol=tol)


def test_tol_zero_is_the_exact_law():
    x = np.random.default_rng(6).gamma(3.0, size=600)
    law = EmpiricalLaw(x, max_atoms=16, tol=0)
    assert law.discretize_for(0.5) == law.exact()
    assert law.scaled(2.0).tol == 0.0
    assert EmpiricalLaw(x, max_atoms=16).discretize_for(0.5) == law.discretize()


def test_tol_bounds_the_density_error_inside_the_bulk():
    """The selected compression against the exact empirical law (the oracle), on a grid other than
    the one of the check, away from the edges (next to them the check is only on its grid)."""
    x = np.random.default_rng(7).gamma(3.0, size=2000)
    gamma, tol = 0.5, 2e-4
    loose = EmpiricalLaw(x, max_atoms=8, tol=1.0).discretize_for(gamma)
    tight = EmpiricalLaw(x, max_atoms=8, tol=tol).discretize_for(gamma)
    assert loose.size <= 8 < tight.size       # the default-size compression misses tol here
    exact = GeneralizedMarchenkoPastur(EmpiricalLaw(x).exact(), gamma)
    comp = GeneralizedMarchenkoPastur(tight, gamma)
    a, b = exact.support()[0]
    grid = np.linspace(a, b, 997)[10:-10]
    ref = exact.pdf(grid)
    assert np.max(np.abs(comp.pdf(grid) - ref)) <= tol * ref.max()
