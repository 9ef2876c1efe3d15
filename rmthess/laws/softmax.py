r"""Gaussian-softmax weight laws: the weights of the linear cross-entropy Hessian blocks.

With ``p = softmax(z)``, ``z ~ N(0, σ_v² I_C)``, the diagonal block ``H_{v_i v_i}`` has weights
``a = p_1(1 − p_1)`` and the off-diagonal block ``H_{v_i v_j}`` has weights ``b = −p_1 p_2``
(theory/cases.md, (CASE-2)). Their moments are exact (the one-dimensional integrals of
:mod:`rmthess.integrals`, (SM-4)); their densities have no closed form, and :meth:`discretize`
returns a documented atomic approximation (SML-1) with the exact mean and second moment.
"""

from __future__ import annotations

import math

import numpy as np

from rmthess._validate import CLASSES, SIGMA_V, as_generator
from rmthess.integrals import softmax_mixed_moment
from rmthess.laws._weighted_lognormal import (
    SplitRefused,
    edgeworth_error,
    log_weighted_lognormal_sum,
)
from rmthess.laws.base import WeightLaw, _check_scale
from rmthess.laws.discrete import DiscreteLaw
from rmthess.laws.empirical import compress

__all__ = ["GaussianSoftmaxLaw", "OffsetSoftmaxLaw", "WHICH"]

#: the two weight laws: "diag" is a = p_1(1 - p_1), "offdiag" is b = -p_1 p_2
WHICH = ("diag", "offdiag")

