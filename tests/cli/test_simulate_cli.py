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


def _simulate(*extra, case="linear-ce", classes="4"):
    return ["simulate", "--case", case, "--d", "24", "--gamma", "1", "--classes", classes,
            "--reps", "3", "--seed", "2", *extra]


def test_covariance_options(capsys, tmp_path):
    # --covariance-atoms/--covariance-probs, a named family and a file give the same x = Σ^{1/2} y
    # as simulate(covariance=...) with that law (same seed, same numbers); the limit is (ANI-3)
    from rmthess.cases import get_case
    from rmthess.gmp.covariance import covariance_from_atoms
    from rmthess.montecarlo import simulate

    assert main(_simulate("--covariance-atoms", "0.5,2", "--covariance-probs", "0.25,0.75",
                          "--json")) == 0
    out = json.loads(capsys.readouterr().out)
    H = covariance_from_atoms([0.5, 2.0], [0.25, 0.75])
    res = simulate("linear-ce", d=24, gamma=1.0, classes=4, reps=3, rng=2, covariance=H)
    assert out["blocks"]["v"]["ratio"] == res.blocks["v"].ratio
    assert out["covariance"]["s1"] == pytest.approx(1.625) and out["covariance"]["s2"] == \
        pytest.approx(0.25 * 0.25 + 0.75 * 4.0)
    lim = get_case("linear-ce").limits(1.0, 4, covariance=H).blocks["v"].ratio
    assert out["blocks"]["v"]["limit"]["ratio"] == pytest.approx(lim, rel=1e-14)
    path = tmp_path / "eig.txt"
    path.write_text("0.5 2 2 2\n")
    assert main(_simulate("--covariance", str(path))) == 0
    text = capsys.readouterr().out
    assert "covariance" in text and "s1=1.625" in text
    assert main(_simulate("--covariance", "powerlaw:alpha=1,kappa=10", "--case",
                          "linear-mse")) == 0


def test_prior_option(capsys):
    from rmthess.cases import get_case
    from rmthess.laws.prior import zipf_prior

    assert main(_simulate("--prior", "zipf:1", "--json")) == 0
    out = json.loads(capsys.readouterr().out)
    prior = zipf_prior(4, 1.0)
    assert out["prior"] == pytest.approx(prior.tolist(), rel=1e-15)
    per = out["per_class"]["v"]
    assert set(per) == {"g_ii", "stderr", "prediction", "prediction_stderr", "limit"}
    assert len(per["g_ii"]) == 4 and len(per["prediction"]) == 4
    cl = get_case("linear-ce").class_limits(1.0, prior)
    assert per["limit"] == pytest.approx(cl["g_ii"].tolist(), rel=1e-14)
    assert out["blocks"]["v"]["limit"]["ratio"] == pytest.approx(
        cl["g_ij_mean"] / cl["g_ii_mean"], rel=1e-14)
    assert main(_simulate("--prior", "zipf:1")) == 0
    assert "per-class" in capsys.readouterr().out


@pytest.mark.parametrize("extra, case, match", [
    (["--prior", "zipf:1"], "linear-mse", "--prior applies to linear-ce and mlp-ce only"),
    (["--prior", "zipf:1", "--m", "3"], "mlp-mse", "--prior applies to linear-ce and mlp-ce"),
    (["--prior", "zipf:-1"], "linear-ce", "--prior: zipf exponent"),
    (["--prior", "/no/such/file"], "linear-ce", "--prior: cannot read"),
    (["--covariance-atoms=-1,2"], "linear-ce", "--covariance-atoms must be > 0"),
    (["--covariance-probs", "1"], "linear-ce", "--covariance-probs needs --covariance-atoms"),
    (["--covariance", "powerlaw:alpha=0"], "linear-ce", "--covariance: powerlaw"),
])
def test_covariance_and_prior_refusals_are_one_line(capsys, extra, case, match):
    assert main(_simulate(*extra, case=case)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and match in err


def test_mlp_covariance_and_prior(capsys):
    # the mlp cases with a covariance: the limit is (ANI-6) of limits(covariance=), exact for
    # mlp-mse; no finite-size prediction is derived (ANI-14), so none is printed
    from rmthess.cases import get_case
    from rmthess.gmp.covariance import covariance_from_atoms

    args = _simulate("--covariance-atoms", "0.5,2", "--m", "3", case="mlp-mse", classes="3")
    assert main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    lim = get_case("mlp-mse").limits(1.0, 3, m=3, covariance=covariance_from_atoms([0.5, 2.0]))
    hidden = out["blocks"]["hidden"]
    assert hidden["prediction"] is None
    assert hidden["limit"]["ratio"] == pytest.approx(lim.blocks["hidden"].ratio, rel=1e-14)
    assert main(args) == 0
    assert "no finite-size prediction" in capsys.readouterr().out
    # mlp-ce with a prior: the per-class output diagonal norms, no prediction
    args = _simulate("--prior", "zipf:1", "--m", "3", case="mlp-ce", classes="3")
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "per-class |H_{v_c v_c}|^2 (output)" in text and "no finite-size prediction" in text


def test_prior_and_covariance_together(capsys):
    # the joint design (ANI-15): the same numbers as simulate(prior=, covariance=) at the same
    # seed; the JSON records the covariance (law, s1, s2) and the prior, the per-class norms with
    # their joint prediction and the limits g_ii(c) of (ANI-13)
    from rmthess.cases import get_case
    from rmthess.gmp.covariance import parse_covariance
    from rmthess.laws.prior import zipf_prior
    from rmthess.montecarlo import simulate

    spectrum = "powerlaw:alpha=1,kappa=20"
    args = _simulate("--prior", "zipf:1", "--covariance", spectrum)
    assert main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    H, prior = parse_covariance(spectrum), zipf_prior(4, 1.0)
    assert {"covariance", "prior", "per_class"} <= set(out)
    assert set(out["covariance"]) == {"law", "s1", "s2"}
    assert out["covariance"]["s2"] == pytest.approx(H.moment(2), rel=1e-14)
    assert out["prior"] == pytest.approx(prior.tolist(), rel=1e-15)
    res = simulate("linear-ce", d=24, gamma=1.0, classes=4, reps=3, rng=2, prior=prior,
                   covariance=H)
    v = out["blocks"]["v"]
    assert v["ratio"] == res.blocks["v"].ratio and v["prediction"]["ratio"] is not None
    per = out["per_class"]["v"]
    cl = get_case("linear-ce").class_limits(1.0, prior, covariance=H)
    assert per["limit"] == pytest.approx(cl["g_ii"].tolist(), rel=1e-14)
    assert per["g_ii"] == pytest.approx(res.class_diag["v"]["mean"].tolist(), rel=1e-15)
    lim = get_case("linear-ce").limits(1.0, 4, prior=prior, covariance=H).blocks["v"].ratio
    assert v["limit"]["ratio"] == pytest.approx(lim, rel=1e-14)
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "covariance" in text and "prior: logit offsets" in text and "per-class" in text
    # mlp-ce takes both; no prediction (ANI-14)
    assert main(_simulate("--prior", "zipf:1", "--covariance-atoms", "1,2", "--m", "3", "--json",
                          case="mlp-ce", classes="3")) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"covariance", "prior"} <= set(out) and out["blocks"]["output"]["prediction"] is None
