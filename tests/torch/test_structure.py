"""The structure tools of rmthess.networks on PyTorch operators, against the dense Hessian.

The dense matrix is the operator's own ``dense()`` — checked against ``torch.func.hessian`` in
test_operator.py — so these tests isolate the matrix-free estimators: exact block maps and spectra
to rounding, Lanczos to 1e-8, Monte Carlo estimates within their standard errors over 20 seeds,
the SLQ density within its stated 1-Wasserstein distance.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from rmthess import networks  # noqa: E402
from rmthess.networks.lanczos import slq_density, top_eigenvalues  # noqa: E402
from rmthess.torch import hessian_operator  # noqa: E402
from tests._mc import monte_carlo, z_threshold  # noqa: E402

SEEDS = 20


def _operator(kind="mlp"):
    torch.manual_seed(3)
    if kind == "mlp":
        model = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.ReLU(),
                                    torch.nn.Linear(4, 3))
        X, y = torch.randn(60, 5), torch.randint(0, 3, (60,))
    else:
        model = torch.nn.Sequential(torch.nn.Conv1d(2, 3, 3), torch.nn.Tanh(),
                                    torch.nn.Flatten(), torch.nn.Linear(3 * 6, 3))
        X, y = torch.randn(20, 2, 8), torch.randint(0, 3, (20,))
    return hessian_operator(model, torch.nn.CrossEntropyLoss(), (X, y))


OP = {k: _operator(k) for k in ("mlp", "cnn")}
DENSE = {k: op.dense() for k, op in OP.items()}


@pytest.mark.parametrize("kind", sorted(OP))
def test_exact_block_maps_ratios_and_block_spectra(kind):
    op, H = OP[kind], DENSE[kind]
    lay = op.layout
    np.testing.assert_allclose(networks.block_norm_map(op, lay), networks.block_norm_map(H, lay),
                               rtol=1e-12, atol=1e-15 * np.abs(H).max())
    for t, r in networks.block_ratios(op, lay).items():
        assert r.ratio == pytest.approx(networks.block_ratios(H, lay)[t].ratio, rel=1e-12)
    for a, b in zip(networks.block_spectra(op, lay), networks.block_spectra(H, lay),
                    strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12 * np.abs(H).max())


@pytest.mark.parametrize("kind", sorted(OP))
def test_lanczos_top_eigenvalues_within_1e_8_of_eigvalsh(kind):
    op, H = OP[kind], DENSE[kind]
    ev = np.linalg.eigvalsh(H)
    top = top_eigenvalues(op, 4, rng=0)
    scale = np.abs(ev).max()
    assert np.all(np.abs(top.values - ev[::-1][:4]) <= 1e-8 * scale)
    assert top.converged.all() and np.all(top.residuals <= 1e-8 * scale)
    off = op.layout.offsets
    ref = np.linalg.eigvalsh(H[off[1]:off[2], off[1]:off[2]])[::-1][:2]
    top = top_eigenvalues(op, 2, layout=op.layout, block=1, rng=0)
    assert np.all(np.abs(top.values - ref) <= 1e-8 * scale)


#: the pooled z-scores: 36 block norms and 2 × 6 block traces, Bonferroni over 48 numbers
POOLED_ALPHA = 1e-3
#: the spread of the 20 estimates against their stated standard errors: the sample standard
#: deviation of 20 values is within a factor 0.4–2 of the truth except with probability < 1e-4
#: for a normal law (chi-square, 19 dof); a few-probe norm estimate's skew widens the upper tail
SPREAD_BAND = (0.4, 2.0)


@monte_carlo(alpha=POOLED_ALPHA + 48 * 1e-4, seed=17)
def check_block_estimates_over_seeds(seed):
    """Block norms and block traces over 20 seeds: unbiased, and their standard errors right.

    One run's t-statistic of a few-probe norm estimate is skewed (a squared norm of a rank-deficient
    block); the mean over the 20 seeds (600 probes a number) is close to normal, so it is compared
    with the exact value at the pooled standard error, and the seeds' spread with the stated one.
    """
    op, H = OP["cnn"], DENSE["cnn"]
    lay = op.layout
    assert lay.n_blocks == 6
    exact = {"norms": networks.block_norm_map(H, lay, squared=True).ravel(),
             "traces": np.add.reduceat(np.diag(H), lay.offsets[:-1])}
    exact["hutch++"] = exact["traces"]
    runs = {k: [] for k in exact}
    for s in np.random.SeedSequence(seed).spawn(SEEDS):
        fro = networks.block_frobenius(op, lay, 30, rng=s)
        runs["norms"].append((fro.estimate.ravel(), fro.stderr.ravel()))
        tr = networks.block_traces(op, lay, 30, rng=s)
        runs["traces"].append((tr.estimate, tr.stderr))
        pp = networks.block_traces(op, lay, 20, method="hutch++", sketch=5, rng=s)
        runs["hutch++"].append((pp.estimate, pp.stderr))
    zmax = z_threshold(POOLED_ALPHA, comparisons=48)
    for name, vals in runs.items():
        est = np.array([v[0] for v in vals])
        se = np.sqrt(np.mean(np.array([v[1] for v in vals]) ** 2, axis=0))
        pooled = (est.mean(axis=0) - exact[name]) / (se / np.sqrt(SEEDS))
        assert np.all(np.abs(pooled) <= zmax), (name, pooled)
        spread = est.std(axis=0, ddof=1) / se
        assert np.all((spread >= SPREAD_BAND[0]) & (spread <= SPREAD_BAND[1])), (name, spread)


def test_block_estimates_within_their_standard_errors_over_20_seeds():
    check_block_estimates_over_seeds(17)


def test_slq_density_of_the_operator_within_its_stated_distance():
    op, H = OP["cnn"], DENSE["cnn"]
    ev = np.linalg.eigvalsh(H)
    before = op.n_products
    sd = slq_density(op, steps=30, n_probes=8, rng=2)
    assert op.n_products - before == sd.n_products == 240
    assert sd.wasserstein(ev) <= sd.w1_estimate <= sd.w1_bound
    blk = slq_density(op, steps=10, n_probes=6, layout=op.layout, block=0, rng=2)
    off = op.layout.offsets
    assert blk.wasserstein(np.linalg.eigvalsh(H[:off[1], :off[1]])) <= blk.w1_estimate
