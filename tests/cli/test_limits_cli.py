"""``rmthess limits`` end to end: JSON keys, --digits strings, errors with exit status 2."""

import json

import mpmath
import pytest

from rmthess.cases import get_case
from rmthess.cli import main


def _json(capsys, argv):
    assert main(["limits", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_linear_ce_json(capsys):
    out = _json(capsys, ["--case", "linear-ce", "--gamma", "0.5", "--classes", "1e3"])
    assert out["case"] == "linear-ce" and out["gamma"] == 0.5 and out["classes"] == 1000
    ref = get_case("linear-ce").limits(0.5, 1000).blocks["v"]
    assert out["v"]["g_ii"] == ref.g_ii and out["v"]["g_ij"] == ref.g_ij
    assert out["v"]["ratio"] == ref.ratio and "stderr" not in out["v"]


def test_digits_uses_the_oracle(capsys):
    out = _json(capsys, ["--case", "linear-ce", "--gamma", "1", "--classes", "10", "--digits", "22"])
    val = out["v"]["ratio"]
    assert isinstance(val, str) and len(val.replace("0.", "", 1).lstrip("0")) == 22
    ref = get_case("linear-ce").limits_mp(1.0, 10, dps=22).blocks["v"].ratio
    with mpmath.workdps(22):
        assert abs(mpmath.mpf(val) / ref - 1) < mpmath.mpf(10) ** -20


def test_mlp_cases(capsys):
    out = _json(capsys, ["--case", "mlp-mse", "--gamma", "1", "--classes", "8", "--m", "4"])
    assert set(out) >= {"hidden", "output"}
    assert out["hidden"]["ratio"] == pytest.approx(5 / (4 * 3 * 10), rel=1e-15)
    out = _json(capsys, ["--case", "mlp-ce", "--gamma", "1", "--classes", "5", "--m", "3",
                         "--samples", "4096", "--seed", "1"])
    for blk in ("hidden", "output"):
        assert out[blk]["estimate"] is True and out[blk]["stderr"]["ratio"] > 0


def test_text_output(capsys):
    assert main(["limits", "--case", "linear-mse", "--gamma", "2", "--classes", "3"]) == 0
    assert "g_ii=3.0" in capsys.readouterr().out


@pytest.mark.parametrize("argv, msg", [
    (["--case", "nope", "--gamma", "1", "--classes", "3"], "valid cases"),
    (["--case", "linear-ce", "--gamma", "-1", "--classes", "3"], "gamma"),
    (["--case", "linear-ce", "--gamma", "1", "--classes", "1"], "classes"),
    (["--case", "linear-ce", "--gamma", "nan", "--classes", "3"], "gamma"),
    (["--case", "mlp-mse", "--gamma", "1", "--classes", "3", "--m", "0"], "m"),
    (["--case", "mlp-ce", "--gamma", "1", "--classes", "3", "--m", "3", "--digits", "20"], "digits"),
])
def test_errors_exit_2(capsys, argv, msg):
    assert main(["limits", *argv]) == 2
    assert msg in capsys.readouterr().err
