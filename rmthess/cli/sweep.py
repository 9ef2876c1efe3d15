"""``rmthess sweep``: run a grid of simulations from a TOML file on Dask (resumable)."""

from __future__ import annotations

__all__ = ["HELP", "add_arguments", "run"]

HELP = "run a resumable grid of simulations from a TOML file on a Dask cluster"


def add_arguments(parser) -> None:
    from rmthess.cli._progress import add_quiet_argument

    parser.add_argument("config", help="sweep configuration (TOML)")
    parser.add_argument("--scheduler", default=None,
                        help="address of an existing Dask scheduler (default: a local cluster)")
    parser.add_argument("--out", default="sweep-out", help="output folder (default sweep-out)")
    parser.add_argument("--workers", type=int, default=None,
                        help="workers of the local cluster (default: number of CPUs)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object (docs/json-schema.md) with every cell's blocks")
    add_quiet_argument(parser)


def run(args) -> int:
    import json
    import sys
    from pathlib import Path

    from rmthess._cost import format_seconds
    from rmthess.cli._options import require_distributed
    from rmthess.cli._progress import bar
    from rmthess.montecarlo.sweep import expand_grid, load_config, prepare_out, run_sweep

    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    require_distributed("rmthess sweep")
    cells = expand_grid(load_config(args.config))      # a bad file fails here, before any writing
    prepare_out(args.out, create=False)
    pbar = bar(len(cells), "cells", quiet=args.quiet, unit="cell")
    state = {"t0": None}

    def lines(line: str) -> None:                      # text progress when no bar is drawn
        if args.quiet:
            return
        if pbar.disable:
            print(line, file=sys.stderr, flush=True)
        elif "already done" in line:
            pbar.write(line, file=sys.stderr)

    def on_cell(_rec) -> None:
        import time

        pbar.update(1)
        if state["t0"] is None:
            state["t0"] = time.monotonic()
            return
        done = pbar.n
        per = (time.monotonic() - state["t0"]) / max(done - 1, 1)
        pbar.set_postfix_str(f"~{format_seconds(per * (len(cells) - done))} left")

    try:
        rows = run_sweep(args.config, args.out, scheduler=args.scheduler, n_workers=args.workers,
                         progress=lines, on_cell=on_cell)
    finally:
        pbar.close()
    out = Path(args.out)
    if args.json:
        from rmthess._schema import envelope, simulation_body
        from rmthess.montecarlo.result import SimulationResult

        ids = [c["cell_id"] for c in json.loads((out / "sweep.json").read_text(
            encoding="utf-8"))["cells"]]                 # this sweep's cells, in grid order
        recs = [json.loads((out / "cells" / f"{cid}.json").read_text(encoding="utf-8"))
                for cid in ids]
        body = {"out": str(out), "n_cells": len(recs),
                "cells": [{"cell_id": r["cell_id"],
                           **simulation_body(SimulationResult.from_dict(r))} for r in recs]}
        print(json.dumps(envelope("sweep", body), allow_nan=False))
        return 0
    print(f"{len(rows)} rows -> {out / 'results.csv'}; record {out / 'sweep.json'}")
    return 0
