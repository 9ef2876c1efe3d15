r"""The mlp-ce output block by a deterministic product rule over ``(|s|, |s'|, ρ)``
(theory/cases.md, (CASE-34)).

The output draws of (CASE-17) with ζ integrated out (CASE-32) are ``c² F(σ1, σ2, ρ)`` with
``c = s·s'``, ``σ1 = √τ|s|``, ``σ2 = √τ|s'|``, ``ρ = ŝ·ŝ'`` and ``F = (D, O)``. Split the m
coordinates of ``(u, u')`` by which of ``u_i, u'_i`` are positive: ``j`` both, ``k1`` only u,
``k2`` only u' (multinomial, each state of probability 1/4). Given these counts,
``r1 = |s| ~ χ_{j+k1}``, ``r2 = |s'| ~ χ_{j+k2}`` and ρ are independent (beta–gamma independence
and the independence of a half-normal vector's length and direction), ``c = r1 r2 ρ``, and
``j = 0`` gives ``c = 0``. So

    E c² F = Σ_{j≥1,k1,k2} w_{j,k1,k2} E[r1² r2² ρ² F(√τ r1, √τ r2, ρ)],

a three-dimensional integral: a Gauss rule for the weight ``e^{−r²/2}`` on ``[0, ∞)`` in each of
``r1, r2`` (the χ densities' powers ``r^{k−1}`` go into the weights), and in ρ the interpolatory
rule on Chebyshev points of ``[0, 1]`` built from the exact moments

    E[ρⁿ | j, k1, k2] = E[(x·y)ⁿ] / (E r1ⁿ E r2ⁿ),   x, y iid half-normal in R^j

(``(x·y)ⁿ = ρⁿ r1ⁿ r2ⁿ`` with independent factors). The weights depend on m and the rule sizes only
(cached); the nodes need F at ``n_r(n_r + 1)/2 · n_ρ`` points (F is symmetric in σ1 ↔ σ2). Rules of
growing size run until two successive ones agree; the error of the finer one is bounded by their
difference.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from rmthess._jit import steady_clock
from rmthess.cases._mlp_ce_output import OutputDomainError, output_expectations
from rmthess.cases._mlp_ce_output_wide import WIDE_LEVELS, usable_wide, wide_rule

__all__ = ["output_rule", "rule_nodes", "usable", "RULE_LEVELS", "RULE_LEVELS_WIDE",
           "RULE_LEVELS_WIDTH", "RULE_MAX_WIDTH", "RULE_MAX_TAU",
           "RULE_FINE_TAU", "RULE_MAX_TAU_WIDE", "RULE_RTOL", "RULE_WIDE_RTOL"]

#: rule sizes ``(n_r, n_ρ)``, in the order they are tried, up to m = :data:`RULE_LEVELS_WIDTH`
RULE_LEVELS = ((8, 8), (10, 10), (12, 12), (16, 16), (20, 20))
#: widest hidden layer of :data:`RULE_LEVELS`: a pattern's radial integrand ``r² χ_d`` is
#: ``r^{d+1} e^{−r²/2}``, which the n_r-node rule for ``e^{−r²/2}`` integrates exactly only for
#: ``d ≤ 2 n_r − 2`` (d ~ Binomial(m, 1/2)): the (8, 8) rule for m ≤ 13 (at m = 16 it misses
#: ``E(s·s')²|s|²`` by 5e-7, which its difference from (10, 10), exact there, bounds)
RULE_LEVELS_WIDTH = 16
#: the sizes above :data:`RULE_LEVELS_WIDTH`: ``E(s·s')²|s|²`` exact to 1e-11 from (14, 8) at
#: m = 32 (the (12, 12) rule is 7e-8 off there; CASE-34)
RULE_LEVELS_WIDE = ((14, 8), (16, 10), (20, 12), (24, 16))
#: widest hidden layer served by the rule of (CASE-34) (the weights sum over O(m³) activity
#: patterns in extended precision: 0.4–0.7 s per size at m = 32); wider layers up to m = 2048 by
#: the wide rule of (CASE-36)
RULE_MAX_WIDTH = 32
#: agreement of two successive rules at which the finer one is accepted (relative, each of
#: g_ii, g_ij and the ratio), unless a looser target is asked for
RULE_RTOL = 1e-6
#: largest τ = σ_v²/m at which the rules run from :data:`RULE_LEVELS` to :data:`RULE_RTOL`
#: (~2 s of CPU at m = 8, σ_v = 1, with honest bounds; theory/cases.md, CASE-34)
RULE_FINE_TAU = 0.125
#: largest τ = σ_v²/m served. Above :data:`RULE_FINE_TAU` the rules start at (10, 10) — the
#: differences of the coarser ones understated the error at C ≥ 10⁵ — and agree to
#: :data:`RULE_WIDE_RTOL` unless a tighter target is asked for (3–6 s of CPU at τ = 1/4); at
#: τ = 1/2 the bound of g_ij was measured below its error (CASE-34)
RULE_MAX_TAU = 0.25
#: largest τ served at 16 < m ≤ 32: at τ = 1/8 the ρ-rules of :data:`RULE_LEVELS_WIDE` converge
#: slowly at large C (m = 32, σ_v = 2: 14 s at C = 10⁴, 36 s at C = 10⁶; σ_v = √2, C = 10⁶: 6 s)
RULE_MAX_TAU_WIDE = 1.0 / 16.0
#: the cap of the agreement tolerance above :data:`RULE_FINE_TAU`
RULE_WIDE_RTOL = 1e-5
_DPS = 60


@lru_cache(maxsize=16)
def _radial_rule(n):
    """Gauss rule for the weight ``e^{−r²/2}`` on ``[0, ∞)`` (Golub–Welsch from the moments
    ``2^{(k−1)/2} Γ((k+1)/2)``, in mpmath), ``(nodes, weights)``."""
    import mpmath as mp

    with mp.workdps(_DPS + 2 * n):
        mom = [mp.mpf(2) ** (mp.mpf(k - 1) / 2) * mp.gamma(mp.mpf(k + 1) / 2)
               for k in range(2 * n + 1)]
        hankel = mp.matrix(n + 1, n + 1)
        for i in range(n + 1):
            for k in range(n + 1):
                hankel[i, k] = mom[i + k]
        r = mp.cholesky(hankel).T
        jac = mp.matrix(n, n)
        for k in range(n):
            jac[k, k] = r[k, k + 1] / r[k, k] - (r[k - 1, k] / r[k - 1, k - 1] if k else 0)
            if k + 1 < n:
                jac[k, k + 1] = jac[k + 1, k] = r[k + 1, k + 1] / r[k, k]
        e, q = mp.eigsy(jac)
        x = np.array([float(e[k]) for k in range(n)])
        w = np.array([float(mom[0] * q[0, k] ** 2) for k in range(n)])
    order = np.argsort(x)
    return x[order], w[order]


def _moment_tables(mp, m, nmax):
    """``(sums, chi)``: ``sums[j][n] = E[(x·y)ⁿ]`` for x, y iid half-normal in R^j (j = 0..m) and
    ``chi[k][n] = E rⁿ`` for ``r ~ χ_k`` (k = 0..m; row 0 unused), n = 0..nmax."""
    half = [2 ** (mp.mpf(p) / 2) * mp.gamma(mp.mpf(p + 1) / 2) / mp.sqrt(mp.pi)
            for p in range(nmax + 1)]
    mu = [h * h for h in half]                      # E (x_i y_i)^p
    sums = [[mp.mpf(1)] + [mp.mpf(0)] * nmax]       # moments of x·y, one coordinate at a time
    for _ in range(m):
        prev = sums[-1]
        sums.append([mp.fsum(mp.binomial(n, p) * mu[p] * prev[n - p] for p in range(n + 1))
                     for n in range(nmax + 1)])
    chi = [[2 ** (mp.mpf(n) / 2) * mp.gamma((mp.mpf(k) + n) / 2) / mp.gamma(mp.mpf(k) / 2)
            if k else mp.mpf(0) for n in range(nmax + 1)] for k in range(m + 1)]
    return sums, chi


def _rho_moments(mp, m, nmax):
    """``E[ρⁿ | j, k1, k2]`` as a function ``(j, ka, kb) -> list`` over n = 0..nmax
    (``ka = j + k1``, ``kb = j + k2``)."""
    sums, chi = _moment_tables(mp, m, nmax)

    def moments(j, ka, kb):
        return [sums[j][n] / (chi[ka][n] * chi[kb][n]) for n in range(nmax + 1)]

    return moments


def _pattern_counts(m):
    """``(j, k1, k2, count)`` over the patterns with ``j ≥ 1``: ``count`` =
    ``m!/(j! k1! k2! (m − j − k1 − k2)!)``, the number of the 4^m activity states of the pattern."""
    f = [math.factorial(k) for k in range(m + 1)]
    for j in range(1, m + 1):
        for k1 in range(m - j + 1):
            for k2 in range(m - j - k1 + 1):
                yield j, k1, k2, f[m] // (f[j] * f[k1] * f[k2] * f[m - j - k1 - k2])


def activity_patterns(m):
    """The activity patterns ``(j, k1, k2)`` with ``j ≥ 1`` (units active in u and u', in u only,
    in u' only; the others contribute nothing) and their probabilities
    ``m!/(j! k1! k2! (m − j − k1 − k2)!) 4^{−m}``."""
    return [(j, k1, k2, count / 4.0 ** m) for j, k1, k2, count in _pattern_counts(m)]


@lru_cache(maxsize=16)
def rule_nodes(m, n_r, n_rho):
    """``(r, t, Ω)``: radial nodes r (n_r), ρ nodes t (n_ρ), and weights Ω (n_r, n_r, n_ρ) with
    ``E c² F ≈ Σ Ω[a, b, i] F(√τ r_a, √τ r_b, t_i)`` (CASE-34); independent of τ and C.

    ``Ω = Σ_{d1,d2} R_{d1} ⊗ R_{d2} ⊗ W_{d1,d2}``: ``R_d`` the radial weights of ``r² χ_d``,
    ``W_{d1,d2}[i] = Σ_j π_{j,d1,d2} E[ρ² ℓ_i(ρ) | j, d1, d2]``. The
    ρ-weights cancel heavily (monomial moments), so the sum over j is taken first, in extended
    precision, and the Lagrange basis applied once per ``(d1, d2)``."""
    import mpmath as mp

    r, w = _radial_rule(n_r)
    radial = {}
    for k in range(1, m + 1):                       # r² × χ_k density / e^{−r²/2}
        log_norm = (k / 2 - 1) * math.log(2.0) + math.lgamma(k / 2)
        radial[k] = w * np.exp((k + 1) * np.log(r) - log_norm)
    with mp.workdps(_DPS):
        t = [(1 + mp.cos(mp.pi * (2 * i + 1) / (2 * n_rho))) / 2 for i in range(n_rho)]
        vander = mp.matrix(n_rho, n_rho)
        for i in range(n_rho):
            for n in range(n_rho):
                vander[i, n] = t[i] ** n
        inv = mp.inverse(vander)                    # ℓ_i(ρ) = Σ_n inv[n, i] ρⁿ
        sums, chi = _moment_tables(mp, m, n_rho + 1)
        scale = mp.mpf(4) ** -m
        acc = {}                                    # (d1, d2) -> Σ_j π E[(x·y)^{n+2}]
        for j, k1, k2, count in _pattern_counts(m):
            row = acc.setdefault((j + k1, j + k2), [mp.mpf(0)] * n_rho)
            sj, pj = sums[j], count * scale
            for n in range(n_rho):
                row[n] += pj * sj[n + 2]
        omega = np.zeros((n_r, n_r, n_rho))
        for (d1, d2), row in acc.items():
            mom = [row[n] / (chi[d1][n + 2] * chi[d2][n + 2]) for n in range(n_rho)]
            wr = np.array([float(mp.fsum(inv[n, i] * mom[n] for n in range(n_rho)))
                           for i in range(n_rho)])
            omega += radial[d1][:, None, None] * radial[d2][None, :, None] * wr
        nodes = np.array([float(x) for x in t])
    return r, nodes, omega


def _apply(classes, m, sigma_v, n_r, n_rho):
    """``(E c² D, E c² O)`` by the rule of size ``(n_r, n_ρ)``."""
    r, t, omega = rule_nodes(m, n_r, n_rho)
    st = sigma_v / math.sqrt(m)
    ia, ib = np.triu_indices(n_r)
    a, b = np.repeat(ia, n_rho), np.repeat(ib, n_rho)
    i = np.tile(np.arange(n_rho), ia.size)
    f = output_expectations(st * r[a], st * r[b], t[i], classes)
    grid = np.zeros((n_r, n_r, n_rho, 2))
    grid[a, b, i] = f
    grid[b, a, i] = f
    return np.einsum("abi,abik->k", omega, grid)


def tau_within(m, sigma_v, bound):
    """Whether ``τ = σ_v²/m ≤ bound`` up to rounding (``σ_v = √2`` at ``m = 8`` is ``τ = 1/4``,
    though ``√2·√2/8`` rounds above it)."""
    return sigma_v * sigma_v / m <= bound * (1.0 + 1e-12)


def _rule_kind(m, sigma_v):
    """Which rule serves ``(m, σ_v)``: ``"narrow"`` (CASE-34) for ``2 ≤ m ≤ 16`` with
    ``τ = σ_v²/m ≤`` :data:`RULE_MAX_TAU` (then every node lies in the certified domain of F) and
    for ``16 < m ≤ 32`` with ``τ ≤`` :data:`RULE_MAX_TAU_WIDE`; ``"wide"`` (CASE-36,
    ``usable_wide``: 17 ≤ m ≤ 2048, τ ≤ 1/8, σ_v ≤ 2, from m = 17 to 32 only above τ = 1/16);
    else None."""
    if 2 <= m <= RULE_LEVELS_WIDTH:
        return "narrow" if tau_within(m, sigma_v, RULE_MAX_TAU) else None
    if RULE_LEVELS_WIDTH < m <= RULE_MAX_WIDTH and tau_within(m, sigma_v, RULE_MAX_TAU_WIDE):
        return "narrow"
    return "wide" if usable_wide(m, sigma_v) else None


def usable(m, sigma_v):
    """Whether a rule serves ``(m, σ_v)`` (:func:`_rule_kind`)."""
    return _rule_kind(m, sigma_v) is not None


def _schedule(classes, m, sigma_v, rtol):
    """``(evaluate, levels, tol)``: the rule to run at ``(m, σ_v)`` (a function of a level), its
    levels and the agreement tolerance for the target ``rtol``."""
    if _rule_kind(m, sigma_v) == "wide":
        return (lambda level: wide_rule(classes, m, sigma_v, level), WIDE_LEVELS,
                min(float(rtol), RULE_WIDE_RTOL))
    levels = RULE_LEVELS if m <= RULE_LEVELS_WIDTH else RULE_LEVELS_WIDE
    tol = min(float(rtol), RULE_RTOL)
    if not tau_within(m, sigma_v, RULE_FINE_TAU):
        levels, tol = levels[1:], min(float(rtol), RULE_WIDE_RTOL)
    return (lambda level: _apply(classes, m, sigma_v, *level)), levels, tol


def _evaluations(level):
    """Evaluations of F at a size: ``n(n + 1)/2 · n_ρ``, n the radial (CASE-34) or σ-table
    (CASE-36) nodes (the table is symmetric in σ1 ↔ σ2)."""
    n, n_rho = level[-2], level[-1]
    return n * (n + 1) / 2 * n_rho


def output_rule(classes, m, sigma_v, rtol=RULE_RTOL, max_time=None):
    """Output ``(g_ii, g_ij)`` and their error bounds ``(e_ii, e_ij, e_ratio)`` (CASE-34; above
    m = :data:`RULE_MAX_WIDTH` the wide rule of (CASE-36)).

    The rules of :data:`RULE_LEVELS` (:data:`RULE_LEVELS_WIDE` above m = 16,
    :data:`WIDE_LEVELS` above m = 32) run in turn until two successive ones agree to
    ``min(rtol, RULE_RTOL)`` relative on g_ii, g_ij and the ratio (above
    :data:`RULE_FINE_TAU`: from the second level, to ``min(rtol, RULE_WIDE_RTOL)``; above m = 32
    to ``min(rtol, RULE_WIDE_RTOL)``); the finer is returned, with the differences as its error
    bounds. ``OutputDomainError`` where
    :func:`usable` is false or no two rules agree. ``max_time`` (seconds, None: no limit): a
    ``ValueError`` before a size whose cost — the last size's time scaled by the number of
    evaluations of F — would take the whole call beyond it."""
    if not usable(m, sigma_v):
        raise OutputDomainError(f"the output rule (CASE-34, CASE-36) does not serve m={m}, "
                                f"sigma_v={sigma_v:g}")
    if not (math.isfinite(rtol) and rtol > 0):
        raise ValueError(f"rtol must be a finite number > 0, got {rtol!r}")
    evaluate, levels, tol = _schedule(classes, m, sigma_v, rtol)
    start = steady_clock()
    prev, last = None, None
    for level in levels:
        if max_time is not None and last is not None:
            spent = steady_clock() - start
            need = last[1] * _evaluations(level) / _evaluations(last[0])
            if spent + need > max_time:
                raise ValueError(f"the output rule (CASE-34, CASE-36) at classes={classes}, m={m}, "
                                 f"sigma_v={sigma_v:g} needs about {spent + need:.0f} s for its "
                                 f"next size, beyond max_time={max_time:g} s; raise max_time")
        t0 = steady_clock()
        g = evaluate(level)
        last = (level, steady_clock() - t0)
        if prev is not None:
            err = np.abs(g - prev)
            e_ratio = abs(g[1] / g[0] - prev[1] / prev[0])
            if max(err[0] / g[0], err[1] / g[1], e_ratio * g[0] / g[1]) <= tol:
                return (float(g[0]), float(g[1])), (float(err[0]), float(err[1]), e_ratio)
        prev = g
    raise OutputDomainError(f"the output rules of (CASE-34)/(CASE-36) do not agree to {tol:g} at "
                            f"classes={classes}, m={m}, sigma_v={sigma_v:g}")
