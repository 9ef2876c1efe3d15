"""Class priors π for the logit offsets ``b_c = log π_c`` (theory/cases.md, (CASE-30)).

One parser for every entry point: ``zipf:S`` (``π_c ∝ c^{−S}``, ``c = 1..C``) or the path of a text
file of non-negative class frequencies (counts or probabilities, separated by white space or
commas), normalised to sum to 1.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["parse_prior", "validate_prior", "zipf_prior"]

#: a prior must sum to 1 within this tolerance (it is a probability vector, not a set of weights)
_SUM_TOL = 1e-12


def zipf_prior(classes: int, exponent: float) -> np.ndarray:
    """``π_c = c^{−S} / Σ_k k^{−S}``, ``c = 1..C``, for an exponent ``S >= 0`` (S = 0: uniform)."""
    S = float(exponent)
    if not (math.isfinite(S) and S >= 0.0):
        raise ValueError(f"zipf exponent must be finite and >= 0, got {exponent!r}")
    logw = -S * np.log(np.arange(1, int(classes) + 1, dtype=float))
    w = np.exp(logw - logw.max())
    return w / w.sum()


def validate_prior(prior, classes: int) -> np.ndarray:
    """Return ``prior`` as a float array after checking it is a probability vector over C classes.

    Raises ``ValueError`` unless it has ``classes`` entries, each positive and finite, summing to 1
    within 1e-12.
    """
    p = np.asarray(prior, dtype=float)
    if p.ndim != 1 or len(p) != classes:
        raise ValueError(f"prior must have one entry per class ({classes}), got shape {p.shape}")
    if not np.all(np.isfinite(p)) or not np.all(p > 0.0):
        raise ValueError("prior entries must be positive and finite")
    s = math.fsum(p.tolist())
    if abs(s - 1.0) > _SUM_TOL:
        raise ValueError(f"prior must sum to 1 within {_SUM_TOL:g}, got sum {s!r}")
    return p


def parse_prior(spec: str, classes: int) -> np.ndarray:
    """``zipf:S`` or a file of class frequencies → a validated prior over ``classes`` classes."""
    if not isinstance(spec, str) or not spec:
        raise ValueError(f"prior must be 'zipf:S' or a file of class frequencies, got {spec!r}")
    if spec.startswith("zipf:"):
        text = spec[5:]
        try:
            S = float(text)
        except ValueError:
            raise ValueError(f"zipf exponent must be a number, got {text!r}") from None
        return validate_prior(zipf_prior(classes, S), classes)
    try:
        with open(spec, encoding="utf-8") as f:
            raw = f.read().replace(",", " ").split()
    except OSError as exc:
        raise ValueError(f"cannot read the class-frequency file {spec!r}: {exc.strerror}") from None
    try:
        freq = np.array([float(t) for t in raw])
    except ValueError:
        raise ValueError(f"class-frequency file {spec!r} holds a non-number") from None
    if len(freq) != classes:
        raise ValueError(f"class-frequency file {spec!r} has {len(freq)} entries, "
                         f"expected {classes} (one per class)")
    if not np.all(np.isfinite(freq)) or not np.all(freq > 0.0):
        raise ValueError(f"class frequencies in {spec!r} must be positive and finite")
    return validate_prior(freq / math.fsum(freq.tolist()), classes)
