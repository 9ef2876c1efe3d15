r"""The mlp-ce hidden block with the norms integrated by a product rule and the directions sampled
by activity pattern (theory/cases.md, (CASE-35)).

Given ``(u, u')`` the ζ-expectation of the hidden pair terms (CASE-33) is the contraction of 21
numbers ``E(σ1, σ2, θ)`` — functions of ``σ1 = √τ|s|``, ``σ2 = √τ|s'|`` and the angle
``θ = arccos ρ``, ``ρ = ŝ·ŝ'`` — with the coordinates ``c_i`` of the unit vectors in the basis
``(e1, e2)`` of ``span(s, s')``, which depend on the directions ``ŝ, ŝ'`` only. Split the m
coordinates by which of ``u_i, u'_i`` are positive: ``j`` both, ``k1`` only u, ``k2`` only u'
(multinomial, each state of probability 1/4); given this pattern, ``|s| ~ χ_{j+k1}``,
``|s'| ~ χ_{j+k2}`` and the directions are independent (CASE-34). So

    E_{u,u'}[pair terms] = Σ_{j,k1,k2} π_{j,k1,k2} E_dir[contraction(Ē_{j+k1, j+k2}(θ), c)],
    Ē_{d1,d2}(θ) = E[E(√τ r1, √τ r2, θ)],  r1 ~ χ_{d1}, r2 ~ χ_{d2} independent,

with ``Ē`` by a Gauss rule for ``e^{−r²/2}`` on ``[0, ∞)`` in each radius (the χ densities' powers
in the weights) on Chebyshev points of θ ∈ [0, π/2], interpolated in θ (barycentric form), and
the expectation over the directions by Monte Carlo within each pattern (stratified sampling), with
the control variates ``ρⁿ`` (n = 1, 2, 3) of exact means (CASE-34). Nothing heavy-tailed is left:
the draws are bounded functions of the directions and vary little within a pattern (their spread
is printed by ``benchmarks/bench_mlp_ce_hidden.py --spread``), so the replicate standard errors
are honest and small at a few hundred draws per replicate.

The table needs ``E`` at ``n_r(n_r + 1)/2 · n_θ`` points: the point ``(σ2, σ1, θ)`` follows from
``(σ1, σ2, θ)`` by exchanging the roles of u and u', i.e. the reflection
``R = [[cos θ, sin θ], [sin θ, −cos θ]]`` of the basis (:func:`_swap`). Its error (radial rule,
θ interpolation and the resolution of the ζ-quadrature) is bounded by the difference of two
successive :data:`LEVELS`, measured on the pilot draws.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from rmthess._validate import child_seed
from rmthess.cases._base import BlockLimit
from rmthess.cases._mlp_ce_hidden import _SYM, _basis, contract, hidden_expectations
from rmthess.cases._mlp_ce_output_rule import (
    _radial_rule,
    _rho_moments,
    activity_patterns,
    tau_within,
)
from rmthess.cases._mlp_ce_output_wide import chebyshev_nodes
from rmthess.cases._mlp_ce_output_wide import interpolation as _interpolation

__all__ = ["HiddenRule", "TableDisagreement", "LEVELS", "WIDE_LEVELS", "FINE_TAU", "RULE_MAX_TAU",
           "RULE_MAX_WIDTH",
           "usable"]

#: table sizes ``(n_r, n_θ, res)`` (radial nodes, θ nodes, resolution of the ζ-quadrature) in
#: the order they are tried, each refining all three; the error of each is bounded by its
#: difference from the one before. Measured against (12, 14, 0.9) at m = 8, σ_v = 1, C = 100
#: (g_ii, g_ij of the pair terms): 7e-7 / 1.0e-5, 2e-7 / 5e-7, 4e-10 / 1.4e-8 for the first
#: three (CASE-35; ``benchmarks/bench_mlp_ce_hidden.py --levels``)
LEVELS = ((6, 6, 0.6), (8, 8, 0.7), (10, 10, 0.8), (12, 12, 0.9))
#: the sizes above ``τ = σ_v²/m =`` :data:`FINE_TAU`: there the first of :data:`LEVELS` is
#: 2e-5–6e-5 off at τ = 1/4 (m = 4, σ_v = 1), so the bound would take the third level; (7, 7, 0.65)
#: is 0.8e-6–2.3e-5 off and (8, 8, 0.7) 1e-6–9e-6 (``benchmarks/bench_mlp_ce_hidden.py --levels``)
WIDE_LEVELS = ((7, 7, 0.65), (8, 8, 0.7), (10, 10, 0.8), (12, 12, 0.9))
#: widest hidden layer served (the patterns number O(m³))
RULE_MAX_WIDTH = 16
#: largest τ at which :data:`LEVELS` are used
FINE_TAU = 0.125
#: largest τ = σ_v²/m served (the ζ-quadrature's cost grows fast with σ; measured in CASE-35)
RULE_MAX_TAU = 0.25
#: control variates ρⁿ, n = 1..CONTROLS
CONTROLS = 3
#: pilot draws per pattern (control coefficients, allocation, the table's error bound)
PILOT = 64
#: bound on draws × (units active in both)² per evaluation of the contraction (memory)
_CHUNK = 1 << 20


class TableDisagreement(ValueError):
    """No two successive table sizes agree to the requested tolerance."""


def usable(m, sigma_v):
    """Whether the rule serves ``(m, σ_v)``: ``2 ≤ m ≤`` :data:`RULE_MAX_WIDTH` and
    ``τ = σ_v²/m ≤`` :data:`RULE_MAX_TAU`."""
    return 2 <= m <= RULE_MAX_WIDTH and tau_within(m, sigma_v, RULE_MAX_TAU)


def _theta_nodes(n):
    """Chebyshev points of the first kind on ``[0, π/2]`` and their barycentric weights."""
    return chebyshev_nodes(0.0, np.pi / 2, n)


def _swap(E, theta):
    """The 21 numbers of (CASE-33) at ``(σ2, σ1, θ)`` from those at ``(σ1, σ2, θ)`` (rows of E):
    exchanging u and u' maps the basis by ``R = [[cos θ, sin θ], [sin θ, −cos θ]]`` and
    ``Ñ ↔ R P̃ R``, ``trQ ↔ trQ'``, ``M → R Mᵀ R``."""
    c, s = np.cos(theta), np.sin(theta)
    R = np.stack([np.stack([c, s], -1), np.stack([s, -c], -1)], -2)        # (n, 2, 2)
    idx = np.array([[0, 1], [1, 2]])

    def full(v):
        return v[:, idx]

    def sym(M):
        return np.stack([M[:, a, b] for a, b in _SYM], 1)

    NP = E[:, :9].reshape(-1, 3, 3)
    T = NP[:, idx[:, :, None, None], idx[None, None, :, :]]                 # E[Ñ_ab P̃_cd]
    Tn = np.einsum("nai,nbj,nck,ndl,nklij->nabcd", R, R, R, R, T)
    out = np.empty_like(E)
    out[:, :9] = np.stack([Tn[:, a, b, c_, d] for a, b in _SYM for c_, d in _SYM], 1)
    out[:, 9:12] = sym(R @ full(E[:, 12:15]) @ R)
    out[:, 12:15] = sym(R @ full(E[:, 9:12]) @ R)
    out[:, 15] = E[:, 15]
    out[:, 16:20] = (R @ E[:, 16:20].reshape(-1, 2, 2).transpose(0, 2, 1) @ R).reshape(-1, 4)
    out[:, 20] = E[:, 20]
    return out


