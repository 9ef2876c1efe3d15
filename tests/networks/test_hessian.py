"""Dense Hessians against finite differences, naive per-sample oracles and the closed forms."""

import numpy as np
import pytest

from rmthess.networks import Network, dense_hessian, gauss_newton, hessian

# central differences with h = 1e-5: truncation ~ h² |f'''| ~ 1e-10, round-off ~ eps/h ~ 1e-11;
# measured ≤ 3e-10 relative to the largest entry over all MODELS × SHAPES; 1e-8 keeps a 30× margin
# and still catches an O(1e-7) error, well inside the 1e-6 target
FD_STEP = 1e-5
FD_RTOL = 1e-8
# sums of N products formed in a different order: a few ulps times the condition of the sum
CLOSED_RTOL = 1e-12

MODELS = [("linear", "mse"), ("linear", "ce"), ("mlp", "mse"), ("mlp", "ce")]
# shapes that exercise both loop orders of every Kronecker kernel
SHAPES = [dict(n=25, d=5, m=3, C=4), dict(n=20, d=3, m=6, C=2), dict(n=30, d=4, m=2, C=7)]


def _fd_matrix(f, theta, h=FD_STEP):
    cols = []
    for k in range(theta.size):
        e = np.zeros_like(theta)
        e[k] = h
        cols.append((f(theta + e) - f(theta - e)) / (2 * h))
    return np.array(cols).T


@pytest.mark.parametrize("kind,loss", MODELS)
@pytest.mark.parametrize("shape", SHAPES)
def test_gradient_and_hessian_match_central_differences(make_net, kind, loss, shape):
    net = make_net(kind, loss, seed=3, **shape)
    theta = net.flatten()
    g_fd = _fd_matrix(lambda t: np.atleast_1d(net.with_params(t).loss_value()), theta)[0]
    g = net.gradient()
    assert np.max(np.abs(g - g_fd)) <= FD_RTOL * np.max(np.abs(g))
    H_fd = _fd_matrix(lambda t: net.with_params(t).gradient(), theta)
    H = dense_hessian(net)
    assert np.max(np.abs(H - H_fd)) <= FD_RTOL * np.max(np.abs(H))


def _naive_blocks(net):
    """Per-sample loops over the closed forms of THEORY §3–§5 (no code shared with the package)."""
    n, d, C = net.n_samples, net.dim, net.classes
    X = net.X
    if net.is_linear:
        H = np.zeros((C * d, C * d))
        for i in range(n):
            Q = np.eye(C) if net.loss == "mse" else np.diag(net.P[i]) - np.outer(net.P[i], net.P[i])
            H += np.kron(Q, np.outer(X[i], X[i]))
        return H / n
    m = net.width
    V = net.V
    Hww = np.zeros((m * d, m * d))
    Hvv = np.zeros((C * m, C * m))
    for i in range(n):
        u = net.W @ X[i]
        act = (u > 0).astype(float)
        s = np.maximum(u, 0)
        if net.loss == "mse":
            kappa = V.T @ V
            Q = np.eye(C)
        else:
            p = np.exp(V @ s - np.max(V @ s))
            p /= p.sum()
            Q = np.diag(p) - np.outer(p, p)
            kappa = V.T @ Q @ V
        Hww += np.kron(kappa * np.outer(act, act), np.outer(X[i], X[i]))
        Hvv += np.kron(Q, np.outer(s, s))
    return Hww / n, Hvv / n


@pytest.mark.parametrize("kind,loss", MODELS)
@pytest.mark.parametrize("shape", SHAPES)
def test_blocks_match_closed_forms(make_net, kind, loss, shape):
    net = make_net(kind, loss, seed=5, **shape)
    H = dense_hessian(net)
    scale = np.max(np.abs(H))
    if kind == "linear":
        assert np.max(np.abs(H - _naive_blocks(net))) <= CLOSED_RTOL * scale
        return
    md = net.width * net.dim
    Hww, Hvv = _naive_blocks(net)
    assert np.max(np.abs(H[:md, :md] - Hww)) <= CLOSED_RTOL * scale
    assert np.max(np.abs(H[md:, md:] - Hvv)) <= CLOSED_RTOL * scale


def test_linear_mse_block_is_gram_matrix(make_net):
    net = make_net("linear", "mse", n=40, d=6, C=3)
    H = hessian(net.X, net.labels, net.V, loss="mse")
    G = net.X.T @ net.X / net.n_samples
    np.testing.assert_allclose(H, np.kron(np.eye(3), G), rtol=0, atol=CLOSED_RTOL * np.abs(G).max())


def test_linear_ce_two_classes_offdiagonal_is_minus_diagonal(make_net):
    net = make_net("linear", "ce", n=40, d=6, C=2)
    H = dense_hessian(net)
    np.testing.assert_allclose(H[:6, 6:], -H[:6, :6], rtol=0, atol=CLOSED_RTOL * np.abs(H).max())


