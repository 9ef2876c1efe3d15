"""The PyTorch adapter against dense ``torch.func.hessian`` and against rmthess.networks.

Oracles: the dense Hessian of the same loss by ``torch.func.hessian`` (a different autodiff route:
reverse over reverse on the full parameter tuple, assembled block by block here), the analytic
Hessians of :func:`rmthess.networks.hessian` (NET-2, NET-4) and the Jacobian-built Gauss–Newton
matrix ``Jᵀ ∇²ℓ J``. Tolerance 1e-12 relative: float64 rounding of sums over ≤ 10³ terms.
"""

import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch.func import functional_call, hessian, jacrev  # noqa: E402
from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: E402

from rmthess import networks  # noqa: E402
from rmthess.torch import (  # noqa: E402
    HessianOperator,
    gauss_newton_operator,
    hessian_operator,
)

TOL = 1e-12


class Attention(torch.nn.Module):
    """One self-attention layer (2 heads) and a linear read-out of the mean token."""

    def __init__(self, dim=8, heads=2, classes=3):
        super().__init__()
        self.attn = torch.nn.MultiheadAttention(dim, heads, batch_first=True)
        self.head = torch.nn.Linear(dim, classes)

    def forward(self, x):
        a, _ = self.attn(x, x, x, need_weights=False)
        return self.head(a.mean(1))


def _models():
    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3))
    cnn = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                              torch.nn.Linear(3 * 4 * 4, 3))
    return {
        "mlp": (mlp, torch.randn(30, 6), torch.randint(0, 3, (30,))),
        "cnn": (cnn, torch.randn(10, 2, 6, 6), torch.randint(0, 3, (10,))),
        "attention": (Attention(), torch.randn(6, 4, 8), torch.randint(0, 3, (6,))),
    }


MODELS = _models()


def dense_reference(model, loss_fn, X, y):
    """``torch.func.hessian`` of the loss in parameter order (float64)."""
    m64 = copy.deepcopy(model).double()
    names = [n for n, _ in m64.named_parameters()]
    params = tuple(p.detach() for p in m64.parameters())

    def loss(*ps):
        out = functional_call(m64, dict(zip(names, ps, strict=True)), (X.double(),))
        return loss_fn(out, y.double() if y.is_floating_point() else y)

    with sdpa_kernel([SDPBackend.MATH]):
        blocks = hessian(loss, argnums=tuple(range(len(params))))(*params)
    sizes = [p.numel() for p in params]
    off = np.concatenate([[0], np.cumsum(sizes)])
    D = np.zeros((off[-1], off[-1]))
    for i, si in enumerate(sizes):
        for j, sj in enumerate(sizes):
            D[off[i]:off[i + 1], off[j]:off[j + 1]] = blocks[i][j].reshape(si, sj).numpy()
    return D


#: every device this machine has: the products run where the model is, the results come back to
#: the host in float64 (CPU everywhere; CUDA where present)
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", sorted(MODELS))
def test_operator_on_each_device_equals_the_host_reference(name, device):
    """Model, data and a weighted loss on the host, products on ``device``: equal to the dense
    host Hessian, and the Gauss–Newton part to its host operator."""
    model, X, y = MODELS[name]
    loss_fn = torch.nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0, 0.5]))
    op = hessian_operator(model, loss_fn, (X, y), device=device)
    assert op.device.type == device
    ref = dense_reference(model, copy.deepcopy(loss_fn).double(), X, y)
    H = op.dense()
    np.testing.assert_allclose(H, ref[np.ix_(op.layout.perm, op.layout.perm)],
                               rtol=0, atol=TOL * np.abs(ref).max())
    gn = gauss_newton_operator(model, loss_fn, (X, y), device=device)
    host = gauss_newton_operator(model, loss_fn, (X, y), device="cpu")
    Z = np.random.default_rng(0).standard_normal((op.shape[0], 3))
    np.testing.assert_allclose(gn @ Z, host @ Z, rtol=0, atol=TOL * np.abs(host @ Z).max())


