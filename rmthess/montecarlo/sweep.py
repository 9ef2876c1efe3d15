r"""Parameter sweeps on Dask: a grid of simulations, saved cell by cell, resumable.

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
silently), and every list must be non-empty. ``reps`` is given once: at the top level (every cell) or
as a list in ``[grid]`` (one more grid axis) — both at once is an error rather than a silent
precedence. Keys left out take the defaults in the comments; ``m`` and ``t`` apply only to the cases
and designs that use them.

Each cell is identified by its parameters; its seed is the ``SeedSequence`` with the sweep's
``seed`` as entropy and a spawn key taken from a SHA-256 hash of the cell's identity, so a cell's numbers
depend on the sweep seed and the cell alone — not on the grid around it, the order of execution or the
number of workers. Cells run as tasks on a ``dask.distributed`` cluster (a local one by default, or an
existing scheduler); each completed cell is written at once to ``cells/<id>.json`` through a
temporary file and ``os.replace`` (never a half-written file), so an interrupted sweep (Ctrl-C, a
killed worker or client) loses no completed cell, and running it again skips them. The results are a
tidy table ``results.csv`` (and ``results.parquet`` when pyarrow is installed) with one row per cell
and block type, and ``sweep.json``, the record of parameters, cells, seeds and package versions.

Each cell file carries the SHA-256 checksum of its content: a cell that cannot be read or whose
checksum does not match (a corrupt or edited file) is recomputed, with a warning that names the file.
A sweep holds an exclusive lock on ``<out>/.lock`` while it runs: a second sweep into the same folder
is refused at once (instead of duplicating work and racing on the files), and temporary files are
only ever cleaned up by the run that holds the lock.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import errno
import fcntl
import hashlib
import json
import logging
import math
import os
import platform
import signal
import sys
import time
import tomllib
import warnings
from itertools import product
from pathlib import Path

import numpy as np

from rmthess._validate import seed_sequence

__all__ = ["load_config", "expand_grid", "cell_id", "cell_seed", "run_cell", "run_sweep",
           "SWEEP_COLUMNS", "read_table", "connect", "check_scheduler", "prepare_out"]

#: columns of the tidy result table, in order
SWEEP_COLUMNS = (
    "cell_id", "case", "d", "n_samples", "gamma", "classes", "m", "sigma_v", "design", "t", "reps",
    "block", "ratio", "stderr", "prediction", "prediction_stderr", "limit", "limit_stderr",
    "z_prediction", "z_limit", "diag", "diag_stderr", "offdiag", "offdiag_stderr",
    "diag_prediction", "offdiag_prediction",
)
_GRID_KEYS = ("case", "d", "gamma", "classes", "m", "sigma_v", "design", "t", "reps")
#: keys of the top level of a configuration
_TOP_KEYS = ("seed", "reps", "grid")
#: seconds to wait for an existing scheduler before giving up
CONNECT_TIMEOUT = 3


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
            raise ValueError(f"sweep configuration {str(path)!r} is not valid TOML: {exc}") from None
    if not isinstance(config, dict):
        raise ValueError("a sweep configuration must be a TOML table")
    unknown = set(config) - set(_TOP_KEYS)
    if unknown:
        raise ValueError(f"unknown top-level keys {sorted(unknown)} in the sweep configuration; "
                         f"valid: {list(_TOP_KEYS)} (workers and the output folder are command-line "
                         "options)")
    grid = config.get("grid")
    if not isinstance(grid, dict) or "case" not in grid:
        raise ValueError("a sweep configuration needs a [grid] table with at least case, d, gamma, "
                         "classes")
    unknown = set(grid) - set(_GRID_KEYS)
    if unknown:
        raise ValueError(f"unknown [grid] keys {sorted(unknown)}; valid: {list(_GRID_KEYS)}")
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
    lists = {k: _as_list(grid.get(k, [])) for k in _GRID_KEYS}
    lists["design"] = lists["design"] or ["coupled"]
    lists["sigma_v"] = lists["sigma_v"] or [1.0]
    lists["reps"] = lists["reps"] or [config.get("reps")]
    lists["m"] = lists["m"] or [None]
    lists["t"] = lists["t"] or [None]
    cells, seen = [], set()
    for values in product(*(lists[k] for k in _GRID_KEYS)):
        raw = dict(zip(_GRID_KEYS, values))
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
        key["seed"] = _seed_pair(seed)
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:16]


def cell_seed(seed: int, cell: dict) -> np.random.SeedSequence:
    """The cell's seed: entropy ``seed``, spawn key from the hash of the cell's identity."""
    h = hashlib.sha256(json.dumps(cell, sort_keys=True).encode()).digest()
    key = tuple(int.from_bytes(h[4 * i:4 * i + 4], "little") for i in range(4))
    return np.random.SeedSequence(int(seed), spawn_key=key)


def run_cell(cell: dict, seed) -> dict:
    """Simulate one cell (the task shipped to a worker); return ``SimulationResult.to_dict()``.

    ``cell`` holds :func:`rmthess.montecarlo.simulate` keyword arguments (``case`` included);
    ``seed`` is ``[entropy, spawn_key]`` or anything :func:`seed_sequence` accepts.
    """
    from rmthess.montecarlo.simulation import simulate

    if isinstance(seed, (list, tuple)):
        seed = _from_pair(seed)
    kw = {k: v for k, v in cell.items() if v is not None or k in ("m", "t")}
    case = kw.pop("case")
    res = simulate(case, seed=seed, **kw)
    out = res.to_dict()
    out["cell"] = cell
    return out


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _checksum(rec: dict) -> str:
    """SHA-256 of a cell record's canonical JSON, without its own ``sha256`` field."""
    body = {k: v for k, v in rec.items() if k != "sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _cell_text(rec: dict) -> str:
    return json.dumps({**rec, "sha256": _checksum(rec)})


def _load_done(cells_dir: Path, tasks: list) -> dict:
    """The saved cells that are intact; a damaged one is left to be recomputed, with a warning."""
    done = {}
    for cid, cell, seed in tasks:
        p = cells_dir / f"{cid}.json"
        if not p.is_file():
            continue
        try:
            rec = json.loads(p.read_text(encoding="utf-8"))
            intact = isinstance(rec, dict) and rec.get("sha256") == _checksum(rec)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            intact = False
        if not intact:
            warnings.warn(f"sweep cell file {p} is corrupt or was edited (checksum mismatch); "
                          "recomputing it", RuntimeWarning, stacklevel=3)
            continue
        if rec.get("cell") == cell and rec.get("cell_id") == cid:
            done[cid] = rec
    return done


def _rows(rec: dict) -> list[dict]:
    rows = []
    for block, b in rec["blocks"].items():
        row = {"cell_id": rec["cell_id"], "case": rec["case"], "d": rec["d"],
               "n_samples": rec["n_samples"], "gamma": rec["gamma"], "classes": rec["classes"],
               "m": rec["m"], "sigma_v": rec["sigma_v"], "design": rec["design"], "t": rec["t"],
               "reps": rec["reps"], "block": block}
        for k in SWEEP_COLUMNS[12:]:
            row[k] = b.get(k)
        rows.append(row)
    return rows


def _csv_text(rows: list[dict]) -> str:
    def fmt(v):
        if v is None:
            return ""
        if isinstance(v, float):
            return repr(v) if math.isfinite(v) else ("inf" if v > 0 else "-inf" if v < 0 else "nan")
        return str(v)
    lines = [",".join(SWEEP_COLUMNS)]
    lines += [",".join(fmt(r[c]) for c in SWEEP_COLUMNS) for r in rows]
    return "\n".join(lines) + "\n"


def read_table(path) -> list[dict]:
    """Read ``results.csv`` back as a list of dicts (numbers converted, empty cells → None)."""
    import csv

    out = []
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            conv = {}
            for k, v in row.items():
                if v == "":
                    conv[k] = None
                elif k in ("cell_id", "case", "design", "block"):
                    conv[k] = v
                else:
                    conv[k] = float(v) if any(ch in v for ch in ".eEni") else int(v)
            out.append(conv)
    return out


def _versions() -> dict:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for name in ("rmthess", "numpy", "scipy", "numba", "dask", "distributed"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = None
    return out


def _probe(scheduler: str) -> None:
    """Check within ``CONNECT_TIMEOUT`` seconds that a TCP address speaks the Dask protocol.

    A Dask server sends its handshake (a msgpack map naming ``compression`` and ``python``) as soon
    as a connection opens; a silent server, an HTTP or SSH server, or nothing listening is refused
    here with one line, instead of a hang or a huge allocation inside the Dask client. Addresses of
    other schemes (tls://, ucx://, …) are left to the client.
    """
    import socket

    if not isinstance(scheduler, str) or not scheduler.strip():
        raise ValueError(f"--scheduler must be an address such as tcp://host:8786, got {scheduler!r}")
    scheme, _, rest = scheduler.rpartition("://")
    if scheme not in ("", "tcp"):
        return
    host, _, port = rest.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--scheduler {scheduler!r} is not an address of the form tcp://host:port")
    data = b""
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT) as sock:
            sock.settimeout(CONNECT_TIMEOUT)
            deadline = time.monotonic() + CONNECT_TIMEOUT
            while b"python" not in data and len(data) < 4096 and time.monotonic() < deadline:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
    except TimeoutError:
        if not data:
            raise ValueError(f"the server at {scheduler!r} sent nothing within {CONNECT_TIMEOUT} s: "
                             "it is not a Dask scheduler") from None
    except OSError as exc:
        raise ValueError(f"could not connect to the Dask scheduler at {scheduler!r} "
                         f"({exc.strerror or type(exc).__name__})") from None
    if not (b"compression" in data and b"python" in data):
        raise ValueError(f"the server at {scheduler!r} is not a Dask scheduler (it answered "
                         f"{data[:24]!r})")


def connect(scheduler: str):
    """A ``distributed.Client`` of the scheduler at ``scheduler``; ``ValueError`` if unreachable.

    The address is probed first (:func:`_probe`), and the connection attempt gives up after
    ``CONNECT_TIMEOUT`` seconds, so a wrong address fails fast with one line.
    """
    try:
        from distributed import Client
    except ImportError:
        raise ValueError("the sweeps need dask.distributed: pip install 'rmthess[distributed]'") \
            from None

    _probe(scheduler)
    try:
        return Client(scheduler, timeout=f"{CONNECT_TIMEOUT}s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise ValueError(f"could not connect to the Dask scheduler at {scheduler!r} within "
                         f"{CONNECT_TIMEOUT} s ({type(exc).__name__}: {exc})") from None


def check_scheduler(scheduler: str) -> None:
    """Raise ``ValueError`` unless the Dask scheduler at ``scheduler`` answers (then disconnect)."""
    connect(scheduler).close()


@contextlib.contextmanager
def _children_ignore_sigint():
    """Start worker processes with SIGINT ignored (the disposition survives exec), so that a Ctrl-C
    interrupts this process alone — which then shuts the cluster down — and the workers print no
    tracebacks of their own. Outside the main thread nothing is changed."""
    try:
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


@contextlib.contextmanager
def _client(scheduler, n_workers, processes):
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ValueError("the sweeps need dask.distributed: pip install 'rmthess[distributed]'") \
            from None

    if scheduler is not None:
        client = connect(scheduler)
        try:
            yield client
        finally:
            client.close()
        return
    n = int(n_workers or os.cpu_count() or 1)
    # the cluster's own shutdown chatter (cancelled tasks, workers killed after a Ctrl-C) is not
    # the user's business: only errors are logged
    kwargs = dict(n_workers=n, threads_per_worker=1, processes=processes, dashboard_address=None,
                  silence_logs=logging.ERROR)
    if processes:
        kwargs["env"] = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                         "MKL_NUM_THREADS": "1"}
    try:
        with _children_ignore_sigint():
            cluster = LocalCluster(**kwargs)
        with cluster, Client(cluster) as client:
            yield client
    except KeyboardInterrupt:
        logging.getLogger("distributed").setLevel(logging.CRITICAL)
        raise


