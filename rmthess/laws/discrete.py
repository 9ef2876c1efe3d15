r"""Atomic weight laws :math:`\nu = \sum_k p_k \delta_{\lambda_k}`: :class:`DiscreteLaw` and
:class:`PointMass`."""

from __future__ import annotations

import math

import numpy as np

from rmthess._validate import as_generator, check_finite_array
from rmthess.laws.base import WeightLaw, _check_scale

__all__ = ["DiscreteLaw", "PointMass", "check_sample_shape", "check_real_array", "SAMPLE_MAX_GIB"]

#: default cost guard of ``sample``: refuse draws needing more memory than this (GiB)
SAMPLE_MAX_GIB = 4.0

#: relative tolerance (per atom) on ``sum(probs) == 1``; rounding of K decimal inputs stays below it
PROB_SUM_RTOL = 1e-12


def check_sample_shape(shape, max_gib: float = SAMPLE_MAX_GIB) -> tuple:
    """Return ``shape`` as a tuple of non-negative ints; ``ValueError`` if it is not one, or if
    the float64 draws would need more than ``max_gib`` GiB (the cost guard of ``sample``)."""
    dims = (shape,) if isinstance(shape, (int, np.integer)) else shape
    try:
        dims = tuple(dims)
    except TypeError:
        raise ValueError(f"shape must be an int or a tuple of ints, got {shape!r}") from None
    if not all(isinstance(n, (int, np.integer)) and not isinstance(n, (bool, np.bool_)) and n >= 0
               for n in dims):
        raise ValueError(f"shape must be an int or a tuple of non-negative ints, got {shape!r}")
    gib = 8.0 * math.prod(int(n) for n in dims) / 2**30
    if gib > max_gib:
        raise ValueError(f"sampling shape {shape!r} needs {gib:.3g} GiB of float64 draws, more "
                         f"than max_gib = {max_gib:g} (pass a larger max_gib to allow it)")
    return tuple(int(n) for n in dims)


def check_real_array(name: str, values, **kwargs) -> np.ndarray:
    """:func:`~rmthess._validate.check_finite_array` that also refuses complex arrays and scalars,
    which numpy would otherwise convert by dropping the imaginary part (complex lists already fail
    the conversion)."""
    if np.iscomplexobj(values):
        raise ValueError(f"{name} must be real, got complex values")
    return check_finite_array(name, values, **kwargs)


