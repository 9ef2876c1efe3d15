r"""What a sweep stores: one file per cell, the tidy table, the record, and the folder's lock.

Each completed cell is written at once to ``cells/<id>.json`` through a temporary file and
``os.replace`` (never a half-written file), so an interrupted sweep loses no completed cell. Each
cell file carries the SHA-256 checksum of its content and the hash of the code that computed it
(:func:`rmthess._codehash.code_hash`): a cell that cannot be read, whose checksum does not match (a
corrupt or edited file; a warning names it) or that another version of the code computed is
recomputed, never reused. The results are a tidy table ``results.csv`` (and ``results.parquet`` when
pyarrow is installed) with one row per cell and block type (:data:`SWEEP_COLUMNS`), and
``sweep.json``, the record of parameters, cells, seeds and package versions.

A sweep holds an exclusive lock on ``<out>/.lock`` while it runs (:func:`locked`): a second sweep
into the same folder is refused at once (instead of duplicating work and racing on the files), and
temporary files are only ever cleaned up by the run that holds the lock.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import math
import os
import platform
import time
import warnings
from pathlib import Path

from rmthess._codehash import code_hash

__all__ = ["SWEEP_COLUMNS", "read_table", "prepare_out", "locked", "atomic_write", "cell_text",
           "load_done", "write_tables", "write_record", "CODE_FIELD"]

#: columns of the tidy result table, in order
SWEEP_COLUMNS = (
    "cell_id", "case", "d", "n_samples", "gamma", "classes", "m", "sigma_v", "design", "t", "reps",
    "block", "ratio", "stderr", "prediction", "prediction_stderr", "limit", "limit_stderr",
    "z_prediction", "z_limit", "diag", "diag_stderr", "offdiag", "offdiag_stderr",
    "diag_prediction", "offdiag_prediction",
)


#: field of a cell record that holds the hash of the code that computed it
CODE_FIELD = "code_sha256"


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and ``os.replace`` (all or nothing)."""
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


def cell_text(rec: dict) -> str:
    """The JSON text of a cell record, with its checksum."""
    return json.dumps({**rec, "sha256": _checksum(rec)})


def load_done(cells_dir: Path, tasks: list) -> tuple[dict, int]:
    """The saved cells of ``tasks`` that are intact and were computed by this code.

    Returns ``({cell_id: record}, n_stale)``: a damaged file is left to be recomputed, with a
    warning; a record of another code version (:func:`rmthess._codehash.code_hash`, none in files
    written before it was recorded) is recomputed too, and counted in ``n_stale``.
    """
    done, stale, code = {}, 0, code_hash()
    for cid, cell, _seed in tasks:
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
                          "recomputing it", RuntimeWarning, stacklevel=4)
            continue
        if rec.get("cell") != cell or rec.get("cell_id") != cid:
            continue
        if rec.get(CODE_FIELD) != code:
            stale += 1
            continue
        done[cid] = rec
    return done, stale


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


def write_tables(out: Path, recs: list[dict]) -> list[dict]:
    """Write the tidy table of ``recs`` to ``out/results.csv`` (and ``results.parquet`` when pyarrow
    is installed), atomically; return its rows."""
    rows = [r for rec in recs for r in _rows(rec)]
    atomic_write(out / "results.csv", _csv_text(rows))
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        pass
    else:
        tmp = out / f".results.parquet.{os.getpid()}.tmp"
        pq.write_table(pa.Table.from_pylist(rows), str(tmp))
        os.replace(tmp, out / "results.parquet")
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


def prepare_out(out, option: str = "--out", *, create: bool = True) -> Path:
    """Create the output folder ``out`` if needed and check that files can be written in it.

    ``ValueError`` naming ``option`` when ``out`` is empty, is a file, cannot be created
    (permissions, a name too long, a read-only file system) or is not writable — before any
    computation starts. With ``create=False`` nothing is created: only the checks that need no
    writing are made (a name too long, an existing file, the nearest existing folder not writable).
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
def locked(out: Path):
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


def write_record(out, cfg, seed, tasks, scheduler, n_workers, address, wall) -> None:
    """Write ``out/sweep.json``: configuration, cells with their seeds, versions, cluster, time
    (the JSON schema of :mod:`rmthess._schema`)."""
    from rmthess._schema import envelope
    from rmthess.montecarlo.sweep.grid import seed_pair

    record = envelope("sweep", {
        "config": cfg, "seed": seed if seed is None or isinstance(seed, int) else seed_pair(seed),
        "n_cells": len(tasks),
        "cells": [{"cell_id": cid, **c, "seed_entropy": p[0], "seed_spawn_key": p[1]}
                  for cid, c, p in tasks],
        "versions": _versions(), CODE_FIELD: code_hash(), "scheduler": scheduler,
        "n_workers": n_workers,
        "scheduler_address_used": address,
        "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "wall_s": wall,
    })
    atomic_write(out / "sweep.json", json.dumps(record, indent=2, default=str))
