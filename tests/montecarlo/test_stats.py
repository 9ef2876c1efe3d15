"""Ratio of means: the delta-method standard error against the spread over many independent
datasets."""

import math

import numpy as np
import pytest
from scipy.stats import t as student_t

from rmthess.montecarlo.stats import (
    conditional_stderr,
    conditional_z,
    mean_stderr,
    ratio_of_means,
    z_score,
)


def test_delta_method_matches_monte_carlo_spread():
    rng = np.random.default_rng(5)
    R, trials = 40, 4000
    # correlated (num, den) with known means: den ~ 2 + N(0, .3²), num = .5 den + N(0, .1²)
    den = 2.0 + 0.3 * rng.standard_normal((trials, R))
    num = 0.5 * den + 0.1 * rng.standard_normal((trials, R))
    ratios = num.mean(1) / den.mean(1)
    ses = np.array([ratio_of_means(a, b).stderr for a, b in zip(num, den, strict=True)])
    # the spread of ratios over trials is the oracle; its own relative error is ~1/sqrt(2·trials)
    #: 4 standard errors of a standard-deviation estimate from 4000 trials (false alarm 6e-5), plus
    #: O(1/R) delta bias
    tol = 4 / math.sqrt(2 * trials) + 2 / R
    assert np.mean(ses) == pytest.approx(np.std(ratios), rel=tol)
    z = (ratios - 0.5) / ses
    #: coverage of the nominal 95 % interval: 4 binomial standard errors over `trials` (false alarm
    #: 6e-5), plus the
    #: shortfall of a Student-t(R − 1) score (the stderr is itself estimated from R replicates)
    cover_tol = 4 * math.sqrt(0.95 * 0.05 / trials) + (0.95 - (2 * student_t.cdf(1.96, R - 1) - 1))
    assert abs(np.mean(np.abs(z) < 1.96) - 0.95) < cover_tol


def test_edge_cases():
    est = ratio_of_means([1.0], [2.0])
    assert est.ratio == 0.5 and math.isnan(est.stderr)
    assert math.isnan(mean_stderr([3.0])[1])
    with pytest.raises(ValueError):
        ratio_of_means([1.0, 2.0], [1.0])
    assert z_score(1.0, None, 0.1) is None
    assert z_score(0.0, 0.0, 0.0) == 0.0
    assert z_score(1.0, 0.0, 0.0) == math.inf
    assert z_score(1.0, 0.5, 0.3, 0.4) == pytest.approx(1.0)


def test_conditional_z_removes_between_parameter_spread():
    rng = np.random.default_rng(6)
    R = 50
    # per-replicate predictions vary a lot (like V), the residual noise is small
    pd = rng.uniform(1.0, 3.0, R)
    po = 0.2 * pd
    den = pd * (1 + 0.01 * rng.standard_normal(R))
    num = po * (1 + 0.01 * rng.standard_normal(R))
    z = conditional_z(num, den, po, pd)
    assert abs(z) < 4           # conditional z of a correct prediction: false alarm 6e-5
    # a 5 % bias is detected at once
    assert abs(conditional_z(1.05 * num, den, po, pd)) > 10


def test_conditional_stderr_matches_the_spread_over_repetitions():
    """Oracle: the spread of ρ̂ − ρ_p over 4000 independent repetitions of a 200-replicate run whose
    per-replicate predictions follow a large between-replicate spread (like V). The mean reported
    error must match it: the estimate of the spread is good to ≈ 1.1 % (√(1/(2·4000))) and the
    mean error to ≈ 0.1 %, so 4 % is a ≥ 3.5σ band (false alarm < 5e-4). Dropping the ρ_p term of
    the residual misses the denominators' own noise (here half the variance: −29 %), and the plain
    ratio-of-means error carries the between-replicate spread (here 8×)."""
    rng = np.random.default_rng(7)
    R, reps = 200, 4000
    pd = rng.uniform(1.0, 3.0, R)
    po = 0.2 * pd**2
    den = pd * (1.0 + 0.02 * rng.standard_normal((reps, R)))
    num = po * (1.0 + 0.02 * rng.standard_normal((reps, R)))
    rho = num.mean(1) / den.mean(1)
    spread = np.std(rho - po.sum() / pd.sum(), ddof=1)
    se = np.array([conditional_stderr(num[k], den[k], po, pd) for k in range(reps)])
    assert se.mean() == pytest.approx(spread, rel=0.04)
    assert ratio_of_means(num[0], den[0]).stderr > 5 * spread
    assert math.isnan(conditional_stderr(num[0, :1], den[0, :1], po[:1], pd[:1]))
