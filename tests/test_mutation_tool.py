"""tools/mutation.py: the declared mutants are well formed, and a stale one is reported, not run."""

import importlib.util
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tool():
    name = "rmthess_tools_mutation"
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / "mutation.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod          # dataclasses look their module up there
    try:
        spec.loader.exec_module(mod)
        yield mod
    finally:
        del sys.modules[name]


def test_declared_mutants_are_well_formed(tool):
    names = [m.name for m in tool.MUTANTS]
    assert len(names) == len(set(names))
    for m in tool.MUTANTS:
        assert m.path.startswith("rmthess/") and (ROOT / m.path).is_file(), m.name
        assert m.original != m.mutated and m.reason, m.name
        assert m.tests and all((ROOT / t).exists() for t in m.tests), m.name


def test_stale_mutant_is_reported_not_run(tool, tmp_path, monkeypatch):
    stale = tool.Mutant("stale-example", "rmthess/_jit.py", "no such snippet in the file",
                        "anything", "example", ("tests/test_validate.py",))
    monkeypatch.setattr(tool.tempfile, "mkdtemp", lambda **kw: pytest.fail("must not copy"))
    lines = []
    outcomes = tool.run([stale], timeout=1.0, full=False, keep=False, log=lines.append)
    assert [o.status for o in outcomes] == [tool.STALE]
    assert "not found" in outcomes[0].detail and "stale-example" in lines[0]
    assert tool.kill_ratio(outcomes) == (0, 0)
    assert "stale (original snippet not found, excluded): 1" in tool.table(outcomes)


def test_bad_arguments_exit_2(tool):
    with pytest.raises(SystemExit) as exc:
        tool.main(["--only", "no-such-mutant"])
    assert exc.value.code == 2
