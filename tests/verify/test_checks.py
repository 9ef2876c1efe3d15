"""The real checks: reproducible from the seed, independent of each other, sizes declared."""

import math

import pytest

from rmthess.verify.base import CHECKS, SIZE_LEVELS
from rmthess.verify.runner import run_verification


def test_every_check_declares_every_size_and_a_description():
    import rmthess.verify.checks  # noqa: F401

    assert len(CHECKS) >= 7
    for name, cls in CHECKS.items():
        assert set(cls.sizes) >= set(SIZE_LEVELS), name
        assert cls.title and len(cls.description.split()) > 20, name


@pytest.fixture(scope="module")
def two_runs():
    names = ["decoupling", "lindeberg"]
    return (run_verification("tiny", 11, checks=names), run_verification("tiny", 11, checks=names),
            run_verification("tiny", 12, checks=names[::-1]))


def test_same_seed_identical_numbers(two_runs):
    a, b, _ = two_runs
    assert [r.as_dict() for r in a.rows] == [r.as_dict() for r in b.rows]


def test_other_seed_other_numbers(two_runs):
    a, _, c = two_runs
    sims_a = [r.simulation for r in a.rows if r.rule == "richardson"]
    sims_c = [r.simulation for r in c.rows if r.rule == "richardson"]
    assert sims_a != sims_c


def test_rows_are_complete(two_runs):
    a, _, _ = two_runs
    assert not a.errors
    for r in a.rows:
        assert r.rule in {"z", "richardson", "tol", "bound"}
        assert r.simulation is not None and math.isfinite(r.simulation)
        assert r.limit is not None or r.prediction is not None
        assert r.reference is not None and r.mde is not None and r.mde >= 0
    # tiny sizes carry the quick targets: the decoupling rows cannot meet 25 % of |c(z)| there
    assert any(r.verdict == "LOW POWER" for r in a.rows) and not a.passed
    assert {"exact", "literal", "c", "z", "lindeberg"} <= set(a.figures["figure3"])
