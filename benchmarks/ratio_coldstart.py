"""Cold start: CPU seconds of whole fresh processes (run by run_all.py).

* ``rmthess limits --case linear-ce --gamma 1 --classes 1000 --json`` — target ≤ 0.15 s CPU for
  the whole process (the case registry is lazy: the linear cases load no numba; a child process
  checks that), and the floors: ``python -c pass`` and ``python -c "import numpy"``.
* The first GMP law (three atoms, density on 2000 points, edges): the CPU of the first call in a
  fresh process, after ``import rmthess.gmp`` — target ≤ 0.2 s — on a fresh install (an empty
  numba cache directory) and with the cache written. Beside them the floor numba sets by itself:
  ``import numba`` and the first call of a one-line cached kernel, in a fresh process.

Medians over fresh processes (one only for the empty-cache run, which compiles for seconds).
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import tempfile

import _limits

ROOT = pathlib.Path(__file__).resolve().parents[1]

LIMITS = ["limits", "--case", "linear-ce", "--gamma", "1", "--classes", "1000", "--json"]

NO_NUMBA = """
import sys
from rmthess.cli import main
code = main({argv!r})
assert "numba" not in sys.modules, "the linear case loaded numba"
sys.exit(code)
"""

GMP_FIRST = """
import json, time
c = time.process_time
t0 = c()
import numpy as np
from rmthess.gmp import GeneralizedMarchenkoPastur
from rmthess.laws import DiscreteLaw
t1 = c()
def law():
    g = GeneralizedMarchenkoPastur(DiscreteLaw([-1.0, 0.5, 2.0], [0.2, 0.5, 0.3]), 0.5)
    (lo, _), (_, hi) = g.support()[0], g.support()[-1]
    return float(np.sum(g.pdf(np.linspace(lo, hi, 2000))))
v = law()
t2 = c()
law()
t3 = c()
print(json.dumps({"import": t1 - t0, "first": t2 - t1, "second": t3 - t2, "value": v}))
"""

NUMBA_FLOOR = """
import json, sys, time
c = time.process_time
t0 = c()
import numba
t1 = c()
sys.path.insert(0, {folder!r})
import tiny_kernel
t2 = c()
tiny_kernel.f(1.0)
t3 = c()
print(json.dumps({{"import": t1 - t0, "first": t3 - t2}}))
"""


def _env(**extra):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.update(extra)
    return env


def _child(code, env, repeat):
    """Median (over ``repeat`` fresh processes) of each figure a child prints as JSON."""
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env=env, check=True, cwd=ROOT)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {k: sorted(r[k] for r in runs)[len(runs) // 2] for k in runs[0]}


def run(quick, machine):
    repeat = 5 if quick else 9
    env = _env()
    py = sys.executable
    t_pass, _ = _limits.process_cpu([py, "-c", "pass"], repeat=repeat, env=env)
    t_numpy, _ = _limits.process_cpu([py, "-c", "import numpy"], repeat=repeat, env=env)
    t_limits, out = _limits.process_cpu([py, "-m", "rmthess", *LIMITS], repeat=repeat, env=env)
    _, out_check = _limits.process_cpu([py, "-c", NO_NUMBA.format(argv=LIMITS)], repeat=1,
                                       env=env)
    if json.loads(out_check) != json.loads(out):
        raise RuntimeError("the check process printed other limits")
    floors = dict(python_s=t_pass, python_numpy_s=t_numpy)
    rows = [
        _limits.result("cold start: rmthess limits linear-ce (process CPU)", t_limits, 0.15,
                       unit="s", **floors),
    ]
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as kdir:
        fresh = _child(GMP_FIRST, _env(NUMBA_CACHE_DIR=cache), 1)
        warm = _child(GMP_FIRST, _env(NUMBA_CACHE_DIR=cache), repeat)
        pathlib.Path(kdir, "tiny_kernel.py").write_text(
            "import numba\n\n\n@numba.njit(cache=True)\ndef f(x):\n    return x + 1.0\n")
        kenv = _env(NUMBA_CACHE_DIR=kdir)
        _child(NUMBA_FLOOR.format(folder=kdir), kenv, 1)  # writes the tiny kernel's cache
        floor = _child(NUMBA_FLOOR.format(folder=kdir), kenv, repeat)
    if abs(fresh["value"] - warm["value"]) > 1e-12 * abs(warm["value"]):
        raise RuntimeError("the cached GMP kernels give another density")
    numba_floor = dict(numba_import_s=floor["import"], numba_first_cached_call_s=floor["first"])
    rows += [
        _limits.result("GMP first call, fresh install (empty numba cache), CPU", fresh["first"],
                       0.2, unit="s", import_s=fresh["import"], second_call_s=fresh["second"],
                       **numba_floor),
        _limits.result("GMP first call, numba cache written, CPU", warm["first"], 0.2, unit="s",
                       import_s=warm["import"], second_call_s=warm["second"], **numba_floor),
    ]
    return rows
