"""Real-axis density and cdf against the Marchenko–Pastur closed form and the mpmath oracle."""

import numpy as np
import pytest
from scipy import integrate

from rmthess.gmp import GeneralizedMarchenkoPastur
from rmthess.laws import DiscreteLaw, PointMass

#: closed form vs solver: both are rounding-level computations of the same float inputs
CLOSED_FORM_RTOL = 1e-12
#: near an edge x_e the density is ill-conditioned in the edge position (known to ~eps·scale):
#: relative error allowed = CLOSED_FORM_RTOL + EDGE_ULPS · eps · scale / |x − x_e|
EDGE_ULPS = 8
#: mpmath oracle (50 digits) vs float64 solver, relative to the largest density on the grid
ORACLE_RTOL = 1e-11
#: quadrature (scipy.quad, QAGS) of the density vs 1 − atom; quad's own accuracy ~1e-10 here
QUAD_ATOL = 1e-9
#: cosine-series cdf (GMP-10) vs 1 − atom: converged to 1e-13 of the mass
CDF_ATOL = 1e-12

EPS = np.finfo(float).eps
GAMMAS = [1e-3, 0.1, 0.5, 1.0, 2.0, 10.0, 1e3]


def _edge_tolerance(x, edges, scale):
    dist = np.min(np.abs(x[:, None] - np.asarray(edges)[None, :]), axis=1)
    return CLOSED_FORM_RTOL + EDGE_ULPS * EPS * scale / np.maximum(dist, EPS * scale)


@pytest.mark.parametrize("gamma", GAMMAS)
def test_marchenko_pastur_closed_form(gamma, mp_closed_form):
    density, edges = mp_closed_form
    a, b = edges(gamma)
    law = GeneralizedMarchenkoPastur(PointMass(1.0), gamma)
    w = b - a
    x = np.concatenate([
        np.linspace(a, b, 1001),
        a + w * np.logspace(-14, -1, 27), b - w * np.logspace(-14, -1, 27),
        [a - 1e-9 * w, b + 1e-9 * w, -1.0, 2 * b],
    ])
    got, want = law.pdf(x), density(x, gamma)
    tol = np.minimum(_edge_tolerance(x, [a, b], b), 1.0)
    # an edge shifted by EDGE_ULPS·eps·scale moves the density at the edge by at most this much
    atol = want.max() * np.sqrt(EDGE_ULPS * EPS * b / w)
    excess = np.abs(got - want) - (tol * want + atol)
    assert np.all(excess <= 0), x[np.argmax(excess)]
    assert law.atom_at_zero == pytest.approx(max(0.0, 1 - 1 / gamma), abs=EPS)


def test_marchenko_pastur_gamma_one_near_zero(mp_closed_form):
    """gamma = 1: the bulk reaches 0 and the density blows up like x^{-1/2}."""
    density, _ = mp_closed_form
    law = GeneralizedMarchenkoPastur(PointMass(1.0), 1.0)
    assert law.support() == [(0.0, 4.0)]
    x = np.logspace(-300, -1, 61)
    np.testing.assert_allclose(law.pdf(x), density(x, 1.0), rtol=CLOSED_FORM_RTOL)
    assert law.pdf(0.0) == 0.0 and law.pdf(-1e-300) == 0.0


@pytest.mark.parametrize("atoms,probs", [
    ([1.0, 5.0], [0.6, 0.4]),
    ([-1.0, 2.0], [0.5, 0.5]),
    ([-3.0, -0.5], [0.25, 0.75]),
    ([0.0, 1.0, 4.0], [0.2, 0.5, 0.3]),
])
@pytest.mark.parametrize("gamma", [0.01, 0.3, 1.0, 3.0, 100.0])
def test_two_point_laws_against_mpmath(atoms, probs, gamma, oracle):
    law = GeneralizedMarchenkoPastur(DiscreteLaw(atoms, probs), gamma)
    bulks = law.support()
    lo, hi = bulks[0][0], bulks[-1][1]
    x = np.concatenate([np.linspace(lo - 0.0513 * (hi - lo), hi + 0.0487 * (hi - lo), 23),
                        [(a + b) / 2 for a, b in bulks]])
    want = np.array([oracle.density(atoms, probs, gamma, xi) for xi in x])
    np.testing.assert_allclose(law.pdf(x), want, rtol=0, atol=ORACLE_RTOL * want.max())


@pytest.mark.parametrize("k", [6, pytest.param(12, marks=pytest.mark.slow)])
def test_many_point_law_against_mpmath(k, oracle):
    rng = np.random.default_rng(7)
    atoms = np.round(rng.uniform(-2, 4, k), 3)
    probs = rng.dirichlet(np.ones(k))
    for gamma in (0.05, 20.0):
        law = GeneralizedMarchenkoPastur(DiscreteLaw(atoms, probs), gamma)
        x = np.concatenate([np.linspace(a, b, 6)[1:-1] for a, b in law.support()])
        want = np.array([oracle.density(atoms, probs, gamma, xi) for xi in x])
        np.testing.assert_allclose(law.pdf(x), want, rtol=0, atol=ORACLE_RTOL * want.max())


@pytest.mark.parametrize("gamma", [0.2, 1.0, 5.0])
def test_mass_and_cdf(gamma):
    law = GeneralizedMarchenkoPastur(DiscreteLaw([-1.0, 0.0, 2.0, 3.0], [0.3, 0.1, 0.4, 0.2]),
                                     gamma)
    quad_mass = sum(integrate.quad(law.pdf, a, b, limit=200, epsabs=1e-13)[0]
                    for a, b in law.support())
    assert quad_mass + law.atom_at_zero == pytest.approx(1.0, abs=QUAD_ATOL)
    assert law.bulk_masses().sum() + law.atom_at_zero == pytest.approx(1.0, abs=CDF_ATOL)
    lo, hi = law.support()[0][0], law.support()[-1][1]
    assert law.cdf(lo - 1) == 0.0 and law.cdf(hi + 1) == pytest.approx(1.0, abs=CDF_ATOL)
    # cdf at interior points vs quadrature of the density
    for xq in np.linspace(lo, hi, 7)[1:-1]:
        ref = law.atom_at_zero * (xq >= 0) + sum(
            integrate.quad(law.pdf, a, min(b, xq), limit=200, epsabs=1e-13)[0]
            for a, b in law.support() if a < xq)
        assert law.cdf(xq) == pytest.approx(ref, abs=QUAD_ATOL)
    x = np.linspace(lo - 1, hi + 1, 301)
    assert np.all(np.diff(law.cdf(x)) >= -CDF_ATOL)


def test_marchenko_pastur_cdf_closed_form():
    """MP cdf for gamma = 1 in closed form: F(x) = 1/2 + (sqrt(x(4-x)) + 4 asin(x/2 - 1))/(4 pi)...
    """
    law = GeneralizedMarchenkoPastur(PointMass(1.0), 1.0)
    x = np.linspace(0, 4, 41)
    # integral of sqrt(4-x)/(2 pi sqrt x) from 0 to x
    want = (np.sqrt(x * (4 - x)) + 4 * np.arcsin(np.sqrt(x) / 2)) / (2 * np.pi)
    np.testing.assert_allclose(law.cdf(x), want, atol=CDF_ATOL)
