r"""Ratio-of-means estimators with delta-method standard errors, and z-scores.

For replicates ``(O_r, D_r)``, ``r = 1..R`` (mean off-diagonal and mean diagonal block norms of one
realization), the ratio of means ``ρ̂ = Ō / D̄`` has, by the delta method,

.. math:: \widehat{\mathrm{se}}(ρ̂) = \frac{\mathrm{sd}(O_r − ρ̂ D_r)}{\sqrt{R}\, D̄}      (MC-10)

(with ``sd`` the sample standard deviation, ddof = 1). Against a prediction that is itself
conditional on each replicate's parameters (``Ô_r``, ``D̂_r``), the residuals
``e_r = (O_r − Ô_r) − ρ_p (D_r − D̂_r)`` with ``ρ_p = Σ Ô_r / Σ D̂_r`` have mean ≈ ``(ρ̂ − ρ_p) D̄``
and no between-parameter spread, giving a sharper z-score (MC-11).

Examples
--------
>>> import numpy as np
>>> from rmthess.montecarlo.stats import ratio_of_means
>>> est = ratio_of_means([1.0, 1.2, 0.9, 1.1], [2.0, 2.1, 1.9, 2.0])
>>> round(est.ratio, 6)
0.525
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["RatioEstimate", "ratio_of_means", "mean_stderr", "z_score", "conditional_z",
           "conditional_stderr"]


@dataclass(frozen=True)
class RatioEstimate:
    """``ratio = mean(num)/mean(den)`` with its delta-method ``stderr`` and the two means."""

    ratio: float
    stderr: float
    num: float
    num_stderr: float
    den: float
    den_stderr: float
    n: int


def mean_stderr(x) -> tuple[float, float]:
    """Mean and standard error (``nan`` stderr for a single value: no spread to estimate)."""
    x = np.asarray(x, float)
    n = x.size
    se = float(np.std(x, ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    return float(np.mean(x)), se


def ratio_of_means(num, den) -> RatioEstimate:
    """Ratio of means with the delta-method standard error (MC-10).

    ``stderr`` is ``nan`` when there is a single replicate, and ``ratio`` is ``nan`` only if every
    denominator is 0.
    """
    num = np.asarray(num, float)
    den = np.asarray(den, float)
    if num.shape != den.shape or num.ndim != 1 or num.size == 0:
        raise ValueError("num and den must be non-empty 1-D arrays of equal length")
    n = num.size
    dbar = float(np.mean(den))
    nbar = float(np.mean(num))
    rho = nbar / dbar if dbar != 0 else math.nan
    if n > 1 and dbar != 0:
        se = float(np.std(num - rho * den, ddof=1) / (math.sqrt(n) * abs(dbar)))
    else:
        se = math.nan
    _, nse = mean_stderr(num)
    _, dse = mean_stderr(den)
    return RatioEstimate(rho, se, nbar, nse, dbar, dse, n)


def z_score(value: float, reference: float | None, stderr: float,
            reference_stderr: float = 0.0) -> float | None:
    """``(value − reference)/sqrt(stderr² + reference_stderr²)``; None without a reference.

    A zero combined error gives 0 for an exact match and ``±inf`` otherwise.
    """
    if reference is None or not np.isfinite(reference):
        return None
    se = math.hypot(stderr, reference_stderr or 0.0)
    diff = value - reference
    if not math.isfinite(se):
        return math.nan
    if se == 0.0:
        if abs(diff) <= 1e-14 * max(1.0, abs(reference)):
            return 0.0
        return math.copysign(math.inf, diff)
    return diff / se


def conditional_stderr(num, den, num_pred, den_pred) -> float:
    """Standard error of the ratio of means minus the ratio of the per-replicate predictions
    (MC-11): ``sd(e)/(√R |D̄|)`` with ``e = (num − num_pred) − ρ_p (den − den_pred)``.

    The spread between replicates that the predictions follow (the between-V spread of the mlp
    cases) cancels in ``e``; the predictions' own per-replicate errors stay in it (MC-18).
    ``nan`` with a single replicate.
    """
    num, den = np.asarray(num, float), np.asarray(den, float)
    num_pred, den_pred = np.asarray(num_pred, float), np.asarray(den_pred, float)
    rho_p = float(np.sum(num_pred) / np.sum(den_pred))
    e = (num - num_pred) - rho_p * (den - den_pred)
    n = e.size
    return float(np.std(e, ddof=1) / (math.sqrt(n) * abs(float(np.mean(den))))) if n > 1 \
        else math.nan


def conditional_z(num, den, num_pred, den_pred, pred_stderr: float = 0.0) -> float:
    """z-score of the ratio of means against per-replicate predictions (MC-11), with the standard
    error of :func:`conditional_stderr`.

    ``pred_stderr`` is the standard error of the predicted ratio (its own Monte Carlo error).
    """
    num, den = np.asarray(num, float), np.asarray(den, float)
    rho_p = float(np.sum(num_pred) / np.sum(den_pred))
    se = conditional_stderr(num, den, num_pred, den_pred)
    rho = float(np.mean(num) / np.mean(den))
    return z_score(rho, rho_p, se, pred_stderr)
