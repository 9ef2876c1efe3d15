"""Time to a target relative error, shared by the precision-against-time benchmarks.

A curve is a sequence of ``(cpu_seconds, relative_error)`` checkpoints of one estimator run. The
time to a target is the first checkpoint at or below it; past the end of the run's budget it is
extrapolated as error ∝ time^(−1/2) (a Monte Carlo estimator) and marked ``~``.
"""

from __future__ import annotations

__all__ = ["time_to", "pm"]


def pm(x, se) -> str:
    """``x ± se`` with the digits the error supports (the package's rule: the error to two
    significant digits, the value to the same decimal place)."""
    from rmthess.cli.limits import _digits

    return f"{_digits(x, se)!r}±{se:.2g}" if se else f"{x:g}"


def time_to(curve, target) -> str:
    """The CPU seconds of ``curve`` to reach ``target``, formatted; ``~`` marks an extrapolation."""
    for el, err in curve:
        if err <= target:
            return f"{el:9.2f}"
    el, err = curve[-1]
    return f"~{el * (err / target) ** 2:8.3g}"
