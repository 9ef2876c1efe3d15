"""Monte Carlo of a class prior and a data covariance together: ``x = Σ^{1/2} y`` and the logits
``V x + log π`` (theory/anisotropic.md, ANI-15; the limits ANI-13)."""

import math

import numpy as np
import pytest

from rmthess.cases import get_case
from rmthess.gmp.covariance import covariance_from_atoms, powerlaw_spectrum, spectrum_values
from rmthess.laws.prior import zipf_prior
from rmthess.montecarlo import simulate
from rmthess.montecarlo.designs import get_design
from rmthess.montecarlo.finite_size import predict_norms
from rmthess.montecarlo.simulation import draw_replicate
from tests._mc import monte_carlo, z_threshold
from tests.montecarlo.test_anisotropic_mc import HEAT_C, _decoupled_oracle, _remainder

#: stated false-alarm rate of each Monte Carlo check below
ALPHA = 1e-3
TWO_ATOMS = covariance_from_atoms([0.5, 3.0])      # s1 = 1.75, s2/s1² = 1.51
POWERLAW = powerlaw_spectrum(1.0, 20.0)            # s1 = 1, s2/s1² = 2.0


def _joint(case="linear-ce", classes=3, exponent=1.0, covariance=TWO_ATOMS):
    prior = zipf_prior(classes, exponent)
    return prior, get_case(case).with_data(covariance=covariance, prior=prior)


# ---------------------------------------------------------------- the draws
def _softmax_mean(offset, cov, nodes=24):
    """``E softmax(b + L g)``, ``g ~ N(0, I_C)``, ``L Lᵀ = cov``, by the tensor Gauss–Hermite rule
    with ``nodes`` points per axis (C = 3: the integrand is analytic, the rule exact to ~1e-12 at
    the logit scales of these draws)."""
    x, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / w.sum()
    C = offset.size
    grid = np.stack(np.meshgrid(*([x] * C), indexing="ij"), -1).reshape(-1, C)
    weight = np.prod(np.stack(np.meshgrid(*([w] * C), indexing="ij"), -1).reshape(-1, C), axis=1)
    z = grid @ np.linalg.cholesky(cov).T + offset
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    return weight @ p


@monte_carlo(alpha=ALPHA, seed=71, params={d: dict(design=d) for d in ("coupled", "sharp")})
def check_joint_draws(seed, design):
    # the joint design draws x = Σ^{1/2} y and offsets the logits, both at once: (i) the sample
    # variance of each coordinate of both data matrices is σ_i within √(2/n)·σ_i (d = 6, 12
    # comparisons); (ii) given each replicate's V the logits are N(log π, V Σ Vᵀ) exactly, so the
    # sample mean of p = softmax(V x + log π) over the N samples minus its exact conditional mean
    # (Gauss–Hermite) has mean 0 over replicates: C = 3 comparisons, standard error from the
    # spread over 400 replicates; 15 comparisons in all at the rate ALPHA
    prior, model = _joint()
    d, n, reps = 6, 50, 400
    scale = model.data_scale(d)
    rng = np.random.default_rng(seed)
    xm, xw, diff = [], [], []
    for _ in range(reps):
        params, Xm, Xw = draw_replicate(model, get_design(design), rng, d=d, n_samples=n,
                                        classes=3, m=None, sigma_v=1.0, scale=scale)
        xm.append(Xm)
        xw.append(Xw)
        U = Xw @ params.first.T
        p = model.weights(params, U)["v"].alpha
        z = U + np.log(prior)
        direct = np.exp(z - z.max(1, keepdims=True))
        np.testing.assert_allclose(p, direct / direct.sum(1, keepdims=True), rtol=1e-13)
        cov = (params.first * scale**2) @ params.first.T            # V Σ Vᵀ
        diff.append(p.mean(0) - _softmax_mean(np.log(prior), cov))
    k = z_threshold(ALPHA, comparisons=15)
    for X in (np.vstack(xm), np.vstack(xw)):
        var = np.mean(X * X, axis=0)
        assert np.all(np.abs(var - scale**2) <= k * math.sqrt(2.0 / X.shape[0]) * scale**2), var
    diff = np.asarray(diff)
    se = diff.std(axis=0, ddof=1) / math.sqrt(reps)
    k = z_threshold(ALPHA, dof=reps - 1, comparisons=15)
    assert np.all(np.abs(diff.mean(0)) <= k * se), (diff.mean(0), se)


