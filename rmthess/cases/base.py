"""The model-case interface, its result containers and the registry of cases.

A case is a small class: the loss and architecture fix the weights λ of every Hessian block
``B = (1/N) X Λ Xᵀ`` (theory/cases.md, (CASE-1)), and from them the case gives the limiting squared
Frobenius norms ``g_ii``, ``g_ij`` per block type, their ratio, the limiting spectral law of each
d×d block and the leading C → ∞ behaviour of the ratio. A new case is a new module that subclasses
:class:`Case` and registers itself with :func:`register`.
"""

from __future__ import annotations

import abc
import functools
import math
from dataclasses import dataclass, field

import mpmath
import numpy as np

from rmthess._validate import CLASSES, DIGITS, GAMMA, SIGMA_V, WIDTH

__all__ = ["BlockLimit", "CaseLimits", "Case", "CASES", "register", "get_case"]

#: registry: case name -> case class (filled by the case modules on import)
CASES: dict[str, type] = {}


@dataclass(frozen=True)
class BlockLimit:
    """Limits of one block type: ``g_ii``, ``g_ij`` and ``ratio = g_ij / g_ii`` (CASE-1).

    ``estimate`` is True for Monte Carlo values; they then carry standard errors ``stderr_*``.
    """

    g_ii: float
    g_ij: float
    ratio: float
    stderr_ratio: float | None = None
    estimate: bool = False
    stderr_g_ii: float | None = None
    stderr_g_ij: float | None = None

    def as_dict(self) -> dict:
        out = {"g_ii": self.g_ii, "g_ij": self.g_ij, "ratio": self.ratio, "estimate": self.estimate}
        if self.estimate:
            out["stderr"] = {"g_ii": self.stderr_g_ii, "g_ij": self.stderr_g_ij,
                             "ratio": self.stderr_ratio}
        return out


@dataclass(frozen=True)
class CaseLimits:
    """The limits of every block type of a case at ``(gamma, classes, m, sigma_v)``.

    ``seed`` is the integer seed of an estimate (None for exact values): passing it back as ``rng``
    reproduces the estimate.
    """

    case: str
    gamma: float
    classes: int
    m: int | None
    sigma_v: float
    blocks: dict = field(default_factory=dict)
    seed: int | None = None

    def as_dict(self) -> dict:
        out = {"case": self.case, "gamma": self.gamma, "classes": self.classes, "m": self.m,
               "sigma_v": self.sigma_v,
               **{name: blk.as_dict() for name, blk in self.blocks.items()}}
        if self.seed is not None:
            out["seed"] = self.seed
        return out


