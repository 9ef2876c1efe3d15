"""Compare the tables of two verification reports number by number.

Usage::

    python tools/compare_reports.py OLD_REPORT_DIR NEW_REPORT_DIR [--rtol 1e-12] [--atol 0]

Each folder holds the ``table.csv`` that ``rmthess verify --out DIR`` writes. Rows are matched by
``(check, quantity, parameters)`` (and their order among equal keys). A numeric cell differs when
``|a − b| > atol + rtol·max(|a|, |b|)`` (NaN equals NaN); any other cell differs when its text
differs. Every differing cell is printed with both values and its relative difference, as are rows
present in one table only. Exit status 0 when the tables agree, 1 otherwise, 2 on bad input.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from collections import Counter
from pathlib import Path

KEY = ("check", "quantity", "parameters")


def read_table(folder: Path, name: str) -> dict:
    """Rows of ``folder/name`` keyed by ``(check, quantity, parameters, occurrence)``."""
    path = folder / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist (is {folder} a report folder?)")
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [k for k in KEY if k not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{path} has no column(s) {missing}")
        seen: Counter = Counter()
        rows = {}
        for row in reader:
            key = tuple(row[k] for k in KEY)
            rows[key + (seen[key],)] = row
            seen[key] += 1
    return rows


def _number(text: str):
    try:
        return float(text)
    except ValueError:
        return None


def compare_cell(a: str, b: str, rtol: float, atol: float):
    """``None`` when the cells agree, else the relative difference (``inf`` for text or NaN
    mismatches)."""
    x, y = _number(a), _number(b)
    if x is None or y is None:
        return None if a == b else math.inf
    if math.isnan(x) or math.isnan(y):
        return None if math.isnan(x) and math.isnan(y) else math.inf
    if x == y:
        return None
    diff = abs(x - y)
    scale = max(abs(x), abs(y))
    if diff <= atol + rtol * scale:
        return None
    return diff / scale if scale > 0 else math.inf


def compare(old: dict, new: dict, rtol: float, atol: float) -> list[str]:
    """Lines describing every difference between two keyed tables (empty when they agree)."""
    lines = []
    for key in old.keys() - new.keys():
        lines.append(f"only in old: {' | '.join(key[:3])}")
    for key in new.keys() - old.keys():
        lines.append(f"only in new: {' | '.join(key[:3])}")
    for key in old.keys() & new.keys():
        a, b = old[key], new[key]
        for col in sorted(set(a) | set(b)):
            rel = compare_cell(a.get(col, ""), b.get(col, ""), rtol, atol)
            if rel is not None:
                lines.append(f"{' | '.join(key[:3])} | {col}: {a.get(col)!r} -> {b.get(col)!r} "
                             f"(relative difference {rel:.3g})")
    return sorted(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("old", type=Path, help="report folder of the reference run")
    parser.add_argument("new", type=Path, help="report folder of the run to check")
    parser.add_argument("--rtol", type=float, default=1e-12, help="relative tolerance (1e-12)")
    parser.add_argument("--atol", type=float, default=0.0, help="absolute tolerance (0)")
    parser.add_argument("--table", default="table.csv", help="file name of the table (table.csv)")
    args = parser.parse_args(argv)
    if not (args.rtol >= 0 and args.atol >= 0):
        print("compare_reports: --rtol and --atol must be >= 0", file=sys.stderr)
        return 2
    try:
        old, new = read_table(args.old, args.table), read_table(args.new, args.table)
    except (OSError, ValueError) as exc:
        print(f"compare_reports: {exc}", file=sys.stderr)
        return 2
    lines = compare(old, new, args.rtol, args.atol)
    for line in lines:
        print(line)
    cells = sum(len(r) for r in old.values())
    print(f"{len(old)} rows, {cells} cells compared at rtol={args.rtol:g}, atol={args.atol:g}: "
          f"{len(lines)} difference(s)")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
