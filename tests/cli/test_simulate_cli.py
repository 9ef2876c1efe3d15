"""``rmthess simulate`` end to end."""

import json

import pytest

from rmthess.cli import main


def test_json_output(capsys):
    rc = main(["simulate", "--case", "mlp-ce", "--d", "20", "--gamma", "1", "--classes", "3",
               "--m", "3", "--reps", "3", "--seed", "1", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["blocks"]) == {"hidden", "output"}
    assert (out["schema_version"], out["command"]) == (1, "simulate")
    for b in out["blocks"].values():
        assert {"ratio", "g_ii", "g_ij", "stderr", "prediction", "limit", "z"} <= set(b)
        assert isinstance(b["ratio"], float) and set(b["stderr"]) == {"ratio", "g_ii", "g_ij"}
        assert b["ratio"] == b["g_ij"] / b["g_ii"]          # the ratio of the printed means (MC-10)
        assert {"ratio", "g_ii", "g_ij"} <= set(b["prediction"]) and "ratio" in b["limit"]


def test_table_output(capsys):
    rc = main(["simulate", "--case", "linear-ce", "--d", "20", "--gamma", "1", "--classes", "3",
               "--reps", "3", "--seed", "1", "--design", "sharp"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "ratio" in out and "prediction" in out and "\nv " in out


@pytest.mark.parametrize("args, match", [
    (["--d", "1"], "d must be"),
    (["--reps", "0"], "reps must be"),
    (["--gamma", "nan"], "gamma must be"),
    (["--design", "bogus"], "unknown design"),
])
def test_errors(capsys, args, match):
    base = {"--case": "linear-ce", "--d": "20", "--gamma": "1", "--classes": "3", "--reps": "2"}
    for k, v in zip(args[::2], args[1::2], strict=True):
        base[k] = v
    argv = ["simulate"] + [x for kv in base.items() for x in kv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "error" in err and match.split()[0] in err


@pytest.mark.parametrize("args, match", [
    (["--init", "he-normal"], "unknown initialization"),
    (["--init", "torch-default", "--sigma-v", "2"], "init sets"),
    (["--v-law", "cauchy"], "unknown entry law"),
    (["--sigma-w", "-1"], "sigma_w must be"),
])
def test_initialization_errors_are_one_line(capsys, args, match):
    argv = ["simulate", "--case", "mlp-ce", "--d", "20", "--gamma", "1", "--classes", "3",
            "--m", "3", "--reps", "2"] + args
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and match in err


def test_init_preset_json(capsys):
    rc = main(["simulate", "--case", "mlp-mse", "--d", "20", "--gamma", "1", "--classes", "3",
               "--m", "3", "--reps", "2", "--seed", "1", "--init", "torch-default", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["init"], out["v_law"], out["w_law"]) == ("torch-default", "uniform", "uniform")
    assert out["sigma_v"] == pytest.approx(3 ** -0.5) and out["sigma_w"] == pytest.approx(3 ** -0.5)