@pytest.mark.parametrize("name", sorted(MODELS))
def test_operator_equals_dense_torch_hessian(name):
    model, X, y = MODELS[name]
    loss_fn = torch.nn.CrossEntropyLoss()
    op = hessian_operator(model, loss_fn, (X, y))
    ref = dense_reference(model, loss_fn, X, y)
    perm = op.layout.perm
    H = op.dense()
    scale = np.abs(ref).max()
    assert np.abs(H - ref[np.ix_(perm, perm)]).max() <= TOL * scale
    # products of a stack of probes, and a single vector, in block order
    Z = np.random.default_rng(1).standard_normal((op.shape[0], 5))
    assert np.allclose(op @ Z, ref[np.ix_(perm, perm)] @ Z, rtol=0, atol=TOL * scale * 10)
    assert np.allclose(op @ Z[:, 0], H @ Z[:, 0], rtol=0, atol=TOL * scale * 10)


def test_batches_and_dataloader_give_the_mean_over_the_data():
    """A mean-reduced loss split into batches (or a DataLoader) is the mean over all samples."""
    model, X, y = MODELS["mlp"]
    loss_fn = torch.nn.CrossEntropyLoss()
    whole = hessian_operator(model, loss_fn, (X, y)).dense()
    pairs = hessian_operator(model, loss_fn, [(X[:7], y[:7]), (X[7:], y[7:])]).dense()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=8)
    dl = hessian_operator(model, loss_fn, loader).dense()
    rebuilt = hessian_operator(model, loss_fn, loader, keep_graphs=False).dense()
    assert np.abs(rebuilt - whole).max() <= TOL * np.abs(whole).max()
    assert np.abs(pairs - whole).max() <= TOL * np.abs(whole).max()
    assert np.abs(dl - whole).max() <= TOL * np.abs(whole).max()
    total = hessian_operator(model, torch.nn.CrossEntropyLoss(reduction="sum"), loader)
    assert total.reduction == "sum"
    n = X.shape[0]
    assert np.abs(total.dense() - n * whole).max() <= TOL * n * np.abs(whole).max()


@pytest.mark.parametrize("kind", ["weight", "ignore_index", "both"])
def test_batches_of_weighted_and_ignored_targets_give_the_whole_data_mean(kind):
    """Class weights and ignored targets make torch divide each batch by its own total weight;
    the batches' weights (TORCH-1) restore the mean torch computes on the whole data, also with a
    batch whose targets are all ignored (0/0 in torch: left out)."""
    model, X, y = MODELS["mlp"]
    y = y.clone()
    kw = {}
    if kind in ("weight", "both"):
        kw["weight"] = torch.tensor([0.5, 2.0, 1.0])
    if kind in ("ignore_index", "both"):
        y[[1, 4, 5, 11, 12, 13, 14, 15, 16, 17, 18, 19]] = -100    # batch 2 (10–19) nearly
        y[10] = -100                                               # all ignored, batch 3 not
        kw["ignore_index"] = -100
    loss_fn = torch.nn.CrossEntropyLoss(**kw)
    whole = hessian_operator(model, loss_fn, (X, y))
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=10)
    split = hessian_operator(model, loss_fn, loader)
    ref = dense_reference(model, copy.deepcopy(loss_fn).double(), X, y)
    np.testing.assert_allclose(split.dense(), whole.dense(), rtol=0,
                               atol=TOL * np.abs(whole.dense()).max())
    np.testing.assert_allclose(whole.dense(), ref[np.ix_(whole.layout.perm, whole.layout.perm)],
                               rtol=0, atol=TOL * np.abs(ref).max())
    with torch.no_grad():                                          # torch's own float32 mean
        assert split.loss == pytest.approx(float(loss_fn(model(X), y)), rel=1e-6)
    if kind != "weight":
        with pytest.raises(ValueError, match="every target is ignored"):
            hessian_operator(model, loss_fn, (X, torch.full_like(y, -100)))


