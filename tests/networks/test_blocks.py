"""Block-norm maps, block ratios and the block-diagonality index."""

import numpy as np
import pytest

from rmthess.networks import (
    block_diagonality,
    block_layout,
    block_norm_map,
    block_ratios,
    cross_block_norm,
    dense_hessian,
)

# sums of squares formed in another order
NORM_RTOL = 1e-12


def _naive_map(H, sizes):
    off = np.concatenate([[0], np.cumsum(sizes)])
    B = len(sizes)
    return np.array([[np.linalg.norm(H[off[i]:off[i + 1], off[j]:off[j + 1]]) for j in range(B)]
                     for i in range(B)])


def test_norm_map_matches_naive(make_net):
    net = make_net("mlp", "ce", d=5, m=3, C=4)
    H = dense_hessian(net)
    M = block_norm_map(H, net.layout)
    np.testing.assert_allclose(M, _naive_map(H, net.layout.sizes), rtol=NORM_RTOL)
    sq = block_norm_map(H, net.layout.sizes, squared=True)
    np.testing.assert_allclose(sq, M**2, rtol=NORM_RTOL)
    assert M.shape == (7, 7)


def test_kronecker_ratio_is_closed_form():
    # H = A ⊗ B: ‖H_ij‖² = A_ij² ‖B‖², so the ratio is mean_{i≠j} A_ij² / mean_i A_ii²
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 4))
    A = A + A.T
    B = rng.standard_normal((3, 3))
    H = np.kron(A, B)
    r = block_ratios(H, block_layout(3, 4))["v"]
    off = ~np.eye(4, dtype=bool)
    assert r.ratio == pytest.approx(np.mean(A[off] ** 2) / np.mean(np.diag(A) ** 2), rel=NORM_RTOL)
    assert (r.n_diag, r.n_offdiag) == (4, 12)


def test_block_diagonality_and_cross(make_net):
    B = np.random.default_rng(1).standard_normal((3, 3))
    assert block_diagonality(block_norm_map(np.kron(np.eye(4), B), [3] * 4)) == 1.0
    net = make_net("mlp", "mse", d=4, m=2, C=3)
    H = dense_hessian(net)
    sq = block_norm_map(H, net.layout, squared=True)
    md = 8
    assert cross_block_norm(sq, net.layout) == pytest.approx(
        np.sum(H[:md, md:] ** 2) / (2 * 3), rel=NORM_RTOL)
    rat = block_ratios(H, net.layout)
    assert rat["output"].ratio == 0.0  # MSE: off-diagonal output blocks vanish exactly
    with pytest.raises(ValueError, match="hidden"):
        cross_block_norm(sq[:3, :3], block_layout(4, 3))


def test_bad_inputs():
    with pytest.raises(ValueError, match="add up"):
        block_norm_map(np.eye(4), [1, 2])
    with pytest.raises(ValueError, match="square"):
        block_norm_map(np.ones((2, 3)), [1, 1])
    with pytest.raises(ValueError, match="finite"):
        block_norm_map(np.full((2, 2), np.nan), [1, 1])
    with pytest.raises(ValueError, match="zero"):
        block_diagonality(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="unknown block type"):
        block_layout(3, 2).block_range("hidden")
