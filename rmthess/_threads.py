r"""The package's BLAS thread policy: one place that decides how many threads BLAS may use.

A threaded BLAS splits every product over all cores and waits for its slowest thread. On a machine
that is busy with other work (a shared server, a laptop running anything else) the threads are
descheduled in turn and each call waits for them: measured on 2 cores with one busy process per
core, two OpenBLAS threads made a 300×300 ``eigvalsh`` 120× slower than one thread (4.3 s against
36 ms), a batch of eight Hessian-vector products at d = 200 35× slower (8.3 s against 0.24 s) and a
dense Hessian with P = 2400 3× slower (13.7 s against 4.3 s) — and two threads were slower than one
even without the added load, since the other users of the machine kept both cores busy
(``benchmarks/ratio_threads.py`` measures it again, with and without a competing load).

The policy, applied by :func:`blas_threads` around the package's BLAS-heavy work:

1. the user's choice, first: :func:`set_blas_threads` (``n`` threads, or ``0`` to leave BLAS as
   it is), else the environment variable ``RMTHESS_BLAS_THREADS`` (same meaning);
   ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS`` or ``OMP_NUM_THREADS`` in the environment also
   count as a choice: BLAS is then left as the user set it;
2. otherwise, for work of fewer than :data:`PARALLEL_FLOPS` operations — a few Hessian-vector
   products, the checks of ``rmthess verify``, small Monte Carlo sizes — one thread: such work never
   gains enough from threads to pay for one wait;
3. for larger work (a dense Hessian with 2 N P² ≥ 10¹⁰, e.g. N = 2000 and P = 1600; a batch of
   products of a large model), as many threads as there are idle cores: the usable cores
   (``os.sched_getaffinity``) less the load of the other processes (the 1-minute load average less
   this process's own running thread), at least one. Idle BLAS threads spin for a while after
   each call, taking CPU from the process's own single-threaded work, so on a machine without idle
   cores one thread is faster even for the largest products (the dense Hessian above). Work made
   of many mid-sized products uses the threads itself instead: the dense Hessian runs its
   independent tasks on that many Python threads, each with a one-thread BLAS
   (:func:`blas_limit`; ``rmthess.networks.hessian``).

The thread count changes the order of floating-point sums only: results agree to round-off.
The limits are set through ``threadpoolctl`` (every BLAS loaded in the process: numpy's and scipy's
OpenBLAS, MKL, BLIS) and restored when the ``with`` block ends.

The command line starts its process's BLAS with one thread (:func:`single_thread_start`): OpenBLAS
starts its whole thread pool when it is loaded, and on 2 cores that start cost ≈ 50 ms of CPU per
library (numpy's, then scipy's), a third of a short command such as ``rmthess limits`` (measured:
``import numpy`` 0.14–0.15 s CPU, 0.10 s with one thread; ``benchmarks/ratio_coldstart.py``). The
start is no limit: ``threadpoolctl`` raises a pool started with one thread — measured with
OpenBLAS 0.3.31, a 2000×2000 product under a limit of 2 ran on two OS threads with half of the
CPU each — so rule 3 above still reaches the idle cores (``tests/test_threads.py`` checks it in a
fresh process). A user who set any of the variables of rule 1 starts BLAS as set.

Examples
--------
>>> import numpy as np
>>> from rmthess._threads import blas_threads, policy_threads, set_blas_threads
>>> with blas_threads():
...     float(np.linalg.eigvalsh(np.eye(3)).sum())
3.0
>>> set_blas_threads(3); policy_threads(), policy_threads(flops=1e15)
(3, 3)
>>> set_blas_threads(None)
"""

from __future__ import annotations

import contextlib
import math
import os
import sys

__all__ = ["blas_threads", "blas_limit", "set_blas_threads", "policy_threads",
           "single_thread_start", "ENV_VARIABLE", "USER_THREAD_VARIABLES", "START_VARIABLE",
           "PARALLEL_FLOPS"]

