"""mlp-ce output block for wide layers (theory/cases.md, (CASE-36)): exact moments of ``s·s'``
(F polynomial: the rule is exact but for the rounding of the ρ-weights), agreement with the
independent rule of (CASE-34) where both apply (m = 24, 32), brute Monte Carlo over ``(u, u', V)``
at m = 64, the dispatch of ``output_rule`` and ``limits``, and (slow) the error bounds against a
finer size.

Monte Carlo comparison: false-alarm rate ALPHA (Bonferroni over its three comparisons; normal
quantile for 2·10⁵ iid draws).
"""

import math

import numpy as np
import pytest

from rmthess.cases import get_case
from rmthess.cases._mlp_ce_output_rule import (
    RULE_LEVELS_WIDE,
    RULE_WIDE_RTOL,
    _apply,
    _schedule,
    output_rule,
    usable,
)
from rmthess.cases._mlp_ce_output_wide import (
    WIDE_LEVELS,
    kept_degrees,
    rho_weights,
    usable_wide,
    wide_rule,
)
from tests._mc import monte_carlo
from tests.cases.test_mlp_ce_output_rule import _E, compare_with_brute

ALPHA = 1e-4


def _moments(m):
    """``E(s·s')²`` (CASE-8) and ``E(s·s')²|s|²`` from the moments ``_E`` of a half-normal."""
    e0, e1, e2, e3, e4 = _E
    c2 = m / 4.0 + m * (m - 1.0) / (4.0 * math.pi ** 2)
    c2a = m * (e4 + (m - 1) * e2 * e2) * e2 + m * (m - 1) * (2 * e3 * e1 + (m - 2) * e1 * e1 * e2) \
        * e1 * e1
    return c2, c2a


@pytest.mark.parametrize("m", [33, 64, 128, 256, 1000, 2048])
def test_exact_moments(m):
    """``F ≡ 1`` gives ``E(s·s')²`` and ``F = (σ1² + σ2²)/2τ`` (symmetric, as the rule's table
    assumes) gives ``E(s·s')²|s|²``: polynomials in the
    radius of low degree (exact for the per-degree Gauss rules and the σ interpolation) and
    constant in ρ (``Σ_i ℓ_i = 1``); what is left is the rounding of the ρ-weights, amplified by
    the conditioning of the Chebyshev–Vandermonde system (≲ 1e-11 at n_ρ ≤ 10). From m = 1000 the
    overlaps j and degrees of probability below DEGREE_CUT are left out (≤ 1e-20) and Γ(d/2)
    overflows float64: the radial rules must not form it."""
    c2, c2a = _moments(m)
    tau = 0.5 / m                                           # σ_v² = 1/2
    for level in WIDE_LEVELS[:2]:
        one = wide_rule(10, m, math.sqrt(0.5), level,
                        F=lambda a, b, t, C: np.ones((a.size, 1)))
        assert one[0] == pytest.approx(c2, rel=1e-11)
        sq = wide_rule(10, m, math.sqrt(0.5), level,
                       F=lambda a, b, t, C: ((a * a + b * b) / (2.0 * tau))[:, None])
        assert sq[0] == pytest.approx(c2a, rel=1e-11)


def test_rho_powers():
    """``E[(s·s')² ρ^k]`` with ``F = ρ^k`` (k < n_ρ: exact in ρ; constant in the radii) against
    the sum over the patterns of ``π E r1² E r2² E[ρ^{k+2} | pattern]`` with the exact moments in
    extended precision: what is left is the rounding of the float64 ρ-weights amplified by the
    basis (≤ 3e-9 at n_ρ ≤ 12), m = 40."""
    import mpmath as mp

    from rmthess.cases._mlp_ce_output_rule import _moment_tables, _pattern_counts

    m = 40
    with mp.workdps(30):
        sums, chi = _moment_tables(mp, m, 13)
        scale = mp.mpf(4) ** -m
        exact = {}
        for k in (1, 5, 9):
            exact[k] = float(mp.fsum(
                count * scale * sums[j][k + 2] / (chi[j + k1][k + 2] * chi[j + k2][k + 2])
                * (j + k1) * (j + k2) for j, k1, k2, count in _pattern_counts(m)))
    for level in WIDE_LEVELS[:3]:
        for k in (1, 5, 9):
            if k >= level[2]:
                continue
            got = wide_rule(10, m, 1.0, level, F=lambda a, b, t, C, k=k: (t ** k)[:, None])
            assert got[0] == pytest.approx(exact[k], rel=3e-9), (level, k)


def test_rho_weights_sum_to_second_moment():
    """``Σ_i W[d1, d2, i] = Σ_j π E[ρ² | j, d1, d2]``; times ``d1 d2 = E r1² E r2²`` and summed:
    ``E(s·s')²`` (independent of the radial rules)."""
    m = 40
    W = rho_weights(m, 8)
    d = kept_degrees(m)
    total = (W.sum(2) * d[:, None] * d[None, :]).sum()
    assert total == pytest.approx(_moments(m)[0], rel=1e-12)


