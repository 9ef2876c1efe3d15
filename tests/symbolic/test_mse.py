"""Closed forms of the MSE cases derived by sympy, checked by numerical integration."""

import math

import pytest
from scipy import integrate

from rmthess.symbolic.mse import (
    linear_mse_limits,
    mlp_mse_hidden_limits,
    mlp_mse_output_norm,
    relu_gaussian_moments,
)

#: scipy quad of smooth Gaussian integrals
RTOL_QUAD = 1e-10


def test_relu_moments_by_quadrature():
    pdf = lambda u: math.exp(-u * u / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    p, e1, e2 = (float(x) for x in relu_gaussian_moments())
    assert p == 0.5
    assert e1 == pytest.approx(integrate.quad(lambda u: u * pdf(u), 0, math.inf)[0], rel=RTOL_QUAD)
    assert e2 == pytest.approx(integrate.quad(lambda u: u * u * pdf(u), 0, math.inf)[0],
                               rel=RTOL_QUAD)


def test_forms_of_the_spec():
    """THEORY §3–4, typed in: g_ii = 1 + γ; ratio (1+4γ)/(4(1+2γ)(C+2)); m/4 + m(m−1)/(4π²)."""
    import sympy as sp
    g_ii, g_ij = linear_mse_limits()
    gamma = next(iter(g_ii.free_symbols))
    assert sp.simplify(g_ii - (1 + gamma)) == 0 and g_ij == 0
    _, _, ratio = mlp_mse_hidden_limits()
    syms = {s.name: s for s in ratio.free_symbols}
    gm, C = syms["gamma"], syms["C"]
    assert sp.simplify(ratio - (1 + 4 * gm) / (4 * (1 + 2 * gm) * (C + 2))) == 0
    out = mlp_mse_output_norm()
    m = next(iter(out.free_symbols))
    assert sp.simplify(out - (m / 4 + m * (m - 1) / (4 * sp.pi ** 2))) == 0


def test_kurtosis_form_reduces_to_isserlis_at_the_gaussian_kurtosis():
    """(CASE-21) at μ₄ = 3 is the Gaussian (Isserlis) derivation of (CASE-7), term by term."""
    import sympy as sp

    from rmthess.symbolic.mse import mlp_mse_hidden_limits_by_kurtosis
    gen = mlp_mse_hidden_limits_by_kurtosis()
    mu4 = next(s for s in gen[0].free_symbols if s.name == "mu4")
    for a, b in zip(gen, mlp_mse_hidden_limits(), strict=True):
        assert sp.simplify(a.subs(mu4, 3) - b) == 0


def test_caches_are_bounded():
    for f in (relu_gaussian_moments, mlp_mse_hidden_limits, mlp_mse_output_norm):
        assert f.cache_info().maxsize == 1, f.__name__