def prepare_out(out, option: str = "--out", *, create: bool = True) -> Path:
    """Create the output folder ``out`` if needed and check that files can be written in it.

    ``ValueError`` naming ``option`` when ``out`` is empty, is a file, cannot be created (permissions,
    a name too long, a read-only file system) or is not writable — before any computation starts.
    With ``create=False`` nothing is created: only the checks that need no writing are made (a name
    too long, an existing file, the nearest existing folder not writable).
    """
    if out is None or str(out).strip() == "":
        raise ValueError(f"{option} must name a folder, got an empty string")
    path = Path(out)
    if not create:
        try:
            for part in path.absolute().parts:
                if len(os.fsencode(part)) > 255:
                    raise OSError(errno.ENAMETOOLONG, "File name too long")
            anchor = path.absolute()
            while not anchor.exists():
                anchor = anchor.parent
        except OSError as exc:
            raise ValueError(f"{option} {str(path)!r} is not a usable folder name "
                             f"({exc.strerror or type(exc).__name__})") from None
        if anchor == path.absolute() and not anchor.is_dir():
            raise ValueError(f"{option} {str(path)!r} is an existing file, not a folder")
        if not anchor.is_dir() or not os.access(anchor, os.W_OK | os.X_OK):
            raise ValueError(f"{option} {str(path)!r} is not a writable folder ({str(anchor)!r} "
                             "cannot be written)")
        return path
    try:
        if path.exists() and not path.is_dir():
            raise ValueError(f"{option} {str(path)!r} is an existing file, not a folder")
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test.{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ValueError(f"{option} {str(path)!r} is not a writable folder "
                         f"({exc.strerror or type(exc).__name__})") from None
    return path


@contextlib.contextmanager
def _locked(out: Path):
    """Hold an exclusive lock on ``out/.lock``; ``ValueError`` if another sweep holds it."""
    fh = open(out / ".lock", "a+")
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise ValueError(f"another sweep is running into {str(out)!r} (it holds "
                                 f"{str(out / '.lock')!r}); wait for it to finish or use another "
                                 "--out") from None
            raise
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        yield
    finally:
        fh.close()  # releases the lock


def _seed_pair(seed) -> list:
    """``[entropy, spawn_key]`` of a seed (JSON-ready; inverse :func:`_from_pair`)."""
    ss = seed_sequence(seed)
    return [int(ss.entropy), [int(k) for k in ss.spawn_key]]


def _from_pair(pair) -> np.random.SeedSequence:
    return np.random.SeedSequence(int(pair[0]), spawn_key=tuple(pair[1]))


def _say(progress, line: str) -> None:
    if callable(progress):
        progress(line)
    elif progress:
        print(line, file=sys.stderr, flush=True)


def _execute(tasks, out: Path, scheduler, n_workers, processes, progress, on_cell):
    """Run ``tasks`` = [(cell_id, cell, seed_pair)] not yet saved under ``out/cells``; return records."""
    cells_dir = out / "cells"
    cells_dir.mkdir(parents=True, exist_ok=True)
    for stray in cells_dir.glob(".*.tmp"):
        stray.unlink(missing_ok=True)
    done = _load_done(cells_dir, tasks)
    todo = [t for t in tasks if t[0] not in done]
    n_total = len(tasks)
    t0 = time.time()
    _say(progress, f"sweep: {n_total} cells, {len(done)} already done, {len(todo)} to run")
    address = None
    if todo:
        with _client(scheduler, n_workers, processes) as client:
            from distributed import as_completed

            address = client.scheduler.address
            futures = {client.submit(run_cell, cell, seed, key=f"rmthess-cell-{cid}", pure=False):
                       cid for cid, cell, seed in todo}
            try:
                for fut in as_completed(futures):
                    try:
                        rec = fut.result()
                    except (OSError, TimeoutError, concurrent.futures.CancelledError) as exc:
                        raise ConnectionError(
                            f"lost the Dask cluster ({type(exc).__name__}: {exc}); the {len(done)} "
                            f"completed cells are saved under {str(cells_dir)!r}: run the sweep "
                            "again to resume") from None
                    cid = futures[fut]
                    rec["cell_id"] = cid
                    _atomic_write(cells_dir / f"{cid}.json", _cell_text(rec))
                    done[cid] = rec
                    _say(progress, f"[{len(done)}/{n_total}] {cid} {rec['case']} d={rec['d']} "
                                   f"gamma={rec['gamma']:g} C={rec['classes']} "
                                   f"design={rec['design']} done ({time.time() - t0:.1f} s)")
                    if on_cell is not None:
                        on_cell(rec)
            finally:
                for fut in futures:
                    if not fut.done():
                        fut.cancel()
    recs = [done[cid] for cid, _, _ in tasks]
    rows = [r for rec in recs for r in _rows(rec)]
    _atomic_write(out / "results.csv", _csv_text(rows))
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        pass
    else:
        tmp = out / f".results.parquet.{os.getpid()}.tmp"
        pq.write_table(pa.Table.from_pylist(rows), str(tmp))
        os.replace(tmp, out / "results.parquet")
    return recs, rows, address, time.time() - t0


def run_sweep(config, out_dir=None, scheduler=None, n_workers=None, *, seeds=None, workdir=None,
              processes: bool = True, progress=True, on_cell=None):
    r"""Run (or resume) a sweep on Dask.

    Two forms:

    * ``run_sweep(config, out_dir, scheduler=None, n_workers=None)`` with a TOML path or dict
      (module docstring): returns the rows of the tidy table (list of dicts, ``SWEEP_COLUMNS``);
    * ``run_sweep(cells, seeds=seeds, workdir=DIR, scheduler=None)`` with a list of
      :func:`rmthess.montecarlo.simulate` keyword dicts (``case`` included) and one seed per cell:
      returns the list of :class:`~rmthess.montecarlo.SimulationResult`, in order.

    Parameters
    ----------
    config : path, dict or list of dict
        The sweep configuration, or explicit cells.
    out_dir, workdir : path
        Output folder (``workdir`` is an alias): ``cells/``, ``results.csv`` (+ ``.parquet``),
        ``sweep.json``.
    scheduler : str, optional
        Address of an existing Dask scheduler; default a local cluster started here.
    n_workers : int, optional
        Workers of the local cluster (default: the number of CPUs).
    seeds : list, optional
        Explicit cells only: one seed (int or ``SeedSequence``) per cell (default: derived from
        each cell's identity under seed 0).
    processes : bool
        Local cluster of processes (default) or of threads in this process.
    progress : bool or callable
        Print one line per completed cell to stderr, or pass each line to this callable.
    on_cell : callable, optional
        Called with each completed cell's record after it is saved.

    Notes
    -----
    A cell already saved in ``out_dir/cells`` with the same identity and seed is not recomputed. On
    an interruption every completed cell is on disk and the table is not written. A cell's numbers
    depend only on its parameters and seed, never on the number of workers.
    """
    if out_dir is None:
        out_dir = workdir
    if out_dir is None:
        raise ValueError("run_sweep needs an output folder (out_dir)")
    out = prepare_out(out_dir)
    if n_workers is not None and (isinstance(n_workers, bool) or int(n_workers) < 1):
        raise ValueError(f"n_workers must be >= 1, got {n_workers!r}")
    explicit = isinstance(config, (list, tuple))
    if explicit:
        cells = [dict(c) for c in config]
        for c in cells:
            if "case" not in c:
                raise ValueError(f"every cell needs a case: {c!r}")
        if not cells:
            raise ValueError("run_sweep got an empty list of cells")
        if seeds is None:
            seeds = [cell_seed(0, c) for c in cells]
        if len(seeds) != len(cells):
            raise ValueError(f"{len(seeds)} seeds for {len(cells)} cells")
        pairs = [_seed_pair(s) for s in seeds]
        cfg = {"cells": cells}
        seed = None
    else:
        if seeds is not None:
            raise ValueError("seeds applies to explicit cells only; a configuration has a seed")
        cfg = load_config(config)
        seed = int(cfg.get("seed", 0))
        cells = expand_grid(cfg)
        pairs = [_seed_pair(cell_seed(seed, c)) for c in cells]
    tasks = [(cell_id(c, _from_pair(p)), c, p)
             for c, p in zip(cells, pairs)]
    with _locked(out):
        recs, rows, address, wall = _execute(tasks, out, scheduler, n_workers, processes, progress,
                                             on_cell)
        _write_record(out, cfg, seed, tasks, scheduler, n_workers, address, wall)
    if explicit:
        from rmthess.montecarlo.simulation import SimulationResult
        return [SimulationResult.from_dict(r) for r in recs]
    return rows


def _write_record(out, cfg, seed, tasks, scheduler, n_workers, address, wall) -> None:
    record = {
        "config": cfg, "seed": seed, "n_cells": len(tasks),
        "cells": [{"cell_id": cid, **c, "seed_entropy": p[0], "seed_spawn_key": p[1]}
                  for cid, c, p in tasks],
        "versions": _versions(), "scheduler": scheduler, "n_workers": n_workers,
        "scheduler_address_used": address,
        "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "wall_s": wall,
    }
    _atomic_write(out / "sweep.json", json.dumps(record, indent=2, default=str))
