"""Monte Carlo cells: in-process at small sizes, through the resumable Dask sweep at size full."""

import numpy as np
import pytest

from rmthess.verify.base import CheckContext
from rmthess.verify.checks._simulation import simulate_cells

CELLS = [{"case": "linear-ce", "d": 20, "gamma": 1.0, "classes": 3, "reps": 3},
         {"case": "linear-mse", "d": 20, "gamma": 0.5, "classes": 3, "reps": 3}]


def test_quick_cells_run_in_process_with_child_seeds():
    ctx = CheckContext(size="tiny", seed=np.random.SeedSequence(4))
    a = simulate_cells(ctx, CELLS)
    b = simulate_cells(ctx, CELLS)
    assert [r.case for r in a] == ["linear-ce", "linear-mse"]
    assert a[0].blocks["v"].ratio == b[0].blocks["v"].ratio
    assert simulate_cells(ctx, CELLS, key=1)[0].blocks["v"].ratio != a[0].blocks["v"].ratio


def test_full_cells_go_through_the_sweep(monkeypatch, tmp_path):
    import rmthess.montecarlo.sweep as sweep

    seen = {}

    def fake_run_cells(cells, seeds, out_dir, **kwargs):
        seen.update(kwargs, cells=cells, seeds=seeds, out_dir=out_dir)
        return ["sentinel"] * len(cells)

    monkeypatch.setattr(sweep, "run_cells", fake_run_cells)
    ctx = CheckContext(size="full", seed=np.random.SeedSequence(4), workdir=tmp_path,
                       scheduler="tcp://127.0.0.1:1")
    assert simulate_cells(ctx, CELLS, key=2) == ["sentinel", "sentinel"]
    assert seen["scheduler"] == "tcp://127.0.0.1:1"
    assert seen["out_dir"] == tmp_path / "cells-2"
    assert [s.spawn_key for s in seen["seeds"]] == [ctx.child(2, k).spawn_key for k in range(2)]


@pytest.mark.slow
def test_full_cells_resume_from_completed_cells(tmp_path):
    ctx = CheckContext(size="full", seed=np.random.SeedSequence(5), workdir=tmp_path)
    first = simulate_cells(ctx, CELLS)
    files = sorted((tmp_path / "cells-0" / "cells").glob("*.json"))
    assert len(files) == len(CELLS)
    stamps = [f.stat().st_mtime_ns for f in files]
    again = simulate_cells(ctx, CELLS)
    assert [r.blocks["v"].ratio for r in first] == [r.blocks["v"].ratio for r in again]
    assert [f.stat().st_mtime_ns for f in files] == stamps  # nothing recomputed
    direct = simulate_cells(CheckContext(size="quick", seed=np.random.SeedSequence(5)), CELLS)
    assert [r.blocks["v"].ratio for r in first] == [r.blocks["v"].ratio for r in direct]
