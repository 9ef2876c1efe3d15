r"""Closed forms of the MSE cases, derived with sympy from Gaussian integrals (theory/cases.md,
(CASE-3), (CASE-6)–(CASE-8)).

Nothing here is typed in as a result: the ReLU moments are sympy integrals against the Gaussian
density, the moments of ``κ = VᵀV`` come from Isserlis' theorem, and the GMP second moment
``g = (Eλ)² + γ Eλ²`` (GMP-6) turns weight moments into block norms.
"""

from __future__ import annotations

import functools

import sympy as sp

__all__ = [
    "relu_gaussian_moments",
    "linear_mse_limits",
    "mlp_mse_hidden_limits",
    "mlp_mse_hidden_limits_by_kurtosis",
    "mlp_mse_output_norm",
]

_u = sp.Symbol("u", real=True)
_phi = sp.exp(-_u ** 2 / 2) / sp.sqrt(2 * sp.pi)


def _gauss(expr):
    return sp.simplify(sp.integrate(expr * _phi, (_u, -sp.oo, sp.oo)))


@functools.lru_cache(maxsize=1)  # no arguments: one entry
def relu_gaussian_moments():
    r"""``(P(u > 0), E relu(u), E relu(u)²)`` for ``u ~ N(0, 1)``, by sympy integration.

    Examples
    --------
    >>> from rmthess.symbolic.mse import relu_gaussian_moments
    >>> relu_gaussian_moments()
    (1/2, sqrt(2)/(2*sqrt(pi)), 1/2)
    """
    ind = sp.Piecewise((1, _u > 0), (0, True))
    return _gauss(ind), _gauss(_u * ind), _gauss(_u ** 2 * ind)


def _g(mean, second, gamma):
    """Second moment of the GMP law (GMP-6): ``g = (Eλ)² + γ Eλ²``."""
    return sp.expand(mean ** 2 + gamma * second)


def linear_mse_limits(gamma=None):
    r"""``(g_ii, g_ij)`` of the linear MSE case (CASE-3): weights ≡ 1 and ≡ 0.

    Examples
    --------
    >>> from rmthess.symbolic.mse import linear_mse_limits
    >>> linear_mse_limits()
    (gamma + 1, 0)
    """
    gamma = sp.Symbol("gamma", positive=True) if gamma is None else gamma
    return _g(sp.Integer(1), sp.Integer(1), gamma), _g(sp.Integer(0), sp.Integer(0), gamma)


@functools.lru_cache(maxsize=1)  # no arguments: one entry
def mlp_mse_hidden_limits():
    r"""``(g_ii, g_ij, ratio)`` of the mlp MSE hidden blocks averaged over V (CASE-6, CASE-7).

    At fixed V the weights are ``κ_ii 1(u_i>0)`` and ``κ_ij 1(u_i>0)1(u_j>0)`` with ``u_i, u_j``
    independent standard normals; ``V_ci ~ N(0, σ²/m)`` gives ``E κ_ij² = σ⁴C/m²`` and
    ``E κ_ii² = σ⁴C(C+2)/m²`` (Isserlis).

    Returns
    -------
    tuple of sympy.Expr
        In the symbols ``gamma``, ``C``, ``m``, ``sigma``.

    Examples
    --------
    >>> from rmthess.symbolic.mse import mlp_mse_hidden_limits
    >>> mlp_mse_hidden_limits()[2]
    (4*gamma + 1)/(4*(C + 2)*(2*gamma + 1))
    """
    gamma, C, m, sigma = sp.symbols("gamma C m sigma", positive=True)
    p_pos, _, _ = relu_gaussian_moments()
    # Isserlis for V_ci ~ N(0, s2): E V^2 = s2, E V^4 = 3 s2^2; κ_ij = Σ_c V_ci V_cj
    s2 = sigma ** 2 / m
    e_kii2 = C * 3 * s2 ** 2 + C * (C - 1) * s2 ** 2     # E (Σ_c V_ci²)²
    e_kij2 = C * s2 ** 2                                  # E (Σ_c V_ci V_cj)², i ≠ j
    # fixed-V g divided by κ²: indicator weights have E λ = E λ² = P(positive)
    g_diag = _g(p_pos, p_pos, gamma)
    g_off = _g(p_pos ** 2, p_pos ** 2, gamma)
    g_ii = sp.factor(e_kii2 * g_diag)
    g_ij = sp.factor(e_kij2 * g_off)
    return g_ii, g_ij, sp.factor(sp.simplify(g_ij / g_ii))


@functools.lru_cache(maxsize=1)  # no arguments: one entry
def mlp_mse_hidden_limits_by_kurtosis():
    r"""``(g_ii, g_ij, ratio)`` of (CASE-21): ``V_ci = σ ε_ci/√m``, ``ε`` iid symmetric,
    ``E ε² = 1``.

    ``κ_ii = (σ²/m) Σ_c x_c`` with ``x_c = ε_ci²`` iid, ``E x = 1``, ``E x² = μ₄``, so
    ``E κ_ii² = (σ²/m)² [C E x² + C(C − 1)(E x)²]``; ``κ_ij = (σ²/m) Σ_c ε_ci ε_cj`` has
    uncorrelated terms of second moment ``E ε_i² E ε_j² = 1``, so ``E κ_ij² = (σ²/m)² C``.

    Returns
    -------
    tuple of sympy.Expr
        In the symbols ``gamma``, ``C``, ``m``, ``sigma`` and ``mu4`` (the Pearson
        kurtosis ``E ε⁴``).

    Examples
    --------
    >>> from rmthess.symbolic.mse import mlp_mse_hidden_limits_by_kurtosis
    >>> mlp_mse_hidden_limits_by_kurtosis()[2]
    (4*gamma + 1)/(4*(2*gamma + 1)*(C + mu4 - 1))
    """
    gamma, C, m, sigma, mu4 = sp.symbols("gamma C m sigma mu4", positive=True)
    p_pos, _, _ = relu_gaussian_moments()
    s2 = sigma ** 2 / m
    e_x, e_x2 = sp.Integer(1), mu4
    e_kii2 = s2 ** 2 * (C * e_x2 + C * (C - 1) * e_x ** 2)
    e_kij2 = s2 ** 2 * C * e_x * e_x
    g_ii = sp.factor(e_kii2 * _g(p_pos, p_pos, gamma))
    g_ij = sp.factor(e_kij2 * _g(p_pos ** 2, p_pos ** 2, gamma))
    return g_ii, g_ij, sp.factor(sp.simplify(g_ij / g_ii))


@functools.lru_cache(maxsize=1)  # no arguments: one entry
def mlp_mse_output_norm():
    r"""``‖E s sᵀ‖²_F`` for ``s = relu(u)``, ``u ~ N(0, I_m)`` (CASE-8), in the symbol ``m``.

    Examples
    --------
    >>> from rmthess.symbolic.mse import mlp_mse_output_norm
    >>> mlp_mse_output_norm()
    m*(m - 1 + pi**2)/(4*pi**2)
    """
    m = sp.Symbol("m", positive=True, integer=True)
    _, e1, e2 = relu_gaussian_moments()
    return sp.factor(m * e2 ** 2 + m * (m - 1) * e1 ** 4)
