r"""Writers of the verification outputs: CSV table, JSON record, and a report a person can open.

:func:`write_outputs` writes into one folder:

* ``table.csv`` — one line per row, numeric columns machine-readable;
* ``record.json`` — parameters, seeds, package versions, timings, every row;
* ``figures/*.png`` and ``figures/*.pdf``;
* ``report.md`` — Markdown with the figures linked;
* ``report.html`` — the same, self-contained (figures embedded), to open in a browser.
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
from pathlib import Path

from rmthess.verify.base import CHECKS
from rmthess.verify.figures import FIGURES, save_figures
from rmthess.verify.table import COLUMNS, row_cells, table_csv, table_markdown

__all__ = ["RULES_TEXT", "rst_to_markdown", "record", "write_csv", "write_json", "write_markdown", "write_html",
           "write_outputs"]

#: how to read a verdict (theory/verification.md)
RULES_TEXT = {
    "z": "Monte Carlo against the exact finite-size prediction p: pass iff |x − p| ≤ k·√(se² + se_p²) "
         "+ R, with se_p the prediction's own error and R the bound on its O(d⁻²) remainder "
         "(VER-1, VER-2). The limit column is shown, not tested: a `tol` row tests it.",
    "richardson": "no finite-size formula: estimates at d and 2d, the extrapolation 2x₂d − x_d "
                  "(O(1/d) bias removed) against the limit, pass iff |x − L| ≤ k·se + R, R the "
                  "bound on the remaining O(d⁻²) term (VER-3).",
    "tol": "deterministic: two independent routes to the same number agree within the stated "
           "tolerance (VER-4).",
    "bound": "an inequality that holds on every realization: pass iff x ≤ the bound shown as limit "
             "(VER-4).",
    "error": "the check raised an exception: a failure.",
}

_POWER_TEXT = ("MDE: the smallest relative error of the theory value (relative to its magnitude, or to "
               "the scale stated in theory/verification.md where it is 0) that the row's rule rejects "
               "with probability 0.9 (VER-12). A consistent row whose MDE exceeds its target (in "
               "parentheses) is LOW POWER and fails the run: its PASS would rule out too little.")

_K_TEXT = ("k = 4 for standard errors with many degrees of freedom; with ν degrees of freedom (Welch–"
           "Satterthwaite, rounded down, when the theory value has its own error) the "
           "Student-t quantile with the same tail probability P(|Z| > 4) ≈ 6.3e-5, so that a table of "
           "a hundred correct rows shows a false alarm with probability below 1%.")


def _role(match) -> str:
    target = match.group(2)
    return f"`{target.split('.')[-1] if match.group(1) else target}`"


def rst_to_markdown(text: str) -> str:
    """Docstring reST → Markdown: roles like ``:func:`~a.b``` become `` `b` ``, double backquotes single."""
    text = re.sub(r":[a-z]+:`(~?)([^`]+)`", _role, text)
    return text.replace("``", "`")


def _clean(x):
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if isinstance(x, complex):
        return [x.real, x.imag]
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if hasattr(x, "item") and callable(x.item):
        try:
            return _clean(x.item())
        except (ValueError, TypeError):
            return str(x)
    return x


def record(result) -> dict:
    """The JSON record of a :class:`~rmthess.verify.runner.VerificationResult`."""
    return _clean({
        "command": "rmthess verify",
        "size": result.size,
        "seed": result.seed,
        "started_utc": result.started,
        "wall_seconds": result.wall_seconds,
        "passed": result.passed,
        "n_rows": len(result.rows),
        "n_failed": result.n_failed,
        "n_low_power": result.n_low_power,
        "checks": result.checks,
        "parameters": {name: CHECKS[name].sizes[result.size] for name in result.checks},
        "seeds": result.seeds,
        "timings_seconds": result.timings,
        "cpu_seconds": result.cpu_timings,
        "versions": result.versions,
        "errors": result.errors,
        "notes": result.notes,
        "rows": [r.as_dict() for r in result.rows],
    })


def write_csv(result, path) -> Path:
    """Write ``table.csv``."""
    path = Path(path)
    path.write_text(table_csv(result.rows), encoding="utf-8")
    return path


def write_json(result, path) -> Path:
    """Write the JSON record."""
    path = Path(path)
    path.write_text(json.dumps(record(result), indent=1, sort_keys=False), encoding="utf-8")
    return path


def _summary(result) -> str:
    if result.passed:
        verdict = "all verdicts pass, every row within its MDE target"
    else:
        low = result.n_low_power
        verdict = (f"{result.n_failed - low} verdict(s) FAIL, {low} row(s) LOW POWER "
                   f"(MDE above target)")
    return (f"{len(result.rows)} rows from {len(result.checks)} checks, {verdict}; size `{result.size}`, "
            f"seed {result.seed}, {result.wall_seconds:.0f} s.")


def _counts(rows) -> str:
    bad = sum(not r.consistent for r in rows)
    low = sum(r.consistent and not r.power_ok for r in rows)
    return f"{len(rows)} rows, {bad} failed, {low} low power"


def write_markdown(result, path, figure_paths) -> Path:
    """Write ``report.md`` (figures linked by relative path)."""
    path = Path(path)
    out = ["# rmthess verify — theory against simulation", "", _summary(result), "",
           "Every row compares a quantity of arXiv:2505.02809 (block Hessian norms and spectra of "
           "linear and 1-hidden-layer networks at initialization) computed by the theory side of "
           "rmthess with a simulation of the same quantity at finite size.", "",
           "## How to read a verdict", ""]
    for rule, text in RULES_TEXT.items():
        out.append(f"* `{rule}` — {text}")
    out += ["", _K_TEXT, "", _POWER_TEXT, "", "## Figures", ""]
    for key, paths in figure_paths.items():
        stem, caption = FIGURES[key]
        png = next(p for p in paths if p.suffix == ".png")
        pdf = next((p for p in paths if p.suffix == ".pdf"), None)
        rel = png.relative_to(path.parent).as_posix()
        out += [f"![{stem}]({rel})", "", f"**{key.replace('figure', 'Figure ')}.** {caption}"
                + (f" ([PDF]({pdf.relative_to(path.parent).as_posix()}))" if pdf else ""), ""]
    out += ["## Checks", ""]
    for name in result.checks:
        cls = CHECKS[name]
        rows = [r for r in result.rows if r.check == name]
        out += [f"### {cls.title} (`{name}`)", "", rst_to_markdown(cls.description.strip()), "",
                f"{_counts(rows)}, {result.timings.get(name, 0.0):.1f} s.", ""]
        for note in result.notes.get(name, []):
            out.append(f"* {note}")
        if name in result.errors:
            out.append(f"* **error:** `{result.errors[name]}`")
        out += ["", table_markdown(rows), ""]
    out += ["## Reproducibility", "",
            f"Run `rmthess verify --{'quick' if result.size == 'quick' else result.size} "
            f"--seed {result.seed}` to reproduce every number (seeds per check in `record.json`).", "",
            "| package | version |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in result.versions.items()]
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def _html_table(rows) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
    body = []
    for r in rows:
        cells = row_cells(r)
        cls = {"PASS": "pass", "FAIL": "fail", "LOW POWER": "low"}[r.verdict]
        tds = "".join(f"<td>{html.escape(c)}</td>" for c in cells[:-1])
        body.append(f'<tr class="{cls}" title="{html.escape(r.note)}">{tds}'
                    f'<td class="v">{cells[-1]}</td></tr>')
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


_CSS = """body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}table{border-collapse:collapse;font-size:0.85em;margin:1em 0}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}th{background:#eee}
tr.fail td{background:#fde0d6}tr.pass td.v{color:#006d4f;font-weight:bold}
tr.fail td.v{color:#b13b00;font-weight:bold}tr.low td{background:#fff3c4}
tr.low td.v{color:#8a5a00;font-weight:bold}figure{margin:1.5em 0}img{max-width:100%}
code{background:#f3f3f3;padding:0 3px}.ok{color:#006d4f}.bad{color:#b13b00}"""


def write_html(result, path, figure_paths) -> Path:
    """Write a self-contained ``report.html`` (figures embedded as base64 PNG)."""
    path = Path(path)
    e = html.escape
    ok = "ok" if result.passed else "bad"
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>rmthess verify</title>"
             f"<style>{_CSS}</style></head><body>",
             "<h1>rmthess verify — theory against simulation</h1>",
             f"<p class='{ok}'><b>{e(_summary(result))}</b></p>",
             "<p>Every row compares a quantity of arXiv:2505.02809 (block Hessian norms and spectra of "
             "linear and 1-hidden-layer networks at initialization) computed by the theory side of "
             "rmthess with a simulation of the same quantity at finite size.</p>",
             "<h2>How to read a verdict</h2><ul>"]
    parts += [f"<li><code>{e(k)}</code> — {e(v)}</li>" for k, v in RULES_TEXT.items()]
    parts += [f"</ul><p>{e(_K_TEXT)}</p><p>{e(_POWER_TEXT)}</p><h2>Figures</h2>"]
    for key, paths in figure_paths.items():
        png = next(p for p in paths if p.suffix == ".png")
        data = base64.b64encode(png.read_bytes()).decode("ascii")
        parts.append(f"<figure><img alt='{e(key)}' src='data:image/png;base64,{data}'>"
                     f"<figcaption><b>{e(key.replace('figure', 'Figure '))}.</b> "
                     f"{e(FIGURES[key][1])}</figcaption></figure>")
    parts.append("<h2>Checks</h2>")
    for name in result.checks:
        cls = CHECKS[name]
        rows = [r for r in result.rows if r.check == name]
        parts.append(f"<h3>{e(cls.title)} (<code>{e(name)}</code>)</h3>")
        desc = rst_to_markdown(" ".join(cls.description.split()))
        desc = re.sub(r"`([^`]+)`", lambda m: f"<code>{m.group(1)}</code>", e(desc))
        parts.append(f"<p>{desc}</p>")
        parts.append(f"<p>{e(_counts(rows))}, {result.timings.get(name, 0.0):.1f} s.</p>")
        notes = result.notes.get(name, []) + ([f"error: {result.errors[name]}"]
                                               if name in result.errors else [])
        if notes:
            parts.append("<ul>" + "".join(f"<li>{e(n)}</li>" for n in notes) + "</ul>")
        parts.append(_html_table(rows))
    parts.append("<h2>Reproducibility</h2><p>Seeds per check and parameters are in "
                 "<code>record.json</code>.</p><table>")
    parts += [f"<tr><td>{e(str(k))}</td><td>{e(str(v))}</td></tr>" for k, v in result.versions.items()]
    parts.append("</table></body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def write_outputs(result, outdir) -> dict:
    """Write table, record, figures and reports into ``outdir``; return ``{name: path or paths}``."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    figure_paths = save_figures(result, outdir)
    written = {"table": write_csv(result, outdir / "table.csv"),
               "record": write_json(result, outdir / "record.json"),
               "figures": figure_paths}
    written["markdown"] = write_markdown(result, outdir / "report.md", figure_paths)
    written["html"] = write_html(result, outdir / "report.html", figure_paths)
    return written
