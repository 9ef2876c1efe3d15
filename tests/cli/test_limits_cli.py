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
    assert (out["schema"], out["schema_version"], out["command"]) == ("rmthess", 1, "limits")
    ref = get_case("linear-ce").limits(0.5, 1000).blocks["v"]
    v = out["blocks"]["v"]
    assert v["g_ii"] == ref.g_ii and v["g_ij"] == ref.g_ij
    assert v["ratio"] == ref.ratio and v["stderr"] is None


def test_digits_uses_the_oracle(capsys):
    out = _json(capsys, ["--case", "linear-ce", "--gamma", "1", "--classes", "10",
                         "--digits", "22"])
    val = out["blocks"]["v"]["ratio"]
    assert isinstance(val, str) and len(val.replace("0.", "", 1).lstrip("0")) == 22
    ref = get_case("linear-ce").limits_mp(1.0, 10, dps=22).blocks["v"].ratio
    with mpmath.workdps(22):
        assert abs(mpmath.mpf(val) / ref - 1) < mpmath.mpf(10) ** -20


def test_mlp_cases(capsys):
    out = _json(capsys, ["--case", "mlp-mse", "--gamma", "1", "--classes", "8", "--m", "4"])
    assert set(out["blocks"]) == {"hidden", "output"}
    assert out["blocks"]["hidden"]["ratio"] == pytest.approx(5 / (4 * 3 * 10), rel=1e-15)
    out = _json(capsys, ["--case", "mlp-ce", "--gamma", "1", "--classes", "5", "--m", "3",
                         "--samples", "4096", "--seed", "1"])
    for blk in ("hidden", "output"):
        assert out["blocks"][blk]["estimate"] is True and out["blocks"][blk]["stderr"]["ratio"] > 0


def test_mlp_ce_rtol_seed_and_digits(capsys):
    from rmthess._format import supported_digits as _digits

    out = _json(capsys, ["--case", "mlp-ce", "--gamma", "1", "--classes", "4", "--m", "3",
                         "--rtol", "2e-2", "--seed", "5"])
    assert out["seed"] == 5
    ref = get_case("mlp-ce").limits(1.0, 4, m=3, rng=5, rtol=2e-2)
    for blk in ("hidden", "output"):
        b, e = ref.blocks[blk], out["blocks"][blk]
        assert e["stderr"]["ratio"] == pytest.approx(b.stderr_ratio, rel=0.05)
        assert e["ratio"] == _digits(b.ratio, b.stderr_ratio)
        assert abs(e["ratio"] - b.ratio) <= b.stderr_ratio / 10      # rounded below the error
    assert main(["limits", "--case", "mlp-ce", "--gamma", "1", "--classes", "4", "--m", "3",
                 "--rtol", "2e-2", "--seed", "5"]) == 0
    text = capsys.readouterr().out
    assert "seed=5" in text and "±" in text


def test_digits_follow_the_error():
    from rmthess._format import supported_digits as _digits

    assert _digits(0.0495922127790262, 8.1e-6) == 0.0495922      # error to 2 significant digits
    assert _digits(123.456789, 0.5) == 123.46
    assert _digits(0.1234567890123, None) == 0.1234567890123      # exact: full precision


def test_text_output(capsys):
    assert main(["limits", "--case", "linear-mse", "--gamma", "2", "--classes", "3"]) == 0
    assert "g_ii=3.0" in capsys.readouterr().out


@pytest.mark.parametrize("argv, msg", [
    (["--case", "nope", "--gamma", "1", "--classes", "3"], "valid cases"),
    (["--case", "linear-ce", "--gamma", "-1", "--classes", "3"], "gamma"),
    (["--case", "linear-ce", "--gamma", "1", "--classes", "1"], "classes"),
    (["--case", "linear-ce", "--gamma", "nan", "--classes", "3"], "gamma"),
    (["--case", "mlp-mse", "--gamma", "1", "--classes", "3", "--m", "0"], "m"),
    (["--case", "mlp-ce", "--gamma", "1", "--classes", "3", "--m", "3", "--digits", "20"],
     "digits"),
    (["--case", "mlp-ce", "--gamma", "1", "--classes", "3", "--m", "1"], "m >= 2"),
    (["--case", "mlp-ce", "--gamma", "1", "--classes", "3", "--m", "3", "--rtol", "0"], "rtol"),
    (["--case", "mlp-ce", "--gamma", "1", "--classes", "3", "--m", "3", "--rtol", "nan"], "rtol"),
    (["--case", "mlp-ce", "--gamma", "1", "--classes", "3", "--m", "3", "--rtol", "-1"], "rtol"),
    # max_time covers the γ-term quadrature, whose cost estimate (~2 s) is refused first here;
    # an unreachable rtol after it: tests/cases/test_mlp_ce_pairs.py
    (["--case", "mlp-ce", "--gamma", "1", "--classes", "3", "--m", "3", "--rtol", "1e-9",
      "--max-time", "1"], "max_time=1 s"),
    (["--case", "linear-ce", "--gamma", "1", "--classes", "3", "--rtol", "1e-3"], "mlp-ce only"),
])
def test_errors_exit_2(capsys, argv, msg):
    assert main(["limits", *argv]) == 2
    err = capsys.readouterr().err
    assert msg in err and err.count("\n") == 1