def _paper_net(d=7, m=5, C=4, N=40, seed=1):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(d, m, bias=False), torch.nn.ReLU(),
                                torch.nn.Linear(m, C, bias=False))
    X, y = torch.randn(N, d), torch.randint(0, C, (N,))
    W = model[0].weight.detach().double().numpy()
    V = model[2].weight.detach().double().numpy()
    return model, X, y, W, V


def test_paper_network_equals_rmthess_networks():
    """Rows of W then rows of V: the adapter's block order is the package's parameter order."""
    model, X, y, W, V = _paper_net()
    Xn, yn = X.double().numpy(), y.numpy()
    op = hessian_operator(model, torch.nn.CrossEntropyLoss(), (X, y))
    assert op.layout.groups == (("0", 5, 7), ("2", 4, 5))
    ref = networks.hessian(Xn, yn, W=W, V=V, loss="ce")
    assert np.abs(op.dense() - ref).max() <= TOL * np.abs(ref).max()
    # nn.MSELoss averages over N·C entries: 2/C times ½‖f − e_y‖² averaged over N (TORCH-4)
    Y = torch.nn.functional.one_hot(y, 4).double()
    mse = hessian_operator(model, torch.nn.MSELoss(), (X, Y)).dense()
    ref = networks.hessian(Xn, yn, W=W, V=V, loss="mse")
    assert np.abs(mse - 2 / 4 * ref).max() <= TOL * np.abs(ref).max()
    # the Gauss–Newton part and the residual
    gn = gauss_newton_operator(model, torch.nn.CrossEntropyLoss(), (X, y)).dense()
    gref = networks.gauss_newton(Xn, yn, W=W, V=V, loss="ce")
    assert np.abs(gn - gref).max() <= TOL * np.abs(gref).max()
    res = HessianOperator(model, torch.nn.CrossEntropyLoss(), (X, y), kind="residual").dense()
    assert np.abs(res - (networks.hessian(Xn, yn, W=W, V=V, loss="ce") - gref)).max() <= (
        TOL * np.abs(gref).max())


def test_gauss_newton_equals_jacobian_product():
    """G = Σ_n Jₙᵀ ∇²ℓₙ Jₙ / N from the explicit Jacobian (a smooth model with biases)."""
    model, X, y = MODELS["mlp"]
    op = gauss_newton_operator(model, torch.nn.CrossEntropyLoss(), (X, y))
    m64 = copy.deepcopy(model).double()
    names = [n for n, _ in m64.named_parameters()]
    params = tuple(p.detach() for p in m64.parameters())

    def out(*ps):
        return functional_call(m64, dict(zip(names, ps, strict=True)), (X.double(),))

    J = jacrev(out, argnums=tuple(range(len(params))))(*params)
    J = torch.cat([j.reshape(X.shape[0], 3, -1) for j in J], dim=2).numpy()  # (N, C, P)
    p = torch.softmax(out(*params), dim=1).detach().numpy()
    Q = np.einsum("nc,cd->ncd", p, np.eye(3)) - p[:, :, None] * p[:, None, :]
    G = np.einsum("nci,ncd,ndj->ij", J, Q, J) / X.shape[0]
    perm = op.layout.perm
    assert np.abs(op.dense() - G[np.ix_(perm, perm)]).max() <= TOL * np.abs(G).max()


