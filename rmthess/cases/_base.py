"""The model-case interface and its result containers (theory/cases.md).

A case is one class that owns everything the package knows about one loss and architecture: its
parameters and their validation (:meth:`Case.check`), its d → ∞ block limits in float64 and mpmath,
the spectral laws of its blocks, its C → ∞ constants, and for the Monte Carlo how it draws its
parameters and turns data into the per-sample weights ``Λ_n`` of every block ``B = (1/N) X Λ Xᵀ``
(CASE-1; theory/montecarlo.md §1), with the hooks of the finite-size predictions.
"""

from __future__ import annotations

import abc
import copy
import functools
import math
import sys
from dataclasses import dataclass, field

import numpy as np

from rmthess._validate import CLASSES, DIGITS, GAMMA, SIGMA_V, WIDTH
from rmthess.cases._blocks import block_type
from rmthess.laws.entry import GAUSSIAN, EntryLaw, entry_law
from rmthess.laws.init import SIGMA_W

__all__ = ["BlockLimit", "CaseLimits", "Params", "Case", "finite_or_refused"]


@dataclass(frozen=True)
class Params:
    """Network parameters of one Monte Carlo replicate: ``first`` (``r×d``), ``second`` (``C×m``
    output weights of the hidden network, or None) and ``offset`` (the logit offsets
    ``b_c = log π_c`` of a class prior, CASE-30, or None)."""

    first: np.ndarray
    second: np.ndarray | None = None
    offset: np.ndarray | None = None


@dataclass(frozen=True)
class BlockLimit:
    """Limits of one block type: ``g_ii``, ``g_ij`` and ``ratio = g_ij / g_ii`` (CASE-1).

    ``estimate`` is True for Monte Carlo values; they then carry standard errors ``stderr_*``.
    ``bound`` is True when the ``stderr_*`` are instead the error bounds of a deterministic rule
    (the mlp-ce output rules, theory/cases.md CASE-34, CASE-36: the difference of two sizes).
    """

    g_ii: float
    g_ij: float
    ratio: float
    stderr_ratio: float | None = None
    estimate: bool = False
    stderr_g_ii: float | None = None
    stderr_g_ij: float | None = None
    bound: bool = False

    @property
    def error_kind(self) -> str:
        """What the ``stderr_*`` are: ``"bound"`` or ``"standard error"``."""
        return "bound" if self.bound else "standard error"

    def as_dict(self) -> dict:
        out = {"g_ii": self.g_ii, "g_ij": self.g_ij, "ratio": self.ratio, "estimate": self.estimate}
        if self.estimate:
            out["stderr"] = {"g_ii": self.stderr_g_ii, "g_ij": self.stderr_g_ij,
                             "ratio": self.stderr_ratio}
            out["error_kind"] = self.error_kind
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
    #: ``(s_1, s_2)`` of the data-covariance spectrum (theory/anisotropic.md), None for Σ = I
    covariance: tuple | None = None

    def as_dict(self) -> dict:
        out = {"case": self.case, "gamma": self.gamma, "classes": self.classes, "m": self.m,
               "sigma_v": self.sigma_v,
               **{name: blk.as_dict() for name, blk in self.blocks.items()}}
        if self.seed is not None:
            out["seed"] = self.seed
        if self.covariance is not None:
            out["covariance"] = {"s1": self.covariance[0], "s2": self.covariance[1]}
        return out


