r"""The power-law spectral method: fit a power law to the top eigenvalues and test the fit.

For the ``K`` largest eigenvalues ``λ_1 ≥ … ≥ λ_K > 0`` (Tang et al., ICML 2025), the Hill-type
maximum likelihood estimate of the density exponent and the slope of the rank plot ``λ_i ∝ i^{−s}``
are

    β̂ = 1 + K / Σ_{i≤K} ln(λ_i/λ_K),     ŝ = 1/(β̂ − 1),     σ_β = (β̂ − 1)/√K          (NET-10)

and the fit is judged by the Kolmogorov–Smirnov distance between the empirical distribution of the
top ``K`` eigenvalues and the fitted Pareto law ``F*(λ) = 1 − (λ/λ_K)^{1−β̂}`` (λ ≥ λ_K): the power
law is accepted when ``d_KS < d_c = c(α)/√K`` with ``c(α) = √(−½ ln(α/2))`` (``c(0.05) = 1.358``).

For an exact Zipf spectrum ``λ_i = i^{−s}``, ``Σ ln(λ_i/λ_K) = s (K ln K − ln K!)``, so
``ŝ = s (K ln K − ln K!)/K = s (1 − ln(2πK)/(2K) + O(1/K²))``: the slope is recovered up to a known
relative bias of about ``ln(2πK)/(2K)`` (0.4% at K = 1000).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rmthess._validate import check_finite_array

__all__ = ["PowerLawFit", "power_law_fit", "ks_critical_value", "zipf_slope_bias"]


@dataclass(frozen=True)
class PowerLawFit:
    r"""Result of :func:`power_law_fit` (eq. NET-10).

    Attributes
    ----------
    k : int
        Number of top eigenvalues used.
    beta, slope, sigma_beta : float
        ``β̂``, ``ŝ = 1/(β̂ − 1)`` and the standard error ``σ_β = (β̂ − 1)/√K``.
    d_ks, d_c : float
        KS distance to the fitted Pareto law and its critical value.
    accepted : bool
        ``d_ks < d_c``.
    lambda_k : float
        The K-th largest eigenvalue (lower cut of the fit).
    """

    k: int
    beta: float
    slope: float
    sigma_beta: float
    d_ks: float
    d_c: float
    accepted: bool
    lambda_k: float


def ks_critical_value(k: int, alpha: float = 0.05) -> float:
    """Asymptotic KS critical value ``√(−½ ln(α/2))/√k`` (``1.358/√k`` at α = 0.05)."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    return math.sqrt(-0.5 * math.log(alpha / 2)) / math.sqrt(k)


def zipf_slope_bias(k: int) -> float:
    """Exact ratio ``ŝ/s = (K ln K − ln K!)/K`` on a Zipf spectrum ``λ_i = i^{−s}``."""
    return (k * math.log(k) - math.lgamma(k + 1)) / k


def power_law_fit(eigenvalues, k: int | None = 1000, *, alpha: float = 0.05) -> PowerLawFit:
    r"""Fit a power law to the ``k`` largest eigenvalues and test it (Tang et al.'s method).

    Parameters
    ----------
    eigenvalues : array_like
        A spectrum, any order.
    k : int or None
        Number of top eigenvalues (1000 in the reference; ``None``: all positive eigenvalues).
    alpha : float
        Level of the KS test (critical value ``c(α)/√k``).

    Returns
    -------
    PowerLawFit

    Notes
    -----
    Eq. (NET-10) of ``theory/networks.md``.

    References
    ----------
    .. [1] Tang et al., power-law spectra of Hessians, ICML 2025 (the method as summarised in
       arXiv:2505.02809's related work).

    Examples
    --------
    An exact Zipf spectrum with slope 1.5 is accepted and its slope recovered:

    >>> fit = power_law_fit(np.arange(1, 2001) ** -1.5, k=1000)
    >>> fit.accepted, round(fit.slope / 1.5, 3) == round(zipf_slope_bias(1000), 3)
    (True, True)
    """
    ev = check_finite_array("eigenvalues", eigenvalues).ravel()
    top = np.sort(ev)[::-1]
    if k is None:
        top = top[top > 0]
        k = top.size
    k = int(k)
    if k < 2:
        raise ValueError(f"k must be at least 2, got {k}")
    if top.size < k:
        raise ValueError(f"need at least k = {k} eigenvalues, got {top.size}")
    top = top[:k]
    lam_k = float(top[-1])
    if lam_k <= 0:
        raise ValueError(f"the {k} largest eigenvalues must be positive (λ_k = {lam_k:g}); lower k")
    total = float(np.sum(np.log(top / lam_k)))
    if total <= 0:
        raise ValueError("the top eigenvalues are all equal; no power law can be fitted")
    beta = 1.0 + k / total
    # KS distance: empirical CDF of the k values (ascending) against F*(λ) = 1 − (λ/λ_k)^{1−β}
    asc = top[::-1]
    F = 1.0 - (asc / lam_k) ** (1.0 - beta)
    i = np.arange(1, k + 1)
    d_ks = float(max(np.max(i / k - F), np.max(F - (i - 1) / k)))
    d_c = ks_critical_value(k, alpha)
    return PowerLawFit(k, beta, 1.0 / (beta - 1.0), (beta - 1.0) / math.sqrt(k), d_ks, d_c,
                       bool(d_ks < d_c), lam_k)
