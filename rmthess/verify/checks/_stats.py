"""Small statistics helpers shared by the checks (replicate means and standard errors)."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["mean_se", "controlled_mean_se", "crossfit_mean_se", "CROSSFIT_FOLDS",
           "controlled_ratio", "JACKKNIFE_GROUPS",
           "complex_mean_se", "quartile_levels", "quantile_points", "ratio_difference"]


def mean_se(values) -> tuple[float, float]:
    """Mean and standard error (sample standard deviation / sqrt(R)) of replicate values."""
    v = np.asarray(values, dtype=float).reshape(-1)
    if v.size < 2:
        raise ValueError("at least two replicates are needed for a standard error")
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(v.size))


def controlled_mean_se(values, controls) -> tuple[float, float, int]:
    r"""Mean of ``values`` with regression control variates; returns ``(mean, se, dof)``.

    ``controls`` (R×p) are per-replicate statistics whose expectation is 0 (up to the same order in
    1/d as the bias of ``values``). With ``β`` the least-squares coefficients of ``values`` on
    ``[1, controls]``, the estimate is the fitted intercept ``ȳ − β·c̄`` and its standard error comes
    from the residuals with ``R − 1 − p`` degrees of freedom (theory/verification.md, VER-8). The
    estimated ``β`` biases the mean by ``O(1/R)`` of a standard deviation only.
    """
    y = np.asarray(values, dtype=float).reshape(-1)
    c = np.asarray(controls, dtype=float).reshape(y.size, -1)
    dof = y.size - 1 - c.shape[1]
    if dof < 1:
        raise ValueError(f"{y.size} replicates are too few for {c.shape[1]} control variates")
    X = np.column_stack([np.ones(y.size), c])
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ coef
    sigma2 = float(resid @ resid) / dof
    cov = sigma2 * np.linalg.pinv(X.T @ X)
    return float(coef[0]), float(math.sqrt(cov[0, 0])), dof


#: folds of :func:`crossfit_mean_se`
CROSSFIT_FOLDS = 8


def crossfit_mean_se(values, controls, folds: int = CROSSFIT_FOLDS) -> tuple[float, float, int]:
    r"""Mean of ``values`` with control variates of exactly known mean 0, fitted out of fold;
    returns ``(mean, se, dof)``.

    The replicates are split into ``folds`` contiguous folds; the replicates of fold g are corrected
    by the least-squares coefficients ``β_{−g}`` of ``values`` on ``[1, controls]`` over the other
    folds, ``z_r = y_r − β_{−g}·c_r``. Since ``β_{−g}`` is independent of the replicates of fold g
    and ``E c_r = 0``, ``E z_r = E y_r`` exactly (an in-sample fit biases by ``O(1/R)``); the
    estimate is ``mean z`` and its standard error ``sd(z)/√R`` with ``R − 1 − p`` degrees of freedom
    (the ``z_r`` share the fitted coefficients only to ``O(1/R)``; theory/verification.md, VER-15).
    """
    y = np.asarray(values, dtype=float).reshape(-1)
    c = np.asarray(controls, dtype=float).reshape(y.size, -1)
    n, p = c.shape
    g = min(int(folds), n)
    if g < 2:
        raise ValueError(f"folds must be >= 2, got {folds!r}")
    dof = n - 1 - p
    if dof < 1 or n - -(-n // g) < p + 2:
        raise ValueError(f"{n} replicates in {g} folds are too few for {p} control variates")
    X = np.column_stack([np.ones(n), c])
    z = np.empty(n)
    keep = np.ones(n, dtype=bool)
    for idx in np.array_split(np.arange(n), g):
        keep[:] = True
        keep[idx] = False
        coef, *_ = np.linalg.lstsq(X[keep], y[keep], rcond=None)
        z[idx] = y[idx] - c[idx] @ coef[1:]
    return float(z.mean()), float(z.std(ddof=1) / math.sqrt(n)), dof


def complex_mean_se(values) -> tuple[complex, complex]:
    """Mean and standard error of complex replicates; the error is ``se(Re) + 1j·se(Im)``."""
    v = np.asarray(values, dtype=complex).reshape(-1)
    re, se_re = mean_se(v.real)
    im, se_im = mean_se(v.imag)
    return complex(re, im), complex(se_re, se_im)


def quartile_levels(atom: float) -> np.ndarray:
    """Levels of the distribution function at the quartiles of the continuous part (atom at 0
    below)."""
    return atom + (1.0 - atom) * np.array([0.25, 0.5, 0.75])


def quantile_points(law, levels) -> np.ndarray:
    """Points x with ``law.cdf(x) = level`` for each level, by bisection on the law's own cdf.

    The levels must fall strictly inside the absolutely continuous part (above the atom at 0).
    """
    from scipy.optimize import brentq

    bulks = law.support()
    lo = min(b[0] for b in bulks)
    hi = max(b[1] for b in bulks)
    pad = 1e-9 * max(1.0, hi - lo)
    out = []
    for q in levels:
        out.append(brentq(lambda x, q=q: float(law.cdf(x)) - q, lo - pad, hi + pad, xtol=1e-12))
    return np.asarray(out)


#: delete-a-group jackknife of :func:`controlled_ratio`: at most this many groups of replicates
JACKKNIFE_GROUPS = 48


def _cv_ratio(num, den, X):
    """``Ō_cv/D̄_cv``: the intercepts of the least-squares fits of O and D on
    ``X = [1, controls]``."""
    coef, *_ = np.linalg.lstsq(X, np.column_stack([num, den]), rcond=None)
    if coef[0, 1] == 0.0:
        raise ValueError("the denominators average to 0: no ratio")
    return float(coef[0, 0] / coef[0, 1])


def controlled_ratio(num, den, controls) -> tuple[float, float, int]:
    r"""Ratio of means ``Σ O_r / Σ D_r`` with regression control variates; ``(ratio, se, dof)``.

    Numerator and denominator means are each corrected by the controls (the intercepts of their
    least-squares fits on ``[1, controls]``) and divided. The standard error is a delete-a-group
    jackknife of the whole estimator (at most :data:`JACKKNIFE_GROUPS` groups), so the spread of the
    estimated coefficients and the nonlinearity of the ratio are in it; the first-order delta method
    with fitted coefficients was measured to understate the spread 1.4–3× at 24 replicates with
    heavy-tailed controls (VER-7). ``dof`` is the number of groups − 1.
    """
    num = np.asarray(num, dtype=float).reshape(-1)
    den = np.asarray(den, dtype=float).reshape(-1)
    c = np.asarray(controls, dtype=float).reshape(num.size, -1)
    n = num.size
    if n - 1 - c.shape[1] < 1:
        raise ValueError(f"{n} replicates are too few for {c.shape[1]} control variates")
    if float(den.mean()) == 0.0:
        raise ValueError("the denominators average to 0: no ratio")
    X = np.column_stack([np.ones(n), c])
    ratio = _cv_ratio(num, den, X)
    g = min(n, JACKKNIFE_GROUPS)
    groups = np.array_split(np.arange(n), g)
    keep = np.ones(n, dtype=bool)
    th = np.empty(g)
    for k, idx in enumerate(groups):
        keep[:] = True
        keep[idx] = False
        th[k] = _cv_ratio(num[keep], den[keep], X[keep])
    se = math.sqrt((g - 1) / g * float(np.sum((th - th.mean()) ** 2)))
    return ratio, se, g - 1


def ratio_difference(num, den, tnum, tden, controls=None) -> tuple[float, float, int]:
    r"""``Σ O_r/Σ D_r − Σ T^O_r/Σ T^D_r``: a simulated ratio of means minus the same ratio of the
    replicates' own theory values; ``(difference, se, dof)``.

    Per replicate the delta-method influence ``(O_r − ρ̂ D_r)/D̄ − (T^O_r − ρ̂_T T^D_r)/T̄^D`` (MC-10
    for both ratios) carries the spread the two share (the between-replicate spread of the theory
    value) only once, through its difference; it is averaged with regression ``controls`` of mean 0
    (:func:`controlled_mean_se`, VER-13).
    """
    num, den, tnum, tden = (np.asarray(x, dtype=float).reshape(-1) for x in (num, den, tnum, tden))
    dbar, tbar = float(den.mean()), float(tden.mean())
    if dbar == 0.0 or tbar == 0.0:
        raise ValueError("the denominators average to 0: no ratio")
    rho, rho_t = float(num.mean()) / dbar, float(tnum.mean()) / tbar
    e = (num - rho * den) / dbar - (tnum - rho_t * tden) / tbar
    if controls is None:
        c = np.zeros((e.size, 0))
    else:
        c = np.asarray(controls, float).reshape(e.size, -1)
    a, se, dof = controlled_mean_se(e, c)
    return rho - rho_t + a, se, dof
