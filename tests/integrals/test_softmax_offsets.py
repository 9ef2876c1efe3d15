"""Softmax moments with class offsets (theory/softmax_moments.md, SMO-1..SMO-4) against oracles:
the identical-class integrals (SM-2/SM-4), mpmath at C = 2, a Gauss–Hermite product rule at C = 3,
and Monte Carlo with error bars at C = 40."""

import math

import mpmath
import numpy as np
import pytest

from rmthess.integrals import softmax_moments
from rmthess.integrals.softmax_offsets import offset_softmax_moments
from rmthess.laws.prior import zipf_prior


@pytest.mark.parametrize("classes", [2, 3, 10, 1000])
@pytest.mark.parametrize("sigma", [0.05, 0.5, 1.0, 2.0, 5.0])
def test_equal_offsets_match_identical_classes(classes, sigma):
    # equal offsets are identical classes: the (SM-2)/(SM-4) integrals are a separate derivation
    # and code path, each ~1e-15 (SM-6); measured ≤ 1e-14 over σ in [0.05, 5], bound 1e-13.
    # C ≤ 10 runs the classes one by one (π_c ≥ 0.05), C = 1000 the projected measure (SMO-3)
    m = softmax_moments(classes, sigma)
    o = offset_softmax_moments(np.full(classes, 0.7), sigma, pairs=[(0, 1)])
    C = classes
    pairs = C * (C - 1)
    for got, ref in [(o.mean_a, m.mean_a), (o.mean_a2, m.mean_a2),
                     (o.pair_b[0], m.P12), (o.pair_b2[0], m.Q),
                     (o.sum_b2, pairs * m.Q), (o.sum_b_sq, pairs * m.P12 ** 2)]:
        assert np.max(np.abs(np.asarray(got) / ref - 1.0)) < 1e-13


@pytest.mark.parametrize("sigma", [0.3, 1.0, 2.5])
@pytest.mark.parametrize("p1", [0.8, 0.999])
def test_two_classes_against_mpmath(sigma, p1):
    # C = 2: p_1 = sigmoid(D + b_1 − b_2), D ~ N(0, 2σ²); a_1 = a_2 = p_1 p_2. 30-digit quadrature;
    # float64 route ~1e-15 (measured ≤ 8e-15, the dominant class summed alone: SMO-3), bound 1e-13
    b = [math.log(p1), math.log(1 - p1)]
    o = offset_softmax_moments(b, sigma, pairs=[(0, 1)])
    with mpmath.workdps(30):
        s = mpmath.sqrt(2) * sigma
        db = mpmath.log(p1) - mpmath.log(1 - p1)

        def mom(k):
            def f(x):                            # p_1 p_2 = 1/(e^{−y/2} + e^{y/2})², y = sx + db
                y = s * x + db
                gauss = mpmath.exp(-x * x / 2) / mpmath.sqrt(2 * mpmath.pi)
                return gauss * (1 / (mpmath.exp(-y / 2) + mpmath.exp(y / 2))) ** (2 * k)

            return mpmath.quad(f, [-mpmath.inf, -db / s, 0, mpmath.inf])

        ea, ea2 = float(mom(1)), float(mom(2))
    assert np.max(np.abs(o.mean_a / ea - 1)) < 1e-13
    assert np.max(np.abs(o.mean_a2 / ea2 - 1)) < 1e-13
    assert abs(o.pair_b[0] / ea - 1) < 1e-13 and abs(o.pair_b2[0] / ea2 - 1) < 1e-13


@pytest.mark.parametrize("sigma", [0.5, 1.5])
def test_three_classes_against_product_gauss_hermite(sigma):
    # 3-d Gauss–Hermite product rule (90³ nodes, exact for the smooth integrand to ~1e-15 at these
    # σ; measured agreement ≤ 3e-14), bound 1e-12
    x, wt = np.polynomial.hermite_e.hermegauss(90)
    wt = wt / wt.sum()
    Z = np.stack(np.meshgrid(x, x, x, indexing="ij"), -1).reshape(-1, 3)
    W = np.einsum("i,j,k->ijk", wt, wt, wt).ravel()
    b = np.log([0.6, 0.3, 0.1])
    z = sigma * Z + b
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    a = p * (1 - p)
    o = offset_softmax_moments(b, sigma, pairs=[(0, 1), (1, 2), (2, 0)])
    assert np.max(np.abs(o.mean_a / (W @ a) - 1)) < 1e-12
    assert np.max(np.abs(o.mean_a2 / (W @ a ** 2) - 1)) < 1e-12
    pp = {(i, j): p[:, i] * p[:, j] for i in range(3) for j in range(3) if i != j}
    for k, (c, d) in enumerate(o.pairs):
        assert abs(o.pair_b[k] / (W @ pp[c, d]) - 1) < 1e-12
        assert abs(o.pair_b2[k] / (W @ pp[c, d] ** 2) - 1) < 1e-12
    assert abs(o.sum_b2 / sum(W @ v ** 2 for v in pp.values()) - 1) < 1e-12
    assert abs(o.sum_b_sq / sum((W @ v) ** 2 for v in pp.values()) - 1) < 1e-12


def test_zipf_against_monte_carlo():
    # C = 40, Zipf S = 1.1, σ = 1: 4·10⁵ seeded draws. 81 z-scores (E a_c, E a_c², Σ E p_c²p_c'²);
    # |z| < 5 each: false alarm ≤ 81 · 5.7e-7 ≈ 5e-5 (normal approximation, n large)
    C, n = 40, 400_000
    b = np.log(zipf_prior(C, 1.1))
    o = offset_softmax_moments(b, 1.0)
    rng = np.random.default_rng(20261130)
    ea = np.zeros(C)
    ea2 = np.zeros(C)
    va, va2 = np.zeros(C), np.zeros(C)
    s2 = []
    for _ in range(8):
        z = rng.standard_normal((n // 8, C)) + b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        a = p * (1 - p)
        ea += a.sum(0)
        ea2 += (a ** 2).sum(0)
        va += (a ** 2).sum(0)
        va2 += (a ** 4).sum(0)
        q = (p ** 2).sum(1)
        s2.append(q * q - (p ** 4).sum(1))       # Σ_{c≠c'} p_c² p_c'²
    ea, ea2 = ea / n, ea2 / n
    se_a = np.sqrt((va / n - ea ** 2) / n)
    se_a2 = np.sqrt((va2 / n - ea2 ** 2) / n)
    za = (o.mean_a - ea) / se_a
    za2 = (o.mean_a2 - ea2) / se_a2
    s2 = np.concatenate(s2)
    zs = (o.sum_b2 - s2.mean()) / (s2.std() / math.sqrt(n))
    # measured: max |z| = 2.7 (E a_c), 2.4 (E a_c²), 0.37 (pair sum)
    assert np.max(np.abs(za)) < 5 and np.max(np.abs(za2)) < 5 and abs(zs) < 5


def test_invalid_input():
    with pytest.raises(ValueError, match="finite"):
        offset_softmax_moments([0.0, np.nan], 1.0)
    with pytest.raises(ValueError, match="at least 2"):
        offset_softmax_moments([0.0], 1.0)
    with pytest.raises(ValueError, match="distinct"):
        offset_softmax_moments([0.0, 1.0], 1.0, pairs=[(1, 1)])
    with pytest.raises(ValueError, match="sigma_v"):
        offset_softmax_moments([0.0, 1.0], 9.0)
