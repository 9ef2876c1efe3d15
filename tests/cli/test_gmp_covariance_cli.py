"""``rmthess gmp`` with a population covariance: separable law, named families, files, errors."""

import json

import numpy as np
import pytest

from rmthess.cli import main
from rmthess.gmp import GeneralizedMarchenkoPastur, SeparableMarchenkoPastur
from rmthess.gmp.covariance import powerlaw_spectrum
from rmthess.laws import DiscreteLaw


def test_covariance_atoms_json(capsys):
    assert main(["gmp", "--gamma", "0.5", "--atoms=-1,2", "--covariance-atoms", "0.5,2",
                 "--covariance-probs", "0.25,0.75", "--grid", "7", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    law = SeparableMarchenkoPastur(DiscreteLaw([-1.0, 2.0], [0.5, 0.5]),
                                   DiscreteLaw([0.5, 2.0], [0.25, 0.75]), 0.5)
    assert out["covariance"]["atoms"] == [0.5, 2.0]
    assert out["covariance"]["probs"] == [0.25, 0.75]
    assert out["bulks"] == [list(b) for b in law.support()]
    assert out["moments"] == law.moments(4).tolist()
    assert out["density"] == law.pdf(np.array(out["x"])).tolist()


def test_identity_covariance_is_the_gmp_law(capsys):
    argv = ["gmp", "--gamma", "2", "--atoms=-1,0,2", "--x", "0.5,1.5", "--json"]
    assert main(argv) == 0
    plain = json.loads(capsys.readouterr().out)
    assert main([*argv, "--covariance-atoms", "1"]) == 0
    withcov = json.loads(capsys.readouterr().out)
    for key in ("bulks", "atom_at_zero", "moments", "density"):
        assert withcov[key] == plain[key]
    law = GeneralizedMarchenkoPastur(DiscreteLaw([-1.0, 0.0, 2.0], [1 / 3] * 3), 2.0)
    assert plain["density"] == law.pdf(np.array([0.5, 1.5])).tolist()


def test_powerlaw_family_and_file(tmp_path, capsys):
    assert main(["gmp", "--gamma", "0.5", "--atoms", "1", "--covariance",
                 "powerlaw:alpha=1.2,kappa=50,atoms=8", "--moments", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    h = powerlaw_spectrum(1.2, 50.0, 8)
    # m1 = s1 E λ = 1, m2 = s2 + γ s1² (SEP-6), from the continuous law's exact moments
    assert out["moments"] == pytest.approx([1.0, h.moment(2) + 0.5], rel=1e-12)
    assert len(out["covariance"]["atoms"]) == 8
    path = tmp_path / "eig.txt"
    path.write_text("0.5 1.0\n2.0, 4.0\n")
    assert main(["gmp", "--gamma", "0.5", "--atoms", "1", "--covariance", str(path),
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["covariance"]["atoms"] == [0.5, 1.0, 2.0, 4.0]
    assert out["moments"][0] == pytest.approx(1.875, rel=1e-15)


@pytest.mark.parametrize("argv,match", [
    (["--covariance-atoms=-1,2"], "--covariance-atoms must be > 0"),
    (["--covariance-atoms", "0,2"], "--covariance-atoms must be > 0"),
    (["--covariance-atoms", "1,nan"], "--covariance-atoms must contain finite"),
    (["--covariance-atoms", "1,2", "--covariance-probs", "0.5,0.6"], "--covariance-probs: probs"),
    (["--covariance-atoms", "1,2", "--covariance-probs", "1"], "--covariance-probs has 1"),
    (["--covariance-atoms", "1,2", "--covariance-probs", "nan,1"], "--covariance-probs must"),
    (["--covariance-probs", "1"], "--covariance-probs needs --covariance-atoms"),
    (["--covariance", "powerlaw:alpha=0,kappa=10"], "--covariance: powerlaw: alpha"),
    (["--covariance", "powerlaw:alpha=1,kappa=1"], "--covariance: powerlaw: kappa"),
    (["--covariance", "powerlaw:alpha=1"], "--covariance: powerlaw takes"),
    (["--covariance", "nosuchfile.txt"], "--covariance: 'nosuchfile.txt' is neither"),
])
def test_covariance_errors_exit_2(argv, match, capsys):
    assert main(["gmp", "--gamma", "0.5", "--atoms", "1", *argv]) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1


@pytest.mark.parametrize("content,match", [("1 nan", "finite"), ("1 -2", "> 0"), ("", "finite")])
def test_bad_eigenvalue_files_exit_2(tmp_path, content, match, capsys):
    path = tmp_path / "eig.txt"
    path.write_text(content)
    assert main(["gmp", "--gamma", "0.5", "--atoms", "1", "--covariance", str(path)]) == 2
    err = capsys.readouterr().err
    assert "--covariance:" in err and match in err
