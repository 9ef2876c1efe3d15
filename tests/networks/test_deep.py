"""Deeper ReLU networks (layer recursion) against finite differences and the blockwise code."""

import numpy as np
import pytest

from rmthess.networks import DeepNetwork, Network, dense_hessian

# see test_hessian: central differences with h = 1e-5 (measured here ≤ 1.2e-10 relative)
FD_STEP = 1e-5
FD_RTOL = 1e-8
# the same sums in another order
EXACT_RTOL = 1e-12


def _fd(f, theta):
    cols = [(f(theta + FD_STEP * e) - f(theta - FD_STEP * e)) / (2 * FD_STEP)
            for e in np.eye(theta.size)]
    return np.array(cols).T


@pytest.mark.parametrize("loss", ["ce", "mse"])
def test_two_and_one_layers_reduce_to_the_analytic_hessians(loss):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((25, 5)), rng.integers(0, 3, 25)
    W, V = rng.standard_normal((4, 5)), rng.standard_normal((3, 4))
    deep, net = DeepNetwork(X, y, [W, V], loss), Network(X, y, V, W, loss)
    for part in ("full", "gn"):
        H = dense_hessian(net, part)
        assert np.abs(deep.dense_hessian(part) - H).max() <= EXACT_RTOL * np.abs(H).max()
    lin = DeepNetwork(X, y, [V @ W], loss)
    H = dense_hessian(Network(X, y, V @ W, None, loss))
    assert np.abs(lin.dense_hessian() - H).max() <= EXACT_RTOL * np.abs(H).max()


@pytest.mark.parametrize("loss", ["ce", "mse"])
def test_three_layers_match_central_differences(loss):
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((20, 5)), rng.integers(0, 3, 20)
    ws = [rng.standard_normal((4, 5)) / 2, rng.standard_normal((3, 4)), rng.standard_normal((3, 3))]
    net = DeepNetwork(X, y, ws, loss)
    theta = net.flatten()
    g_fd = _fd(lambda t: np.atleast_1d(net.with_params(t).loss_value()), theta)[0]
    assert np.abs(net.gradient() - g_fd).max() <= FD_RTOL * np.abs(g_fd).max()
    H = net.dense_hessian()
    H_fd = _fd(lambda t: net.with_params(t).gradient(), theta)
    assert np.abs(H - H_fd).max() <= FD_RTOL * np.abs(H).max()
    # the residual part has zero diagonal blocks (rows of one layer) for ReLU networks
    E = H - net.dense_hessian("gn")
    off = net.layout.offsets
    for blk in range(net.layout.n_blocks):
        diag_block = E[off[blk]:off[blk + 1], off[blk]:off[blk + 1]]
        assert np.abs(diag_block).max() <= EXACT_RTOL * np.abs(H).max()
    Z = rng.standard_normal((4, net.n_params))
    assert np.abs(net.hvp(Z) - Z @ H).max() <= EXACT_RTOL * 10 * np.abs(Z @ H).max()


def test_bad_input():
    X = np.ones((4, 3))
    with pytest.raises(ValueError, match="columns"):
        DeepNetwork(X, [0, 1, 0, 1], [np.ones((2, 4)), np.ones((2, 2))])
    with pytest.raises(ValueError, match="labels"):
        DeepNetwork(X, [0, 1, 0, 2], [np.ones((2, 3)), np.ones((2, 2))])
    with pytest.raises(ValueError, match="finite"):
        DeepNetwork(X, [0, 1, 0, 1], [np.full((2, 3), np.nan), np.ones((2, 2))])
    with pytest.raises(ValueError, match="at least one"):
        DeepNetwork(X, [0, 1, 0, 1], [])
    net = DeepNetwork(X, [0, 1, 0, 1], [np.ones((2, 3)), np.ones((2, 2))])
    with pytest.raises(ValueError, match="shape"):
        net.hvp(np.ones(3))
    with pytest.raises(ValueError, match="part"):
        net.dense_hessian("residual")