@pytest.mark.parametrize("C, m", [(10, 24), (3, 32), (300, 32)])
def test_against_the_narrow_rule(C, m):
    """Where both rules apply, the wide rule at its third size and the rule of (CASE-34) (to 1e-7)
    agree within the wide rule's bound (its difference from the second size) plus the other's."""
    (n_ii, n_ij), (e_ii, e_ij, _) = output_rule(C, m, 1.0, 1e-7)
    coarse = wide_rule(C, m, 1.0, WIDE_LEVELS[1])
    fine = wide_rule(C, m, 1.0, WIDE_LEVELS[2])
    bound = np.abs(fine - coarse)
    assert np.all(bound <= 1e-6 * fine), bound                   # the bound is itself tight
    assert abs(fine[0] - n_ii) <= bound[0] + e_ii, (fine, n_ii, bound)
    assert abs(fine[1] - n_ij) <= bound[1] + e_ij, (fine, n_ij, bound)


@monte_carlo(alpha=ALPHA, seed=19)
def check_against_brute_monte_carlo(seed):
    """g_ii, g_ij and the ratio at C = 10, m = 64 against 2·10⁵ brute draws of ``(u, u', V)``
    (each ≤ 1 % standard error; the ratio by the delta method)."""
    compare_with_brute(10, 64, 1.0, 200_000, np.random.default_rng(seed))


def test_against_brute_monte_carlo():
    check_against_brute_monte_carlo(19)


def test_output_rule_dispatch_and_domain():
    """Above m = 32 ``output_rule`` runs the wide sizes: its value is one of them, with the
    difference from the size before as its bound (≤ RULE_WIDE_RTOL); the domain is
    33 ≤ m ≤ 2048, τ ≤ 1/8, σ_v ≤ 2, and 17 ≤ m ≤ 32 above τ = 1/16 (where the rule of CASE-34
    stops), every bound up to rounding (σ_v = 2 at m = 64 and m = 32, σ_v = √2 at m = 32)."""
    (g_ii, g_ij), (e_ii, e_ij, _) = output_rule(10, 64, 1.0)
    values = [wide_rule(10, 64, 1.0, level) for level in WIDE_LEVELS]
    k = next(k for k, v in enumerate(values) if v[0] == g_ii)
    assert k >= 1 and values[k][1] == g_ij
    assert (e_ii, e_ij) == tuple(np.abs(values[k] - values[k - 1]))
    assert max(e_ii / g_ii, e_ij / g_ij) <= RULE_WIDE_RTOL
    assert usable(64, 1.0) and usable(64, math.sqrt(2.0)) and usable(256, math.sqrt(2.0))
    assert usable_wide(33, 1.0)
    assert usable(2048, 1.0) and usable(2048, math.sqrt(2.0))
    assert not usable(64, 2.01) and not usable(2049, 1.0) and not usable_wide(32, 1.0)
    assert usable(64, 2.0) and usable(33, math.sqrt(2.0)) and usable(2048, 2.0)
    assert not usable(256, 2.01) and not usable_wide(64, 0.0)
    # τ up to 1/8: m = 32 at σ_v = 2, m = 33 at σ_v = 2 (τ = 0.121); not m = 31 at σ_v = 2
    assert usable_wide(32, 2.0) and usable_wide(33, 2.0) and not usable(31, 2.0)
    assert not usable(40, 2.0 * math.sqrt(40.0 / 32.0) * 1.001)
    # 17 ≤ m ≤ 32 above τ = 1/16 only (below, CASE-34 serves): Kaiming-scale V at m = 17–31
    assert all(usable_wide(m, math.sqrt(2.0)) for m in range(17, 32))
    assert usable_wide(32, 1.5) and not usable_wide(32, math.sqrt(2.0))
    assert usable(32, math.sqrt(2.0))
    assert not usable_wide(16, 1.5) and not usable_wide(24, 1.0)


def test_limits_use_the_wide_rule():
    """``limits`` at m = 64 (Gaussian V, a target rtol) returns the wide rule's output block, its
    errors marked as bounds (the hidden block's as standard errors)."""
    lim = get_case("mlp-ce").limits(1.0, 10, m=64, rng=0, rtol=1e-2)
    (g_ii, g_ij), (e_ii, e_ij, e_r) = output_rule(10, 64, 1.0, 1e-2)
    out = lim.blocks["output"]
    assert (out.g_ii, out.g_ij, out.stderr_g_ii, out.stderr_g_ij, out.stderr_ratio) == \
        (g_ii, g_ij, e_ii, e_ij, e_r)
    assert out.bound and out.as_dict()["error_kind"] == "bound"        # bounds, not std errors
    assert not lim.blocks["hidden"].bound
    assert lim.blocks["hidden"].as_dict()["error_kind"] == "standard error"


@pytest.mark.slow
@pytest.mark.parametrize("C, m, sv", [(10, 64, 1.0), (1000, 128, 1.0), (10, 256, 1.0),
                                      (10, 64, math.sqrt(2.0)), (10 ** 5, 64, 1.0),
                                      (300, 33, 1.0), (10 ** 6, 256, math.sqrt(2.0)),
                                      (10 ** 3, 64, 2.0), (10 ** 6, 1024, 2.0),
                                      (10, 2048, 1.0)])
