"""The separable law (theory/separable.md) against the GMP law, a 40-digit oracle, Monte Carlo."""

import numpy as np
import pytest

from rmthess.gmp import GeneralizedMarchenkoPastur, SeparableMarchenkoPastur
from rmthess.gmp.separable_equation import SeparableEquation
from rmthess.gmp.separable_solver import solve_separable_bulk, solve_separable_complex
from rmthess.gmp.separable_support import branch_points, branch_points_numpy, find_separable_bulks
from rmthess.laws import ContinuousLaw, DiscreteLaw, EmpiricalLaw, PointMass
from tests._mc import monte_carlo, z_threshold
from tests.gmp.separable_oracle import SeparableOracle, composite_rule

#: Σ = I through the general separable path against the GMP law: both solve the same equation
#: (R = −(z(t) − z), SEP-3) in float64 by Newton from different starts, so they agree to the
#: conditioning of the root times eps; relative to the largest density (measured 7.6e−15 with 2000
#: points per bulk, the largest next to an edge where the root is square-root conditioned)
IDENTITY_RTOL = 1e-14
#: density and Stieltjes values against the 40-digit oracle: a verified float64 root, error
#: ≈ eps × condition (measured ≤ 7e−16 of the largest density); 1e−12 leaves room for points
#: nearer an edge, where the square-root conditioning grows
ORACLE_RTOL = 1e-12
#: edges are stationary points of x on the real branch (SEP-7): rounding of x only (measured
#: ≤ 5e−15 relative); the oracle bisects to 1e−13
EDGE_RTOL = 1e-12
#: the masses come from adaptive Gauss–Legendre quadrature, panels accepted at 1e−15
MASS_ATOL = 1e-10

LAWS = {
    "signed-2x2": ([-1.0, 2.0], [0.5, 0.5], [0.5, 2.0], [0.5, 0.5], 0.5),
    "positive-2x3": ([1.0, 3.0], [0.3, 0.7], [0.2, 1.0, 4.0], [0.3, 0.4, 0.3], 0.2),
    "zero-atom-3x2": ([-2.0, 0.0, 1.0], [0.3, 0.2, 0.5], [1.0, 10.0], [0.8, 0.2], 1.5),
}


def _law(name):
    a, p, s, q, g = LAWS[name]
    return (SeparableMarchenkoPastur(DiscreteLaw(a, p), DiscreteLaw(s, q), g),
            SeparableOracle(a, p, s, q, g))


# -- Σ = I ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("atoms,probs,gamma", [
    ([-1.0, 2.0], [0.5, 0.5], 2.0), ([1.0, 5.0], [0.5, 0.5], 0.1),
    ([-1.0, 0.5, 3.0], [0.2, 0.3, 0.5], 0.7), ([1.0], [1.0], 0.25),
])
def test_identity_covariance_general_path_reproduces_gmp(atoms, probs, gamma):
    nu = DiscreteLaw(atoms, probs)
    gmp = GeneralizedMarchenkoPastur(nu, gamma)
    eq = SeparableEquation.from_laws(nu, PointMass(1.0), gamma)
    bulks = find_separable_bulks(eq)
    edges = np.array([[b.left, b.right] for b in bulks]) * eq.unit
    np.testing.assert_allclose(edges, np.array(gmp.support()), rtol=IDENTITY_RTOL, atol=0)
    x = np.concatenate([np.linspace(b.left, b.right, 203)[1:-1] for b in bulks])
    dens = np.concatenate([solve_separable_bulk(eq, b, np.linspace(b.left, b.right, 203)[1:-1])
                           for b in bulks])
    dens = eq.stieltjes_from_t(dens, x + 0j).imag / np.pi / eq.unit
    want = gmp.pdf(x * eq.unit)
    assert np.max(np.abs(dens - want)) <= IDENTITY_RTOL * want.max()
    z = (x[::10] + 0.3j) * eq.unit
    m = eq.stieltjes_from_t(solve_separable_complex(eq, z / eq.unit, bulks), z / eq.unit) / eq.unit
    np.testing.assert_allclose(m, gmp.stieltjes(z), rtol=IDENTITY_RTOL)


def test_scalar_covariance_is_the_gmp_law_of_scaled_weights():
    nu = DiscreteLaw([-1.0, 2.0], [0.5, 0.5])
    law = SeparableMarchenkoPastur(nu, PointMass(1.0), 2.0)
    gmp = GeneralizedMarchenkoPastur(nu, 2.0)
    x = np.linspace(-5, 10, 101)
    assert np.array_equal(law.pdf(x), gmp.pdf(x)) and law.support() == gmp.support()
    assert np.array_equal(law.moments(6), gmp.moments(6))
    # Σ = 4I: the GMP law of 4λ, bit-identical to the law scaled by 4 (GMP-11)
    four = SeparableMarchenkoPastur(nu, PointMass(4.0), 2.0)
    assert np.array_equal(four.pdf(4 * x), gmp.pdf(x) / 4)


