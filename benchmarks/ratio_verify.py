"""``rmthess verify --quick`` as a whole process: CPU seconds against the 60 s target.

Registered with ``benchmarks/run_all.py`` (``run(quick, machine)``); also runs alone:
``python benchmarks/ratio_verify.py``.

Two runs of ``python -m rmthess verify --quick --seed 0`` in child processes (their own CPU time,
user + system, from ``wait4``, worker processes included). The first compiles every numba kernel the
checks use that is not in numba's cache yet (``cache=True``: once per machine and checkout; on a
fresh checkout up to ≈ 50 s CPU, half of it the parallel pair-integral kernel of
``rmthess.cases.mlp_ce``); its CPU seconds are ``first_run_cpu_s``. The second is what every later
run costs and is the row's value; the CPU seconds of each of its checks come from its
``record.json``, so that the table shows where the time goes. The power targets are the checks'
own: the row also states the number of LOW POWER rows (must be 0).
"""

from __future__ import annotations

import json
import os
import pathlib
import sys
import tempfile

import _limits

TARGET_CPU_S = 60.0


def run(quick: bool, machine: dict | None = None) -> list[dict]:
    root = pathlib.Path(__file__).resolve().parent.parent
    env = dict(os.environ)
    env["PYTHONPATH"] = str(root) + os.pathsep + env.get("PYTHONPATH", "")
    with tempfile.TemporaryDirectory() as tmp:
        argv = [sys.executable, "-m", "rmthess", "verify", "--quick", "--seed", "0", "--out"]
        first_cpu, _ = _limits.process_cpu(argv + [os.path.join(tmp, "first")], repeat=1, env=env)
        out = os.path.join(tmp, "run")
        cpu, _ = _limits.process_cpu(argv + [out], repeat=1, env=env)
        record = json.loads(pathlib.Path(out, "record.json").read_text())
    checks = {f"cpu_s_{k}": float(v) for k, v in record.get("cpu_seconds", {}).items()}
    return [_limits.result(
        f"verify --quick: CPU seconds / {TARGET_CPU_S:g} s", cpu / TARGET_CPU_S, 1.0,
        unit="of target", cpu_s=cpu, checks_cpu_s=sum(checks.values()), first_run_cpu_s=first_cpu,
        low_power_rows=int(record.get("n_low_power", -1)), passed=str(record.get("passed")),
        **checks)]


if __name__ == "__main__":
    for r in run(quick=True):
        print(f"{r['name']}: {r['value']:.2f} (target ≤ {r['target']:g})")
        for k, v in r["detail"].items():
            print(f"  {k}: {v}")
