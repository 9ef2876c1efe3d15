"""Block-map figures: they draw what they are given and mark the block boundaries."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from rmthess.networks import block_norm_map, dense_hessian, init_ratio_sweep, train_preset
from rmthess.plotting.blockmap import (
    plot_block_map,
    plot_hessian_heatmap,
    plot_init_ratio_sweep,
    plot_training_blocks,
)


@pytest.fixture
def net():
    from rmthess.networks import Network

    rng = np.random.default_rng(0)
    return Network(rng.standard_normal((40, 6)), rng.integers(0, 4, 40),
                   rng.standard_normal((4, 3)), rng.standard_normal((3, 6)))


def test_block_map_figure(net):
    H = dense_hessian(net)
    M = block_norm_map(H, net.layout)
    fig = plot_block_map(M, net.layout, title="map")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    img = ax.images[0].get_array()
    np.testing.assert_allclose(img, np.log10(M))  # no zero blocks here: exactly log10 of the map
    assert [t.get_text() for t in ax.get_xticklabels()] == ["hidden", "output"]
    assert len(ax.lines) == 2  # one horizontal and one vertical group boundary
    with pytest.raises(ValueError, match="blocks"):
        plot_block_map(M[:3, :3], net.layout)


def test_hessian_heatmap_pools_and_draws_boundaries(net):
    H = dense_hessian(net)
    fig = plot_hessian_heatmap(H, net.layout, max_pixels=10, log=False)
    img = fig.axes[0].images[0].get_array()
    assert img.shape[0] <= 10
    assert img.max() == pytest.approx(np.abs(H).max())  # max pooling keeps the largest entry
    assert len(fig.axes[0].lines) == 2 * (net.layout.n_blocks - 1)
    with pytest.raises(ValueError, match="layout"):
        plot_hessian_heatmap(H[:5, :5], net.layout)


def test_sweep_and_training_figures():
    sw = init_ratio_sweep([2, 3], dim=8, gamma=0.5, loss="ce", rng=0, with_limits=False)
    assert isinstance(plot_init_ratio_sweep(sw), Figure)
    res = train_preset("small", rng=0, steps=5)
    fig = plot_training_blocks(res)
    assert len(fig.axes[0].lines) == 3
