r"""C → ∞ constants of the mlp cross-entropy case: ``K_h(γ, m)`` and ``K_o(m)``.

As C → ∞ (after d, N → ∞), for the one-hidden-layer ReLU network with CE loss and output weights
``V_ci = σ_v ε_ci/√m``, ``ε`` iid of a symmetric unit-variance law (Gaussian by default;
theory/cases.md, (CASE-10)–(CASE-12) for the Gaussian law, (CASE-22)–(CASE-23) for any law):

* hidden blocks: ``E‖H_{w_i w_j}‖²_F / E‖H_{w_i w_i}‖²_F = K_h/C · (1 + o(1))``;
* output blocks: ``E‖H_{v_i v_j}‖²_F / E‖H_{v_i v_i}‖²_F = K_o/C² · (1 + o(1))``.

For the Gaussian law both reduce to one-dimensional Gaussian expectations, finite exactly when
``τ = σ_v²/m < 1/2`` (for LeCun output weights, σ_v = 1: m ≥ 3). For a law of bounded support
(uniform, Rademacher, …) they are finite for every τ; the normalization ``E_v e^{v·s}`` factorizes
into per-coordinate moment generating functions and the Gaussian integrals ``I_n`` become
one-dimensional quadratures in u (composite Gauss–Legendre), the expectations over v quadratures of
the entry law.
"""

from __future__ import annotations

import math

import numpy as np

from rmthess._validate import GAMMA, SIGMA_V, WIDTH
from rmthess.laws.entry import GaussianEntries, entry_law

__all__ = ["hidden_constant", "output_constant", "hidden_terms", "output_terms"]

_SQRT2PI = math.sqrt(2.0 * math.pi)
#: relative accuracy requested from the adaptive quadrature of each 1-D expectation
QUAD_RTOL = 1e-11
_SPAN = 35.0  # integration range in standard deviations of v (the integrands decay like Gaussians)
#: Gauss–Legendre nodes per unit panel of the u-quadratures of a general law (the integrands are
#: entire with a Gaussian factor of unit width: 16 nodes per unit length reach rounding error)
U_NODES = 16
#: nodes of the entry law's quadrature rule for the expectations over v (96-node Gauss–Legendre
#: integrates the entire functions of v on the uniform law's support to rounding error)
V_NODES = 96
#: the u-range ``[0, 4a + U_MARGIN]`` (``a = √τ sup|ε|``) leaves out less than ``e^{−98}`` (CASE-22)
U_MARGIN = 14.0


def _tau(m, sigma_v, v_law=None):
    m = WIDTH.validate(m)
    sigma_v = SIGMA_V.validate(sigma_v)
    law = entry_law(v_law)
    tau = sigma_v * sigma_v / m
    if _gaussian(law):
        if not tau < 0.5:
            raise ValueError(f"the C → ∞ constants exist only for σ_v²/m < 1/2 (for σ_v = 1: "
                             f"m >= 3); got m={m}, sigma_v={sigma_v}")
    elif not math.isfinite(law.support_bound):
        law.cgf(0.0)  # raises the law's own message: no moment generating function on the line
    return m, tau, law


def _gaussian(law) -> bool:
    return isinstance(law, GaussianEntries)


class _Quad:
    r"""u-quadrature on ``[0, 4a + U_MARGIN]`` and the cumulant function of ``v = √τ ε`` (CASE-22).

    ``ψ_v(t) = ψ(√τ t)``, ``ψ_v' = √τ ψ'(√τ t)``, ``ψ_v'' = τ ψ''(√τ t)``; the weights
    ``w = gl·φ(u)`` include the standard normal density, which exponentials take in as ``log φ``
    (no overflow).
    """

    def __init__(self, law, tau):
        self.law, self.tau, self.rt = law, tau, math.sqrt(tau)
        bound = law.support_bound
        if not math.isfinite(bound):  # unbounded law with a cgf (e.g. Gaussian): the largest v node
            bound = float(np.abs(law.quadrature(V_NODES)[0]).max())
        a = self.rt * bound
        panels = int(math.ceil(4 * a + U_MARGIN))
        x, w = np.polynomial.legendre.leggauss(U_NODES)
        left = np.arange(panels, dtype=float)[:, None]
        self.u = (left + (x + 1) / 2).ravel()
        self.gl = np.tile(w / 2, panels)
        self.logphi = -self.u ** 2 / 2 - math.log(_SQRT2PI)
        self.w = self.gl * np.exp(self.logphi)
        self.psi, self.d1, self.d2 = self.cgf(self.u)

    def cgf(self, t):
        psi, d1, d2 = self.law.cgf(self.rt * t)
        return psi, self.rt * d1, self.tau * d2

    def inner(self, v, k):
        r"""``(J_0, J_1, J_2, K)`` at each v: ``J_n = ∫_0^∞ φ uⁿ e^{vu − kψ_v(u)}``, ``K`` with
        ``ψ_v'``."""
        E = np.exp(np.multiply.outer(v, self.u) - k * self.psi + self.logphi) * self.gl
        return E.sum(-1), E @ self.u, E @ (self.u * self.u), E @ self.d1

    def expect(self, f):
        """``E f(v)`` over ``v = √τ ε`` by the law's quadrature rule of ``V_NODES`` nodes."""
        x, p = self.law.quadrature(V_NODES)
        return f(self.rt * x) @ p


