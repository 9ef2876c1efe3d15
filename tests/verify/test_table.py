"""Table renderings: text, CSV (round trip of the numbers) and Markdown."""

import csv
import io

from rmthess.verify.rules import against_prediction, within_tolerance
from rmthess.verify.table import COLUMNS, fmt_number, format_table, table_csv, table_markdown


def _rows():
    return [against_prediction("ratio", {"gamma": 1.0, "C": 10}, simulation=0.0123456789,
                               stderr=0.0001, prediction=0.0123, limit=0.012).with_check("a"),
            within_tolerance("constant", {"gamma": 1.0}, value=1.5, reference=1.0, tol=0.1)
            .with_check("b")]


def test_number_format():
    assert fmt_number(None) == "—"
    assert fmt_number(0.0123456) == "0.01235"
    assert fmt_number(float("inf")) == "inf"


def test_text_table_groups_by_check_and_shows_what_z_is_computed_from():
    rows = _rows()
    lines = format_table(rows).splitlines()
    assert lines[0].split()[:4] == ["quantity", "theory", "±", "se_T"]
    assert lines[2] == "[a]" and lines[5] == "[b]"
    assert "PASS" in lines[3] and "FAIL" in lines[6]
    assert lines[4].startswith("    z: gamma=1, C=10") and "limit 0.012" in lines[4]
    # z = (x − p)/se from the printed prediction, simulation and standard error; x is printed to
    # 4 significant digits (0.01235), an error of at most 5e-6 = 0.05 se in the recomputed z
    cells = lines[3].split()
    p, x, se, z = float(cells[1]), float(cells[2]), float(cells[4]), float(cells[5])
    assert abs((x - p) / se - z) <= 0.05 + 0.005 and cells[6] == "4"


def test_text_table_fits_120_columns():
    long = against_prediction("a quantity with a very long name " * 4, {f"p{k}": 1.5 for k in
                                                                        range(30)},
                              simulation=0.0123456789, stderr=1e-4, prediction=0.0123,
                              prediction_se=1e-5, limit=0.012, dof=12).with_check("a")
    lines = format_table([long, *_rows()]).splitlines()
    assert max(map(len, lines)) <= 120
    assert "± 1e-05" in lines[3] and "(ν=" in lines[3]


def test_csv_round_trips_numbers_exactly():
    rows = _rows()
    parsed = list(csv.DictReader(io.StringIO(table_csv(rows))))
    assert len(parsed) == 2
    assert float(parsed[0]["simulation"]) == rows[0].simulation
    assert float(parsed[0]["z"]) == rows[0].z
    assert parsed[1]["stderr"] == "" and parsed[1]["verdict"] == "FAIL"


def test_mde_column_and_low_power_verdict():
    row = against_prediction("r", {}, simulation=1.0, stderr=0.01, prediction=1.0, target=0.01)
    assert row.consistent and row.verdict == "LOW POWER" and not row.passed
    cells = format_table([row.with_check("a")]).splitlines()[3]
    assert "LOW POWER" in cells and f"{100 * row.mde:.2g}% (≤ 1%)" in cells
    assert "**LOW POWER**" in table_markdown([row])
    parsed = list(csv.DictReader(io.StringIO(table_csv([row]))))[0]
    assert float(parsed["mde"]) == row.mde and float(parsed["target"]) == 0.01


def test_markdown_table_shape():
    md = table_markdown(_rows()).splitlines()
    assert md[0].count("|") == len(COLUMNS) + 1
    assert "FAIL" in md[3]