#: environment variable of the user's choice: a thread count, or 0 to leave BLAS alone
ENV_VARIABLE = "RMTHESS_BLAS_THREADS"
#: BLAS libraries' own variables: when one is set, the user has chosen and BLAS is left alone
USER_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")
#: one computation of at least this many flops may use the idle cores (≈ 0.3 s on one core)
PARALLEL_FLOPS = 1e10
#: set to "1" beside ``OPENBLAS_NUM_THREADS=1`` by :func:`single_thread_start` (and inherited by
#: the processes it starts): that value is the package's start, not the user's choice
START_VARIABLE = "RMTHESS_BLAS_START"

_choice: int | None = None          # set_blas_threads
_controller = None                  # (key, threadpoolctl.ThreadpoolController), built on first use


def set_blas_threads(n: int | None) -> None:
    """Fix the BLAS threads of the package's work: ``n ≥ 1`` threads, ``0`` to leave BLAS alone,
    ``None`` to return to the policy (or to ``RMTHESS_BLAS_THREADS`` when set)."""
    global _choice
    _choice = None if n is None else _check_count(n, "n")


def _check_count(n, name: str) -> int:
    try:
        value = int(n)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a non-negative integer, got {n!r}") from None
    if value != n or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {n!r}")
    return value


def _user_choice() -> int | None:
    if _choice is not None:
        return _choice
    text = os.environ.get(ENV_VARIABLE, "").strip()
    if text:
        try:
            return _check_count(float(text), ENV_VARIABLE)
        except ValueError:
            raise ValueError(f"{ENV_VARIABLE} must be a non-negative integer (0: leave BLAS "
                             f"alone), got {text!r}") from None
    started = os.environ.get(START_VARIABLE) == "1"
    if any(os.environ.get(name) and not (started and name == "OPENBLAS_NUM_THREADS")
           for name in USER_THREAD_VARIABLES):
        return 0
    return None


@contextlib.contextmanager
def single_thread_start():
    """Context manager for a process whose BLAS is not loaded yet (the command line): OpenBLAS
    loaded inside the block starts with one thread, unless the user chose threads (rule 1: any of
    :data:`USER_THREAD_VARIABLES` or :data:`ENV_VARIABLE` set). The variables it sets
    (``OPENBLAS_NUM_THREADS=1`` and :data:`START_VARIABLE`) are removed when the block ends; inside
    it they are inherited by child processes, whose policy then reads them as this start."""
    if ("numpy" in sys.modules or os.environ.get(ENV_VARIABLE, "").strip()
            or any(os.environ.get(name) for name in USER_THREAD_VARIABLES)):
        yield
        return
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    os.environ[START_VARIABLE] = "1"
    try:
        yield
    finally:
        os.environ.pop("OPENBLAS_NUM_THREADS", None)
        os.environ.pop(START_VARIABLE, None)


def _idle_cores() -> int:
    """Usable cores less the other processes' load (1-minute average), at least 1."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    try:
        others = max(0.0, os.getloadavg()[0] - 1.0)  # this process runs one thread already
    except OSError:  # pragma: no cover - no load average on this system
        return 1
    return max(1, min(cores, math.floor(cores - others + 0.5)))


def policy_threads(flops: float = 0.0) -> int:
    """The BLAS threads the policy gives to work of ``flops`` operations (0: leave BLAS alone)."""
    user = _user_choice()
    if user is not None:
        return user
    return _idle_cores() if flops >= PARALLEL_FLOPS else 1


def _limiter():
    """A threadpoolctl controller of the BLAS libraries loaded now (cached; rebuilt when scipy's
    BLAS has been loaded since)."""
    global _controller
    key = "scipy.linalg" in sys.modules
    if _controller is None or _controller[0] != key:
        import numpy  # noqa: F401  (loads numpy's BLAS)
        from threadpoolctl import ThreadpoolController

        _controller = (key, ThreadpoolController())
    return _controller[1]


@contextlib.contextmanager
def blas_limit(n: int):
    """Context manager: BLAS uses exactly ``n`` threads inside the block (for work that runs its
    own threads, each with a one-thread BLAS)."""
    with _limiter().limit(limits=n, user_api="blas"):
        yield


@contextlib.contextmanager
def blas_threads(flops: float = 0.0):
    """Context manager: BLAS uses :func:`policy_threads` ``(flops)`` threads inside the block."""
    n = policy_threads(flops)
    if n == 0:
        yield
        return
    with _limiter().limit(limits=n, user_api="blas"):
        yield
