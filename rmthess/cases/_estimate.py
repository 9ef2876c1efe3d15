r"""Sequential estimation to a requested relative standard error (theory/cases.md, (CASE-18)).

An estimator supplies independent replicates of a vector of means, one row per replicate (scrambles
of a randomized quasi-Monte Carlo rule, or independent draws of V). From the rows, :func:`summarize`
forms the block limits ``g_ii``, ``g_ij`` and ``ratio`` with standard errors (ratio: delta method
with the replicate covariance); :func:`run_to_rtol` enlarges the estimate until every relative
standard error meets ``rtol``, or raises ``ValueError`` as soon as the time budget cannot reach it.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from rmthess._jit import steady_clock
from rmthess.cases._base import BlockLimit
from rmthess.cases._blocks import BLOCK_HIDDEN, BLOCK_OUTPUT

__all__: list[str] = []

#: slowest rate at which a standard error can fall with the work spent (plain Monte Carlo: −1/2) and
# : the fastest one allowed when predicting whether a budget can reach a target (RQMC on integrands
# with
#: kinks and jumps does not beat 1/N)
_FASTEST_RATE = 1.0
#: doublings before the projected time may end the estimate early
_SETTLE = 3


def resolve_seed(rng) -> int:
    """The integer seed an estimate uses: ``rng`` itself if it is an int, fresh entropy for None,
    and an
    integer drawn from ``rng`` for a :class:`numpy.random.Generator` or ``SeedSequence``."""
    if rng is None:
        return int(np.random.SeedSequence().entropy)
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        if rng < 0:
            raise ValueError(f"rng seed must be a non-negative integer, got {rng!r}")
        return int(rng)
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(0, 2 ** 63))
    if isinstance(rng, np.random.SeedSequence):
        return int(rng.generate_state(1, np.uint64)[0])
    raise ValueError("rng must be None, a non-negative integer, a numpy Generator or a "
                     f"SeedSequence, got {rng!r}")


def check_rtol(rtol) -> float:
    if isinstance(rtol, bool) or not isinstance(rtol, numbers.Real) or not math.isfinite(rtol) \
            or not rtol > 0:
        raise ValueError(f"rtol must be a finite number > 0, got {rtol!r}")
    return float(rtol)


def check_time(max_time) -> float:
    if isinstance(max_time, bool) or not isinstance(max_time, numbers.Real) \
            or not math.isfinite(max_time) or not max_time > 0:
        raise ValueError(f"max_time must be a finite number of seconds > 0, got {max_time!r}")
    return float(max_time)


def _block(num, den):
    """BlockLimit from replicate rows of a numerator (g_ij) and denominator (g_ii)."""
    k = num.size
    mn, md = float(num.mean()), float(den.mean())
    cov = np.cov(np.vstack([num, den]), ddof=1)
    r = mn / md
    var = (cov[0, 0] - 2.0 * r * cov[0, 1] + r * r * cov[1, 1]) / (md * md * k)
    return BlockLimit(md, mn, r, math.sqrt(max(var, 0.0)), True, math.sqrt(cov[1, 1] / k),
                      math.sqrt(cov[0, 0] / k))


def summarize(rows, gamma):
    """``{"hidden", "output"}`` block limits from replicate rows
    ``(T1_ii, T1_ij, T2_ii, T2_ij, O_ii, O_ij)``: ``g = T1 + γ T2`` (CASE-9), output ``g = O``."""
    rows = np.asarray(rows, dtype=float)
    hidden = _block(rows[:, 1] + gamma * rows[:, 3], rows[:, 0] + gamma * rows[:, 2])
    output = _block(rows[:, 5], rows[:, 4])
    return {BLOCK_HIDDEN: hidden, BLOCK_OUTPUT: output}


def worst_rse(blocks) -> float:
    """The largest relative standard error among ``g_ii``, ``g_ij`` and ``ratio`` of every block."""
    worst = 0.0
    for b in blocks.values():
        pairs = ((b.g_ii, b.stderr_g_ii), (b.g_ij, b.stderr_g_ij), (b.ratio, b.stderr_ratio))
        for val, se in pairs:
            worst = max(worst, abs(se / val) if val != 0 else math.inf)
    return worst


def run_to_rtol(step, gamma, rtol, max_time, first, fixed=None, spent=0.0, finish=None):
    """Call ``step(n) -> rows`` (cumulative replicate rows after ``n`` more units per replicate)
    with doubling ``n`` until :func:`worst_rse` ≤ ``rtol``; with ``fixed`` units, one call of that
    size. ``gamma`` may be a tuple of aspect ratios when the rows do not depend on γ: the blocks
    are then a tuple (one :func:`summarize` per γ) and every one of them must meet ``rtol``.
    ``finish(blocks, γ) -> blocks``, if given, completes the blocks of each γ (deterministic
    parts' error bounds) before they are tested and returned.

    Raises ``ValueError`` when the next doubling would overrun ``max_time`` seconds or when even the
    fastest admissible error decay (1/work) could not reach ``rtol`` within the budget; ``spent``
    seconds of ``max_time`` went to the set-up before (they count against the budget, not in the
    projections). Returns ``(blocks, units)``.
    """
    t0 = steady_clock()
    several = isinstance(gamma, tuple)

    def one(rows, g):
        blocks = summarize(rows, g)
        return blocks if finish is None else finish(blocks, g)

    def blocks_of(rows):
        return tuple(one(rows, g) for g in gamma) if several else one(rows, gamma)

    if fixed is not None:
        return blocks_of(step(fixed)), fixed
    done, n, rounds = 0, first, 0
    while True:
        rows = step(n)
        done += n
        blocks = blocks_of(rows)
        err = max(map(worst_rse, blocks)) if several else worst_rse(blocks)
        if err <= rtol:
            return blocks, done
        rounds += 1
        elapsed = steady_clock() - t0
        fastest = elapsed * (err / rtol) ** (1.0 / _FASTEST_RATE)
        budget = max_time - spent
        # the projection needs a few rounds of settled error estimates before it may decide
        if 2.0 * elapsed > budget or (rounds >= _SETTLE and fastest > budget):
            slowest = elapsed * (err / rtol) ** 2
            raise ValueError(
                f"rtol={rtol:g} cannot be reached within max_time={max_time:g} s: the relative "
                f"standard error is {err:.2g} after {spent + elapsed:.1f} s, and reaching "
                f"{rtol:g} needs about {spent + fastest:.3g}–{spent + slowest:.3g} s; raise "
                f"max_time or rtol")
        n = done
