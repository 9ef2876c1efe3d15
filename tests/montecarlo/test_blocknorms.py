"""Block norms from the Gram matrix against forming every block explicitly."""

import numpy as np
import pytest

from rmthess.montecarlo.blocknorms import (
    DenseWeights,
    StructuredWeights,
    _chunks,
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


@pytest.mark.parametrize("n,chunk", [(1, 1), (7, 3), (600, 512), (1025, 512), (512, 512)])
def test_chunks_partition_the_rows(n, chunk):
    parts = _chunks(n, chunk)
    assert [a for a, _ in parts] == [0] + [b for _, b in parts[:-1]]
    assert parts[-1][1] == n
    sizes = [b - a for a, b in parts]
    assert all(0 < k <= chunk for k in sizes) and max(sizes) - min(sizes) <= 1


def test_reused_work_arrays_across_sizes():
    """Successive calls of different sizes and chunks share work arrays: each against its oracle."""
    rng = np.random.default_rng(2)
    for n, chunk, C, beta in [(40, 16, 3, True), (9, 512, 5, True), (33, 7, 2, False),
                              (40, 40, 3, True)]:
        F = rng.standard_normal((n, 5))
        p = rng.dirichlet(np.ones(C), size=n)
        w = StructuredWeights(p, p if beta else None)
        oracle = _explicit(F, lambda i, j, p=p, beta=beta: (
            (i == j) * p[:, i] - beta * p[:, i] * p[:, j]), C)
        diag, off = block_norm_means(F, w, chunk=chunk)
        od, oo = _means(oracle)
        assert diag == pytest.approx(od, rel=RTOL)
        assert off == pytest.approx(oo, rel=RTOL, abs=1e-300 if beta else 0.0)


@pytest.mark.parametrize("chunk", [0, -3])
def test_chunk_must_be_positive(chunk):
    p = np.full((4, 2), 0.5)
    with pytest.raises(ValueError, match="chunk"):
        block_norm_means(np.ones((4, 3)), StructuredWeights(p, p), chunk=chunk)


@pytest.mark.parametrize("chunk", [70, 1000])
@pytest.mark.parametrize("kernel", [True, False])
def test_several_panels_per_chunk(chunk, kernel):
    """N = 150: chunks of 75 or 150 rows, each reduced in panels of PANEL_ROWS rows whose
    edges fall inside the chunks (structured and dense weights) — against every block formed."""
    from rmthess.montecarlo.blocknorms import PANEL_ROWS

    rng = np.random.default_rng(3)
    n, d, C = 150, 5, 4
    assert n > 2 * PANEL_ROWS
    F = rng.standard_normal((n, d))
    p = rng.dirichlet(np.ones(C), size=n)
    oracle = _explicit(F, lambda i, j: (i == j) * p[:, i] - p[:, i] * p[:, j], C)
    diag, off = block_norm_means(F, StructuredWeights(p, p), chunk=chunk, kernel=kernel)
    od, oo = _means(oracle)
    assert diag == pytest.approx(od, rel=RTOL) and off == pytest.approx(oo, rel=RTOL)
    lam = rng.standard_normal((n, 3, 3))
    lam = lam + lam.transpose(0, 2, 1)
    oracle = _explicit(F, lambda i, j: lam[:, i, j], 3)
    diag, off = block_norm_means(F, DenseWeights(lam), chunk=chunk, kernel=kernel)
    od, oo = _means(oracle)
    assert diag == pytest.approx(od, rel=RTOL) and off == pytest.approx(oo, rel=RTOL)
