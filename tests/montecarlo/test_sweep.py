"""Sweeps on Dask: worker-count invariance, resume after interruption, atomic files, clear
errors."""

import json
import time

import pytest

from rmthess.montecarlo.sweep import (
    cell_id,
    cell_seed,
    expand_grid,
    load_config,
    read_table,
    run_cells,
    run_sweep,
)

CONFIG = {
    "seed": 17,
    "reps": 3,
    "grid": {"case": ["linear-ce", "mlp-mse"], "d": [20, 26], "gamma": [1.0, 2.0],
             "classes": [3], "m": [3]},
}


def _csv(out):
    return (out / "results.csv").read_text()


def test_grid_expansion_and_cell_seeds():
    cells = expand_grid(CONFIG)
    assert len(cells) == 8
    assert all(c["m"] is None for c in cells if c["case"] == "linear-ce")
    # a cell's seed depends on the sweep seed and the cell only
    c = cells[3]
    assert cell_seed(17, c).generate_state(4).tolist() == \
        cell_seed(17, dict(c)).generate_state(4).tolist()
    assert cell_id(c) != cell_id(cells[2])


def test_one_and_two_workers_identical(tmp_path):
    r1 = run_sweep(CONFIG, tmp_path / "w1", n_workers=1, processes=False, progress=False)
    r2 = run_sweep(CONFIG, tmp_path / "w2", n_workers=2, processes=False, progress=False)
    assert r1 == r2
    assert _csv(tmp_path / "w1") == _csv(tmp_path / "w2")
    rec = json.loads((tmp_path / "w1" / "sweep.json").read_text())
    assert rec["seed"] == 17 and len(rec["cells"]) == 8 and rec["versions"]["numpy"]
    rows = read_table(tmp_path / "w1" / "results.csv")
    assert len(rows) == 4 * 1 + 4 * 2        # linear: one block type, mlp: two
    assert {r["block"] for r in rows} == {"v", "hidden", "output"}


def test_interrupted_then_resumed_equals_uninterrupted(tmp_path):
    full = tmp_path / "full"
    run_sweep(CONFIG, full, n_workers=2, processes=False, progress=False)
    part = tmp_path / "part"
    seen = []

    def interrupt(rec):
        seen.append(rec["cell_id"])
        if len(seen) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(CONFIG, part, n_workers=2, processes=False, progress=False, on_cell=interrupt)
    # completed cells are on disk, complete and parseable; no table, no temporary files
    files = sorted((part / "cells").iterdir())
    assert len(files) >= 3 and not (part / "results.csv").exists()
    assert all(not f.name.startswith(".") for f in files)
    for f in files:
        json.loads(f.read_text())
    # resume: only the missing cells run
    ran = []
    run_sweep(CONFIG, part, n_workers=2, processes=False, progress=False,
              on_cell=lambda rec: ran.append(rec["cell_id"]))
    assert len(ran) == 8 - len(files)
    assert not set(ran) & {f.stem for f in files}
    assert _csv(part) == _csv(full)


def test_unreachable_scheduler_fails_fast(tmp_path):
    t0 = time.time()
    with pytest.raises(ValueError, match="could not connect"):
        run_sweep(CONFIG, tmp_path / "x", scheduler="tcp://127.0.0.1:9", progress=False)
    assert time.time() - t0 < 30


@pytest.mark.parametrize("cfg, match", [
    ({"grid": {"d": [10]}}, r"\[grid\]"),
    ({"reps": 2, "grid": {"case": ["linear-ce"], "d": [10], "gamma": [1.0]}}, "classes"),
    ({"reps": 2, "grid": {"case": ["linear-ce"], "d": [10], "gamma": [1.0], "classes": [3],
                          "colour": [1]}}, "unknown"),
    ({"grid": {"case": ["linear-ce"], "d": [10], "gamma": [1.0], "classes": [3]}}, "reps"),
    ({"reps": 2, "grid": {"case": ["linear-ce"], "d": [1], "gamma": [1.0], "classes": [3]}},
     "d must be"),
    ({"reps": 0, "grid": {"case": ["linear-ce"], "d": [10], "gamma": [1.0], "classes": [3]}},
     "reps must be"),
    ({"reps": 2, "grid": {"case": ["linear-ce"], "d": [10], "gamma": [1.0], "classes": [3],
                          "design": ["nope"]}}, "unknown design"),
])
def test_bad_configs(cfg, match):
    with pytest.raises(ValueError, match=match):
        expand_grid(cfg)


