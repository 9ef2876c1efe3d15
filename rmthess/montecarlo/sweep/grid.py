r"""The cells of a sweep and their seeds.

The grid of a configuration (:mod:`rmthess.montecarlo.sweep.config`) expands to its cells: validated
parameter dicts, in grid order, without duplicates, each checked against the cost guard of
:mod:`rmthess._cost`. Each cell is identified by its parameters; its seed is the ``SeedSequence``
with the sweep's ``seed`` as entropy and a spawn key taken from a SHA-256 hash of the cell's
identity (:func:`cell_seed`), so a cell's numbers depend on the sweep seed and the cell alone — not
on the grid around it, the order of execution or the number of workers. Seeds travel to workers and
into the stored records as JSON-ready ``[entropy, spawn_key]`` pairs (:func:`seed_pair`,
:func:`from_pair`).
"""

from __future__ import annotations

import hashlib
import json
from itertools import product

import numpy as np

from rmthess._validate import seed_sequence
from rmthess.montecarlo.sweep.config import GRID_KEYS, load_config

__all__ = ["expand_grid", "cell_id", "cell_seed", "seed_pair", "from_pair"]


def _as_list(v):
    return list(v) if isinstance(v, (list, tuple)) else [v]


def expand_grid(config) -> list[dict]:
    """The cells of a sweep: validated parameter dicts, in grid order, without duplicates."""
    from rmthess._cost import check_cost
    from rmthess._validate import REPS
    from rmthess.cases import get_case
    from rmthess.montecarlo.simulation import make_spec, simulation_cost

    config = load_config(config)
    grid = config["grid"]
    lists = {k: _as_list(grid.get(k, [])) for k in GRID_KEYS}
    lists["design"] = lists["design"] or ["coupled"]
    lists["sigma_v"] = lists["sigma_v"] or [1.0]
    lists["reps"] = lists["reps"] or [config.get("reps")]
    lists["m"] = lists["m"] or [None]
    lists["t"] = lists["t"] or [None]
    cells, seen = [], set()
    for values in product(*(lists[k] for k in GRID_KEYS)):
        raw = dict(zip(GRID_KEYS, values, strict=True))
        model = get_case(raw["case"])
        m = raw["m"] if model.hidden else None
        t = (0.5 if raw["t"] is None else raw["t"]) if raw["design"] == "lindeberg" else None
        spec, _, _ = make_spec(raw["case"], d=raw["d"], gamma=raw["gamma"], classes=raw["classes"],
                               m=m, design=raw["design"], sigma_v=raw["sigma_v"], t=t)
        nbytes, seconds = simulation_cost(spec, REPS.validate(raw["reps"]))
        check_cost(f"the sweep cell {spec.case} d={spec.d} N={spec.n_samples}", nbytes=nbytes,
                   seconds=seconds, hint="shrink the grid")
        cell = {"case": spec.case, "d": spec.d, "gamma": spec.gamma, "classes": spec.classes,
                "m": spec.m, "sigma_v": spec.sigma_v, "design": spec.design, "t": spec.t,
                "reps": REPS.validate(raw["reps"])}
        key = json.dumps(cell, sort_keys=True)
        if key not in seen:
            seen.add(key)
            cells.append(cell)
    return cells


def cell_id(cell: dict, seed=None) -> str:
    """A stable 16-hex-digit identifier of a cell (SHA-256 of its canonical JSON and its seed)."""
    key = {"cell": cell}
    if seed is not None:
        key["seed"] = seed_pair(seed)
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:16]


def cell_seed(seed, cell: dict) -> np.random.SeedSequence:
    """The cell's seed: the root ``seed`` (an int, as in a configuration, or anything
    :func:`seed_sequence` accepts) with the hash of the cell's identity appended to its spawn
    key."""
    h = hashlib.sha256(json.dumps(cell, sort_keys=True).encode()).digest()
    key = tuple(int.from_bytes(h[4 * i:4 * i + 4], "little") for i in range(4))
    root = seed_sequence(seed)
    return np.random.SeedSequence(root.entropy, spawn_key=tuple(root.spawn_key) + key,
                                  pool_size=root.pool_size)


def seed_pair(seed) -> list:
    """``[entropy, spawn_key]`` of a seed (JSON-ready; inverse :func:`from_pair`); the entropy is
    an int, or a list of ints when the seed was given as a sequence."""
    ss = seed_sequence(seed)
    entropy = int(ss.entropy) if isinstance(ss.entropy, int) else [int(e) for e in ss.entropy]
    return [entropy, [int(k) for k in ss.spawn_key]]


def from_pair(pair) -> np.random.SeedSequence:
    """The ``SeedSequence`` of a ``[entropy, spawn_key]`` pair (inverse of :func:`seed_pair`)."""
    entropy = int(pair[0]) if isinstance(pair[0], int) else [int(e) for e in pair[0]]
    return np.random.SeedSequence(entropy, spawn_key=tuple(pair[1]))
