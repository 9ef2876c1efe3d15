"""mlp-ce hidden block by the rule over the norms with stratified directions (theory/cases.md,
(CASE-35)): the exchange of u and u' against direct evaluation, the table against an independent
radial quadrature at fixed directions, the patterns' weights and ρ-moments, the estimate against
brute Monte Carlo over ``(u, u', V)`` and against the sampled route of (CASE-15)–(CASE-18), the
table's error bound against the finest table, and its use in ``limits``.

Monte Carlo comparisons: false-alarm rate ALPHA per check (Bonferroni over its comparisons; normal
quantile for ≥ 10⁵ iid draws, Student t for 32 replicates, Welch–Satterthwaite degrees of freedom
where two replicate errors combine).
"""

import math

import numpy as np
import pytest

from rmthess.cases import get_case
from rmthess.cases._estimate import run_to_rtol, worst_rse
from rmthess.cases._mlp_ce_hidden import hidden_expectations, hidden_pair_terms
from rmthess.cases._mlp_ce_hidden_rule import (
    FINE_TAU,
    LEVELS,
    WIDE_LEVELS,
    HiddenRule,
    TableDisagreement,
    _directions,
    _interpolation,
    _swap,
    _theta_nodes,
    patterns,
    radial_table,
    usable,
)
from rmthess.cases._mlp_ce_output_rule import tau_within
from rmthess.cases.mlp_ce import (
    REPLICATES,
    _finished,
    _hidden_route,
    _hidden_rule_pays,
    _PairSampler,
    _SplitSampler,
)
from tests._mc import monte_carlo, z_threshold

ALPHA = 1e-4


def test_swap_against_direct_evaluation():
    """The 21 numbers at ``(σ2, σ1, θ)`` from those at ``(σ1, σ2, θ)`` by the reflection of the
    basis equal the quadrature of (CASE-33) at the exchanged point (to its ~1e-10 error)."""
    s1, s2 = np.array([0.5, 1.7, 1.0, 0.2]), np.array([1.3, 0.3, 1.0, 2.0])
    th = np.array([0.4, 1.2, 0.05, 1.5])
    a = hidden_expectations(s1, s2, np.cos(th), 30)
    b = hidden_expectations(s2, s1, np.cos(th), 30)
    err = np.abs(_swap(a, th) - b).max(1) / np.abs(b).max(1)
    assert np.all(err < 1e-8), err


def test_interpolation_reproduces_polynomials_in_theta():
    """The barycentric matrix is exact for polynomials of degree < n_θ in θ, and at a node it
    returns the node's value."""
    nodes, w = _theta_nodes(9)
    t = np.array([0.0, 0.3, 1.1, np.pi / 2, nodes[4]])
    q = _interpolation(t, nodes, w)
    for k in range(9):
        np.testing.assert_allclose(q @ nodes ** k, t ** k, rtol=1e-11, atol=1e-12)
    assert q[-1, 4] == 1.0


