r"""Laws of iid weight *entries*: symmetric, unit variance, finite fourth moment (theory/cases.md,
CASE-20).

A layer initialized with entries ``σ/√fan_in · ε`` has its scale in ``σ`` and its shape in the law
of ``ε``. :class:`EntryLaw` is that law, standardized: ``E ε = 0``, ``E ε² = 1``, symmetric about 0
and with ``E ε⁴ < ∞``. The theory uses it through

* its Pearson kurtosis ``E ε⁴`` (the mlp-MSE hidden blocks, CASE-21);
* its cumulant generating function ``ψ(t) = log E e^{tε}`` and ``ψ'``, ``ψ''`` (the C → ∞
  constants, CASE-22 and CASE-23), which exist on the whole line for the Gaussian law and for every
  law of bounded support;
* expectations ``E f(ε)`` by a quadrature rule (:meth:`EntryLaw.quadrature`).

Laws: :data:`GAUSSIAN`, :data:`UNIFORM` (on ``[−√3, √3]``), :class:`DiscreteEntries` (symmetric
atoms, e.g. :data:`RADEMACHER`) and :class:`ScipyEntries` (any frozen symmetric continuous
``scipy.stats`` law, standardized). :func:`entry_law` resolves a name or an object.

Examples
--------
>>> from rmthess.laws.entry import entry_law
>>> u = entry_law("uniform")
>>> u.name, round(u.kurtosis, 12)
('uniform', 1.8)
>>> x = u.sample(0, (2, 3))
>>> x.shape, bool(abs(x).max() <= 3 ** 0.5)
((2, 3), True)
"""

from __future__ import annotations

import abc
import math

import numpy as np

from rmthess._validate import as_generator, check_finite_array

__all__ = ["EntryLaw", "GaussianEntries", "UniformEntries", "DiscreteEntries", "ScipyEntries",
           "GAUSSIAN", "UNIFORM", "RADEMACHER", "ENTRY_LAWS", "entry_law"]

#: default number of nodes of :meth:`EntryLaw.quadrature` for continuous laws
QUAD_NODES = 96
#: tolerance of the symmetry and centring checks of a user law (relative to its scale)
SYMMETRY_TOL = 1e-9
_SQRT3 = math.sqrt(3.0)


class EntryLaw(abc.ABC):
    r"""Law of a symmetric, unit-variance weight entry ``ε`` with ``E ε⁴ < ∞``.

    Subclasses set :attr:`name`, implement :meth:`_sample`, :meth:`moment`, :meth:`quadrature`,
    :attr:`support_bound` and, where the law has one on the whole line, :meth:`_cgf`.

    Notes
    -----
    A layer with entries ``σ ε/√fan_in`` has variance ``σ²/fan_in``; the theory's ``σ_v`` (and
    the hidden scale ``σ_w``) is ``σ`` (CASE-20).
    """

    #: short name, used in messages, JSON output and the command line
    name: str = ""

    def sample(self, rng, shape) -> np.ndarray:
        """Independent draws of ``ε`` (unit variance) with the given shape; ``rng`` as
        ``default_rng``."""
        if isinstance(shape, (int, np.integer)):
            shape = (int(shape),)
        else:
            shape = tuple(int(s) for s in shape)
        return np.asarray(self._sample(as_generator(rng), shape), dtype=float)

    @abc.abstractmethod
    def _sample(self, gen: np.random.Generator, shape: tuple) -> np.ndarray:
        """Pure draws behind :meth:`sample`."""

    @abc.abstractmethod
    def moment(self, k: int) -> float:
        r"""``E ε^k`` (0 for odd k)."""

    @property
    def kurtosis(self) -> float:
        r"""Pearson kurtosis ``E ε⁴`` (3 for the Gaussian law, 9/5 uniform, 1 Rademacher)."""
        return float(self.moment(4))

    @property
    @abc.abstractmethod
    def support_bound(self) -> float:
        """``sup |ε|`` (``inf`` for unbounded support)."""

    @abc.abstractmethod
    def quadrature(self, n: int = QUAD_NODES) -> tuple[np.ndarray, np.ndarray]:
        """Nodes and positive weights (summing to 1) with ``E f(ε) ≈ Σ w_k f(x_k)``."""

    def cgf(self, t) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r"""``(ψ(t), ψ'(t), ψ''(t))`` of the cumulant generating function ``ψ(t) = log E e^{tε}``.

        ``ψ'(t)`` and ``ψ''(t)`` are the mean and variance of the tilted law ``∝ e^{tx} P(dx)``.
        ``ValueError`` when the law's moment generating function is not finite on the whole line
        (or not known to be): the C → ∞ constants need it (CASE-22).
        """
        t = check_finite_array("t", t, allow_empty=True)
        return self._cgf(t)

    def _cgf(self, t: np.ndarray):
        raise ValueError(f"the moment generating function of the entry law {self.name!r} is not "
                         f"known to be finite on the whole line; the C → ∞ constants need a "
                         f"Gaussian law or one of bounded support")

    def mgf(self, t) -> np.ndarray:
        r"""``E e^{tε} = exp ψ(t)``."""
        return np.exp(self.cgf(t)[0])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def _key(self):
        return (type(self).__name__, self.name)

    def __eq__(self, other) -> bool:
        return isinstance(other, EntryLaw) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __copy__(self):
        return self  # immutable

    def __deepcopy__(self, memo):
        return self