@lru_cache(maxsize=8)
def _degree_weights(m, n_r):
    """``(r, w)``: radial nodes and ``w[d, a]``, the χ_d expectation weights (d = 0..m; row 0
    unused)."""
    r, w = _radial_rule(n_r)
    wd = np.zeros((m + 1, n_r))
    for d in range(1, m + 1):
        wd[d] = w * r ** (d - 1) / (2.0 ** (d / 2.0 - 1.0) * math.gamma(d / 2.0))
    return r, wd


def radial_table(classes, m, tau, level):
    """``Ē[d1, d2, i]``: the 21 numbers averaged over ``|s| ~ χ_{d1}``, ``|s'| ~ χ_{d2}`` at the
    θ nodes of ``level`` = ``(n_r, n_θ, res)``, shape ``(m + 1, m + 1, n_θ, 21)``."""
    n_r, n_t, res = level
    r, wd = _degree_weights(m, n_r)
    theta, _ = _theta_nodes(n_t)
    ia, ib = np.triu_indices(n_r)
    a, b = np.repeat(ia, n_t), np.repeat(ib, n_t)
    i = np.tile(np.arange(n_t), ia.size)
    st = math.sqrt(tau)
    E = hidden_expectations(st * r[a], st * r[b], np.cos(theta[i]), classes, res=res)
    grid = np.empty((n_r, n_r, n_t, E.shape[1]))
    grid[a, b, i] = E
    grid[b, a, i] = _swap(E, theta[i])          # on the diagonal a = b the two agree
    return np.einsum("xa,yb,abik->xyik", wd, wd, grid)


