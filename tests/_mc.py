r"""Monte Carlo tests with a stated false-alarm rate, and the registry that audits them.

A Monte Carlo test compares an estimate with an oracle at a threshold computed from the false-alarm
rate ``alpha`` it states (the probability that it fails although the code is right), never at a bare
"3 sigma": :func:`z_threshold` gives the two-sided normal quantile, or the Student-t quantile when
the standard error rests on few replicates, and splits ``alpha`` over the comparisons the test makes
(Bonferroni). A known bias of the oracle (a finite-size remainder) is added to the threshold, not
absorbed into it.

Each test's core check is a function of a seed, registered with :func:`monte_carlo`; the default
test calls it at a pinned seed. ``tests/test_false_alarm.py`` (slow) runs every registered check
over fresh seeds and rejects the stated rate when the failures exceed :func:`max_failures`, the
upper ``1e-3`` quantile of the binomial law of the failure count.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["MonteCarloCheck", "REGISTRY", "monte_carlo", "z_threshold", "max_failures"]


def z_threshold(alpha: float, dof: int | None = None, comparisons: int = 1) -> float:
    """Two-sided threshold on |z| with false-alarm rate ``alpha`` over ``comparisons`` comparisons.

    ``dof``: degrees of freedom of the standard error (replicates − 1) for the Student-t quantile;
    ``None`` when the standard error rests on many (≳ 1000) samples and the normal quantile is exact
    enough.
    """
    from scipy import stats

    if not 0 < alpha < 1 or comparisons < 1:
        raise ValueError(f"need 0 < alpha < 1 and comparisons >= 1, got {alpha}, {comparisons}")
    tail = alpha / (2 * comparisons)
    return float(stats.norm.isf(tail) if dof is None else stats.t.isf(tail, dof))


def max_failures(alpha: float, runs: int, level: float = 1e-3) -> int:
    """Largest failure count among ``runs`` independent runs compatible with the rate ``alpha``.

    The upper ``level`` quantile of Binomial(runs, alpha): more failures than this happen with
    probability at most ``level`` when the stated rate is true.
    """
    from scipy import stats

    return int(stats.binom.isf(level, runs, alpha))


@dataclass(frozen=True)
class MonteCarloCheck:
    """A registered core check: ``func(seed)`` raises ``AssertionError`` when the check fails."""

    name: str
    alpha: float
    seed: int
    func: Callable[[int], None] = field(compare=False)


#: every registered Monte Carlo check, by name ``module::function[params]``
REGISTRY: dict[str, MonteCarloCheck] = {}


def monte_carlo(alpha: float, seed: int, params: dict | None = None):
    """Register ``check(seed, **p)`` for every parameter set ``p`` of ``params`` (id → kwargs).

    ``alpha`` is the false-alarm rate the check states; ``seed`` the one its default test pins. The
    decorated function is returned unchanged.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")

    def deco(func):
        base = f"{func.__module__.rsplit('.', 1)[-1]}::{func.__name__}"
        for pid, kwargs in (params or {"": {}}).items():
            name = f"{base}[{pid}]" if pid else base
            REGISTRY[name] = MonteCarloCheck(name, alpha, seed, functools.partial(func, **kwargs))
        return func

    return deco
