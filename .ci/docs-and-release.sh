#!/usr/bin/env bash
# Documentation and release checks, each in its own virtual environment:
#   1. the docs build with warnings as errors (it executes the notebooks at their small sizes);
#   2. a notebook executed by Jupyter through the [notebooks] extra (jupytext --execute);
#   3. the wheel and sdist built, checked by twine, carrying the version of rmthess/__init__.py, every
#      module (wheel) and every file the tests, notebooks and docs read (sdist);
#   4. the wheel installed in a fresh environment, the main command run from it, away from the sources.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
PASSED=0
step() { echo; echo "== [${SECONDS}s] $*"; }
ok() { PASSED=$((PASSED + 1)); echo "ok: $*"; }

step "docs: install the docs and notebooks extras"
python3 -m venv "$WORK/docs"
"$WORK/docs/bin/python" -m pip install -q --upgrade pip
"$WORK/docs/bin/python" -m pip install -q -e ".[docs,notebooks]"

step "docs: sphinx-build -W --keep-going"
rm -rf docs/_build docs/generated
PATH="$WORK/docs/bin:$PATH" "$WORK/docs/bin/python" -m sphinx -W --keep-going -q -b html docs docs/_build/html
for page in index getting-started gallery theory/gmp api notebooks/01_gmp_law; do
    test -s "docs/_build/html/$page.html"
done
ok "docs built without warnings"

step "notebooks: jupytext --to ipynb --execute"
mkdir -p "$WORK/nb"
RMTHESS_NOTEBOOK_SIZE=small "$WORK/docs/bin/jupytext" --to ipynb --execute notebooks/01_gmp_law.py \
    -o "$WORK/nb/01_gmp_law.ipynb"
"$WORK/docs/bin/python" - "$WORK/nb/01_gmp_law.ipynb" <<'PY'
import sys, nbformat
nb = nbformat.read(sys.argv[1], as_version=4)
images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
assert len(images) == 1, f"expected the notebook's one figure among its outputs, found {len(images)}"
PY
test -s "$WORK/nb/figures/01_gmp_spectra.png"
ok "notebook executed by Jupyter, figure shown and saved"

step "release: build the wheel and sdist, twine check"
python3 -m venv "$WORK/build"
"$WORK/build/bin/python" -m pip install -q build twine
"$WORK/build/bin/python" -m build -q --outdir "$WORK/dist" .
"$WORK/build/bin/python" -m twine check --strict "$WORK"/dist/*
VERSION=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' rmthess/__init__.py)
test -n "$VERSION"
ls "$WORK/dist/rmthess-$VERSION-py3-none-any.whl" "$WORK/dist/rmthess-$VERSION.tar.gz"
tar xzf "$WORK/dist/rmthess-$VERSION.tar.gz" -O "rmthess-$VERSION/PKG-INFO" | grep -x "Version: $VERSION" > /dev/null
"$WORK/build/bin/python" -m zipfile -l "$WORK/dist/rmthess-$VERSION-py3-none-any.whl" | grep "rmthess-$VERSION.dist-info/METADATA" > /dev/null
tar tzf "$WORK/dist/rmthess-$VERSION.tar.gz" | grep -x "rmthess-$VERSION/CHANGELOG.md" > /dev/null
grep -q "$VERSION" CHANGELOG.md  # the changelog speaks of the version being built
# The wheel carries every module of the package (subpackages included); the sdist every tracked file
# that the tests, notebooks, docs and benchmarks read.
"$WORK/build/bin/python" -m zipfile -l "$WORK/dist/rmthess-$VERSION-py3-none-any.whl" \
    | awk '{print $1}' | grep '^rmthess/.*\.py$' | sort > "$WORK/wheel-modules"
git ls-files 'rmthess/*.py' | sort | diff - "$WORK/wheel-modules"
tar tzf "$WORK/dist/rmthess-$VERSION.tar.gz" | sed "s|^rmthess-$VERSION/||" | sort > "$WORK/sdist-files"
git ls-files theory tests notebooks examples benchmarks tools docs .ci CHANGELOG.md README.md \
    | grep -v '^docs/\(theory\|notebooks\)$' | sort | comm -23 - "$WORK/sdist-files" > "$WORK/sdist-missing"
test ! -s "$WORK/sdist-missing" || { echo "missing from the sdist:"; cat "$WORK/sdist-missing"; exit 1; }
ok "wheel and sdist of rmthess $VERSION pass twine check"

step "release: install the wheel in a fresh environment and run the main command"
python3 -m venv "$WORK/wheel"
"$WORK/wheel/bin/python" -m pip install -q "$WORK/dist/rmthess-$VERSION-py3-none-any.whl"
cd "$WORK"  # away from the sources: what runs is the installed wheel
test "$("$WORK/wheel/bin/rmthess" --version)" = "rmthess $VERSION"
"$WORK/wheel/bin/python" -c "import rmthess, sys; sys.exit(not rmthess.__file__.startswith('$WORK/wheel/'))"
"$WORK/wheel/bin/rmthess" verify --quick --out "$WORK/report"
test -s "$WORK/report/report.html"
ok "rmthess verify --quick from the installed wheel"
cd "$ROOT"

echo
echo "docs and release checks took ${SECONDS}s"
echo "docs and release: $PASSED passed, 0 failed"
