"""Progress bars: drawn on stderr when it is a terminal (a pseudo-terminal of 120 columns here),
cleared at the end, absent with ``--quiet``; stdout carries only the result."""

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios

import pytest

ARGV = ["simulate", "--case", "linear-ce", "--d", "20", "--gamma", "1", "--classes", "3",
        "--reps", "3", "--seed", "1", "--json"]


def _run_on_a_terminal(argv):
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "rmthess", *argv], stdout=subprocess.PIPE,
                            stderr=slave, env={**os.environ, "MPLBACKEND": "Agg"})
    os.close(slave)
    err = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:                      # the terminal closes when the process exits
            break
        if not chunk:
            break
        err += chunk
    out = proc.communicate(timeout=120)[0]
    os.close(master)
    return proc.returncode, out.decode(), err.decode()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pseudo-terminals of Linux")
def test_bar_on_a_terminal_and_none_with_quiet():
    rc, out, err = _run_on_a_terminal(ARGV)
    assert rc == 0 and out.lstrip().startswith("{")
    assert "replicates:" in err and "/3 [" in err        # tqdm: "k/3 [elapsed<left, rate]"
    rc, out, err = _run_on_a_terminal(ARGV + ["--quiet"])
    assert rc == 0 and out.lstrip().startswith("{") and err == ""
