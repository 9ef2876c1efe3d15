"""Small random networks shared by the tests of rmthess.networks."""

import numpy as np
import pytest

from rmthess.networks import Network


def _make(kind, loss, *, n=25, d=5, m=3, C=4, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.integers(0, C, n)
    if kind == "linear":
        return Network(X, y, scale * rng.standard_normal((C, d)) / np.sqrt(d), None, loss)
    W = rng.standard_normal((m, d)) / np.sqrt(d)
    V = scale * rng.standard_normal((C, m))
    return Network(X, y, V, W, loss)


@pytest.fixture
def make_net():
    """Factory: ``make_net(kind, loss, n=.., d=.., m=.., C=.., seed=..)``."""
    return _make


#: the four models of the paper, as (kind, loss)
MODELS = [("linear", "mse"), ("linear", "ce"), ("mlp", "mse"), ("mlp", "ce")]
