"""Block ratios of exact Hessians at initialization against the limits of rmthess.cases."""

import numpy as np
import pytest
from scipy import stats

from rmthess.networks import case_name, init_ratio_sweep
from tests._mc import monte_carlo

# Monte Carlo over replicates: Z_MC standard errors
Z_MC = 4.0


def _allowed(sweep, t, rel_bias):
    """Z_MC standard errors (exact Hessians and Monte Carlo limits) plus a finite-size bias.

    The weights of the d×d blocks depend on x through a rank-C (linear) or rank-m projection, which
    moves (1/d)‖B‖²_F by O(C/d) relative (THEORY §6: about +1.8/d for C = 10, γ = 1).
    """
    return Z_MC * sweep.stderr[t] + rel_bias * np.abs(sweep.limit[t])


#: replicates of the linear-CE check; its standard error has LINEAR_REPS − 1 degrees of freedom, so
#: the threshold is the Student-t quantile with the two-sided tail of Z_MC normal standard errors
LINEAR_REPS = 8


#: stated false-alarm rate: two classes compared, each at the two-sided tail of Z_MC normal errors
ALPHA_LINEAR = 2 * 2 * stats.norm.sf(Z_MC)


@monte_carlo(alpha=ALPHA_LINEAR, seed=1)
def check_linear_ce_ratio(seed):
    """The core comparison of the test below at one seed (exact Hessians and prediction)."""
    from rmthess.montecarlo.finite_size import predict_norms

    d, gamma, classes = 100, 1.0, [3, 10]
    sw = init_ratio_sweep(classes, dim=d, gamma=gamma, loss="ce", reps=LINEAR_REPS, rng=seed)
    k = stats.t.isf(stats.norm.sf(Z_MC), LINEAR_REPS - 1)
    for i, c in enumerate(classes):
        pred = predict_norms("linear-ce", "v", d=d, n_samples=sw.n_samples, classes=c, seed=3)
        pred_se = pred.ratio * np.hypot(pred.offdiag_stderr / pred.offdiag,
                                        pred.diag_stderr / pred.diag)
        assert abs(sw.ratio["v"][i] - pred.ratio) <= k * np.hypot(sw.stderr["v"][i], pred_se)
    return sw


def test_linear_ce_ratio_matches_finite_size_prediction_as_c_grows():
    """Exact Hessians (this package's networks) against the Gram-matrix engine's finite-size
    prediction.

    The prediction of ``rmthess.montecarlo.finite_size`` (THEORY §6) shares no code with the exact
    Hessians; at d = N = 100 it lies about 2% above the d → ∞ limit at C = 10 (some 1.7 standard
    errors of the exact-Hessian mean here), so the comparison is made with the prediction, not the
    limit.
    """
    sw = check_linear_ce_ratio(1)
    assert sw.ratio["v"][1] < 0.2 * sw.ratio["v"][0]  # O(1/C²) decay


def test_two_classes_and_mse_exact():
    sw = init_ratio_sweep([2], dim=10, gamma=0.5, loss="ce", rng=0, with_limits=False)
    assert sw.ratio["v"][0] == pytest.approx(1.0, rel=1e-12)  # H_12 = −H_11 for C = 2
    sw = init_ratio_sweep([3], dim=10, gamma=0.5, loss="mse", width=3, rng=0, with_limits=False)
    assert sw.ratio["output"][0] == 0.0  # MSE: off-diagonal output blocks vanish
    assert case_name("mse", 3) == "mlp-mse"
    with pytest.raises(ValueError, match="loss"):
        case_name("hinge", None)
    with pytest.raises(ValueError):
        init_ratio_sweep([1], dim=10, gamma=1.0)


@pytest.mark.slow
@pytest.mark.parametrize("loss", ["ce", "mse"])
def test_mlp_ratios_follow_limits(loss):
    d = 200
    sw = init_ratio_sweep([5, 20], dim=d, gamma=0.5, width=4, loss=loss, reps=16, rng=2)
    for t in ("hidden", "output"):
        assert np.all(np.abs(sw.ratio[t] - sw.limit[t]) <= _allowed(sw, t, 4 / d + 0.05))


def test_sweep_limits_at_a_named_initialization():
    """torch-default V is uniform: the mlp-mse limit is (1+4γ)/(4(1+2γ)(C − 1 + 9/5)) (CASE-21)."""
    sw = init_ratio_sweep([2, 5], dim=12, gamma=1.0, width=3, loss="mse", rng=0,
                          init="torch-default")
    np.testing.assert_allclose(sw.limit["hidden"], [5 / (12 * (C - 1 + 1.8)) for C in (2, 5)],
                               rtol=1e-14)
