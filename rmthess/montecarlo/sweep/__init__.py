r"""Parameter sweeps on Dask: a grid of simulations, saved cell by cell, resumable.

One concept per module:

* :mod:`~rmthess.montecarlo.sweep.config` — the TOML configuration and the check of its shape
  (:func:`load_config`);
* :mod:`~rmthess.montecarlo.sweep.grid` — its cells and their seeds (:func:`expand_grid`,
  :func:`cell_id`, :func:`cell_seed`): a cell's numbers depend on the sweep seed and the cell alone;
* :mod:`~rmthess.montecarlo.sweep.execute` — the cells as tasks on a ``dask.distributed`` cluster
  (:func:`run_sweep` for a configuration, :func:`run_cells` for explicit cells with their seeds,
  :func:`connect`, :func:`check_scheduler`);
* :mod:`~rmthess.montecarlo.sweep.storage` — one atomic, checksummed file per cell, keyed on the
  code that computed it; the tidy table ``results.csv`` (and ``results.parquet`` when pyarrow is
  installed, :data:`SWEEP_COLUMNS`), the record ``sweep.json``, and the lock on the output folder
  (:func:`prepare_out`, :func:`read_table`).

Examples
--------
>>> from rmthess.montecarlo.sweep import expand_grid
>>> cells = expand_grid({"seed": 1, "reps": 2, "grid": {"case": "linear-ce", "d": [20, 40],
...                                                     "gamma": 1.0, "classes": 3}})
>>> [c["d"] for c in cells], cells[0]["design"]
([20, 40], 'coupled')
"""

from __future__ import annotations

from rmthess.montecarlo.sweep.config import load_config
from rmthess.montecarlo.sweep.execute import (
    check_scheduler,
    connect,
    run_cell,
    run_cells,
    run_sweep,
)
from rmthess.montecarlo.sweep.grid import cell_id, cell_seed, expand_grid
from rmthess.montecarlo.sweep.storage import SWEEP_COLUMNS, prepare_out, read_table

__all__ = ["load_config", "expand_grid", "cell_id", "cell_seed", "run_cell", "run_sweep",
           "run_cells", "SWEEP_COLUMNS", "read_table", "connect", "check_scheduler", "prepare_out"]
