"""mlp-ce output block by the deterministic rule over ``(|s|, |s'|, ρ)`` (theory/cases.md,
(CASE-34)): the weights against exact moments, the rule against brute Monte Carlo over
``(u, u', V)`` and against the sampled route of (CASE-17)–(CASE-18), its error bound against a
finer rule, and its use in ``limits``.

Monte Carlo comparisons: false-alarm rate ALPHA per check (Bonferroni over its comparisons; normal
quantile for ≥ 10⁵ iid draws, Student t for the 32 replicates of the sampled route).
"""

import math

import numpy as np
import pytest

from rmthess.cases import get_case
from rmthess.cases._mlp_ce_output import OutputDomainError
from rmthess.cases._mlp_ce_output_rule import (
    RULE_FINE_TAU,
    RULE_LEVELS,
    RULE_LEVELS_WIDE,
    RULE_LEVELS_WIDTH,
    RULE_RTOL,
    RULE_WIDE_RTOL,
    _apply,
    output_rule,
    rule_nodes,
    tau_within,
    usable,
)
from rmthess.cases.mlp_ce import _PairSampler
from tests._mc import monte_carlo, z_threshold

ALPHA = 1e-4
#: half-normal-or-zero moments of s = relu(u), u ~ N(0, 1): E s^k, k = 0..4
_E = (1.0, 1.0 / math.sqrt(2.0 * math.pi), 0.5, math.sqrt(2.0 / math.pi), 1.5)


def _apply_weights(m, n_r, n_rho, f):
    """``Σ Ω[a, b, i] f(r_a, r_b, t_i)``: the rule's value of ``E c² f(|s|, |s'|, ρ)``."""
    r, t, omega = rule_nodes(m, n_r, n_rho)
    return float(np.einsum("abi,abi->", omega, f(r[:, None, None], r[None, :, None],
                                                  t[None, None, :])))


@pytest.mark.parametrize("m", [2, 5, 8, 24, 32])
def test_weights_exact_moments(m):
    """``Σ Ω = E(s·s')² = m/4 + m(m − 1)/(4π²)`` (CASE-8) and ``Σ Ω r_a² = E(s·s')²|s|²``
    (sums of products of the moments of s): polynomial in r of low degree and constant in ρ, so
    exact to rounding (1e-12) for the first two sizes up to m = 16; above, RULE_LEVELS_WIDE
    integrate ``r^{d+3}`` exactly for all but the patterns of tiny probability (1e-10 at
    m = 24, 32: the (14, 8) rule is 1e-11 off at m = 32)."""
    levels = RULE_LEVELS if m <= RULE_LEVELS_WIDTH else RULE_LEVELS_WIDE
    e0, e1, e2, e3, e4 = _E
    c2 = m / 4.0 + m * (m - 1.0) / (4.0 * math.pi ** 2)
    c2a = m * (e4 + (m - 1) * e2 * e2) * e2 + m * (m - 1) * (2 * e3 * e1 + (m - 2) * e1 * e1 * e2) \
        * e1 * e1
    for n_r, n_rho in levels[:2]:
        one = _apply_weights(m, n_r, n_rho, lambda a, b, t: np.ones(np.broadcast_shapes(
            a.shape, b.shape, t.shape)))
        assert one == pytest.approx(c2, rel=1e-12)
        assert _apply_weights(m, n_r, n_rho, lambda a, b, t: a * a + 0.0 * b * t) == \
            pytest.approx(c2a, rel=1e-10 if m > RULE_LEVELS_WIDTH else 1e-12)


def test_weights_powers_of_the_inner_product():
    """``Σ Ω (r_a r_b t_i)ⁿ = E(s·s')^{n+2} = Σ_j Binomial(m, 1/4)(j) E[(x·y)^{n+2}]`` for
    n ≤ 10 at m = 12, (12, 12) (exact: degree ``d + n + 2 ≤ 2·12 − 1`` in each radius for every
    d ≤ m, ``< n_ρ`` in ρ): checks the sum over the patterns, the radial weights and the ρ basis
    together, to 1e-12."""
    import mpmath as mp

    from rmthess.cases._mlp_ce_output_rule import _moment_tables

    m, n_r, n_rho, top = 12, 12, 12, 10
    with mp.workdps(40):
        sums, _ = _moment_tables(mp, m, n_rho + 1)
        binom = [mp.binomial(m, j) * mp.mpf(1) / 4 ** j * (mp.mpf(3) / 4) ** (m - j)
                 for j in range(m + 1)]
        exact = [float(mp.fsum(binom[j] * sums[j][n + 2] for j in range(m + 1)))
                 for n in range(top + 1)]
    for n in range(top + 1):
        got = _apply_weights(m, n_r, n_rho, lambda a, b, t, n=n: (a * b * t) ** n)
        assert got == pytest.approx(exact[n], rel=1e-12), n


