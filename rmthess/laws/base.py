r"""The abstract weight law :math:`\nu` of the diagonal weights :math:`\lambda_n` in
``(1/N) X Λ Xᵀ``.

A weight law is anything that can give its moments :math:`\mathbb{E}\lambda^k`, expectations
:math:`\mathbb{E} f(\lambda)`, random draws, and an atomic approximation
(:meth:`WeightLaw.discretize`) on which the generalized Marchenko–Pastur solver works. Weights may
have any sign and may vanish (off-diagonal Hessian blocks have :math:`\lambda \le 0`).
"""

from __future__ import annotations

import abc

import numpy as np

__all__ = ["WeightLaw"]


class WeightLaw(abc.ABC):
    r"""Abstract law :math:`\nu` of a real weight :math:`\lambda`.

    Subclasses implement :meth:`_moment`, :meth:`sample`, :meth:`expect`, :meth:`discretize`,
    :meth:`scaled` and :attr:`prob_nonzero`; the public :meth:`moment` validates ``k``.

    Notes
    -----
    The GMP law depends on :math:`\nu` only through :math:`\mathbb{E}[\lambda/(1+\gamma\lambda s)]`
    (equation (GMP-1) of ``theory/gmp.md``); its free cumulants are
    :math:`\kappa_k = \gamma^{k-1}\mathbb{E}\lambda^k` (GMP-6).
    """

    def moment(self, k: int) -> float:
        r"""Return :math:`\mathbb{E}\lambda^k` (``k >= 0``), exactly where the law allows it."""
        k = _check_order(k)
        if k == 0:
            return 1.0
        return float(self._moment(k))

    def moments(self, kmax: int) -> np.ndarray:
        r"""Return ``[E λ, E λ², ..., E λ^kmax]`` as a float array of length ``kmax``."""
        kmax = _check_order(kmax)
        return np.array([self.moment(k) for k in range(1, kmax + 1)], dtype=float)

    @property
    def mean(self) -> float:
        r""":math:`\mathbb{E}\lambda`."""
        return self.moment(1)

    @property
    @abc.abstractmethod
    def prob_nonzero(self) -> float:
        r""":math:`P(\lambda \ne 0)`; it fixes the atom at zero of the GMP law (GMP-5)."""

    @abc.abstractmethod
    def _moment(self, k: int) -> float:
        """Pure math behind :meth:`moment` (``k >= 1``)."""

    @abc.abstractmethod
    def sample(self, shape, *, rng=None) -> np.ndarray:
        """Independent draws of λ with the given shape (``rng``: anything ``default_rng``
        accepts)."""

    @abc.abstractmethod
    def expect(self, f) -> float:
        r"""Return :math:`\mathbb{E} f(\lambda)` for a vectorised callable ``f``."""

    @abc.abstractmethod
    def discretize(self):
        """Return the atomic law (a :class:`~rmthess.laws.DiscreteLaw`) the GMP solver uses."""

    def discretize_for(self, gamma: float):
        """The atomic law the GMP law at ratio ``gamma`` uses: :meth:`discretize` unless a law
        chooses its atoms by the accuracy they give at ``gamma`` (:class:`EmpiricalLaw` ``tol``)."""
        return self.discretize()

    @abc.abstractmethod
    def scaled(self, c: float) -> WeightLaw:
        r"""Return the law of :math:`c\lambda` (``c`` any finite real)."""


def _check_order(k) -> int:
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) or k < 0:
        raise ValueError(f"moment order must be a non-negative integer, got {k!r}")
    return int(k)


def _check_scale(c) -> float:
    try:
        c = float(c)
    except (TypeError, ValueError):
        raise ValueError(f"scale factor must be a finite real number, got {c!r}") from None
    if not np.isfinite(c):
        raise ValueError(f"scale factor must be a finite real number, got {c!r}")
    return c
