"""The law object: Stieltjes transform, properties over random atomic laws, bad input, Monte
Carlo."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rmthess._validate import GAMMA
from rmthess.gmp import GeneralizedMarchenkoPastur
from rmthess.laws import DiscreteLaw, EmpiricalLaw, PointMass
from tests._mc import monte_carlo, z_threshold

#: root of a well-conditioned polynomial: float64 solver vs 30-digit oracle, relative
STIELTJES_RTOL = 1e-11
#: tanh-sinh quadrature of the density: accuracy floor besides its own error estimate
QUAD_TOL = 1e-9
#: closed-form bulk masses (GMP-10): rounding only
CDF_ATOL = 1e-12
#: large-|z| check: |z s + 1| <= rho/(|z| - rho) exactly for a law supported in [-rho, rho]
LARGE_Z = 1e6


@st.composite
def atomic_laws(draw, max_atoms=5):
    k = draw(st.integers(1, max_atoms))
    atoms = draw(st.lists(st.integers(-40, 40), min_size=k, max_size=k, unique=True))
    atoms = [a / 8 for a in atoms]            # exact binary fractions in [-5, 5], 0 allowed
    weights = draw(st.lists(st.integers(1, 20), min_size=k, max_size=k))
    probs = np.array(weights, float) / sum(weights)
    return DiscreteLaw(atoms, probs)


def tanh_sinh(f, a, b, h=1 / 512, kmax=5.0):
    """Double-exponential (tanh-sinh) rule on [a, b] with one vectorised call of f.

    Nodes cluster doubly exponentially at both ends and are computed as distances from the ends
    (no rounding into the endpoint). Returns (value, error estimate) where the estimate is the
    difference with the rule of step 2h (the error of step h is far smaller: the rule converges
    like exp(-c/h)).
    """
    k = np.arange(0, kmax / h + 1) * h
    u = 0.5 * np.pi * np.sinh(k)
    frac = 1.0 / (1.0 + np.exp(2 * u))           # (1 - tanh u)/2, accurate for large u
    wk = h * 0.5 * np.pi * np.cosh(k) / np.cosh(u) ** 2 * (b - a) / 2
    wk = np.where(k == 0, wk / 2, wk)
    vals = f(a + (b - a) * frac) + f(b - (b - a) * frac)
    fine = float(np.sum(wk * vals))
    coarse = float(2 * np.sum((wk * vals)[::2]))
    return fine, abs(fine - coarse)


def _bulk_points(law, n=7):
    return np.concatenate([np.linspace(a, b, n + 2)[1:-1] for a, b in law.support()] or [[]])


@given(atomic_laws(), GAMMA.strategy())
def test_herglotz_and_residual(weights, gamma):
    law = GeneralizedMarchenkoPastur(weights, gamma)
    rng = np.random.default_rng(0)
    spread = max([abs(e) for b in law.support() for e in b] + [1.0])
    z = rng.uniform(-2 * spread, 2 * spread, 40) + 1j * np.logspace(-10, 1, 40) * spread
    s = law.stieltjes(z)
    assert np.all(s.imag > 0)
    resid = np.abs(law.inverse(s) - z)
    lam, p = weights.atoms, weights.probs
    size = np.abs(z) + np.abs(1 / s) + np.sum(
        np.abs(p * lam / (1 + gamma * lam * s[:, None])), axis=1)
    assert np.all(resid <= 1e-12 * size)


@given(atomic_laws(), GAMMA.strategy())
def test_large_z_asymptotics(weights, gamma):
    law = GeneralizedMarchenkoPastur(weights, gamma)
    rho = max([abs(e) for b in law.support() for e in b] + [0.0])
    for phi in (0.1, 1.0, 2.0, 3.0):
        z = (rho + 1) * LARGE_Z * np.exp(1j * phi)
        s = law.stieltjes(z)
        assert abs(z * s + 1) <= rho / (abs(z) - rho) + 1e-13


@given(atomic_laws(), GAMMA.strategy())
def test_density_mass_moments_support(weights, gamma):
    law = GeneralizedMarchenkoPastur(weights, gamma)
    bulks = law.support()
    # density >= 0, finite; exactly 0 outside the bulks
    lo = min([b[0] for b in bulks] + [0.0]) - 1
    hi = max([b[1] for b in bulks] + [0.0]) + 1
    x = np.linspace(lo, hi, 997)
    rho = law.pdf(x)
    assert np.all(np.isfinite(rho)) and np.all(rho >= 0)
    inside = np.zeros(x.shape, bool)
    for a, b in bulks:
        inside |= (x > a) & (x < b)
    assert np.all(rho[~inside] == 0)
    assert np.all(rho[inside] > 0)
    # mass and moments by tanh-sinh quadrature of the density, bulk by bulk
    q = np.zeros((3, 2))
    for a, b in bulks:
        for k in range(3):
            q[k] += tanh_sinh(lambda t, k=k: t**k * law.pdf(t), a, b)
    assert law.bulk_masses().sum() + law.atom_at_zero == pytest.approx(1.0, abs=CDF_ATOL)
    scale = max(abs(lo), abs(hi))
    want = [1.0 - law.atom_at_zero, *law.moments(2)]
    for k in range(3):
        assert q[k, 0] == pytest.approx(want[k], abs=QUAD_TOL * scale**k + 10 * q[k, 1])


#: scaling λ → cλ maps the law exactly; the two computations differ only by the round-off of the
#: root finders: edges are roots of a smooth equation (absolute ~1e-12 of the spectrum's scale),
#: densities inherit the Newton residual near edges (1e-9 relative covers sqrt-edge amplification of
#: a 1e-16 residual at points 1e-7 from an edge), Stieltjes values are well conditioned (1e-10).
SCALING_EDGE_ATOL = 1e-12
SCALING_PDF_RTOL = 1e-9
SCALING_PDF_ATOL = 1e-12
SCALING_STIELTJES_RTOL = 1e-10


@given(atomic_laws(max_atoms=4), GAMMA.strategy(), st.sampled_from([-3.0, -0.5, 0.25, 2.0]))
def test_scaling(weights, gamma, c):
    base = GeneralizedMarchenkoPastur(weights, gamma)
    scaled = GeneralizedMarchenkoPastur(weights.scaled(c), gamma)
    want = sorted(tuple(sorted((c * a, c * b))) for a, b in base.support())
    got = scaled.support()
    assert len(got) == len(want)
    spread = max(abs(e) for b in want for e in b) if want else 1.0
    np.testing.assert_allclose(np.array(got).ravel(), np.array(want).ravel(), rtol=0,
                               atol=SCALING_EDGE_ATOL * spread)
    x = _bulk_points(base)
    np.testing.assert_allclose(scaled.pdf(c * x) * abs(c), base.pdf(x),
                               rtol=SCALING_PDF_RTOL,
                               atol=SCALING_PDF_ATOL * max(base.pdf(x).max(initial=0), 1))
    assert scaled.atom_at_zero == base.atom_at_zero
    z = np.array([1 + 1j, -2 + 0.5j]) * spread
    zc = c * z if c > 0 else c * np.conj(z)
    sc = scaled.stieltjes(zc)
    sb = base.stieltjes(z)
    np.testing.assert_allclose(sc * c, sb if c > 0 else np.conj(sb), rtol=SCALING_STIELTJES_RTOL)


@pytest.mark.parametrize("atoms,probs,gamma", [
    ([1.0, 5.0], [0.6, 0.4], 0.3),
    ([-1.0, 0.0, 2.0], [0.3, 0.2, 0.5], 2.0),
    ([-2.0, -1.0, 0.5, 1.0, 3.0], [0.1, 0.3, 0.2, 0.2, 0.2], 0.05),
])
def test_stieltjes_against_mpmath(atoms, probs, gamma, oracle):
    law = GeneralizedMarchenkoPastur(DiscreteLaw(atoms, probs), gamma)
    z = np.array([0.3 + 1e-9j, 1 + 0.01j, -2 + 3j, 10 + 1e-3j, 1e-6 + 1e-6j])
    got = law.stieltjes(z)
    want = np.array([oracle.stieltjes(atoms, probs, gamma, zi) for zi in z])
    np.testing.assert_allclose(got, want, rtol=STIELTJES_RTOL)


def test_stieltjes_derivative_against_formula_and_difference():
    law = GeneralizedMarchenkoPastur(DiscreteLaw([-1.0, 2.0], [0.4, 0.6]), 0.8)
    z = np.array([0.5 + 0.2j, -1 + 1j, 3 + 0.05j])
    s, ds = law.stieltjes(z), law.stieltjes_derivative(z)
    lam, p, g = np.array([-1.0, 2.0]), np.array([0.4, 0.6]), 0.8
    theory = 1 / (s**-2 - g * np.sum(p * lam**2 / (1 + g * lam * s[:, None]) ** 2, axis=1))
    np.testing.assert_allclose(ds, theory, rtol=1e-12)
    #: central differences with h = 1e-5: truncation h²|s'''| ~ 1e-10, round-off eps|s|/h ~ 1e-11
    #: (measured 1.3e-10 relative); ~100× margin
    h, fd_rtol = 1e-5, 1e-8
    fd = (law.stieltjes(z + h) - law.stieltjes(z - h)) / (2 * h)
    np.testing.assert_allclose(ds, fd, rtol=fd_rtol)


def test_inverse_round_trip():
    law = GeneralizedMarchenkoPastur(DiscreteLaw([0.5, 2.0], [0.5, 0.5]), 1.5)
    z = np.array([0.1 + 0.3j, 2 + 1e-4j])
    np.testing.assert_allclose(law.inverse(law.stieltjes(z)), z, rtol=1e-13)
    assert np.isrealobj(law.inverse(np.array([-0.5, 2.0])))


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf, "1"])
def test_bad_gamma(bad):
    with pytest.raises(ValueError, match="gamma"):
        GeneralizedMarchenkoPastur(PointMass(1.0), bad)


def test_bad_weights_and_points():
    with pytest.raises(ValueError, match="WeightLaw"):
        GeneralizedMarchenkoPastur([1.0, 2.0], 1.0)
    law = GeneralizedMarchenkoPastur(PointMass(1.0), 0.5)
    for z in (1.0 - 1j, 2.0 + 0j, np.array([1j, -1j]), complex(math.nan, 1)):
        with pytest.raises(ValueError, match="upper half plane|finite"):
            law.stieltjes(z)
    with pytest.raises(ValueError, match="upper half plane"):
        law.stieltjes_derivative(1 - 1e-300j)
    with pytest.raises(ValueError, match="finite"):
        law.pdf([1.0, math.nan])
    with pytest.raises(ValueError, match="finite"):
        law.cdf(math.inf)
    with pytest.raises(ValueError, match="moment order"):
        law.moment(-1)
    with pytest.raises(ValueError, match="non-zero"):
        law.inverse(0.0)
    with pytest.raises(ValueError, match="d must be"):
        law.sample_eigenvalues(0)


#: Kolmogorov distance of d eigenvalues to the limit: iid samples would exceed 1.63/sqrt(d) with
#: probability 1%; eigenvalues are far more rigid (fluctuations O(log d / d)), and the finite-size
#: bias of the spectral cdf is O(1/d), so this bound is conservative.
KS_COEF = 1.63
#: stated false-alarm rate of the eigenvalue check: ≤ 1 % (KS bound, conservative as above) plus the
#: two-sided normal tail of the trace comparison
ALPHA_EIG = 0.01
ALPHA_TRACE_EIG = 1e-4

EIG_LAWS = {
    "two-atoms": (DiscreteLaw([1.0, 5.0], [0.6, 0.4]), 0.5),
    "signed": (DiscreteLaw([-1.0, 0.0, 2.0], [0.3, 0.2, 0.5]), 2.0),
    "empirical": (EmpiricalLaw(np.random.default_rng(3).normal(1.0, 1.0, 10_000)), 0.25),
}


@monte_carlo(alpha=ALPHA_EIG + ALPHA_TRACE_EIG, seed=11,
             params={k: dict(weights=w, gamma=g) for k, (w, g) in EIG_LAWS.items()})
def check_monte_carlo_eigenvalues(seed, weights, gamma):
    law = GeneralizedMarchenkoPastur(weights, gamma)
    d = 300
    ev = law.sample_eigenvalues(d, rng=np.random.default_rng(seed))
    assert ev.shape == (d,)
    # Kolmogorov distance at every sample point, with left limits (ties at the atom at zero)
    v = np.unique(ev)
    emp = np.searchsorted(ev, v, side="right") / d
    emp_left = np.searchsorted(ev, v, side="left") / d
    F = law.cdf(v)
    F_left = F - np.where(v == 0, law.atom_at_zero, 0.0)
    ks = max(np.max(np.abs(F - emp)), np.max(np.abs(F_left - emp_left)))
    assert ks <= KS_COEF / math.sqrt(d)
    # (1/d) tr B = (1/N) sum_n lambda_n |x_n|^2/d: variance Var(lambda)/N + 2 E lambda^2/(N d)
    n = round(d / gamma)
    var = weights.moment(2) - weights.moment(1) ** 2
    sd = math.sqrt(var / n + 2 * weights.moment(2) / (n * d))
    assert np.mean(ev) == pytest.approx(law.moment(1), abs=z_threshold(ALPHA_TRACE_EIG) * sd)


@pytest.mark.parametrize("key", EIG_LAWS)
def test_monte_carlo_eigenvalues(key):
    weights, gamma = EIG_LAWS[key]
    check_monte_carlo_eigenvalues(11, weights, gamma)


def test_sample_reproducible_and_wide():
    law = GeneralizedMarchenkoPastur(DiscreteLaw([-1.0, 2.0], [0.5, 0.5]), 3.0)
    a = law.sample_eigenvalues(30, rng=5)
    b = law.sample_eigenvalues(30, rng=5)
    np.testing.assert_array_equal(a, b)
    assert np.count_nonzero(a == 0) == 30 - 10


# gamma = P(lambda != 0) with E[1/lambda] = 0: h(0) = 1 and h'(0) = 0, a double root of h = 1 at
# t = 0 that rounding splits into two roots ~ +-sqrt(eps) (+-0.875) or misses (+-0.125); both must
# give two bulks touching at 0, where the density diverges like |x|^(-1/3) (theory/gmp.md, GMP-7)
DOUBLE_ROOT_LAWS = [([-0.875, 0.875], [0.5, 0.5]), ([-0.125, 0.125], [0.5, 0.5]),
                    ([-2.0, -1.0, 1.0, 2.0], [0.25, 0.25, 0.25, 0.25]),
                    ([-1.0, 3.0], [0.25, 0.75]),          # E[1/lambda] = 0, not symmetric
                    ([-1.0, 3.0], [0.75, 0.25])]          # E[1/lambda] = -3/4 + 1/12 != 0
#: accuracy next to the double root: Newton on the residual around t = 0 finds t ~ x^(1/3) to
#: relative eps/|t| (1e-11 at 1e-30 of the scale), the cubic series of the solver below
#: |t| = 1e-5 (relative error ~1e-10); measured ≤ 5e-12 from 1e-3 down to 1e-100
DOUBLE_ROOT_RTOL = 1e-10


def _deep_density(atoms, probs, gamma, x):
    """The mpmath oracle at 200 digits (the polynomial's roots at x ~ 1e-100 need them)."""
    import mpmath

    from tests.gmp.conftest import _poly_s

    with mpmath.workdps(200):
        roots = mpmath.polyroots(_poly_s(atoms, probs, gamma, mpmath.mpf(x)), maxsteps=2000,
                                 extraprec=600)
        return float(max(max(mpmath.im(v) for v in roots), 0) / mpmath.pi)


@pytest.mark.parametrize("atoms,probs", DOUBLE_ROOT_LAWS[:4])
def test_double_root_at_zero_gives_touching_bulks(atoms, probs):
    law = GeneralizedMarchenkoPastur(DiscreteLaw(atoms=atoms, probs=probs), 1.0)
    (lo, mid_r), (mid_l, hi) = law.support()
    assert mid_r == 0.0 == mid_l
    assert law.pdf(0.0) == math.inf and np.isinf(law.pdf(np.array([0.0, 1.0])))[0]
    assert law.bulk_masses().sum() == pytest.approx(1.0, abs=1e-14)
    scale = hi - lo
    x = scale * np.array([s * 10.0 ** -k for k in (3, 9, 12, 15, 20, 40, 100) for s in (1, -1)])
    want = np.array([_deep_density(atoms, probs, 1.0, xi) for xi in x])
    np.testing.assert_allclose(law.pdf(x), want, rtol=DOUBLE_ROOT_RTOL)
    for xi, w in zip(x[:4], want[:4], strict=True):                 # single points: the kernels
        assert law.pdf(xi) == pytest.approx(w, rel=DOUBLE_ROOT_RTOL)
    xs = np.sort(x)
    assert np.all(np.diff(law.cdf(xs)) >= -1e-15)                  # monotone up to rounding
    # the rounding split (+-0.875) and the missed root (+-0.125) agree through the scaling law
    c = 0.125 / abs(atoms[-1])
    other = GeneralizedMarchenkoPastur(DiscreteLaw(atoms=[c * a for a in atoms], probs=probs), 1.0)
    np.testing.assert_allclose(c * np.array(law.support()), np.array(other.support()),
                               rtol=1e-14, atol=0)


def test_simple_root_at_zero_is_a_hard_edge(oracle):
    atoms, probs = DOUBLE_ROOT_LAWS[4]
    law = GeneralizedMarchenkoPastur(DiscreteLaw(atoms=atoms, probs=probs), 1.0)
    edges = [e for bulk in law.support() for e in bulk]
    assert edges.count(0.0) == 1 and law.pdf(0.0) == 0.0
    x = np.array([-1e-12, 1e-12, -1e-6, 1e-6])
    want = np.array([oracle.density(atoms, probs, 1.0, xi) for xi in x])
    np.testing.assert_allclose(law.pdf(x), want, rtol=DOUBLE_ROOT_RTOL, atol=0)


@pytest.mark.parametrize("d", [1e-10, -1e-10, 3e-8, -3e-8, 1e-7, -1e-8, 1e-5, -1e-5])
def test_nearly_vanishing_mean_inverse_at_gamma_one(d):
    """E[1/λ] = O(d): the root at t = 0 moves by rounding up to eps/|h'(0)| and a second root lies
    at ≈ −2h'(0)/h''(0); two bulks, exact masses, an edge at 0 (found within the window of the
    double root or as a simple root), no internal error."""
    law = GeneralizedMarchenkoPastur(DiscreteLaw(atoms=[-1.0, 1.0 + d], probs=[0.5, 0.5]), 1.0)
    bulks = law.support()
    assert len(bulks) == 2 and 0.0 in [e for b in bulks for e in b]
    assert law.bulk_masses().sum() == pytest.approx(1.0, abs=1e-14)


def test_window_of_the_double_root_follows_the_local_curvature(oracle):
    """A few large, improbable atoms set the scale; the gap (0, 0.0083) next to the root at 0,
    set by the atoms ±1, 2, is real and must stay (a window in units of the scale closed it)."""
    atoms = [-1e6, -1.0, 2.0, 1e6]
    probs = [2.0 ** -30, 0.5 - 2.0 ** -30, 0.5 - 2.0 ** -30, 2.0 ** -30]
    law = GeneralizedMarchenkoPastur(DiscreteLaw(atoms=atoms, probs=probs), 1.0)
    # the oracle's critical points in s leave out t = 0 (s = ∞), the edge at x = 0 (GMP-5)
    want = [0.0] + [e for e in oracle.edges(atoms, probs, 1.0) if abs(e) < 100]
    got = [e for b in law.support() for e in b if abs(e) < 100]
    np.testing.assert_allclose(sorted(got), sorted(want), rtol=1e-9, atol=1e-12)
    assert law.pdf(0.004) == 0.0


def test_scaled_law_keeps_its_probabilities():
    """``scaled`` maps the atoms and keeps the probabilities bit for bit (renormalising them again
    moves P(λ ≠ 0), and with it the atom at zero of the GMP law, by an ulp)."""
    base = DiscreteLaw([0.0, 0.125, 0.25, 0.375], [0.028571428571428574, 0.14285714285714288,
                                                   0.2571428571428572, 0.5714285714285715])
    for c in (-3.0, 2.0, 0.1):
        scaled = base.scaled(c)
        probs = base.probs if c > 0 else base.probs[::-1]
        assert np.array_equal(scaled.probs, probs)
        assert np.array_equal(scaled.atoms, np.sort(c * base.atoms))
        assert GeneralizedMarchenkoPastur(scaled, 1.0).atom_at_zero == \
            GeneralizedMarchenkoPastur(base, 1.0).atom_at_zero
