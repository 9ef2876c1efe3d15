"""The bad-input campaign against the command line: every option of ``limits``, ``simulate``,
``sweep`` and ``verify`` with the classes of bad and extreme values, run in-process through
:func:`rmthess.cli.main`, each run classified.

Classes of outcome:

* ``ok`` — exit 0 and every printed number finite;
* ``refused`` — exit 2 with one error line that names the option or the parameter;
* ``traceback`` — an exception escaped ``main`` (the user would see a traceback);
* ``hang`` — the run passed :data:`HANG_SECONDS` (interrupted by an alarm);
* ``silent-nan`` — exit 0 with a NaN, an infinity or a missing (null) number in the output;
* ``accepted-invalid`` — exit 0 for an input that is invalid;
* ``unclear`` — exit 2 with more than one line, or a line that names nothing.

``python tests/fuzz/campaign.py [--big]`` prints the counts of the campaign (``--big``: the slow
one).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import signal
import sys
from collections import Counter

#: a run longer than this counts as a hang (in-process, interrupted by SIGALRM)
HANG_SECONDS = 60

#: values that no numeric option accepts
ALWAYS_BAD = ["", "abc", "nan", "inf", "-inf", "1e400", "-1", "0x1p3", "1,2"]
#: values that integer options refuse (and real ones accept)
NON_INTEGER = ["2.5", "1e-300"]

#: base command lines (all valid and fast) and, per option, bad values and valid extremes
LIMITS_BASE = {
    "linear-ce": ["limits", "--case", "linear-ce", "--gamma", "1", "--classes", "3"],
    "linear-mse": ["limits", "--case", "linear-mse", "--gamma", "1", "--classes", "3"],
    "mlp-mse": ["limits", "--case", "mlp-mse", "--gamma", "1", "--classes", "3", "--m", "4"],
    "mlp-ce": ["limits", "--case", "mlp-ce", "--gamma", "1", "--classes", "3", "--m", "3",
               "--samples", "4096", "--seed", "1"],
}
LIMITS_OPTIONS = {
    # option: (invalid values, valid extreme values)
    "--gamma": (ALWAYS_BAD + ["0", "-0"], ["1e-300", "1e-12", "1e12", "1e300"]),
    "--classes": (ALWAYS_BAD + NON_INTEGER + ["0", "1"], ["2", "1e4"]),
    "--sigma-v": (ALWAYS_BAD + ["0", "1e-60", "1e60"], ["1e-3", "15", "0.01", "9.5", "12.9"]),
    "--digits": (ALWAYS_BAD + NON_INTEGER + ["0", "10001"], ["1", "25"]),
    "--samples": (ALWAYS_BAD + NON_INTEGER + ["0", "255", "1e12"], ["256", "8192"]),
    "--seed": (ALWAYS_BAD + NON_INTEGER + ["-5"], ["0", "18446744073709551616"]),
    "--m": (ALWAYS_BAD + NON_INTEGER + ["0"], ["2", "6"]),
    "--case": (["", "linear", "LINEAR-CE", "nan"], []),
}
SIMULATE_BASE = ["simulate", "--case", "linear-ce", "--d", "12", "--gamma", "1", "--classes", "3",
                 "--reps", "3", "--seed", "1", "--json"]
SIMULATE_OPTIONS = {
    "--d": (ALWAYS_BAD + NON_INTEGER + ["0", "1", "3", "100000000"], ["4", "40"]),
    "--gamma": (ALWAYS_BAD + ["0", "1e308", "25"], ["1e-3", "24"]),
    "--classes": (ALWAYS_BAD + NON_INTEGER + ["0", "1", "12"], ["2", "11"]),
    "--reps": (ALWAYS_BAD + NON_INTEGER + ["0", "1000000000000"], ["1", "2"]),
    "--sigma-v": (ALWAYS_BAD + ["0", "16", "1e-4"], ["1e-3", "15"]),
    "--seed": (ALWAYS_BAD + NON_INTEGER + ["-5"], ["0"]),
    "--design": (["", "nope", "nan"], ["decoupled", "sharp", "lindeberg"]),
    "--t": (ALWAYS_BAD + ["-0.5", "1.5"], []),
    "--m": (["3"], []),   # linear-ce has no hidden layer
}
VERIFY_OPTIONS = {
    "--only": ([",", " , ", "nope"], []),
    "--seed": (ALWAYS_BAD + NON_INTEGER + ["-5"], []),
    "--scheduler": (["tcp://127.0.0.1:9"], []),   # --scheduler without --full is refused too
}


def _as_arg(option: str, value: str) -> str:
    """``--opt=value`` so that a value starting with ``-`` is not read as an option."""
    return f"{option}={value}"


def _argv(base: list, option: str, value: str) -> list:
    argv = list(base)
    if option in argv:
        i = argv.index(option)
        del argv[i:i + 2]
    return argv + [_as_arg(option, value)]


class _Alarm(Exception):
    pass


def _on_alarm(signum, frame):
    raise _Alarm


def _finite_numbers(obj) -> bool:
    """Whether every number in a JSON document is finite and no number-valued field is null."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if v is None and k in ("g_ii", "g_ij", "ratio", "prediction", "limit", "diag",
                                   "offdiag"):
                return False
            if not _finite_numbers(v):
                return False
        return True
    if isinstance(obj, list):
        return all(_finite_numbers(v) for v in obj)
    if isinstance(obj, float):
        return math.isfinite(obj)
    if isinstance(obj, str):
        return obj.lower() not in ("nan", "inf", "-inf", "+inf")
    return True