class DiscreteLaw(WeightLaw):
    r"""Atomic law :math:`\nu = \sum_{k=1}^K p_k \delta_{\lambda_k}`.

    Parameters
    ----------
    atoms : array_like
        Finite real atoms :math:`\lambda_k` (any sign, zero allowed).
    probs : array_like
        Probabilities :math:`p_k \ge 0`, same length, summing to 1 within ``1e-12·K``; they are
        renormalised to sum to 1 exactly (up to rounding).

    Attributes
    ----------
    atoms, probs : ndarray
        Sorted distinct atoms and their probabilities (duplicates merged, zero-probability atoms
        dropped).

    Notes
    -----
    Moments :math:`\mathbb{E}\lambda^k = \sum_k p_k\lambda_k^k` are evaluated with ``math.fsum``
    (one rounding per product, none in the sum). For this law the GMP equation is a polynomial of
    degree :math:`K'+1` in :math:`s`, :math:`K'` the number of non-zero atoms (GMP-3).

    Examples
    --------
    >>> from rmthess.laws import DiscreteLaw
    >>> law = DiscreteLaw([1.0, -0.5, 1.0], [0.25, 0.5, 0.25])
    >>> law.atoms.tolist(), law.probs.tolist()
    ([-0.5, 1.0], [0.5, 0.5])
    >>> law.moment(2)
    0.625
    """

    def __init__(self, atoms, probs):
        atoms = check_real_array("atoms", atoms, ndim=1)
        if np.iscomplexobj(probs):
            raise ValueError("probs must be real, got complex values")
        try:
            probs = np.asarray(probs, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"probs must be an array of floats: {exc}") from None
        if probs.ndim != 1 or probs.shape != atoms.shape:
            raise ValueError(f"probs must have the shape of atoms {atoms.shape}, got {probs.shape}")
        if np.any(np.isnan(probs)) or np.any(np.isinf(probs)):
            raise ValueError("probs must be finite (found NaN or inf)")
        if np.any(probs < 0):
            raise ValueError(f"probs must be >= 0, got {probs[probs < 0][0]!r}")
        total = math.fsum(probs.tolist())
        if abs(total - 1.0) > PROB_SUM_RTOL * max(1, probs.size):
            raise ValueError(f"probs must sum to 1, got sum {total!r}")
        keep = probs > 0
        atoms, probs = atoms[keep], probs[keep] / total
        uniq, inverse = np.unique(atoms, return_inverse=True)
        merged = np.zeros(uniq.size)
        np.add.at(merged, inverse, probs)
        self.atoms = uniq
        self.probs = merged
        self.atoms.setflags(write=False)
        self.probs.setflags(write=False)

    def __repr__(self) -> str:
        if self.atoms.size <= 6:
            return f"DiscreteLaw(atoms={self.atoms.tolist()}, probs={self.probs.tolist()})"
        return f"DiscreteLaw(<{self.atoms.size} atoms in [{self.atoms[0]:g}, {self.atoms[-1]:g}]>)"

    def __eq__(self, other):
        if not isinstance(other, DiscreteLaw):
            return NotImplemented
        return (np.array_equal(self.atoms, other.atoms)
                and np.array_equal(self.probs, other.probs))

    __hash__ = None

    @property
    def size(self) -> int:
        """Number of distinct atoms."""
        return int(self.atoms.size)

    @property
    def prob_nonzero(self) -> float:
        return float(math.fsum(self.probs[self.atoms != 0].tolist()))

    def _moment(self, k: int) -> float:
        return math.fsum((self.probs * self.atoms**k).tolist())

    def sample(self, shape, *, rng=None, max_gib: float = SAMPLE_MAX_GIB) -> np.ndarray:
        """Independent draws; ``ValueError`` beyond ``max_gib`` GiB (cost guard)."""
        shape = check_sample_shape(shape, max_gib)
        rng = as_generator(rng)
        return rng.choice(self.atoms, size=shape, p=self.probs)

    def expect(self, f) -> float:
        vals = np.asarray(f(self.atoms), dtype=float)
        return math.fsum((self.probs * vals).tolist())

    def discretize(self) -> DiscreteLaw:
        """Return ``self`` (an atomic law is its own discretization, exactly)."""
        return self

    def scaled(self, c: float) -> DiscreteLaw:
        r"""The law of :math:`c\lambda` with the same probabilities, bit for bit (they are not
        renormalised again), so that laws derived by scaling agree exactly in ``P(λ ≠ 0)``."""
        c = _check_scale(c)
        atoms, probs = c * self.atoms, self.probs
        if c < 0:
            atoms, probs = atoms[::-1], probs[::-1]
        if c == 0 or not np.all(np.diff(atoms) > 0) or not np.all(np.isfinite(atoms)):
            return DiscreteLaw(atoms, probs)      # atoms merged by rounding, or overflow refused
        new = object.__new__(DiscreteLaw)
        new.atoms, new.probs = np.array(atoms), np.array(probs)
        new.atoms.setflags(write=False)
        new.probs.setflags(write=False)
        return new


class PointMass(DiscreteLaw):
    r"""The point mass :math:`\delta_c`; ``PointMass(c) == DiscreteLaw([c], [1])``.

    ``PointMass(1.0)`` with the GMP law gives the Marchenko–Pastur law (GMP-4).

    Examples
    --------
    >>> from rmthess.laws import PointMass, DiscreteLaw
    >>> PointMass(2.0) == DiscreteLaw([2.0], [1.0])
    True
    """

    def __init__(self, c: float):
        super().__init__([_check_scale(c)], [1.0])

    def __repr__(self) -> str:
        return f"PointMass({float(self.atoms[0])!r})"
