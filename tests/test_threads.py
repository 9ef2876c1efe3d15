"""The BLAS thread policy: counts set and restored, the user's choices first, results unchanged."""

import os

import numpy as np
import pytest
import scipy.linalg  # noqa: F401  (load scipy's BLAS before counting libraries)
from threadpoolctl import threadpool_info

from rmthess import _threads
from rmthess._threads import (
    ENV_VARIABLE,
    PARALLEL_FLOPS,
    USER_THREAD_VARIABLES,
    blas_threads,
    policy_threads,
    set_blas_threads,
)

#: one eigensolve with one or several BLAS threads differs by round-off only
EIG_RTOL = 1e-12


def _blas_threads():
    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]


def _matrix():
    a = np.random.default_rng(0).standard_normal((150, 300))
    return a @ a.T / 300


@pytest.fixture(autouse=True)
def _no_choice(monkeypatch):
    """No user choice in the environment or in the module, restored after each test."""
    for name in (*USER_THREAD_VARIABLES, ENV_VARIABLE, _threads.START_VARIABLE):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(_threads, "_choice", None)


def test_threads_set_to_one_and_restored():
    before = _blas_threads()
    with blas_threads():
        inside = _blas_threads()
        ev_one = np.linalg.eigvalsh(_matrix())
    assert inside and all(n == 1 for n in inside)
    assert _blas_threads() == before
    np.testing.assert_allclose(np.linalg.eigvalsh(_matrix()), ev_one, rtol=EIG_RTOL, atol=EIG_RTOL)


def test_blas_variables_are_respected(monkeypatch):
    before = _blas_threads()
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    assert policy_threads() == 0
    with blas_threads():
        assert _blas_threads() == before


def test_user_choice_first(monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    monkeypatch.setenv(ENV_VARIABLE, "3")
    assert policy_threads() == 3 and policy_threads(PARALLEL_FLOPS) == 3
    set_blas_threads(2)  # the function's choice over the environment's
    assert policy_threads() == 2
    with blas_threads():
        assert all(n == 2 for n in _blas_threads())
    set_blas_threads(None)
    assert policy_threads() == 3
    monkeypatch.setenv(ENV_VARIABLE, "0")
    assert policy_threads() == 0


@pytest.mark.parametrize("bad", ["-1", "two", "1.5"])
def test_bad_choices(monkeypatch, bad):
    monkeypatch.setenv(ENV_VARIABLE, bad)
    with pytest.raises(ValueError, match=ENV_VARIABLE):
        policy_threads()
    with pytest.raises(ValueError, match="non-negative integer"):
        set_blas_threads(float(bad) if bad != "two" else bad)


@pytest.mark.parametrize("cores,load,expected", [
    (8, 1.0, 8),    # only this process runs: every core
    (8, 4.0, 5),    # three other processes: the five idle cores
    (2, 3.0, 1),    # one busy process per core besides this one: one thread
    (2, 40.0, 1),   # overloaded: still one
])
def test_large_work_uses_the_idle_cores(monkeypatch, cores, load, expected):
    monkeypatch.setattr(_threads.os, "sched_getaffinity", lambda pid: set(range(cores)))
    monkeypatch.setattr(_threads.os, "getloadavg", lambda: (load, load, load))
    assert policy_threads(PARALLEL_FLOPS) == expected
    assert policy_threads(PARALLEL_FLOPS / 2) == 1  # small work: one thread whatever the load


#: a fresh process: the command line's one-thread start, then the policy's large-work threads
_FRESH_START = """
import json, os
from rmthess import _threads
_threads.os.getloadavg = lambda: (1.0, 1.0, 1.0)              # an idle machine of two cores
_threads.os.sched_getaffinity = lambda pid: {0, 1}
with _threads.single_thread_start():
    inherited = os.environ.get("OPENBLAS_NUM_THREADS"), _threads.policy_threads(1e15)
    import numpy as np
    from threadpoolctl import threadpool_info

    start = [p["num_threads"] for p in threadpool_info() if p["internal_api"] == "openblas"]
    a = np.random.default_rng(0).standard_normal((600, 600))
    with _threads.blas_threads(flops=_threads.PARALLEL_FLOPS):
        raised = [p["num_threads"] for p in threadpool_info() if p["internal_api"] == "openblas"]
        prod = a @ a
    tasks = len(os.listdir("/proc/self/task"))
with _threads.blas_threads():
    one = a @ a
print(json.dumps({"inherited": inherited, "start": start, "raised": raised, "tasks": tasks,
                  "left": os.environ.get("OPENBLAS_NUM_THREADS"),
                  "same": float(abs(prod - one).max() / abs(one).max())}))
"""


def test_single_thread_start_still_reaches_two_threads():
    """The command line's BLAS starts with one thread (``single_thread_start``) and the policy
    still raises it for large work: threadpoolctl reports 2 threads and OpenBLAS has started a
    second OS thread (the oracle: /proc's thread list, independent of threadpoolctl). Its own
    variable is not read as the user's choice, and leaves the environment as it found it."""
    import json
    import os
    import pathlib
    import subprocess
    import sys

    if not pathlib.Path("/proc/self/task").is_dir():
        pytest.skip("needs /proc (Linux) to count the process's threads")
    env = {k: v for k, v in os.environ.items()
           if k not in (*USER_THREAD_VARIABLES, ENV_VARIABLE, _threads.START_VARIABLE)}
    env["PYTHONPATH"] = str(pathlib.Path(__file__).resolve().parents[1])
    out = subprocess.run([sys.executable, "-c", _FRESH_START], capture_output=True, text=True,
                         env=env, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    if not got["start"]:
        pytest.skip("numpy's BLAS is not OpenBLAS")
    assert got["inherited"] == ["1", 2]         # set for the children, not taken as a choice
    assert got["start"] == [1] and got["raised"] == [2]
    assert got["tasks"] >= 2
    assert got["left"] is None
    assert got["same"] < 1e-12                  # one or two threads: the same product to round-off


def test_single_thread_start_respects_the_user(monkeypatch):
    """With a user's variable set, or numpy's BLAS already loaded, the start changes nothing."""
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")
    with _threads.single_thread_start():
        assert os.environ["OPENBLAS_NUM_THREADS"] == "3"
        assert _threads.START_VARIABLE not in os.environ
    monkeypatch.delenv("OPENBLAS_NUM_THREADS")
    with _threads.single_thread_start():        # this test process has numpy loaded
        assert "OPENBLAS_NUM_THREADS" not in os.environ


def test_start_variable_alone_is_no_choice(monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    monkeypatch.setenv(_threads.START_VARIABLE, "1")
    assert policy_threads() == 1                 # the policy, not "leave BLAS alone"
    monkeypatch.setenv("OMP_NUM_THREADS", "2")   # a variable the start never sets: the user's
    assert policy_threads() == 0
