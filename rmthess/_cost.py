"""Cost guards: estimate memory and time before a large allocation or a long loop, and refuse early.

Every entry point that can be asked for unbounded work (Monte Carlo sizes and replicates, sample
counts, mpmath digits) calls :func:`check_cost` with an estimate *before* it allocates or loops. The
estimate is refused with a ``ValueError`` that states it when it needs more than half the memory
available now, or more than :data:`MAX_SECONDS` of computing. The refusal is lifted inside
``with allow_cost():`` (the command line's ``--force``) or by ``force=True`` where a function takes
it.

The time estimates are deliberately rough (a flop count at :data:`FLOP_RATE`, or a measured cost per
mpmath operation); they only have to tell ten seconds from ten hours.
"""

from __future__ import annotations

import contextlib
import contextvars
import os

__all__ = ["MAX_SECONDS", "FLOP_RATE", "available_memory", "check_cost", "allow_cost",
           "format_bytes", "format_seconds"]

#: refuse work estimated to run longer than this (seconds) unless allowed
MAX_SECONDS = 1800.0
#: sustained rate assumed for dense float64 work (flop/s on one core, a conservative figure)
FLOP_RATE = 2e9
#: fraction of the available memory that one computation may take
MEMORY_FRACTION = 0.5

_ALLOWED: contextvars.ContextVar[bool] = contextvars.ContextVar("rmthess_allow_cost", default=False)


def available_memory() -> int:
    """Bytes of memory available now (``MemAvailable`` of /proc/meminfo, else physical memory)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - exotic platforms
        return 8 << 30


def format_bytes(n: float) -> str:
    """``n`` bytes in binary units, e.g. ``"74.5 GiB"``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.3g} EiB"  # pragma: no cover


def format_seconds(s: float) -> str:
    """``s`` seconds in the largest sensible unit."""
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.0f} min"
    if s < 2 * 86400:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.3g} days"


@contextlib.contextmanager
def allow_cost():
    """Inside this block :func:`check_cost` lets any estimate through (the CLI's ``--force``)."""
    token = _ALLOWED.set(True)
    try:
        yield
    finally:
        _ALLOWED.reset(token)


def check_cost(what: str, *, nbytes: float = 0.0, seconds: float = 0.0, force: bool = False,
               hint: str = "") -> None:
    """Raise ``ValueError`` if ``what`` would need more memory or time than allowed.

    Parameters
    ----------
    what : str
        The computation, as the message should name it (e.g. ``"simulate(d=100000, N=100000)"``).
    nbytes, seconds : float
        Estimated peak memory and run time.
    force : bool
        Skip the check (as inside :func:`allow_cost`).
    hint : str
        How to make the computation smaller, appended to the message.
    """
    if force or _ALLOWED.get():
        return
    limit = MEMORY_FRACTION * available_memory()
    extra = ((f"; {hint}" if hint else "")
             + " (to run it anyway: --force, or force=True / `with rmthess.allow_cost():`"
               " in Python)")
    if nbytes > limit:
        raise ValueError(f"{what} needs about {format_bytes(nbytes)} of memory, more than half of "
                         f"the {format_bytes(available_memory())} available{extra}")
    if seconds > MAX_SECONDS:
        raise ValueError(f"{what} would take about {format_seconds(seconds)}, more than the "
                         f"{format_seconds(MAX_SECONDS)} allowed without --force{extra}")