# -- against the 40-digit oracle ------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(LAWS))
def test_density_and_stieltjes_against_oracle(name):
    law, oracle = _law(name)
    lo, hi = law.support()[0][0], law.support()[-1][1]
    x = np.linspace(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo), 27)   # no point on an edge
    got = law.pdf(x)
    want = np.array([oracle.density(v) for v in x])
    assert np.all(got >= 0) and np.all((got > 0) == (want > 0))
    assert np.max(np.abs(got - want)) <= ORACLE_RTOL * want.max()
    z = np.concatenate([x[::3] + 0.05j * (hi - lo), x[::4] + 1e-10j])
    m = law.stieltjes(z)
    ref = np.array([oracle.stieltjes(v) for v in z])
    assert np.all(m.imag > 0)
    np.testing.assert_allclose(m, ref, rtol=ORACLE_RTOL * 10)   # near-axis values: 1e-11


@pytest.mark.parametrize("name", sorted(LAWS))
def test_edges_and_masses_against_oracle(name):
    law, oracle = _law(name)
    for left, right in law.support():
        w = right - left
        for edge, inner, outer in ((left, left + 1e-7 * w, left - 1e-7 * w),
                                   (right, right - 1e-7 * w, right + 1e-7 * w)):
            ref = oracle.edge(inner, outer)
            assert abs(edge - ref) <= EDGE_RTOL * max(abs(ref), w)
    assert abs(law.bulk_masses().sum() + law.atom_at_zero - 1.0) <= MASS_ATOL


def test_atom_at_zero_from_the_rank():
    law = SeparableMarchenkoPastur(DiscreteLaw([0.0, 1.0], [0.5, 0.5]),
                                   DiscreteLaw([1.0, 3.0], [0.5, 0.5]), 2.0)
    assert law.atom_at_zero == 0.75
    assert abs(law.bulk_masses().sum() - 0.25) <= MASS_ATOL


def test_continuous_and_empirical_covariance():
    """A continuous spectrum (its Gauss rule) and an empirical one: mass 1 and moments (SEP-6)
    equal to the moments of the density (quadrature of the verified density)."""
    nu = DiscreteLaw([-0.5, 1.0], [0.3, 0.7])
    cov = ContinuousLaw(pdf=lambda s: s ** -1.5, interval=(0.1, 1.0), n_atoms=12)
    emp = EmpiricalLaw(np.random.default_rng(3).gamma(4.0, 0.25, size=400), max_atoms=9)
    for h in (cov, emp):
        law = SeparableMarchenkoPastur(nu, h, 0.3)
        assert abs(law.bulk_masses().sum() + law.atom_at_zero - 1.0) <= MASS_ATOL
        th, w = composite_rule(64)
        got = []
        for left, right in law.support():
            x = left + (right - left) * 0.5 * (1 - np.cos(th))
            jac = 0.5 * (right - left) * np.sin(th) * w * law.pdf(x)
            got.append([np.sum(jac * x**k) for k in (1, 2, 3)])
        atomic = SeparableMarchenkoPastur(nu.discretize(), h.discretize(), 0.3)
        # the density is that of the atomic covariance: compare with its exact moments
        np.testing.assert_allclose(np.sum(got, axis=0), atomic.moments(3), rtol=1e-10)


def test_branch_kernel_agrees_with_its_numpy_twin():
    """Both solve the same monotone bracketed equations to a few ulps (measured 1e−12 relative on
    x at points 1e−4 from a pole, where f is steep); Δ relative to max(1, |Δ|)."""
    eq = SeparableEquation.from_laws(DiscreteLaw([-1.0, 0.5, 2.0], [0.3, 0.2, 0.5]),
                                     DiscreteLaw([0.2, 1.0, 4.0], [0.3, 0.4, 0.3]), 0.7)
    t = np.tan(np.linspace(-1.57, 1.57, 2000))          # t = 0 (x = 0, the atom) excluded
    x1, d1 = branch_points(eq, t)
    x2, d2 = branch_points_numpy(eq, t)
    np.testing.assert_allclose(x1, x2, rtol=1e-10, atol=0)
    fin = np.isfinite(d2)
    assert np.array_equal(fin, np.isfinite(d1))
    assert np.all(np.abs(d1 - d2)[fin] <= 1e-9 * np.maximum(1.0, np.abs(d2[fin])))


# -- input validation -----------------------------------------------------------------------------
@pytest.mark.parametrize("cov,match", [
    (DiscreteLaw([-1.0, 2.0], [0.5, 0.5]), "positive"),
    (DiscreteLaw([0.0, 2.0], [0.5, 0.5]), "positive"),
    ([1.0, 2.0], "WeightLaw"),
])
def test_bad_covariance_is_refused(cov, match):
    with pytest.raises(ValueError, match=match):
        SeparableMarchenkoPastur(PointMass(1.0), cov, 0.5)


