"""Progress of the long-running commands: tqdm bars on stderr, an estimate before long runs.

A bar is drawn only when stderr is a terminal and ``--quiet`` is not given, so logs and pipes stay
clean; the estimate line (:func:`announce`) is printed whenever the run is expected to take more
than :data:`LONG_RUN` seconds, terminal or not, unless ``--quiet``.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time

__all__ = ["LONG_RUN", "announce", "bar", "budget_bar", "add_quiet_argument"]

#: runs estimated above this many seconds are announced with their estimate
LONG_RUN = 10.0


def add_quiet_argument(parser) -> None:
    """``--quiet``: no progress bar, no estimate line (errors are still printed)."""
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar or estimate on stderr")


def _interactive(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty()


def announce(command: str, seconds: float, what: str, *, quiet: bool = False,
             at_most: bool = False) -> None:
    """Print ``rmthess COMMAND: WHAT, estimated N s`` (``at most N s`` for a time budget) on
    stderr when ``seconds`` is long."""
    from rmthess._cost import format_seconds

    if not quiet and seconds >= LONG_RUN:
        how = "at most" if at_most else "estimated"
        print(f"rmthess {command}: {what}, {how} {format_seconds(seconds)} "
              f"(interrupt with Ctrl-C)", file=sys.stderr, flush=True)


def bar(total: int, desc: str, *, quiet: bool = False, unit: str = "it"):
    """A tqdm progress bar on stderr (disabled unless stderr is a terminal and not ``quiet``)."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False,
                dynamic_ncols=True, disable=not _interactive(quiet))


@contextlib.contextmanager
def budget_bar(seconds: float, desc: str, *, quiet: bool = False):
    """A bar that fills with elapsed time over a time budget, for a computation that reports no
    steps of its own (it stops at the budget, or earlier when the target precision is reached)."""
    if not _interactive(quiet):
        yield
        return
    stop = threading.Event()
    with bar(int(round(seconds)), desc, unit="s") as pbar:
        def tick():
            t0 = time.monotonic()
            while not stop.wait(0.5):
                pbar.n = min(int(time.monotonic() - t0), pbar.total)
                pbar.refresh()

        thread = threading.Thread(target=tick, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