def run(argv: list) -> tuple[int | None, str, str, str]:
    """Run ``rmthess argv`` in-process; return ``(exit status, stdout, stderr, exception)``."""
    from rmthess.cli import main

    out, err = io.StringIO(), io.StringIO()
    old = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(HANG_SECONDS)
    exc = ""
    rc = None
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = main(argv)
            except SystemExit as e:   # argparse
                rc = e.code if isinstance(e.code, int) else 2
    except _Alarm:
        exc = "hang"
    except BaseException as e:  # noqa: BLE001 - classifying every escape is the point
        exc = f"{type(e).__name__}: {e}"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    return rc, out.getvalue(), err.getvalue(), exc


def classify(argv: list, *, invalid: bool, names=()) -> tuple[str, str]:
    """Classify one run; ``names`` are words one of which the error line must contain."""
    rc, out, err, exc = run(argv)
    if exc == "hang":
        return "hang", ""
    if exc:
        return "traceback", exc
    if rc == 2:
        lines = [ln for ln in err.strip().splitlines() if ln.strip()]
        last = lines[-1] if lines else ""
        usage = len(lines) == 2 and lines[0].startswith("usage:")   # argparse: usage + error
        if not last or "error" not in last or (len(lines) > 1 and not usage):
            return "unclear", err
        if names and not any(n.lower() in last.lower() for n in names):
            return "unclear", last
        return "refused", last
    if rc != 0:
        return "traceback", f"exit {rc}: {err.strip()[-300:]}"
    if invalid:
        return "accepted-invalid", out[-300:]
    text = out.strip()
    if text.startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError:
            return "silent-nan", text[-300:]
        if not _finite_numbers(doc):
            return "silent-nan", text[-300:]
    elif any(w in text.split() for w in ("nan", "inf", "None")):
        return "silent-nan", text[-300:]
    return "ok", text[-300:]


def _names(option: str) -> tuple:
    bare = option.lstrip("-")
    return (bare, bare.replace("-", "_"), {"m": "m", "d": "d"}.get(bare, bare),
            "gamma", "classes", "sigma", "seed", "rng", "samples", "digits", "reps", "design",
            "case", "N =", "rank", "memory", "take about", "argument")


def limits_runs():
    for case, base in LIMITS_BASE.items():
        for option, (bad, extreme) in LIMITS_OPTIONS.items():
            if option == "--m" and "--m" not in base:
                yield ("limits", case, option, "3"), _argv(base + ["--json"], option, "3"), True
                continue
            if option in ("--samples", "--seed") and case != "mlp-ce":
                continue
            for v in bad:
                yield ("limits", case, option, v), _argv(base + ["--json"], option, v), True
            for v in extreme:
                yield ("limits", case, option, v), _argv(base + ["--json"], option, v), False


def simulate_runs():
    for option, (bad, extreme) in SIMULATE_OPTIONS.items():
        for v in bad:
            base = SIMULATE_BASE + (["--design", "lindeberg"] if option == "--t" else [])
            yield ("simulate", option, v), _argv(base, option, v), True
        for v in extreme:
            yield ("simulate", option, v), _argv(SIMULATE_BASE, option, v), False


def verify_runs():
    import tempfile

    out = tempfile.mkdtemp(prefix="rmthess-fuzz-verify-")
    for option, (bad, _) in VERIFY_OPTIONS.items():
        for v in bad:
            argv = ["verify", "--tiny", "--out", out, _as_arg(option, v)]
            yield ("verify", option, v), argv, True
    for v in ("", "/proc/x", "/dev/null"):
        argv = ["verify", "--tiny", "--only", "gmp-law", _as_arg("--out", v)]
        yield ("verify", "--out", v), argv, True


def campaign():
    """Every (label, argv, invalid) of the default campaign."""
    yield from limits_runs()
    yield from simulate_runs()
    yield from verify_runs()


def main(argv=None) -> int:
    counts, bad = Counter(), []
    for label, args, invalid in campaign():
        kind, detail = classify(args, invalid=invalid, names=_names(label[-2]))
        counts[kind] += 1
        if kind not in ("ok", "refused"):
            bad.append((kind, label, detail))
    for kind, label, detail in bad:
        print(kind, label, detail[:200])
    print(dict(counts))
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(main())
