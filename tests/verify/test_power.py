"""Power of the verdicts: the MDE formula against simulated tests, and the power self-test.

The MDE of a row (theory/verification.md, VER-12) is the relative error of the theory value that the
row's rule rejects with probability 0.9. Two kinds of evidence that the column is true:

* the formula: simulated experiments whose theory value is wrong by exactly the MDE are rejected in
  90 % of cases (binomial error bars);
* the self-test: the real checks run once; their frozen simulation results are re-judged against
  theory values perturbed by a known relative ε. With ε = 0 every verdict is unchanged; at ε = the
  row's MDE (default suite, tiny sizes) or its target (slow, quick sizes) the rows reject.
"""

import math

import numpy as np
import pytest
from scipy import stats

from rmthess.verify.power import (
    TARGETS,
    effective_dof,
    power_multiplier,
    rejection_probability,
    target,
)
from rmthess.verify.rules import against_prediction, richardson, z_threshold
from rmthess.verify.runner import run_verification

#: experiments per simulated power estimate; binomial se of a 0.9 frequency = √(0.09/n) = 0.006
N_EXPERIMENTS = 2500
#: |frequency − 0.9| ≤ 4 se: false-alarm rate 6e-5 per assertion
FREQ_TOL = 4 * math.sqrt(0.9 * 0.1 / N_EXPERIMENTS)


def test_power_multiplier_gaussian_closed_form():
    # ν = ∞: P(|Z + λ| > k) = Φ(λ − k) + Φ(−λ − k); the second term is < 1e-9 for k = 4
    lam = power_multiplier(4.0, None)
    assert lam == pytest.approx(4.0 + stats.norm.ppf(0.9), abs=1e-8)


@pytest.mark.parametrize("dof", [7, 23, 95])
def test_rejection_probability_is_that_of_the_noncentral_t(dof):
    # independent route: scipy's noncentral t distribution (upper tail; the lower tail P(t < −k) is
    # below 1e-12 at these shifts, where scipy's nct.cdf returns nan)
    k = z_threshold(dof)
    lam = power_multiplier(k, dof)
    assert stats.nct.sf(k, dof, lam) == pytest.approx(0.9, abs=1e-6)
    assert rejection_probability(lam, k, dof) == pytest.approx(0.9, abs=1e-6)  # k rounded to 1e-6


def test_welch_satterthwaite():
    # two errors: ν = (s1² + s2²)² / (s1⁴/ν1 + s2⁴/ν2); exact parts do not count
    assert effective_dof([(1.0, 10), (2.0, 5)]) == pytest.approx(25.0 / (1 / 10 + 16 / 5))
    assert effective_dof([(1.0, 10), (0.0, None)]) == pytest.approx(10.0)
    assert effective_dof([(1.0, None)]) is None


@pytest.mark.parametrize("reps", [8, 24])
def test_a_deviation_of_one_mde_is_rejected_nine_times_in_ten(reps):
    """Rule ``z`` on Gaussian replicates whose theory value is wrong by the MDE at the true se."""
    rng = np.random.default_rng(20 + reps)
    sigma, truth = 0.3, 1.0
    k = z_threshold(reps - 1)
    shift = power_multiplier(k, reps - 1) * sigma / math.sqrt(reps)
    x = truth + sigma * rng.standard_normal((N_EXPERIMENTS, reps))
    rejected = 0
    for row in x:
        r = against_prediction("q", {}, simulation=row.mean(),
                               stderr=row.std(ddof=1) / math.sqrt(reps), prediction=truth + shift,
                               dof=reps - 1)
        rejected += not r.consistent
    assert abs(rejected / N_EXPERIMENTS - 0.9) <= FREQ_TOL


def test_richardson_rows_at_one_mde():
    """Rule ``richardson`` with its geometric remainder: rejection at least 0.9 at one MDE."""
    rng = np.random.default_rng(5)
    reps, sigma, limit, a = 16, 0.2, 1.0, 0.5
    rejected = 0
    for _ in range(N_EXPERIMENTS):
        small = limit + a / 100 + sigma * rng.standard_normal(reps)
        large = limit + a / 200 + sigma * rng.standard_normal(reps)
        args = dict(small=small.mean(), small_se=small.std(ddof=1) / math.sqrt(reps),
                    large=large.mean(), large_se=large.std(ddof=1) / math.sqrt(reps), dof=reps - 1)
        honest = richardson("q", {}, limit=limit, **args)
        # the wrong theory value: shifted by the MDE the row itself reports (at its estimated se)
        rejected += not honest.perturbed(honest.mde).consistent
    # the MDE rests on the estimated se (VER-12): the frequency is 0.9 up to that estimate's spread,
    # which only makes a shift of one MDE easier to detect on average (E[1/ŝ] > 1/σ); the lower
    # bound is the binomial one
    assert rejected / N_EXPERIMENTS >= 0.9 - FREQ_TOL


