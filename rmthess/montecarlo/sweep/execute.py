r"""Running a sweep: cells as tasks on a ``dask.distributed`` cluster, each saved as it completes.

Cells run as tasks on a ``dask.distributed`` cluster (a local one by default, or an existing
scheduler, probed first so that a wrong address fails fast with one line). Each completed cell is
saved at once (:mod:`rmthess.montecarlo.sweep.storage`), so an interrupted sweep (Ctrl-C, a killed
worker or client) loses no completed cell, and running it again skips them. Two entry points:

* :func:`run_sweep` — a configuration (:mod:`rmthess.montecarlo.sweep.config`) expanded to its grid
  (:mod:`rmthess.montecarlo.sweep.grid`); returns the rows of the tidy table;
* :func:`run_cells` — explicit :func:`rmthess.montecarlo.simulate` keyword dicts with one seed each;
  returns their :class:`~rmthess.montecarlo.SimulationResult` list.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import os
import signal
import sys
import time
from pathlib import Path

from rmthess._codehash import code_hash
from rmthess._validate import seed_sequence
from rmthess.montecarlo.sweep.config import load_config
from rmthess.montecarlo.sweep.grid import cell_id, cell_seed, expand_grid, from_pair, seed_pair
from rmthess.montecarlo.sweep.storage import (
    CODE_FIELD,
    atomic_write,
    cell_text,
    load_done,
    locked,
    prepare_out,
    write_record,
    write_tables,
)

__all__ = ["run_sweep", "run_cells", "run_cell", "connect", "check_scheduler", "CONNECT_TIMEOUT"]

#: seconds to wait for an existing scheduler before giving up
CONNECT_TIMEOUT = 3


def _probe(scheduler: str) -> None:
    """Check within ``CONNECT_TIMEOUT`` seconds that a TCP address speaks the Dask protocol.

    A Dask server sends its handshake (a msgpack map naming ``compression`` and ``python``) as soon
    as a connection opens; a silent server, an HTTP or SSH server, or nothing listening is refused
    here with one line, instead of a hang or a huge allocation inside the Dask client. Addresses of
    other schemes (tls://, ucx://, …) are left to the client.
    """
    import socket

    if not isinstance(scheduler, str) or not scheduler.strip():
        raise ValueError("--scheduler must be an address such as tcp://host:8786, got "
                         f"{scheduler!r}")
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
            raise ValueError(f"the server at {scheduler!r} sent nothing within "
                             f"{CONNECT_TIMEOUT} s: it is not a Dask scheduler") from None
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
    # no dashboard; the scheduler's HTTP server (health, metrics) on a free port instead of 8787,
    # which another program or cluster may hold
    kwargs = dict(n_workers=n, threads_per_worker=1, processes=processes, dashboard_address=None,
                  scheduler_kwargs={"dashboard_address": ":0"}, silence_logs=logging.ERROR)
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


#: the command that installs the optional Dask dependency of the sweeps
INSTALL_DISTRIBUTED = "pip install 'rmthess[distributed]'"


def require_distributed() -> None:
    """``ValueError`` naming the install command unless Dask's distributed scheduler can be
    imported (checked before a sweep writes anything)."""
    import importlib.util

    for name in ("dask", "distributed"):
        if importlib.util.find_spec(name) is None:
            raise ValueError(f"the sweeps need dask.distributed, which is not installed: "
                             f"{INSTALL_DISTRIBUTED}")


def _say(progress, line: str) -> None:
    if callable(progress):
        progress(line)
    elif progress:
        print(line, file=sys.stderr, flush=True)


def run_cell(cell: dict, seed) -> dict:
    """Simulate one cell (the task shipped to a worker); return ``SimulationResult.to_dict()``.

    ``cell`` holds :func:`rmthess.montecarlo.simulate` keyword arguments (``case`` included);
    ``seed`` is ``[entropy, spawn_key]`` or anything :func:`rmthess._validate.seed_sequence`
    accepts. The record holds the hash of the code that computed it (:data:`CODE_FIELD`).
    """
    from rmthess.montecarlo.simulation import simulate

    if isinstance(seed, (list, tuple)):
        seed = from_pair(seed)
    kw = {k: v for k, v in cell.items() if v is not None or k in ("m", "t")}
    case = kw.pop("case")
    res = simulate(case, rng=seed, **kw)
    out = res.to_dict()
    out["cell"] = cell
    out[CODE_FIELD] = code_hash()  # of the code that ran the cell, wherever it ran
    return out


def _execute(tasks, out: Path, scheduler, n_workers, processes, progress, on_cell):
    """Run the ``tasks`` = [(cell_id, cell, seed_pair)] not yet saved under ``out/cells``; return
    their records in order, the scheduler address used and the wall time."""
    cells_dir = out / "cells"
    cells_dir.mkdir(parents=True, exist_ok=True)
    for stray in cells_dir.glob(".*.tmp"):
        stray.unlink(missing_ok=True)
    done, stale = load_done(cells_dir, tasks)
    todo = [t for t in tasks if t[0] not in done]
    n_total = len(tasks)
    t0 = time.time()
    _say(progress, f"sweep: {n_total} cells, {len(done)} already done, {len(todo)} to run"
                   + (f" ({stale} saved by another version of the code)" if stale else ""))
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
                    atomic_write(cells_dir / f"{cid}.json", cell_text(rec))
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
    return [done[cid] for cid, _, _ in tasks], address, t0


def _prepare(out_dir, n_workers) -> Path:
    """The checks of Dask, the output folder and the worker count, before any other work."""
    require_distributed()                       # before anything is written
    out = prepare_out(out_dir)
    if n_workers is not None and (isinstance(n_workers, bool) or int(n_workers) < 1):
        raise ValueError(f"n_workers must be >= 1, got {n_workers!r}")
    return out


def _run(cells, pairs, out, cfg, seed, scheduler, n_workers, processes, progress, on_cell):
    """Lock the output folder, run the cells not yet saved, write the table and the record."""
    tasks = [(cell_id(c, from_pair(p)), c, p) for c, p in zip(cells, pairs, strict=True)]
    with locked(out):
        recs, address, t0 = _execute(tasks, out, scheduler, n_workers, processes, progress,
                                     on_cell)
        rows = write_tables(out, recs)
        write_record(out, cfg, seed, tasks, scheduler, n_workers, address, time.time() - t0)
    return recs, rows


def run_sweep(config, out_dir, scheduler=None, n_workers=None, *, processes: bool = True,
              progress=True, on_cell=None, rng=None) -> list[dict]:
    r"""Run (or resume) the sweep of a configuration on Dask; return the rows of its tidy table.

    Parameters
    ----------
    config : path or dict
        The sweep configuration: a TOML file or its dict (:mod:`rmthess.montecarlo.sweep.config`).
        Explicit cells with one seed each go to :func:`run_cells`.
    out_dir : path
        Output folder: ``cells/``, ``results.csv`` (+ ``.parquet``), ``sweep.json``.
    scheduler : str, optional
        Address of an existing Dask scheduler; default a local cluster started here.
    n_workers : int, optional
        Workers of the local cluster (default: the number of CPUs).
    processes : bool
        Local cluster of processes (default) or of threads in this process.
    progress : bool or callable
        Print one line per completed cell to stderr, or pass each line to this callable.
    on_cell : callable, optional
        Called with each completed cell's record after it is saved.
    rng : int, sequence of int, SeedSequence or Generator, optional
        The root seed, in place of the configuration's ``seed`` (anything
        :func:`numpy.random.default_rng` accepts; a Generator advances).

    Returns
    -------
    list of dict
        The rows of ``results.csv`` (keys :data:`~rmthess.montecarlo.sweep.SWEEP_COLUMNS`).

    Notes
    -----
    A cell already saved in ``out_dir/cells`` with the same identity and seed, by the same code, is
    not recomputed. On an interruption every completed cell is on disk and the table is not
    written. A cell's numbers depend only on its parameters and seed, never on the number of
    workers (theory/montecarlo.md, MC-21).
    """
    if isinstance(config, (list, tuple)):
        raise ValueError("run_sweep takes a sweep configuration (a TOML path or a dict); run "
                         "explicit cells with run_cells(cells, seeds, out_dir)")
    out = _prepare(out_dir, n_workers)
    cfg = load_config(config)
    seed = int(cfg.get("seed", 0)) if rng is None else seed_sequence(rng)
    cells = expand_grid(cfg)
    pairs = [seed_pair(cell_seed(seed, c)) for c in cells]
    _, rows = _run(cells, pairs, out, cfg, seed, scheduler, n_workers, processes, progress,
                   on_cell)
    return rows


def run_cells(cells, seeds, out_dir, *, scheduler=None, n_workers=None, processes: bool = True,
              progress=True, on_cell=None) -> list:
    r"""Run (or resume) explicit simulations on Dask; return their results in order.

    Parameters
    ----------
    cells : list of dict
        :func:`rmthess.montecarlo.simulate` keyword arguments, ``case`` included, ``seed`` not.
    seeds : list
        One seed per cell (an int, a ``SeedSequence`` or anything
        :func:`rmthess._validate.seed_sequence` accepts).
    out_dir : path
        Output folder, as for :func:`run_sweep` (``sweep.json`` records the cells as its
        configuration).
    scheduler, n_workers, processes, progress, on_cell
        As for :func:`run_sweep`.

    Returns
    -------
    list of SimulationResult
        What :func:`rmthess.montecarlo.simulate` returns for each cell and its seed.
    """
    from rmthess.montecarlo.result import SimulationResult

    if not isinstance(cells, (list, tuple)):
        raise ValueError("cells must be a list of simulate() keyword dicts, got "
                         f"{type(cells).__name__}; a sweep configuration goes to "
                         "run_sweep(config, out_dir)")
    out = _prepare(out_dir, n_workers)
    cells = [dict(c) for c in cells]
    for c in cells:
        if "case" not in c:
            raise ValueError(f"every cell needs a case: {c!r}")
    if not cells:
        raise ValueError("run_cells got an empty list of cells")
    seeds = list(seeds)
    if len(seeds) != len(cells):
        raise ValueError(f"{len(seeds)} seeds for {len(cells)} cells")
    pairs = [seed_pair(s) for s in seeds]
    recs, _ = _run(cells, pairs, out, {"cells": cells}, None, scheduler, n_workers, processes,
                   progress, on_cell)
    return [SimulationResult.from_dict(r) for r in recs]