def test_entry_law_and_hidden_scale(capsys):
    """``--v-law``/``--sigma-w``/``--init`` against closed forms written out here (CASE-20,
    CASE-21).

    mlp-mse hidden ratio (1 + 4γ)/(4(1 + 2γ)(C − 1 + μ₄)) with μ₄ = 9/5 for uniform entries; the
    hidden blocks of the MSE loss do not see the scale of W (κ = VᵀV, ReLU indicators are
    scale-free), while the output blocks ‖E s sᵀ‖² grow like σ_w⁴ (s = relu(W x)).
    """
    out = _json(capsys, ["--case", "mlp-mse", "--gamma", "1", "--classes", "10", "--m", "8",
                         "--v-law", "uniform"])
    assert out["blocks"]["hidden"]["ratio"] == pytest.approx(5 / (12 * (9 + 9 / 5)), rel=1e-14)
    assert out["init"]["v_law"] == "uniform"
    base = _json(capsys, ["--case", "mlp-mse", "--gamma", "1", "--classes", "10", "--m", "8"])
    scaled = _json(capsys, ["--case", "mlp-mse", "--gamma", "1", "--classes", "10", "--m", "8",
                            "--sigma-w", "2"])
    s, b = scaled["blocks"], base["blocks"]
    assert s["hidden"]["g_ii"] == pytest.approx(b["hidden"]["g_ii"], rel=1e-14)
    assert s["hidden"]["g_ij"] == pytest.approx(b["hidden"]["g_ij"], rel=1e-14)
    assert s["output"]["g_ii"] == pytest.approx(16 * b["output"]["g_ii"], rel=1e-14)
    torch = _json(capsys, ["--case", "mlp-mse", "--gamma", "0.5", "--classes", "10", "--m", "8",
                           "--init", "torch-default"])
    assert torch["blocks"]["hidden"]["ratio"] == pytest.approx(3 / (8 * (9 + 9 / 5)), rel=1e-14)
    assert torch["init"]["name"] == "torch-default" and torch["init"]["w_law"] == "uniform"


@pytest.mark.parametrize("argv, option", [
    (["--case", "linear-ce", "--v-law", "uniform"], "--v-law"),
    (["--case", "mlp-ce", "--m", "8", "--init", "torch-default", "--sigma-v", "2"], "init"),
    (["--case", "mlp-ce", "--m", "8", "--v-law", "cauchy"], "entry law"),
    (["--case", "mlp-ce", "--m", "8", "--init", "he-normal"], "he-normal"),
])
def test_entry_law_errors(capsys, argv, option):
    assert main(["limits", "--gamma", "1", "--classes", "10", *argv]) == 2
    err = capsys.readouterr().err
    assert option in err and len(err.strip().splitlines()) == 1


def test_init_option_help_names_every_registered_value():
    """The shared help text of --init/--v-law lists exactly the registered presets and entry
    laws."""
    from rmthess.cli import build_parser
    from rmthess.laws.entry import ENTRY_LAWS
    from rmthess.laws.init import INITS

    sub = build_parser()._subparsers._group_actions[0].choices
    for command in ("limits", "simulate"):
        helps = {a.dest: a.help for a in sub[command]._actions}
        for name in INITS:
            assert name in helps["init"], (command, name)
        for name in ENTRY_LAWS:
            assert name in helps["v_law"], (command, name)


