"""Gaussian-softmax moments: float64 vs the mpmath oracle, and independent routes.

Independent oracles: Gauss–Hermite product quadrature of the original C-dimensional expectation
(C = 2, 3), brute-force Monte Carlo with error bars (C = 5), exact symmetry E p_1 = 1/C, the
identity E a² = (C−1)Q + (C−1)(C−2)T, mpmath self-convergence across precisions, and at large C
(10^3, 10^6) a Laplace-transform representation integrated by scipy's adaptive quadrature (the
mpmath oracle shares the package's quadrature plan, so it checks rounding, not the discretization).
"""

import json
import math
from pathlib import Path

import mpmath
import numpy as np
import pytest
from hypothesis import given
from scipy import integrate

from rmthess._validate import CLASSES, SIGMA_V
from rmthess.integrals import (
    softmax_mixed_moment,
    softmax_mixed_moment_mp,
    softmax_moments,
    softmax_moments_mp,
)
from tests._mc import monte_carlo, z_threshold

#: float64 vs mpmath, the issue's requirement (measured: ≤ 4e-15)
RTOL_FLOAT = 1e-12
#: Gauss–Hermite product rule with 80 nodes per axis: converged to rounding (measured ≤ 1e-15)
RTOL_GH = 1e-13
#: mpmath at dps vs dps + 10 agree to 10^(-dps+2) (self-convergence)
FIELDS = ("M1", "M2", "Q", "T", "A1", "A2", "P12")
GAMMAS = (1e-3, 0.25, 1.0, 4.0, 1e3)
CLASS_GRID = (2, 3, 10, 100, 10**3, 10**4, 10**5, 10**6)
ORACLE_DPS = 20


def _rel(a, b):
    return float(abs(a - b) / abs(b))


@pytest.fixture(scope="module")
def oracle():
    return {C: softmax_moments_mp(C, 1.0, dps=ORACLE_DPS) for C in CLASS_GRID}


@pytest.mark.parametrize("C", CLASS_GRID)
def test_float64_matches_mpmath_moments(C, oracle):
    m, ref = softmax_moments(C), oracle[C]
    for f in FIELDS:
        if C == 2 and f == "T":
            assert m.T == 0.0
            continue
        assert _rel(getattr(m, f), getattr(ref, f)) <= RTOL_FLOAT, f


@pytest.mark.parametrize("C", CLASS_GRID)
@pytest.mark.parametrize("gamma", GAMMAS)
def test_float64_matches_mpmath_block_norms(C, gamma, oracle):
    m, ref = softmax_moments(C), oracle[C]
    with mpmath.workdps(ORACLE_DPS):
        gd_ref, go_ref = ref.g_diag(mpmath.mpf(gamma)), ref.g_offdiag(mpmath.mpf(gamma))
        r_ref = go_ref / gd_ref
    gd, go = m.g_diag(gamma), m.g_offdiag(gamma)
    assert _rel(gd, gd_ref) <= RTOL_FLOAT
    assert _rel(go, go_ref) <= RTOL_FLOAT
    assert _rel(go / gd, r_ref) <= RTOL_FLOAT


@pytest.mark.parametrize("sigma, C", [(0.1, 2), (0.1, 10**6), (0.35, 3), (1 / math.sqrt(3), 50),
                                      (2.0, 2), (2.0, 10**4), (3.0, 3), (3.0, 10**6)])
def test_float64_matches_mpmath_other_sigma(sigma, C):
    m, ref = softmax_moments(C, sigma), softmax_moments_mp(C, sigma, dps=16)
    for f in FIELDS:
        if C > 2 or f != "T":
            assert _rel(getattr(m, f), getattr(ref, f)) <= RTOL_FLOAT, f


