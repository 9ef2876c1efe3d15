"""The benchmark scripts still run against the package's present API (slow: they time real work).

``benchmarks/run_all.py`` catches a failing module and goes on, so a module broken by a change of
the package (a renamed function) shows only as an ``error`` row there; this runs the quick modules'
``run`` directly. It asserts nothing about the timings themselves (those are read as ratios on a
quiet machine, never checked in tests).
"""

import importlib
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ratio_blocknorms", "ratio_laws", "ratio_networks"])
def test_quick_benchmark_module_runs(name, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    run_all = importlib.import_module("run_all")
    mod = importlib.import_module(name)
    rows = mod.run(True, run_all.machine(True))
    assert rows and all(r["value"] == r["value"] for r in rows), rows     # no NaN (error) rows
    for module in ("run_all", name):
        sys.modules.pop(module, None)