@monte_carlo(alpha=ALPHA, seed=3)
def check_weights_rho_against_monte_carlo(seed):
    """``E[(s·s')² ρ⁵ |s||s'|]`` (degree 5 in ρ: exact for a rule with ≥ 6 ρ-nodes) against 10⁶
    iid draws of ``(u, u')``, m = 6."""
    m, n = 6, 1_000_000
    rng = np.random.default_rng(seed)
    s = np.maximum(rng.standard_normal((n, m)), 0.0)
    s2 = np.maximum(rng.standard_normal((n, m)), 0.0)
    a, b, c = np.sqrt((s * s).sum(1)), np.sqrt((s2 * s2).sum(1)), (s * s2).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(a * b > 0, c / (a * b), 0.0)
    draws = c * c * rho ** 5 * a * b
    mean, se = draws.mean(), draws.std(ddof=1) / math.sqrt(n)
    got = _apply_weights(m, *RULE_LEVELS[0], lambda x, y, t: x * y * t ** 5)
    assert abs(got - mean) < z_threshold(ALPHA) * se, (got, mean, se)


def test_weights_rho_against_monte_carlo():
    check_weights_rho_against_monte_carlo(3)


def _brute_draws(C, m, sigma_v, n, rng):
    """Output draws of (CASE-17) with everything sampled: fresh ``V`` (entries ``N(0, σ_v²/m)``),
    ``u``, ``u'`` per draw; ``(s·s')²`` times the class average of ``p_c(1 − p_c)p'_c(1 − p'_c)``
    and the average over ordered pairs c ≠ c' of ``p_c p_c' p'_c p'_c'``. In chunks of at most
    2²⁵ entries of V (one chunk for the smaller checks)."""
    step = max(1, (1 << 25) // (C * m))
    if n > step:
        parts = [_brute_draws(C, m, sigma_v, min(step, n - k), rng) for k in range(0, n, step)]
        return tuple(np.concatenate(z) for z in zip(*parts, strict=True))
    s = np.maximum(rng.standard_normal((n, m)), 0.0)
    s2 = np.maximum(rng.standard_normal((n, m)), 0.0)
    V = rng.standard_normal((n, C, m)) * (sigma_v / math.sqrt(m))
    x, y = np.einsum("ncm,nm->nc", V, s), np.einsum("ncm,nm->nc", V, s2)
    p = np.exp(x - x.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    q = np.exp(y - y.max(1, keepdims=True))
    q /= q.sum(1, keepdims=True)
    c2 = (s * s2).sum(1) ** 2
    d = c2 * (p * (1.0 - p) * q * (1.0 - q)).mean(1)
    o = c2 * ((p * q).sum(1) ** 2 - ((p * q) ** 2).sum(1)) / (C * (C - 1.0))
    return d, o


BRUTE = {"C3-m8": (3, 8, 1.0), "C10-m8": (10, 8, 1.0), "C5-m12-sv0.8": (5, 12, 0.8),
         "C10-m4-wide": (10, 4, 1.0), "C10-m32": (10, 32, 1.0)}


@monte_carlo(alpha=ALPHA, seed=7, params={k: {"point": v} for k, v in BRUTE.items()})
def check_rule_against_brute_monte_carlo(seed, point):
    """g_ii, g_ij and the ratio of the rule against 4·10⁵ brute draws (each ≤ 1 % standard
    error; ratio by the delta method)."""
    C, m, sv = point
    compare_with_brute(C, m, sv, 400_000, np.random.default_rng(seed))


def compare_with_brute(C, m, sv, n, rng):
    """Assert that :func:`output_rule` agrees with ``n`` brute draws (each ≤ 1 % standard error;
    the ratio by the delta method) at the false-alarm rate ALPHA over three comparisons."""
    d, o = _brute_draws(C, m, sv, n, rng)
    md, mo = d.mean(), o.mean()
    cov = np.cov(np.vstack([o, d]))
    r = mo / md
    se = np.array([math.sqrt(cov[1, 1] / n), math.sqrt(cov[0, 0] / n),
                   math.sqrt((cov[0, 0] - 2 * r * cov[0, 1] + r * r * cov[1, 1]) / n) / md])
    assert np.all(se / np.array([md, mo, r]) <= 1e-2), se
    (g_ii, g_ij), _ = output_rule(C, m, sv)
    z = np.abs(np.array([g_ii - md, g_ij - mo, g_ij / g_ii - r])) / se
    assert np.all(z < z_threshold(ALPHA, comparisons=3)), (g_ii, g_ij, md, mo, se)


@pytest.mark.parametrize("pid", list(BRUTE))
def test_rule_against_brute_monte_carlo(pid):
    check_rule_against_brute_monte_carlo(7, BRUTE[pid])


@monte_carlo(alpha=ALPHA, seed=5)
def check_rule_against_sampled_route(seed):
    """The sampled route of (CASE-17)–(CASE-18) (scrambled Sobol' over ``(u, u', ζ)``, its own
    controls, 32 replicates of 2¹¹ points) at C = 4, m = 8, in its replicate standard errors."""
    C, m, sv = 4, 8, 1.0
    rows = _PairSampler(C, m, sv, np.random.SeedSequence(seed), (0.0, 0.0))(1 << 11)[:, 4:]
    mean = rows.mean(0)
    se = rows.std(0, ddof=1) / math.sqrt(rows.shape[0])
    (g_ii, g_ij), _ = output_rule(C, m, sv)
    z = np.abs(np.array([g_ii, g_ij]) - mean) / se
    assert np.all(z < z_threshold(ALPHA, dof=rows.shape[0] - 1, comparisons=2)), (mean, se)


def test_rule_against_sampled_route():
    check_rule_against_sampled_route(5)


def test_c2_output_ratio_one():
    """At C = 2 the diagonal and off-diagonal output draws are equal (CASE-17): ratio 1 exactly."""
    (g_ii, g_ij), (_, _, e_ratio) = output_rule(2, 8, 1.0)
    assert g_ii == g_ij and e_ratio == 0.0


@pytest.mark.slow
@pytest.mark.parametrize("C,m,sv", [(3, 8, 1.0), (10, 8, 1.0), (300, 8, 1.0), (10**5, 8, 1.0),
                                    (10, 16, 1.0), (10, 4, 0.7), (10, 4, 1.0), (10**5, 4, 1.0),
                                    (10**6, 8, math.sqrt(2.0)), (3, 32, 1.0), (300, 32, 1.0),
                                    (10**6, 32, math.sqrt(2.0))])
def test_error_bound_against_finer_rule(C, m, sv):
    """The reported error bounds hold against a rule finer in ρ than every level (24 radial ×
    20 ρ nodes; at m = 32 as fine radially as the last level), up to the 1e-9 relative accuracy of
    F (CASE-32); they meet RULE_RTOL up to τ = 1/8 and RULE_WIDE_RTOL above, where the target is
    the 1e-4 of ``limits`` (the schedule that accepts at 1e-5)."""
    wide = not tau_within(m, sv, RULE_FINE_TAU)
    (g_ii, g_ij), (e_ii, e_ij, e_r) = output_rule(C, m, sv, 1e-4 if wide else RULE_RTOL)
    ref = _apply(C, m, sv, 24, 20)
    assert abs(g_ii - ref[0]) <= e_ii + 1e-9 * ref[0]
    assert abs(g_ij - ref[1]) <= e_ij + 1e-9 * ref[1]
    assert abs(g_ij / g_ii - ref[1] / ref[0]) <= e_r + 2e-9 * ref[1] / ref[0]
    assert max(e_ii / g_ii, e_ij / g_ij) <= (RULE_WIDE_RTOL if wide else RULE_RTOL)


def test_limits_use_the_rule():
    """``limits`` (Gaussian V, no prior, a target rtol) returns the rule's output block with its
    error bounds (≤ 1e-6 relative); a fixed ``samples`` budget keeps the sampled output block;
    ``limits_over_gamma`` at one γ gives the same numbers (same seed: the same hidden rows)."""
    case = get_case("mlp-ce")
    lim = case.limits(1.0, 10, m=8, rng=0, rtol=1e-2)
    out = lim.blocks["output"]
    (g_ii, g_ij), (e_ii, e_ij, e_r) = output_rule(10, 8, 1.0)
    assert (out.g_ii, out.g_ij, out.stderr_g_ii, out.stderr_g_ij) == (g_ii, g_ij, e_ii, e_ij)
    assert out.stderr_ratio == e_r <= RULE_RTOL * out.ratio
    fixed = case.limits(1.0, 10, m=8, rng=0, samples=1 << 12).blocks["output"]
    assert fixed.g_ii != g_ii and fixed.stderr_g_ii > e_ii
    over = case.limits_over_gamma([1.0], 10, m=8, rng=0, rtol=1e-2)[1.0]
    assert over.blocks["output"] == out                  # the same rule, no sampling
    assert over.blocks["hidden"].ratio == pytest.approx(lim.blocks["hidden"].ratio, rel=1e-13)


def test_bad_input():
    assert usable(8, 1.0) and usable(4, 1.0) and usable(8, math.sqrt(2.0))
    assert usable(32, 1.0) and usable(32, math.sqrt(2.0)) and usable(33, 1.0)
    assert not usable(3, 1.0) and not usable(2, 1.0) and not usable(31, 2.0)
    assert usable(32, 2.0) and usable(33, 2.0)            # τ ≤ 1/8: the wide rule (CASE-36)
    assert not usable(17, 2.0) and not usable(2049, 1.0)
    with pytest.raises(OutputDomainError, match="does not serve"):
        output_rule(10, 3, 1.0)
    for bad in (0.0, -1e-3, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="rtol"):
            output_rule(10, 8, 1.0, bad)
