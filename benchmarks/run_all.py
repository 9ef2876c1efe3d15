"""Every distance-to-the-limit benchmark in one run: one JSON file, a table of ratio against target.

Usage::

    python benchmarks/run_all.py                 # full sizes
    python benchmarks/run_all.py --quick         # reduced sizes (a few minutes on 2 cores)
    python benchmarks/run_all.py --only threads  # the modules whose name contains "threads"
    python benchmarks/run_all.py --out results.json

The run first measures the machine's limits — the DGEMM rate and the memory (STREAM copy) bandwidth,
:mod:`_limits` — then runs every module ``benchmarks/ratio_*.py`` in name order and writes
``{"machine": {...}, "results": [...]}`` to ``--out`` (default ``benchmarks/run_all.json``).

Registration interface
----------------------
A benchmark is a module ``benchmarks/ratio_<topic>.py`` (found by its name; nothing to edit here)
that defines::

    def run(quick: bool, machine: dict) -> list[dict]

``machine`` holds ``dgemm_flops`` (flop/s, default threads, wall clock), ``dgemm_flops_1thread``
(one thread, CPU time), ``bandwidth_bytes`` (bytes/s, CPU time of a copy), ``cpu_count`` and
``blas`` (threadpoolctl's description) measured at the start of the run. Each returned row is made
by ``_limits.result(name, value, target, unit="×", sense="max", **detail)``: ``value`` is the ratio
(``sense="max"``: met when ``value ≤ target``; ``"min"``: met when ``value ≥ target``) and
``detail`` the raw figures behind it (numbers or strings). A module that needs a floor measured
right beside its own timings (shared, noisy machines) calls :func:`_limits.dgemm_rate` or
:func:`_limits.memory_bandwidth` itself and states it in ``detail``. The run ends with the limits
measured again: two rows state their drift over the run (target ≤ 1.5×). A module that raises is
reported as one failed row and the others still run; the exit status is then 1.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pathlib
import platform
import sys
import time
import traceback

HERE = pathlib.Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
if str(HERE.parent) not in sys.path:
    sys.path.insert(1, str(HERE.parent))

import _limits  # noqa: E402  (after the path set-up above)


def modules(only=None):
    """Names of the ``ratio_*`` modules in name order (filtered by ``only`` substrings)."""
    names = sorted(p.stem for p in HERE.glob("ratio_*.py"))
    if only:
        names = [n for n in names if any(o in n for o in only)]
    return names


def machine(quick):
    """The machine's limits and description, measured now."""
    from threadpoolctl import threadpool_info, threadpool_limits

    n = 1500 if quick else 3000
    with threadpool_limits(1):
        one = _limits.dgemm_rate(n=n, clock=time.process_time)
    return {
        "dgemm_flops": _limits.dgemm_rate(n=n),
        "dgemm_flops_1thread": one,
        "dgemm_n": n,
        "bandwidth_bytes": _limits.memory_bandwidth(mbytes=128 if quick else 512),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "blas": [
            {k: info.get(k) for k in ("internal_api", "version", "num_threads", "threading_layer")}
            for info in threadpool_info()
            if info.get("user_api") == "blas"
        ],
    }


def drift(quick, mach):
    """The limits measured again at the end of the run against the start (shared machines drift)."""
    dgemm = _limits.dgemm_rate(n=mach["dgemm_n"])
    bw = _limits.memory_bandwidth(mbytes=128 if quick else 512)
    d0, b0 = mach["dgemm_flops"], mach["bandwidth_bytes"]
    return [
        _limits.result("machine: DGEMM rate, start against end", max(dgemm, d0) / min(dgemm, d0),
                       1.5, module="run_all", start_flops=d0, end_flops=dgemm),
        _limits.result("machine: copy bandwidth, start against end", max(bw, b0) / min(bw, b0),
                       1.5, module="run_all", start_bytes=b0, end_bytes=bw),
    ]


def table(rows):
    """The printed table: one line per row, ratio against target and whether it is met."""
    lines = [f"{'benchmark':<58} {'ratio':>10} {'target':>10}  met"]
    for r in rows:
        op = "≤" if r["sense"] == "max" else "≥"
        value = f"{r['value']:.3g}" if r["value"] == r["value"] else "error"
        flag = "yes" if r["met"] else "NO"
        lines.append(
            f"{r['name']:<58} {value:>10} {op + format(r['target'], '.3g'):>10}  {flag}"
            f"  {r['unit']}"
        )
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="reduced sizes")
    ap.add_argument("--only", nargs="*", help="run the modules whose name contains one of these")
    ap.add_argument("--out", default=str(HERE / "run_all.json"), help="JSON file written")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    mach = machine(args.quick)
    print(
        f"DGEMM {mach['dgemm_flops'] / 1e9:.1f} GFLOP/s (n = {mach['dgemm_n']}; one thread, "
        f"by CPU time: {mach['dgemm_flops_1thread'] / 1e9:.1f}), "
        f"copy bandwidth {mach['bandwidth_bytes'] / 1e9:.1f} GB/s, {mach['cpu_count']} cores",
        flush=True,
    )
    rows, failed = [], False
    for name in modules(args.only):
        print(f"-- {name}", flush=True)
        t = time.perf_counter()
        try:
            mod = importlib.import_module(name)
            got = mod.run(args.quick, mach)
        except Exception:  # one failing module must not hide the others' figures
            failed = True
            traceback.print_exc()
            got = [_limits.result(name, float("nan"), float("nan"), error=traceback.format_exc())]
            got[0]["met"] = False
        for r in got:
            r.setdefault("module", name)
        rows.extend(got)
        print(f"   {len(got)} rows in {time.perf_counter() - t:.1f} s", flush=True)
    rows.extend(drift(args.quick, mach))
    mach["seconds"] = time.perf_counter() - t0
    pathlib.Path(args.out).write_text(
        json.dumps({"quick": args.quick, "machine": mach, "results": rows}, indent=1) + "\n"
    )
    print(table(rows))
    print(f"written to {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
