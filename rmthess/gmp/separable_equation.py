r"""The coupled equations of the separable model in the reciprocal variable :math:`t = 1/e` (SEP-3).

For :math:`B = \frac1N\Sigma^{1/2}Y\Lambda Y^\top\Sigma^{1/2}`, with the weight law
:math:`\nu=\sum_k p_k\delta_{\lambda_k}` and the covariance spectrum
:math:`H=\sum_j q_j\delta_{\sigma_j}` (:math:`\sigma_j>0`), the unknown is
:math:`e(z) = \lim\frac1d\operatorname{tr}\Sigma(B-z)^{-1}` and, with :math:`t = 1/e`,

.. math::

    g(t) = \mathbb{E}_\nu\Big[\frac{\lambda}{1+\gamma\lambda/t}\Big]
         = \mathbb{E}\lambda - \sum_k\frac{w_k}{t-\tau_k},\qquad
    R(t;z) = t - \Big(\sum_j\frac{q_j\sigma_j}{\sigma_j g(t) - z}\Big)^{-1} = 0,

:math:`\tau_k = -\gamma\lambda_k`, :math:`w_k = \gamma p_k\lambda_k^2` as in (GMP-3). The Stieltjes
transform is :math:`m = \sum_j q_j/(\sigma_j g - z)`, the Herglotz branch is
:math:`\mathrm{Im}\,t<0` (unique, SEP-2), and :math:`\partial_t R = \Delta = 1 - h(t)\,U/T^2`
with :math:`h = \sum_k w_k/(t-\tau_k)^2`, :math:`T = \sum_j q_j\sigma_j/D_j`,
:math:`U = \sum_j q_j\sigma_j^2/D_j^2`, :math:`D_j = \sigma_j g - z` (SEP-4). With
:math:`H=\delta_1`, :math:`R(t;z) = -(z(t) - z)` of (GMP-3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rmthess.gmp.equation import AtomicEquation
from rmthess.laws.base import WeightLaw

__all__ = ["SeparableEquation", "covariance_atoms"]

_EPS = np.finfo(float).eps
#: Newton stops once the step is below this multiple of |t|
_STEP_RTOL = 1e-13
#: accepted residual |R| relative to the rounding size of its terms
_RESIDUAL_RTOL = 1e-10
#: |Im t| below this times |t| is rounding noise of a real root
IM_RTOL = 1e-12
_MAX_NEWTON = 60


def covariance_atoms(covariance: WeightLaw, name: str = "covariance"):
    r"""Atoms and probabilities of ``covariance.discretize()``; ``ValueError`` unless all atoms are
    finite and > 0 (a covariance spectrum is positive definite)."""
    if not isinstance(covariance, WeightLaw):
        raise ValueError(f"{name} must be a WeightLaw (its spectrum law), got "
                         f"{type(covariance).__name__}")
    atomic = covariance.discretize()
    sig, q = np.asarray(atomic.atoms, float), np.asarray(atomic.probs, float)
    if sig.size == 0 or not np.all(np.isfinite(sig)) or np.any(sig <= 0):
        bad = sig[~(sig > 0)][0] if np.any(~(sig > 0)) else float("nan")
        raise ValueError(f"{name} spectrum must be positive (a positive definite covariance), "
                         f"got the eigenvalue {float(bad)!r}")
    return sig, q


@dataclass(frozen=True)
class SeparableEquation:
    r"""The weight side (an :class:`~rmthess.gmp.equation.AtomicEquation`, rescaled) and the
    covariance atoms :math:`\sigma_j/\mathrm{cov\_unit}`, probabilities :math:`q_j`, and
    :math:`s_1 = \mathbb{E}_H\sigma`, :math:`s_2 = \mathbb{E}_H\sigma^2` of the rescaled spectrum.
    The rescaled law is the law of :math:`B/\mathrm{unit}`, ``unit = nu.unit * cov_unit`` (a
    power of 2, SEP-9)."""

    nu: AtomicEquation
    sig: np.ndarray
    q: np.ndarray
    s1: float
    s2: float
    cov_unit: float

    @classmethod
    def from_laws(cls, weights: WeightLaw, covariance: WeightLaw, gamma: float):
        nu = AtomicEquation.from_law(weights, gamma, normalize=True)
        sig, q = covariance_atoms(covariance)
        e = math.frexp(float(sig.max()))[1]
        sig = np.ldexp(sig, -e)
        if sig.min() < np.finfo(float).tiny:
            raise ValueError("covariance spectrum spans more than the float64 range "
                             f"(smallest/largest eigenvalue {sig.min()!r})")
        return cls(nu=nu, sig=sig, q=q, s1=math.fsum((q * sig).tolist()),
                   s2=math.fsum((q * sig * sig).tolist()), cov_unit=math.ldexp(1.0, e))

    @property
    def unit(self) -> float:
        return self.nu.unit * self.cov_unit

    @property
    def scale(self) -> float:
        """A length scale of the (rescaled) spectrum."""
        return self.nu.scale * float(self.sig.max())

    # -- the weight side ---------------------------------------------------------------------
    def g(self, t):
        r""":math:`g(t)`, in the better of the sum form
        :math:`\mathbb{E}\lambda-\sum w_k/(t-\tau_k)` and the factored form
        :math:`t\sum_k a_k/(t-\tau_k)` (GMP-3a)."""
        nu = self.nu
        t = np.asarray(t)
        r = 1.0 / (t[..., None] - nu.tau)
        ar = np.abs(r)
        g_sum = nu.mean - np.sum(nu.w * r, axis=-1)
        b_sum = abs(nu.mean) + np.sum(nu.w * ar, axis=-1)
        g_fac = t * np.sum(nu.a * r, axis=-1)
        b_fac = np.abs(t) * np.sum(np.abs(nu.a) * ar, axis=-1)
        return np.where(b_sum <= b_fac, g_sum, g_fac)

    def h(self, t):
        r""":math:`h(t) = g'(t) = \sum_k w_k/(t-\tau_k)^2`."""
        r = 1.0 / (np.asarray(t)[..., None] - self.nu.tau)
        return np.sum(self.nu.w * r * r, axis=-1)

    # -- the coupled equation ------------------------------------------------------------------
    def residual(self, t, z):
        r"""``(R, Δ, size)``: :math:`R(t;z)`, :math:`\partial_t R = \Delta` (SEP-3, SEP-4) and the
        rounding size of the terms of R (for the convergence test)."""
        t = np.asarray(t, dtype=np.complex128)
        z = np.asarray(z, dtype=np.complex128)
        g = self.g(t)
        D = self.sig * g[..., None] - z[..., None]
        qs = self.q * self.sig / D
        T = np.sum(qs, axis=-1)
        U = np.sum(qs * self.sig / D, axis=-1)
        inv = 1.0 / T
        R = t - inv
        delta = 1.0 - self.h(t) * U * inv * inv
        size = np.abs(t) + np.abs(inv) * (1.0 + np.sum(np.abs(qs), axis=-1) * np.abs(inv))
        return R, delta, size

    def stieltjes_from_t(self, t, z):
        r""":math:`m = \sum_j q_j/(\sigma_j g(t) - z)` (SEP-1)."""
        g = self.g(np.asarray(t, dtype=np.complex128))
        D = self.sig * g[..., None] - np.asarray(z, dtype=np.complex128)[..., None]
        return np.sum(self.q / D, axis=-1)

    def x_derivative(self, t, x):
        r""":math:`\partial_x R = V/T^2`, :math:`V = \sum_j q_j\sigma_j/D_j^2` (real t and x)."""
        g = self.g(np.asarray(t, dtype=float))
        D = self.sig * g[..., None] - np.asarray(x, dtype=float)[..., None]
        T = np.sum(self.q * self.sig / D, axis=-1)
        V = np.sum(self.q * self.sig / (D * D), axis=-1)
        return V / (T * T)

    def delta_derivative(self, t, x):
        r""":math:`\partial_t\Delta = -(h'U - 2h^2W)/T^2 - 2h^2U^2/T^3` at real (t, x), with
        :math:`W = \sum_j q_j\sigma_j^3/D_j^3` (the curvature :math:`R_{tt}` at an edge)."""
        t = np.asarray(t, dtype=float)
        r = 1.0 / (t[..., None] - self.nu.tau)
        h = np.sum(self.nu.w * r * r, axis=-1)
        hp = -2.0 * np.sum(self.nu.w * r * r * r, axis=-1)
        D = self.sig * self.g(t)[..., None] - np.asarray(x, dtype=float)[..., None]
        qs = self.q * self.sig / D
        T = np.sum(qs, axis=-1)
        U = np.sum(qs * self.sig / D, axis=-1)
        W = np.sum(qs * (self.sig / D) ** 2, axis=-1)
        return -(hp * U - 2.0 * h * h * W) / (T * T) - 2.0 * h * h * U * U / (T * T * T)

    # -- Newton with the Herglotz test ----------------------------------------------------------
    def newton(self, t, z, *, strict: bool):
        r"""Vectorised Newton on :math:`R(t;z)` from ``t``; returns ``(t, ok)``.

        ``ok``: converged (step below ``1e-13|t|`` or residual at rounding level), residual small,
        and Herglotz: :math:`\mathrm{Im}\,t < -10^{-12}|t|` (``strict``, the real axis inside a
        bulk), or, off the axis, :math:`\mathrm{Im}\,t<0` with either that margin or
        :math:`\mathrm{Re}\,\Delta>0` (a root next to the axis outside the support, SEP-5).
        """
        t = np.array(t, dtype=np.complex128, copy=True).ravel()
        z = np.broadcast_to(np.asarray(z, dtype=np.complex128), t.shape).ravel()
        done = np.zeros(t.shape, dtype=bool)
        for _ in range(_MAX_NEWTON):
            act = np.flatnonzero(~done)
            if act.size == 0:
                break
            R, d, size = self.residual(t[act], z[act])
            with np.errstate(all="ignore"):
                step = R / d
            bad = ~np.isfinite(step)
            step[bad] = 0.0
            t[act] = t[act] - step
            small = (np.abs(step) <= _STEP_RTOL * np.abs(t[act])) | (np.abs(R) <= 4 * _EPS * size)
            done[act[small | bad]] = True
        R, d, size = self.residual(t, z)
        ok = np.isfinite(t) & (np.abs(R) <= _RESIDUAL_RTOL * size)
        margin = t.imag < -IM_RTOL * np.abs(t)
        if strict:
            ok &= margin
        else:
            ok &= (t.imag < 0) & (margin | (d.real > 0))
        return t, ok