def test_config_file_errors(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("seed = = 3")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_config(bad)


@pytest.mark.slow
def test_killed_worker_loses_nothing(tmp_path):
    """A process cluster where one worker is killed mid-sweep: the sweep still completes and equals
    the threaded run."""
    import os
    import signal

    from distributed import Client, LocalCluster

    cfg = dict(CONFIG, reps=20)
    ref = run_sweep(cfg, tmp_path / "ref", n_workers=1, processes=False, progress=False)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        pids = list(client.run(os.getpid).values())
        killed = []

        def kill_one(rec):
            if not killed:
                killed.append(pids[0])
                os.kill(pids[0], signal.SIGKILL)

        rows = run_sweep(cfg, tmp_path / "kill", scheduler=cluster.scheduler_address,
                         progress=False, on_cell=kill_one)
    assert killed and rows == ref


def test_explicit_cells_with_seeds(tmp_path):
    """The form used by the verification report: simulate() kwargs + one seed per cell, results
    equal to calling simulate() directly, and a rerun recomputes nothing."""
    import numpy as np

    from rmthess.montecarlo import simulate

    cells = [dict(case="linear-ce", d=20, gamma=1.0, classes=3, reps=3),
             dict(case="mlp-mse", d=20, gamma=1.0, classes=3, m=3, reps=2, limits=False)]
    seeds = [np.random.SeedSequence(5, spawn_key=(1, k)) for k in range(2)]
    got = run_cells(cells, seeds, tmp_path / "w", n_workers=1, processes=False, progress=False)
    for res, cell, seed in zip(got, cells, seeds, strict=True):
        kw = dict(cell)
        want = simulate(kw.pop("case"), rng=seed, **kw)
        assert res.to_dict() == want.to_dict()
    lines = []
    again = run_cells(cells, seeds, tmp_path / "w", n_workers=1, processes=False,
                      progress=lines.append)
    assert "2 already done" in lines[0] and len(lines) == 1
    assert [r.to_dict() for r in again] == [r.to_dict() for r in got]
    # a different seed is a different cell
    other = run_cells(cells[:1], [7], tmp_path / "w", n_workers=1, processes=False,
                      progress=False)
    assert other[0].blocks["v"].ratio != got[0].blocks["v"].ratio


def test_shipped_example_configuration_is_valid():
    """The example sweep in examples/ parses and expands to the grid it documents."""
    import pathlib

    from rmthess.montecarlo.sweep import expand_grid, load_config

    path = pathlib.Path(__file__).resolve().parents[2] / "examples" / "sweep_linear_ce.toml"
    cells = expand_grid(load_config(path))
    assert len(cells) == 3 * 3 * 2
    assert {c["case"] for c in cells} == {"linear-ce"}


SMALL = {"seed": 5, "reps": 2,
         "grid": {"case": ["linear-ce"], "d": [12], "gamma": [1.0, 2.0], "classes": [3]}}
_BASE = {"case": ["linear-ce"], "d": [10], "gamma": [1.0], "classes": [3]}


@pytest.mark.parametrize("cfg, match", [
    ({"reps": 2, "seeed": 5, "grid": _BASE}, "unknown top-level keys"),
    ({"reps": 2, "workers": 4, "grid": _BASE}, "unknown top-level keys"),
    ({"reps": 2, "output": "x", "grid": _BASE}, "unknown top-level keys"),
    ({"reps": 2, "grid": dict(_BASE, reps=[3])}, "both at the top level and in"),
    ({"reps": 2, "grid": dict(_BASE, d=[])}, "empty list"),
    ({"reps": 2, "grid": dict(_BASE, classes=[])}, "empty list"),
    ({"reps": 2, "grid": dict(_BASE, m={"a": 1})}, "table"),
])
def test_unknown_keys_and_empty_grids_refused(cfg, match):
    with pytest.raises(ValueError, match=match):
        expand_grid(cfg)


def test_empty_explicit_cells_refused(tmp_path):
    with pytest.raises(ValueError, match="empty list of cells"):
        run_cells([], [], tmp_path / "e", progress=False)


@pytest.mark.parametrize("damage", ["non-utf8", "edited", "truncated"])
def test_damaged_cell_is_recomputed_with_a_warning(tmp_path, damage):
    out = tmp_path / "s"
    ref = run_sweep(SMALL, out, n_workers=1, processes=False, progress=False)
    victim = sorted((out / "cells").glob("*.json"))[0]
    text = victim.read_text()
    if damage == "non-utf8":
        victim.write_bytes(b"\xff\xfe" + text.encode()[2:])
    elif damage == "edited":
        rec = json.loads(text)
        rec["blocks"]["v"]["ratio"] = 0.5
        victim.write_text(json.dumps(rec))
    else:
        victim.write_text(text[: len(text) // 2])
    ran = []
    with pytest.warns(RuntimeWarning, match=victim.name):
        rows = run_sweep(SMALL, out, n_workers=1, processes=False, progress=False,
                         on_cell=lambda rec: ran.append(rec["cell_id"]))
    assert ran == [victim.stem] and rows == ref
    assert victim.read_text() == text  # recomputed bit for bit


def test_second_sweep_into_the_same_folder_is_refused(tmp_path):
    from rmthess.montecarlo.sweep.storage import locked, prepare_out

    out = prepare_out(tmp_path / "locked")
    (out / "cells").mkdir()
    other = out / "cells" / ".abc.json.99999.tmp"   # a temporary file of the run holding the lock
    other.write_text("{}")
    with locked(out):
        with pytest.raises(ValueError, match="another sweep is running"):
            run_sweep(SMALL, out, n_workers=1, processes=False, progress=False)
        assert other.exists()
    run_sweep(SMALL, out, n_workers=1, processes=False, progress=False)  # free again


@pytest.mark.parametrize("kind", ["file", "empty", "unwritable", "too-long"])
def test_bad_output_folder_refused_before_any_work(tmp_path, kind):
    import os

    from rmthess.montecarlo.sweep import prepare_out

    if kind == "file":
        target = tmp_path / "f"
        target.write_text("x")
    elif kind == "empty":
        target = ""
    elif kind == "unwritable":
        if os.geteuid() == 0:
            target = "/proc/rmthess-out"      # not even root can create a folder there
        else:
            ro = tmp_path / "ro"
            ro.mkdir()
            ro.chmod(0o500)
            target = ro / "sub"
    else:
        target = tmp_path / ("x" * 300)
    with pytest.raises(ValueError, match="--out"):
        prepare_out(target)


def _loopback_server(reply):
    """A TCP server on 127.0.0.1 that sends ``reply`` (or nothing) to every connection."""
    import socket
    import threading

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    conns = []

    def loop():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            conns.append(c)
            if reply:
                c.sendall(reply)

    threading.Thread(target=loop, daemon=True).start()
    return srv, conns


@pytest.mark.parametrize("reply, match", [
    (b"", "sent nothing"),
    (b"SSH-2.0-OpenSSH_9.6\r\n", "not a Dask scheduler"),
    (b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", "not a Dask scheduler"),
])
def test_non_dask_server_fails_fast(monkeypatch, reply, match):
    from rmthess.montecarlo import sweep
    from rmthess.montecarlo.sweep import execute

    monkeypatch.setattr(execute, "CONNECT_TIMEOUT", 0.5)
    srv, conns = _loopback_server(reply)
    try:
        t0 = time.time()
        with pytest.raises(ValueError, match=match):
            sweep.check_scheduler(f"tcp://127.0.0.1:{srv.getsockname()[1]}")
        assert time.time() - t0 < 5
    finally:
        srv.close()
        for c in conns:
            c.close()


@pytest.mark.parametrize("address", ["", "tcp://", "tcp://host", "tcp://host:99999", "host:port"])
def test_malformed_scheduler_address(address):
    from rmthess.montecarlo.sweep import check_scheduler

    with pytest.raises(ValueError, match="scheduler"):
        check_scheduler(address)


def test_missing_distributed_is_one_clear_error(tmp_path, monkeypatch):
    """Without the ``distributed`` extra the sweep says how to install it (no ImportError)."""
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)   # import distributed -> ImportError
    with pytest.raises(ValueError, match=r"pip install 'rmthess\[distributed\]'"):
        run_sweep(SMALL, tmp_path / "nodask", n_workers=1, processes=False, progress=False)
    with pytest.raises(ValueError, match="distributed"):
        from rmthess.montecarlo.sweep import check_scheduler
        check_scheduler("tcp://127.0.0.1:9")


@pytest.mark.slow
def test_dead_scheduler_is_one_line_and_resumable(tmp_path):
    """The scheduler process dies after the first cell: ConnectionError (the CLI's one line, exit 1)
    naming the saved cells; a rerun on a local cluster completes the table identically."""
    import socket
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sched = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host",
                              "127.0.0.1", "--port", str(port), "--dashboard-address", ":0"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker",
                               f"tcp://127.0.0.1:{port}", "--nthreads", "1", "--nworkers", "1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        address = f"tcp://127.0.0.1:{port}"
        for _ in range(60):
            try:
                from rmthess.montecarlo.sweep import check_scheduler
                check_scheduler(address)
                break
            except ValueError:
                time.sleep(0.5)
        cfg = dict(CONFIG, reps=10)
        ref = run_sweep(cfg, tmp_path / "ref", n_workers=1, processes=False, progress=False)
        with pytest.raises(ConnectionError, match="run the sweep again"):
            run_sweep(cfg, tmp_path / "dead", scheduler=address, progress=False,
                      on_cell=lambda rec: sched.kill())
        assert run_sweep(cfg, tmp_path / "dead", n_workers=1, processes=False,
                         progress=False) == ref
    finally:
        for p in (worker, sched):
            p.kill()
            p.wait()


def test_cell_of_another_code_version_is_recomputed(tmp_path, monkeypatch):
    """A cell file written by other code (another code hash) is not reused: it is recomputed, and
    gives the same numbers when only the hash differs."""
    from rmthess.montecarlo.sweep import storage

    out = tmp_path / "s"
    ref = run_sweep(SMALL, out, n_workers=1, processes=False, progress=False)
    files = sorted((out / "cells").glob("*.json"))
    assert {json.loads(f.read_text())[storage.CODE_FIELD] for f in files} == {storage.code_hash()}
    again = []
    run_sweep(SMALL, out, n_workers=1, processes=False, progress=False,
              on_cell=lambda rec: again.append(rec["cell_id"]))
    assert again == []                                   # same code: every cell reused
    monkeypatch.setattr(storage, "code_hash", lambda: "0" * 64)    # the code has changed
    lines, ran = [], []
    rows = run_sweep(SMALL, out, n_workers=1, processes=False, progress=lines.append,
                     on_cell=lambda rec: ran.append(rec["cell_id"]))
    assert "0 already done" in lines[0] and "2 saved by another version of the code" in lines[0]
    assert sorted(ran) == sorted(f.stem for f in files) and rows == ref


def test_old_call_forms_name_the_new_one(tmp_path):
    cells = [dict(case="linear-ce", d=20, gamma=1.0, classes=3, reps=2)]
    with pytest.raises(ValueError, match=r"run_cells\(cells, seeds, out_dir\)"):
        run_sweep(cells, tmp_path / "a")
    with pytest.raises(ValueError, match=r"run_sweep\(config, out_dir\)"):
        run_cells(SMALL, [0], tmp_path / "b")
    with pytest.raises(ValueError, match="1 seeds for 2 cells"):
        run_cells(cells * 2, [0], tmp_path / "c")