def _diag_terms(tau, law):
    r"""``(E[1(u>0) κ_∞], E[1(u>0) κ_∞²])`` with ``κ_∞(u) = ψ_v''(u)`` (CASE-22); Gaussian:
    ``(τ/2, τ²/2)``."""
    if _gaussian(law):
        return tau / 2, tau * tau / 2
    q = _Quad(law, tau)
    return float(q.w @ q.d2), float(q.w @ q.d2 ** 2)


def _general_hidden_terms(tau, law):
    q = _Quad(law, tau)

    def h(v):
        J0, _, _, K = q.inner(v, 1)
        return np.stack([(0.5 + J0) ** 2, (v * J0 - K) ** 2])

    e0, e1 = q.expect(h)
    psi2, d12, d22 = q.cgf(2 * q.u)
    tilt = q.gl * np.exp(psi2 - 2 * q.psi + q.logphi)
    alpha = 0.5 + tilt.sum()
    T = tilt @ (d22 + (d12 - q.d1) ** 2)
    return float(e0), float(e1), float(alpha), float(T)


def _general_output_terms(m, tau, law):
    q = _Quad(law, tau)

    def norms(v, k):
        J0, J1, J2, _ = q.inner(v, k)
        return np.stack([(0.5 + J0) ** 2, J1 ** 2, J2 ** 2])

    x, p = law.quadrature(V_NODES)
    w = q.rt * np.add.outer(x, x).ravel()
    out = []
    for moments in (q.expect(lambda v: norms(v, 1)), norms(w, 2) @ np.outer(p, p).ravel()):
        e0, e1, e2 = moments
        out.append(m * (m - 1) * e0 ** (m - 2) * e1 ** 2 + m * e0 ** (m - 1) * e2)
    return tuple(float(o) for o in out)


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


def hidden_terms(m, sigma_v=1.0, v_law=None):
    r"""``(E h0², E h1², α, T)`` of the hidden-block constant (CASE-10, CASE-22).

    Gaussian law: ``τ = σ_v²/m``, ``ρ = 1 + τ``, ``v ~ N(0, τ)``; ``h0 = ½ + I_0(v)``,
    ``h1 = v I_0 − τ I_1``; ``α = ½ + ½(1 − 2τ)^{−1/2}``, ``T = ½[τ(1 − 2τ)^{−1/2} + τ²(1 −
    2τ)^{−3/2}]``. Any other law: ``h0 = ½ + ∫_0^∞ φ e^{vu−ψ_v(u)}``, ``h1 = ∫_0^∞ φ e^{vu−ψ_v(u)}(v
    − ψ_v'(u))``, ``α = ½ + ∫_0^∞ φ e^{ψ_v(2u)−2ψ_v(u)}``,
    ``T = ∫_0^∞ φ e^{ψ_v(2u)−2ψ_v(u)}[ψ_v''(2u) + (ψ_v'(2u) − ψ_v'(u))²]`` (CASE-22).
    """
    m, tau, law = _tau(m, sigma_v, v_law)
    if not _gaussian(law):
        return _general_hidden_terms(tau, law)
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


