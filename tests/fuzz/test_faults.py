"""Fault injection against ``rmthess sweep`` in real processes (slow): SIGINT and SIGKILL at random
moments, two sweeps started at once into one folder — after a rerun nothing is lost and the table is
byte-identical to an undisturbed run."""

import os
import random
import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.slow

CONFIG = """\
seed = 11
reps = 6
[grid]
case = ["linear-ce", "mlp-mse"]
d = [30, 40]
gamma = [1.0, 2.0]
classes = [3]
m = [3]
"""


def _sweep(cfg, out, **kw):
    return subprocess.Popen([sys.executable, "-m", "rmthess.cli", "sweep", str(cfg),
                             "--out", str(out), "--workers", "1", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, **kw)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    d = tmp_path_factory.mktemp("ref")
    cfg = d / "sweep.toml"
    cfg.write_text(CONFIG)
    p = _sweep(cfg, d / "out")
    _, err = p.communicate(timeout=600)
    assert p.returncode == 0, err
    return cfg, (d / "out" / "results.csv").read_bytes()


@pytest.mark.parametrize("sig, seed", [(signal.SIGINT, 1), (signal.SIGINT, 2),
                                       (signal.SIGKILL, 3), (signal.SIGKILL, 4)])
def test_interrupt_at_a_random_moment_loses_nothing(tmp_path, reference, sig, seed):
    cfg, table = reference
    out = tmp_path / "out"
    p = _sweep(cfg, out)
    time.sleep(random.Random(seed).uniform(2.0, 12.0))
    if p.poll() is None:
        os.killpg(p.pid, sig)
    _, err = p.communicate(timeout=300)
    if sig == signal.SIGINT and p.returncode != 0:   # one line, no worker tracebacks
        assert err.strip().splitlines() == ["rmthess sweep: interrupted"], err
    saved = sorted((out / "cells").glob("*.json")) if (out / "cells").exists() else []
    q = _sweep(cfg, out)
    _, err2 = q.communicate(timeout=600)
    assert q.returncode == 0, err2
    assert (out / "results.csv").read_bytes() == table
    for f in saved:  # every cell saved before the fault is kept, not recomputed
        assert f.exists()


def test_two_sweeps_into_one_folder(tmp_path, reference):
    cfg, table = reference
    out = tmp_path / "out"
    a, b = _sweep(cfg, out), _sweep(cfg, out)
    (_, err_a), (_, err_b) = a.communicate(timeout=600), b.communicate(timeout=600)
    codes = sorted([a.returncode, b.returncode])
    assert codes in ([0, 0], [0, 2]), (err_a, err_b)
    if codes == [0, 2]:
        refused = err_a if a.returncode == 2 else err_b
        assert "another sweep is running" in refused and len(refused.strip().splitlines()) == 1
    assert (out / "results.csv").read_bytes() == table
    assert not list((out / "cells").glob(".*.tmp"))