class Case(abc.ABC):
    """A model case: loss + architecture → limits of its Hessian blocks (theory/cases.md)."""

    name: str = ""
    block_types: tuple[str, ...] = ()
    #: whether the case has a hidden width m
    uses_width: bool = False

    # ------------------------------------------------------------------ validation helpers
    def _check(self, gamma, classes, m, sigma_v):
        gamma = GAMMA.validate(gamma)
        classes = CLASSES.validate(classes)
        sigma_v = SIGMA_V.validate(sigma_v)
        if self.uses_width:
            if m is None:
                raise ValueError(f"case {self.name!r} needs the hidden width m: "
                                 f"{WIDTH.name} must be {WIDTH.describe()}")
            m = WIDTH.validate(m)
        elif m is not None:
            raise ValueError(f"case {self.name!r} has no hidden width; leave m unset (got m={m!r})")
        return gamma, classes, m, sigma_v

    def _check_mp(self, gamma, classes, m, sigma_v, dps):
        """:meth:`_check` plus the number of digits of :meth:`limits_mp`."""
        DIGITS.validate(dps)
        return self._check(gamma, classes, m, sigma_v)

    def _check_block(self, block):
        if block not in self.block_types:
            raise ValueError(f"case {self.name!r} has block types {self.block_types}, got {block!r}")

    @staticmethod
    def _check_which(which):
        if which not in ("diag", "offdiag"):
            raise ValueError(f"which must be 'diag' or 'offdiag', got {which!r}")

    def _check_law(self, block, which, gamma, classes, m, sigma_v):
        """Validate the arguments of :meth:`block_law`; return the checked ``(γ, C, m, σ_v)``."""
        self._check_block(block)
        self._check_which(which)
        return self._check(gamma, classes, m, sigma_v)

    # ------------------------------------------------------------------ interface
    @abc.abstractmethod
    def limits(self, gamma, classes, *, m=None, sigma_v=1.0, rng=None, samples=None) -> CaseLimits:
        """``g_ii``, ``g_ij`` and their ratio for every block type."""

    @abc.abstractmethod
    def block_law(self, block, which, gamma, classes, *, m=None, sigma_v=1.0, **kwargs):
        """The limiting spectral law (a GMP law) of a d×d block."""

    @abc.abstractmethod
    def asymptote(self, gamma, classes, *, m=None, sigma_v=1.0) -> dict:
        """The leading term of each block ratio as C → ∞, evaluated at ``classes``."""

    def limits_mp(self, gamma, classes, *, m=None, sigma_v=1.0, dps=30) -> CaseLimits:
        """The limits as mpmath numbers to ``dps`` digits, where the case has an exact evaluation."""
        raise ValueError(f"case {self.name!r} has no high-precision evaluation (its finite-C limits "
                         "are Monte Carlo estimates); drop --digits")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _non_finite(value, where=""):
    """The path of the first NaN or infinite number inside a result (``None`` if all are finite)."""
    if isinstance(value, CaseLimits):
        for name, blk in value.blocks.items():
            bad = _non_finite(blk, name)
            if bad:
                return bad
        return None
    if isinstance(value, BlockLimit):
        for key in ("g_ii", "g_ij", "ratio", "stderr_ratio", "stderr_g_ii", "stderr_g_ij"):
            bad = _non_finite(getattr(value, key), f"{where}.{key}")
            if bad:
                return bad
        return None
    if isinstance(value, dict):
        for key, v in value.items():
            bad = _non_finite(v, f"{where}{key}")
            if bad:
                return bad
        return None
    if value is None:
        return None
    if isinstance(value, mpmath.mpf):
        return None if mpmath.isfinite(value) else where
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        return where
    return None if math.isfinite(x) else where


def _finite_or_refused(method):
    """Wrap a result method of a case: a NaN, an infinity or a float overflow becomes a ValueError.

    The message names the parameters, so every accepted input either gets finite numbers or is
    refused with the reason (the float64 range is exceeded).
    """
    @functools.wraps(method)
    def wrapped(self, gamma, classes, *args, **kwargs):
        what = (f"{self.name} {method.__name__} at gamma={gamma!r}, classes={classes!r}, "
                + ", ".join(f"{k}={v!r}" for k, v in kwargs.items() if k in ("m", "sigma_v")))
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                out = method(self, gamma, classes, *args, **kwargs)
        except (OverflowError, ZeroDivisionError) as exc:
            raise ValueError(f"{what}: the result is outside the float64 range ({exc}); "
                             "use smaller parameters") from None
        bad = _non_finite(out)
        if bad is not None:
            raise ValueError(f"{what}: {bad or 'the result'} is not finite in float64 "
                             "(the parameters are too extreme); use smaller parameters")
        return out
    return wrapped


def register(cls):
    """Class decorator: add a :class:`Case` subclass to :data:`CASES` under ``cls.name``.

    Its ``limits``, ``limits_mp`` and ``asymptote`` are wrapped so that a non-finite number is never
    returned: it becomes a ``ValueError`` that names the parameters.
    """
    if not cls.name or cls.name in CASES:
        raise ValueError(f"case name {cls.name!r} is empty or already registered")
    for name in ("limits", "limits_mp", "asymptote"):
        if name in cls.__dict__:
            setattr(cls, name, _finite_or_refused(cls.__dict__[name]))
    CASES[cls.name] = cls
    return cls


def get_case(name) -> Case:
    """Return an instance of the case called ``name``; ``ValueError`` lists the valid names."""
    if not isinstance(name, str) or name not in CASES:
        raise ValueError(f"unknown case {name!r}; valid cases: {', '.join(sorted(CASES))}")
    return CASES[name]()
