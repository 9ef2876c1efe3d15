"""Block norms from the Gram matrix against forming every block explicitly."""

import numpy as np
import pytest

from rmthess.montecarlo.blocknorms import (
    DenseWeights,
    StructuredWeights,
    block_matrix,
    block_norm_means,
    block_norm_table,
)

#: different summation orders of the same O(N² B) terms: a few hundred ulps at most
RTOL = 1e-10


def _explicit(F, lam_fn, B):
    """Table of ‖(1/N) Σ λ_n^{ij} f_n f_nᵀ‖²_F by forming each block (the oracle)."""
    n = F.shape[0]
    return np.array([[np.sum(((F.T * lam_fn(i, j)) @ F / n) ** 2) for j in range(B)]
                     for i in range(B)])


def _means(table):
    B = table.shape[0]
    off = ~np.eye(B, dtype=bool)
    return np.mean(np.diag(table)), np.mean(table[off])


@pytest.mark.parametrize("chunk", [7, 1000])
@pytest.mark.parametrize("kernel", [True, False])
def test_structured_ce(chunk, kernel):
    rng = np.random.default_rng(0)
    n, d, C = 23, 9, 4
    F = rng.standard_normal((n, d))
    p = rng.dirichlet(np.ones(C), size=n)
    w = StructuredWeights(p, p)
    oracle = _explicit(F, lambda i, j: (i == j) * p[:, i] - p[:, i] * p[:, j], C)
    diag, off = block_norm_means(F, w, chunk=chunk, kernel=kernel)
    od, oo = _means(oracle)
    assert diag == pytest.approx(od, rel=RTOL) and off == pytest.approx(oo, rel=RTOL)
    np.testing.assert_allclose(block_norm_table(F, w), oracle, rtol=RTOL)


def test_structured_mse_and_dense():
    rng = np.random.default_rng(1)
    n, d, B = 17, 6, 3
    F = rng.standard_normal((n, d))
    w = StructuredWeights(np.ones((n, B)), None)
    diag, off = block_norm_means(F, w, chunk=5)
    assert off == 0.0
    assert diag == pytest.approx(np.sum((F.T @ F / n) ** 2), rel=RTOL)
    lam = rng.standard_normal((n, B, B))
    lam = lam + lam.transpose(0, 2, 1)
    dw = DenseWeights(lam)
    oracle = _explicit(F, lambda i, j: lam[:, i, j], B)
    diag, off = block_norm_means(F, dw, chunk=4)
    od, oo = _means(oracle)
    assert diag == pytest.approx(od, rel=RTOL) and off == pytest.approx(oo, rel=RTOL)
    np.testing.assert_allclose(block_norm_table(F, dw), oracle, rtol=RTOL)
    np.testing.assert_allclose(block_matrix(F, dw, 0, 1), (F.T * lam[:, 0, 1]) @ F / n)


def test_mismatched_samples():
    with pytest.raises(ValueError, match="samples"):
        block_norm_means(np.ones((3, 2)), StructuredWeights(np.ones((4, 2))))
