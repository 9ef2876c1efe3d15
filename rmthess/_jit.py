"""The one local numba decorator used by every kernel module.

Kernels are written once, in plain Python that numba compiles; :func:`interpreted` gives the same
function uncompiled (its twin, for tests, coverage and debugging). Kernels are compiled with
``cache=True`` (the compiled code is stored next to the module, so only the first call on a machine
pays the compile time) and ``error_model="numpy"`` (division by zero gives inf/nan as in numpy
instead of raising, so no hidden branch costs time in hot loops). Kernels never own a random
generator: they receive random draws as arrays.

Compilation (or loading from the cache) happens once per process, at a kernel's first call, and
takes seconds on a fresh install. Time budgets (``max_time``) and the projections that keep them
measure work, not that start-up: :func:`steady_clock` is ``time.perf_counter()`` less the time
numba has spent compiling in this process.
"""

from __future__ import annotations

import time

import numba
from numba.core import event as _event

__all__ = ["jit", "parallel_jit", "prange", "interpreted", "steady_clock"]

prange = numba.prange


class _CompileClock(_event.Listener):
    """Sums the time between the outermost start and end of numba's ``"numba:compile"`` events
    (nested compilations of callees count once)."""

    def __init__(self):
        self.depth, self.total, self.start = 0, 0.0, 0.0

    def on_start(self, event):
        if self.depth == 0:
            self.start = time.perf_counter()
        self.depth += 1

    def on_end(self, event):
        self.depth -= 1
        if self.depth == 0:
            self.total += time.perf_counter() - self.start


_COMPILING = _CompileClock()
_event.register("numba:compile", _COMPILING)


def steady_clock() -> float:
    """Seconds of ``time.perf_counter()`` less those numba spent compiling in this process (a
    compilation under way counts up to now): the clock of time budgets."""
    now = time.perf_counter()
    running = now - _COMPILING.start if _COMPILING.depth else 0.0
    return now - _COMPILING.total - running


def jit(*args, **kwargs):
    """``numba.njit`` with ``cache=True`` and ``error_model="numpy"`` (overridable)."""
    kwargs.setdefault("cache", True)
    kwargs.setdefault("error_model", "numpy")
    return numba.njit(*args, **kwargs)


def parallel_jit(*args, **kwargs):
    """:func:`jit` with ``parallel=True`` for kernels whose outer loop is a ``prange``."""
    kwargs.setdefault("parallel", True)
    return jit(*args, **kwargs)


def interpreted(kernel):
    """The plain-Python function a :func:`jit` kernel was compiled from (the kernel itself when
    compilation is disabled with ``NUMBA_DISABLE_JIT=1``)."""
    return getattr(kernel, "py_func", kernel)
