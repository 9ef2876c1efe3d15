r"""The GMP functional equation for an atomic weight law, in the reciprocal variable :math:`t = 1/s`.

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

from dataclasses import dataclass

import numpy as np

from rmthess._validate import GAMMA
from rmthess.laws.base import WeightLaw

__all__ = ["AtomicEquation"]


@dataclass(frozen=True)
class AtomicEquation:
    r"""Poles :math:`\tau_k`, weights :math:`w_k` and constants of :math:`z(t)` (GMP-3).

    Attributes
    ----------
    gamma : float
    atoms, probs : ndarray
        The non-zero atoms of the weight law and their probabilities.
    tau, w : ndarray
        Poles (sorted ascending) and their weights.
    mean : float
        :math:`\mathbb{E}\lambda`.
    prob_nonzero : float
        :math:`P(\lambda\neq0)`.
    """

    gamma: float
    atoms: np.ndarray
    probs: np.ndarray
    tau: np.ndarray
    w: np.ndarray
    mean: float
    prob_nonzero: float

    @classmethod
    def from_law(cls, law: WeightLaw, gamma: float) -> "AtomicEquation":
        gamma = GAMMA.validate(gamma)
        atomic = law.discretize()
        nz = atomic.atoms != 0
        lam, p = atomic.atoms[nz], atomic.probs[nz]
        tau = -gamma * lam
        order = np.argsort(tau, kind="stable")
        lam, p, tau = lam[order], p[order], tau[order]
        w = gamma * p * lam * lam
        return cls(gamma=gamma, atoms=lam, probs=p, tau=tau, w=w,
                   mean=float(np.sum(p * lam)), prob_nonzero=float(np.sum(p)))

    @property
    def scale(self) -> float:
        """A length scale of the spectrum: ``max |λ| · (1 + γ)`` (1 if all weights vanish)."""
        if self.atoms.size == 0:
            return 1.0
        return float(np.max(np.abs(self.atoms))) * (1.0 + self.gamma)

    def z_of_t(self, t):
        r""":math:`z(t)` of (GMP-3), vectorised over ``t`` (real or complex)."""
        t = np.asarray(t)
        return -t + self.mean - np.sum(self.w / (t[..., None] - self.tau), axis=-1)

    def dz_dt(self, t):
        r""":math:`z'(t) = -1 + \sum_k w_k/(t-\tau_k)^2`."""
        t = np.asarray(t)
        return -1.0 + np.sum(self.w / (t[..., None] - self.tau) ** 2, axis=-1)

    def d2z_dt2(self, t):
        r""":math:`z''(t) = -2\sum_k w_k/(t-\tau_k)^3`."""
        t = np.asarray(t)
        return -2.0 * np.sum(self.w / (t[..., None] - self.tau) ** 3, axis=-1)

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