def _gauss_hermite_moments(C, sigma, n=80):
    x, w = np.polynomial.hermite_e.hermegauss(n)
    w = w / math.sqrt(2 * math.pi)
    grids = np.meshgrid(*([x] * C), indexing="ij")
    W = np.ones_like(grids[0])
    for k in range(C):
        W = W * w.reshape([-1 if i == k else 1 for i in range(C)])
    Z = sigma * np.stack(grids)
    Z = Z - Z.max(0)
    E = np.exp(Z)
    P = E / E.sum(0)
    out = {f"M{k}": float((W * P[0] ** k).sum()) for k in (1, 2)}
    out["A1"] = float((W * P[0] * (1 - P[0])).sum())
    out["A2"] = float((W * (P[0] * (1 - P[0])) ** 2).sum())
    out["P12"] = float((W * P[0] * P[1]).sum())
    out["Q"] = float((W * P[0] ** 2 * P[1] ** 2).sum())
    out["T"] = float((W * P[0] ** 2 * P[1] * P[2]).sum()) if C >= 3 else 0.0
    return out


@pytest.mark.parametrize("C", [2, 3])
@pytest.mark.parametrize("sigma", [0.5, 1.0])
def test_direct_quadrature_small_C(C, sigma):
    ref = _gauss_hermite_moments(C, sigma)
    m = softmax_moments(C, sigma)
    for f in FIELDS:
        if C > 2 or f != "T":
            assert _rel(getattr(m, f), ref[f]) <= RTOL_GH, f


#: nested adaptive QUADPACK (inner epsrel 1e-13, outer 1e-12) of the Laplace representation below;
#: measured ≤ 3e-15 against the float64 route; the bound is the outer epsrel with a 10× margin
RTOL_LAPLACE = 1e-11


def _laplace_mixed_moment(powers, C, sigma):
    """E ∏_i p_i^{k_i} from 1/x^K = ∫ t^{K−1} e^{−tx} dt / Γ(K) (K = Σ k_i, x = Σ_c e^{σZ_c}):

        (1/Γ(K)) ∫ t^{K−1} ∏_i E[e^{k_i σZ − t e^{σZ}}] · (1 − E[1 − e^{−t e^{σZ}}])^{C−n} dt,

    each Gaussian expectation by scipy's adaptive quadrature, t = e^u, and the (C − n)-th power
    through log1p so that C up to 10^6 keeps its digits. Shares no code with rmthess.integrals.
    """
    def gauss(f):
        val = integrate.quad(lambda z: f(math.exp(sigma * z), z) * math.exp(-0.5 * z * z),
                             -40, 40, epsabs=0, epsrel=1e-13, limit=400)[0]
        return val / math.sqrt(2 * math.pi)

    K = sum(powers)

    def integrand(u):
        t = math.exp(u)
        psi = gauss(lambda y, z: -math.expm1(-t * y))
        A = [gauss(lambda y, z, k=k: math.exp(k * sigma * z - t * y)) for k in powers]
        if min(A) <= 0 or psi >= 1:
            return 0.0
        return math.exp(K * u + sum(map(math.log, A)) + (C - len(powers)) * math.log1p(-psi))

    u0 = -math.log(C)       # the integrand peaks near t ~ 1/C
    return sum(integrate.quad(integrand, a, b, epsabs=0, epsrel=1e-12, limit=200)[0]
               for a, b in ((-80, u0), (u0, 40))) / math.gamma(K)


@pytest.mark.parametrize("C, sigma", [(1000, 2.0), (10**6, 1.0)])
def test_large_C_against_laplace_quadrature(C, sigma):
    """An independent route at large C, where Gauss–Hermite and Monte Carlo cannot reach and the
    mpmath oracle shares the package's quadrature plan."""
    m = softmax_moments(C, sigma)
    for f, powers in (("M2", [2]), ("Q", [2, 2]), ("T", [2, 1, 1])):
        assert _rel(getattr(m, f), _laplace_mixed_moment(powers, C, sigma)) <= RTOL_LAPLACE, f