@lru_cache(maxsize=8)
def patterns(m):
    """``(shape, prob, rho_means)``: the activity patterns ``(j, k1, k2)`` with ``j ≥ 1`` (the
    others contribute nothing), their probabilities, and ``E[ρⁿ | pattern]``, n = 1..CONTROLS."""
    import mpmath as mp

    found = activity_patterns(m)
    with mp.workdps(30):
        moments = _rho_moments(mp, m, CONTROLS)
        means = [[float(x) for x in moments(j, j + k1, j + k2)[1:]] for j, k1, k2, _ in found]
    return (np.array([f[:3] for f in found]), np.array([f[3] for f in found]),
            np.array(means))


def _directions(j, k1, k2, rng, n):
    """``n`` draws of ``(s, s')`` of the pattern: the first j units active in both, the next k1
    in u only, the next k2 in u' only (the lengths are immaterial)."""
    g = np.abs(rng.standard_normal((n, 2 * j + k1 + k2)))
    width = j + k1 + k2
    s, s2 = np.zeros((n, width)), np.zeros((n, width))
    s[:, :j + k1] = g[:, :j + k1]
    s2[:, :j] = g[:, j + k1:2 * j + k1]
    s2[:, j + k1:] = g[:, 2 * j + k1:]
    return s, s2