def test_patterns_probabilities_and_rho_moments():
    """The patterns with ``j ≥ 1`` carry probability ``1 − (3/4)^m``; E[ρⁿ | pattern] against 2·10⁵
    draws of the pattern's directions (n = 1, 2, 3; 5 standard errors, ALPHA ≈ 1e-5 over 12)."""
    m = 6
    shape, prob, means = patterns(m)
    assert prob.sum() == pytest.approx(1.0 - 0.75 ** m, rel=1e-14)
    rng = np.random.default_rng(2)
    for k in (0, 7, len(shape) // 2, len(shape) - 1):
        j, k1, k2 = shape[k]
        s, s2 = _directions(j, k1, k2, rng, 200_000)
        rho = (s * s2).sum(1) / np.linalg.norm(s, axis=1) / np.linalg.norm(s2, axis=1)
        for n in range(1, 4):
            x = rho ** n
            assert abs(x.mean() - means[k, n - 1]) < 5.0 * x.std() / math.sqrt(x.size) + 1e-15


def test_control_columns_have_mean_zero():
    """The control columns ``ρⁿ − E[ρⁿ | pattern]`` of the rule's draws average to zero over 5·10⁴
    fresh directions in each of three patterns (5 standard errors; ALPHA ≈ 5e-6 over 9)."""
    rule = HiddenRule.__new__(HiddenRule)
    rule.m, rule.tau = 6, 0.1
    rule.shape, rule.prob, rule.rho_means = patterns(6)
    rule.table = np.zeros((7, 7, 4, 21))            # the draws' values do not matter here
    rng = np.random.default_rng(8)
    for k in (2, len(rule.shape) // 3, len(rule.shape) - 4):
        _, x = rule._draws(k, *_directions(*rule.shape[k], rng, 50_000))
        se = x.std(0, ddof=1) / math.sqrt(x.shape[0])
        assert np.all(np.abs(x.mean(0)) < 5.0 * se), (rule.shape[k], x.mean(0), se)


@pytest.mark.parametrize("nodes, rtol",
                         [(16, 1e-4), pytest.param(24, 1e-5, marks=pytest.mark.slow)])
def test_table_against_independent_radial_quadrature(nodes, rtol):
    """At fixed directions of a pattern, the rule's draw (radial table at level 2, interpolated in
    θ) against the pair terms of (CASE-33) at the points ``(r1 ŝ, r2 ŝ')`` integrated over
    ``r1 ~ χ_{d1}``, ``r2 ~ χ_{d2}`` by a tensor Gauss–Legendre rule on ``[0, 7]²`` (an independent
    construction; tails ~1e-7): 16 nodes each to 1e-4, (slow) 24 to 1e-5 relative (the level's
    bound is ~1e-6)."""
    C, m, sv = 10, 6, math.sqrt(6.0 / 8.0)
    tau = sv * sv / m
    j, k1, k2 = 2, 1, 2
    s, s2 = _directions(j, k1, k2, np.random.default_rng(4), 1)
    rule = HiddenRule.__new__(HiddenRule)
    rule.m, rule.tau = m, tau
    rule.shape, rule.prob, rule.rho_means = patterns(m)
    rule.table = radial_table(C, m, tau, LEVELS[1])
    got, _ = rule._draws([tuple(p) for p in rule.shape].index((j, k1, k2)), s, s2)
    x, w = np.polynomial.legendre.leggauss(nodes)
    r, w = 3.5 * (x + 1.0), 3.5 * w

    def chi(d):
        return w * r ** (d - 1) * np.exp(-r * r / 2) / (2.0 ** (d / 2 - 1) * math.gamma(d / 2))

    pad = np.zeros((r.size * r.size, m - s.shape[1]))
    u = np.repeat(r[:, None] * s / np.linalg.norm(s), r.size, 0)
    u2 = np.tile(r[:, None] * s2 / np.linalg.norm(s2), (r.size, 1))
    val = hidden_pair_terms(np.hstack([u, pad]), np.hstack([u2, pad]), tau, C)
    want = (np.outer(chi(j + k1), chi(j + k2)).ravel()[:, None] * val).sum(0)
    np.testing.assert_allclose(got[0], want, rtol=rtol)


def _kappa(V, x):
    """Dense ``κ = Vᵀ(diag p − ppᵀ)V`` per draw, ``p = softmax(V relu(x))``."""
    z = np.einsum("ncm,nm->nc", V, np.maximum(x, 0.0))
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    d = V - np.einsum("nc,ncm->nm", p, V)[:, None, :]
    return np.einsum("nc,nci,ncj->nij", p, d, d)


def _brute_pairs(C, m, sigma_v, n, rng, chunk=50_000):
    """The pair terms of (CASE-9) with everything sampled: fresh V (entries ``N(0, σ_v²/m)``), u, u'
    per draw, dense ``κ(u) = Vᵀ(diag p − ppᵀ)V``; the average over the units of
    ``κ_ii κ'_ii 1_i`` and over the ordered pairs i ≠ j of ``κ_ij κ'_ij 1_i 1_j``, where
    ``1_i = 1(u_i > 0) 1(u'_i > 0)``."""
    out = []
    for start in range(0, n, chunk):
        k = min(chunk, n - start)
        u, u2 = rng.standard_normal((k, m)), rng.standard_normal((k, m))
        V = rng.standard_normal((k, C, m)) * (sigma_v / math.sqrt(m))
        one = (u > 0) & (u2 > 0)
        val = _kappa(V, u) * _kappa(V, u2) * (one[:, :, None] & one[:, None, :])
        diag = np.einsum("nii->n", val)
        out.append(np.column_stack([diag / m, (val.sum((1, 2)) - diag) / (m * (m - 1.0))]))
    return np.concatenate(out)


BRUTE = {"C3-m4": (3, 4, 0.7), "C8-m6": (8, 6, 0.8), "C10-m4-wide": (10, 4, 1.0)}


@monte_carlo(alpha=ALPHA, seed=11, params={k: {"point": v} for k, v in BRUTE.items()})
def check_rule_against_brute_monte_carlo(seed, point):
    """The pair terms ``(T1_ii, T1_ij)`` of the rule against 4·10⁵ brute draws (each ≤ 1 % standard
    error), combined standard errors (the rule's from its 32 replicates, ≪ the brute one)."""
    C, m, sv = point
    y = _brute_pairs(C, m, sv, 400_000, np.random.default_rng(seed))
    mean, se = y.mean(0), y.std(0, ddof=1) / math.sqrt(y.shape[0])
    assert np.all(se / mean <= 1e-2), se / mean
    rule = HiddenRule(C, m, sv, np.random.SeedSequence(seed), (0.0, 0.0), 1e-4, REPLICATES)
    rows = rule(4096)[:, :2]
    got, se_r = rows.mean(0), rows.std(0, ddof=1) / math.sqrt(REPLICATES)
    z = np.abs(got - mean) / np.hypot(se, se_r + rule.bounds)
    assert np.all(z < z_threshold(ALPHA, comparisons=2)), (got, mean, se, se_r)


@pytest.mark.parametrize("pid", list(BRUTE))
def test_rule_against_brute_monte_carlo(pid):
    check_rule_against_brute_monte_carlo(11, BRUTE[pid])


@monte_carlo(alpha=ALPHA, seed=5)
def check_rule_against_sampled_route(seed):
    """The rule against the sampled pair terms of (CASE-15)–(CASE-18) (ζ sampled, the Isserlis
    kernel) at C = 20, m = 8, σ_v = 1: combined replicate standard errors, Student t with
    Welch–Satterthwaite degrees of freedom."""
    C, m, sv = 20, 8, 1.0
    pairs = _PairSampler(C, m, sv, np.random.SeedSequence(seed), (0.0, 0.0))
    a = pairs(4096)[:, :2]
    rule = HiddenRule(C, m, sv, np.random.SeedSequence(seed + 1), (0.0, 0.0), 1e-4, REPLICATES)
    b = rule(2048)[:, :2]
    va, vb = a.var(0, ddof=1) / REPLICATES, b.var(0, ddof=1) / REPLICATES
    dof = int(np.min((va + vb) ** 2 / ((va ** 2 + vb ** 2) / (REPLICATES - 1))))
    z = np.abs(a.mean(0) - b.mean(0)) / (np.sqrt(va + vb) + rule.bounds)
    assert np.all(z < z_threshold(ALPHA, dof=dof, comparisons=2)), (a.mean(0), b.mean(0), z)


def test_rule_against_sampled_route():
    check_rule_against_sampled_route(5)


@pytest.mark.parametrize("C, m, sv, finer", [
    (10, 8, 1.0, 2), (1000, 4, 0.7, 2), (1000, 4, 1.0, 2),
    pytest.param(100, 16, 1.0, -1, marks=pytest.mark.slow),
    pytest.param(10 ** 5, 8, 1.0, -1, marks=pytest.mark.slow),
    pytest.param(10 ** 4, 8, math.sqrt(2.0), -1, marks=pytest.mark.slow)])
def test_error_bound_against_finer_table(C, m, sv, finer):
    """The table's bound (level 2 against level 1 on the pilot draws; :data:`WIDE_LEVELS` above
    τ = 1/8) holds against a finer level (3; slow: the finest) on the same draws."""
    rule = HiddenRule(C, m, sv, np.random.SeedSequence(1), (0.0, 0.0), 1.0, REPLICATES)
    sizes = LEVELS if tau_within(m, sv, FINE_TAU) else WIDE_LEVELS
    assert rule.level == sizes[1]
    rng = np.random.default_rng(3)
    draws = [_directions(*p, rng, 32) for p in rule.shape]

    def estimate():
        return sum(rule.prob[k] * rule._draws(k, *draws[k])[0].mean(0)
                   for k in range(len(rule.shape)))

    coarse = estimate()
    rule.table = radial_table(C, m, rule.tau, sizes[finer])
    fine = estimate()
    assert np.all(np.abs(coarse - fine) <= rule.bounds), (coarse - fine, rule.bounds)


def test_unreachable_table_tolerance_raises():
    with pytest.raises(TableDisagreement, match="do not agree"):
        HiddenRule(10, 4, 0.7, np.random.SeedSequence(0), (0.0, 0.0), 1e-14, REPLICATES,
                   levels=LEVELS[:2])


def test_domain():
    """τ = σ_v²/m ≤ 1/4 and 2 ≤ m ≤ 16, τ = 1/4 included though ``√2·√2/8`` rounds above it."""
    assert usable(8, 1.0) and usable(16, 1.0) and usable(2, 0.5) and usable(4, 1.0)
    assert usable(8, math.sqrt(2.0)) and usable(16, 2.0)
    assert not usable(4, 1.001) and not usable(2, 1.0) and not usable(17, 0.5)
    assert not usable(1, 0.1)


def test_rule_is_taken_where_it_pays():
    """The route's target: 1e-4 at C = 3, ``1e-4 (C/3)^0.4`` between, 1e-3 from C ≈ 10³ on."""
    assert _hidden_rule_pays(3, 1e-4) and not _hidden_rule_pays(3, 1.1e-4)
    assert _hidden_rule_pays(30, 2.5e-4) and not _hidden_rule_pays(30, 2.6e-4)
    assert _hidden_rule_pays(10 ** 4, 1e-3) and not _hidden_rule_pays(10 ** 6, 1.1e-3)


class _StubRule(HiddenRule):
    """Rows ``(T1_ii, T1_ij, 0, 0)`` of a known relative replicate error ``spread·√(first/count)``
    and given table bounds (no table, no draws)."""

    def __init__(self, spread, bounds):
        self.R, self.exact, self.count = REPLICATES, np.zeros(2), 0
        self.mu, self.spread = np.array([1.0, 0.1]), spread
        self.bounds = np.asarray(bounds) * self.mu
        z = np.random.default_rng(0).standard_normal((REPLICATES, 2))
        self.noise = (z - z.mean(0)) / z.std(0, ddof=1)

    def __call__(self, n):
        self.count += n
        return self.rows()

    def rows(self):
        f = self.spread * math.sqrt(self.first / self.count) * math.sqrt(REPLICATES)
        return np.column_stack([self.mu * (1.0 + f * self.noise), np.zeros((REPLICATES, 2))])


class _ConstantOutput:
    count = 0

    def __call__(self, n):
        self.count += n
        return np.tile([1.0, 0.5], (REPLICATES, 1))


def test_stopping_counts_the_table_bound():
    """The replicates stop when their errors *plus* the table's bounds meet rtol: a first round at
    0.95·rtol with bounds of rtol/4 is not accepted, and the reported errors (bounds included)
    end within rtol."""
    rtol = 1e-4
    rule = _StubRule(0.95 * rtol, (rtol / 4, rtol / 4))
    step = _SplitSampler(rule, _ConstantOutput(), 1.0, rtol)
    blocks, _ = run_to_rtol(step, 1.0, rtol, 60.0, 1, finish=lambda b, g: _finished(b, step, g))
    h = blocks["hidden"]
    assert rule.count > rule.first
    assert worst_rse(blocks) <= rtol
    raw = rule.rows()[:, :2]
    se = raw.std(0, ddof=1) / math.sqrt(REPLICATES)
    np.testing.assert_allclose([h.stderr_g_ii, h.stderr_g_ij], se + rule.bounds, rtol=1e-12)


def test_route_where_the_rule_pays():
    """``_hidden_route`` builds the rule (not a fallback) where it serves and pays."""
    hidden = _hidden_route(30, 8, 1.0, np.random.SeedSequence(0), (0.0, 0.0), 2e-4)
    assert isinstance(hidden, HiddenRule)
    assert not isinstance(_hidden_route(30, 8, 1.0, np.random.SeedSequence(0), (0.0, 0.0), 1e-3),
                          HiddenRule)


@pytest.mark.parametrize("C, rtol", [(30, 2e-4), pytest.param(1000, 1e-3, marks=pytest.mark.slow)])
def test_limits_use_the_rule(C, rtol):
    """``limits`` where the rule pays: its standard errors, bound included, meet ``rtol``;
    ``limits_over_gamma`` at one γ gives the same numbers with the same seed (the rows are free of
    γ; from C = 10³ on too, where it once ran one call per γ)."""
    case = get_case("mlp-ce")
    a = case.limits(1.0, C, m=8, rng=3, rtol=rtol)
    h = a.blocks["hidden"]
    assert max(h.stderr_ratio / h.ratio, h.stderr_g_ij / h.g_ij, h.stderr_g_ii / h.g_ii) <= rtol
    over = case.limits_over_gamma([1.0], C, m=8, rng=3, rtol=rtol)[1.0]
    assert over.blocks["hidden"] == h
