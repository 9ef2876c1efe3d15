"""Figure 4 renders: heatmaps, one colour bar, shared colour range along training, training
panel."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rmthess import networks  # noqa: E402
from rmthess.plotting.hessians import HessianMap, plot_hessian_maps  # noqa: E402


def _map(C, seed):
    X, y = networks.gaussian_data(20, 6, C, rng=seed)
    V, W = networks.init_weights(6, C, 3, rng=seed + 1)
    return HessianMap(f"C = {C}", networks.hessian(X, y, W, V), networks.block_layout(6, C, 3))


def test_figure4_init_and_training_rows():
    X, y = networks.gaussian_data(30, 6, 4, rng=0)
    V, W = networks.init_weights(6, 4, 3, rng=1)
    res = networks.train(X, y, V, W, steps=10, lr=0.05, snapshot_steps=(0, 10), keep_hessians=True)
    train_maps = [HessianMap(f"step {s.step}", s.hessian, res.layout) for s in res.snapshots]
    fig = plot_hessian_maps(init=[_map(3, 0), _map(10, 2)], training=train_maps,
                            training_result=res, title="fig 4", decades=4.0)
    heat = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in heat] == ["C = 3", "C = 10", "step 0", "step 10"]
    for ax in heat:
        assert ax.get_xlabel() == "parameter index"
        lo, hi = ax.images[0].get_clim()
        assert hi - lo == pytest.approx(4.0)
    # the training row shares one colour range
    assert heat[2].images[0].get_clim() == heat[3].images[0].get_clim()
    training_axes = [ax for ax in fig.axes if ax.get_xlabel() == "training step"]
    assert len(training_axes) == 1 and training_axes[0].get_legend() is not None
    plt.close(fig)


def test_large_maps_are_cropped_to_their_leading_blocks():
    from rmthess.plotting.hessians import CROP_BLOCKS, readable

    big = _map(100, 4)                                   # 18 + 300 parameters
    out = readable(big, max_params=100)
    k = min(CROP_BLOCKS, (100 - 18) // 3)
    assert out.layout.groups == (("hidden", 3, 6), ("output", k, 3))
    np.testing.assert_array_equal(out.hessian, big.hessian[:18 + 3 * k, :18 + 3 * k])
    assert out.title.endswith(f"(first {k} of 100 output blocks shown)")
    assert readable(big, max_params=400) is big


def test_bad_input():
    with pytest.raises(ValueError):
        HessianMap("x", np.zeros((2, 3)), None)
    with pytest.raises(ValueError):
        plot_hessian_maps()
