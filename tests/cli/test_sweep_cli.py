"""``rmthess sweep`` end to end (a local cluster of one worker process)."""

import json

from rmthess.cli import main

TOML = """
seed = 3
reps = 2
[grid]
case = ["linear-ce"]
d = [12, 16]
gamma = [1.0]
classes = [3]
"""


def test_sweep_cli_runs_and_resumes(tmp_path, capsys):
    cfg = tmp_path / "s.toml"
    cfg.write_text(TOML)
    out = tmp_path / "out"
    assert main(["sweep", str(cfg), "--out", str(out), "--workers", "1"]) == 0
    first = (out / "results.csv").read_text()
    assert first.count("\n") == 3
    captured = capsys.readouterr()
    assert "[2/2]" in captured.err and "results.csv" in captured.out
    assert main(["sweep", str(cfg), "--out", str(out), "--workers", "1", "--json"]) == 0
    captured = capsys.readouterr()
    assert "2 already done" in captured.err
    assert (out / "results.csv").read_text() == first
    rec = json.loads(captured.out)                     # the shared schema, blocks nested per cell
    assert (rec["schema_version"], rec["command"], rec["n_cells"]) == (1, "sweep", 2)
    assert [c["d"] for c in rec["cells"]] == [12, 16]
    for cell in rec["cells"]:
        v = cell["blocks"]["v"]
        assert set(v["stderr"]) == {"ratio", "g_ii", "g_ij"} and v["limit"]["ratio"] > 0
    assert json.loads((out / "sweep.json").read_text())["schema_version"] == 1


def test_sweep_cli_errors(tmp_path, capsys):
    assert main(["sweep", str(tmp_path / "none.toml")]) == 2
    assert "not found" in capsys.readouterr().err
    cfg = tmp_path / "s.toml"
    cfg.write_text(TOML)
    assert main(["sweep", str(cfg), "--out", str(tmp_path / "o"),
                 "--scheduler", "tcp://127.0.0.1:9"]) == 2
    assert "could not connect" in capsys.readouterr().err
    assert main(["sweep", str(cfg), "--workers", "0"]) == 2