def test_mlp_mse_output_blocks(make_net):
    net = make_net("mlp", "mse", n=50, d=5, m=3, C=4)
    H = dense_hessian(net)
    md = 15
    SS = net.S.T @ net.S / net.n_samples
    np.testing.assert_allclose(H[md:, md:], np.kron(np.eye(4), SS), rtol=0,
                               atol=CLOSED_RTOL * np.abs(SS).max())


def _residual_block(net):
    """The hidden-output residual block from its definition, with numpy (independent of the
    code)."""
    X, V, W = net.X, net.V, net.W
    n, d, m, C = X.shape[0], X.shape[1], W.shape[0], V.shape[0]
    U = X @ W.T
    f = np.maximum(U, 0.0) @ V.T
    Y = np.eye(C)[net.labels]
    if net.loss == "ce":
        e = np.exp(f - f.max(1, keepdims=True))
        R = e / e.sum(1, keepdims=True) - Y
    else:
        R = f - Y
    out = np.zeros((m * d, C * m))
    for i in range(m):
        for c in range(C):
            out[i * d:(i + 1) * d, c * m + i] = (X * (R[:, c] * (U[:, i] > 0))[:, None]).sum(0) / n
    return out


@pytest.mark.parametrize("kind,loss", MODELS)
def test_exact_identities(make_net, kind, loss):
    net = make_net(kind, loss, seed=7)
    H = dense_hessian(net)
    G = dense_hessian(net, "gn")
    E = dense_hessian(net, "residual")
    np.testing.assert_array_equal(H, H.T)
    np.testing.assert_allclose(G + E, H, rtol=0, atol=CLOSED_RTOL * np.abs(H).max())
    off = net.layout.offsets
    for b in range(net.layout.n_blocks):  # ReLU: the residual part has zero diagonal blocks
        assert not np.any(E[off[b]:off[b + 1], off[b]:off[b + 1]])
    if kind == "linear":
        assert not np.any(E)
    else:
        # the hidden-output residual (NET-3): d²f_c/dw_i dv_ci = relu'(u_i) x, so
        # E[w_i, v_c] = (1/N) Σ_n r_nc 1(u_ni > 0) x_n e_iᵀ with r = p − onehot (CE) or
        # f − onehot (MSE)
        md = net.width * net.dim
        np.testing.assert_allclose(E[:md, md:], _residual_block(net), rtol=0,
                                   atol=CLOSED_RTOL * np.abs(H).max())
        assert not np.any(E[:md, :md]) and not np.any(E[md:, md:])
    np.testing.assert_allclose(gauss_newton(net.X, net.labels, net.W, net.V, loss=loss), G)


@pytest.mark.slow  # importing torch alone takes seconds; the oracles above cover the default suite
def test_matches_torch_hessian(make_net):
    torch = pytest.importorskip("torch")
    net = make_net("mlp", "ce", n=30, d=4, m=3, C=5, seed=11)
    X = torch.tensor(net.X)
    y = torch.tensor(net.labels)
    md = net.width * net.dim

    def loss(theta):
        W = theta[:md].reshape(net.width, net.dim)
        V = theta[md:].reshape(net.classes, net.width)
        return torch.nn.functional.cross_entropy(torch.relu(X @ W.T) @ V.T, y)

    # reverse over reverse: torch.func.hessian's forward-mode pass loads TorchScript decompositions,
    # whose deprecation warning (its category varies across torch versions) would fail the test
    Ht = torch.func.jacrev(torch.func.jacrev(loss))(torch.tensor(net.flatten())).numpy()
    H = dense_hessian(net)
    assert np.max(np.abs(H - Ht)) <= CLOSED_RTOL * np.abs(H).max()


@pytest.mark.parametrize("bad,match", [
    (dict(X=np.ones((5, 3)), V=np.ones((2, 2)), W=np.ones((2, 4))), "W must have shape"),
    (dict(X=np.ones((5, 3)), V=np.ones((2, 3)), W=np.ones((2, 3))), "V must have shape"),
    (dict(X=np.ones((5, 3)), V=np.ones((3, 4)), W=None), "linear model"),
    (dict(y=[0, 1, 2, 0, 5]), "labels must lie"),
    (dict(y=[0, 1, -1, 0, 1]), "labels must lie"),
    (dict(y=[0, 1, 0.5, 0, 1]), "integer labels"),
    (dict(y=[0, 1, 0]), "one label per sample"),
    (dict(W=np.full((2, 3), np.nan)), "W must be finite"),
    (dict(V=np.array([[1.0, np.inf], [0.0, 1.0], [1.0, 1.0]])), "V must be finite"),
    (dict(X=np.full((5, 3), np.inf)), "X must be finite"),
    (dict(loss="hinge"), "loss must be one of"),
    (dict(V=np.ones((1, 2))), "at least 2 classes"),
])
def test_bad_input_raises(bad, match):
    args = dict(X=np.ones((5, 3)), y=[0, 1, 2, 0, 1], V=np.ones((3, 2)), W=np.ones((2, 3)),
                loss="ce")
    args.update(bad)
    if "V" in bad and bad["V"].shape[0] == 1:
        args["y"] = [0] * 5
    with pytest.raises(ValueError, match=match):
        hessian(args["X"], args["y"], args["W"], args["V"], loss=args["loss"])


