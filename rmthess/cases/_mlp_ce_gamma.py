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
power sums (:func:`rmthess.integrals.powersums.powersum_expectations`, cost independent of C and
growing like σ); the expectation over ``|s|`` on ``[0, √m + 7]`` uses graded panels (the first up to
σ = 4, then doubling lengths) with the Gauss and Kronrod rules, bisected until the two agree, each
component to ``rtol`` relative to itself; :func:`gamma_cost` estimates the seconds before any work.
"""

from __future__ import annotations

import math

import numpy as np

from rmthess._jit import steady_clock
from rmthess.integrals.powersums import powersum_expectations

__all__ = ["gamma_term", "gamma_cost", "GAMMA_TERM_RTOL"]

#: required relative agreement of the two rules (Gauss 10 and Kronrod 21 points) on every panel
GAMMA_TERM_RTOL = 1e-8
#: the first panel in |s| ends where σ = √τ|s| reaches this value; the next ones double in length
_SIGMA_PANEL = 4.0
#: longest panel in |s|
_PANEL_LENGTH = 3.0
#: bound on the number of panels the adaptive rule may use (bisections included)
_MAX_PANELS = 60
#: seconds per table entry of the power sums, and per power-sum call (cost estimate before work;
#: fitted to the CPU seconds of one core, benchmarks/bench_gamma_term.py)
_SECONDS_PER_ENTRY = 2.5e-8
_SECONDS_PER_CALL = 8e-3
#: panels the bisections add, on average, in the cost estimate
_EXTRA_PANELS = 4
#: evaluations of a Gauss–Kronrod panel
_PANEL_NODES = 21

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


def _digits(classes):
    """Target digits of the power sums: 12, plus up to 2 at large C, where the partition expansion
    of ``E(n − trQ)²`` loses ~1e-8 to cancellation at 12 digits (C = 10⁶, measured), noise that
    would make the panel rules disagree."""
    return 12.0 + min(2.0, math.log10(classes) / 3.0)


def _radius(m):
    """Upper end of the |s| range: the χ_k densities are below 1e-12 of their mass beyond."""
    return math.sqrt(m) + 7.0


def _panels(m, sigma_v):
    """Edges of the graded panels in |s|: ``[0, r_1]`` up to σ = :data:`_SIGMA_PANEL`, then
    doubling lengths (each panel sees the non-analytic point |s| = 0 at a fixed relative
    distance), up to :func:`_radius`; and panels no longer than :data:`_PANEL_LENGTH` (the χ_k
    densities change on the scale 1)."""
    R = _radius(m)
    r = _SIGMA_PANEL * math.sqrt(m) / sigma_v
    edges = [0.0]
    while r < R:
        edges.append(r)
        r *= 2.0
    if len(edges) > 1 and R - edges[-1] < 0.5 * (edges[-1] - edges[-2]):
        edges.pop()                       # no sliver panel at the end
    edges.append(R)
    out = [0.0]
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        n = max(1, math.ceil((b - a) / _PANEL_LENGTH - 1e-9))
        out.extend(a + (b - a) * (i + 1) / n for i in range(n))
    return out


def _weights(m, r):
    """Rows (diagonal, off-diagonal) of weights of the six expectations at |s| = r > 0: the χ_k
    densities times the binomial weights of k positive coordinates and the moments of ŝ (in
    logarithms, vectorized over k: no 2^m or C(m, k) is formed, so any m is fine)."""
    from scipy.special import gammaln

    k = np.arange(1, m + 1, dtype=float)
    log_dens = ((k - 1.0) * math.log(r) - 0.5 * r * r - (0.5 * k - 1.0) * math.log(2.0)
                - gammaln(0.5 * k) - m * math.log(2.0))
    wd = np.exp(log_dens + gammaln(m) - gammaln(k) - gammaln(m - k + 1.0))     # C(m-1, k-1)
    wo = np.zeros_like(wd)
    wo[1:] = np.exp(log_dens[1:] + gammaln(m - 1.0) - gammaln(k[1:] - 1.0)
                    - gammaln(m - k[1:] + 1.0))                                  # C(m-2, k-2)
    a2, a4, a2b2 = 1.0 / k, 3.0 / (k * (k + 2.0)), 1.0 / (k * (k + 2.0))
    zero = np.zeros_like(k)
    #           F1    F2                 F3                          G1    G2               G3
    diag = [zero, 4.0 * (a2 - a4), 2.0 * (1.0 - 2.0 * a2 + a4), a4, 2.0 * (a2 - a4),
            1.0 - 2.0 * a2 + a4]
    off = [a2b2, 2.0 * a2 - 4.0 * a2b2, 1.0 - 2.0 * a2 + 2.0 * a2b2, zero, zero, zero]
    return np.array([[wd @ c for c in diag], [wo @ c for c in off]])


def gamma_cost(classes, m, sigma_v):
    """Estimated seconds of :func:`gamma_term` (before any table is computed): the power-sum
    tables of one Gauss–Kronrod rule on each panel at the largest σ of the panel, and
    :data:`_EXTRA_PANELS` panels more for the bisections (measured: 5–10 panels in all)."""
    from rmthess.integrals.powersums import powersum_work

    edges = _panels(m, sigma_v)
    scale = sigma_v / math.sqrt(m)
    per_panel = [_PANEL_NODES * (_SECONDS_PER_CALL + _SECONDS_PER_ENTRY
                                 * powersum_work(classes, scale * hi, digits=_digits(classes)))
                 for hi in edges[1:]]
    return sum(per_panel) * (1.0 + _EXTRA_PANELS / len(per_panel))


class _Deadline(Exception):
    pass


def _compute(classes, m, sigma_v, rtol, deadline):
    from scipy.integrate import quad_vec

    tau = sigma_v * sigma_v / m
    scale = math.sqrt(tau)
    digits = _digits(classes)

    def integrand(r):
        if deadline is not None and steady_clock() > deadline:
            raise _Deadline
        W = _weights(m, r)
        F = powersum_expectations(_EXPRESSIONS, classes, scale * r, digits=digits,
                                  combinations=W)
        return W @ F

    values: dict = {}

    def memo(r):
        if r not in values:
            values[r] = integrand(r)
        return values[r]

    # magnitudes of both components first (a loose pass on the same panels, whose nodes the
    # second pass reuses), so that each component is then held to rtol relative to itself
    edges = _panels(m, sigma_v)
    options = {"epsabs": 0.0, "norm": "max", "points": edges[1:-1], "quadrature": "gk21",
               "limit": _MAX_PANELS}
    rough, _ = quad_vec(memo, 0.0, edges[-1], epsrel=1e-3, **options)
    if not np.all(rough > 0):
        raise ValueError(f"the γ-term quadrature at C={classes}, m={m}, sigma_v={sigma_v:g} "
                         f"gave non-positive values {rough!r}")
    val, err = quad_vec(lambda r: memo(r) / rough, 0.0, edges[-1], epsrel=rtol, **options)
    rel = float(err / np.min(val))
    return float(tau * tau * rough[0] * val[0]), float(tau * tau * rough[1] * val[1]), rel


_CACHE: dict = {}
_CACHE_SIZE = 256


def gamma_term(classes, m, sigma_v, rtol=GAMMA_TERM_RTOL, max_time=None):
    r"""``(E a_ii², E a_ij², error)``: the γ-terms of the hidden diagonal and off-diagonal blocks.

    Parameters
    ----------
    classes, m, sigma_v
        ``C >= 2``, ``m >= 2``, ``V_ci ~ N(0, σ_v²/m)``.
    rtol : float
        Required relative agreement of the Gauss and Kronrod rules (summed over the panels).
    max_time : float, optional
        Seconds allowed: ``ValueError`` before any work when :func:`gamma_cost` exceeds it, and as
        soon as the computation runs past it.

    Returns
    -------
    tuple of float
        The Kronrod values on the graded panels of :func:`_panels` (bisected where the two rules
        disagree) and the relative error estimate (theory/cases.md, (CASE-19)); ``ValueError`` if
        the rules do not agree to ``rtol`` within :data:`_MAX_PANELS` panels. Results are cached per
        ``(classes, m, sigma_v, rtol)``.
    """
    key = (int(classes), int(m), float(sigma_v), float(rtol))
    if key in _CACHE:
        return _CACHE[key]
    if max_time is not None:
        cost = gamma_cost(classes, m, sigma_v)
        if cost > max_time:
            raise ValueError(
                f"the γ-term quadrature at C={classes}, m={m}, sigma_v={sigma_v:g} needs about "
                f"{cost:.3g} s, more than max_time={max_time:g} s; raise max_time, or lower "
                f"sigma_v")
    t0 = steady_clock()
    try:
        d, o, err = _compute(classes, m, sigma_v, rtol,
                             None if max_time is None else t0 + max_time)
    except _Deadline:
        raise ValueError(
            f"the γ-term quadrature at C={classes}, m={m}, sigma_v={sigma_v:g} ran past "
            f"max_time={max_time:g} s; raise max_time, or lower sigma_v") from None
    if not err <= rtol:
        raise ValueError(f"the γ-term quadrature did not converge at C={classes}, m={m}, "
                         f"sigma_v={sigma_v:g} (the two rules differ by {err:.2g})")
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = (d, o, err)
    return d, o, err