@pytest.mark.parametrize("rtol", [1e-4, 1e-6])
def test_error_bound_against_finer_size(C, m, sv, rtol):
    """The reported bounds (at the tolerance ``limits`` uses for 1e-4, and at 1e-6) hold against a
    size finer than every level, (16, 32, 16), up to the error of F itself in both: F at
    resolution 1 differs from resolution 2 by ≤ 5e-9 relative at C ≥ 10³ (2e-10 at C = 10;
    ``output_check``), so 1e-8."""
    (g_ii, g_ij), (e_ii, e_ij, _) = output_rule(C, m, sv, rtol)
    ref = wide_rule(C, m, sv, (16, 32, 16))
    assert abs(g_ii - ref[0]) <= e_ii + 1e-8 * ref[0]
    assert abs(g_ij - ref[1]) <= e_ij + 1e-8 * ref[1]


@pytest.mark.slow
@pytest.mark.parametrize("C, m, sv", [(10 ** 6, 32, 2.0), (10 ** 3, 48, 2.0),
                                      (10 ** 3, 17, math.sqrt(2.0)), (10, 24, math.sqrt(2.0))])
def test_error_bound_up_to_tau_one_eighth(C, m, sv):
    """Between τ = 1/16 and 1/8 (σ_v = 2 at m = 32 and 48, σ_v = √2 at m = 17 and 24) the bound
    at the tolerance ``limits`` uses for 1e-4 holds against (16, 32, 16), as above."""
    (g_ii, g_ij), (e_ii, e_ij, _) = output_rule(C, m, sv, 1e-4)
    ref = wide_rule(C, m, sv, (16, 32, 16))
    assert abs(g_ii - ref[0]) <= e_ii + 1e-8 * ref[0]
    assert abs(g_ij - ref[1]) <= e_ij + 1e-8 * ref[1]


@pytest.mark.slow
def test_against_the_narrow_rule_at_kaiming_scale():
    """m = 24, σ_v = √2 (τ = 1/12, the wide rule's by dispatch): against the rule of (CASE-34) at
    its two finest sizes, within the wide rule's bound plus their difference."""
    sv = math.sqrt(2.0)
    (g_ii, g_ij), (e_ii, e_ij, _) = output_rule(10, 24, sv, 1e-4)
    fine = _apply(10, 24, sv, *RULE_LEVELS_WIDE[-1])
    other = np.abs(fine - _apply(10, 24, sv, *RULE_LEVELS_WIDE[-2]))
    assert abs(g_ii - fine[0]) <= e_ii + other[0], (g_ii, fine, e_ii, other)
    assert abs(g_ij - fine[1]) <= e_ij + other[1], (g_ij, fine, e_ij, other)


def test_wide_rule_serves_kaiming_scale_from_17():
    """From m = 17 to 32 above τ = 1/16 the output rule runs the wide sizes; at τ ≤ 1/16 the rule
    of (CASE-34)."""
    assert _schedule(10, 24, math.sqrt(2.0), 1e-4)[1] == WIDE_LEVELS
    assert _schedule(10, 32, 2.0, 1e-4)[1] == WIDE_LEVELS
    assert _schedule(10, 24, 1.0, 1e-4)[1] != WIDE_LEVELS


def test_narrow_rule_untouched_below_33():
    """m ≤ 32 at τ ≤ 1/16 keeps the rule of (CASE-34): its value is one of its own sizes (never
    the first)."""
    (g_ii, _), _ = output_rule(10, 32, 1.0)
    assert any(_apply(10, 32, 1.0, *size)[0] == g_ii for size in RULE_LEVELS_WIDE[1:])


def test_output_rule_keeps_to_max_time(monkeypatch):
    """A size whose projected cost would overrun ``max_time`` is not started: with sizes that take
    0.2 s each and never agree, ``max_time = 0.5`` stops after the first (0.2 s spent, the second
    projected at 0.2 · 780/440 = 0.35 s by the numbers of evaluations of F), ``max_time = 0.75``
    after the second (0.4 + 0.2 · 1632/780 = 0.82); the ValueError names max_time. ``limits``
    passes its own budget on."""
    import time

    import rmthess.cases._mlp_ce_output_rule as rule

    calls = []

    def slow(classes, m, sigma_v, level):
        calls.append(level)
        time.sleep(0.2)
        return np.array([1.0, 1.0]) * len(calls)          # successive sizes never agree

    monkeypatch.setattr(rule, "wide_rule", slow)
    for max_time, sizes in ((0.5, 1), (0.75, 2)):
        calls.clear()
        with pytest.raises(ValueError, match="max_time"):
            rule.output_rule(10, 48, 2.0, 1e-4, max_time=max_time)
        assert calls == list(WIDE_LEVELS[:sizes])
    monkeypatch.undo()
    with pytest.raises(ValueError, match="max_time"):
        get_case("mlp-ce").limits(1.0, 10, m=48, sigma_v=2.0, rtol=1e-4, rng=0, max_time=2.0)
