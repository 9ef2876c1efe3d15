r"""The empirical law of a sample array, and its compression to a bounded number of atoms."""

from __future__ import annotations

import math

import numpy as np

from rmthess._validate import as_generator
from rmthess.laws.base import WeightLaw, _check_scale
from rmthess.laws.discrete import SAMPLE_MAX_GIB, DiscreteLaw, check_real_array, check_sample_shape

__all__ = ["EmpiricalLaw", "compress"]

#: default bound on the number of atoms of :meth:`EmpiricalLaw.discretize`
DEFAULT_MAX_ATOMS = 256
#: points per bulk on which :meth:`EmpiricalLaw.discretize_for` checks a compression's density
TOL_GRID = 256


class EmpiricalLaw(WeightLaw):
    r"""Empirical law :math:`\nu_n = \frac1n\sum_{i=1}^n \delta_{\lambda_i}` of a sample array.

    Parameters
    ----------
    samples : array_like
        Finite real samples (any shape; flattened). 10⁵ values are fine.
    max_atoms : int, optional
        Bound on the number of atoms of :meth:`discretize` (default 256, at least 5).
    tol : float or None, optional
        Accuracy of the atomic form the GMP law uses (:meth:`discretize_for`), as the largest
        density error relative to the density's maximum. ``None`` (default): the ``max_atoms``
        compression, whose error is not controlled: measured for 10⁴ Gamma(3) samples at
        ``gamma = 0.5`` and 256 atoms, 5e-8 in the median over the bulk, 9e-5 at most on 2000
        equally spaced points and 4.5e-4 at most once points within 1e-6 of the bulk's width of
        its edges are included (an edge moved by δ changes the density there by ~√δ);
        ``0``: the exact empirical law (all distinct values; at 10⁴ samples the law setup takes
        ≈ 0.05 s and the density ≈ 1 ms per point); ``tol > 0``: the first of the compressions
        to ``max_atoms``, ``2 max_atoms``, ... atoms whose density is within ``tol`` of the exact
        law's on the :data:`TOL_GRID` Chebyshev points (dense at the edges) of each bulk of
        either, or the exact law if none is. The check costs the exact law's density on those
        points (seconds at 10⁴ samples); it is a check on that grid: closer to an edge the error
        can exceed ``tol`` (measured: ``tol = 1e-4`` gave 2.5e-4 on 3000 points per bulk).

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
    (GMP-5, GMP-6). The density is not: away from the edges it changes by :math:`O(h^4)` in the
    bin width ``h`` (1e-7 of its maximum at the default 256 atoms), next to the edges by up to
    ~1e-4 (see ``tol``) — far from the rounding-level accuracy of the solver on an atomic law;
    pass ``tol`` to choose it. The cost is measured in
    ``tests/laws/test_empirical.py`` and ``benchmarks/bench_gmp.py`` (see ``theory/gmp.md``,
    section "Weight laws and their atomic form").

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

    def __init__(self, samples, *, max_atoms: int = DEFAULT_MAX_ATOMS, tol: float | None = None):
        samples = check_real_array("samples", samples).ravel()
        if isinstance(max_atoms, bool) or not isinstance(max_atoms, (int, np.integer)) \
                or max_atoms < 5:
            raise ValueError(f"max_atoms must be an integer >= 5 (an atom at 0 and one two-point "
                             f"bin per sign), got {max_atoms!r}")
        if tol is not None:
            if isinstance(tol, bool) or not isinstance(tol, (int, float, np.floating, np.integer)) \
                    or not math.isfinite(tol) or tol < 0:
                raise ValueError(f"tol must be None or a finite number >= 0, got {tol!r}")
            tol = float(tol)
        self.samples = np.sort(samples)
        self.samples.setflags(write=False)
        self.max_atoms = int(max_atoms)
        self.tol = tol
        self._discrete = None
        self._for_gamma = {}

    def __repr__(self) -> str:
        extra = "" if self.tol is None else f", tol={self.tol!r}"
        return f"EmpiricalLaw(<{self.samples.size} samples>, max_atoms={self.max_atoms}{extra})"

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

    def discretize_for(self, gamma: float) -> DiscreteLaw:
        """The atomic law the GMP law at ratio ``gamma`` uses, to the accuracy ``tol``; cached.

        ``tol=None``: :meth:`discretize`; ``tol=0``: :meth:`exact`; ``tol > 0``: see the class.
        """
        if self.tol is None:
            return self.discretize()
        key = float(gamma)
        if key not in self._for_gamma:
            self._for_gamma[key] = (self.exact() if self.tol == 0.0
                                    else _refine(self.samples, self.max_atoms, self.tol, key))
        return self._for_gamma[key]

    def scaled(self, c: float) -> EmpiricalLaw:
        c = _check_scale(c)
        return EmpiricalLaw(c * self.samples, max_atoms=self.max_atoms, tol=self.tol)


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


def _refine(samples: np.ndarray, max_atoms: int, tol: float, gamma: float) -> DiscreteLaw:
    """The first of the compressions to ``max_atoms``, ``2 max_atoms``, ... atoms whose GMP density
    at ``gamma`` is within ``tol`` of the maximum of the exact empirical law's density, on
    :data:`TOL_GRID` points per bulk of either law; the exact law if none is."""
    from rmthess.gmp import GeneralizedMarchenkoPastur

    vals, counts = np.unique(samples, return_counts=True)
    exact = DiscreteLaw(vals, counts / samples.size)
    reference = GeneralizedMarchenkoPastur(exact, gamma)
    grid = _grid(reference)
    ref = reference.pdf(grid)
    k = max_atoms
    while k < vals.size:
        atomic = compress(samples, k)
        law = GeneralizedMarchenkoPastur(atomic, gamma)
        extra = _grid(law)
        ref_extra = reference.pdf(extra)
        top = max(ref.max(initial=0.0), ref_extra.max(initial=0.0))
        err = max(np.max(np.abs(law.pdf(grid) - ref), initial=0.0),
                  np.max(np.abs(law.pdf(extra) - ref_extra), initial=0.0))
        if err <= tol * top:
            return atomic
        k *= 2
    return exact


def _grid(law) -> np.ndarray:
    """:data:`TOL_GRID` interior Chebyshev points of each bulk of a GMP law (dense at the edges,
    where a compression's error concentrates: an edge shift δ changes the density by ~√δ)."""
    u = (1.0 - np.cos(np.linspace(0.0, np.pi, TOL_GRID + 2)[1:-1])) / 2.0
    return np.concatenate([np.zeros(0)] + [a + (b - a) * u for a, b in law.support()])


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
    return [part[a:b] for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]


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
