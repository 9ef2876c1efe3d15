"""mlp-ce estimates: kernel twins, reproducibility, exact C = 2 structure, independent estimates."""

import math

import numpy as np
import pytest

from rmthess._jit import interpreted
from rmthess.cases import get_case
from rmthess.cases._mlp_ce_kernels import hidden_weights as kernel_weights
from rmthess.cases._mlp_ce_kernels import sums_numba
from rmthess.cases.mlp_ce import _per_v_statistics
from tests.cases.kernel_oracles import hidden_weights_numpy, sums_numpy

#: numba vs numpy: same arithmetic in a different order
RTOL_TWIN = 1e-12
#: Monte Carlo agreement in standard errors from 48 and 64 V draws:
#: false alarm ≈ 4 × P(|t_47| > 4.5)
#: ≈ 2e-4 for the four comparisons
K_SIGMA = 4.5

case = get_case("mlp-ce")


@pytest.mark.parametrize("C, m", [(2, 2), (5, 3), (12, 6)])
def test_kernel_matches_dense_numpy_form(C, m):
    """The kernel, compiled and interpreted, against the dense-matrix numpy oracle."""
    rng = np.random.default_rng(C * m)
    V = rng.standard_normal((3, C, m)) / math.sqrt(m)
    U = rng.standard_normal((3, 500, m))
    ref = sums_numpy(V, U)
    for compiled, n in ((True, 500), (False, 60)):
        got = sums_numba(V, U[:, :n], compiled=compiled)
        want = sums_numpy(V, U[:, :n]) if n < 500 else ref
        for a, b in zip(got, want, strict=True):
            np.testing.assert_allclose(a, b, rtol=RTOL_TWIN, atol=RTOL_TWIN * np.abs(b).max())


def test_hidden_weights_against_the_definition():
    """Monte Carlo weights of the hidden blocks: kernel, its interpreted twin, the dense numpy form
    and the definition ``Vᵀ(diag p − ppᵀ)V · 1(u_i>0)1(u_j>0)`` one sample at a time."""
    rng = np.random.default_rng(1234)
    n, m, c = 40, 5, 4
    u = rng.standard_normal((n, m))
    v = rng.standard_normal((c, m))
    p = rng.dirichlet(np.ones(c), size=n)
    a = kernel_weights(u, v, p)
    np.testing.assert_allclose(interpreted(kernel_weights)(u, v, p), a, rtol=RTOL_TWIN, atol=1e-15)
    np.testing.assert_allclose(hidden_weights_numpy(u, v, p), a, rtol=RTOL_TWIN, atol=1e-15)
    for t in (0, 7, 19):
        kappa = v.T @ (np.diag(p[t]) - np.outer(p[t], p[t])) @ v
        on = (u[t] > 0).astype(float)
        np.testing.assert_allclose(a[t], kappa * np.outer(on, on), rtol=1e-12, atol=1e-15)


def test_reproducible_and_seed_dependent():
    a = case.limits(1.0, 4, m=3, rng=42, samples=2048)
    b = case.limits(1.0, 4, m=3, rng=42, samples=2048)
    c = case.limits(1.0, 4, m=3, rng=43, samples=2048)
    assert a == b
    assert a.blocks["hidden"].ratio != c.blocks["hidden"].ratio


def test_two_classes_output_ratio_is_one():
    """C = 2: diag p − ppᵀ = p_1p_2 [[1, −1], [−1, 1]], so H_{v1v2} = −H_{v1v1} sample by sample."""
    blk = case.limits(1.0, 2, m=3, rng=1, samples=2048).blocks["output"]
    assert blk.ratio == pytest.approx(1.0, rel=1e-12)


def test_estimate_flags_and_errors():
    lim = case.limits(0.5, 6, m=4, rng=3, samples=(16, 512))
    for blk in lim.blocks.values():
        assert blk.estimate and blk.stderr_ratio > 0 and blk.stderr_g_ii > 0
    with pytest.raises(ValueError, match="samples"):
        case.limits(0.5, 6, m=4, samples=(1, 512))
    with pytest.raises(ValueError, match="samples"):
        case.limits(0.5, 6, m=4, samples=2.5)


def hidden_weights(V, u):
    """``a_ij(u) = κ_ij(u) 1(u_i>0) 1(u_j>0)``, ``κ = Vᵀ(diag p − ppᵀ)V``,
    ``p = softmax(V relu(u))``, from the definition (CASE-9), one row of u per draw; also returns
    ``diag p − ppᵀ`` and ``s = relu(u)``."""
    C = V.shape[0]
    s = np.maximum(u, 0)
    z = s @ V.T
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    Q = np.einsum("tc,cd->tcd", p, np.eye(C)) - p[:, :, None] * p[:, None, :]
    kap = np.einsum("ci,tcd,dj->tij", V, Q, V)
    ind = (u > 0).astype(float)
    return kap * ind[:, :, None] * ind[:, None, :], Q, s