class GaussianEntries(EntryLaw):
    r"""``ε ~ N(0, 1)``: ``E ε⁴ = 3``, ``ψ(t) = t²/2``."""

    name = "gaussian"

    def _sample(self, gen, shape):
        return gen.standard_normal(shape)

    def moment(self, k):
        k = int(k)
        return 0.0 if k % 2 else float(math.prod(range(k - 1, 0, -2)))

    @property
    def support_bound(self):
        return math.inf

    def quadrature(self, n=QUAD_NODES):
        x, w = np.polynomial.hermite_e.hermegauss(int(n))
        return x, w / w.sum()

    def _cgf(self, t):
        return t * t / 2, t.copy(), np.ones_like(t)


#: Taylor coefficients (in c) of log(sinh c / c), coth c − 1/c and 1/c² − 1/sinh² c at c = 0
_LOGSINHC = (0.0, 1 / 6, -1 / 180, 1 / 2835, -1 / 37800, 1 / 467775, -691 / 3831077250)
_LANGEVIN = (1 / 3, -1 / 45, 2 / 945, -1 / 4725, 2 / 93555, -1382 / 638512875, 4 / 18243225)
_LANGEVIN_D = (1 / 3, -1 / 15, 2 / 189, -1 / 675, 2 / 10395, -1382 / 58046625, 4 / 1403325)
#: below this |c| the series (error < c¹⁴/10⁶ ≈ 1e−15) replace the closed forms
_SERIES_C = 0.25


class UniformEntries(EntryLaw):
    r"""``ε ~ U(−√3, √3)``: ``E ε⁴ = 9/5``, ``ψ(t) = log(sinh c / c)`` with ``c = √3 t``.

    ``ψ'(t) = √3 (coth c − 1/c)``, ``ψ''(t) = 3 (1/c² − 1/sinh² c)``, evaluated by their Taylor
    series for ``|c| < 0.25`` and with ``e^{−2|c|}`` otherwise (no overflow, no cancellation).
    """

    name = "uniform"

    def _sample(self, gen, shape):
        return gen.uniform(-_SQRT3, _SQRT3, shape)

    def moment(self, k):
        k = int(k)
        return 0.0 if k % 2 else _SQRT3 ** k / (k + 1)

    @property
    def support_bound(self):
        return _SQRT3

    def quadrature(self, n=QUAD_NODES):
        x, w = np.polynomial.legendre.leggauss(int(n))
        return _SQRT3 * x, w / 2

    def _cgf(self, t):
        c = _SQRT3 * np.abs(t)
        sign = np.sign(t)
        small = c < _SERIES_C
        cs = np.where(small, c, 0.0)
        cl = np.where(small, 1.0, c)
        c2 = cs * cs
        psi = np.where(small, np.polynomial.polynomial.polyval(c2, _LOGSINHC),
                       cl + np.log1p(-np.exp(-2 * cl)) - np.log(2 * cl))
        e = np.exp(-2 * cl)
        one_m_e = -np.expm1(-2 * cl)
        d1 = np.where(small, cs * np.polynomial.polynomial.polyval(c2, _LANGEVIN),
                      (1 + e) / one_m_e - 1 / cl)
        d2 = np.where(small, np.polynomial.polynomial.polyval(c2, _LANGEVIN_D),
                      1 / (cl * cl) - 4 * e / (one_m_e * one_m_e))
        return psi, sign * _SQRT3 * d1, 3.0 * d2


