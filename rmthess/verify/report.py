r"""Writers of the verification outputs: CSV table, JSON record, and a report a person can open.

:func:`write_outputs` writes into one folder:

* ``table.csv`` — one line per row, numeric columns machine-readable;
* ``record.json`` — parameters, seeds, package versions, timings, every row;
* ``figures/*.png`` (and ``*.pdf`` on request);
* ``report.md`` — the report's one source text (Markdown, figures linked);
* ``report.html`` — that text rendered by a Markdown library (markdown-it-py, CommonMark with
  tables), self-contained: figures embedded, rows coloured by verdict.

The report opens with a summary read in ten seconds (overall verdict, one line per check, the
command that reproduces every number), then explains the verdict rules once, shows the figures and
gives one section per check with its description and table.
"""

from __future__ import annotations

import base64
import html
import json
import math
import mimetypes
import re
import time
from pathlib import Path

from rmthess.verify.base import CHECKS
from rmthess.verify.figures import FIGURES, save_figures
from rmthess.verify.table import VERDICT_MARKDOWN, table_csv, table_markdown

__all__ = ["RULES_TEXT", "rst_to_markdown", "record", "reproduce_command", "report_markdown",
           "render_html", "write_csv", "write_json", "write_markdown", "write_html",
           "write_outputs"]


def _text(paragraph: str) -> str:
    """One line of prose from a paragraph written over several source lines."""
    return " ".join(paragraph.split())


#: how to read a verdict (theory/verification.md)
RULES_TEXT = {
    "z": _text("""Monte Carlo x against the exact finite-size prediction p: pass iff |x − p| ≤
         k·√(se² + se_p²) + R, with se_p the prediction's own standard error (shown as `p ± se_p`
         where it is not 0) and R the bound on its O(d⁻²) remainder (VER-1, VER-2); z = (x −
         p)/√(se² + se_p²). The limit column is shown, not tested: a `tol` row tests it."""),
    "richardson": _text("""no finite-size formula: estimates at d and 2d, the extrapolation 2x₂d −
                  x_d (O(1/d) bias removed) against the limit L, pass iff |x − L| ≤ k·se + R, R
                  the bound on the remaining O(d⁻²) term (VER-3)."""),
    "tol": _text("""deterministic: two independent routes to the same number agree within the
           tolerance shown in column k as |Δ| ≤ tol (VER-4)."""),
    "bound": _text("""an inequality that holds on every realization: pass iff x ≤ the bound shown
             as limit, plus the round-off slack shown in column k (VER-4)."""),
    "error": "the check raised an exception: a failure.",
}

_K_TEXT = (_text("""Column k is the threshold on |z|: 4 for a standard error with many degrees of
           freedom; where the standard error has ν degrees of freedom (Welch–Satterthwaite,
           rounded down, when the theory value has its own error) the Student-t quantile with the
           same tail probability P(|Z| > 4) ≈ 6.3e-5, shown as `k (ν=…)`. A table of a hundred
           correct rows thus shows a false alarm with probability below 1%."""))

_POWER_TEXT = (_text("""Column MDE: the smallest relative error of the theory value (relative to
               its magnitude, or to the scale stated in theory/verification.md where it is 0) that
               the row's rule rejects with probability 0.9 (VER-12). A consistent row whose MDE
               exceeds its target (in parentheses) is LOW POWER and fails the run: its PASS would
               rule out too little."""))

_INTRO = (_text("""Every row compares a quantity of arXiv:2505.02809 (block Hessian norms and
          spectra of linear and 1-hidden-layer networks at initialization) computed by the theory
          side of rmthess with a simulation of the same quantity at finite size."""))


def _role(match) -> str:
    target = match.group(2)
    return f"`{target.split('.')[-1] if match.group(1) else target}`"


def rst_to_markdown(text: str) -> str:
    """Docstring reST → Markdown: roles like ``:func:`~a.b``` become `` `b` ``, double backquotes
    single."""
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


