"""Training with Hessian snapshots, the optimizers' update rules and the dynamic force."""

import numpy as np
import pytest

from rmthess.networks import (
    PRESETS,
    Network,
    TrainingConfig,
    gaussian_data,
    init_weights,
    preset_network,
    train,
    train_preset,
)

# the optimizer updates are elementwise closed forms
STEP_RTOL = 1e-12
# "measurably smaller": the hidden–output blocks, relative to the diagonal blocks, must shrink by at
# least this factor once the small preset has fitted its random labels (the softmax saturates)
SHRINK_FACTOR = 5.0


def test_gd_step_is_gradient_step():
    X, y = gaussian_data(30, 5, 3, rng=0)
    V, W = init_weights(5, 3, 2, rng=1)
    net = Network(X, y, V, W)
    res = train(X, y, V, W, optimizer="gd", lr=0.1, steps=1)
    expected = net.flatten() - 0.1 * net.gradient()
    np.testing.assert_allclose(net.flatten(res.V, res.W), expected, rtol=STEP_RTOL)


def test_first_adam_step_moves_by_lr_times_sign():
    # bias-corrected Adam: m̂ = g, v̂ = g², so the first update is -lr g/(|g| + eps)
    X, y = gaussian_data(30, 5, 3, rng=2)
    V, W = init_weights(5, 3, None, rng=3)
    net = Network(X, y, V, W)
    g = net.gradient()
    res = train(X, y, V, W, optimizer="adam", lr=0.01, steps=1, eps=1e-8)
    expected = V.ravel() - 0.01 * g / (np.abs(g) + 1e-8)
    np.testing.assert_allclose(res.V.ravel(), expected, rtol=STEP_RTOL)


def test_small_preset_shows_dynamic_force():
    res = train_preset("small", rng=0)
    cfg = PRESETS["small"]
    assert res.losses[-1] < 0.2 * res.losses[0]
    first, last = res.snapshot(0), res.snapshot(cfg.steps)

    def normalised(s):
        return s.cross / np.sqrt(s.ratios["hidden"].diag_mean * s.ratios["output"].diag_mean)

    assert normalised(last) * SHRINK_FACTOR < normalised(first)
    assert last.cross < first.cross  # also smaller in absolute terms once the softmax saturates
    assert last.diagonality > first.diagonality
    assert [s.step for s in res.snapshots] == list(cfg.snapshot_steps)


def test_snapshot_keeps_hessian_and_linear_model():
    X, y = gaussian_data(20, 4, 3, rng=0)
    V, _ = init_weights(4, 3, rng=1)
    res = train(X, y, V, steps=3, snapshot_steps=(0, 3), keep_hessians=True, optimizer="gd")
    assert res.snapshot(3).hessian.shape == (12, 12)
    assert np.isnan(res.snapshot(0).cross)
    with pytest.raises(ValueError, match="no snapshot"):
        res.snapshot(1)


@pytest.mark.parametrize("kwargs,match", [
    (dict(optimizer="sgd"), "optimizer"),
    (dict(lr=-1.0), "lr"),
    (dict(steps=2, snapshot_steps=(5,)), "snapshot"),
    (dict(loss="hinge"), "loss"),
])
def test_bad_training_args(kwargs, match):
    X, y = gaussian_data(10, 3, 2, rng=0)
    V, W = init_weights(3, 2, 2, rng=0)
    with pytest.raises(ValueError, match=match):
        train(X, y, V, W, **kwargs)


def test_bad_preset_and_config():
    with pytest.raises(ValueError, match="unknown preset"):
        train_preset("huge")
    with pytest.raises(ValueError, match="unknown preset"):
        preset_network("huge")
    with pytest.raises(ValueError):
        TrainingConfig(10, 3, 1, 2)
    assert PRESETS["gaussian"].n_samples == 5000 and PRESETS["gaussian"].width == 8


def test_init_weights_follow_the_named_initializations():
    """Entries vs the torch.nn.init definitions: nn.Linear U(±1/√fan_in); kaiming N(0, 2/fan_in)."""
    import math

    from rmthess.networks.training import init_weights
    d, C, m = 400, 50, 40
    V, W = init_weights(d, C, m, init="torch-default", rng=0)
    assert np.abs(W).max() <= 1 / math.sqrt(d) and np.abs(V).max() <= 1 / math.sqrt(m)
    V, W = init_weights(d, C, m, init="kaiming-normal", rng=0)
    for A, fan in ((W, d), (V, m)):
        y = A.ravel() ** 2 * fan / 2                      # unit mean under N(0, 2/fan_in)
        assert abs(y.mean() - 1) <= 4.5 * y.std(ddof=1) / math.sqrt(y.size)   # false alarm 7e-6
    # the default is LeCun, drawing the Gaussian stream as before
    V, W = init_weights(6, 3, 2, rng=5)
    g = np.random.default_rng(5)
    np.testing.assert_array_equal(W, g.standard_normal((2, 6)) / np.sqrt(6))
    np.testing.assert_array_equal(V, 1.0 * g.standard_normal((3, 2)) / np.sqrt(2))
    with pytest.raises(ValueError, match="init sets"):
        init_weights(6, 3, 2, init="torch-default", sigma_v=2.0)
    with pytest.raises(ValueError, match="unknown initialization"):
        init_weights(6, 3, 2, init="glorot")


def test_training_presets_take_an_initialization():
    import math

    from rmthess.networks.training import TrainingConfig, preset_network
    net = preset_network("small", rng=0, init="torch-default")
    assert np.abs(net.W).max() <= 1 / math.sqrt(net.W.shape[1])
    assert np.abs(net.V).max() <= 1 / math.sqrt(net.V.shape[1])
    with pytest.raises(ValueError, match="unknown initialization"):
        TrainingConfig(20, 4, 3, 2, init="he")
    with pytest.raises(ValueError, match="init sets"):
        TrainingConfig(20, 4, 3, 2, init="torch-default", sigma_v=2.0)
