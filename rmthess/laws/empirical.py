r"""The empirical law of a sample array, and its compression to a bounded number of atoms."""

from __future__ import annotations

import itertools
import math

import numpy as np

from rmthess._validate import as_generator
from rmthess.laws.base import WeightLaw, _check_scale
from rmthess.laws.discrete import SAMPLE_MAX_GIB, DiscreteLaw, check_real_array, check_sample_shape

__all__ = ["EmpiricalLaw", "compress"]

#: default bound on the number of atoms of :meth:`EmpiricalLaw.discretize`
DEFAULT_MAX_ATOMS = 256


class EmpiricalLaw(WeightLaw):
    r"""Empirical law :math:`\nu_n = \frac1n\sum_{i=1}^n \delta_{\lambda_i}` of a sample array.

    Parameters
    ----------
    samples : array_like
        Finite real samples (any shape; flattened). 10⁵ values are fine.
    max_atoms : int, optional
        Bound on the number of atoms of :meth:`discretize` (default 256, at least 5).

    Notes
    -----
    Moments are the exact empirical moments :math:`\frac1n\sum_i\lambda_i^k` (``math.fsum``).
    :meth:`discretize` returns the exact empirical law when it has at most ``max_atoms`` distinct
    values; otherwise it compresses the sample with :func:`compress`: the zero samples stay one
    exact atom at 0, the negative and the positive samples are split into bins (1, 2, 4, ...
    samples at both ends, so the extreme samples stay exact; equal counts in between) and each bin
    is replaced by the two-point Gauss rule of its own samples. Every bin keeps its mass and its
    first three moments, so :math:`\mathbb{E}\lambda^k` (``k <= 3``) and :math:`P(\lambda\neq0)` are
    preserved exactly, hence also the GMP moments :math:`m_1, m_2, m_3` and the atom at zero
    (GMP-5, GMP-6). The density changes by :math:`O(h^4)` in the bin width ``h``; the cost is
    measured in ``tests/laws/test_empirical.py`` and ``benchmarks/bench_gmp.py`` (see
    ``theory/gmp.md``, section "Weight laws and their atomic form").

    Examples
    --------
    >>> import numpy as np
    >>> from rmthess.laws import EmpiricalLaw
    >>> law = EmpiricalLaw(np.random.default_rng(0).exponential(size=10_000), max_atoms=64)
    >>> atomic = law.discretize()
    >>> atomic.size <= 64
    True
    >>> bool(abs(atomic.moment(3) - law.moment(3)) < 1e-12 * law.moment(3))
    True
    """

    def __init__(self, samples, *, max_atoms: int = DEFAULT_MAX_ATOMS):
        samples = check_real_array("samples", samples).ravel()
        if isinstance(max_atoms, bool) or not isinstance(max_atoms, (int, np.integer)) \
                or max_atoms < 5:
            raise ValueError(f"max_atoms must be an integer >= 5 (an atom at 0 and one two-point "
                             f"bin per sign), got {max_atoms!r}")
        self.samples = np.sort(samples)
        self.samples.setflags(write=False)
        self.max_atoms = int(max_atoms)
        self._discrete = None

    def __repr__(self) -> str:
        return f"EmpiricalLaw(<{self.samples.size} samples>, max_atoms={self.max_atoms})"

    @property
    def prob_nonzero(self) -> float:
        return float(np.count_nonzero(self.samples)) / self.samples.size

    def _moment(self, k: int) -> float:
        return math.fsum((self.samples**k).tolist()) / self.samples.size

    def sample(self, shape, *, rng=None, max_gib: float = SAMPLE_MAX_GIB) -> np.ndarray:
        """Draws with replacement; ``ValueError`` beyond ``max_gib`` GiB (cost guard)."""
        shape = check_sample_shape(shape, max_gib)
        return as_generator(rng).choice(self.samples, size=shape, replace=True)

    def expect(self, f) -> float:
        vals = np.asarray(f(self.samples), dtype=float)
        return math.fsum(vals.ravel().tolist()) / self.samples.size

    def exact(self) -> DiscreteLaw:
        """Return the uncompressed empirical law as a :class:`DiscreteLaw` (all distinct values)."""
        vals, counts = np.unique(self.samples, return_counts=True)
        return DiscreteLaw(vals, counts / self.samples.size)

    def discretize(self) -> DiscreteLaw:
        """Return the (compressed, at most ``max_atoms`` atoms) atomic law; cached."""
        if self._discrete is None:
            self._discrete = compress(self.samples, self.max_atoms)
        return self._discrete

    def scaled(self, c: float) -> EmpiricalLaw:
        c = _check_scale(c)
        return EmpiricalLaw(c * self.samples, max_atoms=self.max_atoms)


