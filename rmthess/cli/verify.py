r"""``rmthess verify``: every theorem quantity against simulation — table, figures, report.

``rmthess verify [--quick | --full] [--out DIR] [--scheduler ADDRESS] [--seed S] [--only NAMES]``

Prints progress (stderr) and one table (stdout), writes ``DIR/table.csv``, ``DIR/record.json``,
``DIR/figures/*.{png,pdf}``, ``DIR/report.md`` and a self-contained ``DIR/report.html``, and exits
with status 1 if any verdict fails or any row is LOW POWER (its minimum detectable deviation above
its target; 2 for bad arguments). ``--quick`` (the default) takes about three
minutes on two cores; ``--full`` runs the larger sizes, on the Dask cluster at ``--scheduler`` if
given, and keeps its completed cells under ``DIR/sweep`` so that an interrupted run resumes.
"""

from __future__ import annotations

import argparse
import sys
import time

__all__ = ["HELP", "add_arguments", "run"]

HELP = "check every theorem quantity against simulation; write table, figures and report"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", dest="size", action="store_const", const="quick",
                      help="default: moderate sizes, within three minutes on 2 cores")
    size.add_argument("--full", dest="size", action="store_const", const="full",
                      help="larger sizes through the resumable Monte Carlo sweep (Dask)")
    size.add_argument("--tiny", dest="size", action="store_const", const="tiny",
                      help=argparse.SUPPRESS)
    parser.set_defaults(size="quick")
    parser.add_argument("--out", default="verify-report", metavar="DIR",
                        help="output folder (default: ./verify-report)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="Dask scheduler address for --full (default: a local cluster)")
    parser.add_argument("--seed", type=int, default=0, metavar="S",
                        help="root seed; the same seed reproduces every number (default 0)")
    parser.add_argument("--only", default=None, metavar="NAMES",
                        help="comma-separated check names to run (default: all)")


def run(args) -> int:
    from rmthess.montecarlo.sweep import check_scheduler, prepare_out
    from rmthess.verify.report import write_outputs
    from rmthess.verify.runner import run_verification
    from rmthess.verify.table import format_table

    if args.seed < 0:
        raise ValueError(f"--seed must be a non-negative integer, got {args.seed}")
    checks = None
    if args.only is not None:
        checks = [c.strip() for c in args.only.split(",") if c.strip()]
        if not checks:
            raise ValueError(f"--only must list at least one check name, got {args.only!r}")
        import rmthess.verify.checks  # noqa: F401  (registers the checks)
        from rmthess.verify.base import get_check

        for name in checks:
            try:
                get_check(name)  # before any output
            except ValueError as exc:
                raise ValueError(f"--only: {exc}") from None
    if args.scheduler is not None and args.size != "full":
        raise ValueError("--scheduler only applies to --full")
    prepare_out(args.out, create=False)  # the checks that create nothing come first
    if args.scheduler is not None:
        check_scheduler(args.scheduler)  # fail fast, before any check runs
    out = prepare_out(args.out)
    t0 = time.perf_counter()

    def progress(msg):
        print(f"[{time.perf_counter() - t0:6.1f} s] {msg}", file=sys.stderr, flush=True)

    progress(f"rmthess verify --{args.size} --seed {args.seed} → {out}")
    result = run_verification(args.size, args.seed, checks=checks, progress=progress,
                              scheduler=args.scheduler, workdir=out / "sweep")
    print(format_table(result.rows))
    progress("writing figures and report")
    written = write_outputs(result, out)
    if result.passed:
        status = "PASS"
    else:
        low = result.n_low_power
        status = (f"FAIL ({result.n_failed - low} inconsistent and {low} LOW POWER of "
                  f"{len(result.rows)} rows)")
    print(f"\n{len(result.rows)} rows, verdict: {status}; report: {written['html']} "
          f"(also {written['markdown'].name}, table.csv, record.json, figures/); "
          f"{time.perf_counter() - t0:.0f} s")
    return 0 if result.passed else 1
