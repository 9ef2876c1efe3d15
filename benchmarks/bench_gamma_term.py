"""Benchmark: cost of the mlp-ce γ-term quadrature (theory/cases.md, (CASE-19)) against σ_v, the
former fixed grids and the σ-adaptive ones side by side in one run.

* **old** — the γ-term as of a former revision (``--old-rev``, default ``0e7c7fc``), read with
  ``git show`` into a temporary module: power sums on one y-lattice of range ``~(k_max + 2)σ`` and
  step ``0.35/σ``, u from ``−k_max σ²`` at the step of (SM-6) (tables of ``~σ⁴`` entries), and
  Gauss–Legendre in |s| on one interval, refined by factors 3/2;
* **new** — windows in y around the Laplace point of each integrand, a u-range of order σ and a
  u-step ``∝ σ/√(2 log C)`` confirmed by step doubling, graded Gauss–Kronrod panels in |s|.

Each computation runs in a fresh child process with one BLAS thread and a wall-clock limit
(``--timeout``); the table gives the CPU seconds of the call (imports excluded; for a child stopped
at the limit, its whole CPU from ``wait4``, marked ``>``), so the load of other processes on a
shared machine does not count, their ratio, the estimate
:func:`rmthess.cases._mlp_ce_gamma.gamma_cost` that ``limits(max_time=...)`` compares with its
budget, and the largest relative difference of the two results (diagonal, off-diagonal).

Run ``PYTHONPATH=. python benchmarks/bench_gamma_term.py`` (``--quick``: fewer σ_v, shorter limit).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent

_CHILD = """
import json, sys, time
sys.path.insert(0, {path!r})
from {module} import gamma_term
t = time.process_time()
d, o, err = gamma_term({C}, {m}, {sv})
print(json.dumps([d, o, err, time.process_time() - t]))
"""


def _old_modules(rev, where):
    """The former power sums and γ-term as importable modules in ``where``."""
    for src, dst in (("rmthess/integrals/powersums.py", "old_powersums.py"),
                     ("rmthess/cases/_mlp_ce_gamma.py", "old_gamma.py")):
        text = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{src}"], check=True,
                              capture_output=True, text=True).stdout
        text = text.replace("from rmthess.integrals.powersums import",
                            "from old_powersums import")
        (pathlib.Path(where) / dst).write_text(text)


def _child(module, path, C, m, sv, timeout):
    """``(cpu seconds, values)`` of one γ-term in a child process: the CPU of the call itself
    (imports excluded), or of the whole child when it is stopped at ``timeout`` (values None)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONPATH=str(ROOT))
    code = _CHILD.format(path=path, module=module, C=C, m=m, sv=sv)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    t0 = time.monotonic()
    try:
        while True:                  # wait4 (not poll) so that the child's usage is read
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - t0 > timeout:
                proc.kill()
                _, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
    except BaseException:
        proc.kill()                  # no orphaned child when the run is interrupted
        raise
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    out = proc.stdout.read().decode().strip()
    if proc.returncode != 0 or not out:
        return cpu, None
    values = json.loads(out.splitlines()[-1])
    return values[3], values[:3]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old-rev", default="0e7c7fc")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--timeout", type=float, default=None,
                    help="wall seconds per computation (default 240, --quick 60)")
    args = ap.parse_args(argv)
    timeout = args.timeout or (60.0 if args.quick else 120.0)
    if args.quick:
        rows = [(3, 3, sv) for sv in (1.0, 3.0, 15.0)]
    else:
        rows = ([(3, 3, sv) for sv in (0.1, 1.0, 2.0, 3.0, 5.0, 8.0, 15.0)]
                + [(100_000, 2, sv) for sv in (1.0, 3.0, 15.0)])
    sys.path.insert(0, str(ROOT))
    from rmthess.cases._mlp_ce_gamma import gamma_cost

    print(f"γ-term CPU seconds (one BLAS thread), old rev {args.old_rev} vs new; "
          f"wall limit {timeout:g} s; load average {os.getloadavg()[0]:.1f}")
    print(f"{'C':>7} {'m':>2} {'sigma_v':>7} {'old s':>9} {'new s':>7} {'old/new':>8} "
          f"{'estimate s':>10} {'max rel diff':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        _old_modules(args.old_rev, tmp)
        for C, m, sv in rows:
            t_old, v_old = _child("old_gamma", tmp, C, m, sv, timeout)
            t_new, v_new = _child("rmthess.cases._mlp_ce_gamma", str(ROOT), C, m, sv, timeout)
            old = f"{t_old:9.2f}" if v_old else f"{'>' + format(t_old, '.0f'):>9}"
            ratio = t_old / t_new if v_new else float("nan")
            diff = (max(abs(a / b - 1.0) for a, b in zip(v_new[:2], v_old[:2], strict=True))
                    if v_old and v_new else float("nan"))
            print(f"{C:>7} {m:>2} {sv:>7g} {old} {t_new:7.2f} "
                  f"{('≥' if not v_old else '') + format(ratio, '.1f'):>8} "
                  f"{gamma_cost(C, m, sv):10.2f} {diff:12.1e}", flush=True)


if __name__ == "__main__":
    main()
