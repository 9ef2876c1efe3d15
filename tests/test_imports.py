"""Cold start: modules that do not use numba, scipy, sympy or mpmath do not import them.

Each check runs a fresh interpreter (the test process has them loaded already) and lists the heavy
modules present in ``sys.modules`` after the import; the oracle is the module's own import list.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
HEAVY = ("numba", "scipy", "sympy", "matplotlib", "mpmath")


def _loaded_after(statement):
    code = (f"import sys, json\n{statement}\n"
            f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("statement", [
    "import rmthess",
    "import rmthess.laws",
    "from rmthess.laws import entry_law, resolve_init",
    "from rmthess.laws import DiscreteLaw, PointMass",
    "from rmthess.integrals import softmax_moments",
    "from rmthess.cli import build_parser; build_parser()",
    "import rmthess._threads",
    "import rmthess.gmp",
    # the first GMP law of a few atoms: edges, density, cdf, moments in numpy (no compiled kernel)
    "import numpy as np\nfrom rmthess.gmp import GeneralizedMarchenkoPastur\n"
    "from rmthess.laws import DiscreteLaw\n"
    "g = GeneralizedMarchenkoPastur(DiscreteLaw([-1.0, 0.5, 2.0], [0.2, 0.5, 0.3]), 0.5)\n"
    "x = np.linspace(-2.0, 3.0, 2000)\ng.pdf(x), g.cdf(x), g.moments(4)",
    # its Stieltjes transform off the axis, one point and a grid (numpy Newton, GMP-9)
    "import numpy as np\nfrom rmthess.gmp import GeneralizedMarchenkoPastur\n"
    "from rmthess.laws import DiscreteLaw\n"
    "g = GeneralizedMarchenkoPastur(DiscreteLaw([-1.0, 0.5, 2.0], [0.2, 0.5, 0.3]), 0.5)\n"
    "g.stieltjes(0.3 + 0.5j), g.stieltjes(np.linspace(-2.0, 3.0, 500) + 0.01j)",
])
def test_light_imports(statement):
    assert _loaded_after(statement) == []


def test_lazy_names_resolve():
    """Every public name of the lazy packages resolves (a mistyped table would only fail late)."""
    import rmthess.integrals
    import rmthess.laws

    for pkg in (rmthess.laws, rmthess.integrals):
        for name in pkg.__all__:
            value = getattr(pkg, name)
            assert name.isupper() or value.__name__ == name


def test_linear_limits_command_loads_no_numba():
    """``rmthess limits`` for a linear case (the cold-start path of benchmarks/ratio_coldstart.py)
    runs without numba, scipy, sympy or mpmath: the registry loads the linear case alone, the
    covariance options import the GMP package only when given, and mpmath is loaded by
    ``--digits`` alone."""
    loaded = _loaded_after(
        "import contextlib, io\nfrom rmthess.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['limits', '--case', 'linear-ce', '--gamma', '1', '--classes', '1000',"
        " '--json']) == 0")
    assert loaded == []
