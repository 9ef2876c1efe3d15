r"""Plain-text, CSV and Markdown renderings of the verification table.

Examples
--------
>>> from rmthess.verify.rules import against_prediction
>>> from rmthess.verify.table import format_table
>>> row = against_prediction("ratio", {"C": 10}, simulation=1.02, stderr=0.01, prediction=1.0)
>>> print(format_table([row]).splitlines()[0].split())
['check', 'quantity', 'parameters', 'limit', 'prediction', 'simulation', '±', 'se', 'z', 'rule', 'MDE', '(target)', 'verdict']
"""

from __future__ import annotations

import csv
import io
import math

from rmthess.verify.rules import format_parameters

__all__ = ["COLUMNS", "fmt_number", "fmt_mde", "row_cells", "format_table", "table_csv", "table_markdown"]

COLUMNS = ("check", "quantity", "parameters", "limit", "prediction", "simulation ± se", "z", "rule",
           "MDE (target)", "verdict")


def fmt_mde(row) -> str:
    """``"0.53% (≤ 1%)"``: the row's minimum detectable relative deviation and its target."""
    if row.mde is None:
        return "—"
    text = _percent(row.mde)
    if row.target is not None:
        text += f" (≤ {_percent(row.target)})"
    return text


def _percent(x) -> str:
    x = 100.0 * float(x)
    if math.isinf(x):
        return "inf"
    return f"{x:.2g}%" if x < 10 else f"{x:.0f}%"


def fmt_number(x, digits: int = 4) -> str:
    """Format a float with ``digits`` significant digits; ``None`` → ``"—"``."""
    if x is None:
        return "—"
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.{digits}g}"


def row_cells(row) -> list[str]:
    """The display cells of one :class:`~rmthess.verify.rules.CheckRow`, in :data:`COLUMNS` order."""
    if row.simulation is None:
        sim = "—"
    elif row.stderr is None:
        sim = fmt_number(row.simulation, 6)
    else:
        sim = f"{fmt_number(row.simulation)} ± {fmt_number(row.stderr, 2)}"
    if row.rule == "tol":
        z = f"tol {fmt_number(row.threshold, 2)}"
    elif row.rule == "bound":
        z = "≤ limit"
    else:
        z = "—" if row.z is None else f"{row.z:+.2f}"
    return [row.check, row.quantity, format_parameters(row.parameters), fmt_number(row.limit),
            fmt_number(row.prediction), sim, z, row.rule, fmt_mde(row), row.verdict]


def format_table(rows) -> str:
    """A fixed-width text table of ``rows`` for the terminal."""
    cells = [list(COLUMNS)] + [row_cells(r) for r in rows]
    widths = [max(len(c[j]) for c in cells) for j in range(len(COLUMNS))]
    lines = []
    for k, c in enumerate(cells):
        lines.append("  ".join(s.ljust(w) for s, w in zip(c, widths)).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def table_csv(rows) -> str:
    """CSV text with one line per row and machine-readable numeric columns."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["check", "quantity", "parameters", "limit", "prediction", "simulation", "stderr", "z",
                "threshold", "rule", "reference", "theory_se", "dof", "remainder", "band", "scale",
                "mde", "target", "verdict", "note"])
    for r in rows:
        w.writerow([r.check, r.quantity, format_parameters(r.parameters),
                    _num(r.limit), _num(r.prediction), _num(r.simulation), _num(r.stderr), _num(r.z),
                    _num(r.threshold), r.rule, _num(r.reference), _num(r.theory_se), _num(r.dof),
                    _num(r.remainder), _num(r.band), _num(r.scale), _num(r.mde), _num(r.target),
                    r.verdict, r.note])
    return buf.getvalue()


def table_markdown(rows) -> str:
    """A Markdown (GitHub) table of ``rows``."""
    def esc(s):
        return s.replace("|", "\\|")

    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in rows:
        c = row_cells(r)
        c[-1] = {"PASS": "✅ PASS", "FAIL": "❌ **FAIL**", "LOW POWER": "⚠️ **LOW POWER**"}[r.verdict]
        lines.append("| " + " | ".join(esc(s) for s in c) + " |")
    return "\n".join(lines)


def _num(x):
    return "" if x is None else repr(float(x))