@pytest.mark.parametrize("design", ["coupled", "sharp"])
def test_joint_draws(design):
    check_joint_draws(71, design)


def test_joint_draws_compose_the_single_ones():
    # with both, the draws are those of the covariance alone (the same V and y, x = Σ^{1/2} y) and
    # the offsets those of the prior alone: the joint design is the composition, no other path
    prior, joint = _joint(classes=4)
    kw = dict(d=10, n_samples=7, classes=4, m=None, sigma_v=1.0)
    scale = joint.data_scale(10)
    p0, _, X0 = draw_replicate(get_case("linear-ce").with_data(covariance=TWO_ATOMS),
                               get_design("coupled"), np.random.default_rng(3), scale=scale, **kw)
    p1, _, X1 = draw_replicate(joint, get_design("coupled"), np.random.default_rng(3),
                               scale=scale, **kw)
    np.testing.assert_array_equal(p1.first, p0.first)
    np.testing.assert_array_equal(X1, X0)
    np.testing.assert_array_equal(p1.offset, np.log(prior))
    assert p0.offset is None


# ---------------------------------------------------------------- the prediction (ANI-15)
@monte_carlo(alpha=ALPHA, seed=81)
def check_joint_prediction_against_exact_decoupled(seed):
    # (ANI-15) at t = 0, C = 2, against the exact finite-d expectation of the decoupled design
    # with the offset: λ = a(u + δ), δ = log(π₁/π₂), u ~ N(0, v) given V (an independent route, no
    # heat expansion, no projections). Both class columns are the same weight p₁p₂. Measured
    # relative error at d = 40 (d = 20): −0.08 % (−0.21 %) for π = (0.8, 0.2) and the atoms
    # (0.25, 4), +0.30 % (+1.15 %) for π = (0.95, 0.05) and (0.1, 4): O(d⁻²), at most about
    # 2.5·(s₂/s₁²)/d², within the bound HEAT_C·(s₂/s₁²)/d² of ANI-12; the value without the
    # offsets is 0.11 against 0.25 and 0.25 against 0.11. Two comparisons (the class columns
    # equal the mean by construction)
    d = 40
    rng = np.random.default_rng(seed)
    k = z_threshold(ALPHA, comparisons=2)
    for prior, atoms in (([0.8, 0.2], [0.25, 4.0]), ([0.95, 0.05], [0.1, 4.0])):
        model = get_case("linear-ce").with_data(prior=np.asarray(prior))
        sp = spectrum_values(covariance_from_atoms(atoms), d)
        want, se = _decoupled_oracle(sp, d, d, rng, offset=math.log(prior[0] / prior[1]))
        p = predict_norms(model, "v", d=d, n_samples=d, classes=2, t=0.0, spectrum=sp,
                          seed=int(rng.integers(2**32)))
        bound = HEAT_C * np.mean(sp**2) / np.mean(sp) ** 2 / d**2 * want
        assert abs(p.diag - want) <= k * math.hypot(se, p.diag_stderr) + bound, \
            (prior, atoms, p.diag, want)
        np.testing.assert_allclose(p.diag_columns, p.diag, rtol=1e-12)


def test_joint_prediction_against_exact_decoupled():
    check_joint_prediction_against_exact_decoupled(81)


@monte_carlo(alpha=ALPHA, seed=0)
def check_joint_prediction_tends_to_the_limits(seed):
    # (ANI-15) at d = 10⁸ with the moments of H: every class column tends to the per-class limit
    # of (ANI-13) and the class averages to theirs, up to O(1/d) ≈ 1e-8 relative; with offsets
    # the moments E λ, E λ² are the prediction's own randomized QMC estimates (no exact
    # identical-class moments, ANI-11), so each comparison is within the Student-t band of the
    # prediction's standard error (8 batches) plus 1e-6 relative: 2 spectra × (6 + 2)
    # comparisons at the rate ALPHA. The per-class limits with the prior alone are ≥ 10 % away
    ce = get_case("linear-ce")
    k = z_threshold(ALPHA, dof=7, comparisons=16)
    for j, H in enumerate((TWO_ATOMS, POWERLAW)):
        prior, model = _joint(classes=6, covariance=H)
        cl = ce.class_limits(0.5, prior, covariance=H)
        lim = ce.limits(0.5, 6, prior=prior, covariance=H).blocks["v"]
        p = predict_norms(model, "v", d=10**8, n_samples=2 * 10**8, classes=6, samples=2**15,
                          batches=8, seed=[seed, j], spectrum=H)
        for got, se, want in ((p.diag_columns, p.diag_columns_stderr, cl["g_ii"]),
                              (p.diag, p.diag_stderr, lim.g_ii),
                              (p.ratio, p.ratio_stderr, lim.ratio)):
            assert np.all(np.abs(got - want) <= k * se + 1e-6 * np.abs(want)), (got, se, want)
        alone = ce.class_limits(0.5, prior)["g_ii"]
        assert np.all(np.abs(alone / cl["g_ii"] - 1) > 0.1)


