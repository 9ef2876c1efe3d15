"""The command-line campaign (campaign.py): every option with bad and extreme values gives either a
correct result or exit 2 with one line that names the problem — no traceback, hang, silent NaN or
accepted invalid input. The runs that take seconds each (mlp-ce Monte Carlo, mpmath digits, larger
simulations) are marked slow; the rest run in-process in the default suite."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("rmthess_fuzz_campaign",
                                               Path(__file__).with_name("campaign.py"))
campaign = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(campaign)


def _slow(label, invalid):
    if label[0] == "limits" and label[1] == "mlp-ce" and not invalid:
        return True
    if label[0] == "limits" and label[2] == "--digits" and not invalid:
        return True
    return label[0] == "simulate" and not invalid and label[1] in ("--d", "--design", "--gamma")


def _params():
    out = []
    for label, argv, invalid in campaign.campaign():
        marks = [pytest.mark.slow] if _slow(label, invalid) else []
        out.append(pytest.param(label, argv, invalid, id="|".join(label), marks=marks))
    return out


@pytest.mark.parametrize("label, argv, invalid", _params())
def test_every_option_right_or_refused(label, argv, invalid):
    kind, detail = campaign.classify(argv, invalid=invalid, names=campaign._names(label[-2]))
    assert kind in ("ok", "refused"), f"{kind}: {detail}"
    if invalid:
        assert kind == "refused"


def _json(argv):
    rc, out, err, exc = campaign.run(argv + ["--json"])
    assert rc == 0 and not exc, (err, exc)
    return json.loads(out)


@pytest.mark.parametrize("gamma", [1e-300, 1e-12, 1e12, 1e300])
def test_linear_mse_extremes_against_closed_form(gamma):
    """g_ii = 1 + γ, g_ij = 0 (CASE-3), to the last bit."""
    out = _json(["limits", "--case", "linear-mse", "--gamma", repr(gamma), "--classes", "3"])
    assert out["blocks"]["v"]["g_ii"] == 1.0 + gamma and out["blocks"]["v"]["g_ij"] == 0.0


@pytest.mark.parametrize("gamma, classes", [(1e-300, 2), (1e-300, 10**6), (1e300, 2),
                                            (1e290, 10**6)])
def test_mlp_mse_extremes_against_closed_form(gamma, classes):
    """The hidden ratio (1 + 4γ)/(4(1 + 2γ)(C + 2)) (CASE-7) at the ends of γ: 1/(4(C+2)) and
    1/(2(C+2)) up to relative 1e-290 — no overflow on the way (g_ii ∝ C²γ must stay in float64:
    γ = 1e300 with C = 10⁶ is refused, see test_mlp_mse_overflow_refused)."""
    out = _json(["limits", "--case", "mlp-mse", "--gamma", repr(gamma), "--classes", str(classes),
                 "--m", "4"])
    ref = (1 / (4 * (classes + 2))) if gamma < 1 else (1 / (2 * (classes + 2)))
    assert out["blocks"]["hidden"]["ratio"] == pytest.approx(ref, rel=1e-15)


def test_linear_ce_small_sigma_against_expansion():
    """σ_v = 1e-3: p = 1/C + O(σ), so E a = (1/C)(1 − 1/C)(1 + O(σ²)) — relative 1e-5 is 10σ²."""
    out = _json(["limits", "--case", "linear-ce", "--gamma", "1", "--classes", "5",
                 "--sigma-v", "1e-3"])
    ea = 0.2 * 0.8
    assert out["blocks"]["v"]["g_ii"] == pytest.approx(ea * ea + ea * ea, rel=1e-5)
    assert out["blocks"]["v"]["ratio"] == pytest.approx((ea / 4) ** 2 * 2 / (2 * ea * ea), rel=1e-5)


def test_linear_ce_large_sigma_issue_example():
    """σ_v = 10, C = 3, γ = 1 (the mpmath oracle: g_ii = 0.0054679, ratio 0.43666; checked to 1e-11
    by tests/integrals/test_softmax.py::test_large_sigma_block_norm_against_laplace_quadrature)."""
    out = _json(["limits", "--case", "linear-ce", "--gamma", "1", "--classes", "3",
                 "--sigma-v", "10"])
    assert out["blocks"]["v"]["g_ii"] == pytest.approx(0.0054679, abs=5e-8)
    assert out["blocks"]["v"]["ratio"] == pytest.approx(0.43666, abs=5e-6)


def test_subprocess_errors_are_one_line():
    """A few real processes: no traceback reaches the terminal, exit 2, one line on stderr."""
    for argv in (["limits", "--case", "linear-ce", "--gamma", "1", "--classes", "3",
                  "--sigma-v", "1e300"],
                 ["simulate", "--case", "linear-ce", "--d", "100000", "--gamma", "1",
                  "--classes", "3", "--reps", "2"],
                 ["verify", "--only", ","]):
        p = subprocess.run([sys.executable, "-m", "rmthess.cli", *argv], capture_output=True,
                           text=True, timeout=120)
        assert p.returncode == 2, p.stderr
        assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr, p.stderr


def test_mlp_mse_overflow_refused():
    rc, out, err, exc = campaign.run(["limits", "--case", "mlp-mse", "--gamma", "1e300",
                                      "--classes", "1e6", "--m", "4"])
    assert rc == 2 and not exc and "not finite in float64" in err


def test_long_simulation_shows_progress(monkeypatch):
    """Above LONG_RUN estimated seconds (0 here) the estimate goes to stderr once, after the input
    was accepted; no bar is drawn when stderr is not a terminal, nothing with --quiet."""
    from rmthess.cli import _progress

    monkeypatch.setattr(_progress, "LONG_RUN", 0.0)
    argv = ["simulate", "--case", "linear-ce", "--d", "12", "--gamma", "1", "--classes", "3",
            "--reps", "2", "--seed", "1"]
    rc, out, err, exc = campaign.run(argv)
    assert rc == 0 and not exc
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("rmthess simulate: 2 replicates, estimated ")
    rc, out, err, exc = campaign.run(argv + ["--quiet"])
    assert rc == 0 and err == ""


def test_force_lifts_the_cost_guard(monkeypatch):
    """--force runs what the guard would refuse (the guard's time limit lowered to 0 here)."""
    import rmthess._cost as cost

    monkeypatch.setattr(cost, "MAX_SECONDS", 0.0)
    argv = ["simulate", "--case", "linear-ce", "--d", "12", "--gamma", "1", "--classes", "3",
            "--reps", "2", "--seed", "1"]
    rc, _, err, _ = campaign.run(argv)
    assert rc == 2 and "--force" in err
    rc, out, _, exc = campaign.run(argv + ["--force"])
    assert rc == 0 and not exc and "linear-ce" in out
