"""The documentation site lists every theory page and every public subpackage.

Sphinx with ``-W`` catches broken references but not a page left out of the API reference; these
checks read the sources the site is built from.
"""

import pathlib
import pkgutil
import re

import rmthess

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _toctree_entries(text):
    """The entries of the first ``autosummary`` or ``toctree`` block of a page."""
    block = re.search(r"(?:autosummary::|\{toctree\}).*?\n\n(.*?)(?:\n```|\Z)", text, re.S)
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def test_every_theory_page_is_in_the_docs():
    pages = {f"theory/{p.stem}" for p in (ROOT / "theory").glob("*.md")}
    listed = set(_toctree_entries((ROOT / "docs" / "theory.md").read_text(encoding="utf-8")))
    assert pages == listed


def test_every_public_subpackage_has_an_api_page():
    """Each package below ``rmthess`` is listed, except the private ones, the command line and the
    checks of ``rmthess verify`` (which the report documents, theory/verification.md)."""
    packages = {info.name for info in pkgutil.walk_packages(rmthess.__path__, "rmthess.")
                if info.ispkg and not any(p.startswith("_") for p in info.name.split("."))}
    listed = set(_toctree_entries((ROOT / "docs" / "api.rst").read_text(encoding="utf-8")))
    assert packages - {"rmthess.cli", "rmthess.verify.checks"} == listed