def test_joint_prediction_tends_to_the_limits():
    check_joint_prediction_tends_to_the_limits(0)


#: C = 6 classes, Zipf S = 1, γ = 1, 300 replicates at d = 60 and 120
JOINT = {"two-atoms": dict(H=TWO_ATOMS), "powerlaw": dict(H=POWERLAW)}


@monte_carlo(alpha=ALPHA, seed=91, params=JOINT)
def check_joint_prediction_and_limits(seed, H):
    # simulate() with the prior and Σ together: at d = 120 the class-averaged ratio and the six
    # per-class norms against the joint prediction (ANI-15), within the Student-t band plus the
    # O(d⁻²) bound of ANI-12; 2x(120) − x(60) of the same against the limits of (ANI-13) (the
    # limit attached by simulate, the per-class g_ii(c) of class_limits(…, covariance=)), within
    # the band plus the remainder of VER-3 plus the d⁻² term r/d² of x(60), which the
    # extrapolation leaves as −r/(2d²): bounded by the ANI-12 bound at d = 60 (the most frequent
    # class is high by +0.74 ± 0.28 % at d = 60, about 2.2·C(s₂/s₁²)/d², and within its standard
    # error at d = 120 and 240: 3000 replicates, power law); 14 comparisons at the rate ALPHA
    C, reps = 6, 300
    prior = zipf_prior(C, 1.0)
    small, large = (simulate("linear-ce", d=d, gamma=1.0, classes=C, reps=reps, rng=[seed, d],
                             prior=prior, covariance=H, predictions=d == 120) for d in (60, 120))
    cl = get_case("linear-ce").class_limits(1.0, prior, covariance=H)
    lim = get_case("linear-ce").limits(1.0, C, prior=prior, covariance=H).blocks["v"]
    assert large.blocks["v"].limit == pytest.approx(lim.ratio, rel=1e-14)
    np.testing.assert_allclose(large.class_diag["v"]["limit"], cl["g_ii"], rtol=1e-14)
    sp = spectrum_values(H, 120)
    k = z_threshold(ALPHA, dof=reps - 1, comparisons=14)
    b, per = large.blocks["v"], large.class_diag["v"]
    assert abs(b.ratio - b.prediction) <= k * math.hypot(b.stderr, b.prediction_stderr) \
        + _remainder(b.prediction, 120, C, sp), (b.ratio, b.prediction)
    se = np.hypot(per["stderr"], per["prediction_stderr"])
    assert np.all(np.abs(per["mean"] - per["prediction"])
                  <= k * se + _remainder(per["prediction"], 120, C, sp)), per
    for x_d, se_d, x_2d, se_2d, L in (
            (small.blocks["v"].ratio, small.blocks["v"].stderr, b.ratio, b.stderr, lim.ratio),
            *zip(small.class_diag["v"]["mean"], small.class_diag["v"]["stderr"], per["mean"],
                 per["stderr"], cl["g_ii"], strict=True)):
        ext, ext_se = 2 * x_2d - x_d, math.hypot(2 * se_2d, se_d)
        assert abs(ext - L) <= k * ext_se + 2 * (x_d - x_2d) ** 2 / abs(L) \
            + _remainder(L, 60, C, spectrum_values(H, 60)), (ext, L)


@pytest.mark.parametrize("key", [pytest.param("two-atoms"),
                                 pytest.param("powerlaw", marks=pytest.mark.slow)])
def test_joint_prediction_and_limits(key):
    check_joint_prediction_and_limits(91, **JOINT[key])
