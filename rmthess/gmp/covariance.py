r"""Covariance spectrum laws H for the separable law: atoms, named families, files of eigenvalues.

Named families (``NAME:KEY=VALUE,...``, theory/separable.md, "Covariance spectra"):

``powerlaw:alpha=a,kappa=k[,atoms=n]``
    density :math:`\propto\sigma^{-1-1/a}` on :math:`[\sigma_{min}, k\,\sigma_{min}]`, scaled so
    that :math:`\mathbb{E}\sigma = 1` (``tr Σ/d = 1``): the continuum limit of the spectrum
    :math:`\sigma_i\propto i^{-a}`, :math:`i = 1..k^{1/a}` (condition number k). ``a > 0``,
    ``k > 1``; ``n`` (default 32) atoms of its Gauss rule are used by the solver.
"""

from __future__ import annotations

import math
import os

import numpy as np

from rmthess.laws import ContinuousLaw, DiscreteLaw, EmpiricalLaw
from rmthess.laws.base import WeightLaw

__all__ = ["powerlaw_spectrum", "covariance_from_atoms", "parse_covariance", "spectrum_values",
           "FAMILIES"]

#: default number of Gauss-rule atoms of a named continuous family (the support scan costs
#: K_ν · K_H² per sweep, theory/separable.md SEP-7)
DEFAULT_ATOMS = 32


def powerlaw_spectrum(alpha: float, kappa: float, n_atoms: int = DEFAULT_ATOMS) -> ContinuousLaw:
    r"""The power-law spectrum: density :math:`\propto\sigma^{-1-1/\alpha}` on
    :math:`[\sigma_{min}, \kappa\sigma_{min}]` with :math:`\mathbb{E}\sigma = 1`.

    Examples
    --------
    >>> from rmthess.gmp.covariance import powerlaw_spectrum
    >>> h = powerlaw_spectrum(1.0, 100.0)
    >>> round(h.moment(1), 12), round(h.interval[1] / h.interval[0], 9)
    (1.0, 100.0)
    """
    alpha, kappa = float(alpha), float(kappa)
    if not (math.isfinite(alpha) and alpha > 0):
        raise ValueError(f"powerlaw: alpha must be a finite number > 0, got {alpha!r}")
    if not (math.isfinite(kappa) and kappa > 1):
        raise ValueError(f"powerlaw: kappa (the condition number) must be finite and > 1, "
                         f"got {kappa!r}")
    b = 1.0 / alpha
    norm = -math.expm1(-b * math.log(kappa)) / b                 # ∫_1^k u^{-1-b} du
    first = math.log(kappa) if b == 1 else math.expm1((1 - b) * math.log(kappa)) / (1 - b)
    smin = norm / first                                          # 1 / E[u], u = σ/σ_min
    from scipy import stats  # deferred: scipy is not needed to import rmthess.gmp

    # scipy's truncated Pareto law: density ∝ σ^{-1-b} on [smin, kappa·smin]; as a frozen
    # distribution its Gauss rule is built on panels of equal probability (accurate over decades)
    return ContinuousLaw(dist=stats.truncpareto(b, kappa, scale=smin), n_atoms=int(n_atoms))


def _powerlaw(params: dict) -> ContinuousLaw:
    unknown = set(params) - {"alpha", "kappa", "atoms"}
    if unknown or not {"alpha", "kappa"} <= set(params):
        raise ValueError("powerlaw takes alpha=A,kappa=K[,atoms=N], got "
                         + ",".join(f"{k}={v}" for k, v in params.items()))
    atoms = params.get("atoms", str(DEFAULT_ATOMS))
    if not atoms.isdigit() or int(atoms) < 2:
        raise ValueError(f"powerlaw: atoms must be an integer >= 2, got {atoms!r}")
    try:
        alpha, kappa = float(params["alpha"]), float(params["kappa"])
    except ValueError:
        raise ValueError(f"powerlaw: alpha and kappa must be numbers, got {params}") from None
    return powerlaw_spectrum(alpha, kappa, int(atoms))


#: named families: name -> builder from the dict of ``KEY=VALUE`` strings
FAMILIES = {"powerlaw": _powerlaw}