def test_against_an_independent_brute_force_estimate():
    """Fresh V draws, κ from Vᵀ(diag p − ppᵀ)V, plain inner means (bias ≪ error at 4096 draws)."""
    C, m, gamma, n_v, n_u = 4, 3, 1.0, 48, 4096
    rng = np.random.default_rng(99)
    gd, go, od, oo = [], [], [], []
    for _ in range(n_v):
        V = rng.standard_normal((C, m)) / math.sqrt(m)
        u = rng.standard_normal((n_u, m))
        a, Q, s = hidden_weights(V, u)
        G = a.mean(0) ** 2 + gamma * (a * a).mean(0)
        gd.append(np.mean(np.diag(G)))
        go.append(G[~np.eye(m, dtype=bool)].mean())
        ss = s[:, :, None] * s[:, None, :]
        H = np.einsum("tcd,tkl->cdkl", Q, ss) / n_u
        od.append(np.mean([np.sum(H[c, c] ** 2) for c in range(C)]))
        oo.append(np.mean([np.sum(H[c, (c + 1) % C] ** 2) for c in range(C)]))
    lim = case.limits(gamma, C, m=m, rng=5, samples=(64, 4096))
    checks = ((gd, "hidden", "g_ii", "stderr_g_ii"), (go, "hidden", "g_ij", "stderr_g_ij"),
              (od, "output", "g_ii", "stderr_g_ii"), (oo, "output", "g_ij", "stderr_g_ij"))
    for x, blk, field, se in checks:
        x = np.asarray(x)
        b = lim.blocks[blk]
        err = math.hypot(x.std(ddof=1) / math.sqrt(n_v), getattr(b, se))
        assert abs(x.mean() - getattr(b, field)) <= K_SIGMA * err, (blk, field)


def test_per_v_statistics_unbiased_square():
    """The U-statistic of (E_u a)² has no 1/n bias: constant weights give exactly the square."""
    n, m, C = 10, 2, 3
    hS = np.full((1, m, m), 2.0 * n)
    hS2 = np.full((1, m, m), 4.0 * n)
    zeros = np.zeros((1, C, m, m)), np.zeros((1, C))
    stats = _per_v_statistics((hS, hS2, *zeros, *zeros), n)
    assert stats[0, 0] == pytest.approx(4.0) and stats[0, 2] == pytest.approx(4.0)


def test_fixed_V_block_law():
    """The law's mean is ``E_u a_01(u)`` (GMP: the first moment is the mean weight): against the
    definition sampled here with numpy (fresh draws), K_SIGMA standard errors of both means."""
    rng = np.random.default_rng(8)
    V = rng.standard_normal((5, 4)) / 2
    n = 4096
    law = case.block_law("hidden", "offdiag", 1.0, 5, m=4, V=V, rng=0, samples=n)
    a, _, _ = hidden_weights(V, rng.standard_normal((50_000, 4)))
    a01 = a[:, 0, 1]
    se = a01.std() * math.sqrt(1 / n + 1 / a01.size)
    assert abs(law.moment(1) - a01.mean()) <= K_SIGMA * se
    with pytest.raises(ValueError, match="m×m"):
        case.block_law("output", "diag", 1.0, 5, m=4, V=V)


def test_limits_over_gamma_share_one_set_of_draws():
    """``limits_over_gamma``: with one γ it is ``limits`` with the same seed (the same rows, so the
    same numbers to round-off); with two, each γ agrees with an independent ``limits`` run (other
    seed) within K_SIGMA combined standard errors (false alarm ≈ 4 × P(|t_31| > 4.5) ≈ 4e-4 for the
    four ratios), meets ``rtol``, and the γ-free output block is the same at both."""
    kw = {"m": 3, "rtol": 2e-2}
    one = case.limits_over_gamma([1.0], 3, rng=7, **kw)[1.0]
    ref = case.limits(1.0, 3, rng=7, **kw)
    for block in ("hidden", "output"):
        assert one.blocks[block].ratio == pytest.approx(ref.blocks[block].ratio, rel=1e-13)
    both = case.limits_over_gamma((0.5, 2.0), 3, rng=7, **kw)
    assert both[0.5].blocks["output"].ratio == both[2.0].blocks["output"].ratio
    for g in (0.5, 2.0):
        other = case.limits(g, 3, rng=8, **kw)
        for block in ("hidden", "output"):
            a, b = both[g].blocks[block], other.blocks[block]
            assert a.stderr_ratio <= 2e-2 * abs(a.ratio)
            assert abs(a.ratio - b.ratio) <= K_SIGMA * math.hypot(a.stderr_ratio, b.stderr_ratio)
    with pytest.raises(ValueError, match="gammas"):
        case.limits_over_gamma(1.0, 3, **kw)
    with pytest.raises(ValueError, match="gammas"):
        case.limits_over_gamma([], 3, **kw)
