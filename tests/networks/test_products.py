"""Hessian- and Gauss–Newton-vector products against the dense matrices."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rmthess._validate import CLASSES, DIM, SAMPLES, WIDTH
from rmthess.networks import Network, dense_hessian, gnvp, hvp, products

# a product and a dense matrix-vector product sum the same terms in another order
PRODUCT_RTOL = 1e-12

MODELS = [("linear", "mse"), ("linear", "ce"), ("mlp", "mse"), ("mlp", "ce")]


@pytest.mark.parametrize("kind,loss", MODELS)
def test_products_match_dense(make_net, kind, loss):
    net = make_net(kind, loss, n=40, d=6, m=4, C=5, seed=2)
    Z = np.random.default_rng(0).standard_normal((7, net.n_params))
    H, G = dense_hessian(net), dense_hessian(net, "gn")
    scale = np.abs(Z @ H).max()
    assert np.abs(hvp(net, Z) - Z @ H).max() <= PRODUCT_RTOL * scale
    assert np.abs(gnvp(net, Z) - Z @ G).max() <= PRODUCT_RTOL * scale
    np.testing.assert_allclose(hvp(net, Z[0]), hvp(net, Z)[0], rtol=PRODUCT_RTOL, atol=0)


@pytest.mark.parametrize("kind,loss", MODELS)
def test_blocked_products_agree(make_net, monkeypatch, kind, loss):
    """Batches of 2 probes and blocks of 7 samples (a last partial batch and block) against the
    dense Hessian and against one batch, one block."""
    net = make_net(kind, loss, n=30, d=5, m=3, C=4)
    Z = np.random.default_rng(1).standard_normal((9, net.n_params))
    ref = Z @ dense_hessian(net)
    full = hvp(net, Z)
    for name, value in (("_MAX_PROBES", 2), ("_BLOCK_FLOATS", 1), ("_MIN_ROWS", 7),
                        ("_MIN_ROWS_LINEAR", 7)):
        monkeypatch.setattr(products, name, value)
    assert products._rows(net, 2, products._MIN_ROWS)[-1] == slice(28, 30)
    blocked = hvp(net, Z)
    assert np.abs(blocked - ref).max() <= PRODUCT_RTOL * np.abs(ref).max()
    np.testing.assert_allclose(blocked, full, rtol=PRODUCT_RTOL,
                               atol=PRODUCT_RTOL * np.abs(ref).max())


def test_bad_vectors(make_net):
    net = make_net("mlp", "ce")
    with pytest.raises(ValueError, match="shape"):
        hvp(net, np.ones(net.n_params + 1))
    with pytest.raises(ValueError, match="finite"):
        hvp(net, np.full(net.n_params, np.nan))


@given(n=SAMPLES.strategy(1, 30), d=DIM.strategy(2, 6), m=WIDTH.strategy(1, 5),
       C=CLASSES.strategy(2, 6), loss=st.sampled_from(["ce", "mse"]),
       seed=st.integers(0, 2**32 - 1))
def test_products_match_dense_over_the_declared_domain(n, d, m, C, loss, seed):
    rng = np.random.default_rng(seed)
    net = Network(rng.standard_normal((n, d)), rng.integers(0, C, n), rng.standard_normal((C, m)),
                  rng.standard_normal((m, d)), loss)
    H = dense_hessian(net)
    assert np.array_equal(H, H.T)
    Z = rng.standard_normal((3, net.n_params))
    ref = Z @ H
    assert np.abs(hvp(net, Z) - ref).max() <= PRODUCT_RTOL * max(np.abs(ref).max(), 1e-300) * 10
