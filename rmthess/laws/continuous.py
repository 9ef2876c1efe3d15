r"""Continuous weight laws: a density on an interval, or a frozen ``scipy.stats`` distribution.

The GMP solver works on atomic laws; a continuous law is replaced by its own ``n``-point Gauss rule
(nodes and weights of the Gauss quadrature of :math:`\nu`), computed by a Lanczos process on a fine
composite base rule.
"""

from __future__ import annotations

import math

import numpy as np

from rmthess._validate import as_generator
from rmthess.laws.base import WeightLaw, _check_scale
from rmthess.laws.discrete import SAMPLE_MAX_GIB, DiscreteLaw, check_sample_shape

__all__ = ["ContinuousLaw"]

#: default number of atoms of :meth:`ContinuousLaw.discretize`
DEFAULT_ATOMS = 128
#: panels x nodes per panel of the composite Gauss–Legendre base rule
_PANELS, _PANEL_NODES = 128, 24
#: tail probability cut from each side of an unbounded distribution (below float64 resolution of 1)
_TAIL = 1e-16
#: relative accuracy asked of adaptive quadrature for the moments of a user density
_QUAD_RTOL = 1e-13


class ContinuousLaw(WeightLaw):
    r"""Law with a density, given as ``pdf`` on ``interval`` or as a frozen ``scipy.stats``
    ``dist``.

    Parameters
    ----------
    pdf : callable, optional
        Vectorised density on ``interval`` (normalised automatically; must be >= 0).
    interval : tuple of float, optional
        Finite ``(a, b)``, ``a < b``, with ``pdf``.
    dist : frozen scipy.stats distribution, optional
        A continuous distribution (instead of ``pdf``/``interval``).
    n_atoms : int, optional
        Number of atoms of :meth:`discretize` (default 128).

    Notes
    -----
    :meth:`discretize` returns the ``n``-point Gauss rule of :math:`\nu` (Lanczos on a composite
    Gauss–Legendre base rule with panels at equal probability), so the atomic law has the same
    moments :math:`\mathbb{E}\lambda^k`, ``k <= 2n - 1``, as the base rule: the GMP moments
    :math:`m_1..m_{2n-1}` are unchanged (GMP-6). The GMP density of the atomic law differs from the
    continuous one by the Gauss-rule error of :math:`\mathbb{E}[\lambda/(1+\gamma\lambda s)]`,
    small where :math:`\gamma\,\mathrm{Im}\,s` is large compared with the node spacing; when
    :math:`\sqrt\gamma` is smaller than the relative node spacing the atomic law shows spurious
    gaps. The measured cost is in ``theory/gmp.md`` ("Weight laws and their atomic form") and in
    ``tests/laws/test_continuous.py``.

    Examples
    --------
    >>> from scipy import stats
    >>> from rmthess.laws import ContinuousLaw
    >>> law = ContinuousLaw(dist=stats.uniform(1, 2))
    >>> round(law.moment(2), 12)
    4.333333333333
    >>> atomic = law.discretize()
    >>> bool(abs(atomic.moment(7) - law.moment(7)) < 1e-11 * law.moment(7))
    True
    """

    def __init__(self, pdf=None, interval=None, dist=None, *, n_atoms: int = DEFAULT_ATOMS,
                 _scale: float = 1.0):
        if (dist is None) == (pdf is None):
            raise ValueError("give exactly one of pdf (with interval) or dist")
        if isinstance(n_atoms, bool) or not isinstance(n_atoms, (int, np.integer)) or n_atoms < 1:
            raise ValueError(f"n_atoms must be a positive integer, got {n_atoms!r}")
        self.n_atoms = int(n_atoms)
        self._scale = float(_scale)
        self.pdf_func, self.dist = pdf, dist
        if dist is not None:
            if not hasattr(dist, "ppf") or not hasattr(dist, "pdf"):
                raise ValueError("dist must be a frozen continuous scipy.stats distribution")
            self.interval = tuple(float(v) for v in dist.support())
            self._norm = 1.0
        else:
            if interval is None or len(interval) != 2:
                raise ValueError("interval=(a, b) is required with pdf")
            a, b = (float(v) for v in interval)
            if not (np.isfinite(a) and np.isfinite(b) and a < b):
                raise ValueError(f"interval must be finite with a < b, got {interval!r}")
            self.interval = (a, b)
            self._norm = self._quad(lambda t: np.ones_like(t))
            if not (self._norm > 0 and np.isfinite(self._norm)):
                raise ValueError("pdf must have a positive, finite integral on interval")
        nodes, weights = self._base_rule()
        if np.any(weights < 0) or not np.all(np.isfinite(weights)):
            raise ValueError("pdf must be finite and >= 0 on interval")
        self._nodes, self._weights = nodes, weights / math.fsum(weights.tolist())
        self._discrete = None

    def __repr__(self) -> str:
        what = f"dist={self.dist.dist.name}" if self.dist is not None else f"pdf on {self.interval}"
        scale = "" if self._scale == 1.0 else f", scale={self._scale:g}"
        return f"ContinuousLaw({what}, n_atoms={self.n_atoms}{scale})"

    # -- pure math -----------------------------------------------------------------------------
    def _quad(self, g) -> float:
        from scipy import integrate  # deferred: scipy is not needed to import rmthess.laws

        a, b = self.interval
        f = self.pdf_func
        val, _ = integrate.quad(lambda t: float(g(np.asarray(t)) * f(np.asarray(t))), a, b,
                                epsabs=0.0, epsrel=_QUAD_RTOL, limit=400)
        return val

    def _base_rule(self):
        """Composite Gauss–Legendre rule (nodes, weights·density) for the unscaled law."""
        if self.dist is not None:
            u = np.linspace(_TAIL, 1 - _TAIL, _PANELS + 1)
            edges = np.asarray(self.dist.ppf(u), dtype=float)
            a, b = self.interval
            edges[0] = a if np.isfinite(a) else edges[0]
            edges[-1] = b if np.isfinite(b) else edges[-1]
            edges = np.unique(edges)
            dens = self.dist.pdf
        else:
            edges = np.linspace(*self.interval, _PANELS + 1)

            def dens(t):
                return np.asarray(self.pdf_func(t), dtype=float) / self._norm
        g, gw = np.polynomial.legendre.leggauss(_PANEL_NODES)
        mid = 0.5 * (edges[1:] + edges[:-1])[:, None]
        half = 0.5 * np.diff(edges)[:, None]
        nodes = (mid + half * g).ravel()
        weights = (half * gw).ravel() * np.broadcast_to(dens(nodes), nodes.shape)
        return nodes, weights

    def _moment(self, k: int) -> float:
        c = self._scale**k
        if self.dist is not None:
            return c * float(self.dist.moment(k))
        return c * self._quad(lambda t: t**k) / self._norm

    # -- public ----------------------------------------------------------------------------------
    @property
    def prob_nonzero(self) -> float:
        return 0.0 if self._scale == 0 else 1.0

    def sample(self, shape, *, rng=None, max_gib: float = SAMPLE_MAX_GIB) -> np.ndarray:
        """Independent draws; ``ValueError`` beyond ``max_gib`` GiB (cost guard)."""
        shape = check_sample_shape(shape, max_gib)
        rng = as_generator(rng)
        if self.dist is not None:
            return self._scale * np.asarray(self.dist.rvs(size=shape, random_state=rng))
        # inverse cdf on the base rule (piecewise linear between nodes)
        cdf = np.cumsum(self._weights)
        u = rng.random(shape)
        return self._scale * np.interp(u, cdf, self._nodes)

    def expect(self, f) -> float:
        vals = np.asarray(f(self._scale * self._nodes), dtype=float)
        return math.fsum((self._weights * vals).tolist())

    def discretize(self) -> DiscreteLaw:
        r"""Return the ``n_atoms``-point Gauss rule of :math:`\nu` as a :class:`DiscreteLaw`
        (cached)."""
        if self._discrete is None:
            x, p = _gauss_rule(self._nodes, self._weights, self.n_atoms)
            self._discrete = DiscreteLaw(self._scale * x, p / math.fsum(p.tolist()))
        return self._discrete

    def scaled(self, c: float) -> WeightLaw:
        c = _check_scale(c)
        if c == 0:
            return DiscreteLaw([0.0], [1.0])
        new = object.__new__(ContinuousLaw)
        new.__dict__.update(self.__dict__)
        new._scale = self._scale * c
        new._discrete = None
        return new


def _gauss_rule(nodes: np.ndarray, weights: np.ndarray, n: int):
    """n-point Gauss rule of the discrete measure (nodes, weights): Lanczos with
    reorthogonalization."""
    n = min(n, int(np.count_nonzero(weights > 0)))
    q = np.sqrt(weights)
    q = q / np.linalg.norm(q)
    Q = np.zeros((n, nodes.size))
    alpha, beta = np.zeros(n), np.zeros(max(n - 1, 0))
    for j in range(n):
        Q[j] = q
        v = nodes * q
        alpha[j] = q @ v
        v -= Q[: j + 1].T @ (Q[: j + 1] @ v)
        v -= Q[: j + 1].T @ (Q[: j + 1] @ v)
        if j < n - 1:
            beta[j] = np.linalg.norm(v)
            if beta[j] == 0:
                n = j + 1
                alpha, beta = alpha[:n], beta[: n - 1]
                break
            q = v / beta[j]
    if n == 1:
        return alpha.copy(), np.ones(1)
    from scipy import linalg

    x, vecs = linalg.eigh_tridiagonal(alpha, beta)
    return x, vecs[0] ** 2
