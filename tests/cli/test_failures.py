"""Every command-line failure of the user's making: exit status 2, one line that names the option,
nothing written, and no work done before the check."""

import importlib.util

import pytest

from rmthess.cli import main

SIMULATE = ["simulate", "--case", "linear-ce", "--d", "20", "--gamma", "1", "--classes", "3"]
TOML = """
seed = 3
reps = 2
[grid]
case = ["linear-ce"]
d = [12]
gamma = [1.0]
classes = [3]
"""


def _one_line(capsys, *needles):
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    for needle in needles:
        assert needle in err, (needle, err)
    return err


@pytest.fixture
def no_dask(monkeypatch):
    real = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        return None if name in ("dask", "distributed") else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


@pytest.fixture
def no_checks(monkeypatch):
    """Any check that runs fails the test: the refusals come before the work."""
    import rmthess.verify.runner as runner

    def refuse(*args, **kwargs):
        raise AssertionError("a check ran")

    monkeypatch.setattr(runner, "run_verification", refuse)


def test_sweep_without_dask_names_the_install_command(no_dask, tmp_path, capsys):
    cfg = tmp_path / "s.toml"
    cfg.write_text(TOML)
    out = tmp_path / "out"
    assert main(["sweep", str(cfg), "--out", str(out)]) == 2
    _one_line(capsys, "rmthess sweep", "pip install 'rmthess[distributed]'")
    assert not out.exists()                                 # no cells/ folder left behind


def test_verify_full_without_dask(no_dask, no_checks, tmp_path, capsys):
    out = tmp_path / "rep"
    assert main(["verify", "--full", "--out", str(out)]) == 2
    _one_line(capsys, "--full", "pip install 'rmthess[distributed]'")
    assert not out.exists()


def test_run_sweep_without_dask_writes_nothing(no_dask, tmp_path):
    from rmthess.montecarlo.sweep import run_cells

    with pytest.raises(ValueError, match="rmthess\\[distributed\\]"):
        run_cells([{"case": "linear-ce", "d": 12, "gamma": 1.0, "classes": 3, "reps": 2}], [1],
                  tmp_path / "w")
    assert not (tmp_path / "w").exists()


@pytest.mark.parametrize("where", ["file", "below-a-file"])
def test_verify_out_refused_before_any_check(where, no_checks, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    out = blocker if where == "file" else blocker / "sub"
    assert main(["verify", "--out", str(out)]) == 2
    _one_line(capsys, "--out", str(out))
    assert blocker.read_text() == "x" and sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_sweep_out_refused_before_any_cell(tmp_path, capsys, monkeypatch):
    import rmthess.montecarlo.sweep as sweep

    monkeypatch.setattr(sweep, "run_cell", lambda *a: pytest.fail("a cell ran"))
    cfg = tmp_path / "s.toml"
    cfg.write_text(TOML)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert main(["sweep", str(cfg), "--out", str(blocker)]) == 2
    _one_line(capsys, "--out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "s.toml"]


@pytest.mark.parametrize("argv", [
    ["verify", "--seed", "-3"],
    [*SIMULATE, "--reps", "2", "--seed", "-3"],
    [*SIMULATE, "--reps", "2", "--seed", "x"],
    ["limits", "--case", "mlp-ce", "--gamma", "1", "--classes", "3", "--m", "3", "--seed", "-3"],
])
def test_seed_errors_name_the_option(argv, no_checks, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    _one_line(capsys, "--seed", "non-negative integer")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("reps", ["1", "0"])
def test_one_replicate_is_refused_with_the_reason(reps, capsys):
    assert main([*SIMULATE, "--reps", reps]) == 2
    _one_line(capsys, "--reps must be >= 2", "standard error")


def test_quiet_and_non_terminal_runs_draw_no_bar(capsys):
    assert main([*SIMULATE, "--reps", "2", "--seed", "1", "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    assert main([*SIMULATE, "--reps", "2", "--seed", "1"]) == 0
    assert "\r" not in capsys.readouterr().err              # stderr is not a terminal: no bar
