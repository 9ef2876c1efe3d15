"""The γ-term of the mlp-ce hidden blocks by quadrature (CASE-19) against independent routes."""

import math

import numpy as np
import pytest

from rmthess.cases._mlp_ce_gamma import gamma_term
from tests._two_class import two_class_moments

#: plain Monte Carlo with K_SIGMA standard errors: two-sided false alarm ≈ 7e-6 per comparison
K_SIGMA = 4.5
#: two resolutions of the |s| rule agree to this (measured ≤ 3e-10 at 24/36 nodes)
RTOL_RESOLUTION = 1e-8


def _conditional(u, x, tau):
    """Per draw of (u, ζ_·1 = x): the (CASE-19) formulas averaged over i and over pairs i ≠ j."""
    m = u.shape[1]
    s = np.maximum(u, 0.0)
    ns = np.linalg.norm(s, axis=1)
    sh = np.divide(s, ns[:, None], out=np.zeros_like(s), where=ns[:, None] > 0)
    z = math.sqrt(tau) * ns[:, None] * x
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    xb = (p * x).sum(1)
    n = (p * x * x).sum(1) - xb ** 2
    trq = 1.0 - (p * p).sum(1)
    mm = (p * p * (x - xb[:, None]) ** 2).sum(1)
    sp2 = (p * p).sum(1)
    trq2 = sp2 - 2.0 * (p ** 3).sum(1) + sp2 ** 2
    diag = np.zeros(len(u))
    off = np.zeros(len(u))
    for i in range(m):
        a2 = sh[:, i] ** 2
        diag += (s[:, i] > 0) * ((a2 * n + (1 - a2) * trq) ** 2 + 4 * a2 * (1 - a2) * mm
                                 + 2 * (1 - a2) ** 2 * trq2)
        for j in range(m):
            if j != i:
                b2 = sh[:, j] ** 2
                off += (s[:, i] > 0) * (s[:, j] > 0) * (
                    a2 * b2 * (n - trq) ** 2 + (a2 + b2 - 4 * a2 * b2) * mm
                    + (1 - a2 - b2 + 2 * a2 * b2) * trq2)
    return tau * tau * diag / m, tau * tau * off / (m * (m - 1))


@pytest.mark.parametrize("C, m, sigma_v", [(10, 8, 1.0), (3, 3, 1.0), (5, 4, 0.6), (2, 2, 0.8)])
def test_against_monte_carlo_of_the_conditional_expectation(C, m, sigma_v):
    """The average over s and the power-sum quadrature against sampling u and ζ_·1 in the
    (CASE-19) formulas; and the two resolutions of the |s| rule."""
    d, o, err = gamma_term(C, m, sigma_v)
    assert err <= RTOL_RESOLUTION
    n = 1 << 17
    rng = np.random.default_rng(C * 100 + m)
    diag, off = _conditional(rng.standard_normal((n, m)), rng.standard_normal((n, C)),
                             sigma_v ** 2 / m)
    for x, val in ((diag, d), (off, o)):
        assert abs(x.mean() - val) <= K_SIGMA * x.std(ddof=1) / math.sqrt(n)


def test_against_brute_force_over_V():
    """Fresh V ~ N(0, τ), u ~ N(0, I): E a_ij² = E κ_ij² 1(u_i>0)1(u_j>0) sampled directly."""
    C, m, tau = 4, 3, 1.0 / 3.0
    rng = np.random.default_rng(3)
    n = 200_000
    V = math.sqrt(tau) * rng.standard_normal((n, C, m))
    u = rng.standard_normal((n, m))
    s = np.maximum(u, 0)
    z = np.einsum("ncm,nm->nc", V, s)
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    mu = np.einsum("nc,ncm->nm", p, V)
    D = V - mu[:, None, :]
    kap = np.einsum("nc,nci,ncj->nij", p, D, D)
    pos = (u > 0).astype(float)
    a2 = kap ** 2 * pos[:, :, None] * pos[:, None, :]
    diag = np.mean([a2[:, i, i] for i in range(m)], axis=0)
    off = np.mean([a2[:, i, j] for i in range(m) for j in range(m) if i != j], axis=0)
    d, o, _ = gamma_term(C, m, 1.0)
    for x, val in ((diag, d), (off, o)):
        assert abs(x.mean() - val) <= K_SIGMA * x.std(ddof=1) / math.sqrt(n)