class Case(abc.ABC):
    """A model case: loss + architecture → limits of its Hessian blocks and their Monte Carlo
    weights.

    Subclasses set ``name``, ``block_types`` (registered names of :mod:`rmthess.cases._blocks`),
    ``loss`` and ``hidden``, and implement :meth:`limits`, :meth:`block_law`, :meth:`asymptote`,
    :meth:`rank`, :meth:`first_sigma`, :meth:`draw` and :meth:`weights`.
    """

    #: registry key, e.g. ``"linear-ce"`` (the case module is ``rmthess/cases/linear_ce.py``)
    name: str = ""
    #: block types, ``("v",)`` or ``("hidden", "output")``
    block_types: tuple[str, ...] = ()
    #: loss, ``"ce"`` or ``"mse"``
    loss: str = ""
    #: whether the case has a hidden layer (and so a hidden width m)
    hidden: bool = False
    #: whether the weights are invariant under a common shift ``u → u + c·1`` of the projections
    #: (the softmax of the linear CE case): the quadrature of c(z) then loses a dimension (MC-16)
    shift_invariant: bool = False
    #: entry law of the output weights V (theory/cases.md, CASE-20); set by :meth:`with_init`
    v_law: EntryLaw = GAUSSIAN
    #: entry law and scale of the hidden weights ``W = σ_w ε/√d`` (hidden cases)
    w_law: EntryLaw = GAUSSIAN
    sigma_w: float = 1.0
    #: spectrum law H of the data covariance Σ of the Monte Carlo (None: Σ = I) and the class prior
    #: π of the logit offsets (None: no offsets); set by :meth:`with_data`
    covariance = None
    prior: np.ndarray | None = None

    # ------------------------------------------------------------------ parameters
    def check(self, classes, m, sigma_v):
        """Validate ``(classes, m, sigma_v)`` of this case; return them converted.

        ``m`` is required by the cases with a hidden layer and refused by the others.
        """
        classes = CLASSES.validate(classes)
        sigma_v = SIGMA_V.validate(sigma_v)
        if self.hidden:
            if m is None:
                raise ValueError(f"case {self.name!r} needs the hidden width m: "
                                 f"{WIDTH.name} must be {WIDTH.describe()}")
            m = WIDTH.validate(m)
        elif m is not None:
            raise ValueError(f"case {self.name!r} has no hidden width; leave m unset (got m={m!r})")
        return classes, m, sigma_v

    def _check(self, gamma, classes, m, sigma_v):
        """:meth:`check` plus the aspect ratio γ; return ``(γ, C, m, σ_v)``."""
        gamma = GAMMA.validate(gamma)
        return (gamma, *self.check(classes, m, sigma_v))

    def _check_mp(self, gamma, classes, m, sigma_v, dps):
        """:meth:`_check` plus the number of digits of :meth:`limits_mp`."""
        DIGITS.validate(dps)
        return self._check(gamma, classes, m, sigma_v)

    def _refuse_prior(self, prior):
        """The MSE cases: logit offsets do not enter their blocks (theory/cases.md, CASE-31)."""
        if prior is not None:
            raise ValueError(f"{self.name}: a class prior (logit offsets b_c = log pi_c) does not "
                             "change any Hessian block of the MSE loss (theory/cases.md, CASE-31); "
                             "it applies to the CE cases linear-ce and mlp-ce")

    def check_block(self, block):
        """Raise ``ValueError`` unless ``block`` is one of this case's block types."""
        if block not in self.block_types:
            raise ValueError(f"case {self.name!r} has block types {self.block_types}, "
                             f"got {block!r}")

    @staticmethod
    def _check_which(which):
        if which not in ("diag", "offdiag"):
            raise ValueError(f"which must be 'diag' or 'offdiag', got {which!r}")

    def _check_law(self, block, which, gamma, classes, m, sigma_v):
        """Validate the arguments of :meth:`block_law`; return the checked ``(γ, C, m, σ_v)``."""
        self.check_block(block)
        self._check_which(which)
        return self._check(gamma, classes, m, sigma_v)

    def with_init(self, *, v_law=None, w_law=None, sigma_w=1.0) -> Case:
        """A copy of this case whose Monte Carlo draws V with entries of ``v_law`` and W as
        ``σ_w ε/√d``, ``ε`` of ``w_law`` (laws as :func:`rmthess.laws.entry.entry_law` accepts;
        default Gaussian)."""
        v_law, w_law, sigma_w = entry_law(v_law), entry_law(w_law), SIGMA_W.validate(sigma_w)
        if not self.hidden and (sigma_w != 1.0 or w_law != GAUSSIAN):
            raise ValueError(f"case {self.name!r} has no hidden layer; "
                             "leave sigma_w and w_law unset")
        new = copy.copy(self)
        new.v_law, new.w_law, new.sigma_w = v_law, w_law, sigma_w
        return new

    def with_data(self, *, covariance=None, prior=None) -> Case:
        """A copy of this case whose Monte Carlo draws ``x = Σ^{1/2} y`` with the spectrum law
        ``covariance`` (:meth:`data_scale`) and, for the CE loss, the logits plus the offsets
        ``b_c = log π_c`` of ``prior`` (:meth:`offset`; theory/anisotropic.md, ANI-10, ANI-14).
        The two compose: with both, the logits are ``V Σ^{1/2} y + b`` (ANI-15, the joint limit
        ANI-13). The prior must have one entry per class of the run (checked by :meth:`offset`);
        the MSE cases refuse a prior (their blocks do not depend on the offsets, CASE-31)."""
        if covariance is None and prior is None:
            return self
        if prior is not None and self.loss != "ce":
            raise ValueError(f"case {self.name!r} has no logits to offset: a class prior does not "
                             "change any Hessian block of the MSE loss (theory/cases.md, CASE-31); "
                             "it applies to linear-ce and mlp-ce only")
        if covariance is not None:
            from rmthess.cases._architectures import covariance_moments

            covariance_moments(covariance)               # positive definite, finite
        if prior is not None:
            from rmthess.laws.prior import validate_prior

            p = np.asarray(prior, dtype=float)
            prior = validate_prior(p, p.size)
        new = copy.copy(self)
        new.covariance, new.prior = covariance, prior
        return new

    def offset(self, classes: int) -> np.ndarray | None:
        """The logit offsets ``b_c = log π_c`` of the class prior set by :meth:`with_data` (None
        without one); ``ValueError`` unless the prior has one entry per class."""
        if self.prior is None:
            return None
        if self.prior.size != classes:
            raise ValueError(f"the class prior has {self.prior.size} entries, expected one per "
                             f"class ({classes})")
        return np.log(self.prior)

    def data_scale(self, d: int) -> np.ndarray | None:
        """``√σ_i`` of the d eigenvalues of Σ (:func:`rmthess.gmp.covariance.spectrum_values`), or
        None for Σ = I: the data of a replicate are ``X = Y diag(√σ)``, Y standard Gaussian."""
        if self.covariance is None:
            return None
        from rmthess.gmp.covariance import spectrum_values

        return np.sqrt(spectrum_values(self.covariance, d))

    # ------------------------------------------------------------------ limits
    # Every result method takes ``covariance``: the spectrum law H of a data covariance Σ
    # (``x = Σ^{1/2} y``; :mod:`rmthess.gmp.covariance`), None for Σ = I (theory/anisotropic.md).
    @abc.abstractmethod
    def limits(self, gamma, classes, *, m=None, sigma_v=1.0, covariance=None, rng=None,
               samples=None) -> CaseLimits:
        """``g_ii``, ``g_ij`` and their ratio for every block type."""

    @abc.abstractmethod
    def block_law(self, block, which, gamma, classes, *, m=None, sigma_v=1.0, covariance=None,
                  **kwargs):
        """The limiting spectral law of a d×d block: a GMP law, with a ``covariance`` a separable
        law."""

    @abc.abstractmethod
    def asymptote(self, gamma, classes, *, m=None, sigma_v=1.0, covariance=None) -> dict:
        """The leading term of each block ratio as C → ∞, evaluated at ``classes``."""

    def limits_mp(self, gamma, classes, *, m=None, sigma_v=1.0, covariance=None,
                  dps=30) -> CaseLimits:
        """The limits as mpmath numbers to ``dps`` digits, where the case has an exact
        evaluation."""
        raise ValueError(f"case {self.name!r} has no high-precision evaluation (its finite-C "
                         "limits "
                         "are Monte Carlo estimates); drop --digits")

    # ------------------------------------------------------------------ Monte Carlo
    @abc.abstractmethod
    def rank(self, classes: int, m: int | None) -> int:
        """Rank ``r`` of the first-layer matrix (the projection the weights depend on)."""

    @abc.abstractmethod
    def first_sigma(self, sigma_v: float) -> float:
        """Standard deviation times ``√d`` of the first-layer entries."""

    @abc.abstractmethod
    def draw(self, rng: np.random.Generator, d: int, classes: int, m: int | None,
             sigma_v: float) -> Params:
        """Draw the network parameters of one replicate."""

    @abc.abstractmethod
    def weights(self, params: Params, U: np.ndarray) -> dict:
        """Per-sample block weights of every block type, from ``U = X_w Mᵀ`` (``N×r``)."""

    def features(self, block: str, X: np.ndarray, U: np.ndarray) -> np.ndarray:
        """Rows the blocks of ``block`` are built from: the data ``X`` (``N×d``) by default."""
        return X

    @staticmethod
    def square(block: str) -> bool:
        """Whether ``block`` is a d×d block (normalized by d) rather than an m×m output block."""
        return block_type(block).square

    def exchangeable(self, block: str) -> bool:
        """Whether the weights of ``block`` are exchangeable in the block index (linear models)."""
        return False

    def conditional(self) -> bool:
        """Whether the finite-size prediction is conditional on ``params.second`` (per-V)."""
        return self.hidden

    def exact_moments(self, block: str, which: str, classes: int, sigma_v: float):
        """``(E λ, E λ²)`` of a diagonal/off-diagonal block weight when known exactly, else None."""
        return None

    def exact_weight_rule(self, block: str, ij, params: Params, r: int):
        """The weight ``λ`` of block ``ij`` as a function of ``y ~ N(0, I_r)`` in closed form, for
        the limit c(z) of the decoupling error (theory/montecarlo.md, MC-14, MC-15):
        ``(values, probabilities, moments)`` with ``moments[k] = E[1(λ = values[k]) y yᵀ]``
        (``r×r``), or None where the case has none."""
        return None

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
    mpmath = sys.modules.get("mpmath")   # an mpf exists only once mpmath is loaded
    if mpmath is not None and isinstance(value, mpmath.mpf):
        return None if mpmath.isfinite(value) else where
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        return where
    return None if math.isfinite(x) else where


def finite_or_refused(method):
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
