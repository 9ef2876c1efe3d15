"""Parameter declarations and input validation shared by the whole package.

Each model parameter is declared once, as a :class:`Domain`: its admissible range, whether it is an
integer, and a typical range. The same declaration validates user input (raising a clear
``ValueError``) and drives the hypothesis strategies of the property tests
(:meth:`Domain.strategy`), so the tests explore exactly the domain the code accepts.

Randomness helpers live here too: every stochastic function takes ``rng`` (anything
:func:`numpy.random.default_rng` accepts) and replicates or workers get
:meth:`numpy.random.SeedSequence.spawn` children, so results depend on the seed and nothing else.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

__all__ = [
    "rng_argument",
    "Domain",
    "GAMMA",
    "CLASSES",
    "WIDTH",
    "SIGMA_V",
    "SOFTMAX_SIGMA_V",
    "DIM",
    "SAMPLES",
    "REPS",
    "DIGITS",
    "check_finite_array",
    "check_upper_half_plane",
    "as_generator",
    "seed_sequence",
    "spawn_seeds",
    "child_seed",
]


@dataclass(frozen=True)
class Domain:
    """Declaration of one scalar parameter.

    Parameters
    ----------
    name : str
        Name used in error messages (as the user spells it, e.g. ``"gamma"``).
    integer : bool
        Whether the value must be an integer.
    low, high : float
        Bounds of the admissible range.
    low_open, high_open : bool
        Whether the bounds are excluded.
    typical : tuple of float
        The range that property tests explore (and where accuracy is guaranteed).
    log : bool
        Whether ``typical`` is explored on a log scale.
    meaning : str
        One line that says what the parameter is, for error messages and ``--help``.
    """

    name: str
    integer: bool
    low: float
    high: float = math.inf
    low_open: bool = False
    high_open: bool = True
    typical: tuple[float, float] | None = None
    log: bool = False
    meaning: str = ""

    def describe(self) -> str:
        """Return the admissible range in words, e.g. ``"a real number in (0, inf)"``."""
        kind = "an integer" if self.integer else "a finite real number"
        left = "(" if self.low_open else "["
        right = ")" if self.high_open or math.isinf(self.high) else "]"
        low = "-inf" if math.isinf(self.low) else f"{self.low:g}"
        high = "inf" if math.isinf(self.high) else f"{self.high:g}"
        return f"{kind} in {left}{low}, {high}{right}"

    def validate(self, value):
        """Return ``value`` converted to ``int`` or ``float``; raise ``ValueError`` if outside the
        domain."""
        if isinstance(value, (bool, np.bool_)):
            raise ValueError(f"{self.name} must be {self.describe()}, got a boolean {value!r}")
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value.item()
        if not isinstance(value, numbers.Real):
            raise ValueError(f"{self.name} must be {self.describe()}, got {value!r}")
        x = float(value)
        if math.isnan(x) or math.isinf(x):
            raise ValueError(f"{self.name} must be {self.describe()}, got {value!r}")
        if self.integer:
            if x != math.floor(x):
                raise ValueError(f"{self.name} must be {self.describe()}, got {value!r}")
            x = int(x)
        too_low = x <= self.low if self.low_open else x < self.low
        too_high = x >= self.high if self.high_open else x > self.high
        if too_low or too_high:
            raise ValueError(f"{self.name} must be {self.describe()}, got {value!r}")
        return x

    def strategy(self, low: float | None = None, high: float | None = None):
        """A hypothesis strategy over the typical range (or ``[low, high]`` inside it)."""
        from hypothesis import strategies as st

        lo, hi = self.typical if self.typical is not None else (self.low, self.high)
        lo = lo if low is None else low
        hi = hi if high is None else high
        if self.integer:
            if self.log:
                return st.floats(math.log(lo), math.log(hi)).map(lambda t: int(round(math.exp(t))))
            return st.integers(int(lo), int(hi))
        if self.log:
            return st.floats(math.log(lo), math.log(hi)).map(math.exp)
        return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


GAMMA = Domain("gamma", False, 0.0, low_open=True, typical=(1e-3, 1e3), log=True,
               meaning="aspect ratio d/N")
#: C up to 10^15: the softmax moments keep E p_1 = 1/C and E a = (C − 1) E p_1p_2 to 1e-14 there
#: (and to 10^18), far beyond any model; larger C only overflows the powers of C in the block norms
CLASSES = Domain("classes", True, 2, 1e15, high_open=False, typical=(2, 10**6), log=True,
                 meaning="number of classes C")
WIDTH = Domain("m", True, 1, typical=(1, 64), meaning="hidden width m")
#: σ_v enters the block norms through σ_v⁴ (and softmax(σ_v z)); beyond 1e±50 its powers leave
#: float64
SIGMA_V = Domain("sigma_v", False, 1e-50, 1e50, high_open=False, typical=(0.1, 3.0),
                 meaning="standard deviation of the output weights times sqrt(fan-in)")
#: σ_v where the float64 Gaussian-softmax moments hold their stated accuracy
#: (rmthess.integrals.softmax): above 15 the Gaussian weight of the tilted factors φ(e^{u + 2σ²}t)
#: leaves the float64 range; below 1e-3 the lattice (step ∝ σ_v) needs more than 10^5 points per
#: table.
SOFTMAX_SIGMA_V = Domain("sigma_v", False, 1e-3, 15.0, high_open=False, typical=(0.1, 3.0),
                         meaning="logit standard deviation of the float64 Gaussian-softmax moments")
DIM = Domain("d", True, 2, typical=(2, 4000), log=True, meaning="input dimension d")
SAMPLES = Domain("N", True, 1, typical=(1, 4000), log=True, meaning="number of samples N")
REPS = Domain("reps", True, 1, typical=(1, 1000), meaning="number of Monte Carlo replicates")
DIGITS = Domain("digits", True, 1, high=10000, high_open=False, typical=(5, 60),
                meaning="significant digits of an mpmath evaluation")


def check_finite_array(name: str, values, *, dtype=float, ndim: int | None = None,
                       allow_empty: bool = False) -> np.ndarray:
    """Return ``values`` as an array; raise ``ValueError`` if empty, of the wrong rank or not
    finite."""
    try:
        arr = np.asarray(values, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of {np.dtype(dtype).name} values: {exc}") \
            from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if arr.size == 0 and not allow_empty:
        raise ValueError(f"{name} must not be empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    return arr


def check_upper_half_plane(z, *, name: str = "z", closed: bool = False) -> np.ndarray:
    """Return ``z`` as complex128; raise ``ValueError`` unless every ``Im z > 0`` (``>= 0`` if
    closed)."""
    arr = np.asarray(z, dtype=np.complex128)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    bad = arr.imag < 0 if closed else arr.imag <= 0
    if np.any(bad):
        where = "Im z >= 0" if closed else "Im z > 0"
        raise ValueError(f"{name} must lie in the upper half plane ({where}); "
                         f"got {arr[bad].ravel()[0]!r}. Use the conjugate symmetry "
                         f"s(conj z) = conj s(z).")
    return arr


_SEED_KINDS = ("None, a non-negative integer, a sequence of non-negative integers, "
               "a numpy SeedSequence or Generator")


def _check_seed(seed, name: str = "seed"):
    """Raise ``ValueError`` unless ``seed`` is None, a non-negative integer or a sequence of them
    (a bool, a float — even an integral one —, NaN or a string is refused)."""
    if seed is None or isinstance(seed, (np.random.SeedSequence, np.random.Generator,
                                         np.random.BitGenerator)):
        return
    items = seed if isinstance(seed, (list, tuple, np.ndarray)) else [seed]
    if isinstance(seed, np.ndarray) and seed.ndim > 1:
        items = [seed.dtype.type(0.5)]  # refused below
    for x in items:
        if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Integral) or x < 0:
            raise ValueError(f"{name} must be {_SEED_KINDS}; got {seed!r}")
    if len(items) == 0:
        raise ValueError(f"{name} must be {_SEED_KINDS}; got an empty sequence")


def as_generator(rng=None) -> np.random.Generator:
    """Return a :class:`numpy.random.Generator` from anything :func:`numpy.random.default_rng`
    accepts.

    ``ValueError`` for anything else (a float, a bool, a negative integer, a string).
    """
    _check_seed(rng, "rng")
    return np.random.default_rng(rng)


def seed_sequence(seed=None) -> np.random.SeedSequence:
    """Return a :class:`numpy.random.SeedSequence` for ``seed``: anything
    :func:`numpy.random.default_rng` accepts.

    An int, a sequence of ints, a SeedSequence or None give the same SeedSequence on every call.
    A Generator (or a BitGenerator) is a stream: each call draws fresh entropy from it, so the
    generator advances and two calls give independent seeds (Scientific Python SPEC 7).

    >>> g = np.random.default_rng(1)
    >>> seed_sequence(g).entropy != seed_sequence(g).entropy
    True
    >>> seed_sequence([1, 2]).entropy
    [1, 2]
    """
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.BitGenerator):
        seed = np.random.Generator(seed)
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(seed.integers(0, 2**32, size=4, dtype=np.uint64).tolist())
    _check_seed(seed)
    return np.random.SeedSequence(seed)


def rng_argument(rng, seed, where: str):
    """The random source of a function taking ``rng`` with ``seed`` as its deprecated alias.

    Returns ``seed`` (after a ``DeprecationWarning``) when only it is given, else ``rng``.
    """
    if seed is None:
        return rng
    if rng is not None:
        raise ValueError(f"{where}: give rng only (seed is its deprecated alias), not both")
    import warnings

    warnings.warn(f"{where}(seed=...) is deprecated; pass rng=... (an int, a SeedSequence or a "
                  f"Generator, as numpy.random.default_rng accepts)", DeprecationWarning,
                  stacklevel=3)
    return seed


def child_seed(seed, *keys: int) -> np.random.SeedSequence:
    """The child of ``seed`` with spawn key ``seed.spawn_key + keys``.

    Unlike :meth:`numpy.random.SeedSequence.spawn`, this is a pure function: it does not advance the
    parent's count of spawned children, so the same call always gives the same child, whatever was
    spawned before (for a fresh parent, ``child_seed(seed, k)`` equals ``seed.spawn(k + 1)[k]``).
    """
    root = seed_sequence(seed)
    return np.random.SeedSequence(root.entropy,
                                  spawn_key=tuple(root.spawn_key) + tuple(int(k) for k in keys),
                                  pool_size=root.pool_size)


def spawn_seeds(seed, n: int) -> list[np.random.SeedSequence]:
    """Return ``n`` independent children of ``seed``; child ``k`` depends only on ``seed`` and
    ``k``.

    Pure (see :func:`child_seed`): calling it twice with the same parent gives the same children.
    """
    return [child_seed(seed, k) for k in range(int(n))]
