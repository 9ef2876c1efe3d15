r"""Plain-text, CSV and Markdown renderings of the verification table.

The display columns (:data:`COLUMNS`) carry everything a verdict is computed from: the theory
value with its own standard error where it has one (``prediction ± se_p``), the simulation with its
standard error, ``z = (x − T)/√(se² + se_T²)``, the threshold ``k`` it is judged against (with the
degrees of freedom ν where the Student-t quantile replaces 4, VER-1), the rule, and the power (MDE
and target, VER-12). The CSV has every number of the row unrounded.

Examples
--------
>>> from rmthess.verify.rules import against_prediction
>>> from rmthess.verify.table import format_table, row_cells
>>> row = against_prediction("ratio", {"C": 10}, simulation=1.02, stderr=0.01, prediction=1.0)
>>> lines = format_table([row]).splitlines()
>>> print(lines[0]); print(lines[2]); print(lines[3])
quantity          theory ± se_T  simulation ± se  z      k  MDE (target)  verdict
ratio             1              1.02 ± 0.01      +2.00  4  5.3%          PASS
    z: C=10
>>> row_cells(row)[5:7]
['+2.00', '4']
"""

from __future__ import annotations

import csv
import io
import math
import textwrap

from rmthess.verify.rules import format_parameters

__all__ = ["COLUMNS", "TERMINAL_COLUMNS", "fmt_number", "fmt_mde", "fmt_threshold", "row_cells",
           "format_table", "table_csv", "table_markdown", "TERMINAL_WIDTH"]

COLUMNS = ("quantity", "parameters", "limit", "prediction", "simulation ± se", "z", "k", "rule",
           "MDE (target)", "verdict")

#: the terminal table fits this many columns
TERMINAL_WIDTH = 120


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


def fmt_threshold(row) -> str:
    """The verdict's threshold: ``k`` for rules ``z``/``richardson`` (``"4.41 (ν=23)"`` when the
    Student-t quantile replaces 4), the tolerance of rule ``tol``, the round-off slack of
    ``bound``."""
    if row.rule in ("z", "richardson"):
        k = f"{row.threshold:.3g}"
        return k if row.dof is None else f"{k} (ν={row.dof:.0f})"
    if row.rule == "tol":
        return f"|Δ| ≤ {fmt_number(row.threshold, 2)}"
    if row.rule == "bound":
        return f"≤ limit + {fmt_number(row.threshold, 2)}"
    return "—"


def _with_se(value, row, column) -> str:
    """A theory column, with the theory value's own standard error where it is the reference."""
    text = fmt_number(value)
    if value is None or not row.theory_se:
        return text
    is_ref = (column == "prediction") == (row.rule == "z")
    return f"{text} ± {fmt_number(row.theory_se, 2)}" if is_ref else text


def row_cells(row) -> list[str]:
    """The display cells of one :class:`~rmthess.verify.rules.CheckRow`, in :data:`COLUMNS`
    order."""
    if row.simulation is None:
        sim = "—"
    elif row.stderr is None:
        sim = fmt_number(row.simulation, 6)
    else:
        sim = f"{fmt_number(row.simulation)} ± {fmt_number(row.stderr, 2)}"
    z = "—" if row.z is None else f"{row.z:+.2f}"
    return [row.quantity, format_parameters(row.parameters), _with_se(row.limit, row, "limit"),
            _with_se(row.prediction, row, "prediction"), sim, z, fmt_threshold(row), row.rule,
            fmt_mde(row), row.verdict]


#: columns of the terminal table (each row has a second line: rule, parameters, untested limit)
TERMINAL_COLUMNS = ("quantity", "theory ± se_T", "simulation ± se", "z", "k", "MDE (target)",
                    "verdict")


def _terminal_cells(row) -> tuple[list[str], str]:
    """The first line's cells and the second line of one row in the terminal table."""
    cells = row_cells(row)
    ref_column = 3 if row.rule == "z" else 2         # the theory value the verdict tests
    theory = cells[ref_column]
    detail = f"{row.rule}: {format_parameters(row.parameters)}"
    if row.rule == "z" and row.limit is not None:
        detail += f"; limit {fmt_number(row.limit)} (shown, not tested)"
    return [cells[0], theory, cells[4], cells[5], cells[6], cells[8], cells[9]], detail


def format_table(rows, *, width: int = TERMINAL_WIDTH) -> str:
    """A text table of ``rows`` for the terminal, at most ``width`` characters wide.

    One heading line per check; each row has a first line with the quantity (wrapped), the theory
    value the verdict tests with its own standard error, the simulation, z, the threshold k, the
    power and the verdict, and an indented second line with the rule, the parameters and, for rule
    ``z``, the limit that is shown but not tested.
    """
    body = [_terminal_cells(r) for r in rows]
    cols = len(TERMINAL_COLUMNS)
    widths = [max([len(TERMINAL_COLUMNS[j])] + [len(c[j]) for c, _ in body]) for j in range(cols)]
    widths[0] = max(16, min(widths[0], width - sum(widths[1:]) - 2 * (cols - 1)))

    def lines_of(cells):
        first = textwrap.wrap(cells[0], widths[0], break_on_hyphens=False) or [""]
        out = []
        for i, q in enumerate(first):
            rest = cells[1:] if i == 0 else [""] * (cols - 1)
            out.append("  ".join(c.ljust(w) for c, w in zip([q, *rest], widths, strict=True))
                       .rstrip())
        return out

    out = lines_of(list(TERMINAL_COLUMNS)) + ["-" * min(width, sum(widths) + 2 * (cols - 1))]
    check = None
    for r, (cells, detail) in zip(rows, body, strict=True):
        if r.check and r.check != check:
            check = r.check
            out.append(f"[{check}]")
        out += lines_of(cells)
        out += textwrap.wrap(detail, width, initial_indent="    ", subsequent_indent="      ",
                             break_on_hyphens=False)
    return "\n".join(out)


def table_csv(rows) -> str:
    """CSV text with one line per row and machine-readable numeric columns."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["check", "quantity", "parameters", "limit", "prediction", "simulation", "stderr",
                "z", "threshold", "rule", "reference", "theory_se", "dof", "remainder", "band",
                "scale", "mde", "target", "verdict", "note"])
    for r in rows:
        w.writerow([r.check, r.quantity, format_parameters(r.parameters),
                    _num(r.limit), _num(r.prediction), _num(r.simulation), _num(r.stderr),
                    _num(r.z),
                    _num(r.threshold), r.rule, _num(r.reference), _num(r.theory_se), _num(r.dof),
                    _num(r.remainder), _num(r.band), _num(r.scale), _num(r.mde), _num(r.target),
                    r.verdict, r.note])
    return buf.getvalue()


#: the verdict cell of the Markdown table (the HTML renderer colours the row by it)
VERDICT_MARKDOWN = {"PASS": "PASS", "FAIL": "**FAIL**", "LOW POWER": "**LOW POWER**"}


def table_markdown(rows) -> str:
    """A Markdown (GitHub) table of ``rows``."""
    def esc(s):
        return s.replace("|", "\\|")

    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in rows:
        c = row_cells(r)
        c[-1] = VERDICT_MARKDOWN[r.verdict]
        lines.append("| " + " | ".join(esc(s) for s in c) + " |")
    return "\n".join(lines)


def _num(x):
    return "" if x is None else repr(float(x))
