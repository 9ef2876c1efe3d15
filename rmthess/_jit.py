"""The one local numba decorator used by every kernel module.

Kernels are written once, in plain Python that numba compiles; :func:`interpreted` gives the same
function uncompiled (its twin, for tests, coverage and debugging). Kernels are compiled with
``cache=True`` (the compiled code is stored next to the module, so only the first call on a machine
pays the compile time) and ``error_model="numpy"`` (division by zero gives inf/nan as in numpy
instead of raising, so no hidden branch costs time in hot loops). Kernels never own a random
generator: they receive random draws as arrays.
"""

from __future__ import annotations

import numba

__all__ = ["jit", "parallel_jit", "prange", "interpreted"]

prange = numba.prange


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
