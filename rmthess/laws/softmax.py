r"""Gaussian-softmax weight laws: the weights of the linear cross-entropy Hessian blocks.

With ``p = softmax(z)``, ``z ~ N(0, σ_v² I_C)``, the diagonal block ``H_{v_i v_i}`` has weights
``a = p_1(1 − p_1)`` and the off-diagonal block ``H_{v_i v_j}`` has weights ``b = −p_1 p_2``
(theory/cases.md, (CASE-2)). Their moments are exact (the one-dimensional integrals of
:mod:`rmthess.integrals`, (SM-4)); their densities have no closed form, and :meth:`discretize` returns
a documented atomic approximation (SML-1) with the exact mean and second moment.
"""

from __future__ import annotations

import math

import numpy as np

from rmthess._validate import CLASSES, SIGMA_V, as_generator
from rmthess.integrals import softmax_mixed_moment
from rmthess.laws.base import WeightLaw, _check_scale
from rmthess.laws.discrete import DiscreteLaw
from rmthess.laws.empirical import compress

__all__ = ["GaussianSoftmaxLaw", "WHICH"]

#: the two weight laws: "diag" is a = p_1(1 - p_1), "offdiag" is b = -p_1 p_2
WHICH = ("diag", "offdiag")

#: discretization: seeded sample size, number of atoms, and the class count above which the sum of
#: the other classes' exponentials is drawn from a moment-matched lognormal (SML-1)
DISCRETIZE_SAMPLES = 1 << 16
DISCRETIZE_ATOMS = 96
DISCRETIZE_SEED = 20250502
EXACT_REST_LIMIT = 512
_CHUNK_CELLS = 1 << 22