def test_layouts_name_rows_channels_heads_and_tensors():
    mlp = MODELS["mlp"][0]
    rows = hessian_operator(mlp, torch.nn.CrossEntropyLoss(), MODELS["mlp"][1:]).layout
    assert rows.groups == (("0", 5, 7), ("2", 3, 6))  # weight row + bias entry
    assert rows.block_labels[0] == "0[row 0]"
    assert rows.descriptions == {"0": "Linear 6→5: rows with bias",
                                 "2": "Linear 5→3: rows with bias"}
    # block 0 is row 0 of the first weight and its bias: indices 0..5 and 30 in parameter order
    assert rows.perm[:7].tolist() == [0, 1, 2, 3, 4, 5, 30]
    tensors = hessian_operator(mlp, torch.nn.CrossEntropyLoss(), MODELS["mlp"][1:],
                               blocks="parameters").layout
    assert tensors.groups == (("0.weight", 1, 30), ("0.bias", 1, 5), ("2.weight", 1, 15),
                              ("2.bias", 1, 3))
    cnn = hessian_operator(MODELS["cnn"][0], torch.nn.CrossEntropyLoss(),
                           MODELS["cnn"][1:]).layout
    assert cnn.groups == (("0", 3, 2 * 9 + 1), ("3", 3, 49))
    att = hessian_operator(MODELS["attention"][0], torch.nn.CrossEntropyLoss(),
                           MODELS["attention"][1:]).layout
    assert att.groups == (("attn.q", 2, 36), ("attn.k", 2, 36), ("attn.v", 2, 36),
                          ("attn.out", 2, 32), ("head", 3, 9), ("attn.out_proj.bias", 1, 8))
    # head 1 of the queries: rows 4..7 of in_proj_weight (8 columns each) and in_proj_bias[4:8]
    q1 = att.perm[36:72]
    assert q1[:32].tolist() == list(range(32, 64))
    assert q1[32:].tolist() == [24 * 8 + 4 + i for i in range(4)]
    # head 1 of the output projection: columns 4..7 of out_proj.weight (8 × 8, after the 24 × 8
    # in_proj_weight and the 24 in_proj_bias)
    out1 = att.perm[3 * 72 + 32:3 * 72 + 64]
    start = 24 * 8 + 24
    assert out1.tolist() == [start + 8 * r + c for r in range(8) for c in range(4, 8)]


def test_user_groups_of_unequal_blocks_and_the_rest():
    model, X, y = MODELS["mlp"]
    op = hessian_operator(model, torch.nn.CrossEntropyLoss(), (X, y),
                          blocks={"first": [np.arange(10), np.arange(10, 30)]})
    lay = op.layout
    assert lay.groups[0] == ("first", 2, (10, 20))
    assert lay.block_types == ("first", "rest")
    assert lay.sizes[:2] == (10, 20) and sum(lay.sizes) == op.shape[0]
    M = networks.block_norm_map(op, lay)
    H = op.dense()
    assert np.isclose(M[0, 1], np.linalg.norm(H[:10, 10:30]), rtol=1e-12)


def test_weighted_loss_and_frozen_attention_projections():
    """A loss with its own tensors (class weights) follows the model's dtype; frozen input
    projections of attention leave their bias a block of its own."""
    model, X, y = MODELS["mlp"]
    loss_fn = torch.nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0, 3.0]))
    ref = dense_reference(model, torch.nn.CrossEntropyLoss(
        weight=torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)), X, y)
    op = hessian_operator(model, loss_fn, (X, y))
    perm = op.layout.perm
    assert np.abs(op.dense() - ref[np.ix_(perm, perm)]).max() <= TOL * np.abs(ref).max()
    att = copy.deepcopy(MODELS["attention"][0])
    att.attn.in_proj_weight.requires_grad_(False)
    lay = hessian_operator(att, torch.nn.CrossEntropyLoss(), MODELS["attention"][1:]).layout
    assert ("attn.in_proj_bias", 1, 24) in lay.groups and "attn.q" not in lay.block_types