def test_unresolvable_bulk_is_refused():
    """An atom of probability 1e−20 makes a bulk of relative width ~4e−10 (SEP-9): refused."""
    with pytest.raises(ValueError, match="float64 resolution"):
        SeparableMarchenkoPastur(DiscreteLaw([1.0, 5.0], [1 - 1e-20, 1e-20]),
                                 DiscreteLaw([0.5, 2.0], [0.5, 0.5]), 0.5)


def test_bad_gamma_and_points_are_refused():
    law = SeparableMarchenkoPastur(PointMass(1.0), DiscreteLaw([1.0, 2.0], [0.5, 0.5]), 0.5)
    with pytest.raises(ValueError):
        SeparableMarchenkoPastur(PointMass(1.0), DiscreteLaw([1.0, 2.0], [0.5, 0.5]), -1.0)
    with pytest.raises(ValueError):
        law.pdf([np.nan])
    with pytest.raises(ValueError):
        law.stieltjes([1.0 - 1j])


# -- sampling -------------------------------------------------------------------------------------
def test_sample_shapes_and_zeros():
    law = SeparableMarchenkoPastur(DiscreteLaw([-1.0, 2.0], [0.5, 0.5]),
                                   DiscreteLaw([0.5, 2.0], [0.5, 0.5]), 2.0)
    ev = law.sample(60, rng=1)
    assert ev.shape == (60,) and np.all(np.diff(ev) >= 0)
    assert np.count_nonzero(ev == 0) == 30            # N = 30 < d = 60: d − N exact zeros
    assert np.array_equal(ev, law.sample(60, rng=1))


#: false-alarm rate of the trace check (16 replicates: Student t with 15 degrees of freedom)
ALPHA_TRACE = 1e-4


@monte_carlo(alpha=ALPHA_TRACE, seed=5)
def check_separable_traces(seed):
    """E (1/d) tr B = s_1 E λ and E (1/d) tr B² = m_2 + O(1/d) (SEP-6): the second is checked with
    its finite-size bias bound 4 s_2 E λ² /d added to the threshold."""
    law = SeparableMarchenkoPastur(DiscreteLaw([-1.0, 2.0], [0.5, 0.5]),
                                   DiscreteLaw([0.5, 2.0], [0.5, 0.5]), 0.5)
    rng = np.random.default_rng(seed)
    d = 120
    tr = np.array([[np.mean(ev), np.mean(ev**2)] for ev in (law.sample(d, rng=rng)
                                                              for _ in range(16))])
    k = z_threshold(ALPHA_TRACE, dof=15, comparisons=2)
    se = tr.std(axis=0, ddof=1) / 4.0
    m = law.moments(2)
    assert abs(tr[:, 0].mean() - m[0]) <= k * se[0]
    assert abs(tr[:, 1].mean() - m[1]) <= k * se[1] + 4 * 2.125 * 2.5 / d


def test_sample_traces_match_moments():
    check_separable_traces(5)


#: false-alarm rate of the binned comparison at d = 2000 (Bonferroni over the bins)
ALPHA_BINS = 1e-3


@pytest.mark.slow
def test_density_against_monte_carlo_d2000():
    """Pooled eigenvalues of 8 draws at d = 2000 against the bin masses of the density.

    Per bin: the replicate mean of the fraction of eigenvalues, its standard error from the
    replicate spread (Student t, 7 degrees of freedom), threshold from ALPHA_BINS split over the
    bins, plus the finite-size bias of a bin mass, O(1/d) (edge fluctuations of order d^{-2/3}
    move at most a few eigenvalues per edge: 4/d allowed). Not registered for the false-alarm
    audit (one run takes ~1 min); the registered trace check samples the same way.
    """
    law = SeparableMarchenkoPastur(DiscreteLaw([-1.0, 2.0], [0.4, 0.6]),
                                   DiscreteLaw([0.3, 1.0, 3.0], [0.3, 0.4, 0.3]), 0.5)
    d, reps = 2000, 8
    rng = np.random.default_rng(20)
    samples = [law.sample(d, rng=rng) for _ in range(reps)]
    lo, hi = law.support()[0][0], law.support()[-1][1]
    cuts = np.linspace(lo, hi, 25)
    th, w = composite_rule(16)
    want = []
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        x = a + (b - a) * 0.5 * (1 - np.cos(th))
        want.append(np.sum(0.5 * (b - a) * np.sin(th) * w * law.pdf(x)))
    want = np.array(want)
    frac = np.array([np.histogram(ev, cuts)[0] / d for ev in samples])
    se = frac.std(axis=0, ddof=1) / np.sqrt(reps)
    k = z_threshold(ALPHA_BINS, dof=reps - 1, comparisons=want.size)
    assert np.all(np.abs(frac.mean(axis=0) - want) <= k * se + 4.0 / d)