class HiddenRule:
    """Replicates of the hidden pair terms ``(T1_ii, T1_ij)`` by (CASE-35), with the exact
    γ-terms: rows ``(T1_ii, T1_ij, T2_ii, T2_ij)`` of replicate means.

    Each replicate is a stratified estimate over the activity patterns (pattern shares fixed by
    Neyman allocation on the pilot); ``bounds``: the table's error bounds ``(e_ii, e_ij)`` on
    the pair terms (the difference of the chosen level from the one before, measured on the pilot
    draws, plus three of its standard errors). ``levels``: the table sizes to try (None:
    :data:`LEVELS` up to ``τ =`` :data:`FINE_TAU`, else :data:`WIDE_LEVELS`).
    :class:`TableDisagreement` (a ``ValueError``) when no two successive ``levels`` agree to
    ``tol`` relative."""

    #: draws per replicate in the first round
    first = 256

    def __init__(self, classes, m, sigma_v, seed, gamma_terms, tol, replicates, levels=None):
        self.C, self.m, self.tau, self.R = classes, m, sigma_v * sigma_v / m, replicates
        if levels is None:
            levels = LEVELS if tau_within(m, sigma_v, FINE_TAU) else WIDE_LEVELS
        self.exact = np.asarray(gamma_terms, dtype=float)
        self.shape, self.prob, self.rho_means = patterns(m)
        self.rng = np.random.default_rng(child_seed(seed, 13))
        pilot_rng = np.random.default_rng(child_seed(seed, 12))
        pilot = [_directions(*p, pilot_rng, PILOT) for p in self.shape]
        prev, prev_rows = None, None
        for level in levels:
            self.table = radial_table(classes, m, self.tau, level)
            rows = [self._draws(k, *pilot[k]) for k in range(len(self.shape))]
            if prev is not None:
                diff = np.array([r[0] - p[0] for r, p in zip(rows, prev_rows, strict=True)])
                mean = (self.prob[:, None] * diff.mean(1)).sum(0)
                se = np.sqrt((self.prob[:, None] ** 2 * diff.var(1, ddof=1) / PILOT).sum(0))
                self.bounds = np.abs(mean) + 3.0 * se
                if np.all(self.bounds <= tol * self._pilot_scale(rows)):
                    break
            prev, prev_rows = level, rows
        else:
            raise TableDisagreement(f"the tables of (CASE-35) do not agree to {tol:g} at "
                                    f"classes={classes}, m={m}, sigma_v={sigma_v:g}")
        self.level = level
        self.beta, sd = [], []
        for y, x in rows:
            xc = x - x.mean(0)
            beta = np.linalg.lstsq(xc, y - y.mean(0), rcond=None)[0]           # (CONTROLS, 2)
            self.beta.append(beta)
            resid = y - x @ beta
            sd.append(resid.std(0, ddof=1))
        sd = np.array(sd)
        scale = self._pilot_scale(rows)
        score = self.prob * np.max(sd / np.where(scale > 0, scale, 1.0), axis=1)
        share = score / score.sum() if score.sum() > 0 else self.prob / self.prob.sum()
        self.share = share
        self.sums = np.zeros((replicates, len(self.shape), 2))
        self.counts = np.zeros((replicates, len(self.shape)))
        self.count = 0

    def _pilot_scale(self, rows):
        """``|T1_ii|, |T1_ij|`` estimated from the pilot draws ``rows`` (per pattern ``(y, x)``)."""
        return np.abs((self.prob[:, None] * np.array([y.mean(0) for y, _ in rows])).sum(0))

    def _draws(self, k, s, s2):
        """Draws ``y`` (n, 2) of the pattern k at the directions ``(s, s')`` and their controls
        ``x`` (n, CONTROLS) minus their means."""
        j, k1, k2 = self.shape[k]
        e1, e2, _, b1, b2, both = _basis(s, s2)
        rho = np.clip(b1 / np.hypot(b1, b2), 0.0, 1.0)
        nodes, weights = _theta_nodes(self.table.shape[2])
        E = _interpolation(np.arccos(rho), nodes, weights) @ self.table[j + k1, j + k2]
        y = contract(e1[:, :j], e2[:, :j], both[:, :j], E, self.tau, self.m)
        x = rho[:, None] ** np.arange(1, CONTROLS + 1) - self.rho_means[k]
        return y, x

    def __call__(self, n):
        """Add about ``n`` draws to every replicate; return the rows (R, 4)."""
        for k, p in enumerate(self.shape):
            if self.prob[k] == 0.0:
                continue
            per = max(2, int(round(n * self.share[k])))
            total, step = per * self.R, max(1, _CHUNK // (p[0] * p[0]))
            for start in range(0, total, step):          # rows in order: replicate-major
                rows = min(step, total - start)
                y, x = self._draws(k, *_directions(*p, self.rng, rows))
                np.add.at(self.sums[:, k], (start + np.arange(rows)) // per, y - x @ self.beta[k])
            self.counts[:, k] += per
        self.count += n
        return self.rows()

    def rows(self):
        """The replicate rows ``(T1_ii, T1_ij, T2_ii, T2_ij)`` of the draws so far, (R, 4)."""
        t1 = (self.prob[None, :, None] * self.sums / self.counts[:, :, None]).sum(1)
        return np.column_stack([t1, np.broadcast_to(self.exact, (self.R, 2))])

    def widen(self, block, gamma):
        """``block`` (the hidden :class:`BlockLimit` from the replicates) with the table's error
        bounds added to its standard errors."""
        e_ii, e_ij = self.bounds
        e_ratio = abs(block.ratio) * (e_ii / abs(block.g_ii) + e_ij / abs(block.g_ij))
        return BlockLimit(block.g_ii, block.g_ij, block.ratio, block.stderr_ratio + e_ratio, True,
                          block.stderr_g_ii + e_ii, block.stderr_g_ij + e_ij)
