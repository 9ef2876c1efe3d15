r"""Power of a verdict: the minimum detectable relative deviation (MDE) of a row, and its targets.

A row of ``rmthess verify`` passes iff ``|x − T| ≤ k·s + R`` (theory/verification.md,
(VER-1)–(VER-3)): ``x`` the simulated value, ``T`` the theory value, ``s`` the combined standard
error (simulation and theory), ``k`` the threshold for ``ν`` degrees of freedom and ``R`` the
allowance for the remainder of the finite-size expansion. If the theory value is wrong by ``δ`` (the
truth is ``T − δ``), the statistic ``(x − T)/ŝ`` is a noncentral Student t with ``ν`` degrees of
freedom and noncentrality ``−δ/s`` (shifted by the true remainder ``|b| ≤ R``). The rule rejects
with probability at least 0.9 for every ``|b| ≤ R`` once

.. math:: δ ≥ 2R + λ_{0.9}(k, ν)\,s,\qquad
          P\big(|t_ν(λ)| > k\big) = E_W\big[Φ(λ − k\sqrt{W/ν}) + Φ(−λ − k\sqrt{W/ν})\big]
          = 0.9   (VER-12)

(``W ~ χ²_ν``; ``ν = ∞``: ``W/ν = 1``). The MDE of the row is that ``δ`` over the row's scale (the
magnitude of the theory value, or a stated scale where the theory value is 0). It is evaluated at
the estimated ``s``, so it carries that estimate's relative error ``≈ 1/√(2ν)``.

Targets (:data:`TARGETS`) are the largest MDE a row of a family may have; a row above its target is
LOW POWER and fails the run.

Examples
--------
>>> from rmthess.verify.power import power_multiplier
>>> round(power_multiplier(4.0, None), 4)     # k = 4 with a known standard error: 4 + 1.2816
5.2816
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

__all__ = ["POWER", "TARGETS", "rejection_probability", "power_multiplier", "effective_dof",
           "target"]

#: the rejection probability that defines the MDE
POWER = 0.9

#: MDE targets by row family and size level (relative to the row's scale); None: not judged
TARGETS = {
    # Theorem 1: linear-model block norms and ratios against the exact finite-size prediction
    "theorem-1": {"tiny": 0.01, "quick": 0.01, "full": 0.01},
    # Theorem 2: hidden and output block ratios of the 1-hidden-layer network
    "theorem-2": {"tiny": 0.05, "quick": 0.05, "full": 0.01},
    # block spectra: second moment of the eigenvalues
    "block-moment": {"tiny": 0.05, "quick": 0.05, "full": 0.05},
    # block spectra: the extreme eigenvalue against the edge of the law (VER-8)
    "block-edge": {"tiny": 0.02, "quick": 0.02, "full": 0.02},
    # decoupling: d·δ_N(z) against c(z), relative to |c(z)|
    "decoupling": {"tiny": 0.25, "quick": 0.25, "full": 0.25},
}

#: Gauss–Legendre nodes on (0, 1) for the average over W ~ χ²_ν
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(200)
_U = (_NODES + 1.0) / 2.0
_W = _WEIGHTS / 2.0


def target(family: str, size: str) -> float:
    """The MDE target of row family ``family`` at size level ``size`` (:data:`TARGETS`)."""
    try:
        return TARGETS[family][size]
    except KeyError:
        raise ValueError(f"no MDE target for family {family!r} at size {size!r}; families: "
                         f"{', '.join(TARGETS)}") from None


def rejection_probability(lam: float, k: float, dof: float | None) -> float:
    """``P(|t_ν(λ)| > k)``: the probability that a two-sided test at threshold ``k`` rejects a shift
    ``λ``.

    ``dof = None`` is the Gaussian limit. (VER-12)
    """
    from scipy import special, stats

    if dof is None:
        return float(special.ndtr(lam - k) + special.ndtr(-lam - k))
    s = np.sqrt(stats.chi2.ppf(_U, dof) / dof)
    return float(np.sum(_W * (special.ndtr(lam - k * s) + special.ndtr(-lam - k * s))))


@lru_cache(maxsize=4096)
def _multiplier(k: float, dof: float | None, power: float) -> float:
    from scipy.optimize import brentq

    return float(brentq(lambda lam: rejection_probability(lam, k, dof) - power, 0.0,
                        10.0 * k + 20.0, xtol=1e-10))


def power_multiplier(k: float, dof: float | None, power: float = POWER) -> float:
    """The shift ``λ`` in standard errors that a test at threshold ``k`` rejects with ``power``
    (VER-12)."""
    if not (k > 0 and math.isfinite(k)):
        raise ValueError(f"threshold must be a finite number > 0, got {k!r}")
    if not 0.5 < power < 1.0:
        raise ValueError(f"power must lie in (0.5, 1), got {power!r}")
    if dof is not None and dof < 1:
        raise ValueError(f"degrees of freedom must be >= 1, got {dof}")
    dof = None if dof is None or dof >= 1e6 else float(dof)
    return _multiplier(round(float(k), 6), dof, float(power))


def effective_dof(parts) -> float | None:
    """Welch–Satterthwaite degrees of freedom of ``√(Σ s_i²)`` from ``(s_i, ν_i)`` pairs.

    ``ν_i = None`` marks an error known exactly (no contribution); returns None when every part is
    exact or the combined error is 0.
    """
    total = sum(s * s for s, _ in parts)
    if total == 0.0:
        return None
    denom = sum(s**4 / nu for s, nu in parts if nu is not None and s > 0)
    if denom == 0.0:
        return None
    return float(total**2 / denom)
