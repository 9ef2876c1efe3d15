r"""The model-case strategy: how one case turns data into per-sample block weights.

A :class:`Model` knows, for one case of theory/montecarlo.md §1, how to draw the network parameters,
which low-rank projection of the data its weights depend on (``U = X Mᵀ`` with ``M`` the first-layer
matrix, of rank ``r``), how to turn ``U`` into the per-sample weights ``Λ_n`` of every block type, and
which features the blocks are built from. Designs (:mod:`rmthess.montecarlo.designs`) decide which
data feed the weights and which feed the matrices; the model never needs to know.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from rmthess._validate import CLASSES, SIGMA_V, WIDTH
from rmthess.laws.entry import GAUSSIAN, EntryLaw, entry_law
from rmthess.laws.init import SIGMA_W

__all__ = ["Params", "Model"]


@dataclass(frozen=True)
class Params:
    """Network parameters of one replicate: ``first`` (``r×d``) and ``second`` (``C×m`` or None)."""

    first: np.ndarray
    second: np.ndarray | None = None


class Model(ABC):
    """One model case (a strategy behind :data:`rmthess.montecarlo.models.MODELS`)."""

    #: registry key, e.g. ``"linear-ce"``
    name: str = ""
    #: block types, ``("v",)`` or ``("hidden", "output")``
    block_types: tuple[str, ...] = ()
    #: loss, ``"ce"`` or ``"mse"``
    loss: str = ""
    #: whether the model has a hidden layer (needs ``m``)
    hidden: bool = False
    #: entry law of the output weights V (theory/cases.md, CASE-20); set by :meth:`with_init`
    v_law: EntryLaw = GAUSSIAN
    #: entry law and scale of the hidden weights ``W = σ_w ε/√d`` (mlp models)
    w_law: EntryLaw = GAUSSIAN
    sigma_w: float = 1.0

    def with_init(self, *, v_law=None, w_law=None, sigma_w=1.0) -> Model:
        """A copy of this model drawing V with entries of ``v_law`` and W as ``σ_w ε/√d``, ``ε`` of
        ``w_law`` (laws as :func:`rmthess.laws.entry.entry_law` accepts; default Gaussian)."""
        v_law, w_law, sigma_w = entry_law(v_law), entry_law(w_law), SIGMA_W.validate(sigma_w)
        if not self.hidden and (sigma_w != 1.0 or w_law != GAUSSIAN):
            raise ValueError(f"case {self.name!r} has no hidden layer; leave sigma_w and w_law unset")
        new = copy.copy(self)
        new.v_law, new.w_law, new.sigma_w = v_law, w_law, sigma_w
        return new

    def check(self, classes, m, sigma_v):
        """Validate ``(classes, m, sigma_v)``; return them converted."""
        classes = CLASSES.validate(classes)
        sigma_v = SIGMA_V.validate(sigma_v)
        if self.hidden:
            if m is None:
                raise ValueError(f"case {self.name!r} needs the hidden width m (an integer >= 1)")
            m = WIDTH.validate(m)
        elif m is not None:
            raise ValueError(f"case {self.name!r} has no hidden layer; do not pass m")
        return classes, m, sigma_v

    @abstractmethod
    def rank(self, classes: int, m: int | None) -> int:
        """Rank ``r`` of the first-layer matrix (the projection the weights depend on)."""

    @abstractmethod
    def first_sigma(self, sigma_v: float) -> float:
        """Standard deviation times ``√d`` of the first-layer entries."""

    @abstractmethod
    def draw(self, rng: np.random.Generator, d: int, classes: int, m: int | None,
             sigma_v: float) -> Params:
        """Draw the network parameters of one replicate."""

    @abstractmethod
    def weights(self, params: Params, U: np.ndarray) -> dict:
        """Per-sample block weights of every block type, from ``U = X_w Mᵀ`` (``N×r``)."""

    def features(self, block: str, X: np.ndarray, U: np.ndarray) -> np.ndarray:
        """Rows the blocks of ``block`` are built from: the data ``X`` (``N×d``) by default."""
        return X

    def square(self, block: str) -> bool:
        """Whether ``block`` is a d×d block (normalized by d) rather than an m×m output block."""
        return True

    def exchangeable(self, block: str) -> bool:
        """Whether the weights of ``block`` are exchangeable in the block index (linear models)."""
        return False

    def conditional(self) -> bool:
        """Whether the finite-size prediction is conditional on ``params.second`` (per-V)."""
        return self.hidden

    def exact_moments(self, block: str, which: str, classes: int, sigma_v: float):
        """``(E λ, E λ²)`` of a diagonal/off-diagonal block weight when known exactly, else None."""
        return None