class GaussianSoftmaxLaw(WeightLaw):
    r"""Law of ``c·a`` or ``c·b``, ``a = p_1(1 − p_1)``, ``b = −p_1 p_2``, ``p = softmax(z)``.

    Parameters
    ----------
    classes : int
        Number of classes ``C >= 2``.
    sigma_v : float, optional
        Logit standard deviation ``σ_v > 0``.
    which : {"diag", "offdiag"}
        ``"diag"`` for ``a`` (weights of ``H_{v_i v_i}``), ``"offdiag"`` for ``b`` (``H_{v_i v_j}``).
    scale : float, optional
        The factor ``c`` (see :meth:`scaled`).

    Notes
    -----
    Moments (theory/softmax_moments.md, (SM-4)): ``E a^k = E[p_1^k (1 − p_1)^k]`` and
    ``E b^k = (−1)^k E[p_1^k p_2^k]``, each a positive sum of one-dimensional integrals, within a
    relative 1e-12 of the mpmath evaluation (checked in ``tests/integrals/test_softmax.py``). The
    GMP law of the block then has exact moments; :meth:`discretize` (SML-1) is used only for its
    density and support.

    References
    ----------
    Dong et al., arXiv:2505.02809, theorem 1.

    Examples
    --------
    >>> from rmthess.laws.softmax import GaussianSoftmaxLaw
    >>> law = GaussianSoftmaxLaw(2, which="offdiag")
    >>> abs(law.moment(2) - GaussianSoftmaxLaw(2, which="diag").moment(2)) < 1e-14   # C = 2: b = -a
    True
    """

    def __init__(self, classes, sigma_v=1.0, which="diag", scale=1.0):
        if which not in WHICH:
            raise ValueError(f"which must be one of {WHICH}, got {which!r}")
        self.classes = CLASSES.validate(classes)
        self.sigma_v = SIGMA_V.validate(sigma_v)
        self.which = which
        self.scale = _check_scale(scale)
        self._cache: dict[int, float] = {}
        self._discrete = None

    def __repr__(self) -> str:
        return (f"GaussianSoftmaxLaw(classes={self.classes}, sigma_v={self.sigma_v!r}, "
                f"which={self.which!r}, scale={self.scale!r})")

    @property
    def prob_nonzero(self) -> float:
        return 1.0 if self.scale != 0 else 0.0

    def _raw_moment(self, k: int) -> float:
        if k not in self._cache:
            if self.which == "diag":
                v = softmax_mixed_moment([k], k, self.classes, self.sigma_v)
            else:
                v = (-1) ** k * softmax_mixed_moment([k, k], 0, self.classes, self.sigma_v)
            self._cache[k] = v
        return self._cache[k]

    def _moment(self, k: int) -> float:
        return self.scale ** k * self._raw_moment(k)

    def _draw(self, n: int, rng, exact: bool) -> np.ndarray:
        C, s = self.classes, self.sigma_v
        q = 1 if self.which == "diag" else 2
        rest = C - q
        out = np.empty(n)
        if exact or rest <= EXACT_REST_LIMIT:
            per = max(1, _CHUNK_CELLS // C)
            for start in range(0, n, per):
                m = min(per, n - start)
                z = s * rng.standard_normal((m, C))
                z -= z.max(axis=1, keepdims=True)
                e = np.exp(z)
                tot = e.sum(axis=1)
                p1 = e[:, 0] / tot
                out[start:start + m] = p1 * (1 - p1) if q == 1 else -p1 * e[:, 1] / tot
            return out
        # Fenton–Wilkinson: the sum of `rest` lognormals e^{σZ} as one lognormal with its mean, variance
        mean = rest * math.exp(s * s / 2)
        var = rest * math.exp(s * s) * math.expm1(s * s)
        s_r2 = math.log1p(var / mean ** 2)
        logr = math.log(mean) - s_r2 / 2 + math.sqrt(s_r2) * rng.standard_normal(n)
        x1 = s * rng.standard_normal(n)
        if q == 1:  # a = X1 R / (X1 + R)^2 = 1/(2 + e^{d} + e^{-d}), d = log X1 - log R
            d = x1 - logr
            return 1.0 / (2.0 + np.exp(d) + np.exp(-d))
        x2 = s * rng.standard_normal(n)
        top = np.maximum(np.maximum(x1, x2), logr)
        den = np.exp(x1 - top) + np.exp(x2 - top) + np.exp(logr - top)
        return -np.exp(x1 - top) * np.exp(x2 - top) / den ** 2

    def sample(self, shape, *, rng=None) -> np.ndarray:
        """Exact draws (a C-dimensional softmax per draw; cost proportional to C)."""
        rng = as_generator(rng)
        n = int(np.prod(shape, dtype=np.int64))
        return self.scale * self._draw(n, rng, exact=True).reshape(shape)

    def expect(self, f) -> float:
        """``E f(λ)`` under the atomic approximation :meth:`discretize` (SML-1)."""
        return self.discretize().expect(f)

    def discretize(self) -> DiscreteLaw:
        r"""Atomic approximation with the exact mean and second moment (SML-1); cached.

        ``DISCRETIZE_SAMPLES`` seeded draws (the sum of the other classes drawn exactly up to
        ``EXACT_REST_LIMIT`` terms, otherwise from the moment-matched lognormal) are compressed to
        ``DISCRETIZE_ATOMS`` atoms that keep the bin moments up to order 3
        (:func:`rmthess.laws.empirical.compress`); the atoms are then mapped affinely,
        ``λ ↦ E λ + (λ − λ̄) sd/ŝd``, to the exact mean and variance, unless that would move an atom
        across 0; then the sign-preserving power map ``λ ↦ c·sign(λ)|λ|^α`` matches both.
        """
        if self._discrete is None:
            rng = np.random.default_rng(DISCRETIZE_SEED)
            x = self._draw(DISCRETIZE_SAMPLES, rng, exact=False)
            law = compress(x, DISCRETIZE_ATOMS)
            m1, m2 = self._raw_moment(1), self._raw_moment(2)
            a, p = law.atoms, law.probs
            mu = float(np.dot(p, a))
            sd_hat = math.sqrt(max(float(np.dot(p, (a - mu) ** 2)), 0.0))
            var = m2 - m1 * m1
            new = a * (m1 / mu)
            if sd_hat > 0 and var > 0:
                cand = m1 + (a - mu) * math.sqrt(var) / sd_hat
                new = cand if np.all(np.sign(cand) == np.sign(a)) else _power_match(a, p, m1, m2)
            self._discrete = DiscreteLaw(new, p)
        return self._discrete.scaled(self.scale) if self.scale != 1.0 else self._discrete

    def scaled(self, c: float) -> "GaussianSoftmaxLaw":
        c = _check_scale(c)
        out = GaussianSoftmaxLaw(self.classes, self.sigma_v, self.which, self.scale * c)
        out._cache = self._cache
        out._discrete = self._discrete  # the unscaled atomic law does not depend on the scale
        return out


def _power_match(a, p, m1, m2):
    """Atoms ``c·sign(a)|a|^α`` whose mean and second moment are ``m1`` and ``m2`` (all one sign)."""
    from scipy.optimize import brentq

    x = np.abs(a) / np.max(np.abs(a))
    target = m2 / (m1 * m1)

    def excess(alpha):
        xa = x ** alpha
        return float(np.dot(p, xa * xa) / np.dot(p, xa) ** 2) - target

    lo, hi = 0.25, 1.0
    while excess(hi) < 0 and hi < 64:
        hi *= 2
    while excess(lo) > 0 and lo > 1e-3:
        lo /= 2
    alpha = brentq(excess, lo, hi, xtol=1e-14)
    xa = x ** alpha
    return np.sign(a) * xa * (abs(m1) / float(np.dot(p, xa)))
