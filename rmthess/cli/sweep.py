"""``rmthess sweep``: run a grid of simulations from a TOML file on Dask (resumable)."""

from __future__ import annotations

__all__ = ["HELP", "add_arguments", "run"]

HELP = "run a resumable grid of simulations from a TOML file on a Dask cluster"


def add_arguments(parser) -> None:
    parser.add_argument("config", help="sweep configuration (TOML)")
    parser.add_argument("--scheduler", default=None,
                        help="address of an existing Dask scheduler (default: a local cluster)")
    parser.add_argument("--out", default="sweep-out", help="output folder (default sweep-out)")
    parser.add_argument("--workers", type=int, default=None,
                        help="workers of the local cluster (default: number of CPUs)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")


def run(args) -> int:
    from pathlib import Path

    from rmthess.montecarlo.sweep import run_sweep

    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    rows = run_sweep(args.config, args.out, scheduler=args.scheduler, n_workers=args.workers,
                     progress=not args.quiet)
    out = Path(args.out)
    print(f"{len(rows)} rows -> {out / 'results.csv'}; record {out / 'sweep.json'}")
    return 0
