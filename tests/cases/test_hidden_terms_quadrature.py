"""``α`` and ``T`` of the hidden-block constant (CASE-10) from their two-dimensional definitions.

With ``ξ = e^{vs − τs²/2}(v − τu)`` per coordinate, ``s = max(u, 0)``, ``v ~ N(0, τ)``, ``u ~ N(0, 1)``:
``α = E e^{2(vs − τs²/2)}`` (a coordinate that is neither i nor j) and
``T = E[e^{2(vs − τs²/2)}(v − τu)² 1(u > 0)]`` (coordinate i of ``E ξ²``). Oracle: adaptive 2-D
quadrature of these expectations over (u, v), without the Gaussian tilt that gives the closed forms.
"""

import math

import pytest
from scipy import integrate

from rmthess.cases.constants import hidden_terms

#: 2-D adaptive quadrature at epsrel 1e-11 of smooth Gaussian integrands: measured agreement ≤ 3e-14
QUAD_RTOL = 1e-11


def _expect(f, tau):
    """``E f(u, v)`` over ``u > 0`` (half of the u-line), ``v ~ N(0, τ)``, ``u ~ N(0, 1)``."""
    sd = math.sqrt(tau)

    def g(v, u):
        return (f(u, v) * math.exp(-0.5 * u * u - 0.5 * v * v / tau)
                / (2 * math.pi * sd))

    val, _ = integrate.dblquad(g, 0.0, 14.0, lambda u: 2 * tau * u - 14 * sd,
                               lambda u: 2 * tau * u + 14 * sd, epsabs=0.0, epsrel=1e-11)
    return val


@pytest.mark.parametrize("m", [3, 8])
def test_alpha_and_T_against_their_definitions(m):
    tau = 1 / m
    _, _, alpha, T = hidden_terms(m)
    # u < 0: s = 0, the factor is 1 with probability 1/2
    alpha_ref = 0.5 + _expect(lambda u, v: math.exp(2 * v * u - tau * u * u), tau)
    T_ref = _expect(lambda u, v: math.exp(2 * v * u - tau * u * u) * (v - tau * u) ** 2, tau)
    assert alpha == pytest.approx(alpha_ref, rel=QUAD_RTOL)
    assert T == pytest.approx(T_ref, rel=QUAD_RTOL)