def test_network_flatten_roundtrip(make_net):
    net = make_net("mlp", "ce")
    V, W = net.unflatten(net.flatten())
    np.testing.assert_array_equal(V, net.V)
    np.testing.assert_array_equal(W, net.W)
    with pytest.raises(ValueError, match="entries"):
        net.unflatten(np.zeros(3))
    with pytest.raises(ValueError, match="part must be"):
        dense_hessian(net, "bogus")
    assert isinstance(net, Network)


@pytest.mark.parametrize("kind,loss", MODELS)
def test_chunked_construction_agrees(make_net, monkeypatch, kind, loss):
    import importlib

    hessian_module = importlib.import_module("rmthess.networks.hessian")

    net = make_net(kind, loss, n=30, d=5, m=3, C=4, seed=12)
    H = dense_hessian(net)
    monkeypatch.setattr(hessian_module, "_CHUNK_FLOATS", 7)  # a few samples per chunk
    monkeypatch.setattr(hessian_module, "_MIN_CHUNK_FLOATS", 7)
    np.testing.assert_allclose(dense_hessian(net), H, rtol=0, atol=CLOSED_RTOL * np.abs(H).max())


@pytest.mark.parametrize("loss", ["ce", "mse"])
@pytest.mark.parametrize("budget", [None, 7])
def test_dead_and_always_active_units(monkeypatch, loss, budget):
    """A unit active on no sample (zero row of W) and one active on every sample (the samples
    are made positive along it): the dense Hessian against the Hessian-vector products of the
    identity (a second construction), in one chunk and in chunks of a few samples."""
    import importlib

    from rmthess.networks import hvp

    hessian_module = importlib.import_module("rmthess.networks.hessian")
    rng = np.random.default_rng(5)
    n, d, m, C = 40, 4, 3, 5
    X = rng.standard_normal((n, d))
    X[:, 0] = np.abs(X[:, 0]) + 0.1
    W = rng.standard_normal((m, d))
    W[0] = 0.0                      # dead: u = 0, relu'(0) = 0
    W[1] = [1.0, 0.0, 0.0, 0.0]     # active on every sample
    net = Network(X, rng.integers(0, C, n), rng.standard_normal((C, m)), W, loss)
    if budget is not None:
        monkeypatch.setattr(hessian_module, "_CHUNK_FLOATS", budget)
        monkeypatch.setattr(hessian_module, "_MIN_CHUNK_FLOATS", budget)
    H = dense_hessian(net)
    ref = hvp(net, np.eye(net.n_params))
    assert np.array_equal(H, H.T)
    assert np.all(H[:d, :] == 0.0)  # the dead unit's rows
    np.testing.assert_allclose(H, ref, rtol=0, atol=CLOSED_RTOL * np.abs(ref).max())


@pytest.mark.parametrize("kind,loss", MODELS)
@pytest.mark.parametrize("part", ["full", "gn", "residual"])
def test_worker_threads_give_the_same_hessian(make_net, kind, loss, part):
    """The construction's tasks on one thread and on three worker threads (BLAS held to one):
    bit for bit the same matrix, for every part (both shapes of the blockwise products: d > C
    and d < C)."""
    import importlib

    from rmthess._threads import blas_limit

    hessian_module = importlib.import_module("rmthess.networks.hessian")
    for d, C in ((7, 3), (3, 7)):
        net = make_net(kind, loss, n=60, d=d, m=4, C=C, seed=21)
        with blas_limit(1):
            one, total = hessian_module._dense_hessian(net, part, 1)
            three, _ = hessian_module._dense_hessian(net, part, 3)
        assert np.array_equal(one, three)
        assert total is None or np.isfinite(total)
        np.testing.assert_allclose(one, dense_hessian(net, part), rtol=0,
                                   atol=CLOSED_RTOL * max(np.abs(one).max(), 1e-300))


@pytest.mark.parametrize("kind,loss", MODELS)
@pytest.mark.parametrize("workers", [1, 2])
def test_overflow_is_an_error(make_net, kind, loss, workers):
    """Entries beyond float64 (|x|² ≈ 1e320 in the x xᵀ blocks) give the ValueError, whether the
    tasks' sums or the pass over H find them, on one thread or two."""
    import importlib

    hessian_module = importlib.import_module("rmthess.networks.hessian")
    net = make_net(kind, loss, n=20, d=4, m=3, C=3, seed=4)
    # the first layer scaled down by as much: the forward pass stays O(1), the x xᵀ terms do not
    if kind == "linear":
        big = Network(net.X * 1e160, net.labels, net.V * 1e-170, None, loss)
    else:
        big = Network(net.X * 1e160, net.labels, net.V, net.W * 1e-170, loss)
    with np.errstate(over="ignore", invalid="ignore"):
        H, total = hessian_module._dense_hessian(big, "full", workers)
    assert not np.all(np.isfinite(H))
    with pytest.raises(ValueError, match="overflows float64"):
        hessian_module._finite(H, total)
    with pytest.raises(ValueError, match="overflows float64"):
        dense_hessian(big)
