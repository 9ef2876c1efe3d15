"""Monte Carlo block weights of every case against the Hessian of the loss itself, by second
differences (independent oracle), and the parameter draws of :meth:`Case.with_init`."""

import math

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
            def at(sa, sb, a=a, b=b):
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


#: Monte Carlo of the weight moments: 5 standard errors over 4 comparisons, false alarm ≈ 2.3e-6
K_SIGMA = 5.0


@pytest.mark.parametrize("case", ["linear-mse", "linear-ce"])
def test_exact_moments_against_monte_carlo(case):
    """The prediction hooks of the linear cases: ``exact_moments`` (the Gaussian-softmax integrals)
    against sample means of the case's own weights on ``u ~ N(0, σ_v² I_C)``, the law of the
    projected data at orthonormal rows (rank C, scale ``first_sigma``)."""
    from rmthess.cases import Params

    model = get_case(case)
    C, sv, n = 4, 1.3, 200_000
    assert model.rank(C, None) == C and model.first_sigma(sv) == sv
    assert model.exchangeable("v") and not model.conditional()
    U = model.first_sigma(sv) * np.random.default_rng(7).standard_normal((n, C))
    w = model.weights(Params(first=np.zeros((C, 1))), U)["v"]
    for which, lam in (("diag", w.block(0, 0)), ("offdiag", w.block(0, 1))):
        m1, m2 = model.exact_moments("v", which, C, sv)
        for sample, exact in ((lam, m1), (lam * lam, m2)):
            se = sample.std(ddof=1) / np.sqrt(n)
            assert abs(sample.mean() - exact) <= K_SIGMA * se + 1e-15, (which, exact)


@pytest.mark.parametrize("case", ["mlp-mse", "mlp-ce"])
def test_hidden_cases_prediction_hooks(case):
    model = get_case(case)
    assert model.rank(5, 3) == 3 and model.conditional() and model.hidden
    assert not model.exchangeable("hidden")
    assert model.exact_moments("hidden", "diag", 5, 1.0) is None
    assert model.square("hidden") and not model.square("output")


@pytest.mark.parametrize("case", ["mlp-mse", "mlp-ce"])
@pytest.mark.parametrize("kwargs, match", [
    (dict(block="output"), "no d-dimensional"),
    (dict(V=None), "pass V"),
    (dict(V=np.ones((3, 2))), "shape"),
    (dict(indices=(0,)), "pair of hidden units"),
    (dict(indices=(1, 1)), "two distinct"),
    (dict(indices=(0, 4)), "two distinct"),
])
def test_fixed_v_block_law_arguments(case, kwargs, match):
    args = dict(block="hidden", V=np.ones((3, 4)), indices=(0, 1))
    args.update(kwargs)
    block = args.pop("block")
    with pytest.raises(ValueError, match=match):
        get_case(case).block_law(block, "diag", 1.0, 3, m=4, **args)


def test_with_init_refuses_hidden_options_for_linear_cases():
    with pytest.raises(ValueError, match="no hidden layer"):
        get_case("linear-ce").with_init(sigma_w=2.0)


@pytest.mark.parametrize("case, ij", [("mlp-mse", (0, 1)), ("mlp-mse", (2, 2)),
                                      ("linear-mse", (0, 0)), ("linear-mse", (0, 1))])
def test_exact_weight_rule_against_the_weights(case, ij):
    """The closed-form rule of c(z) (MC-15): each value's probability and ``E[1(λ = v) y yᵀ]``
    against the case's own weights on sampled ``y ~ N(0, I_r)``; K_SIGMA standard errors per entry
    (at most 2 + 2·9 comparisons per case: false alarm < 1e-5)."""
    from rmthess.cases import Params

    model = get_case(case)
    C, m, n = 3, 3, 200_000
    rng = np.random.default_rng(12)
    r = model.rank(C, m if model.hidden else None)
    params = model.draw(rng, 10, C, m if model.hidden else None, 1.0)
    params = Params(first=np.zeros((r, 1)), second=params.second)
    block = model.block_types[0]
    values, probs, moms = model.exact_weight_rule(block, ij, params, r)
    y = rng.standard_normal((n, r))
    lam = model.weights(params, y)[block].block(*ij)
    assert np.isclose(probs.sum(), 1.0) and np.allclose(moms.sum(0), np.eye(r))
    for v, p, mom in zip(values, probs, moms, strict=True):
        hit = (lam == v).astype(float)
        assert abs(hit.mean() - p) <= K_SIGMA * math.sqrt(p * (1 - p) / n) + 1e-15
        yy = hit[:, None, None] * y[:, :, None] * y[:, None, :]
        se = yy.std(0) / math.sqrt(n)
        assert np.all(np.abs(yy.mean(0) - mom) <= K_SIGMA * se + 1e-12)
