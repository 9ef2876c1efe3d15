"""Check ``block-spectra``: MLP hidden blocks against their per-V laws, and the quartile levels."""

import numpy as np
import pytest

from rmthess.verify.base import CheckContext, check_seed
from rmthess.verify.checks._stats import quantile_points
from rmthess.verify.checks.spectra import (
    EDGE_REPS_QUICK,
    _continuous_quartiles,
    _scale,
    edge_remainder,
    edge_row,
)
from rmthess.verify.rules import TAIL_PROBABILITY
from rmthess.verify.runner import run_verification
from tests._mc import max_failures

#: the levels are arithmetic on the law's atom and F(0⁻): exact up to the cdf's own round-off
LEVEL_TOL = 1e-9
#: quantiles come from brentq at xtol 1e-12 on cdfs accurate to ~1e-10
QUANTILE_RTOL = 1e-6


def _gmp(atoms, probs, gamma):
    from rmthess.gmp import GeneralizedMarchenkoPastur
    from rmthess.laws import DiscreteLaw

    return GeneralizedMarchenkoPastur(DiscreteLaw(atoms, probs), gamma)


def test_quartile_levels_of_a_negative_law_mirror_the_positive_one():
    # weights {0, ±2}: the law with −2 is the mirror image of the law with +2 (oracle: symmetry)
    pos, neg = _gmp([0.0, 2.0], [0.75, 0.25], 1.0), _gmp([-2.0, 0.0], [0.25, 0.75], 1.0)
    atom = float(pos.atom_at_zero)
    assert atom == pytest.approx(0.75, abs=LEVEL_TOL)
    q = np.array([0.25, 0.5, 0.75])
    lp = _continuous_quartiles(pos, _scale(pos.support()))
    ln = _continuous_quartiles(neg, _scale(neg.support()))
    np.testing.assert_allclose(lp, atom + (1 - atom) * q, atol=LEVEL_TOL)
    np.testing.assert_allclose(ln, (1 - atom) * q, atol=LEVEL_TOL)
    xp, xn = quantile_points(pos, lp), quantile_points(neg, ln)
    np.testing.assert_allclose(xn, -xp[::-1], rtol=QUANTILE_RTOL)


@pytest.fixture(scope="module")
def tiny():
    return run_verification("tiny", 5, checks=["block-spectra"])


def test_hidden_block_rows_are_per_v_deviations(tiny):
    assert not tiny.errors
    hidden = [r for r in tiny.rows if r.parameters["case"].startswith("mlp-")]
    assert len(hidden) >= 4
    for r in hidden:
        assert r.rule == "richardson" and r.limit == 0.0 and r.parameters["m"] >= 1
        assert "per-V law" in r.note and r.scale > 0 and r.mde is not None
    moment = [r for r in tiny.rows if "m₂" in r.quantity]
    assert len(moment) == 3 and all(r.target == 0.05 for r in moment)
    labels = [p.density_label for p in tiny.figures["figure2"]]
    assert "mean of per-V GMP densities" in labels and "GMP density" in labels


def test_hidden_rows_reproduce_from_the_seed(tiny):
    again = run_verification("tiny", 5, checks=["block-spectra"])
    assert [r.as_dict() for r in again.rows] == [r.as_dict() for r in tiny.rows]


def test_edge_rows_are_extrapolated_relative_deviations(tiny):
    edges = [r for r in tiny.rows if "TW₁" in r.quantity]
    assert {(r.parameters["case"], r.parameters["block"]) for r in edges} == {
        ("linear-ce", "diag"), ("mlp-mse", "hidden diag")}
    for r in edges:
        assert r.rule == "richardson" and r.limit == 0.0 and r.scale == 1.0
        assert r.target == 0.02 and r.parameters["reps"] == 8
        # the stated allowance is in the band, on top of the geometric one
        assert r.remainder >= edge_remainder(40) > edge_remainder(120)


def test_edge_rows_refuse_blocks_without_exact_controls():
    ctx = CheckContext("tiny", check_seed(0, "block-spectra"))
    for spec in [("linear-ce", "offdiag", 0.5, 5), ("mlp-ce", "diag", 0.2, 5, 4)]:
        with pytest.raises(ValueError, match="no edge row"):
            edge_row(ctx, 0, spec, d0=40, reps=4)


#: fresh root seeds of the edge-row sweep (the verify default is 0)
EDGE_SEEDS = range(101, 121)


@pytest.mark.slow
def test_edge_rows_within_their_false_alarm_rate():
    """The two edge rows at ``quick`` sizes over 20 root seeds: their failures must stay within the
    binomial budget of the rate the rule states (P(|t| > k) = 6.3e-5 per row, plus the remainder
    allowance, VER-8); about 200 s of CPU."""
    specs = [(0, ("linear-ce", "diag", 0.5, 10), EDGE_REPS_QUICK[0]),
             (3, ("mlp-mse", "diag", 1.0, 10, 4), EDGE_REPS_QUICK[1])]
    rows = []
    for seed in EDGE_SEEDS:
        ctx = CheckContext("quick", check_seed(seed, "block-spectra"))
        rows += [edge_row(ctx, j, spec, d0=120, reps=reps) for j, spec, reps in specs]
    failures = [(r.parameters["case"], r.z) for r in rows if not r.consistent]
    assert len(failures) <= max_failures(TAIL_PROBABILITY, len(rows)), failures
    assert all(r.power_ok for r in rows), [r.mde for r in rows]