#: stated false-alarm rate of the brute-force check (five moments; 4·10⁵ draws: normal quantile)
ALPHA_MC = 1e-4


@monte_carlo(alpha=ALPHA_MC, seed=12345)
def check_monte_carlo_moments(seed):
    K_SIGMA = z_threshold(ALPHA_MC, comparisons=5)
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((400_000, 5))
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    m = softmax_moments(5)
    a = p[:, 0] * (1 - p[:, 0])
    samples = {"M2": p[:, 0] ** 2, "A1": a, "A2": a * a, "P12": p[:, 0] * p[:, 1],
               "Q": p[:, 0] ** 2 * p[:, 1] ** 2, "T": p[:, 0] ** 2 * p[:, 1] * p[:, 2]}
    for f, x in samples.items():
        se = x.std(ddof=1) / math.sqrt(x.size)
        assert abs(x.mean() - getattr(m, f)) <= K_SIGMA * se, f


def test_monte_carlo_with_error_bars():
    """C = 5: brute-force sample means within the standard errors of ALPHA_MC."""
    check_monte_carlo_moments(12345)


@pytest.mark.parametrize("C", [3, 4, 17, 1000, 10**6])
def test_second_moment_identity(C):
    """E a² = (C−1)Q + (C−1)(C−2)T, both sides from different integrals."""
    m = softmax_moments(C)
    rhs = (C - 1) * m.Q + (C - 1) * (C - 2) * m.T
    assert _rel(m.mean_a2, rhs) <= RTOL_FLOAT


def test_second_moment_identity_mpmath():
    m = softmax_moments_mp(7, dps=30)
    with mpmath.workdps(30):
        rhs = 6 * m.Q + 30 * m.T
        assert abs(m.mean_a2 / rhs - 1) < mpmath.mpf(10) ** -27


def test_mpmath_self_convergence():
    lo, hi = softmax_moments_mp(30, 0.8, dps=16), softmax_moments_mp(30, 0.8, dps=26)
    with mpmath.workdps(26):
        for f in FIELDS:
            assert abs(getattr(lo, f) / getattr(hi, f) - 1) < mpmath.mpf(10) ** -14, f


@pytest.mark.parametrize("k", [1, 2, 3])
def test_mixed_moment_diag_weight_matches_expansion(k):
    """E[p_1^k (1-p_1)^k] by the partition formula vs the binomial expansion in M_j (mpmath)."""
    C = 6
    direct = softmax_mixed_moment([k], k, C)
    with mpmath.workdps(20):
        Ms = [softmax_mixed_moment_mp([j], 0, C, dps=20) for j in range(k, 2 * k + 1)]
        expanded = mpmath.fsum((-1) ** i * mpmath.binomial(k, i) * Ms[i] for i in range(k + 1))
    assert _rel(direct, expanded) <= RTOL_FLOAT


def test_mixed_moment_rest_power_matches_named_classes():
    """E[p_1 (1-p_1)] = (C-1) E[p_1 p_2]: the rest-sum and the named-class routes agree."""
    C = 9
    assert _rel(softmax_mixed_moment([1], 1, C), (C - 1) * softmax_mixed_moment([1, 1], 0, C)) \
        <= RTOL_FLOAT


@given(C=CLASSES.strategy(2, 10**7), sigma=SIGMA_V.strategy())
def test_mean_is_one_over_C(C, sigma):
    assert abs(softmax_moments(C, sigma).M1 * C - 1) <= RTOL_FLOAT


@given(C=CLASSES.strategy(2, 10**7), sigma=SIGMA_V.strategy())
def test_moment_inequalities(C, sigma):
    """Jensen and p ≤ 1: 1/C² ≤ M2 ≤ M1, a ≤ 1/4 so E a² ≤ E a/4; |E b| ≤ E a and E b² ≤ E a²."""
    m = softmax_moments(C, sigma)
    assert 1 / C ** 2 <= m.M2 * (1 + 1e-12) and m.M2 <= m.M1
    assert m.mean_a2 <= m.mean_a / 4 * (1 + 1e-12)
    assert abs(m.mean_b) <= m.mean_a and m.mean_b2 <= m.mean_a2 * (1 + 1e-12)


