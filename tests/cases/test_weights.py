"""Monte Carlo block weights of every case against the Hessian of the loss itself, by second
differences (independent oracle), and the parameter draws of :meth:`Case.with_init`."""

import numpy as np
import pytest

from rmthess.cases import CASES, get_case
from rmthess.montecarlo.blocknorms import block_matrix

#: central second differences with step 1e-4: truncation ~1e-8, round-off ~1e-16/1e-8 (|f| = O(1));
#: measured ≤ 2.3e-8 absolute over all cases, so 10× margin
TOL_FD = 2e-7
EPS = 1e-4


def _softmax(z):
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def _loss(logits, y, loss):
    if loss == "mse":
        return 0.5 * np.mean(np.sum((logits - y) ** 2, axis=1))
    lse = np.log(np.sum(np.exp(logits - logits.max(1, keepdims=True)), 1)) + logits.max(1)
    return np.mean(lse - np.sum(logits * y, axis=1))


def _fd_hessian(f, theta):
    k = theta.size
    H = np.empty((k, k))
    for a in range(k):
        for b in range(a, k):
            def at(sa, sb):
                t = theta.copy()
                t[a] += sa * EPS
                t[b] += sb * EPS
                return f(t)
            H[a, b] = H[b, a] = (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / (4 * EPS**2)
    return H


@pytest.mark.parametrize("case", sorted(CASES))
def test_blocks_equal_loss_hessian(case):
    rng = np.random.default_rng(3)
    model = get_case(case)
    d, n, C, m = 4, 6, 3, 3
    params = model.draw(rng, d, C, m if model.hidden else None, 1.0)
    X = rng.standard_normal((n, d))
    y = np.eye(C)[rng.integers(0, C, n)]
    weights = model.weights(params, X @ params.first.T)
    if not model.hidden:
        f = lambda t: _loss(X @ t.reshape(C, d).T, y, model.loss)  # noqa: E731
        H = _fd_hessian(f, params.first.ravel())
        for i in range(C):
            for j in range(C):
                np.testing.assert_allclose(block_matrix(X, weights["v"], i, j),
                                           H[i * d:(i + 1) * d, j * d:(j + 1) * d], atol=TOL_FD)
        return
    W, V = params.first, params.second
    nw = m * d

    def f(t):
        Wt, Vt = t[:nw].reshape(m, d), t[nw:].reshape(C, m)
        return _loss(np.maximum(X @ Wt.T, 0) @ Vt.T, y, model.loss)

    H = _fd_hessian(f, np.concatenate([W.ravel(), V.ravel()]))
    S = np.maximum(X @ W.T, 0)
    for i in range(m):
        for j in range(m):
            np.testing.assert_allclose(block_matrix(X, weights["hidden"], i, j),
                                       H[i * d:(i + 1) * d, j * d:(j + 1) * d], atol=TOL_FD)
    for c in range(C):
        for e in range(C):
            np.testing.assert_allclose(
                block_matrix(model.features("output", X, X @ W.T), weights["output"], c, e),
                H[nw + c * m:nw + (c + 1) * m, nw + e * m:nw + (e + 1) * m], atol=TOL_FD)
    assert np.allclose(model.features("output", X, X @ W.T), S)


def test_draws_follow_the_entry_laws():
    """with_init: V = σ_v ε/√m with Rademacher ε takes the values ±σ_v/√m; W = σ_w ε/√d uniform."""
    model = get_case("mlp-ce").with_init(v_law="rademacher", w_law="uniform", sigma_w=0.5)
    d, C, m, sv = 50, 4, 3, 0.8
    p = model.draw(np.random.default_rng(0), d, C, m, sv)
    np.testing.assert_allclose(np.abs(p.second), sv / np.sqrt(m), rtol=1e-15)
    assert np.abs(p.first).max() <= 0.5 * np.sqrt(3) / np.sqrt(d)
    assert model.first_sigma(sv) == 0.5 and get_case("mlp-ce").first_sigma(sv) == 1.0
    # the default draws are the Gaussian stream, unchanged
    g = get_case("mlp-ce").draw(np.random.default_rng(1), d, C, m, sv)
    r = np.random.default_rng(1)
    np.testing.assert_array_equal(g.first, r.standard_normal((m, d)) / np.sqrt(d))
