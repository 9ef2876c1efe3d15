"""The softmax, its complement, ``diag p − ppᵀ`` and ``κ = Vᵀ(diag p − ppᵀ)V`` against mpmath.

Oracle: the defining formulas ``p = e^z/Σe^z``, ``1 − p``, ``Vᵀ diag(p) V − (Vᵀp)(Vᵀp)ᵀ`` evaluated
in mpmath on the same float64 inputs, with ``50 + (largest logit gap)/ln 10`` digits so that the
cancellations of the direct formulas still leave 50 correct digits.
"""

import math

import mpmath
import numpy as np
import pytest

from rmthess._jit import interpreted
from rmthess._softmax import (
    _kappa_rows,
    kappa,
    softmax,
    softmax_complement,
    softmax_jacobian,
    softmax_logsumexp,
    softmax_row,
)

#: the accuracy the module promises: 1e-13 relative. The float64 error is a few ulp of the result
#: plus the rounding of the exponent z_c − z_k (≤ 2^-53 |z_c − z_k| ≤ 7.8e-14 at a gap of 700);
#: measured ≤ 5.4e-14 over the cases below
RTOL = 1e-13
DIGITS = 50
GAPS = (30.0, 50.0, 100.0, 300.0, 700.0)


def _oracle(z, V):
    """``(p, 1 − p, Q, κ)`` of one row of logits at 50 correct digits."""
    gap = float(np.max(z) - np.min(z))
    with mpmath.workdps(DIGITS + int(gap / math.log(10)) + 10):
        e = [mpmath.exp(mpmath.mpf(float(x))) for x in z]
        tot = mpmath.fsum(e)
        p = [x / tot for x in e]
        q = [1 - x for x in p]
        C, m = V.shape
        Q = [[(p[a] if a == b else 0) - p[a] * p[b] for b in range(C)] for a in range(C)]
        v = [[mpmath.mpf(float(V[c, i])) for i in range(m)] for c in range(C)]
        mu = [mpmath.fsum(p[c] * v[c][i] for c in range(C)) for i in range(m)]
        K = [[mpmath.fsum(p[c] * v[c][i] * v[c][j] for c in range(C)) - mu[i] * mu[j]
              for j in range(m)] for i in range(m)]
        return (np.array([float(x) for x in p]), np.array([float(x) for x in q]),
                np.array([[float(x) for x in row] for row in Q]),
                np.array([[float(x) for x in row] for row in K]))


def _rows():
    """Logit rows: moderate ones, and saturated ones with one class ahead by 30 … 700."""
    rng = np.random.default_rng(20)
    rows = [rng.standard_normal(C) * s for C in (2, 3, 7, 20) for s in (0.1, 1.0, 5.0)]
    for gap in GAPS:
        for C in (2, 4, 11):
            z = rng.uniform(-3.0, 0.0, C)
            z[rng.integers(C)] = gap
            rows.append(z)
            y = z.copy()                      # two classes nearly tied at the top
            y[(np.argmax(z) + 1) % C] = gap - 0.5
            rows.append(y)
    return rows


def _rel(x, ref):
    scale = np.abs(ref)
    return np.max(np.abs(x - ref) / np.where(scale > 0, scale, 1.0))


@pytest.mark.parametrize("z", _rows(), ids=lambda z: f"C{z.size}-gap{np.ptp(z):.0f}")
def test_against_mpmath(z):
    rng = np.random.default_rng(z.size)
    V = rng.standard_normal((z.size, 4))
    p_ref, q_ref, Q_ref, K_ref = _oracle(z, V)
    p, q = softmax_complement(z)
    assert _rel(p, p_ref) <= RTOL and _rel(q, q_ref) <= RTOL
    pr, qr = np.empty_like(z), np.empty_like(z)           # the row form of the kernels
    softmax_row(z, pr, qr)
    assert _rel(pr, p_ref) <= RTOL and _rel(qr, q_ref) <= RTOL
    assert _rel(softmax_jacobian(z), Q_ref) <= RTOL
    # κ entrywise relative to √(κ_ii κ_jj) (off-diagonal entries may cancel to any size)
    K = kappa(V, p)
    d = np.sqrt(np.diag(K_ref))
    assert np.max(np.abs(K - K_ref) / np.outer(d, d)) <= RTOL
    np.testing.assert_array_equal(K, K.T)


def test_the_direct_formulas_fail_where_these_hold():
    """The oracle has power: ``1 − p`` and ``Vᵀ diag(p) V − μμᵀ`` lose all digits at a gap of 40."""
    z = np.array([0.0, -40.0, -41.0])
    V = np.random.default_rng(1).standard_normal((3, 2))
    p_ref, q_ref, _, K_ref = _oracle(z, V)
    p = np.exp(z) / np.exp(z).sum()
    assert _rel(1.0 - p, q_ref) > 0.5
    naive = V.T @ (p[:, None] * V) - np.outer(p @ V, p @ V)
    assert np.abs(naive[0, 0] - K_ref[0, 0]) > 1e-3 * K_ref[0, 0]
    assert _rel(softmax_complement(z)[1], q_ref) <= RTOL