def test_uniform_limit_of_small_sigma():
    """σ_v → 0: p → uniform, so E a_ij² → E(κ⁰_ij)²/4 = τ²(C − 1)/(4C²) and
    E a_ii² → τ²(C² − 1)/(2C²) (CASE-18); the O(σ_v²) relative correction bounds the tolerance."""
    C, m, sv = 6, 4, 1e-3
    tau = sv * sv / m
    d, o, _ = gamma_term(C, m, sv)
    assert d == pytest.approx(tau ** 2 * (C * C - 1) / (2 * C * C), rel=1e-4)
    assert o == pytest.approx(tau ** 2 * (C - 1) / (4 * C * C), rel=1e-4)


def _two_class_oracle(m, sigma_v):
    """C = 2 by an independent route: the expectations as 1-D integrals over d
    (tests/_two_class.py), and scipy's adaptive quad over |s| on [0, √m + 10] with the χ_k mixture
    of (CASE-19)."""
    from scipy.integrate import quad

    tau = sigma_v * sigma_v / m

    def integrand(r, which):
        F1, F2, F3, G1, G2, G3 = two_class_moments(math.sqrt(tau) * r)
        out = 0.0
        for k in range(1, m + 1):
            dens = (r ** (k - 1) * math.exp(-0.5 * r * r)
                    / (2.0 ** (0.5 * k - 1) * math.gamma(0.5 * k)))
            a2, a4 = 1.0 / k, 3.0 / (k * (k + 2.0))
            if which == 0:
                out += math.comb(m - 1, k - 1) / 2.0 ** m * dens * (
                    a4 * G1 + 2 * (a2 - a4) * G2 + (1 - 2 * a2 + a4) * G3 + 4 * (a2 - a4) * F2
                    + 2 * (1 - 2 * a2 + a4) * F3)
            elif k >= 2:
                out += math.comb(m - 2, k - 2) / 2.0 ** m * dens * (
                    a4 / 3 * F1 + (2 * a2 - 4 * a4 / 3) * F2 + (1 - 2 * a2 + 2 * a4 / 3) * F3)
        return out

    R = math.sqrt(m) + 10.0
    return [tau * tau * quad(integrand, 0.0, R, args=(which,), epsabs=0.0, epsrel=1e-11,
                             limit=400)[0] for which in (0, 1)]