class DiscreteEntries(EntryLaw):
    r"""A symmetric law on finitely many atoms, standardized to unit variance.

    Parameters
    ----------
    values, probs : array_like
        Atoms and their probabilities; the law must be symmetric (``P(x) = P(−x)``) and not a point
        mass at 0. It is rescaled to ``E ε² = 1``.
    name : str, optional
        Default ``"discrete"``.

    Notes
    -----
    ``ψ(t) = log Σ p_k e^{t x_k}`` by log-sum-exp; ``ψ'``, ``ψ''`` are the tilted mean and variance.
    """

    def __init__(self, values, probs, name: str = "discrete"):
        x = check_finite_array("values", values, ndim=1)
        p = check_finite_array("probs", probs, ndim=1)
        if x.shape != p.shape:
            raise ValueError("values and probs must have the same length, "
                             f"got {x.size} and {p.size}")
        if np.any(p < 0) or abs(p.sum() - 1) > 1e-12:
            raise ValueError("probs must be non-negative and sum to 1")
        order = np.argsort(x)
        x, p = x[order], p[order]
        if not (np.allclose(x, -x[::-1], rtol=0, atol=SYMMETRY_TOL * np.abs(x).max())
                and np.allclose(p, p[::-1], rtol=0, atol=SYMMETRY_TOL)):
            raise ValueError("a discrete entry law must be symmetric about 0 (P(x) = P(-x))")
        var = float(np.dot(p, x * x))
        if not var > 0:
            raise ValueError("a discrete entry law must not be a point mass at 0")
        keep = p > 0
        self.values = x[keep] / math.sqrt(var)
        self.probs = p[keep]
        self.name = str(name)

    def _key(self):
        return (type(self).__name__, self.name, tuple(self.values), tuple(self.probs))

    def _sample(self, gen, shape):
        return gen.choice(self.values, size=shape, p=self.probs)

    def moment(self, k):
        return float(np.dot(self.probs, self.values ** int(k))) if int(k) % 2 == 0 else 0.0

    @property
    def support_bound(self):
        return float(np.abs(self.values).max())

    def quadrature(self, n=QUAD_NODES):
        return self.values.copy(), self.probs.copy()

    def _cgf(self, t):
        return _atomic_cgf(self.values, self.probs, t)


