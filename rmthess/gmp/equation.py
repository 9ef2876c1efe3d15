r"""The GMP functional equation for an atomic weight law, in the reciprocal variable
:math:`t = 1/s`.

For :math:`\nu = \sum_k p_k\delta_{\lambda_k}` and ratio :math:`\gamma`, the inverse map
:math:`z(s) = -1/s + \mathbb{E}[\lambda/(1+\gamma\lambda s)]` (GMP-2) reads, with :math:`t = 1/s`,

.. math::

    z(t) = -t + \mathbb{E}\lambda - \sum_k \frac{w_k}{t-\tau_k},\qquad
    \tau_k = -\gamma\lambda_k,\quad w_k = \gamma p_k\lambda_k^2 > 0,

over the non-zero atoms (GMP-3). The Herglotz branch :math:`\mathrm{Im}\,s>0` is
:math:`\mathrm{Im}\,t<0`. The form is regular at :math:`s=\infty` (:math:`t=0`, :math:`z=0`), where
the atom at zero lives, and has only simple poles with positive weights, which makes the critical
points easy to bracket (GMP-7).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rmthess._validate import GAMMA
from rmthess.laws.base import WeightLaw

__all__ = ["AtomicEquation"]


#: rescaled atoms and weights w_k must stay normal floats (no underflow to subnormals or 0)
_TINY = np.finfo(float).tiny
#: range of gamma handled: t-variables scale like sqrt(gamma) and z'' like their cubes (GMP-11);
#: bulks are refused well inside it already when too narrow to resolve (edges.MIN_RELATIVE_WIDTH)
GAMMA_MIN, GAMMA_MAX = 1e-100, 1e100
#: largest |exponent| of the rescaling unit 2^e: beyond it the spectrum leaves the float64 range
UNIT_EXPONENT_MAX = 1000


@dataclass(frozen=True)
class AtomicEquation:
    r"""Poles :math:`\tau_k`, weights :math:`w_k` and constants of :math:`z(t)` (GMP-3).

    Attributes
    ----------
    gamma : float
    atoms, probs : ndarray
        The non-zero atoms of the weight law (divided by ``unit``) and their probabilities.
    tau, w : ndarray
        Poles (sorted ascending) and their weights.
    a : ndarray
        :math:`a_k = p_k\lambda_k` (the factored form of (GMP-3a)).
    mean : float
        :math:`\mathbb{E}\lambda` (of the rescaled atoms).
    prob_nonzero : float
        :math:`P(\lambda\neq0)`.
    c0 : float
        :math:`z'(0) = (P(\lambda\neq0) - \gamma)/\gamma`, with :math:`\sum_k p_k - \gamma` summed
        exactly (``math.fsum``) and one rounding in the division (GMP-3a).
    unit : float
        The atoms are :math:`\lambda_k/\mathrm{unit}`; ``unit`` is a power of 2, so the law of the
        rescaled atoms is the GMP law scaled exactly by ``1/unit`` (GMP-11).
    """

    gamma: float
    atoms: np.ndarray
    probs: np.ndarray
    tau: np.ndarray
    w: np.ndarray
    a: np.ndarray
    mean: float
    prob_nonzero: float
    c0: float
    unit: float = 1.0

    @classmethod
    def from_law(cls, law: WeightLaw, gamma: float, *, normalize: bool = False) -> AtomicEquation:
        r"""The equation of ``law.discretize_for(gamma)`` (or ``discretize()``); with
        ``normalize`` the atoms are divided by the power of 2 nearest to
        :math:`\max|\lambda_k|\max(1,\gamma)` (GMP-11), so that the spectrum is of order 1
        whatever the scale of the weights and of gamma.

        Raises ``ValueError`` when the rescaled problem does not fit float64: the spectrum's scale
        beyond :math:`2^{\pm1000}`, or an atom so small against the largest one (or so improbable)
        that :math:`\gamma p_k\lambda_k^2` underflows.
        """
        gamma = GAMMA.validate(gamma)
        if not GAMMA_MIN <= gamma <= GAMMA_MAX:
            raise ValueError(f"gamma must be in [{GAMMA_MIN:g}, {GAMMA_MAX:g}] for the GMP solver "
                             f"(its internal variables scale like sqrt(gamma)), got {gamma!r}")
        by_gamma = getattr(law, "discretize_for", None)
        atomic = law.discretize() if by_gamma is None else by_gamma(gamma)
        nz = atomic.atoms != 0
        lam, p = atomic.atoms[nz], atomic.probs[nz]
        prob_nonzero = float(atomic.prob_nonzero)
        unit = 1.0
        given = lam
        if normalize and lam.size:
            e = math.frexp(float(np.abs(lam).max()))[1] + (math.frexp(gamma)[1] if gamma > 1
                                                             else 0)
            if abs(e) > UNIT_EXPONENT_MAX:
                raise ValueError(
                    f"the spectrum's scale max|lambda|·max(1, gamma) = 2^{e} is outside the "
                    f"float64 range handled (2^-{UNIT_EXPONENT_MAX} to 2^{UNIT_EXPONENT_MAX}); "
                    f"rescale the weights (the law of c·lambda is the law scaled by c)")
            lam = np.ldexp(lam, -e)
            unit = math.ldexp(1.0, e)
        tau = -gamma * lam
        order = np.argsort(tau, kind="stable")
        lam, p, tau = lam[order], p[order], tau[order]
        w = gamma * p * lam * lam
        if lam.size and not (np.abs(lam).min() >= _TINY and w.min() >= _TINY
                             and math.isfinite(w.max())):
            k = int(np.flatnonzero(~((np.abs(lam) >= _TINY) & (w >= _TINY)
                                     & np.isfinite(w)))[0])
            raise ValueError(
                f"atom {float(given[order][k])!r} (probability {float(p[k])!r}) is too small "
                f"against the largest atom {float(np.abs(given).max())!r} at gamma = {gamma!r}: "
                f"gamma·p·lambda^2 leaves the float64 range after rescaling; merge or drop it")
        a = p * lam
        return cls(gamma=gamma, atoms=lam, probs=p, tau=tau, w=w, a=a,
                   mean=math.fsum(a.tolist()), prob_nonzero=prob_nonzero,
                   c0=math.fsum([*p.tolist(), -gamma]) / gamma, unit=unit)

    @property
    def kernel_args(self) -> tuple:
        """``(tau, a, p, w, mean, 1/gamma, c0)``: the equation as the compiled kernels take it."""
        return (self.tau, self.a, self.probs, self.w, self.mean, 1.0 / self.gamma, self.c0)

    @property
    def scale(self) -> float:
        """A length scale of the spectrum: ``max |λ| · (1 + γ)`` (1 if all weights vanish)."""
        if self.atoms.size == 0:
            return 1.0
        return float(np.max(np.abs(self.atoms))) * (1.0 + self.gamma)

    def z_of_t(self, t):
        r""":math:`z(t)` of (GMP-3), vectorised over ``t`` (real or complex), in whichever of its
        three equal forms (GMP-3a) has the smallest rounding bound: the sum
        :math:`-t+\mathbb{E}\lambda-\sum_k w_k/(t-\tau_k)`, the factored form
        :math:`t(-1+\sum_k a_k/(t-\tau_k))` and the form around the atom
        :math:`t(c_0 - (t/\gamma)\sum_k p_k/(t-\tau_k))`."""
        t = np.asarray(t)
        r = 1.0 / (t[..., None] - self.tau)
        ar = np.abs(r)
        at = np.abs(t)
        forms = [
            (-t + self.mean - np.sum(self.w * r, axis=-1),
             at + abs(self.mean) + np.sum(self.w * ar, axis=-1)),
            (t * (np.sum(self.a * r, axis=-1) - 1.0),
             at * (1.0 + np.sum(np.abs(self.a) * ar, axis=-1))),
            (t * (self.c0 - t * np.sum(self.probs * r, axis=-1) / self.gamma),
             at * (abs(self.c0) + at * np.sum(self.probs * ar, axis=-1) / self.gamma)),
        ]
        best = np.argmin(np.stack([size for _, size in forms]), axis=0)
        return np.choose(best, [z for z, _ in forms])

    def dz_dt(self, t):
        r""":math:`z'(t) = -1 + \sum_k w_k/(t-\tau_k)^2`."""
        r = 1.0 / (np.asarray(t)[..., None] - self.tau)
        return -1.0 + np.sum(self.w * r * r, axis=-1)

    def d2z_dt2(self, t):
        r""":math:`z''(t) = -2\sum_k w_k/(t-\tau_k)^3`."""
        r = 1.0 / (np.asarray(t)[..., None] - self.tau)
        return -2.0 * np.sum(self.w * r * r * r, axis=-1)

    def inverse(self, s):
        r""":math:`z(s) = -1/s + \mathbb{E}[\lambda/(1+\gamma\lambda s)]` (GMP-2), vectorised."""
        s = np.asarray(s)
        terms = self.probs * self.atoms / (1.0 + self.gamma * self.atoms * s[..., None])
        return -1.0 / s + np.sum(terms, axis=-1)

    def polynomial(self, z) -> np.ndarray:
        r"""Coefficients (highest degree first) of the degree-:math:`K'+1` polynomial in :math:`s`.

        :math:`P(s) = (z s + 1)\prod_k(1+\gamma\lambda_k s) - s\sum_k p_k\lambda_k
        \prod_{j\neq k}(1+\gamma\lambda_j s)` (GMP-3); its roots are the solutions of (GMP-1).
        """
        g, lam, p = self.gamma, self.atoms, self.probs
        prod = np.array([1.0])
        for lk in lam:
            prod = np.polymul(prod, [g * lk, 1.0])
        acc = np.zeros(1)
        for k in range(lam.size):
            others = np.array([1.0])
            for j in range(lam.size):
                if j != k:
                    others = np.polymul(others, [g * lam[j], 1.0])
            acc = np.polyadd(acc, p[k] * lam[k] * others)
        return np.polysub(np.polymul([z, 1.0], prod), np.polymul([1.0, 0.0], acc))
