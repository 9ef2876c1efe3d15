"""The README's tour runs as written, and its two commands are the ones CI and users run."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_tour_runs():
    code = re.search(r"## A short tour\n\n```python\n(.*?)```", README, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "README tour", "exec"), namespace)
    assert namespace["law"].support()
    assert namespace["H"].shape[0] == namespace["H"].shape[1]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'python -m pip install -q -e ".[test]" && python -m pytest' in README
    assert 'python -m pip install -q -e ".[test]" && python -m pytest' in ci
    assert "rmthess verify --quick" in README