def compress(samples, max_atoms: int) -> DiscreteLaw:
    r"""Compress a sample to at most ``max_atoms`` atoms, keeping bin moments of order 0–3.

    Parameters
    ----------
    samples : array_like
        Finite real samples.
    max_atoms : int
        Bound on the number of atoms (``>= 5``).

    Returns
    -------
    DiscreteLaw

    Notes
    -----
    Zeros are kept as an exact atom. The ``n_-`` negative and ``n_+`` positive samples get
    ``B_± ≈ (max_atoms - 1)/2 · n_±/(n_- + n_+)`` bins (at least one each when present), of sizes
    1, 2, 4, ... samples at both ends and equal counts in between, so that the extreme samples,
    which fix the outer edges of the GMP law, stay exact; a bin with mean :math:`\mu`, variance
    :math:`v` and third central moment
    :math:`c_3` becomes the two-point Gauss rule with nodes :math:`\mu + y_\pm`,
    :math:`y_\pm = (c_3/v \pm \sqrt{(c_3/v)^2 + 4v})/2` and weights :math:`y_\mp/(y_\mp - y_\pm)`,
    which lie inside the bin's range and reproduce its mass and moments up to order 3.
    """
    x = np.sort(check_real_array("samples", samples).ravel())
    n = x.size
    vals, counts = np.unique(x, return_counts=True)
    if vals.size <= max_atoms:
        return DiscreteLaw(vals, counts / n)
    atoms, weights = [], []
    n_zero = int(np.count_nonzero(x == 0))
    if n_zero:
        atoms.append(np.zeros(1))
        weights.append(np.array([n_zero / n]))
    neg, pos = x[x < 0], x[x > 0]
    budget = (max_atoms - (1 if n_zero else 0)) // 2
    n_nz = neg.size + pos.size
    b_neg = 0 if neg.size == 0 else max(1, int(round(budget * neg.size / n_nz)))
    b_pos = 0 if pos.size == 0 else max(1, budget - b_neg)
    if b_neg + b_pos > budget and b_neg > 1:
        b_neg -= 1
    for part, bins in ((neg, b_neg), (pos, b_pos)):
        if part.size == 0:
            continue
        for chunk in _split(part, bins):
            a, w = _two_point_gauss(chunk)
            atoms.append(a)
            weights.append(w * chunk.size / n)
    atoms = np.concatenate(atoms)
    weights = np.concatenate(weights)
    return DiscreteLaw(atoms, weights / math.fsum(weights.tolist()))


def _split(part: np.ndarray, bins: int) -> list:
    """Split sorted samples into ``bins`` chunks: sizes 1, 2, 4, ... at both ends, equal in between.

    The extreme samples, which fix the outer edges of the GMP law, stay (nearly) exact atoms.
    """
    n = part.size
    if bins >= n:
        return [part[i:i + 1] for i in range(n)]
    tail = []
    size = 1
    while True:
        inner_bins = bins - 2 * (len(tail) + 1)
        inner_n = n - 2 * (sum(tail) + size)
        if inner_bins < 1 or inner_n < inner_bins or size * 2 > inner_n / inner_bins:
            break
        tail.append(size)
        size *= 2
    inner_bins = bins - 2 * len(tail)
    t = sum(tail)
    cuts = np.cumsum(tail).tolist()
    inner = np.linspace(t, n - t, inner_bins + 1).round().astype(int).tolist()
    right = (n - np.cumsum(tail)).tolist()
    edges = sorted(set([0] + cuts + inner + right + [n]))
    return [part[a:b] for a, b in itertools.pairwise(edges) if b > a]


def _two_point_gauss(chunk: np.ndarray):
    """Two-point Gauss rule of the empirical law of ``chunk`` (nodes, probabilities)."""
    mu = math.fsum(chunk.tolist()) / chunk.size
    y = chunk - mu
    v = math.fsum((y * y).tolist()) / chunk.size
    if v <= (4e-16 * max(abs(chunk[0]), abs(chunk[-1])))**2:
        return np.array([mu]), np.array([1.0])
    c3 = math.fsum((y * y * y).tolist()) / chunk.size
    b = c3 / v
    root = math.sqrt(b * b + 4 * v)
    # stable pair: y1*y2 = -v
    y_big = (b + math.copysign(root, b if b != 0 else 1.0)) / 2
    y_small = -v / y_big
    y1, y2 = sorted((y_big, y_small))
    w1 = y2 / (y2 - y1)
    nodes = np.clip(np.array([mu + y1, mu + y2]), chunk[0], chunk[-1])
    return nodes, np.array([w1, 1.0 - w1])
