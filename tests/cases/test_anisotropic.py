"""Linear cases with a data covariance Σ (theory/anisotropic.md, ANI-1–ANI-4)."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from rmthess.cases import get_case
from rmthess.gmp.covariance import covariance_from_atoms, powerlaw_spectrum
from rmthess.integrals import softmax_moments_mp
from rmthess.laws import EmpiricalLaw, PointMass
from rmthess.montecarlo.blocknorms import block_norm_means
from rmthess.montecarlo.stats import ratio_of_means

LINEAR = ("linear-mse", "linear-ce")
TWO_ATOMS = covariance_from_atoms([0.5, 3.0], [0.5, 0.5])          # s1 = 1.75, s2 = 4.625
PARAMS = [(0.5, 2, 1.0), (1.0, 3, 1.0), (2.0, 10, 0.7), (0.3, 1000, 1.3)]


def _identities():
    return [None, PointMass(1.0), covariance_from_atoms([1.0]), EmpiricalLaw(np.ones(7))]


@pytest.mark.parametrize("name", LINEAR)
@pytest.mark.parametrize("gamma,classes,sigma_v", PARAMS)
def test_identity_covariance_reproduces_isotropic(name, gamma, classes, sigma_v):
    # Σ = I (s1 = s2 = 1) must give the isotropic numbers; 1e-14 relative is the requirement
    case = get_case(name)
    ref = case.limits(gamma, classes, sigma_v=sigma_v).blocks["v"]
    ref_as = case.asymptote(gamma, classes, sigma_v=sigma_v)["v"]
    for H in _identities():
        got = case.limits(gamma, classes, sigma_v=sigma_v, covariance=H).blocks["v"]
        for key in ("g_ii", "g_ij", "ratio"):
            assert getattr(got, key) == pytest.approx(getattr(ref, key), rel=1e-14, abs=0.0)
        assert case.asymptote(gamma, classes, sigma_v=sigma_v, covariance=H)["v"] == \
            pytest.approx(ref_as, rel=1e-14, abs=0.0)


@pytest.mark.parametrize("name", LINEAR)
def test_identity_covariance_mp_and_law(name):
    case = get_case(name)
    ref = case.limits_mp(1.0, 3, dps=25).blocks["v"]
    got = case.limits_mp(1.0, 3, dps=25, covariance=PointMass(1.0)).blocks["v"]
    with mpmath.workdps(25):
        for key in ("g_ii", "g_ij", "ratio"):
            assert mpmath.almosteq(getattr(got, key), getattr(ref, key), rel_eps=1e-24)
    a = case.block_law("v", "diag", 1.0, 3).moments(3)
    b = case.block_law("v", "diag", 1.0, 3, covariance=PointMass(1.0)).moments(3)
    np.testing.assert_allclose(b, a, rtol=1e-14)


def test_linear_mse_closed_form_sympy():
    # oracle: E(yᵀΣy)² = (tr Σ)² + 2 tr Σ² (sympy, d = 3), so
    # (1/d) E‖XXᵀ/N‖²_F = [N(N−1) tr Σ² + N E|x|⁴]/(d N²) → s2 + γ s1² as d, N → ∞, d/N = γ
    s = sp.symbols("s1:4", positive=True)
    y = sp.symbols("y1:4")
    q = sum(si * yi ** 2 for si, yi in zip(s, y, strict=True))
    gauss = {4: 3, 2: 1, 0: 1}
    ex = sp.Poly(sp.expand(q ** 2), *y)
    e4 = sum(c * sp.Mul(*[gauss[k] for k in mon]) for mon, c in ex.terms())
    assert sp.simplify(e4 - (sum(s) ** 2 + 2 * sum(si ** 2 for si in s))) == 0
    d, n, gam, s1, s2 = sp.symbols("d N gamma s_1 s_2", positive=True)
    finite = (n * (n - 1) * d * s2 + n * (d ** 2 * s1 ** 2 + 2 * d * s2)) / (d * n ** 2)
    limit = sp.limit(finite.subs(n, d / gam), d, sp.oo)
    case = get_case("linear-mse")
    for H in (TWO_ATOMS, powerlaw_spectrum(1.0, 50.0)):
        h1, h2 = H.moment(1), H.moment(2)
        for g in (0.25, 1.0, 3.0):
            want = float(limit.subs({gam: g, s1: h1, s2: h2}))
            blk = case.limits(g, 5, covariance=H).blocks["v"]
            assert blk.g_ii == pytest.approx(want, rel=1e-14)
            assert blk.g_ij == 0.0 and blk.ratio == 0.0
            # the separable law's second moment (SEP-6, a separate recursion) is the same number
            law = case.block_law("v", "diag", g, 5, covariance=H)
            assert law.moments(2)[1] == pytest.approx(want, rel=1e-13)


@pytest.mark.parametrize("gamma,classes,sigma_v", [(1.0, 3, 1.0), (0.5, 7, 1.2), (2.0, 2, 0.8)])
def test_linear_ce_against_mpmath(gamma, classes, sigma_v):
    # oracle: (ANI-2) evaluated from mpmath softmax moments at σ_v √s1 (30 digits);
    # the float64 softmax integrals are accurate to ~1e-13 relative
    H = TWO_ATOMS
    s1, s2 = H.moment(1), H.moment(2)
    mom = softmax_moments_mp(classes, mpmath.mpf(sigma_v) * mpmath.sqrt(s1), dps=30)
    with mpmath.workdps(30):
        gd = s2 * mom.mean_a ** 2 + gamma * s1 ** 2 * mom.mean_a2
        go = gd if classes == 2 else s2 * mom.mean_b ** 2 + gamma * s1 ** 2 * mom.mean_b2
    blk = get_case("linear-ce").limits(gamma, classes, sigma_v=sigma_v, covariance=H).blocks["v"]
    assert blk.g_ii == pytest.approx(float(gd), rel=1e-12)
    assert blk.g_ij == pytest.approx(float(go), rel=1e-12)
    assert blk.ratio == pytest.approx(float(go / gd), rel=1e-12)
    # the block laws' second moments (separable law, SEP-6) agree with (ANI-2)
    case = get_case("linear-ce")
    m2 = case.block_law("v", "diag", gamma, classes, sigma_v=sigma_v, covariance=H).moments(2)
    assert m2[1] == pytest.approx(float(gd), rel=1e-10)


def _mc_blocks(name, H_atoms, d, reps, classes, sigma_v, seed):
    """Per-replicate (1/d)‖B_ii‖², (1/d)‖B_ij‖² with x = Σ^{1/2} y, Σ diagonal with the atoms of
    H in equal shares, N = d (γ = 1)."""
    case = get_case(name)
    rng = np.random.default_rng(seed)
    root = np.sqrt(np.repeat(H_atoms, d // len(H_atoms)))
    dg, od = [], []
    for _ in range(reps):
        params = case.draw(rng, d, classes, None, sigma_v)
        X = rng.standard_normal((d, d)) * root
        w = case.weights(params, X @ params.first.T)["v"]
        a, b = block_norm_means(X, w)
        dg.append(a / d)
        od.append(b / d)
    return np.array(dg), np.array(od)


def test_linear_mse_monte_carlo_exact_finite_d():
    # (1/d) E‖XXᵀ/N‖² = s2 (1 + 1/N) + (d/N) s1² exactly (Wishart, see the sympy test); the
    # code's limit s2 + γ s1² plus s2/N must match within 4 standard errors (false alarm 6e-5)
    d, reps = 200, 30
    dg, _ = _mc_blocks("linear-mse", [0.5, 3.0], d, reps, 2, 1.0, seed=11)
    g = get_case("linear-mse").limits(1.0, 2, covariance=TWO_ATOMS).blocks["v"].g_ii
    se = dg.std(ddof=1) / math.sqrt(reps)
    assert abs(dg.mean() - (g + TWO_ATOMS.moment(2) / d)) < 4 * se


def test_linear_ce_monte_carlo_two_atoms():
    # Monte Carlo with x = Σ^{1/2} y, Σ = diag(0.5, 3) in equal shares, d = N = 400, C = 3, σ_v = 1:
    # the ratio of means and g_ii within 4 standard errors of (ANI-3) (two-sided false alarm
    # 6e-5 each). The finite-d bias is O(C/d) relative (measured < 0.2 standard errors for the
    # ratio, < 0.5 for g_ii at 40 replicates). Power: the isotropic values (Σ = I) must be
    # rejected, by more than 8 standard errors.
    d, reps, classes = 400, 40, 3
    dg, od = _mc_blocks("linear-ce", [0.5, 3.0], d, reps, classes, 1.0, seed=5)
    case = get_case("linear-ce")
    lim = case.limits(1.0, classes, covariance=TWO_ATOMS).blocks["v"]
    iso = case.limits(1.0, classes).blocks["v"]
    est = ratio_of_means(od, dg)
    assert abs(est.ratio - lim.ratio) < 4 * est.stderr
    assert abs(est.ratio - iso.ratio) > 8 * est.stderr
    se = dg.std(ddof=1) / math.sqrt(reps)
    assert abs(dg.mean() - lim.g_ii) < 4 * se
    assert abs(dg.mean() - iso.g_ii) > 8 * se


def test_effective_parameters():
    # (ANI-3): the ratio is the isotropic ratio at γ s1²/s2, σ_v √s1 — checked on the asymptote
    # against (CASE-5) written out, r0 = (1 + γ e^{2σ²})/(1 + γ e^{σ²})
    s1, s2 = TWO_ATOMS.moment(1), TWO_ATOMS.moment(2)
    ge, se2 = 0.7 * s1 ** 2 / s2, 1.1 ** 2 * s1
    r0 = (1 + ge * math.exp(2 * se2)) / (1 + ge * math.exp(se2))
    got = get_case("linear-ce").asymptote(0.7, 1000, sigma_v=1.1, covariance=TWO_ATOMS)["v"]
    assert got == pytest.approx(r0 / 1000 ** 2, rel=1e-14)


@pytest.mark.parametrize("name", LINEAR)
def test_bad_covariance(name):
    case = get_case(name)
    with pytest.raises(ValueError, match="positive"):
        case.limits(1.0, 3, covariance=PointMass(-1.0))
    with pytest.raises(ValueError, match="WeightLaw"):
        case.limits(1.0, 3, covariance=[1.0, 2.0])
    with pytest.raises(ValueError, match="positive"):
        case.asymptote(1.0, 3, covariance=PointMass(0.0))


@pytest.mark.parametrize("which,ij", [("diag", (0, 0)), ("offdiag", (0, 1))])
def test_block_law_moments_monte_carlo(which, ij):
    # (ANI-4): the block's spectral law is the separable law of the softmax weight law at
    # σ_v √s1 and H. Its first three moments (SEP-6) against (1/d) tr Bᵏ of simulated blocks
    # (x = Σ^{1/2} y, d = N = 200, 12 replicates) within 4 standard errors each (6 comparisons,
    # false alarm < 4e-4; the finite-d bias, O(C/d) relative, measured below 1.5 standard errors
    # at d = 300). Power: the third moment of the isotropic law is rejected.
    from rmthess.montecarlo.blocknorms import block_matrix

    case = get_case("linear-ce")
    d, reps, classes = 200, 12, 3
    law = case.block_law("v", which, 1.0, classes, covariance=TWO_ATOMS)
    want = law.moments(3)
    iso = case.block_law("v", which, 1.0, classes).moments(3)
    rng = np.random.default_rng(21)
    root = np.sqrt(np.repeat([0.5, 3.0], d // 2))
    vals = []
    for _ in range(reps):
        params = case.draw(rng, d, classes, None, 1.0)
        X = rng.standard_normal((d, d)) * root
        w = case.weights(params, X @ params.first.T)["v"]
        ev = np.linalg.eigvalsh(block_matrix(X, w, *ij))
        vals.append([ev.mean(), (ev ** 2).mean(), (ev ** 3).mean()])
    vals = np.array(vals)
    mean, se = vals.mean(0), vals.std(0, ddof=1) / math.sqrt(reps)
    assert np.all(np.abs(mean - want) < 4 * se), (mean, se, want)
    assert abs(mean[2] - iso[2]) > 8 * se[2]
