"""Cold start: CPU seconds of whole fresh processes (run by run_all.py).

* ``rmthess limits --case linear-ce --gamma 1 --classes 1000 --json`` — target ≤ 0.15 s CPU for
  the whole process (the linear cases load no numba, scipy, sympy or mpmath — a child process
  checks that — and the command line starts BLAS with one thread, ``rmthess/_threads.py``).
* ``rmthess gmp`` for a law of three atoms on ``--grid 2000`` — target ≤ 0.2 s CPU for the whole
  process on a fresh install (an empty numba cache directory).
* The first GMP law in a fresh process (three atoms: edges, density on 2000 points, Stieltjes
  transform on 200 points 0.2 above the axis): the CPU of the first call after
  ``import rmthess.gmp`` — target ≤ 0.2 s — on a fresh install (empty numba cache). Beside it the
  route it no longer takes for such sizes: the same law through the compiled kernels
  (``EDGE_ATOMS_MAX``, ``BULK_WORK_MAX`` and ``COMPLEX_WORK_MAX`` set to 0), first call on the empty
  cache and with the cache written, and the floor numba sets by itself, ``import numba`` and the
  first call of a one-line cached kernel.

Beside them the floors, measured in the same run: ``python -c pass`` and ``python -c "import
numpy"`` with OpenBLAS's default threads and with one (``OPENBLAS_NUM_THREADS=1``).

The processes run as an installed package does: with its bytecode compiled (pip compiles it at
install; here into a temporary ``PYTHONPYCACHEPREFIX``, written by one run first and then read,
since a tree run with ``PYTHONDONTWRITEBYTECODE`` would compile ~30 modules in every process).
Medians over fresh processes (one only for the empty-cache compiled run, which compiles for
seconds).
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
GMP = ["gmp", "--gamma", "0.5", "--atoms=-1,0.5,2", "--probs", "0.2,0.5,0.3", "--grid", "2000",
       "--json"]

NOTHING_HEAVY = """
import sys
from rmthess.cli import main
code = main({argv!r})
heavy = [m for m in ("numba", "scipy", "sympy", "mpmath") if m in sys.modules]
assert not heavy, f"the command loaded {{heavy}}"
sys.exit(code)
"""

GMP_FIRST = """
import json, sys, time
c = time.process_time
t0 = c()
import numpy as np
from rmthess.gmp import GeneralizedMarchenkoPastur, _vectorized, solver
from rmthess.laws import DiscreteLaw
if {compiled!r}:                             # the compiled kernels for edges, bulk, z ∉ R
    _vectorized.EDGE_ATOMS_MAX = solver.BULK_WORK_MAX = solver.COMPLEX_WORK_MAX = 0
t1 = c()
def law():
    g = GeneralizedMarchenkoPastur(DiscreteLaw([-1.0, 0.5, 2.0], [0.2, 0.5, 0.3]), 0.5)
    (lo, _), (_, hi) = g.support()[0], g.support()[-1]
    s = g.stieltjes(np.linspace(lo, hi, 200) + 0.2j)
    return float(np.sum(g.pdf(np.linspace(lo, hi, 2000))) + np.sum(s.imag))
v = law()
t2 = c()
law()
t3 = c()
print(json.dumps({{"import": t1 - t0, "first": t2 - t1, "second": t3 - t2, "value": v,
                  "numba": "numba" in sys.modules}}))
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


def _env(pycache, **extra):
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONPYCACHEPREFIX=pycache)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS",
                 "RMTHESS_BLAS_THREADS", "RMTHESS_BLAS_START"):
        env.pop(name, None)                  # the defaults a user meets
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
    py = sys.executable
    with tempfile.TemporaryDirectory() as pycache, tempfile.TemporaryDirectory() as cache, \
            tempfile.TemporaryDirectory() as kdir:
        env = _env(pycache, NUMBA_CACHE_DIR=cache)
        for argv in ([py, "-c", "import numpy"], [py, "-m", "rmthess", *LIMITS],
                     [py, "-m", "rmthess", *GMP]):
            _limits.process_cpu(argv, repeat=1, env=env)     # writes the bytecode
        assert not any(pathlib.Path(cache).iterdir()), "rmthess gmp compiled numba kernels"
        t_pass, _ = _limits.process_cpu([py, "-c", "pass"], repeat=repeat, env=env)
        t_numpy, _ = _limits.process_cpu([py, "-c", "import numpy"], repeat=repeat, env=env)
        t_numpy1, _ = _limits.process_cpu([py, "-c", "import numpy"], repeat=repeat,
                                          env=dict(env, OPENBLAS_NUM_THREADS="1"))
        t_limits, out = _limits.process_cpu([py, "-m", "rmthess", *LIMITS], repeat=repeat,
                                            env=env)
        _, out_check = _limits.process_cpu([py, "-c", NOTHING_HEAVY.format(argv=LIMITS)],
                                           repeat=1, env=env)
        if json.loads(out_check) != json.loads(out):
            raise RuntimeError("the check process printed other limits")
        t_gmp, out = _limits.process_cpu([py, "-m", "rmthess", *GMP], repeat=repeat, env=env)
        _, out_check = _limits.process_cpu([py, "-c", NOTHING_HEAVY.format(argv=GMP)],
                                           repeat=1, env=env)
        if json.loads(out_check) != json.loads(out):
            raise RuntimeError("the check process printed another GMP law")
        first = _child(GMP_FIRST.format(compiled=False), env, repeat)
        compiled_fresh = _child(GMP_FIRST.format(compiled=True), env, 1)   # compiles
        compiled = _child(GMP_FIRST.format(compiled=True), env, repeat)
        pathlib.Path(kdir, "tiny_kernel.py").write_text(
            "import numba\n\n\n@numba.njit(cache=True)\ndef f(x):\n    return x + 1.0\n")
        kenv = _env(pycache, NUMBA_CACHE_DIR=kdir)
        _child(NUMBA_FLOOR.format(folder=kdir), kenv, 1)  # writes the tiny kernel's cache
        floor = _child(NUMBA_FLOOR.format(folder=kdir), kenv, repeat)
    if first["numba"]:
        raise RuntimeError("the first GMP law loaded numba")
    for other in (compiled_fresh, compiled):
        if abs(first["value"] - other["value"]) > 1e-12 * abs(other["value"]):
            raise RuntimeError("the numpy and compiled paths give another density")
    floors = dict(python_s=t_pass, python_numpy_s=t_numpy, python_numpy_1thread_s=t_numpy1)
    numba_floor = dict(numba_import_s=floor["import"], numba_first_cached_call_s=floor["first"])
    return [
        _limits.result("cold start: rmthess limits linear-ce (process CPU)", t_limits, 0.15,
                       unit="s", **floors),
        _limits.result("cold start: rmthess gmp --grid 2000, fresh install (process CPU)", t_gmp,
                       0.2, unit="s", **floors),
        _limits.result("GMP first call, fresh install (empty numba cache), CPU", first["first"],
                       0.2, unit="s", import_s=first["import"], second_call_s=first["second"],
                       compiled_first_fresh_install_s=compiled_fresh["first"],
                       compiled_first_cache_written_s=compiled["first"],
                       compiled_import_s=compiled["import"],
                       compiled_second_call_s=compiled["second"], **numba_floor),
    ]
