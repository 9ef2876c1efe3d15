r"""The configuration of a sweep: a TOML file (or dict) whose shape is checked before any work.

A sweep is a TOML file::

    seed = 20250502          # root seed of the whole sweep
    reps = 20                # replicates per cell (or a list in [grid])

    [grid]                   # the cartesian product of these lists is the set of cells
    case = ["linear-ce"]
    d = [100, 200, 400]
    gamma = [0.25, 1.0, 4.0]
    classes = [3, 10]
    design = ["coupled"]     # optional; default ["coupled"]
    m = [4]                  # used by the mlp cases only
    sigma_v = [1.0]          # optional
    t = [0.5]                # used by the lindeberg design only

Only the keys shown are accepted (an unknown key anywhere is an error, so a typo never passes
silently), and every list must be non-empty. ``reps`` is given once: at the top level (every cell)
or as a list in ``[grid]`` (one more grid axis) — both at once is an error rather than a silent
precedence. Keys left out take the defaults in the comments; ``m`` and ``t`` apply only to the cases
and designs that use them. The parameter values themselves are validated when the grid is expanded
(:mod:`rmthess.montecarlo.sweep.grid`).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

__all__ = ["load_config", "GRID_KEYS", "TOP_KEYS"]

#: keys of the ``[grid]`` table, in the order of a cell's parameters
GRID_KEYS = ("case", "d", "gamma", "classes", "m", "sigma_v", "design", "t", "reps")
#: keys of the top level of a configuration
TOP_KEYS = ("seed", "reps", "grid")


def load_config(config) -> dict:
    """Read a sweep configuration from a TOML path or take a dict; validate its shape."""
    if isinstance(config, (str, os.PathLike)):
        path = Path(config)
        if not path.is_file():
            raise ValueError(f"sweep configuration {str(path)!r} not found")
        try:
            with open(path, "rb") as fh:
                config = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"sweep configuration {str(path)!r} is not valid TOML: "
                             f"{exc}") from None
    if not isinstance(config, dict):
        raise ValueError("a sweep configuration must be a TOML table")
    unknown = set(config) - set(TOP_KEYS)
    if unknown:
        raise ValueError(f"unknown top-level keys {sorted(unknown)} in the sweep configuration; "
                         f"valid: {list(TOP_KEYS)} (workers and the output folder are command-line "
                         "options)")
    grid = config.get("grid")
    if not isinstance(grid, dict) or "case" not in grid:
        raise ValueError("a sweep configuration needs a [grid] table with at least case, d, gamma, "
                         "classes")
    unknown = set(grid) - set(GRID_KEYS)
    if unknown:
        raise ValueError(f"unknown [grid] keys {sorted(unknown)}; valid: {list(GRID_KEYS)}")
    for key in ("d", "gamma", "classes"):
        if key not in grid:
            raise ValueError(f"[grid] needs {key!r}")
    if "reps" not in grid and "reps" not in config:
        raise ValueError("the sweep needs reps (top level or in [grid])")
    if "reps" in grid and "reps" in config:
        raise ValueError("reps is given both at the top level and in [grid]; give it once "
                         "(top level: every cell; [grid]: a list of values)")
    for key, value in grid.items():
        if isinstance(value, (list, tuple)) and len(value) == 0:
            raise ValueError(f"[grid] {key} is an empty list: the sweep would have no cells")
        if isinstance(value, dict):
            raise ValueError(f"[grid] {key} must be a value or a list of values, got a table")
    seed = config.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return config
