"""tools/compare_reports.py: tables that agree pass, every kind of difference is reported."""

import csv
import importlib.util
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
HEADER = ["check", "quantity", "parameters", "simulation", "z", "verdict"]


@pytest.fixture(scope="module")
def tool():
    spec = importlib.util.spec_from_file_location("compare_reports",
                                                  ROOT / "tools" / "compare_reports.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _report(folder, rows):
    folder.mkdir()
    with (folder / "table.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows)
    return folder


ROWS = [["a", "ratio", "C=2", "0.25", "-1.5", "PASS"],
        ["a", "ratio", "C=2", "0.5", "nan", "PASS"],        # a repeated key: matched by order
        ["b", "g", "C=3", "1e-300", "", "FAIL"]]


def test_equal_and_within_tolerance(tool, tmp_path, capsys):
    old = _report(tmp_path / "old", ROWS)
    near = [r[:] for r in ROWS]
    near[0][3] = repr(0.25 * (1 + 5e-13))
    new = _report(tmp_path / "new", near)
    assert tool.main([str(old), str(new)]) == 0
    assert "0 difference(s)" in capsys.readouterr().out
    assert tool.main([str(old), str(new), "--rtol", "1e-13"]) == 1


def test_every_kind_of_difference(tool, tmp_path, capsys):
    old = _report(tmp_path / "old", ROWS)
    changed = [r[:] for r in ROWS]
    changed[0][4] = "-1.6"          # number beyond tolerance
    changed[1][4] = "0.0"           # NaN against a number
    changed[2][5] = "PASS"          # text
    changed.append(["c", "m", "", "1", "1", "PASS"])   # row only in new
    new = _report(tmp_path / "new", changed)
    assert tool.main([str(old), str(new)]) == 1
    out = capsys.readouterr().out
    assert "a | ratio | C=2 | z: '-1.5' -> '-1.6'" in out and "'nan' -> '0.0'" in out
    assert "'FAIL' -> 'PASS'" in out and "only in new: c | m" in out and "4 difference(s)" in out
    assert tool.main([str(old), str(new), "--atol", "1"]) == 1      # the text and the row remain


def test_bad_input(tool, tmp_path, capsys):
    old = _report(tmp_path / "old", ROWS)
    assert tool.main([str(old), str(tmp_path / "missing")]) == 2
    assert tool.main([str(old), str(old), "--rtol", "-1"]) == 2
    assert "compare_reports" in capsys.readouterr().err
