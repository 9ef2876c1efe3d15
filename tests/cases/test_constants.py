"""C → ∞ constants K_h, K_o: their 1-D reductions vs independent routes.

* the Gaussian integrals I_n(v) vs direct mpmath quadrature;
* the hidden pieces E h0², E h1², α, T: see test_hidden_terms_quadrature.py (quadrature of their
  definitions);
* E‖A‖², E‖B‖² vs a Monte Carlo over v of ‖M(v)‖²_F built entry by entry;
* a slow check against the finite-C Monte Carlo of the mlp-ce case at large C.
"""

import math

import mpmath
import numpy as np
import pytest

from rmthess.cases import get_case, hidden_constant, output_constant
from rmthess.cases.constants import _I, output_terms

from tests._mc import monte_carlo, z_threshold

#: I_n by the closed form + recursion vs mpmath quadrature (a few ulps)
RTOL_I = 1e-13
#: false-alarm rate of each Monte Carlo check under normal theory (two comparisons each; ≥ 3·10⁵
#: draws, or a ratio of 64 V draws in the slow test)
ALPHA = 1e-5
K_SIGMA = z_threshold(ALPHA, comparisons=2)


@pytest.mark.parametrize("v", [-6.0, -1.0, 0.0, 0.3, 2.0, 5.0])
@pytest.mark.parametrize("rho", [1.125, 1 + 2 / 3])
def test_gaussian_integrals(v, rho):
    got = _I(np.float64(v), rho)
    with mpmath.workdps(30):
        for n in range(3):
            ref = mpmath.quad(lambda u: u ** n * mpmath.exp(v * u - rho * u * u / 2),
                              [0, 1, mpmath.inf]) / mpmath.sqrt(2 * mpmath.pi)
            # I_1 for very negative v loses ~v² ulps to cancellation (v I_0 ≈ −1/√(2π))
            tol = RTOL_I * (1 + v * v) * (10 if n else 1)
            assert abs(got[n] / float(ref) - 1) <= tol, n


@monte_carlo(alpha=ALPHA, seed=11)
def check_output_norms(seed):
    m, n = 6, 300_000
    tau = 1 / m
    rng = np.random.default_rng(seed)
    for (rho, var), ref in zip(((1 + tau, tau), (1 + 2 * tau, 2 * tau)), output_terms(m)):
        v = math.sqrt(var) * rng.standard_normal((n, m))
        I0, I1, I2 = _I(v, rho)
        g0 = 0.5 + I0
        M2 = np.zeros(n)
        for k in range(m):
            others = np.prod(np.delete(g0, k, axis=1) ** 2, axis=1)
            M2 += others * I2[:, k] ** 2
            for l in range(m):
                if l != k:
                    rest = np.prod(np.delete(g0, [k, l], axis=1) ** 2, axis=1)
                    M2 += rest * I1[:, k] ** 2 * I1[:, l] ** 2
        assert abs(M2.mean() - ref) <= K_SIGMA * M2.std(ddof=1) / math.sqrt(n)


def test_output_norms_by_monte_carlo_over_v():
    check_output_norms(11)


@pytest.mark.parametrize("m", [1, 2])
def test_constants_need_three_hidden_units(m):
    with pytest.raises(ValueError, match="m >= 3"):
        hidden_constant(1.0, m)
    with pytest.raises(ValueError, match="m >= 3"):
        output_constant(m)
    with pytest.raises(ValueError, match="m >= 3"):
        get_case("mlp-ce").asymptote(1.0, 10, m=m)


def test_sigma_scaling_domain():
    """With V ~ N(0, σ²/m) the constants exist iff σ²/m < 1/2."""
    assert hidden_constant(1.0, 3, sigma_v=1.2) > 0
    with pytest.raises(ValueError, match="1/2"):
        output_constant(4, sigma_v=1.5)


def test_constants_decrease_towards_large_width():
    ks = [hidden_constant(1.0, m) for m in (3, 4, 8, 16)]
    ko = [output_constant(m) for m in (3, 4, 8, 16)]
    assert ks == sorted(ks, reverse=True) and ko == sorted(ko, reverse=True)


@pytest.mark.slow
def test_constants_against_finite_C_monte_carlo():
    """C = 3000, m = 8: C·ratio and C²·ratio approach K_h and K_o (measured bias ≲ 5% at C = 3000)."""
    BIAS = 0.12
    C, m = 3000, 8
    lim = get_case("mlp-ce").limits(1.0, C, m=m, rng=5, samples=(64, 1024))
    for blk, K, p in ((lim.blocks["hidden"], hidden_constant(1.0, m), 1),
                      (lim.blocks["output"], output_constant(m), 2)):
        assert abs(blk.ratio * C ** p - K) <= K_SIGMA * blk.stderr_ratio * C ** p + BIAS * K
