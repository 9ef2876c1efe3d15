"""Block-wise Hutchinson estimators: variance formula, Frobenius norms, critical probe count."""

import numpy as np
import pytest

from rmthess.networks import (
    block_frobenius,
    block_norm_map,
    block_trace_variance,
    block_traces,
    critical_probe_count,
    dense_hessian,
    hvp,
    minibatch_hessians,
    probes,
)
from tests._mc import monte_carlo, z_threshold
from tests.networks.conftest import _make

#: false-alarm rate per compared number (normal quantile: ≥ 300 probes); a check comparing k numbers
#: (one per block) states k·ALPHA
ALPHA = 6e-5
Z_MC = z_threshold(ALPHA)
#: the same probes through hvp, a dense matrix or a callable: H z summed in another order, a few
#: hundred ulps of the block trace
SAME_PROBES_RTOL = 1e-10


def _mc_check(samples, truth):
    """Sample variance of each column against ``truth``, within Z_MC standard errors."""
    c = samples - samples.mean(axis=0)
    var = np.mean(c**2, axis=0) * samples.shape[0] / (samples.shape[0] - 1)
    se = np.std(c**2, axis=0, ddof=1) / np.sqrt(samples.shape[0])
    assert np.all(np.abs(var - truth) <= Z_MC * se), (var, truth, se)


PROBES = {"rademacher": dict(probe="rademacher"), "gaussian": dict(probe="gaussian")}


#: 7 blocks, two comparisons each
@monte_carlo(alpha=14 * ALPHA, seed=42, params=PROBES)
def check_variance_formula(seed, probe):
    net = _make("mlp", "ce", n=30, d=6, m=3, C=4, seed=1)
    H = dense_hessian(net)
    off = net.layout.offsets
    R = 20000
    Z = probes((R, net.n_params), probe, rng=seed)
    samples = np.add.reduceat(Z * (Z @ H), off[:-1], axis=1)  # one-probe estimates T̂_l
    _mc_check(samples, block_trace_variance(H, net.layout, probe=probe))
    # unbiased: mean within Z_MC standard errors of the exact block traces
    tr = np.add.reduceat(np.diag(H), off[:-1])
    assert np.all(np.abs(samples.mean(axis=0) - tr) <= Z_MC * samples.std(axis=0) / np.sqrt(R))


@pytest.mark.parametrize("probe", PROBES)
def test_variance_formula_matches_monte_carlo(probe):
    check_variance_formula(42, probe)


def test_rademacher_beats_gaussian_by_the_diagonal_term(make_net):
    net = make_net("linear", "ce", d=4, C=3)
    H = dense_hessian(net)
    diff = (block_trace_variance(H, net.layout, probe="gaussian")
            - block_trace_variance(H, net.layout, probe="rademacher"))
    expected = 2 * np.add.reduceat(np.diag(H) ** 2, net.layout.offsets[:-1])
    np.testing.assert_allclose(diff, expected, rtol=1e-12)


#: 7 blocks
@monte_carlo(alpha=7 * ALPHA, seed=7)
def check_block_traces(seed):
    net = _make("mlp", "mse", n=30, d=5, m=3, C=4, seed=3)
    H = dense_hessian(net)
    est = block_traces(net, net.layout, 400, rng=seed)
    tr = np.add.reduceat(np.diag(H), net.layout.offsets[:-1])
    assert np.all(np.abs(est.estimate - tr) <= Z_MC * est.stderr + 1e-14)


def test_block_traces_from_hvps(make_net):
    net = make_net("mlp", "mse", n=30, d=5, m=3, C=4, seed=3)
    H = dense_hessian(net)
    K = 400
    check_block_traces(7)
    est = block_traces(net, net.layout, K, rng=7)
    # the same probes through the dense matrix give the same numbers
    np.testing.assert_allclose(block_traces(H, net.layout, K, rng=7).estimate, est.estimate,
                               rtol=SAME_PROBES_RTOL, atol=1e-14)
    np.testing.assert_allclose(block_traces(lambda Z: hvp(net, Z), net.layout, K, rng=7).estimate,
                               est.estimate, rtol=SAME_PROBES_RTOL, atol=1e-14)


#: 5 × 5 block norms
@monte_carlo(alpha=25 * ALPHA, seed=11, params=PROBES)
def check_block_frobenius(seed, probe):
    net = _make("mlp", "ce", n=30, d=4, m=2, C=3, seed=5)
    exact = block_norm_map(dense_hessian(net), net.layout, squared=True)
    est = block_frobenius(net, net.layout, 300, probe=probe, rng=seed)
    assert np.all(np.abs(est.estimate - exact) <= Z_MC * est.stderr + 1e-14)


@pytest.mark.parametrize("probe", PROBES)
def test_block_frobenius_estimates_block_norms(probe):
    check_block_frobenius(11, probe)


def _spiked_hessian(P=120, seed=0):
    """Outliers over a small bulk (a trained network's Hessian): Hutch++'s case."""
    rng = np.random.default_rng(seed)
    U = np.linalg.qr(rng.standard_normal((P, 4)))[0]
    return (U * [40.0, 25.0, 10.0, -8.0]) @ U.T + 0.05 * np.diag(rng.random(P)), [30, 30, 60]


#: 3 blocks; Student-t with 39 degrees of freedom (40 probes; the sketch is fixed given its seed)
@monte_carlo(alpha=3 * ALPHA, seed=13)
def check_hutch_plus_plus_unbiased(seed):
    H, layout = _spiked_hessian()
    est = block_traces(H, layout, 40, method="hutch++", sketch=6, rng=seed)
    tr = np.add.reduceat(np.diag(H), np.cumsum([0] + layout[:-1]))
    assert np.all(np.abs(est.estimate - tr) <= z_threshold(ALPHA, dof=39) * est.stderr)