def hidden_constant(gamma, m, sigma_v=1.0, *, v_law=None) -> float:
    r"""``K_h(γ, m) = [(E h0²)^{m−2}(E h1²)² + γ α^{m−2} T²] / (D_1² + γ D_2)`` (CASE-10, CASE-22).

    Parameters
    ----------
    gamma : float
        Aspect ratio ``d/N > 0``.
    m : int
        Hidden width (``>= 2``); for the Gaussian law ``ValueError`` unless ``σ_v²/m < 1/2``
        (m >= 3 for σ_v = 1).
    sigma_v : float, optional
        Output-weight scale, ``V_ci = σ_v ε_ci/√m``.
    v_law : EntryLaw or str, optional
        Law of ``ε`` (:func:`rmthess.laws.entry.entry_law`; default Gaussian). Laws other than the
        Gaussian need a bounded support (a moment generating function on the whole line).

    Notes
    -----
    ``E‖H_{w_i w_j}‖²_F / E‖H_{w_i w_i}‖²_F = K_h/C·(1 + o(1))``. The denominator is the diagonal
    limit ``D_1² + γ D_2``, ``D_k = E[1(u>0) ψ_v''(u)^k]``; for the Gaussian law ``ψ_v'' = τ`` and
    it is ``τ²(1/4 + γ/2)``, with τ = 1/m the form of arXiv:2505.02809, theorem 2. A network with
    hidden scale σ_w has the constant at ``σ_v → σ_w σ_v`` (CASE-20).

    Examples
    --------
    >>> from rmthess.cases import hidden_constant
    >>> hidden_constant(1.0, 2)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: the C → ∞ constants exist only for σ_v²/m < 1/2 (for σ_v = 1: m >= 3); got m=2...
    >>> round(hidden_constant(1.0, 8), 3)   # vs finite C: tests/cases/test_mlp_ce_pairs.py (slow)
    1.08
    """
    gamma = GAMMA.validate(gamma)
    m, tau, law = _tau(m, sigma_v, v_law)
    if m < 2:
        raise ValueError(f"the hidden-block constant needs two hidden units: m >= 2, got m={m}")
    e0, e1, alpha, T = hidden_terms(m, sigma_v, law)
    num = e0 ** (m - 2) * e1 ** 2 + gamma * alpha ** (m - 2) * T ** 2
    if _gaussian(law):
        return num / (tau * tau * (0.25 + 0.5 * gamma))
    d1, d2 = _diag_terms(tau, law)
    return num / (d1 * d1 + gamma * d2)


def output_terms(m, sigma_v=1.0, v_law=None):
    r"""``(E‖A‖²_F, E‖B‖²_F)`` of the output-block constant (CASE-12, CASE-23).

    ``E‖M_ρ‖²_F = m(m−1)(E g0²)^{m−2}(E g1²)² + m(E g0²)^{m−1} E g2²`` with ``g0 = ½ + I_0``,
    ``g1 = I_1``, ``g2 = I_2``; A: ``ρ = 1 + τ``, ``v ~ N(0, τ)``; B: ``ρ = 1 + 2τ``, ``w ~ N(0,
    2τ)``. Any other law (CASE-23): ``g_n = ∫_0^∞ φ uⁿ e^{wu − kψ_v(u)}`` (plus ½ for n = 0), A: ``k
    = 1``, ``w = v``; B: ``k = 2``, ``w = v + v'`` with ``v, v'`` independent.
    """
    m, tau, law = _tau(m, sigma_v, v_law)
    if not _gaussian(law):
        return _general_output_terms(m, tau, law)
    out = []
    for rho, var in ((1.0 + tau, tau), (1.0 + 2.0 * tau, 2.0 * tau)):
        e0 = _gauss_expect(lambda v, rho=rho: (0.5 + _I(v, rho)[0]) ** 2, var)
        e1 = _gauss_expect(lambda v, rho=rho: _I(v, rho)[1] ** 2, var)
        e2 = _gauss_expect(lambda v, rho=rho: _I(v, rho)[2] ** 2, var)
        out.append(m * (m - 1) * e0 ** (m - 2) * e1 ** 2 + m * e0 ** (m - 1) * e2)
    return tuple(out)


def output_constant(m, sigma_v=1.0, *, v_law=None) -> float:
    r"""``K_o(m) = E‖B(w)‖²_F / E‖A(v)‖²_F`` (CASE-12, CASE-23).

    Notes
    -----
    ``E‖H_{v_i v_j}‖²_F / E‖H_{v_i v_i}‖²_F = K_o/C²·(1 + o(1))``. For the Gaussian law (default
    ``v_law``) ``ValueError`` unless ``σ_v²/m < 1/2``: for m = 2 (σ_v = 1) ``E g0²`` of B diverges;
    laws of bounded support have the constant for every τ.

    Examples
    --------
    >>> from rmthess.cases import output_constant
    >>> round(output_constant(8), 2)        # vs finite C: tests/cases/test_mlp_ce_pairs.py (slow)
    1.83
    """
    A, B = output_terms(m, sigma_v, v_law)
    return B / A
