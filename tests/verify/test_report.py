"""Writers: CSV, JSON record, figures (PNG, PDF on request), Markdown and self-contained HTML."""

import csv
import json

import matplotlib

matplotlib.use("Agg")

from rmthess.verify.report import write_outputs  # noqa: E402
from rmthess.verify.runner import run_verification  # noqa: E402

from . import _fake  # noqa: E402


def test_outputs_written_and_consistent(monkeypatch, tmp_path):
    _fake.install(monkeypatch)
    res = run_verification("tiny", 1, checks=["fake-mean", "fake-broken"])
    written = write_outputs(res, tmp_path, formats=("png", "pdf"))
    rows = list(csv.DictReader(open(written["table"], encoding="utf-8")))
    assert [r["check"] for r in rows] == ["fake-mean", "fake-broken"]
    rec = json.loads(written["record"].read_text(encoding="utf-8"))
    assert rec["seed"] == 1 and rec["passed"] is False and rec["n_failed"] == 1
    assert rec["schema_version"] == 1 and rec["command"] == "verify"
    assert rec["parameters"]["fake-mean"] == {"n": 50}
    assert set(rec["seeds"]) == {"fake-mean", "fake-broken"}
    assert rec["rows"][0]["simulation"] == res.rows[0].simulation
    assert rec["rows"][0]["stderr"] == {"simulation": res.rows[0].stderr,
                                        "reference": res.rows[0].theory_se}
    assert "numpy" in rec["versions"]
    for key in ("figure1", "figure2", "figure3"):
        assert {p.suffix for p in written["figures"][key]} == {".png", ".pdf"}
        assert all(p.exists() and p.stat().st_size > 1000 for p in written["figures"][key])
    md = written["markdown"].read_text(encoding="utf-8")
    assert "![figure1_ratio_vs_classes](figures/figure1_ratio_vs_classes.png)" in md
    assert "Fake: mean of a standard normal" in md and "boom" in md and "a note" in md
    html = written["html"].read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 3
    assert "src='figures/" not in html  # self-contained
    assert 'class="fail"' in html
    # one source: the HTML is the Markdown rendered, so no Markdown syntax survives in it
    body = html.split("<body>", 1)[1]
    assert "**" not in body and "`" not in body and "\n* " not in body and "|---|" not in body
    assert "<table>" in body and "<li>" in body and "<code>" in body
    # the summary first, with the command that reproduces the numbers, in both files
    for text in (md, body):
        assert text.index("FAIL: 1 of 2 rows") < text.index("How to read a verdict")
        assert "rmthess verify --tiny --seed 1 --only fake-mean,fake-broken" in text


def test_png_only_by_default(monkeypatch, tmp_path):
    _fake.install(monkeypatch)
    res = run_verification("tiny", 1, checks=["fake-mean"])
    written = write_outputs(res, tmp_path)
    assert all(p.suffix == ".png" for paths in written["figures"].values() for p in paths)
    assert not list((tmp_path / "figures").glob("*.pdf"))
    assert res.figure_seconds > 0


def test_rst_roles_become_markdown():
    from rmthess.verify.report import rst_to_markdown

    text = "see :meth:`~a.B.sample` and :func:`m.f` with ``x + y``"
    assert rst_to_markdown(text) == "see `sample` and `m.f` with `x + y`"


def test_every_check_is_described_once():
    """No orphan fragment (a description starting with punctuation) and no paragraph shared by two
    checks: each check's text appears once, in its own section."""
    import re

    import rmthess.verify.checks  # noqa: F401  (registers the checks)
    from rmthess.verify.base import CHECKS
    from rmthess.verify.report import rst_to_markdown

    paragraphs = []
    for cls in CHECKS.values():
        text = rst_to_markdown(cls.description.strip())     # as the report prints it
        assert text and not re.match(r"[:;,.—]", text), (cls.name, text[:40])
        paragraphs += [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]
    assert len(paragraphs) == len(set(paragraphs))
