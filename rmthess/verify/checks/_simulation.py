"""Run Monte Carlo cells for the checks: directly at small sizes, through the sweep engine for
--full.

A *cell* is a dict of :func:`rmthess.montecarlo.simulate` keyword arguments (without ``seed``); cell
``k`` of a check gets the seed ``ctx.child(key, k)``. At size ``full`` the cells go through
:func:`rmthess.montecarlo.sweep.run_cells` (Dask; each completed cell is stored, so an interrupted
run resumes); otherwise they run in this process.
"""

from __future__ import annotations

__all__ = ["simulate_cells"]


def _label(cell: dict) -> str:
    keys = ("case", "design", "d", "gamma", "classes", "m", "reps", "t")
    return ", ".join(f"{k}={cell[k]}" for k in keys if cell.get(k) is not None)


def simulate_cells(ctx, cells, *, key: int = 0) -> list:
    """Simulate every cell; return their :class:`~rmthess.montecarlo.SimulationResult` in order."""
    from rmthess.montecarlo import simulate

    cells = [dict(c) for c in cells]
    seeds = [ctx.child(key, k) for k in range(len(cells))]
    if ctx.size == "full":
        return _via_sweep(ctx, cells, seeds, key)
    out = []
    for k, (cell, seed) in enumerate(zip(cells, seeds, strict=True), 1):
        ctx.progress(f"simulate {k}/{len(cells)}: {_label(cell)}")
        out.append(simulate(rng=seed, **cell))
    return out


def _via_sweep(ctx, cells, seeds, key):
    """Run the cells through the resumable sweep engine."""
    from pathlib import Path

    from rmthess.montecarlo.sweep import run_cells

    workdir = Path(ctx.workdir or "verify-sweep") / f"cells-{key}"
    ctx.progress(f"sweep of {len(cells)} cells on "
                 f"{ctx.scheduler or 'a local Dask cluster'} (state in {workdir})")
    return run_cells(cells, seeds, workdir, scheduler=ctx.scheduler, progress=ctx.progress)