def reproduce_command(result) -> str:
    """The command line that reproduces every number of ``result``."""
    cmd = f"rmthess verify --{result.size} --seed {result.seed}"
    if list(result.checks) != list(CHECKS):
        cmd += f" --only {','.join(result.checks)}"
    return cmd


def record(result) -> dict:
    """The JSON record of a :class:`~rmthess.verify.runner.VerificationResult` (schema of
    :mod:`rmthess._schema`)."""
    from rmthess._schema import envelope

    return envelope("verify", _clean({
        "size": result.size,
        "seed": result.seed,
        "reproduce": reproduce_command(result),
        "started_utc": result.started,
        "wall_seconds": result.wall_seconds,
        "figure_seconds": result.figure_seconds,
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
        "rows": [_row_record(r) for r in result.rows],
    }))


def _row_record(row) -> dict:
    """A row of ``record.json``: ``stderr`` maps the row's values to their standard errors, as
    everywhere in the schema (``simulation``; ``reference``, the theory value the verdict tests)."""
    d = row.as_dict()
    d["stderr"] = {"simulation": d["stderr"], "reference": d.pop("theory_se")}
    return d


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


def elapsed_text(result) -> str:
    """``"checks 130 s, figures 4 s"``: the one elapsed-time statement of a run (terminal and
    report)."""
    text = f"checks {result.wall_seconds:.0f} s"
    if result.figure_seconds:
        text += f", figures {result.figure_seconds:.0f} s"
    return text


def verdict_text(result) -> str:
    """The overall verdict in one sentence."""
    n = len(result.rows)
    if result.passed:
        return (f"PASS: all {n} rows agree with the theory, each with the power its target asks "
                f"for.")
    low = result.n_low_power
    return f"FAIL: {result.n_failed - low} of {n} rows inconsistent, {low} LOW POWER."


def _counts(rows):
    bad = sum(not r.consistent for r in rows)
    low = sum(r.consistent and not r.power_ok for r in rows)
    return len(rows), bad, low


