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


def test_text_table_has_header_and_one_line_per_row():
    text = format_table(_rows())
    lines = text.splitlines()
    assert len(lines) == 2 + 2
    assert lines[0].startswith("check")
    assert "PASS" in lines[2] and "FAIL" in lines[3]
    assert "gamma=1, C=10" in lines[2]


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
    cells = format_table([row.with_check("a")]).splitlines()[2]
    assert "LOW POWER" in cells and f"{100 * row.mde:.2g}% (≤ 1%)" in cells
    assert "⚠️ **LOW POWER**" in table_markdown([row])
    parsed = list(csv.DictReader(io.StringIO(table_csv([row]))))[0]
    assert float(parsed["mde"]) == row.mde and float(parsed["target"]) == 0.01


def test_markdown_table_shape():
    md = table_markdown(_rows()).splitlines()
    assert md[0].count("|") == len(COLUMNS) + 1
    assert "FAIL" in md[3]
