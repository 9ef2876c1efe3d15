r"""Run the registered checks and collect one :class:`VerificationResult`.

The runner times each check, runs it with the package's BLAS thread policy (many small
eigenproblems, one thread unless the user chose otherwise: see :mod:`rmthess._threads`) — at size
``quick`` in up to two processes side by side, one per available core —, prints progress, gives
each check its own seed (:func:`rmthess.verify.base.check_seed`) and turns an exception inside a
check into a failing row (so that a broken part of the package shows up in the table instead of
hiding the rest).

Examples
--------
>>> from rmthess.verify.runner import VerificationResult
>>> VerificationResult(size="tiny", seed=0).passed
True
"""

from __future__ import annotations

import hashlib
import os
import pickle
import platform
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from rmthess._threads import blas_threads
from rmthess._validate import rng_argument, seed_sequence
from rmthess.verify.base import CHECKS, CheckContext, check_seed, get_check
from rmthess.verify.rules import CheckRow

__all__ = ["VerificationResult", "run_verification", "package_versions"]


@dataclass
class VerificationResult:
    """Everything ``rmthess verify`` computed: rows, figure data, timings, seeds and versions."""

    size: str
    seed: int | list | dict | None
    rows: list = field(default_factory=list)
    figures: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    cpu_timings: dict = field(default_factory=dict)
    checks: list = field(default_factory=list)
    seeds: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    started: str = ""
    wall_seconds: float = 0.0
    figure_seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """True iff every row passed and no check raised."""
        return not self.errors and all(r.passed for r in self.rows)

    @property
    def n_failed(self) -> int:
        """Number of rows that do not pass (inconsistent or LOW POWER)."""
        return sum(not r.passed for r in self.rows)

    @property
    def n_low_power(self) -> int:
        """Number of consistent rows whose MDE exceeds their target."""
        return sum(r.consistent and not r.power_ok for r in self.rows)


