"""The README's tour runs as written, and its two commands are the ones CI and users run."""

import pathlib
import re
import shlex

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_tour_runs():
    code = re.search(r"## A short tour\n\n```python\n(.*?)```", README, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "README tour", "exec"), namespace)
    # the tour's law: λ = 1 or 5 with probabilities 0.6, 0.4 and γ = 0.5;
    # m_2 = (Eλ)² + γ Eλ² (GMP-6)
    assert namespace["law"].moment(2) == pytest.approx(2.6**2 + 0.5 * 10.6, rel=1e-14)
    # the tour's network: d = 20, C = 5, m = 4 gives m·d + C·m = 100 parameters, symmetric Hessian
    H = namespace["H"]
    assert H.shape == (100, 100)
    np.testing.assert_array_equal(H, H.T)


def _readme_commands():
    """The README's two commands (main job, tests): the fenced bash blocks of "The two commands"."""
    section = README.split("## The two commands", 1)[1].split("\n## ", 1)[0]
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", section, re.S)]


def test_ci_runs_the_readme_test_command():
    """The CI script runs the README's test command: its install-and-test step, read from both."""
    main_job, tests = _readme_commands()
    step = tests.split("activate && ", 1)[1]
    assert step.endswith("python -m pytest")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    runs = [line for line in ci if line.strip().endswith(step)]
    assert len(runs) == 1 and not runs[0].lstrip().startswith("#"), (ci, step)


def test_readme_main_job_parses_with_the_cli():
    """The README's main-job command line is accepted by the real argument parser of ``rmthess``."""
    from rmthess.cli import build_parser

    main_job, _ = _readme_commands()
    args = shlex.split(main_job.split("&& rmthess ", 1)[1])
    ns = build_parser().parse_args(args)
    assert args[0] == "verify" and ns.size == "quick"
