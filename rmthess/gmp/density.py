r"""Real-axis density and distribution function of the GMP law (GMP-8, GMP-10)."""

from __future__ import annotations

import itertools

import numpy as np

from rmthess.gmp.edges import Bulk
from rmthess.gmp.equation import AtomicEquation
from rmthess.gmp.solver import solve_t_bulk

__all__ = ["density", "BulkCdf"]

def density(eq: AtomicEquation, bulks: list[Bulk], x: np.ndarray) -> np.ndarray:
    r"""Absolutely continuous density :math:`\rho(x) = \mathrm{Im}\,s(x+i0)/\pi` (0 off the
    bulks and at their edges).

    When two bulks touch at :math:`x = 0` with ``gamma = P(lambda != 0)`` (a double root of
    :math:`h = 1` at :math:`t = 0`, see :func:`rmthess.gmp.edges.find_bulks`), 0 is inside the
    support and the density diverges there like :math:`|x|^{-1/3}`: ``inf`` at ``x = 0``.
    """
    x = np.asarray(x, dtype=float)
    flat = x.ravel()
    out = np.zeros(flat.shape)
    for bulk in bulks:
        inside = np.flatnonzero((flat > bulk.left) & (flat < bulk.right))
        if inside.size:
            t = solve_t_bulk(eq, bulk, flat[inside])
            out[inside] = -t.imag / (np.pi * (t.real**2 + t.imag**2))
    if eq.c0 == 0.0 and any(u.right == 0.0 == v.left for u, v in itertools.pairwise(bulks)):
        out[flat == 0.0] = np.inf
    return out.reshape(x.shape)


def _arg_real(u: np.ndarray) -> np.ndarray:
    """Argument of real u seen from the lower half plane: -pi for u < 0, 0 for u >= 0."""
    return np.where(u < 0, -np.pi, 0.0)


def _im_phi(eq: AtomicEquation, t: np.ndarray) -> np.ndarray:
    r"""Im of the antiderivative :math:`\Phi` of :math:`z'(t)/t`, closed lower half plane
    (GMP-10)."""
    t = np.asarray(t, dtype=np.complex128)
    out = np.empty(t.shape)
    real = t.imag == 0
    if np.any(real):
        tr = t.real[real]
        arg_t = _arg_real(tr)
        arg_d = _arg_real(tr[:, None] - eq.tau)
        out[real] = -arg_t + (eq.probs * (arg_t[:, None] - arg_d)).sum(axis=1) / eq.gamma
    if np.any(~real):
        tc = t[~real]
        logs = -np.log1p(-eq.tau / tc[:, None])            # log t - log(t - tau_k), no cut crossed
        rat = eq.probs * eq.atoms / (tc[:, None] - eq.tau)
        out[~real] = (-np.angle(tc) + (eq.probs * logs.imag).sum(axis=1) / eq.gamma
                      + rat.imag.sum(axis=1))
    return out


class BulkCdf:
    r"""Mass of one bulk below ``x`` in closed form from the boundary values :math:`t(x)` (GMP-10).

    Along the bulk, :math:`\rho\,dx = \mathrm{Im}(s\,dz)/\pi = \mathrm{Im}(z'(t)\,dt/t)/\pi`, and
    :math:`z'(t)/t` has the explicit antiderivative
    :math:`\Phi(t) = -\log t + \gamma^{-1}\sum_k p_k[\log t - \log(t-\tau_k)]
    + \sum_k p_k\lambda_k/(t-\tau_k)`, with logarithms continuous on the closed lower half plane,
    where the path :math:`t(x)` runs. Hence
    :math:`\int_\ell^x\rho = [\mathrm{Im}\,\Phi(t(x)) - \mathrm{Im}\,\Phi(t_\ell)]/\pi`:
    no quadrature, exact up to rounding, also where the density is nearly singular.
    """

    def __init__(self, eq: AtomicEquation, bulk: Bulk):
        self.eq = eq
        self.bulk = bulk
        self._phi_left = float(_im_phi(eq, np.array([bulk.t_left + 0j]))[0])
        phi_right = float(_im_phi(eq, np.array([bulk.t_right + 0j]))[0])
        self.mass = (phi_right - self._phi_left) / np.pi

    def __call__(self, x: np.ndarray) -> np.ndarray:
        b = self.bulk
        x = np.asarray(x, dtype=float)
        flat = x.ravel()
        out = np.where(flat >= b.right, self.mass, 0.0)
        inside = np.flatnonzero((flat > b.left) & (flat < b.right))
        if inside.size:
            t = solve_t_bulk(self.eq, b, flat[inside])
            out[inside] = (_im_phi(self.eq, t) - self._phi_left) / np.pi
        return out.reshape(x.shape)