def package_versions() -> dict:
    """Versions of Python, the platform and the numerical libraries in use."""
    import importlib.metadata as md

    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in ("rmthess", "numpy", "scipy", "mpmath", "sympy", "numba", "matplotlib", "dask",
                 "distributed"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = None
    return out


def _merge(into: dict, figures: dict) -> None:
    for key, val in figures.items():
        if isinstance(val, list):
            into.setdefault(key, []).extend(val)
        elif isinstance(val, dict):
            into.setdefault(key, {}).update(val)
        else:
            into[key] = val


def _cache_path(workdir, name: str, size: str, seed) -> Path:
    """Where a completed check is stored: keyed on the check, its size and root seed, and the code
    that computes it (:func:`rmthess._codehash.code_hash`), so no other code's result is reused."""
    import rmthess
    from rmthess._codehash import code_hash

    key = (f"{name}|{size}|{seed.entropy}|{tuple(seed.spawn_key)}|{rmthess.__version__}|"
           f"{code_hash()}")
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return Path(workdir) / "checks" / f"{name}-{digest}.pkl"


def _load_cached(path: Path):
    try:
        with open(path, "rb") as fh:
            return pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
        return None


def _save_cached(path: Path, out) -> None:
    """Write atomically: a killed run never leaves a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    with open(tmp, "wb") as fh:
        pickle.dump(out, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)


def _quick_workers(n_checks: int) -> int:
    """Processes for the ``quick`` checks: one per available core, at most 2 and at most one per
    check (the checks are independent and each has its own seed, so the numbers do not depend on
    how they are spread)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:                     # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(2, cores, n_checks))


def _run_check(name, size, sseq, scheduler, workdir, progress):
    """Run one check under the BLAS thread policy: ``(output or None, error or None, wall s, CPU
    s)``; an exception inside the check is returned as its one-line text."""
    import rmthess.verify.checks  # noqa: F401  (registers the checks, also in a worker process)

    check = get_check(name)
    ctx = CheckContext(size=size, seed=sseq, progress=progress, scheduler=scheduler,
                       workdir=workdir)
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        with blas_threads():  # many small eigenproblems: one thread (rmthess._threads)
            out, err = check.run(ctx), None
    except Exception as exc:  # a broken part of the package must show up as a failure
        out, err = None, "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return out, err, time.perf_counter() - t0, time.process_time() - c0


def _silent(_msg):
    return None


def _run_in_worker(name, size, sseq):
    """:func:`_run_check` in a worker process (no progress: the parent reports start and end)."""
    return _run_check(name, size, sseq, None, None, _silent)


def run_verification(size: str = "quick", rng=0, *, checks=None, progress=None,
                     scheduler: str | None = None, workdir=None, seed=None,
                     workers=None) -> VerificationResult:
    """Run the checks (all registered ones by default) at size level ``size``.

    Parameters
    ----------
    size : {"tiny", "quick", "full"}
        Problem sizes.
    rng : int, sequence of int, SeedSequence or Generator
        Root of every check's seed (anything :func:`numpy.random.default_rng` accepts); the same
        int reproduces every number, a Generator advances.
    checks : sequence of str, optional
        Names of the checks to run (registry order is kept).
    progress : callable, optional
        ``progress(message)``; default silent.
    scheduler : str, optional
        Dask scheduler address for ``--full``.
    workdir : path, optional
        Folder for resumable state. At size ``full`` every completed check is stored there
        (atomically) and a later run with the same size and seed, by the same code (the hash of the
        package's source, :mod:`rmthess._codehash`), reuses it, so an interrupted ``--full``
        resumes; the Monte Carlo sweeps keep their own completed cells there.
    seed : optional
        Deprecated alias of ``rng``.
    workers : int, optional
        Processes that run checks side by side. Default: at size ``quick`` one per available
        core (at most 2); at ``tiny`` and ``full`` one (``full`` spreads its Monte Carlo over
        Dask instead). Every check has its own seed, so the numbers are the same for any value.
    """
    import scipy.linalg  # noqa: F401  (scipy's BLAS loaded before the thread limits are set)

    import rmthess.verify.checks  # noqa: F401  (registers the checks)

    progress = progress or (lambda _m: None)
    root = seed_sequence(rng_argument(rng, seed, "run_verification"))
    seed = root.entropy if not root.spawn_key else {"entropy": root.entropy,
                                                     "spawn_key": list(root.spawn_key)}
    names = list(CHECKS) if checks is None else [n for n in CHECKS if n in set(checks)]
    if checks is not None:
        unknown = set(checks) - set(CHECKS)
        if unknown:
            get_check(sorted(unknown)[0])  # raises ValueError listing valid names
    result = VerificationResult(size=size, seed=seed, checks=names, versions=package_versions(),
                                started=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    if workers is None:
        workers = _quick_workers(len(names)) if size == "quick" else 1
    seeds = {name: check_seed(root, name) for name in names}
    for name, sseq in seeds.items():
        result.seeds[name] = {"entropy": str(sseq.entropy), "spawn_key": list(sseq.spawn_key)}

    def teller(name):
        k = names.index(name) + 1
        return lambda msg: progress(f"[{k}/{len(names)}] {name}: {msg}")

    t_all = time.perf_counter()
    done = {}
    if workers > 1 and len(names) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        # a fresh interpreter per worker (numba and BLAS threads do not survive a fork)
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            futures = {}
            for name in names:
                teller(name)("start")
                futures[pool.submit(_run_in_worker, name, size, seeds[name])] = name
            for fut in as_completed(futures):
                name = futures[fut]
                done[name] = fut.result()
                _report(result, name, done[name], teller(name))
    else:
        for name in names:
            tell = teller(name)
            tell("start")
            cache = _cache_path(workdir, name, size, root) if (workdir and size == "full") \
                else None
            out = _load_cached(cache) if cache is not None and cache.exists() else None
            if out is not None:
                tell("completed in an earlier run: reused")
                done[name] = (out, None, 0.0, 0.0)
            else:
                done[name] = _run_check(name, size, seeds[name], scheduler, workdir, tell)
                if cache is not None and done[name][0] is not None:
                    _save_cached(cache, done[name][0])
            _report(result, name, done[name], tell)
    for name in names:                         # rows in registry order, however they finished
        out, err, _, _ = done[name]
        if err is not None:
            result.rows.append(CheckRow(f"{get_check(name).title} (check raised)", {}, None, None,
                                        None, None, None, 0.0, False, "error", err, name))
        else:
            result.rows.extend(r.with_check(name) for r in out.rows)
            _merge(result.figures, out.figures)
            result.notes[name] = list(out.notes)
    result.wall_seconds = time.perf_counter() - t_all
    return result


def _report(result, name, outcome, tell):
    """Record a finished check's timings and error, and tell its summary."""
    out, err, dt, cpu = outcome
    result.timings[name] = dt
    result.cpu_timings[name] = cpu
    if err is not None:
        result.errors[name] = err
        tell(f"ERROR {err}")
        return
    bad = sum(not r.consistent for r in out.rows)
    low = sum(r.consistent and not r.power_ok for r in out.rows)
    tell(f"{len(out.rows)} rows, {bad} failed, {low} low power, {dt:.1f} s ({cpu:.1f} s CPU)")