@pytest.mark.parametrize("C, m, sigma_v", [
    pytest.param(C, 3, sv, marks=pytest.mark.slow)
    for C in (3, 100, 100_000) for sv in (3.0, 8.0, 15.0)
])
def test_large_sigma_against_monte_carlo(C, m, sigma_v):
    """σ_v up to 15 and C up to 1e5 against plain Monte Carlo of the (CASE-16) conditional
    expectation (K_SIGMA standard errors: false alarm ≈ 7e-6 per comparison); the draws are chunked
    so that C = 1e5 stays within memory."""
    d, o, _ = gamma_term(C, m, sigma_v)
    n = 4000 if C > 1000 else 1 << 18
    chunk = max(1, min(n, 2_000_000 // C))
    rng = np.random.default_rng(C + int(sigma_v))
    parts = [_conditional(rng.standard_normal((min(chunk, n - s), m)),
                          rng.standard_normal((min(chunk, n - s), C)), sigma_v ** 2 / m)
             for s in range(0, n, chunk)]
    for x, val in ((np.concatenate([p[0] for p in parts]), d),
                   (np.concatenate([p[1] for p in parts]), o)):
        assert abs(x.mean() - val) <= K_SIGMA * x.std(ddof=1) / math.sqrt(n)


@pytest.mark.parametrize("m, sigma_v", [
    (2, 3.0),
    pytest.param(3, 8.0, marks=pytest.mark.slow),
    pytest.param(2, 15.0, marks=pytest.mark.slow),
    pytest.param(5, 15.0, marks=pytest.mark.slow),
])
def test_two_classes_against_one_dimensional_quadrature(m, sigma_v):
    """Large σ_v, where the power sums reach σ = σ_v(√m + 7)/√m (up to 89): the γ-terms agree with
    the independent C = 2 route to the stated 1e-8 (the oracle itself is good to ~1e-12)."""
    d, o, err = gamma_term(2, m, sigma_v)
    assert err <= 1e-8
    ref = _two_class_oracle(m, sigma_v)
    # the quadrature's stated tolerance (GAMMA_TERM_RTOL; measured agreement ~1e-12)
    assert d == pytest.approx(ref[0], rel=1e-8)
    assert o == pytest.approx(ref[1], rel=1e-8)


def test_max_time_refuses_before_any_power_sum(monkeypatch):
    """A budget below the cost estimate: ValueError naming the parameters, and no power sum
    computed (the estimate needs only the grid windows)."""
    from rmthess.cases import _mlp_ce_gamma, get_case

    def forbidden(*args, **kwargs):
        raise AssertionError("a power sum was computed before the refusal")

    monkeypatch.setattr(_mlp_ce_gamma, "powersum_expectations", forbidden)
    monkeypatch.setattr(_mlp_ce_gamma, "_CACHE", {})
    assert _mlp_ce_gamma.gamma_cost(3, 3, 15.0) > 0.5
    with pytest.raises(ValueError, match=r"C=3, m=3, sigma_v=15 .*max_time=0\.5"):
        get_case("mlp-ce").limits(1.0, 3, m=3, sigma_v=15.0, max_time=0.5, rng=0)


def test_max_time_stops_a_running_quadrature(monkeypatch):
    """With the estimate passed (forced to 0), the time limit is still checked during the work."""
    from rmthess.cases import _mlp_ce_gamma

    monkeypatch.setattr(_mlp_ce_gamma, "gamma_cost", lambda *a: 0.0)
    monkeypatch.setattr(_mlp_ce_gamma, "_CACHE", {})
    with pytest.raises(ValueError, match="ran past max_time"):
        gamma_term(3, 3, 2.0, max_time=1e-9)


def test_cost_estimate_grows_slowly_with_sigma():
    """The cost is bounded over the declared σ_v domain: from σ_v = 1 to 15 the estimate grows by
    less than 30× at C = 3 and C = 1e6 (the table sizes grow like σ, the panels like log σ_v; the
    former grids grew like σ⁴)."""
    from rmthess.cases._mlp_ce_gamma import gamma_cost

    for C in (3, 10 ** 6):
        assert gamma_cost(C, 2, 15.0) < 30.0 * gamma_cost(C, 2, 1.0)


@pytest.mark.parametrize("m", [2, 7, 300, 2048])
def test_radial_weights_against_mpmath(m):
    """The χ_k densities times the binomial weights of (CASE-19) in logarithms, against the
    same sums in 30-digit mpmath with exact binomials and 2^m (which overflow float64 from
    m = 1024 on): ≤ 1e-12 relative to each row's largest entry (rounding of the logarithms
    of order m)."""
    import mpmath as mp

    from rmthess.cases._mlp_ce_gamma import _weights

    with mp.workdps(30):
        for r in (0.5, math.sqrt(m), 2.0 * math.sqrt(m)):
            want = np.zeros((2, 6))
            for k in range(1, m + 1):
                dens = (mp.mpf(r) ** (k - 1) * mp.e ** (-mp.mpf(r) ** 2 / 2)
                        / (mp.mpf(2) ** (mp.mpf(k) / 2 - 1) * mp.gamma(mp.mpf(k) / 2))
                        / mp.mpf(2) ** m)
                a2, a4, a2b2 = 1.0 / k, 3.0 / (k * (k + 2.0)), 1.0 / (k * (k + 2.0))
                wd = float(dens * mp.binomial(m - 1, k - 1))
                want[0] += wd * np.array([0.0, 4.0 * (a2 - a4), 2.0 * (1.0 - 2.0 * a2 + a4), a4,
                                          2.0 * (a2 - a4), 1.0 - 2.0 * a2 + a4])
                if k >= 2:
                    wo = float(dens * mp.binomial(m - 2, k - 2))
                    want[1] += wo * np.array([a2b2, 2.0 * a2 - 4.0 * a2b2,
                                              1.0 - 2.0 * a2 + 2.0 * a2b2, 0.0, 0.0, 0.0])
            got = _weights(m, r)
            for row in range(2):
                np.testing.assert_allclose(got[row], want[row], rtol=0,
                                           atol=1e-12 * np.abs(want[row]).max())
