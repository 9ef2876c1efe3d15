r"""Mutation testing of the core numerics over a declared list of mutants (tools/mutants.py).

Each mutant replaces one exact snippet of one source file by a wrong variant. For each mutant the
tool copies the repository (the files git tracks or would track, as they are in the working tree) to
a temporary directory, applies the mutation there, and runs the mutant's mapped subset of the
default test suite (``-m 'not slow'`` from pyproject.toml, plus the doctests of the mutated module)
with a timeout. A failing run kills the mutant; a passing run lets it survive. The working tree is
never modified.

numba: each run gets its own ``NUMBA_CACHE_DIR``, a copy of the cache of the unmutated baseline run
with the entries of the mutated module removed, so a kernel is recompiled exactly when its module is
mutated (the kernel modules do not call into each other, so no stale inlined code remains). Python
byte code is not written (``PYTHONDONTWRITEBYTECODE=1``), so no stale ``.pyc`` of an earlier mutant
can be picked up.

A mutant whose original snippet is no longer found exactly once in its file is reported ``stale``
(the list needs maintenance) and left out of the kill ratio; it never stops the run.

Usage (from the repository root)::

    python tools/mutation.py                      # all mutants, table and kill ratio
    python tools/mutation.py --list               # the declared mutants and whether they apply
    python tools/mutation.py --only gmp-accept-sign --only kh-gamma-half
    python tools/mutation.py --json mutation.json --timeout 600

Exit status: 0 when the kill ratio reaches ``--target`` (default 0.9), 1 below it or when the
baseline fails, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from mutants import MUTANTS, Mutant  # noqa: E402

#: outcome of one mutant; ERROR: pytest could not run the tests (usage error, nothing collected)
KILLED, SURVIVED, TIMEOUT, STALE, ERROR = "killed", "survived", "timeout", "stale", "error"


@dataclass
class Outcome:
    name: str
    path: str
    status: str
    seconds: float
    detail: str
    reason: str
    equivalent: str


def snippet_count(mutant: Mutant, root: Path = ROOT) -> int:
    """How often the mutant's original snippet occurs in its file (1 means it applies)."""
    f = root / mutant.path
    if not f.is_file():
        return 0
    return f.read_text(encoding="utf-8").count(mutant.original)


def _tracked_files(root: Path) -> list[str]:
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=root,
                         capture_output=True, check=True).stdout
    return [p for p in out.decode().split("\0") if p and (root / p).is_file()]


def copy_tree(root: Path, dest: Path) -> None:
    """Copy the repository's working-tree files (tracked and untracked-not-ignored) to ``dest``."""
    for rel in _tracked_files(root):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, target)


def _env(cache_dir: Path, tree: Path) -> dict:
    env = dict(os.environ)
    env["NUMBA_CACHE_DIR"] = str(cache_dir)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONPATH"] = str(tree)
    env.pop("NUMBA_DISABLE_JIT", None)
    return env


def run_tests(tree: Path, tests, cache_dir: Path, timeout: float,
              extra=()) -> tuple[str, float, str]:
    """Run pytest on ``tests`` in ``tree``; returns (status, seconds, last line of output)."""
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
           "--no-header", *extra, *tests]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=tree, env=_env(cache_dir, tree), capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return TIMEOUT, time.perf_counter() - t0, f"no result within {timeout:.0f} s"
    dt = time.perf_counter() - t0
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    last = lines[-1] if lines else proc.stderr.strip().splitlines()[-1:]
    if proc.returncode == 0:
        return SURVIVED, dt, str(last)
    if proc.returncode not in (1, 2):   # 1: tests failed; 2: collection failed under the mutant
        return ERROR, dt, f"pytest exit status {proc.returncode}: {last}"[:160]
    failed = [ln for ln in lines if ln.startswith(("FAILED", "ERROR"))]
    return KILLED, dt, (failed[0] if failed else str(last))[:160]


def _drop_module_cache(cache_dir: Path, module: Path) -> None:
    """Remove numba cache entries of ``module`` (``<folder>_<hash>/<stem>.*`` under the cache
    dir)."""
    for sub in cache_dir.glob(f"{module.parent.name}_*"):
        for f in sub.glob(f"{module.stem}.*"):
            f.unlink()


def mutant_tests(mutant: Mutant, full: bool) -> list[str]:
    """The mapped tests of a mutant plus the mutated module (its doctests), or the whole suite."""
    if full:
        return []
    paths = list(mutant.tests)
    if mutant.path.startswith("rmthess/") and mutant.path not in paths:
        paths.append(mutant.path)
    return paths


