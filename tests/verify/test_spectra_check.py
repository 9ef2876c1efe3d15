"""Check ``block-spectra``: MLP hidden blocks against their per-V laws, and the quartile levels."""

import numpy as np
import pytest

from rmthess.verify.checks._stats import quantile_points
from rmthess.verify.checks.spectra import _continuous_quartiles, _scale
from rmthess.verify.runner import run_verification

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