def test_targets_are_those_of_the_specification():
    assert target("theorem-1", "quick") == 0.01
    assert target("theorem-2", "quick") == 0.05 and target("theorem-2", "full") == 0.01
    assert target("block-moment", "quick") == 0.05
    assert target("decoupling", "quick") == 0.25
    assert target("block-edge", "quick") == 0.02
    assert set(TARGETS) >= {"theorem-1", "theorem-2", "block-moment", "block-edge", "decoupling"}
    with pytest.raises(ValueError, match="families"):
        target("nope", "quick")


def _self_test(rows, eps_of):
    """Re-judge every statistical row at ±ε; return (rows, rejections out of 2·rows)."""
    n = rej = 0
    for r in rows:
        if r.rule not in ("z", "richardson", "tol"):
            continue
        assert r.perturbed(0.0).consistent == r.consistent
        eps = eps_of(r)
        if eps is None:
            continue
        eps = eps * (1 + 1e-9) + 1e-15  # strictly beyond: a deterministic row accepts |ε| = MDE
        plus, minus = r.perturbed(eps), r.perturbed(-eps)
        # deterministic: |x − T ∓ ε·scale| ≤ band in both directions would need ε·scale ≤ band,
        # and band < MDE·scale (λ > k) for every consistent row
        assert not (plus.consistent and minus.consistent), r.quantity
        n += 1
        rej += (not plus.consistent) + (not minus.consistent)
    return n, rej


#: checks whose tiny run takes seconds
CHEAP = ["gmp-law", "linear-ratios", "decoupling", "lindeberg", "anisotropic"]


@pytest.fixture(scope="module")
def tiny():
    return run_verification("tiny", 7, checks=CHEAP)


def test_self_test_at_tiny_sizes(tiny):
    assert not tiny.errors
    n, rej = _self_test(tiny.rows, lambda r: r.mde)
    assert n >= 40
    # each direction rejects with probability ≥ 0.9 and one of the two always does: expected
    # rejections ≥ 0.95·2n; fewer than 0.8·2n has probability < 1e-4 (binomial tail)
    assert rej >= 0.8 * 2 * n


def test_anisotropic_rows_of_the_hidden_layer(tiny):
    # the one-hidden-layer rows of VER-14 (ANI-14): extrapolated in 1/d against the limits, with
    # the theorem-2 target; the mlp-ce limit is an estimate whose standard error is in the band
    rows = {r.parameters["case"]: r for r in tiny.rows
            if r.parameters.get("case") in ("mlp-mse", "mlp-ce")}
    assert set(rows) == {"mlp-mse", "mlp-ce"}
    for r in rows.values():
        assert r.rule == "richardson" and r.target == target("theorem-2", "tiny")
        assert r.prediction is None and r.consistent, r.as_dict()
    assert "Σ" in rows["mlp-mse"].parameters and "prior" in rows["mlp-ce"].parameters
    assert rows["mlp-ce"].theory_se > 0 and rows["mlp-mse"].theory_se == 0


def test_anisotropic_rows_of_the_prior_and_covariance_together(tiny):
    # the joint rows of VER-14 (ANI-15): linear CE with the Zipf prior and the power-law Σ
    # together, 2x_2d − x_d of the class-averaged ratio and class-mean g_ii against the limits of
    # (ANI-13) (exact: no theory standard error), theorem-1 target
    from rmthess.cases import get_case
    from rmthess.gmp.covariance import parse_covariance
    from rmthess.laws.prior import zipf_prior
    from rmthess.verify.checks.anisotropic import SPECTRUM, AnisotropicCheck

    p = AnisotropicCheck.sizes["tiny"]
    rows = [r for r in tiny.rows if "prior" in r.parameters and "Σ" in r.parameters]
    assert len(rows) == 2
    lim = get_case("linear-ce").limits(p["joint_gamma"], p["classes"],
                                       prior=zipf_prior(p["classes"], 1.0),
                                       covariance=parse_covariance(SPECTRUM)).blocks["v"]
    assert [r.limit for r in rows] == pytest.approx([lim.ratio, lim.g_ii], rel=1e-14)
    for r in rows:
        assert r.rule == "richardson" and r.target == target("theorem-1", "tiny")
        assert r.prediction is None and r.theory_se == 0 and r.consistent, r.as_dict()
        assert r.parameters["d"] == f"{p['joint_d']}, {2 * p['joint_d']}"


@pytest.mark.slow
def test_self_test_at_quick_sizes_against_the_targets():
    """The power self-test of VER-12: every row within its target rejects a theory value wrong by
    it."""
    res = run_verification("quick", 0)
    assert not res.errors
    assert all(r.consistent for r in res.rows)
    within = [r for r in res.rows if r.target is not None and r.power_ok]
    n, rej = _self_test(within, lambda r: r.target)
    assert n == len([r for r in within if r.rule in ("z", "richardson", "tol")]) and n >= 20
    assert rej >= 0.8 * 2 * n
