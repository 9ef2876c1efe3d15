r"""``rmthess verify``: every theorem quantity against simulation — table, figures, report.

``rmthess verify [--quick | --full] [--out DIR] [--scheduler ADDRESS] [--seed S] [--only NAMES]
[--pdf] [--quiet]``

Shows progress on stderr (a bar on a terminal, one line per step otherwise, nothing with
``--quiet``), prints one table (stdout, at most 120 columns), writes ``DIR/table.csv``,
``DIR/record.json``, ``DIR/figures/*.png`` (and ``*.pdf`` with ``--pdf``), ``DIR/report.md`` and a
self-contained ``DIR/report.html``, and exits with status 1 if any verdict fails or any row is LOW
POWER (its minimum detectable deviation above its target; 2 for bad arguments). ``--quick`` (the
default) takes about three minutes on two cores; ``--full`` runs the larger sizes, on the Dask
cluster at ``--scheduler`` if given, and keeps its completed cells under ``DIR/sweep`` so that an
interrupted run resumes.
"""

from __future__ import annotations

import argparse
import sys
import time

__all__ = ["HELP", "add_arguments", "run", "ESTIMATE"]

HELP = "check every theorem quantity against simulation; write table, figures and report"

#: what a run of each size costs on two cores, said before it starts
ESTIMATE = {"tiny": "under a minute", "quick": "about 3 minutes on 2 cores",
            "full": "hours on 2 cores (resumable; a Dask cluster helps)"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from rmthess.cli._options import add_seed_argument
    from rmthess.cli._progress import add_quiet_argument

    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", dest="size", action="store_const", const="quick",
                      help="default: moderate sizes, within three minutes on 2 cores")
    size.add_argument("--full", dest="size", action="store_const", const="full",
                      help="larger sizes through the resumable Monte Carlo sweep (needs Dask: "
                           "pip install 'rmthess[distributed]')")
    size.add_argument("--tiny", dest="size", action="store_const", const="tiny",
                      help=argparse.SUPPRESS)
    parser.set_defaults(size="quick")
    parser.add_argument("--out", default="verify-report", metavar="DIR",
                        help="output folder (default: ./verify-report)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="Dask scheduler address for --full (default: a local cluster)")
    add_seed_argument(parser, default=0,
                      help="root seed; the same seed reproduces every number (default 0)")
    parser.add_argument("--only", default=None, metavar="NAMES",
                        help="comma-separated check names to run (default: all)")
    parser.add_argument("--pdf", action="store_true",
                        help="also write every figure as PDF (vector, for papers)")
    add_quiet_argument(parser)


class _Progress:
    """The runner's messages: a bar over the checks on a terminal, timestamped lines otherwise."""

    def __init__(self, n_checks: int, quiet: bool):
        from rmthess.cli._progress import bar

        self.t0 = time.perf_counter()
        self.quiet = quiet
        self.bar = bar(n_checks, "verify", quiet=quiet, unit="check")
        self.done = 0

    def __call__(self, msg: str) -> None:
        if self.quiet:
            return
        if self.bar.disable:
            print(f"[{time.perf_counter() - self.t0:6.1f} s] {msg}", file=sys.stderr, flush=True)
            return
        self.bar.set_postfix_str(msg[:48], refresh=True)
        if " rows, " in msg or "ERROR" in msg or "reused" in msg:   # a check has finished
            self.bar.update(1)

    def close(self):
        self.bar.close()


def run(args) -> int:
    import rmthess.verify.checks  # noqa: F401  (registers the checks)
    from rmthess.cli._options import require_distributed
    from rmthess.montecarlo.sweep import check_scheduler, prepare_out
    from rmthess.verify.base import CHECKS, get_check
    from rmthess.verify.report import elapsed_text, write_outputs
    from rmthess.verify.runner import run_verification
    from rmthess.verify.table import format_table

    checks = None
    if args.only is not None:
        checks = [c.strip() for c in args.only.split(",") if c.strip()]
        if not checks:
            raise ValueError(f"--only must list at least one check name, got {args.only!r}")
        for name in checks:
            try:
                get_check(name)  # before any output
            except ValueError as exc:
                raise ValueError(f"--only: {exc}") from None
    if args.scheduler is not None and args.size != "full":
        raise ValueError("--scheduler only applies to --full")
    if args.size == "full":
        require_distributed("--full")
    prepare_out(args.out, create=False)  # the checks that create nothing come first
    if args.scheduler is not None:
        check_scheduler(args.scheduler)  # fail fast, before any check runs
    out = prepare_out(args.out)
    names = checks or list(CHECKS)
    progress = _Progress(len(names), args.quiet)
    if not args.quiet:
        n = len(names)
        what = (f"{n} checks, {ESTIMATE[args.size]}" if checks is None else
                f"{n} check{'s' if n != 1 else ''} of {len(CHECKS)} "
                f"(all {len(CHECKS)}: {ESTIMATE[args.size]})")
        print(f"rmthess verify --{args.size} --seed {args.seed}: {what} → {out}",
              file=sys.stderr, flush=True)
    try:
        result = run_verification(args.size, args.seed, checks=checks, progress=progress,
                                  scheduler=args.scheduler, workdir=out / "sweep")
    finally:
        progress.close()
    print(format_table(result.rows))
    progress("writing figures and report")
    written = write_outputs(result, out, formats=("png", "pdf") if args.pdf else ("png",))
    if result.passed:
        status = "PASS"
    else:
        low = result.n_low_power
        status = (f"FAIL ({result.n_failed - low} inconsistent and {low} LOW POWER of "
                  f"{len(result.rows)} rows)")
    print(f"\n{len(result.rows)} rows, verdict: {status}; {elapsed_text(result)}\n"
          f"report: {written['html']} (also {written['markdown'].name}, table.csv, record.json, "
          f"figures/)")
    return 0 if result.passed else 1
