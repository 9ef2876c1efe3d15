"""Every notebook runs end to end at small size (jupytext percent files are plain Python
scripts)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("[0-9][0-9]_*.py"))

#: a notebook at small size must finish well within this (seconds); a hang is a failure
NOTEBOOK_TIMEOUT = 120


def test_the_five_notebooks_exist():
    names = [p.stem for p in NOTEBOOKS]
    assert names == ["01_gmp_law", "02_theorem1_linear", "03_theorem2_one_hidden_layer",
                     "04_decoupling_lindeberg", "05_static_dynamic_forces"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_at_small_size(path, tmp_path):
    env = dict(os.environ, RMTHESS_NOTEBOOK_SIZE="small", MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", str(path)], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=NOTEBOOK_TIMEOUT)
    assert proc.returncode == 0, (f"{path.name} failed:\n{proc.stdout[-2000:]}\n"
                                  f"{proc.stderr[-4000:]}")
    # run as a script, a notebook keeps every figure it draws: one PNG per keep(...) call
    names = re.findall(r'^keep\(fig, "(\w+)"\)$', path.read_text(encoding="utf-8"), re.M)
    assert names and len(set(names)) == len(names)
    saved = sorted((tmp_path / "figures").glob("*.png"))
    assert [p.stem for p in saved] == sorted(names)
    assert all(p.read_bytes().startswith(b"\x89PNG") and p.stat().st_size > 10_000 for p in saved)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_jupytext_percent_with_text_between_code(path):
    jupytext = pytest.importorskip("jupytext")
    text = path.read_text(encoding="utf-8")
    assert "format_name: percent" in text and "RMTHESS_NOTEBOOK_SIZE" in text
    nb = jupytext.reads(text, fmt="py:percent")
    kinds = [c.cell_type for c in nb.cells]
    assert kinds.count("markdown") >= 3 and kinds.count("code") >= 3
    assert kinds[0] == "markdown"  # opens with the argument, not with code
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
