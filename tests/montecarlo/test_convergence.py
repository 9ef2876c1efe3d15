"""Linear CE over γ ∈ {0.25, 1, 4}, C ∈ {3, 10, 100}, d up to 2000 (slow; a small version is in
test_simulate.py): the simulated ratio agrees with the finite-size prediction, and approaches the
limit at the predicted rate ``ratio − limit ≈ b/d``."""

import pytest
from scipy.stats import t as student_t

from rmthess.montecarlo import simulate

#: two-sided tail probability of 3 standard errors of a normal; with R replicates the standard error
#: is itself estimated from R − 1 degrees of freedom, so the bound is the Student-t quantile
P_3SIGMA = 0.0027


def z_max(reps):
    return float(student_t.ppf(1 - P_3SIGMA / 2, reps - 1))
#: d·(prediction − limit) is constant up to the next order, which is relatively O(C/d) (measured:
#: b(500)/b(2000) ≈ 0.5 at C = 100); allowed: 25 % + 3C/500 relative, plus 3 Monte Carlo errors of
#: the predictions themselves
RATE_RTOL = 0.25

GRID = [(g, c) for g in (0.25, 1.0, 4.0) for c in (3, 10, 100)]


@pytest.mark.slow
@pytest.mark.parametrize("gamma, classes", GRID)
def test_linear_ce_grid(gamma, classes):
    results = {}
    for d, reps in ((500, 24), (2000, 8)):
        res = simulate("linear-ce", d=d, gamma=gamma, classes=classes, reps=reps, rng=2000 + d)
        b = res.blocks["v"]
        assert abs(b.z_prediction) < z_max(reps), str(res)
        results[d] = b
    # the predicted rate: d·(prediction − limit) → b, the same at both d
    b500 = 500 * (results[500].prediction - results[500].limit)
    b2000 = 2000 * (results[2000].prediction - results[2000].limit)
    noise = 3 * ((500 * results[500].prediction_stderr) ** 2
                 + (2000 * results[2000].prediction_stderr) ** 2) ** 0.5
    assert abs(b500 - b2000) <= (RATE_RTOL + 3 * classes / 500) * abs(b2000) + noise
    assert b500 * b2000 > 0           # the bias has one sign: the limit is approached from one side
    # and the simulations approach the limit: the deviation shrinks with d
    dev500 = abs(results[500].ratio - results[500].limit)
    dev2000 = abs(results[2000].ratio - results[2000].limit)
    assert dev2000 < dev500 + z_max(8) * results[2000].stderr


@pytest.mark.slow
@pytest.mark.parametrize("case", ["mlp-mse", "mlp-ce"])
def test_mlp_hidden_and_output_match_per_v_prediction(case):
    reps = 16
    res = simulate(case, d=400, gamma=1.0, classes=10, m=4, reps=reps, rng=31)
    for block in ("hidden", "output"):
        b = res.blocks[block]
        if b.offdiag == 0.0:          # MSE output blocks: exactly block diagonal
            continue
        assert abs(b.z_prediction) < z_max(reps), str(res)
