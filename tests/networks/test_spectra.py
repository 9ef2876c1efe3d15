"""Spectra: block traces, Gauss–Newton duality and the outlier count."""

import numpy as np
import pytest

from rmthess.networks import (
    Network,
    block_spectra,
    count_outliers,
    dense_hessian,
    gauss_newton_dual,
    network_spectra,
)

# eigenvalues from two different symmetric eigenproblems: a few ulps times the norm
EIG_ATOL_REL = 1e-11

MODELS = [("linear", "mse"), ("linear", "ce"), ("mlp", "mse"), ("mlp", "ce")]


@pytest.mark.parametrize("kind,loss", MODELS)
def test_block_traces_of_h_and_gn_coincide(make_net, kind, loss):
    net = make_net(kind, loss, seed=4)
    sp = network_spectra(net)
    H = dense_hessian(net)
    scale = np.abs(sp.full).max()
    assert abs(sp.full.sum() - np.trace(H)) <= EIG_ATOL_REL * scale * H.shape[0]
    # residual part has zero diagonal blocks: layer traces of H and G agree
    G = dense_hessian(net, "gn")
    off = net.layout.offsets
    for blk, ev in enumerate(sp.blocks):
        tr_g = np.trace(G[off[blk]:off[blk + 1], off[blk]:off[blk + 1]])
        assert abs(ev.sum() - tr_g) <= EIG_ATOL_REL * scale * ev.size
    assert abs(sp.gauss_newton.sum() - np.trace(G)) <= EIG_ATOL_REL * scale * H.shape[0]


@pytest.mark.parametrize("kind,loss", MODELS)
def test_gauss_newton_duality(make_net, kind, loss):
    # nonzero eigenvalues of (1/N) Jᵀ Q J equal those of (1/N) Q^½ J Jᵀ Q^½ (N C < P here)
    net = make_net(kind, loss, n=6, d=8, m=5, C=3, seed=9)
    ev_gn = np.sort(np.linalg.eigvalsh(dense_hessian(net, "gn")))[::-1]
    ev_dual = np.sort(np.linalg.eigvalsh(gauss_newton_dual(net)))[::-1]
    scale = ev_gn[0]
    r = ev_dual.size
    np.testing.assert_allclose(ev_gn[:r], ev_dual, rtol=0, atol=EIG_ATOL_REL * scale * 10)
    assert np.all(np.abs(ev_gn[r:]) <= EIG_ATOL_REL * scale * 10)


def test_outliers_from_class_means():
    # Papyan: a Gram matrix of data with C well-separated class means has C outliers above the bulk
    rng = np.random.default_rng(0)
    C, d, n = 5, 100, 400
    means = 6.0 * np.eye(d)[:C]
    y = rng.integers(0, C, n)
    X = means[y] + rng.standard_normal((n, d))
    net = Network(X, y, np.zeros((C, d)), loss="mse")
    blocks = block_spectra(dense_hessian(net), net.layout)
    for ev in blocks:
        assert count_outliers(ev).n_outliers == C


def test_count_outliers_synthetic_and_bad_input():
    ev = np.concatenate([np.linspace(0.01, 0.1, 50), [3.0, 4.0, 5.5], [-0.2]])
    res = count_outliers(ev)
    assert res.n_outliers == 3
    assert 0.1 < res.threshold < 3.0
    assert count_outliers(ev, top=5).n_outliers == 3
    with pytest.raises(ValueError, match="two positive"):
        count_outliers([-1.0, 0.5])
    with pytest.raises(ValueError, match="top"):
        count_outliers(ev, top=1)
    with pytest.raises(ValueError, match="shape"):
        block_spectra(np.eye(3), Network(np.ones((2, 2)), [0, 1], np.eye(2)).layout)