def test_large_logits_against_scipy():
    """A second implementation (scipy.special.softmax) on rows of large logits (no overflow)."""
    from scipy.special import softmax as scipy_softmax

    z = np.random.default_rng(1234).standard_normal((50, 7)) * 30.0
    p = softmax(z)
    np.testing.assert_allclose(p, scipy_softmax(z, axis=1), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(p.sum(1), 1.0, rtol=1e-14)


def test_rows_and_shapes():
    rng = np.random.default_rng(3)
    z = rng.standard_normal((5, 4)) * 3
    p = softmax(z)
    assert p.shape == (5, 4) and softmax(z[2]).shape == (4,)
    np.testing.assert_array_equal(softmax(z[2]), p[2])
    V = rng.standard_normal((4, 3))
    assert kappa(V, p).shape == (5, 3, 3) and softmax_jacobian(z).shape == (5, 4, 4)
    np.testing.assert_array_equal(kappa(V, p[1]), kappa(V, p)[1])
    # softmax of huge logits does not overflow, and one class gives p = 1, q = 0
    np.testing.assert_allclose(softmax(np.array([1e300, 0.0])), [1.0, 0.0])
    p1, q1 = softmax_complement(np.array([[2.0]]))
    assert p1[0, 0] == 1.0 and q1[0, 0] == 0.0
    # the log-sum-exp beside p: against numpy's logaddexp on rows of large logits
    p2, lse = softmax_logsumexp(z)
    np.testing.assert_array_equal(p2, p)
    np.testing.assert_allclose(lse, np.logaddexp.reduce(z, axis=1), rtol=1e-14)


def test_row_array_compiled_and_interpreted_forms_agree():
    """The row form (compiled, and its interpreted twin) and the vectorised array form: a few ulp
    (sums in different orders; exp of libm and of LLVM may differ by 1 ulp)."""
    rng = np.random.default_rng(5)
    z = rng.standard_normal((50, 6)) * 4
    p, q, lse = (np.empty_like(z), np.empty_like(z), np.empty(50))
    pi, qi = np.empty_like(z), np.empty_like(z)
    for t in range(50):
        lse[t] = softmax_row(z[t], p[t], q[t])
        interpreted(softmax_row)(z[t], pi[t], qi[t])
    pa, qa = softmax_complement(z)
    for a, b in ((p, pa), (q, qa), (pi, pa), (qi, qa), (lse, softmax_logsumexp(z)[1])):
        np.testing.assert_allclose(a, b, rtol=1e-15, atol=0)
    V = rng.standard_normal((6, 3))
    k = [np.empty((50, 3, 3)) for _ in range(2)]
    _kappa_rows(V, pa, k[0])
    interpreted(_kappa_rows)(V, pa, k[1])
    np.testing.assert_allclose(k[0], k[1], rtol=1e-15, atol=1e-16)
    np.testing.assert_array_equal(kappa(V, pa), k[0])


def test_kappa_rows_across_parallel_blocks():
    """150 rows (the kernel's blocks of 64, the last one partial): every row equals the one-row
    call, and the centred form against the direct one at moderate logits (1e-12)."""
    rng = np.random.default_rng(8)
    p = softmax(rng.standard_normal((150, 7)))
    V = rng.standard_normal((7, 4))
    K = kappa(V, p)
    for t in (0, 63, 64, 127, 128, 149):
        np.testing.assert_array_equal(K[t], kappa(V, p[t]))
    direct = np.einsum("nc,ci,cj->nij", p, V, V) - np.einsum("ni,nj->nij", p @ V, p @ V)
    np.testing.assert_allclose(K, direct, rtol=1e-12, atol=1e-12 * np.abs(direct).max())


@pytest.mark.parametrize("bad", [np.array([0.0, np.nan]), np.array([np.inf, 0.0]),
                                 np.zeros((2, 2, 2)), np.zeros((3, 0))])
def test_bad_logits_are_refused(bad):
    with pytest.raises(ValueError, match="logits"):
        softmax(bad)


def test_bad_kappa_shapes_are_refused():
    with pytest.raises(ValueError, match="C×m"):
        kappa(np.ones((3, 2)), np.ones((4, 4)) / 4)


def test_row_functions_interpreted():
    """The row functions behind κ, run uncompiled (their twins) against the compiled ones."""
    from rmthess._softmax import centre_row, kappa_entry

    rng = np.random.default_rng(9)
    V = rng.standard_normal((5, 3))
    p = softmax(rng.standard_normal(5) * 20)
    D1, D2 = np.empty((5, 3)), np.empty((5, 3))
    centre_row(V, p, D1)
    interpreted(centre_row)(V, p, D2)
    np.testing.assert_allclose(D1, D2, rtol=1e-15, atol=1e-16)
    np.testing.assert_allclose(D1, V - p @ V, rtol=1e-12, atol=1e-13)
    for i, j in ((0, 0), (0, 2), (1, 2)):
        assert interpreted(kappa_entry)(p, D1, i, j) == pytest.approx(kappa_entry(p, D1, i, j),
                                                                      rel=1e-15, abs=1e-300)


def test_non_finite_kappa_inputs_are_refused():
    with pytest.raises(ValueError, match="finite"):
        kappa(np.full((2, 2), np.nan), np.array([0.5, 0.5]))
