"""``rmthess verify`` end to end at the hidden ``--tiny`` size: table, exit status, outputs.

The tiny size is plumbing only: its rows carry the ``--quick`` MDE targets and most are LOW POWER,
so the run exits 1 and no test reads its statistical verdicts as evidence (theory/verification.md,
VER-12).
"""

import csv
import json
import subprocess
import sys

import pytest

from rmthess import cli

EXPECTED_CHECKS = {"gmp-law", "linear-ratios", "mlp-ratios", "block-spectra", "decoupling",
                   "lindeberg", "hessian-maps", "anisotropic"}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("verify")
    proc = subprocess.run([sys.executable, "-m", "rmthess.cli", "verify", "--tiny", "--seed", "3",
                           "--out", str(out)], capture_output=True, text=True, timeout=600,
                          env={**__import__("os").environ, "MPLBACKEND": "Agg"})
    return proc, out


def test_low_power_exits_1_and_one_table(tiny_run):
    proc, _ = tiny_run
    assert proc.returncode == 1, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:4] == ["quantity", "theory", "±", "se_T"]
    assert "MDE (target)" in lines[0]
    assert sum(line.startswith("quantity ") for line in lines) == 1
    table = lines[:lines.index("")]                       # the table, then the closing lines
    assert max(map(len, table)) <= 120
    assert {line[1:-1] for line in table if line.startswith("[")} == EXPECTED_CHECKS
    assert "LOW POWER" in proc.stdout and "verdict: FAIL" in proc.stdout
    assert "[" in proc.stderr and "gmp-law" in proc.stderr  # progress goes to stderr
    # one elapsed time, the same in the terminal and in the report
    rec = json.loads((tiny_run[1] / "record.json").read_text(encoding="utf-8"))
    elapsed = f"checks {rec['wall_seconds']:.0f} s, figures {rec['figure_seconds']:.0f} s"
    assert elapsed in proc.stdout
    assert elapsed in (tiny_run[1] / "report.md").read_text(encoding="utf-8")


def test_outputs_cover_every_check_and_figure(tiny_run):
    _, out = tiny_run
    rec = json.loads((out / "record.json").read_text(encoding="utf-8"))
    assert set(rec["checks"]) == EXPECTED_CHECKS and rec["seed"] == 3
    assert rec["n_low_power"] > 0 and not rec["passed"]
    assert set(rec["timings_seconds"]) == EXPECTED_CHECKS
    rows = list(csv.DictReader(open(out / "table.csv", encoding="utf-8")))
    assert {r["check"] for r in rows} == EXPECTED_CHECKS
    assert len(rows) == rec["n_rows"]
    assert {r["verdict"] for r in rows} <= {"PASS", "LOW POWER", "FAIL"}
    # every row states its power, in the CSV and in the JSON record
    assert all(r["mde"] != "" for r in rows)
    assert all(r["mde"] is not None for r in rec["rows"])
    assert sum(r["verdict"] == "LOW POWER" for r in rows) == rec["n_low_power"]
    for stem in ("figure1_ratio_vs_classes", "figure2_block_spectra", "figure3_decoupling",
                 "figure4_hessian_maps", "figure5_class_offsets"):
        assert (out / "figures" / f"{stem}.png").stat().st_size > 5000
        assert not (out / "figures" / f"{stem}.pdf").exists()      # PDF only with --pdf
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 5
    md = (out / "report.md").read_text(encoding="utf-8")
    assert md.count("![figure") == 5 and "How to read a verdict" in md
    assert "MDE (target)" in md and "LOW POWER" in md and "MDE (target)" in html


def test_user_errors_exit_2(capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:              # refused by the parser, naming --seed
        cli.main(["verify", "--seed", "-1", "--out", str(tmp_path)])
    assert exc.value.code == 2 and "argument --seed" in capsys.readouterr().err
    assert cli.main(["verify", "--tiny", "--scheduler", "tcp://x:1", "--out", str(tmp_path)]) == 2
    assert cli.main(["verify", "--tiny", "--only", "nope", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "valid checks" in err and "--scheduler only applies to --full" in err


def test_failing_verdict_exits_1(monkeypatch, tmp_path):
    from . import _fake

    _fake.install(monkeypatch)
    assert cli.main(["verify", "--tiny", "--only", "fake-broken", "--out", str(tmp_path)]) == 1


def test_unreachable_scheduler_fails_before_any_check(capsys, tmp_path):
    """``--full --scheduler`` with nobody listening exits 2 at once, without running a check."""
    assert cli.main(["verify", "--full", "--scheduler", "tcp://127.0.0.1:1",
                     "--out", str(tmp_path / "rep")]) == 2
    err = capsys.readouterr().err
    assert "could not connect to the Dask scheduler" in err
    assert not (tmp_path / "rep").exists()


def test_pdf_on_request(monkeypatch, tmp_path, capsys):
    from . import _fake

    _fake.install(monkeypatch)
    assert cli.main(["verify", "--tiny", "--only", "fake-mean", "--pdf", "--quiet",
                     "--out", str(tmp_path)]) in (0, 1)
    assert capsys.readouterr().err == ""                      # --quiet: no progress at all
    for stem in ("figure1_ratio_vs_classes", "figure2_block_spectra", "figure3_decoupling"):
        assert (tmp_path / "figures" / f"{stem}.pdf").stat().st_size > 1000
        assert (tmp_path / "figures" / f"{stem}.png").stat().st_size > 1000