def run(mutants, *, timeout: float, full: bool, keep: bool, log=print) -> list[Outcome]:
    outcomes = []
    applicable = []
    for m in mutants:
        n = snippet_count(m)
        if n != 1:
            why = "original snippet not found" if n == 0 else f"original snippet found {n} times"
            outcomes.append(Outcome(m.name, m.path, STALE, 0.0, why, m.reason, m.equivalent))
            log(f"  {m.name:<28} {STALE:<9} {why}")
        else:
            applicable.append(m)
    if not applicable:
        return outcomes
    work = Path(tempfile.mkdtemp(prefix="rmthess-mutation-"))
    try:
        tree = work / "tree"
        copy_tree(ROOT, tree)
        base_cache = work / "cache-baseline"
        base_cache.mkdir()  # tests that compile no cached kernel leave it empty
        # the tests before the modules' doctests, as in each mutant's run: collecting a module of a
        # package first (importlib import mode) can import it twice
        union = sorted({t for m in applicable for t in mutant_tests(m, full)},
                       key=lambda p: (p.startswith("rmthess/"), p))
        status, dt, detail = run_tests(tree, union, base_cache, timeout * max(2, len(applicable)))
        log(f"  {'(baseline)':<28} {'passed' if status == SURVIVED else 'FAILED':<9} {dt:6.1f} s  "
            f"{detail}")
        if status != SURVIVED:
            raise RuntimeError(f"the unmutated tree does not pass the mapped tests: {detail}")
        for m in applicable:
            src = tree / m.path
            original = (ROOT / m.path).read_text(encoding="utf-8")
            src.write_text(original.replace(m.original, m.mutated, 1), encoding="utf-8")
            cache = work / "cache-mutant"
            if cache.exists():
                shutil.rmtree(cache)
            shutil.copytree(base_cache, cache)
            _drop_module_cache(cache, src)
            try:
                status, dt, detail = run_tests(tree, mutant_tests(m, full), cache, timeout)
            finally:
                shutil.copy2(ROOT / m.path, src)
            outcomes.append(Outcome(m.name, m.path, status, dt, detail, m.reason, m.equivalent))
            log(f"  {m.name:<28} {status:<9} {dt:6.1f} s  {detail}")
    finally:
        if keep:
            log(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return outcomes


def kill_ratio(outcomes) -> tuple[int, int]:
    """(killed, applicable): timeouts count as killed, stale mutants and errors are left out."""
    applicable = [o for o in outcomes if o.status not in (STALE, ERROR)]
    return sum(o.status in (KILLED, TIMEOUT) for o in applicable), len(applicable)


def table(outcomes) -> str:
    rows = [f"{'mutant':<28} {'file':<34} {'status':<9} {'s':>6}  reason"]
    for o in outcomes:
        rows.append(f"{o.name:<28} {o.path:<34} {o.status:<9} {o.seconds:6.1f}  {o.reason}")
    killed, n = kill_ratio(outcomes)
    stale = sum(o.status == STALE for o in outcomes)
    rows.append(f"kill ratio: {killed}/{n} = {killed / n:.1%}" if n
                else "kill ratio: no mutant applies")
    if stale:
        rows.append(f"stale (original snippet not found, excluded): {stale}")
    errors = sum(o.status == ERROR for o in outcomes)
    if errors:
        rows.append(f"errors (tests could not run, excluded): {errors}")
    for o in outcomes:
        if o.status == SURVIVED:
            rows.append(f"survivor {o.name}: " + (f"equivalent: {o.equivalent}" if o.equivalent
                                                   else "NOT declared equivalent"))
    return "\n".join(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--list", action="store_true", help="list the declared mutants and exit")
    ap.add_argument("--only", action="append", default=[], metavar="NAME",
                    help="run only these mutants (repeatable)")
    ap.add_argument("--timeout", type=float, default=900.0,
                    help="seconds allowed per mutant run (default 900)")
    ap.add_argument("--full", action="store_true",
                    help="run the whole default suite for every mutant instead of its mapped tests")
    ap.add_argument("--json", metavar="PATH", help="also write the outcomes as JSON")
    ap.add_argument("--target", type=float, default=0.9,
                    help="kill ratio below which the exit status is 1 (default 0.9)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary work directory")
    args = ap.parse_args(argv)
    names = {m.name for m in MUTANTS}
    unknown = [n for n in args.only if n not in names]
    if unknown:
        ap.error(f"unknown mutant(s): {', '.join(unknown)}")
    if not args.timeout > 0 or not 0 <= args.target <= 1:
        ap.error("--timeout must be > 0 and --target in [0, 1]")
    mutants = [m for m in MUTANTS if not args.only or m.name in args.only]
    if args.list:
        for m in mutants:
            n = snippet_count(m)
            state = "applies" if n == 1 else ("STALE: not found" if n == 0 else f"STALE: {n}×")
            print(f"{m.name:<28} {m.path:<34} {state:<17} {m.reason}")
        return 0
    print(f"{len(mutants)} mutants, mapped tests of the default suite, "
          f"timeout {args.timeout:.0f} s")
    try:
        outcomes = run(mutants, timeout=args.timeout, full=args.full, keep=args.keep)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print()
    print(table(outcomes))
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(o) for o in outcomes], indent=1) + "\n",
                                   encoding="utf-8")
    killed, n = kill_ratio(outcomes)
    return 0 if n and killed / n >= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