def test_mlp_ce_max_time_below_the_gamma_term_cost(capsys):
    """--max-time covers the γ-term: refused before the work, exit 2, one line naming it."""
    assert main(["limits", "--case", "mlp-ce", "--gamma", "1", "--classes", "7", "--m", "3",
                 "--sigma-v", "14", "--max-time", "0.5", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "max_time" in err and "sigma_v" in err


def test_mlp_ce_without_asymptote_says_why(capsys):
    """m = 2 with σ_v = 1 has no C → ∞ constants (σ_v²/m ≥ 1/2): the JSON keeps the key, null, with
    the reason, and the text says it too."""
    argv = ["--case", "mlp-ce", "--gamma", "1", "--classes", "5", "--m", "2", "--samples", "512",
            "--seed", "1"]
    out = _json(capsys, argv)
    for blk in ("hidden", "output"):
        e = out["blocks"][blk]
        assert e["asymptote"] is None and "m >= 3" in e["asymptote_note"]
    assert main(["limits", *argv]) == 0
    assert "no C→∞ leading term: " in capsys.readouterr().out
    assert _json(capsys, ["--case", "mlp-mse", "--gamma", "1", "--classes", "5", "--m", "2"]
                 )["blocks"]["hidden"]["asymptote"] > 0


def test_covariance_atoms(capsys, tmp_path):
    # the CLI passes the spectrum to the case (theory/anisotropic.md); a file of eigenvalues with
    # the same empirical law gives the same numbers
    from rmthess.gmp.covariance import covariance_from_atoms

    out = _json(capsys, ["--case", "linear-ce", "--gamma", "1", "--classes", "3",
                         "--covariance-atoms", "0.5,3", "--covariance-probs", "0.25,0.75"])
    H = covariance_from_atoms([0.5, 3.0], [0.25, 0.75])
    ref = get_case("linear-ce").limits(1.0, 3, covariance=H).blocks["v"]
    v = out["blocks"]["v"]
    assert (v["g_ii"], v["g_ij"], v["ratio"]) == (ref.g_ii, ref.g_ij, ref.ratio)
    assert out["covariance"]["s1"] == 0.25 * 0.5 + 0.75 * 3.0
    f = tmp_path / "eig.txt"
    f.write_text("0.5 3 3 3\n")
    out2 = _json(capsys, ["--case", "linear-ce", "--gamma", "1", "--classes", "3",
                          "--covariance", str(f)])
    assert out2["blocks"]["v"]["ratio"] == pytest.approx(ref.ratio, rel=1e-14)


def test_covariance_mlp_cases(capsys):
    # the mlp cases take the spectrum too (theory/anisotropic.md, ANI-5–ANI-7): the JSON carries the
    # API's numbers on the network's scale (σ_w^∓4, CASE-20), and Σ = I (one atom 1) gives the
    # isotropic output unchanged, the mlp-ce estimate included (same seed)
    from rmthess.gmp.covariance import covariance_from_atoms

    H = covariance_from_atoms([0.5, 3.0], [0.25, 0.75])
    argv = ["--case", "mlp-mse", "--gamma", "0.5", "--classes", "4", "--m", "3", "--sigma-w",
            "0.5"]
    out = _json(capsys, [*argv, "--covariance-atoms", "0.5,3", "--covariance-probs", "0.25,0.75"])
    ref = get_case("mlp-mse").limits(0.5, 4, m=3, sigma_v=0.5, covariance=H).blocks
    assert out["blocks"]["hidden"]["g_ii"] == ref["hidden"].g_ii * 0.5 ** -4
    assert out["blocks"]["output"]["g_ii"] == ref["output"].g_ii * 0.5 ** 4
    assert out["blocks"]["hidden"]["ratio"] == ref["hidden"].ratio
    assert out["covariance"]["s2"] == 0.25 * 0.25 + 0.75 * 9.0
    argv = ["--case", "mlp-ce", "--gamma", "1", "--classes", "3", "--m", "3", "--samples", "512",
            "--seed", "4"]
    iso = _json(capsys, argv)
    ident = _json(capsys, [*argv, "--covariance-atoms", "1"])
    assert ident["blocks"] == iso["blocks"] and ident["covariance"]["s1"] == 1.0
    # with a class prior (mlp-ce): the per-class values of class_limits at the same seed
    from rmthess.laws.prior import zipf_prior

    out = _json(capsys, [*argv, "--prior", "zipf:1", "--covariance-atoms", "0.5,3",
                         "--covariance-probs", "0.25,0.75"])
    cl = get_case("mlp-ce").class_limits(1.0, zipf_prior(3, 1.0), m=3, samples=512, rng=4,
                                         covariance=H)
    assert out["per_class"]["g_ii"] == [float(x) for x in cl["g_ii"]]
    assert out["covariance"]["s1"] == 0.25 * 0.5 + 0.75 * 3.0


@pytest.mark.parametrize("argv,option", [
    (["--case", "linear-ce", "--covariance-atoms=-1,3"], "--covariance-atoms"),
    (["--case", "linear-ce", "--covariance-atoms", "1,nan"], "--covariance-atoms"),
    (["--case", "linear-ce", "--covariance-probs", "0.5,0.5"], "--covariance-probs"),
    (["--case", "linear-mse", "--covariance-atoms", "1,3", "--covariance-probs", "0.2,0.2"],
     "--covariance-probs"),
    (["--case", "linear-ce", "--covariance", "powerlaw:alpha=0"], "--covariance"),
    (["--case", "mlp-mse", "--m", "4", "--covariance-atoms", "0,3"], "--covariance-atoms"),
    (["--case", "mlp-ce", "--m", "4", "--covariance", "powerlaw:alpha=1,kappa=1"], "--covariance"),
    (["--case", "mlp-mse", "--m", "4", "--covariance-atoms", "1,3", "--prior", "zipf:1"],
     "--prior"),
])
def test_covariance_errors(capsys, argv, option):
    assert main(["limits", "--gamma", "1", "--classes", "3", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and option in err