@pytest.mark.parametrize("bad", [1, 0, -3, 2.5, float("nan"), float("inf"), "ten", True])
def test_bad_classes(bad):
    with pytest.raises(ValueError, match="classes"):
        softmax_moments(bad)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_sigma(bad):
    with pytest.raises(ValueError, match="sigma_v"):
        softmax_moments(4, bad)
    with pytest.raises(ValueError, match="sigma_v"):
        softmax_moments_mp(4, bad, dps=15)


def test_bad_mixed_moment_arguments():
    with pytest.raises(ValueError, match="powers"):
        softmax_mixed_moment([0], 0, 3)
    with pytest.raises(ValueError, match="rest_power"):
        softmax_mixed_moment([1], -1, 3)
    with pytest.raises(ValueError, match="classes >= 3"):
        softmax_mixed_moment([1, 1, 1], 0, 2)
    with pytest.raises(ValueError, match="digits"):
        softmax_moments_mp(3, dps=0)


#: the mpmath oracle at the ends of the float64 domain, kept by make_softmax_reference.py
#: (minutes per point at σ_v ≥ 10); measured agreement ≤ 1e-13
_REFERENCE = json.loads((Path(__file__).with_name("softmax_reference.json")).read_text())


@pytest.mark.parametrize("point", _REFERENCE["points"],
                         ids=lambda p: f"sigma{p['sigma_v']}-C{p['classes']}")
def test_float64_matches_mpmath_at_domain_ends(point):
    m = softmax_moments(point["classes"], point["sigma_v"])
    for f in FIELDS:
        ref = mpmath.mpf(point[f])
        if ref == 0:
            assert getattr(m, f) == 0.0
        else:
            assert _rel(getattr(m, f), ref) <= RTOL_FLOAT, f


def test_large_sigma_block_norm_against_laplace_quadrature():
    """σ_v = 10, C = 3, γ = 1: the difference M2 − 2M3 + M4 gave g_ii = −0.228; the direct integrals
    agree with E a = (C−1) E p1p2 and E a² = (C−1)Q + (C−1)(C−2)T by the independent Laplace
    route."""
    C, sigma, gamma = 3, 10.0, 1.0
    P12 = _laplace_mixed_moment([1, 1], C, sigma)
    Q = _laplace_mixed_moment([2, 2], C, sigma)
    T = _laplace_mixed_moment([2, 1, 1], C, sigma)
    ea, ea2 = (C - 1) * P12, (C - 1) * Q + (C - 1) * (C - 2) * T
    m = softmax_moments(C, sigma)
    assert _rel(m.g_diag(gamma), ea * ea + gamma * ea2) <= RTOL_LAPLACE
    assert _rel(m.g_offdiag(gamma), P12 ** 2 + gamma * Q) <= RTOL_LAPLACE


@pytest.mark.parametrize("sigma", [15.01, 20.0, 1e-4, 9.99e-4])
def test_float64_domain_refused_outside(sigma):
    with pytest.raises(ValueError, match=r"sigma_v=.*outside \[0.001, 15\]"):
        softmax_moments(3, sigma)


def test_float64_mixed_moment_refuses_large_tilt():
    """max(k)·σ_v > 30 leaves float64 (the Gaussian weight of the tilt underflows): refused."""
    assert softmax_mixed_moment([3], 0, 3, 10.0) > 0
    with pytest.raises(ValueError, match="power 4"):
        softmax_mixed_moment([4], 0, 3, 8.0)


def test_mpmath_cost_guard():
    with pytest.raises(ValueError, match="digits.*(memory|take about)"):
        softmax_moments_mp(3, 1.0, dps=5000)