def covariance_from_atoms(atoms, probs=None) -> DiscreteLaw:
    """A discrete spectrum; ``ValueError`` for non-positive, non-finite atoms or bad probs."""
    atoms = np.asarray(atoms, dtype=float)
    if atoms.size == 0 or not np.all(np.isfinite(atoms)):
        raise ValueError("covariance atoms must be finite numbers")
    if np.any(atoms <= 0):
        raise ValueError(f"covariance atoms must be > 0 (a positive definite covariance), got "
                         f"{float(atoms[atoms <= 0][0])!r}")
    probs = np.full(atoms.size, 1.0 / atoms.size) if probs is None else probs
    return DiscreteLaw(atoms, probs)


def parse_covariance(spec: str) -> WeightLaw:
    """``NAME:KEY=VALUE,...`` for a named family, else a file of eigenvalues (whitespace or comma
    separated text, or ``.npy``), whose empirical law is returned."""
    name, sep, rest = spec.partition(":")
    if sep and name in FAMILIES:
        params = {}
        for item in filter(None, rest.replace(" ", "").split(",")):
            key, eq, value = item.partition("=")
            if not eq or not key or not value:
                raise ValueError(f"expected KEY=VALUE in {spec!r}, got {item!r}")
            params[key] = value
        return FAMILIES[name](params)
    if not os.path.isfile(spec):
        raise ValueError(f"{spec!r} is neither a named family ({', '.join(FAMILIES)}: "
                         f"NAME:KEY=VALUE,...) nor a file of eigenvalues")
    try:
        if spec.endswith(".npy"):
            values = np.load(spec, allow_pickle=False)
        else:
            with open(spec) as fh:
                values = np.array(fh.read().replace(",", " ").split(), dtype=float)
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read eigenvalues from {spec!r}: {exc}") from None
    values = np.asarray(values, dtype=float).ravel()
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError(f"the eigenvalues in {spec!r} must be finite numbers (found NaN, inf "
                         f"or none)")
    if np.any(values <= 0):
        raise ValueError(f"the eigenvalues in {spec!r} must be > 0 (a positive definite "
                         f"covariance), got {float(values[values <= 0][0])!r}")
    return EmpiricalLaw(values, max_atoms=DEFAULT_ATOMS)


def spectrum_values(law: WeightLaw, d: int) -> np.ndarray:
    r"""The d eigenvalues of a deterministic covariance Σ whose spectral law tends to ``law``.

    ``σ_i = Q_H((i − ½)/d)``, ``i = 1..d``, with ``Q_H`` the quantile function of H (midpoint
    quantiles, theory/anisotropic.md, ANI-10): the ``(1/d) Σ_i σ_i^k`` are midpoint rules for
    ``E_H σ^k`` (error ``O(d⁻²)`` for a law with a smooth quantile function, ``O(1/d)`` for atoms
    whose probabilities are not multiples of ``1/d``). A law with a scipy distribution uses its
    ``ppf``; an :class:`~rmthess.laws.EmpiricalLaw` its sorted values (returned as they are when
    there are d of them); any other law its atoms. Sorted ascending.

    Examples
    --------
    >>> from rmthess.gmp.covariance import covariance_from_atoms, spectrum_values
    >>> spectrum_values(covariance_from_atoms([0.5, 2.0], [0.25, 0.75]), 4).tolist()
    [0.5, 2.0, 2.0, 2.0]
    """
    from rmthess._validate import DIM

    d = DIM.validate(d)
    u = (np.arange(d) + 0.5) / d
    if isinstance(law, EmpiricalLaw):
        vals = law.samples
        out = vals.copy() if vals.size == d else vals[np.minimum((u * vals.size).astype(int),
                                                                 vals.size - 1)]
    elif isinstance(law, ContinuousLaw) and law.dist is not None:
        out = np.asarray(law.dist.ppf(u), dtype=float) * law._scale
    else:
        atomic = law if isinstance(law, DiscreteLaw) else law.discretize()
        cdf = np.cumsum(atomic.probs)
        cdf[-1] = 1.0
        out = atomic.atoms[np.minimum(np.searchsorted(cdf, u, side="right"), cdf.size - 1)]
    out = np.asarray(out, dtype=float)
    if not (np.all(np.isfinite(out)) and np.all(out > 0)):
        raise ValueError(f"the covariance spectrum {law!r} has quantiles that are not finite "
                         "and > 0")
    return out