def test_float32_and_bad_input():
    model, X, y = MODELS["mlp"]
    loss_fn = torch.nn.CrossEntropyLoss()
    H64 = hessian_operator(model, loss_fn, (X, y)).dense()
    H32 = hessian_operator(model, loss_fn, (X, y), dtype="float32").dense()
    assert np.abs(H32 - H64).max() <= 1e-5 * np.abs(H64).max()  # float32 rounding
    with pytest.raises(ValueError, match="torch.nn.Module"):
        hessian_operator(lambda x: x, loss_fn, (X, y))
    with pytest.raises(ValueError, match="reduction"):
        hessian_operator(model, torch.nn.CrossEntropyLoss(reduction="none"), (X, y))
    with pytest.raises(ValueError, match="scalar"):
        hessian_operator(model, lambda out, t: (out - 0).sum(1), (X, y))
    with pytest.raises(ValueError, match="reduction"):
        hessian_operator(model, loss_fn, (X, y), reduction="batchmean")
    with pytest.raises(ValueError, match="overlap"):
        hessian_operator(model, loss_fn, (X, y), blocks={"a": [[0, 1], [1, 2]]})
    with pytest.raises(ValueError, match="integers"):                # not truncated to [0, 1]
        hessian_operator(model, loss_fn, (X, y), blocks={"a": [[0.5, 1.7]]})
    with pytest.raises(ValueError, match="boolean mask"):
        hessian_operator(model, loss_fn, (X, y), blocks={"a": [[True, False, True]]})
    with pytest.raises(ValueError, match="non-empty"):
        hessian_operator(model, loss_fn, (X, y), blocks={"a": [[0], []]})
    with pytest.raises(ValueError, match="blocks must be"):
        hessian_operator(model, loss_fn, (X, y), blocks="neurons")
    with pytest.raises(ValueError, match="same, non-zero"):
        hessian_operator(model, loss_fn, (X, y[:5]))
    with pytest.raises(ValueError, match="data must be"):
        hessian_operator(model, loss_fn, 3.0)
    with pytest.raises(ValueError, match="dtype"):
        hessian_operator(model, loss_fn, (X, y), dtype="float16")
    with pytest.raises(ValueError, match="failed on the data: RuntimeError"):
        hessian_operator(model, loss_fn, (X[:, :4], y))          # wrong input width
    with pytest.raises(ValueError, match="failed on the data"):
        hessian_operator(model, loss_fn, (X, y.double()))        # float class targets
    with pytest.raises(ValueError, match="not usable here"):
        hessian_operator(model, loss_fn, (X, y), device="gpu0")
    drop = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Dropout(0.5), torch.nn.Linear(5, 3))
    with pytest.raises(ValueError, match="training mode"):
        hessian_operator(drop, loss_fn, (X, y))
    bn = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.BatchNorm1d(5), torch.nn.Linear(5, 3))
    with pytest.raises(ValueError, match="call model.eval"):
        hessian_operator(bn, loss_fn, (X, y))
    hessian_operator(bn.eval(), loss_fn, (X, y))                 # evaluation mode is fine
    frozen = copy.deepcopy(model).requires_grad_(False)
    with pytest.raises(ValueError, match="requires_grad"):
        hessian_operator(frozen, loss_fn, (X, y))


class SelfAttention(torch.nn.MultiheadAttention):
    """A model that is itself the attention layer (the top-level module has the name '')."""

    def forward(self, x):
        return super().forward(x, x, x, need_weights=False)[0].mean(1)


def test_top_level_attention_and_linear_layouts():
    """Heads of a top-level attention layer (its out_proj inside it, not a Linear of its own)
    and the rows of a bare Linear; the operator still equals the dense reference."""
    torch.manual_seed(3)
    model, X, y = SelfAttention(4, 2, batch_first=True), torch.randn(5, 3, 4), torch.randn(5, 4)
    loss_fn = torch.nn.MSELoss()
    op = hessian_operator(model, loss_fn, (X, y))
    assert [g for g, _, _ in op.layout.groups] == ["q", "k", "v", "out", "out_proj.bias"]
    assert op.layout.block_labels[:2] == ("q[head 0]", "q[head 1]")
    ref = dense_reference(model, loss_fn, X, y)
    np.testing.assert_allclose(op.dense(), ref[np.ix_(op.layout.perm, op.layout.perm)], rtol=0,
                               atol=TOL * np.abs(ref).max())
    lin = hessian_operator(torch.nn.Linear(3, 2), torch.nn.CrossEntropyLoss(),
                           (torch.randn(5, 3), torch.zeros(5, dtype=torch.long)))
    assert lin.layout.groups == (("linear", 2, 4),)