#: discretization: seeded sample size, number of atoms (SML-1)
DISCRETIZE_SAMPLES = 1 << 16
DISCRETIZE_ATOMS = 96
#: atoms of each rare region of the off-diagonal law's joint-tail construction (SML-3)
JOINT_TAIL_ATOMS = 16
DISCRETIZE_SEED = 20250502
#: the sum of the other classes' exponentials is drawn term by term while ``samples × terms`` stays
#: within this many cells; above, its largest terms are drawn exactly and the rest (the bulk) from a
#: normal law (SML-2)
EXACT_REST_CELLS = 1 << 26
#: candidate expected numbers of exactly drawn largest terms, and the accepted estimate of the
#: bulk's Kolmogorov error (leading Edgeworth terms, SML-2)
TAIL_TERMS = (64, 128, 256, 512, 1024)
BULK_KS_TOL = 3e-3
#: the largest Kolmogorov shift accepted from the exponential tilt onto the exact moments (SML-3)
TILT_KS_TOL = 1e-2
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
        ``"diag"`` for ``a`` (weights of ``H_{v_i v_i}``), ``"offdiag"`` for ``b``
        (``H_{v_i v_j}``).
    scale : float, optional
        The factor ``c`` (see :meth:`scaled`).

    Notes
    -----
    Moments (theory/softmax_moments.md, (SM-4)): ``E a^k = E[p_1^k (1 − p_1)^k]`` and
    ``E b^k = (−1)^k E[p_1^k p_2^k]``, each a positive sum of one-dimensional integrals, within a
    relative 1e-12 of the mpmath evaluation (checked in ``tests/integrals/test_softmax.py``). The
    GMP law of the block then has exact moments; :meth:`discretize` (SML-1) is used only for its
    density and support, and refuses (``ValueError``) where its atoms cannot be shown accurate
    (SML-2, SML-3).

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

    def _draw(self, n: int, rng) -> np.ndarray:
        """Exact draws of the unscaled weight: one C-dimensional softmax per draw."""
        from rmthess._softmax import softmax_complement

        C, s = self.classes, self.sigma_v
        out = np.empty(n)
        per = max(1, _CHUNK_CELLS // C)
        for start in range(0, n, per):
            m = min(per, n - start)
            p, q = softmax_complement(s * rng.standard_normal((m, C)))
            out[start:start + m] = p[:, 0] * q[:, 0] if self.which == "diag" else -p[:, 0] * p[:, 1]
        return out

    def sample(self, shape, *, rng=None) -> np.ndarray:
        """Exact draws (a C-dimensional softmax per draw; cost proportional to C)."""
        rng = as_generator(rng)
        n = int(np.prod(shape, dtype=np.int64))
        return self.scale * self._draw(n, rng).reshape(shape)

    def expect(self, f) -> float:
        """``E f(λ)`` under the atomic approximation :meth:`discretize` (SML-1)."""
        return self.discretize().expect(f)

    def _stratified_draws(self, n: int, rng, tail1=(0.0, 1.0), tail2=(0.0, 1.0)) -> np.ndarray:
        """Draws of the unscaled weight for :meth:`discretize` (SML-2).

        The own logits (``z_1``; and ``z_2`` for "offdiag") are stratified,
        ``z = −σ_v Φ⁻¹(s)``, ``s = s_lo + (s_hi − s_lo)(i + U_i)/n`` over the upper-tail
        probabilities ``tail1 = (s_lo, s_hi)`` (``tail2`` for ``z_2``, on an independent
        permutation: a Latin hypercube), so the draws follow the law given ``P(Z > z) ∈ tail``;
        ``log W``, ``W`` the sum of the other classes' exponentials, comes from
        :func:`_log_rest_sum`.
        """
        from scipy.special import ndtri  # deferred: scipy loads only when a law is discretized
        s = self.sigma_v
        q = 1 if self.which == "diag" else 2
        logw = _log_rest_sum(self.classes - q, s, n, rng, self.classes)
        x1 = -s * ndtri(tail1[0] + (tail1[1] - tail1[0]) * (np.arange(n) + rng.random(n)) / n)
        if q == 1:  # a = X1 W / (X1 + W)^2 = 1/(2 + e^{d} + e^{-d}), d = log X1 - log W
            d = np.abs(x1 - logw)
            e = np.exp(-d)
            return e / (1.0 + e) ** 2
        x2 = -s * ndtri(tail2[0] + (tail2[1] - tail2[0]) * (rng.permutation(n) + rng.random(n)) / n)
        top = np.maximum(np.maximum(x1, x2), logw)
        den = np.exp(x1 - top) + np.exp(x2 - top) + np.exp(logw - top)
        return -np.exp(x1 - top) * np.exp(x2 - top) / den ** 2

    def _joint_tail_law(self, rng) -> DiscreteLaw:
        """Atoms of ``b`` from three regions of ``(z_1, z_2)``, split at
        ``P(Z > t) = q = 1/(C − 1)``.

        Both below ``t`` (mass ``(1 − q)²``; 3/4 of the draws, ``DISCRETIZE_ATOMS`` atoms), one
        above (mass ``2q(1 − q)``, by the symmetry of ``b`` in ``z_1, z_2``) and both above (mass
        ``q²``), 1/8 of the draws and ``JOINT_TAIL_ATOMS`` atoms each; each region's draws are
        compressed alone (SML-3).
        """
        q = 1.0 / (self.classes - 1)
        n = DISCRETIZE_SAMPLES
        parts = [((1 - q) ** 2, 3 * n // 4, DISCRETIZE_ATOMS, (q, 1.0), (q, 1.0)),
                 (2 * q * (1 - q), n // 8, JOINT_TAIL_ATOMS, (0.0, q), (q, 1.0)),
                 (q * q, n // 8, JOINT_TAIL_ATOMS, (0.0, q), (0.0, q))]
        atoms, probs = [], []
        for mass, m, k, t1, t2 in parts:
            law = compress(self._stratified_draws(m, rng, t1, t2), k)
            atoms.append(law.atoms)
            probs.append(mass * law.probs)
        return DiscreteLaw(np.concatenate(atoms), np.concatenate(probs))

    def discretize(self) -> DiscreteLaw:
        r"""Atomic approximation with the exact mean and second moment (SML-1); cached.

        ``DISCRETIZE_SAMPLES`` seeded draws with stratified own logits (SML-2) are compressed to
        ``DISCRETIZE_ATOMS`` atoms that keep the bin moments up to order 3
        (:func:`rmthess.laws.empirical.compress`); the atoms' probabilities are then tilted,
        ``p_i ∝ p_i e^{θ_1 λ_i + θ_2 λ_i²}``, onto the exact mean and second moment (SML-3). For
        "offdiag", when no tilt reaches them (the second moment sits in the joint upper tail of
        ``z_1, z_2``), the draws are redone by regions of ``(z_1, z_2)`` (:meth:`_joint_tail_law`).
        The atoms are within a Kolmogorov distance of about 0.03 of the exact law (measured over
        C ≤ 10⁵, σ_v ≤ 3, and σ_v ≤ 6 at C ≤ 10³; theory/softmax_moments.md, SML-4).

        Raises
        ------
        ValueError
            Where the construction cannot guarantee that accuracy: the normal law of the bulk of the
            other classes' sum is off by more than ``BULK_KS_TOL`` (measured: C = 10⁴ at
            σ_v ≥ 5; SML-2), no tilt reaches the exact moments, or the tilt moves the
            distribution function by more than ``TILT_KS_TOL`` (SML-3).
        """
        if self._discrete is None:
            rng = np.random.default_rng(DISCRETIZE_SEED)
            law = compress(self._stratified_draws(DISCRETIZE_SAMPLES, rng), DISCRETIZE_ATOMS)
            m1, m2 = self._raw_moment(1), self._raw_moment(2)
            probs = _tilt(law.atoms, law.probs, m1, m2)
            if probs is None and self.which == "offdiag" and self.classes > 2:
                law = self._joint_tail_law(rng)
                probs = _tilt(law.atoms, law.probs, m1, m2)
            if probs is None:
                raise ValueError(
                    f"GaussianSoftmaxLaw.discretize: at C = {self.classes}, sigma_v = "
                    f"{self.sigma_v} no tilt of the sampled atoms reaches the exact mean and "
                    f"second moment: they are carried by events rarer than 1/{DISCRETIZE_SAMPLES} "
                    f"(theory/softmax_moments.md, SML-3); no accurate atomic law")
            order = np.argsort(law.atoms)
            shift = float(np.max(np.abs(np.cumsum(probs[order] - law.probs[order]))))
            if not shift <= TILT_KS_TOL:
                raise ValueError(
                    f"GaussianSoftmaxLaw.discretize: at C = {self.classes}, sigma_v = "
                    f"{self.sigma_v} the sampled atoms miss the exact mean and second moment by so "
                    f"much that matching them moves the distribution function by {shift:.3g} > "
                    f"{TILT_KS_TOL} (theory/softmax_moments.md, SML-3); no accurate atomic law")
            self._discrete = DiscreteLaw(law.atoms, probs)
        return self._discrete.scaled(self.scale) if self.scale != 1.0 else self._discrete

    def scaled(self, c: float) -> GaussianSoftmaxLaw:
        """The law of ``c·λ``: a new law with its own caches.

        The moments and the atomic law computed so far do not depend on the scale; the copy starts
        from a snapshot of them (a dict of its own; the atomic law is immutable), so no mutable
        state is shared between the two laws.
        """
        c = _check_scale(c)
        out = GaussianSoftmaxLaw(self.classes, self.sigma_v, self.which, self.scale * c)
        out._cache = dict(self._cache)
        out._discrete = self._discrete  # the unscaled atomic law does not depend on the scale
        return out


def _tilt(atoms, probs, m1, m2):
    r"""Probabilities ``p_i e^{θ·f_i}/Z``, ``f_i = (λ_i, λ_i²)``, with moments ``m1``, ``m2``.

    The minimum-relative-entropy change of ``probs`` onto the two moments (SML-3): ``θ`` minimizes
    the convex ``log Σ p_i e^{θ·(f_i − f*)}`` (damped Newton). ``None`` when the moments are not
    reached to a relative 1e-13 (the targets are outside what the atoms can reach).
    """
    scale = float(np.max(np.abs(atoms)))
    f = np.stack([atoms / scale, (atoms / scale) ** 2], axis=1) - np.array([m1 / scale,
                                                                          m2 / scale ** 2])
    target = np.array([m1 / scale, m2 / scale ** 2])

    def tilted(th):
        e = f @ th
        w = probs * np.exp(e - e.max())
        w /= w.sum()
        return w, w @ f

    theta = np.zeros(2)
    w, g = tilted(theta)
    for _ in range(200):
        if np.all(np.abs(g) <= 1e-13 * np.abs(target)):
            return w
        hess = (f * w[:, None]).T @ f - np.outer(g, g)
        step = np.linalg.lstsq(hess, -g, rcond=None)[0]
        t = 1.0
        while t > 1e-6:  # damped Newton on the gradient norm
            new_w, new_g = tilted(theta + t * step)
            if np.max(np.abs(new_g)) < np.max(np.abs(g)):
                break
            t /= 2
        else:
            break
        theta, w, g = theta + t * step, new_w, new_g
    return None


def _bulk_terms(rest: int, s: float, k: int):
    """Threshold ``τ`` (``rest·P(Z > τ) = k``), a bulk term's mean and sd, the Edgeworth error.

    A bulk term is ``e^{sZ}`` given ``Z ≤ τ``: ``E e^{jsZ}·1{Z ≤ τ} = e^{j²s²/2} Φ(τ − js)``. The
    error estimate (SML-2) is the maximum over ``x`` of the first two Edgeworth corrections to the
    distribution function of the standardized sum of ``m = rest − 2k`` such terms,
    ``|γ φ(x)(x² − 1)|/(6√m) + |φ(x)(κ He_3(x)/24 + γ² He_5(x)/72)|/m``.
    """
    from scipy.special import ndtr, ndtri
    tau = -float(ndtri(k / rest))
    p_in = float(ndtr(tau))
    mom = [math.exp(j * j * s * s / 2) * float(ndtr(tau - j * s)) / p_in for j in range(5)]
    mu = mom[1]
    var = mom[2] - mu * mu
    k3 = mom[3] - 3 * mu * mom[2] + 2 * mu ** 3
    c4 = mom[4] - 4 * mu * mom[3] + 6 * mu * mu * mom[2] - 3 * mu ** 4
    gamma, kurt = k3 / var ** 1.5, c4 / var ** 2 - 3
    m = rest - 2 * k
    return tau, mu, math.sqrt(var), edgeworth_error(gamma / math.sqrt(m), kurt / m)


def _log_rest_sum(rest: int, s: float, n: int, rng, classes: int) -> np.ndarray:
    r"""``n`` draws of ``log W``, ``W = Σ_{c=1}^{rest} e^{s Z_c}`` (SML-2).

    Term by term while ``n·rest ≤ EXACT_REST_CELLS``. Above, for the smallest ``k`` in
    ``TAIL_TERMS`` whose bulk error estimate is at most ``BULK_KS_TOL``: the number ``N`` of terms
    above the threshold ``τ`` is Binomial(rest, k/rest), those terms are drawn exactly (``Z = Φ⁻¹``
    of a uniform on the upper tail), and the sum of the ``rest − N`` terms below ``τ`` is drawn from
    the normal law with its exact mean and variance. ``ValueError`` when no ``k`` qualifies.
    """
    from scipy.special import ndtri
    if rest == 0:  # C = 2, "offdiag": no other class
        return np.full(n, -np.inf)
    if n * rest <= EXACT_REST_CELLS:
        out = np.empty(n)
        per = max(1, _CHUNK_CELLS // rest)
        for start in range(0, n, per):
            z = s * rng.standard_normal((min(per, n - start), rest))
            top = z.max(axis=1)
            out[start:start + z.shape[0]] = top + np.log(np.exp(z - top[:, None]).sum(axis=1))
        return out
    best = None
    for k in TAIL_TERMS:
        if rest >= 8 * k:
            cand = _bulk_terms(rest, s, k)
            if best is None or cand[3] < best[1][3]:
                best = (k, cand)
            if cand[3] <= BULK_KS_TOL:
                break
    if best is None or best[1][3] > BULK_KS_TOL:
        err = "n/a" if best is None else f"{best[1][3]:.2g}"
        raise ValueError(
            f"GaussianSoftmaxLaw.discretize: at C = {classes}, sigma_v = {s} the sum of the other "
            f"classes' exponentials has no accurate representation within the cost bound (normal "
            f"bulk error {err} > {BULK_KS_TOL}; theory/softmax_moments.md, SML-2)")
    k, (tau, mu, sd, _) = best
    out = np.empty(n)
    per = max(1, _CHUNK_CELLS // (2 * k))
    for start in range(0, n, per):
        m = min(per, n - start)
        count = rng.binomial(rest, k / rest, size=m)
        u = 1.0 - rng.random(int(count.sum()))  # in (0, 1]
        tail = np.bincount(np.repeat(np.arange(m), count),
                           weights=np.exp(-s * ndtri(u * (k / rest))), minlength=m)
        inner = rest - count
        bulk = inner * mu + np.sqrt(inner) * sd * rng.standard_normal(m)
        out[start:start + m] = np.log(tail + np.maximum(bulk, 0.0) + np.finfo(float).tiny)
    return out


#: the per-class moments of the last priors seen: the laws of the classes of one prior share them
_CLASS_MOMENTS: dict = {}
_CLASS_MOMENTS_KEEP = 2


def _class_moments(prior, sigma_v):
    """``(E a_c, E a_c²)`` of every class (SMO-2; one evaluation for all C classes), kept for the
    last ``_CLASS_MOMENTS_KEEP`` (prior, σ_v) so that the class laws of one prior evaluate them
    once. Keyed by the prior's bytes (a copy is stored; no caller's array is referenced)."""
    import hashlib

    from rmthess.integrals.softmax_offsets import offset_softmax_moments

    key = (float(sigma_v), hashlib.sha256(np.ascontiguousarray(prior).tobytes()).hexdigest())
    if key not in _CLASS_MOMENTS:
        mom = offset_softmax_moments(np.log(prior), sigma_v)
        while len(_CLASS_MOMENTS) >= _CLASS_MOMENTS_KEEP:
            _CLASS_MOMENTS.pop(next(iter(_CLASS_MOMENTS)))
        _CLASS_MOMENTS[key] = (mom.mean_a.copy(), mom.mean_a2.copy())
    return _CLASS_MOMENTS[key]


class OffsetSoftmaxLaw(WeightLaw):
    r"""Law of ``c·a_k``, ``a_k = p_k(1 − p_k)``, ``p = softmax(σ_v Z + b)``, ``b_j = log π_j``:
    the weights of the diagonal Hessian block of class ``k`` of the linear CE model with a class
    prior π (theory/cases.md, CASE-30; theory/softmax_moments.md, SML-5).

    Parameters
    ----------
    prior : array_like
        Class probabilities π (positive, summing to 1).
    sigma_v : float
        Logit standard deviation, in ``[0.05, 5]`` (the range of the offset moments, SMO-1).
    cls : int
        The class k (0-based).
    scale : float, optional
        The factor ``c`` (see :meth:`scaled`).

    Notes
    -----
    ``E a_k`` and ``E a_k²`` are exact (the integrals of (SMO-2)); the block's GMP law then has
    the exact second moment ``g_ii(k)``. Moments of order ≥ 3 are not derived for classes with
    offsets: :meth:`moment` refuses them (the atomic law's are ``discretize().moment(k)``).
    :meth:`discretize` builds the atoms as in (SML-1)–(SML-3) with the own logit stratified and the
    other classes' sum ``W_k = Σ_{j≠k} π_j e^{σ_v Z_j}`` drawn term by term up to 1025 classes and
    above by the per-term upper-tail split of (SML-6) — the terms above a threshold exact, the rest
    from a normal law with their exact conditional mean and variance, checked by its Edgeworth
    error — for any C and any prior; measured within a Kolmogorov distance of 0.03 of direct draws
    (SML-6), and refused (``ValueError``) where no split within the cost bound passes the check.
    """

    def __init__(self, prior, sigma_v, cls, scale=1.0):
        from rmthess.laws.prior import validate_prior

        pi = np.asarray(prior, dtype=float)
        self.prior = validate_prior(pi, len(pi) if pi.ndim == 1 else 0)
        self.sigma_v = SIGMA_V.validate(sigma_v)
        if isinstance(cls, bool) or not isinstance(cls, (int, np.integer)) \
                or not 0 <= cls < len(self.prior):
            raise ValueError(f"cls must be a class index in 0..{len(self.prior) - 1}, got {cls!r}")
        self.cls = int(cls)
        self.scale = _check_scale(scale)
        self._exact = None
        self._discrete = None
        self._split = None

    @property
    def tail_split(self):
        """The split of the other classes' sum accepted by :meth:`discretize` (SML-6):
        ``{"terms": K, "head": |H|, "bulk_error": d}`` (expected exactly drawn terms, head terms,
        the bulk's mean Edgeworth error bound), or None (every other class drawn exactly, or
        not discretized yet)."""
        return None if self._split is None else dict(self._split)

    def __repr__(self) -> str:
        return (f"OffsetSoftmaxLaw(classes={len(self.prior)}, sigma_v={self.sigma_v!r}, "
                f"cls={self.cls}, scale={self.scale!r})")

    @property
    def prob_nonzero(self) -> float:
        return 1.0 if self.scale != 0 else 0.0

    def _raw_moments(self):
        if self._exact is None:
            mom = _class_moments(self.prior, self.sigma_v)
            self._exact = (float(mom[0][self.cls]), float(mom[1][self.cls]))
        return self._exact

    def _moment(self, k: int) -> float:
        if k > 2:
            raise ValueError(f"moment({k}) of a class with logit offsets is not derived (only "
                             "E a and E a² are, SMO-2); the atomic law's is "
                             "discretize().moment(k)")
        return self.scale ** k * self._raw_moments()[k - 1]

    def sample(self, shape, *, rng=None) -> np.ndarray:
        """Exact draws (a C-dimensional softmax per draw; cost proportional to C)."""
        from rmthess._softmax import softmax_complement

        rng = as_generator(rng)
        n = int(np.prod(shape, dtype=np.int64))
        C, b = len(self.prior), np.log(self.prior)
        out = np.empty(n)
        per = max(1, _CHUNK_CELLS // C)
        for start in range(0, n, per):
            m = min(per, n - start)
            p, q = softmax_complement(b + self.sigma_v * rng.standard_normal((m, C)))
            out[start:start + m] = p[:, self.cls] * q[:, self.cls]
        return self.scale * out.reshape(shape)

    def expect(self, f) -> float:
        """``E f(λ)`` under the atomic approximation :meth:`discretize`."""
        return self.discretize().expect(f)

    def _log_rest(self, n, rng):
        """``n`` draws of ``log W_k``, ``W_k = Σ_{j≠k} π_j e^{σ_v Z_j}`` (SML-5, SML-6): term by
        term while ``n·(C − 1) ≤ EXACT_REST_CELLS``; above, by the per-term upper-tail split of
        :func:`rmthess.laws._weighted_lognormal.log_weighted_lognormal_sum` (head and
        exceedances exact, the rest normal with its exact conditional mean and variance, accepted
        when its Edgeworth error bound is within ``BULK_KS_TOL``), else ``ValueError``."""
        s = self.sigma_v
        lw = np.log(np.sort(np.delete(self.prior, self.cls))[::-1])
        if n * len(lw) > EXACT_REST_CELLS:
            try:
                out, self._split = log_weighted_lognormal_sum(lw, s, n, rng, BULK_KS_TOL)
                return out
            except SplitRefused as exc:
                raise ValueError(
                    f"OffsetSoftmaxLaw.discretize: at C = {len(self.prior)}, sigma_v = {s}, "
                    f"class {self.cls} the sum of the other classes has no accurate "
                    f"representation within the cost bound: {exc} (theory/softmax_moments.md, "
                    f"SML-6)") from None
        out = np.empty(n)
        per = max(1, _CHUNK_CELLS // len(lw))
        for start in range(0, n, per):            # every other class drawn exactly
            m = min(per, n - start)
            z = lw + s * rng.standard_normal((m, len(lw)))
            top = z.max(axis=1)
            out[start:start + m] = top + np.log(np.exp(z - top[:, None]).sum(axis=1))
        return out

    def discretize(self) -> DiscreteLaw:
        """Atomic approximation with the exact mean and second moment (SML-5, SML-6); cached.

        Raises
        ------
        ValueError
            Where the other classes' sum has no split within the cost bound whose normal bulk
            passes ``BULK_KS_TOL`` (SML-6; every configuration measured up to σ_v = 5 passed, the
            slowest in about a minute), or the tilt onto the exact moments moves the distribution
            function by more than ``TILT_KS_TOL`` (SML-3).
        """
        if self._discrete is None:
            from scipy.special import ndtri

            rng = np.random.default_rng(DISCRETIZE_SEED)
            n = DISCRETIZE_SAMPLES
            logw = self._log_rest(n, rng)
            x = math.log(self.prior[self.cls]) - self.sigma_v * ndtri(
                (np.arange(n) + rng.random(n)) / n)
            d = np.abs(x - logw)
            e = np.exp(-d)
            law = compress(e / (1.0 + e) ** 2, DISCRETIZE_ATOMS)
            m1, m2 = self._raw_moments()
            probs = _tilt(law.atoms, law.probs, m1, m2)
            order = np.argsort(law.atoms)
            shift = math.inf if probs is None else \
                float(np.max(np.abs(np.cumsum(probs[order] - law.probs[order]))))
            if not shift <= TILT_KS_TOL:
                raise ValueError(
                    f"OffsetSoftmaxLaw.discretize: at C = {len(self.prior)}, sigma_v = "
                    f"{self.sigma_v}, class {self.cls} the sampled atoms cannot be matched to the "
                    f"exact mean and second moment within a Kolmogorov shift of {TILT_KS_TOL} "
                    f"(theory/softmax_moments.md, SML-3, SML-5); no accurate atomic law")
            self._discrete = DiscreteLaw(law.atoms, probs)
        return self._discrete.scaled(self.scale) if self.scale != 1.0 else self._discrete

    def scaled(self, c: float) -> OffsetSoftmaxLaw:
        """The law of ``c·λ`` (shares nothing mutable with this one)."""
        c = _check_scale(c)
        out = OffsetSoftmaxLaw(self.prior, self.sigma_v, self.cls, self.scale * c)
        out._exact, out._discrete, out._split = self._exact, self._discrete, self._split
        return out

