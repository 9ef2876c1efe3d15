r"""The γ-term ``E_{V,u} a_ij²`` of the mlp-ce hidden blocks by quadrature (theory/cases.md,
(CASE-19)).

Given ``s = relu(u)``, integrating out the parts of the rows of V orthogonal to s (CASE-16) leaves,
with ``σ = √τ|s|``, ``x ~ N(0, I_C)``, ``p = softmax(σx)`` and the power sums
``n = Σp x² − (Σp x)²``, ``trQ = 1 − Σp²``, ``mm = Σ p²(x − x̄)²`` (``x̄ = Σ p x``),
``trQ2 = Σp² − 2Σp³ + (Σp²)²``, and ``a = ŝ_i``, ``b = ŝ_j``:

    E_w κ_ij² / τ² = a²b² (n − trQ)² + (a² + b² − 4a²b²) mm + (1 − a² − b² + 2a²b²) trQ2     (i ≠ j)
    E_w κ_ii² / τ² = (a² n + (1 − a²) trQ)² + 4a²(1 − a²) mm + 2(1 − a²)² trQ2.

Given that ``k`` coordinates of u are positive (i, j among them; binomial weights), ``|s| ~ χ_k`` is
independent of the direction ŝ, uniform on the positive orthant of ``S^{k−1}``: ``E a² = 1/k``,
``E a⁴ = 3/(k(k+2))``, ``E a²b² = 1/(k(k+2))``. The σ-dependent expectations are Gaussian-softmax
power sums (:func:`rmthess.integrals.powersums.powersum_expectations`, cost independent of C); the
expectation over ``|s|`` is Gauss–Legendre on ``[0, √m + 7]`` (the integrand is even and analytic in
``|s|``), and two resolutions give an error estimate.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from rmthess.integrals.powersums import powersum_expectations

__all__ = ["gamma_term", "GAMMA_TERM_NODES", "GAMMA_TERM_RTOL"]

#: Gauss–Legendre nodes in |s| of the first rule (each refinement has 3/2 as many)
GAMMA_TERM_NODES = 24
#: required agreement of two successive rules
GAMMA_TERM_RTOL = 1e-8
_MAX_REFINE = 4

_ONE, _X1, _X2, _X2M1 = (1.0,), (0.0, 1.0), (0.0, 0.0, 1.0), (-1.0, 0.0, 1.0)
_N = [(1.0, ((1, _X2),)), (-1.0, ((1, _X1), (1, _X1)))]
_TRQ = [(1.0, ((1, _ONE),)), (-1.0, ((2, _ONE),))]
_N_MINUS_TRQ = [(1.0, ((1, _X2M1),)), (-1.0, ((1, _X1), (1, _X1))), (1.0, ((2, _ONE),))]
_MM = [(1.0, ((2, _X2),)), (-2.0, ((1, _X1), (2, _X1))), (1.0, ((1, _X1), (1, _X1), (2, _ONE)))]
_TRQ2 = [(1.0, ((2, _ONE),)), (-2.0, ((3, _ONE),)), (1.0, ((2, _ONE), (2, _ONE)))]


def _mul(a, b):
    return [(ca * cb, fa + fb) for ca, fa in a for cb, fb in b]


#: E(n − trQ)², E mm, E trQ2, E n², E n·trQ, E trQ²
_EXPRESSIONS = (_mul(_N_MINUS_TRQ, _N_MINUS_TRQ), _MM, _TRQ2, _mul(_N, _N), _mul(_N, _TRQ),
                _mul(_TRQ, _TRQ))


def _rule(classes, m, tau, nodes):
    R = math.sqrt(m) + 7.0
    x, w = np.polynomial.legendre.leggauss(nodes)
    r = 0.5 * R * (x + 1.0)
    w = 0.5 * R * w
    F = np.array([powersum_expectations(_EXPRESSIONS, classes, math.sqrt(tau) * ri) for ri in r])
    F1, F2, F3, G1, G2, G3 = F.T
    diag = off = 0.0
    for k in range(1, m + 1):
        dens = np.exp((k - 1) * np.log(r) - 0.5 * r * r - (0.5 * k - 1.0) * math.log(2.0)
                      - math.lgamma(0.5 * k))
        a2, a4, a2b2 = 1.0 / k, 3.0 / (k * (k + 2.0)), 1.0 / (k * (k + 2.0))
        wd = math.comb(m - 1, k - 1) / 2.0 ** m
        diag += wd * np.sum(w * dens * (a4 * G1 + 2.0 * (a2 - a4) * G2 + (1.0 - 2.0 * a2 + a4) * G3
                                        + 4.0 * (a2 - a4) * F2 + 2.0 * (1.0 - 2.0 * a2 + a4) * F3))
        if k >= 2:
            wo = math.comb(m - 2, k - 2) / 2.0 ** m
            off += wo * np.sum(w * dens * (a2b2 * F1 + (2.0 * a2 - 4.0 * a2b2) * F2
                                           + (1.0 - 2.0 * a2 + 2.0 * a2b2) * F3))
    return tau * tau * diag, tau * tau * off


@lru_cache(maxsize=256)
def gamma_term(classes, m, sigma_v, nodes=GAMMA_TERM_NODES, rtol=GAMMA_TERM_RTOL):
    r"""``(E a_ii², E a_ij², error)``: the γ-terms of the hidden diagonal and off-diagonal blocks.

    Parameters
    ----------
    classes, m, sigma_v
        ``C >= 2``, ``m >= 2``, ``V_ci ~ N(0, σ_v²/m)``.
    nodes : int
        Gauss–Legendre nodes in ``|s|`` of the first rule; each next rule has 3/2 as many.
    rtol : float
        Required relative agreement of two successive rules.

    Returns
    -------
    tuple of float
        The values of the finer of the first two successive rules that agree to ``rtol``, and their
        relative difference (theory/cases.md, (CASE-19)); ``ValueError`` if no two agree within
        :data:`_MAX_REFINE` refinements. Results are cached per arguments.
    """
    tau = sigma_v * sigma_v / m
    prev = _rule(classes, m, tau, nodes)
    for _ in range(_MAX_REFINE):
        nodes = (3 * nodes) // 2
        cur = _rule(classes, m, tau, nodes)
        err = max(abs(f - c) / abs(f) for f, c in zip(cur, prev, strict=True))
        if err <= rtol:
            return float(cur[0]), float(cur[1]), float(err)
        prev = cur
    raise ValueError(f"the γ-term quadrature did not converge at C={classes}, m={m}, "
                     f"sigma_v={sigma_v} (successive rules differ by {err:.2g})")
