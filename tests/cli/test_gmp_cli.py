"""``rmthess gmp`` end to end: text and JSON output, and user errors (exit status 2)."""

import json

import numpy as np
import pytest

from rmthess.cli import main
from rmthess.gmp import GeneralizedMarchenkoPastur
from rmthess.laws import DiscreteLaw


def test_json_output(capsys):
    assert main(["gmp", "--gamma", "0.5", "--atoms", "1,5", "--probs", "0.6,0.4",
                 "--grid", "9", "--moments", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    law = GeneralizedMarchenkoPastur(DiscreteLaw([1.0, 5.0], [0.6, 0.4]), 0.5)
    assert out["gamma"] == 0.5
    assert out["bulks"] == [list(b) for b in law.support()]
    assert out["atom_at_zero"] == 0.0
    assert out["moments"] == law.moments(3).tolist()
    assert len(out["x"]) == 9 and out["density"] == law.pdf(np.array(out["x"])).tolist()


def test_x_points_and_negative_atoms(capsys):
    assert main(["gmp", "--gamma", "2", "--atoms=-1,0,2", "--x", "0.5,1.5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["x"] == [0.5, 1.5]
    assert out["atom_at_zero"] == pytest.approx(1 - (2 / 3) / 2)
    assert len(out["moments"]) == 4


def test_text_output(capsys):
    assert main(["gmp", "--gamma", "1", "--atoms", "1"]) == 0
    text = capsys.readouterr().out
    assert "bulks" in text and "m_2 = 2" in text and "atom at 0" in text


@pytest.mark.parametrize("argv,match", [
    (["--gamma", "0", "--atoms", "1"], "gamma"),
    (["--gamma", "nan", "--atoms", "1"], "gamma"),
    (["--gamma", "x", "--atoms", "1"], "gamma"),
    (["--gamma", "1", "--atoms", "1,2", "--probs", "0.5,0.6"], "sum to 1"),
    (["--gamma", "1", "--atoms", "1,2", "--probs=-0.5,1.5"], ">= 0"),
    (["--gamma", "1", "--atoms", "1,2", "--probs", "0.5"], "entries"),
    (["--gamma", "1", "--atoms", ","], "atoms"),
    (["--gamma", "1", "--atoms", "1,nan"], "finite"),
    (["--gamma", "1", "--atoms", "1", "--grid", "1"], "grid"),
    (["--gamma", "1", "--atoms", "1", "--moments", "-2"], "moments"),
])
def test_user_errors_exit_2(argv, match, capsys):
    assert main(["gmp", *argv]) == 2
    assert match in capsys.readouterr().err
