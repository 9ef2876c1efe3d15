"""The runner: seeds per check, reproducibility, progress, errors become failing rows."""

import numpy as np
import pytest

from rmthess.verify.base import CHECKS, CheckContext, check_seed, get_check, register
from rmthess.verify.runner import run_verification

from . import _fake


def test_check_seed_depends_on_root_and_name_only():
    a = np.random.default_rng(check_seed(5, "x")).random()
    assert a == np.random.default_rng(check_seed(5, "x")).random()
    assert a != np.random.default_rng(check_seed(6, "x")).random()
    assert a != np.random.default_rng(check_seed(5, "y")).random()


def test_same_seed_same_numbers_and_independent_of_other_checks(monkeypatch):
    _fake.install(monkeypatch)
    r1 = run_verification("tiny", 3, checks=["fake-mean"])
    r2 = run_verification("tiny", 3, checks=["fake-broken", "fake-mean"])
    r3 = run_verification("tiny", 4, checks=["fake-mean"])
    s1 = [r.simulation for r in r1.rows]
    s2 = [r.simulation for r in r2.rows if r.check == "fake-mean"]
    assert s1 == s2
    assert s1 != [r.simulation for r in r3.rows]


def test_errors_become_failing_rows_and_progress_is_printed(monkeypatch):
    _fake.install(monkeypatch)
    msgs = []
    res = run_verification("tiny", 0, checks=["fake-mean", "fake-broken"], progress=msgs.append)
    assert not res.passed and res.n_failed == 1
    assert "boom" in res.errors["fake-broken"]
    assert any("fake-mean: 1 rows, 0 failed, 0 low power" in m and "CPU" in m for m in msgs)
    assert set(res.timings) == {"fake-mean", "fake-broken"}
    assert res.versions["numpy"] == np.__version__


def test_bad_arguments(monkeypatch):
    _fake.install(monkeypatch)
    with pytest.raises(ValueError, match="valid checks"):
        run_verification("tiny", 0, checks=["nope"])
    with pytest.raises(ValueError):
        run_verification("tiny", -1, checks=["fake-mean"])
    with pytest.raises(ValueError):
        CheckContext(size="huge")
    with pytest.raises(ValueError, match="valid checks"):
        get_check("nope")


def test_register_requires_all_sizes(monkeypatch):
    class Incomplete:
        name = "incomplete"
        sizes = {"quick": {}}

    with pytest.raises(TypeError):
        register(Incomplete)
    assert "incomplete" not in CHECKS


def _counted_fake_mean(monkeypatch):
    """Install the fake checks; return the list that grows by one per run of ``fake-mean``."""
    _fake.install(monkeypatch)
    calls = []
    orig = _fake.FakeGaussianMean.run

    def counting(self, ctx):
        calls.append(1)
        return orig(self, ctx)

    monkeypatch.setattr(_fake.FakeGaussianMean, "run", counting)
    return calls


def test_full_size_resumes_completed_checks(monkeypatch, tmp_path):
    calls = _counted_fake_mean(monkeypatch)
    msgs = []
    r1 = run_verification("full", 2, checks=["fake-mean"], workdir=tmp_path)
    r2 = run_verification("full", 2, checks=["fake-mean"], workdir=tmp_path, progress=msgs.append)
    assert len(calls) == 1
    assert any("reused" in m for m in msgs)
    assert [r.simulation for r in r1.rows] == [r.simulation for r in r2.rows]
    assert not list(tmp_path.rglob("*.tmp*"))
    run_verification("full", 3, checks=["fake-mean"], workdir=tmp_path)
    assert len(calls) == 2  # another seed is another computation


def test_full_size_does_not_reuse_a_check_stored_by_other_code(monkeypatch, tmp_path):
    """A stored check is keyed on the hash of the package's code: after a change of the code it is
    recomputed, not reused."""
    import rmthess._codehash as codehash

    calls = _counted_fake_mean(monkeypatch)
    run_verification("full", 2, checks=["fake-mean"], workdir=tmp_path)
    run_verification("full", 2, checks=["fake-mean"], workdir=tmp_path)
    assert len(calls) == 1                                   # same code: reused
    monkeypatch.setattr(codehash, "code_hash", lambda: "f" * 64)   # the code has changed
    msgs = []
    run_verification("full", 2, checks=["fake-mean"], workdir=tmp_path, progress=msgs.append)
    assert len(calls) == 2 and not any("reused" in m for m in msgs)


def test_report_order_is_the_order_of_the_theory():
    """The rows follow the flow of the theory (law → ratios → spectra → decoupling → networks): the
    order in which rmthess.verify.checks imports its modules, which must not be re-sorted."""
    import rmthess.verify.checks  # noqa: F401  (registers the checks)

    assert [n for n in CHECKS if not n.startswith("fake")] == [
        "gmp-law", "linear-ratios", "mlp-ratios", "block-spectra", "decoupling", "lindeberg",
        "hessian-maps", "anisotropic"]


def test_checks_in_two_processes_give_the_same_numbers():
    """Two real checks run side by side in spawned worker processes: every row, seed and figure
    equal those of the one-process run (each check has its own seed), in registry order."""
    names = ["gmp-law", "hessian-maps"]
    one = run_verification("tiny", 3, checks=names, workers=1)
    two = run_verification("tiny", 3, checks=names, workers=2)
    assert [r.as_dict() for r in two.rows] == [r.as_dict() for r in one.rows]
    assert two.seeds == one.seeds and two.errors == one.errors == {}
    assert sorted(two.figures) == sorted(one.figures)
    assert set(two.cpu_timings) == set(names)
