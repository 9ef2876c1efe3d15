"""Shared helpers of the distance-to-the-limit benchmarks run by ``benchmarks/run_all.py``.

The machine's own limits are measured in the same run as the paths compared with them:

* :func:`dgemm_rate` — the DGEMM rate (flop/s) of numpy's BLAS, at the thread count in force;
* :func:`memory_bandwidth` — the STREAM-copy bandwidth (bytes/s, read + write counted once each).

:func:`median_time` and :func:`process_cpu` time Python callables and whole processes;
:func:`competing_load` starts one busy-loop process per core for the duration of a ``with``
block, so that a path can be timed under contention beside its quiet time.
:func:`result` builds one row of the table (the registration interface of ``run_all.py``).
"""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
import sys
import time

import numpy as np

__all__ = [
    "result",
    "median_time",
    "process_cpu",
    "dgemm_rate",
    "memory_bandwidth",
    "competing_load",
]


def result(name, value, target, unit="×", sense="max", **detail):
    """One row of the table: ``value`` must be ≤ ``target`` (``sense="max"``) or ≥ it (``"min"``).

    ``detail`` carries the raw figures behind the ratio (seconds, rates, sizes); it goes to the JSON
    file as is (numbers and strings only).
    """
    if sense not in ("max", "min"):
        raise ValueError(f"sense must be 'max' or 'min', got {sense!r}")
    value = float(value)
    met = value <= target if sense == "max" else value >= target
    return {
        "name": str(name),
        "value": value,
        "target": float(target),
        "unit": str(unit),
        "sense": sense,
        "met": bool(met),
        "detail": detail,
    }


def median_time(fn, repeat=5, warmup=1, clock=time.perf_counter, min_seconds=0.0):
    """Median over calls of ``fn()`` (seconds of ``clock``), after ``warmup`` calls: ``repeat``
    calls, or more while their total is under ``min_seconds`` (short calls on a noisy machine)."""
    for _ in range(warmup):
        fn()
    times = []
    while len(times) < repeat or (sum(times) < min_seconds and len(times) < 1000):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return float(np.median(times))


def process_cpu(argv, repeat=5, env=None):
    """Median CPU seconds (user + system) of a child process ``argv`` (a list), and its output.

    The child's resource usage is read from ``wait4`` so that only that child is counted.
    """
    times, out = [], None
    for _ in range(repeat):
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        stdout, stderr = proc.stdout.read(), proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise RuntimeError(f"{argv} failed ({proc.returncode}): {stderr.decode()[-500:]}")
        times.append(usage.ru_utime + usage.ru_stime)
        out = stdout.decode()
    return float(np.median(times)), out


def dgemm_rate(n=2000, repeat=5, clock=time.perf_counter):
    """Best DGEMM rate (flop/s) of ``A @ B`` for n×n float64 matrices (2 n³ flops per product).

    ``clock=time.process_time`` measures one BLAS thread's rate by its own CPU time, which other
    processes on a shared machine do not inflate (use it with one thread only).
    """
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    c = np.empty((n, n))
    np.matmul(a, b, out=c)
    best = np.inf
    for _ in range(repeat):
        t0 = clock()
        np.matmul(a, b, out=c)
        best = min(best, clock() - t0)
    return 2.0 * n**3 / best


def memory_bandwidth(mbytes=256, repeat=5, clock=time.process_time):
    """Best STREAM-copy bandwidth (bytes/s): 2 × the array size moved per ``np.copyto``.

    The copy runs on one thread, so its CPU time (the default clock) is not inflated by the other
    users of a shared machine.
    """
    n = mbytes * 2**20 // 8
    a = np.ones(n)
    b = np.empty(n)
    np.copyto(b, a)
    best = np.inf
    for _ in range(repeat):
        t0 = clock()
        np.copyto(b, a)
        best = min(best, clock() - t0)
    return 2.0 * a.nbytes / best


_BUSY = "import os\nos.nice(0)\nwhile True:\n    pass\n"


@contextlib.contextmanager
def competing_load(processes=None):
    """One busy-loop Python process per core (``os.cpu_count()``) while the block runs."""
    count = processes if processes is not None else (os.cpu_count() or 1)
    procs = [subprocess.Popen([sys.executable, "-c", _BUSY]) for _ in range(count)]
    try:
        time.sleep(0.2)  # let the scheduler see them
        yield count
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()


def peak_rss_bytes():
    """Peak resident set size of this process so far (bytes; Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
