"""Time budgets measure work, not numba's one-time compilation (``rmthess._jit.steady_clock``).

Oracle: ``time.perf_counter`` around a kernel compiled afresh in the test (``cache=False``), whose
compilation takes tens of milliseconds at least, and around ``time.sleep``.
"""

import time

import numpy as np

from rmthess._jit import jit, steady_clock
from rmthess.cases._estimate import run_to_rtol


def _fresh_kernel():
    """A kernel that no earlier call has compiled (a new function object each time)."""

    @jit(cache=False)
    def kernel(x):
        acc = 0.0
        for i in range(x.size):
            acc += np.sin(x[i]) * np.cos(x[i] * 0.5) + np.sqrt(abs(x[i]))
        return acc

    return kernel


def test_compilation_is_not_steady_time():
    kernel = _fresh_kernel()
    x = np.linspace(0.0, 1.0, 100)
    w0, s0 = time.perf_counter(), steady_clock()
    kernel(x)                                                      # compiles here
    wall, steady = time.perf_counter() - w0, steady_clock() - s0
    assert wall > 0.02 and steady < 0.25 * wall, (wall, steady)
    s0 = steady_clock()
    time.sleep(0.05)
    assert steady_clock() - s0 >= 0.045


def test_a_compiling_first_step_does_not_spend_the_budget():
    """The first step compiles a kernel; the budget is a third of what such a compilation takes
    and far above the work: the estimate reaches its target instead of refusing on the
    compilation's time (measured on perf_counter, it would stop after the first step)."""
    probe = _fresh_kernel()
    w0 = time.perf_counter()
    probe(np.ones(3))
    budget = (time.perf_counter() - w0) / 3
    kernel = _fresh_kernel()
    rng = np.random.default_rng(0)
    total = 0

    def step(n):                      # 16 replicate rows, cumulative means of n more units each
        nonlocal total
        kernel(np.ones(3))
        total += n
        return 1.0 + 0.05 / np.sqrt(total) * rng.standard_normal((16, 6))

    blocks, done = run_to_rtol(step, 1.0, 1e-3, budget, 8)
    assert done > 8 and blocks["hidden"].stderr_ratio <= 1e-3 * blocks["hidden"].ratio