def test_hutch_plus_plus_is_unbiased_and_lowers_the_variance():
    check_hutch_plus_plus_unbiased(13)
    H, layout = _spiked_hessian()
    plain = block_traces(H, layout, 60, rng=1)
    plus = block_traces(H, layout, 40, method="hutch++", sketch=10, rng=1)
    assert plus.n_products == plain.n_products == 60  # 2·sketch + probes
    # rank 4 inside the sketch: only the diagonal bulk is left to the probes
    assert np.all(plus.stderr < 0.01 * plain.stderr)
    assert plus.method == "hutch++" and plain.method == "hutchinson"


def test_rtol_draws_probes_until_the_precision_is_met():
    H, layout = _spiked_hessian(seed=2)
    est = block_traces(H, layout, 10, rtol=0.02, max_probes=10**5, rng=3)
    assert np.all(est.stderr <= 0.02 * np.abs(est.estimate))
    assert est.n_probes > 10
    # probes_for projects the count from the sample variance (se ∝ 1/√K): a fresh run of that
    # many probes meets the target, up to the spread of its own standard error (≈ 1/√(2K))
    need = int(est.probes_for(0.01).max())
    fresh = block_traces(H, layout, need, rng=11)
    assert np.all(fresh.stderr <= 0.0115 * np.abs(fresh.estimate))
    # one probe has no standard error: rtol draws a second rather than calling the target met
    one = block_traces(H, layout, 1, rtol=0.5, max_probes=10**5, rng=3)
    assert one.n_probes >= 2 and one.target_met
    # a first round at twice the target must still draw more (not stop within 3 × rtol)
    first = block_traces(H, layout, 10, rng=5)
    target = float(np.max(first.stderr / np.abs(first.estimate))) / 2
    more = block_traces(H, layout, 10, rtol=target, max_probes=10**5, rng=5)
    assert more.n_probes > 10 and np.all(more.stderr <= target * np.abs(more.estimate))
    assert est.target_met and block_traces(H, layout, 10, rng=3).target_met is None
    with pytest.warns(UserWarning, match="not met within max_probes = 50"):
        capped = block_traces(H, layout, 10, rtol=1e-6, max_probes=50, rng=3)
    assert capped.n_probes == 50 and np.any(capped.stderr > 1e-6 * np.abs(capped.estimate))
    assert capped.target_met is False
    with pytest.warns(UserWarning, match="max_probes = 120"):  # default: P, the exact cost
        assert block_traces(H, layout, 10, rtol=1e-6, rng=3).n_probes == 120
    fro = block_frobenius(H, layout, 8, rtol=0.05, max_probes=10**5, rng=4)
    assert np.all(np.diag(fro.stderr) <= 0.05 * np.diag(fro.estimate))
    assert fro.n_products == len(layout) * fro.n_probes
    with pytest.raises(ValueError, match="rtol"):
        block_traces(H, layout, 10, rtol=0.0)
    with pytest.raises(ValueError, match="method"):
        block_traces(H, layout, 10, method="hutch")


def test_operators_of_every_kind_give_the_same_estimates():
    from scipy.sparse import csr_matrix
    from scipy.sparse.linalg import aslinearoperator

    H, layout = _spiked_hessian(seed=5)

    class AtOnly:  # anything with @ and a shape
        shape = H.shape

        def __matmul__(self, other):
            return H @ other

    ref = block_traces(H, layout, 20, rng=9).estimate
    for op in (aslinearoperator(H), csr_matrix(H), AtOnly()):
        np.testing.assert_allclose(block_traces(op, layout, 20, rng=9).estimate, ref,
                                   rtol=SAME_PROBES_RTOL)
        np.testing.assert_allclose(block_norm_map(op, layout), block_norm_map(H, layout),
                                   rtol=1e-13)


def test_minibatch_variance_decomposition(make_net):
    # Var over (batch, probe) of a one-probe estimate = E_B v(H_B) + Var_B tr H_B,ll;
    # batches drawn uniformly from a fixed population of 12, so the population variance is exact
    net = make_net("mlp", "ce", n=40, d=4, m=2, C=3, seed=6)
    Hs = list(minibatch_hessians(net, 10, 12, rng=3))
    cp = critical_probe_count(Hs, net.layout)
    assert cp.k_star.shape == (net.layout.n_blocks,)
    np.testing.assert_allclose(cp.k_star, cp.probe_variance / cp.batch_variance, rtol=1e-12)
    truth = cp.probe_variance + cp.batch_variance * (len(Hs) - 1) / len(Hs)
    rng = np.random.default_rng(8)
    R = 12000
    which = rng.integers(0, len(Hs), R)
    Z = probes((R, net.n_params), rng=rng)
    off = net.layout.offsets
    HZ = np.empty_like(Z)
    for b, H in enumerate(Hs):
        HZ[which == b] = Z[which == b] @ H
    samples = np.add.reduceat(Z * HZ, off[:-1], axis=1)
    _mc_check(samples, truth)
    assert np.all(cp.total_variance(4) < cp.total_variance(1))


def test_bad_inputs(make_net):
    net = make_net("mlp", "ce")
    with pytest.raises(ValueError, match="probe"):
        probes(3, "uniform")
    with pytest.raises(ValueError, match="n_probes"):
        block_traces(net, net.layout, 0)
    with pytest.raises(ValueError, match="square"):
        block_traces(np.ones((2, 3)), [1, 1], 2)
    with pytest.raises(ValueError, match="two"):
        critical_probe_count([np.eye(2)], [1, 1])
    with pytest.raises(ValueError, match="batch_size"):
        next(minibatch_hessians(net, 10**6, 2))
