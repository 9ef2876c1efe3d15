r"""C → ∞ constants of the mlp cross-entropy case: ``K_h(γ, m)`` and ``K_o(m)``.

As C → ∞ (after d, N → ∞), for the one-hidden-layer ReLU network with CE loss and output weights
``V_ci ~ N(0, σ_v²/m)`` (theory/cases.md, (CASE-10)–(CASE-12)):

* hidden blocks: ``E‖H_{w_i w_j}‖²_F / E‖H_{w_i w_i}‖²_F = K_h/C · (1 + o(1))``;
* output blocks: ``E‖H_{v_i v_j}‖²_F / E‖H_{v_i v_i}‖²_F = K_o/C² · (1 + o(1))``.

Both reduce to one-dimensional Gaussian expectations, finite exactly when ``τ = σ_v²/m < 1/2``
(for LeCun output weights, σ_v = 1: m ≥ 3).
"""

from __future__ import annotations

import math

import numpy as np

from rmthess._validate import GAMMA, SIGMA_V, WIDTH

__all__ = ["hidden_constant", "output_constant", "hidden_terms", "output_terms"]

_SQRT2PI = math.sqrt(2.0 * math.pi)
#: relative accuracy requested from the adaptive quadrature of each 1-D expectation
QUAD_RTOL = 1e-11
_SPAN = 35.0  # integration range in standard deviations of v (the integrands decay like Gaussians)


def _tau(m, sigma_v):
    m = WIDTH.validate(m)
    sigma_v = SIGMA_V.validate(sigma_v)
    tau = sigma_v * sigma_v / m
    if not tau < 0.5:
        raise ValueError(f"the C → ∞ constants exist only for σ_v²/m < 1/2 (for σ_v = 1: m >= 3); "
                         f"got m={m}, sigma_v={sigma_v}")
    return m, tau


def _I(v, rho):
    """``I_n(v) = ∫_0^∞ uⁿ e^{vu − ρu²/2} du/√(2π)``, n = 0, 1, 2 (CASE-11)."""
    from scipy import special  # deferred: scipy is not needed to import rmthess.cases

    I0 = np.exp(-0.5 * math.log(rho) + v * v / (2 * rho) + special.log_ndtr(v / math.sqrt(rho)))
    I1 = (v * I0 + 1.0 / _SQRT2PI) / rho
    I2 = (v * I1 + I0) / rho
    return I0, I1, I2


def _gauss_expect(f, var):
    from scipy import integrate

    sd = math.sqrt(var)

    def g(v):
        return f(v) * math.exp(-v * v / (2 * var)) / (sd * _SQRT2PI)

    total = 0.0
    for a, b in ((-_SPAN * sd, 0.0), (0.0, _SPAN * sd)):
        val, _ = integrate.quad(g, a, b, epsabs=0.0, epsrel=QUAD_RTOL, limit=400)
        total += val
    return total


def hidden_terms(m, sigma_v=1.0):
    r"""``(E h0², E h1², α, T)`` of the hidden-block constant (CASE-10).

    ``τ = σ_v²/m``, ``ρ = 1 + τ``, ``v ~ N(0, τ)``; ``h0 = ½ + I_0(v)``, ``h1 = v I_0 − τ I_1``;
    ``α = ½ + ½(1 − 2τ)^{−1/2}``, ``T = ½[τ(1 − 2τ)^{−1/2} + τ²(1 − 2τ)^{−3/2}]``.
    """
    m, tau = _tau(m, sigma_v)
    rho = 1.0 + tau

    def h0sq(v):
        I0, _, _ = _I(v, rho)
        return (0.5 + I0) ** 2

    def h1sq(v):
        I0, I1, _ = _I(v, rho)
        return (v * I0 - tau * I1) ** 2

    beta = 1.0 - 2.0 * tau
    alpha = 0.5 + 0.5 / math.sqrt(beta)
    T = 0.5 * (tau / math.sqrt(beta) + tau * tau / beta ** 1.5)
    return _gauss_expect(h0sq, tau), _gauss_expect(h1sq, tau), alpha, T


def hidden_constant(gamma, m, sigma_v=1.0) -> float:
    r"""``K_h(γ, m) = [(E h0²)^{m−2}(E h1²)² + γ α^{m−2} T²] / (τ²(1/4 + γ/2))`` (CASE-10).

    Parameters
    ----------
    gamma : float
        Aspect ratio ``d/N > 0``.
    m : int
        Hidden width; ``ValueError`` unless ``σ_v²/m < 1/2`` (m >= 3 for σ_v = 1).
    sigma_v : float, optional
        Output-weight scale, ``V_ci ~ N(0, σ_v²/m)``.

    Notes
    -----
    ``E‖H_{w_i w_j}‖²_F / E‖H_{w_i w_i}‖²_F = K_h/C·(1 + o(1))``; with τ = 1/m the denominator is
    ``(1/4 + γ/2)/m²``, the form of arXiv:2505.02809, theorem 2.

    Examples
    --------
    >>> from rmthess.cases import hidden_constant
    >>> hidden_constant(1.0, 2)
    Traceback (most recent call last):
    ...
    ValueError: the C → ∞ constants exist only for σ_v²/m < 1/2 (for σ_v = 1: m >= 3); got m=2, sigma_v=1.0
    >>> hidden_constant(1.0, 8) > 0
    True
    """
    gamma = GAMMA.validate(gamma)
    m, tau = _tau(m, sigma_v)
    e0, e1, alpha, T = hidden_terms(m, sigma_v)
    num = e0 ** (m - 2) * e1 ** 2 + gamma * alpha ** (m - 2) * T ** 2
    return num / (tau * tau * (0.25 + 0.5 * gamma))


def output_terms(m, sigma_v=1.0):
    r"""``(E‖A‖²_F, E‖B‖²_F)`` of the output-block constant (CASE-12).

    ``E‖M_ρ‖²_F = m(m−1)(E g0²)^{m−2}(E g1²)² + m(E g0²)^{m−1} E g2²`` with ``g0 = ½ + I_0``,
    ``g1 = I_1``, ``g2 = I_2``; A: ``ρ = 1 + τ``, ``v ~ N(0, τ)``; B: ``ρ = 1 + 2τ``, ``w ~ N(0, 2τ)``.
    """
    m, tau = _tau(m, sigma_v)
    out = []
    for rho, var in ((1.0 + tau, tau), (1.0 + 2.0 * tau, 2.0 * tau)):
        e0 = _gauss_expect(lambda v: (0.5 + _I(v, rho)[0]) ** 2, var)
        e1 = _gauss_expect(lambda v: _I(v, rho)[1] ** 2, var)
        e2 = _gauss_expect(lambda v: _I(v, rho)[2] ** 2, var)
        out.append(m * (m - 1) * e0 ** (m - 2) * e1 ** 2 + m * e0 ** (m - 1) * e2)
    return tuple(out)


def output_constant(m, sigma_v=1.0) -> float:
    r"""``K_o(m) = E‖B(w)‖²_F / E‖A(v)‖²_F`` (CASE-12).

    Notes
    -----
    ``E‖H_{v_i v_j}‖²_F / E‖H_{v_i v_i}‖²_F = K_o/C²·(1 + o(1))``. ``ValueError`` unless
    ``σ_v²/m < 1/2``: for m = 2 (σ_v = 1) ``E g0²`` of B diverges.

    Examples
    --------
    >>> from rmthess.cases import output_constant
    >>> output_constant(8) > 1
    True
    """
    A, B = output_terms(m, sigma_v)
    return B / A