def report_markdown(result, figure_paths, base) -> str:
    """The report's text (Markdown), figures linked relative to the folder ``base``."""
    base = Path(base)
    cmd = reproduce_command(result)
    out = ["# rmthess verify — theory against simulation", "",
           f"**{verdict_text(result)}**", "",
           f"Size `{result.size}`, seed {result.seed}, {elapsed_text(result)}. "
           f"Reproduce every number: `{cmd}`.", "",
           "| check | what it tests | rows | failed | low power | time | verdict |",
           "|---|---|---|---|---|---|---|"]
    for name in result.checks:
        n, bad, low = _counts([r for r in result.rows if r.check == name])
        verdict = "FAIL" if bad or name in result.errors else "LOW POWER" if low else "PASS"
        out.append(f"| `{name}` | {CHECKS[name].title} | {n} | {bad} | {low} | "
                   f"{result.timings.get(name, 0.0):.1f} s | {VERDICT_MARKDOWN[verdict]} |")
    out += ["", _INTRO, "", "## How to read a verdict", ""]
    out += [f"* `{rule}` — {text}" for rule, text in RULES_TEXT.items()]
    out += ["", _K_TEXT, "", _POWER_TEXT, ""]
    if figure_paths:
        out += ["## Figures", ""]
    for key, paths in figure_paths.items():
        stem, caption = FIGURES[key]
        shown = paths[0]
        links = ", ".join(f"[{p.suffix[1:].upper()}]({p.relative_to(base).as_posix()})"
                          for p in paths[1:])
        out += [f"![{stem}]({shown.relative_to(base).as_posix()})", "",
                f"**{key.replace('figure', 'Figure ')}.** {caption}"
                + (f" ({links})" if links else ""), ""]
    out += ["## Checks", ""]
    for name in result.checks:
        cls = CHECKS[name]
        rows = [r for r in result.rows if r.check == name]
        n, bad, low = _counts(rows)
        out += [f"### {cls.title} (`{name}`)", "", rst_to_markdown(cls.description.strip()), "",
                f"{n} rows, {bad} failed, {low} low power; {result.timings.get(name, 0.0):.1f} s.",
                ""]
        out += [f"* {note}" for note in result.notes.get(name, [])]
        if name in result.errors:
            out.append(f"* **error:** `{result.errors[name]}`")
        out += ["", table_markdown(rows), ""]
    out += ["## Reproducibility", "",
            f"`{cmd}` reproduces every number (the seed of each check is in `record.json`, "
            f"with its parameters).", "",
            "| package | version |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in result.versions.items()]
    return "\n".join(out) + "\n"


_CSS = """body{font-family:system-ui,sans-serif;max-width:1280px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}table{border-collapse:collapse;font-size:0.85em;margin:1em 0}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}th{background:#eee}
tr.fail td{background:#fde0d6}tr.pass td:last-child{color:#006d4f;font-weight:bold}
tr.fail td:last-child{color:#b13b00;font-weight:bold}tr.low td{background:#fff3c4}
img{max-width:100%}code{background:#f3f3f3;padding:0 3px}h1+p strong{font-size:1.2em}"""

_ROW_CLASS = {"FAIL": "fail", "LOW POWER": "low", "PASS": "pass"}


def _markdown_it():
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")

    def tr_open(self, tokens, idx, options, env):
        last = ""
        for tok in tokens[idx + 1:]:
            if tok.type == "tr_close":
                break
            if tok.type == "inline":
                last = tok.content
        for text, cls in _ROW_CLASS.items():   # the verdict cell of the row, when it has one
            if last == VERDICT_MARKDOWN[text]:
                tokens[idx].attrSet("class", cls)
        return self.renderToken(tokens, idx, options, env)

    def image(self, tokens, idx, options, env):
        tok = tokens[idx]
        src = Path(env["base"]) / str(tok.attrGet("src"))
        if src.is_file():                     # embed: the HTML file is self-contained
            mime = mimetypes.guess_type(src.name)[0] or "application/octet-stream"
            data = base64.b64encode(src.read_bytes()).decode("ascii")
            tok.attrSet("src", f"data:{mime};base64,{data}")
        return self.image(tokens, idx, options, env)

    md.add_render_rule("tr_open", tr_open)
    md.add_render_rule("image", image)
    return md


def render_html(text: str, base, *, title: str = "rmthess verify") -> str:
    """Render the Markdown ``text`` to a self-contained HTML page (images under ``base``
    embedded)."""
    body = _markdown_it().render(text, {"base": str(base)})
    return (f"<!doctype html>\n<html><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>\n{body}"
            f"</body></html>\n")


def write_markdown(result, path, figure_paths) -> Path:
    """Write ``report.md`` (figures linked by relative path)."""
    path = Path(path)
    path.write_text(report_markdown(result, figure_paths, path.parent), encoding="utf-8")
    return path


def write_html(result, path, figure_paths) -> Path:
    """Write ``report.html``: the text of ``report.md`` rendered, figures embedded."""
    path = Path(path)
    text = report_markdown(result, figure_paths, path.parent)
    path.write_text(render_html(text, path.parent), encoding="utf-8")
    return path


def write_outputs(result, outdir, *, formats=("png",)) -> dict:
    """Write table, record, figures (one file per format in ``formats``; the first is the one the
    report shows) and reports into ``outdir``; return ``{name: path or paths}``. Sets
    ``result.figure_seconds`` to the time the figures took."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    figure_paths = save_figures(result, outdir, formats=formats)
    result.figure_seconds = time.perf_counter() - t0
    written = {"table": write_csv(result, outdir / "table.csv"),
               "record": write_json(result, outdir / "record.json"),
               "figures": figure_paths}
    written["markdown"] = write_markdown(result, outdir / "report.md", figure_paths)
    written["html"] = write_html(result, outdir / "report.html", figure_paths)
    return written
