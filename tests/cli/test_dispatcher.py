"""The ``rmthess`` dispatcher: every subcommand is registered, errors become exit status 2."""

import subprocess
import sys

import pytest

from rmthess import cli


def test_every_documented_subcommand_is_registered():
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) == set(cli.COMMANDS)


def test_no_command_prints_help_and_fails(capsys):
    assert cli.main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_version_flag():
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0


def test_console_entry_point_runs_as_module():
    out = subprocess.run([sys.executable, "-m", "rmthess.cli", "--help"],
                         capture_output=True, text=True, check=True)
    assert "verify" in out.stdout