class ScipyEntries(EntryLaw):
    r"""A frozen symmetric continuous ``scipy.stats`` law, standardized to unit variance.

    Parameters
    ----------
    dist : scipy.stats frozen distribution
        Symmetric about 0 (checked through ``cdf(x) + cdf(−x) = 1`` at several quantiles), with
        finite variance and kurtosis.

    Notes
    -----
    Expectations use Gauss–Legendre nodes in the quantile ``q``: ``E f(ε) = ∫_0^1 f(F⁻¹(q)) dq``
    (exact to the smoothness of ``f ∘ F⁻¹``). For a law of bounded support ``ψ`` is computed from
    that rule by log-sum-exp; a law of unbounded support has no ``ψ`` here (``ValueError``).

    Examples
    --------
    >>> from scipy import stats
    >>> law = ScipyEntries(stats.truncnorm(-2, 2))
    >>> law.name, round(law.moment(2), 12)
    ('truncnorm(-2, 2)', 1.0)
    """

    def __init__(self, dist):
        for attr in ("cdf", "ppf", "stats", "moment", "rvs", "support"):
            if not hasattr(dist, attr):
                raise ValueError(f"expected a frozen scipy.stats distribution, got {dist!r}")
        if not hasattr(dist, "pdf"):
            raise ValueError("a scipy entry law must be continuous (use DiscreteEntries for atoms)")
        mean, var, kurt = (float(v) for v in dist.stats(moments="mvk"))
        if not (math.isfinite(var) and var > 0):
            raise ValueError(f"an entry law needs a finite positive variance, got {var}")
        if not math.isfinite(kurt):
            raise ValueError("an entry law needs a finite fourth moment (kurtosis is infinite)")
        sd = math.sqrt(var)
        qs = np.array([0.55, 0.7, 0.9, 0.99, 0.999])
        x = np.asarray(dist.ppf(qs), float)
        asym = np.abs(np.asarray(dist.cdf(x)) + np.asarray(dist.cdf(-x)) - 1).max()
        if abs(mean) > SYMMETRY_TOL * sd or asym > SYMMETRY_TOL:
            raise ValueError(f"an entry law must be symmetric about 0, got mean {mean:g} and "
                             f"|F(x) + F(-x) - 1| up to {asym:g}")
        self.dist = dist
        self.scale = sd
        self._kurtosis = kurt + 3.0
        args = ", ".join([f"{a:g}" for a in dist.args]
                         + [f"{k}={v:g}" for k, v in sorted(dist.kwds.items())])
        self.name = f"{dist.dist.name}({args})"

    def _sample(self, gen, shape):
        return np.asarray(self.dist.rvs(size=shape, random_state=gen), float) / self.scale

    def moment(self, k):
        k = int(k)
        if k % 2:
            return 0.0
        if k == 4:
            return self._kurtosis
        return float(self.dist.moment(k)) / self.scale ** k

    @property
    def support_bound(self):
        lo, hi = (float(v) for v in self.dist.support())
        return max(abs(lo), abs(hi)) / self.scale

    def quadrature(self, n=QUAD_NODES):
        q, w = np.polynomial.legendre.leggauss(int(n))
        return np.asarray(self.dist.ppf((q + 1) / 2), float) / self.scale, w / 2

    def _cgf(self, t):
        if not math.isfinite(self.support_bound):
            return super()._cgf(t)
        return _atomic_cgf(*self.quadrature(), t)


def _atomic_cgf(values, probs, t):
    """``(ψ, ψ', ψ'')`` of ``Σ p_k δ_{x_k}`` at ``t``: log-sum-exp, tilted mean and variance."""
    a = t[..., None] * values + np.log(probs)
    top = a.max(axis=-1, keepdims=True)
    q = np.exp(a - top)
    z = q.sum(axis=-1, keepdims=True)
    psi = (top + np.log(z))[..., 0]
    q = q / z
    mean = (q * values).sum(axis=-1)
    var = (q * (values - mean[..., None]) ** 2).sum(axis=-1)
    return psi, mean, var


GAUSSIAN = GaussianEntries()
UNIFORM = UniformEntries()
RADEMACHER = DiscreteEntries([-1.0, 1.0], [0.5, 0.5], name="rademacher")

#: named entry laws
ENTRY_LAWS = {law.name: law for law in (GAUSSIAN, UNIFORM, RADEMACHER)}


def entry_law(law=None) -> EntryLaw:
    """Resolve ``law``: None (Gaussian), a name of :data:`ENTRY_LAWS`, an :class:`EntryLaw`, or a
    frozen symmetric ``scipy.stats`` law; ``ValueError`` otherwise.

    Examples
    --------
    >>> entry_law().name, entry_law("rademacher").kurtosis
    ('gaussian', 1.0)
    """
    if law is None:
        return GAUSSIAN
    if isinstance(law, EntryLaw):
        return law
    if isinstance(law, str):
        key = "gaussian" if law == "normal" else law
        if key in ENTRY_LAWS:
            return ENTRY_LAWS[key]
        raise ValueError(f"unknown entry law {law!r}; valid: {', '.join(sorted(ENTRY_LAWS))} "
                         f"(or a frozen symmetric scipy.stats law)")
    if hasattr(law, "ppf") and hasattr(law, "rvs"):
        return ScipyEntries(law)
    raise ValueError(f"an entry law must be a name ({', '.join(sorted(ENTRY_LAWS))}), an EntryLaw "
                     f"or a frozen scipy.stats law, got {law!r}")
