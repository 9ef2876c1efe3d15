r"""Closed forms of the GMP law of a weight law with one non-zero atom (Marchenko–Pastur, GMP-4).

For :math:`\nu = p\,\delta_c + (1-p)\,\delta_0` (``c ≠ 0``, ``0 < p ≤ 1``; ``p = 1`` is the point
mass of the plain Marchenko–Pastur law) the equation (GMP-1) is the quadratic

.. math:: \gamma c z s^2 + (z + c(\gamma - p)) s + 1 = 0,                          (GMP-4a)

with discriminant :math:`(z-a)(z-b)`, :math:`\{a, b\} = c(\sqrt\gamma \mp \sqrt p)^2`. The
Herglotz root is :math:`s = (R - B)/(2\gamma c z) = -2/(B + R)` with :math:`B = z + c(\gamma-p)` and
:math:`R = \sqrt{z-a}\sqrt{z-b}` (principal roots: analytic off the segment, :math:`R \sim z`);
of the two equal forms the one without cancellation is used. On the real axis inside the bulk the
density is

.. math:: \rho(x) = \frac{\sqrt{(b-x)(x-a)}}{2\pi\gamma|c|\,|x|}.                   (GMP-4b)

These replace the general solver for such laws (theory/gmp.md, section "Marchenko–Pastur").
"""

from __future__ import annotations

import numpy as np

__all__ = ["mp_density", "mp_stieltjes"]


def mp_density(x: np.ndarray, c: float, gamma: float, left: float, right: float) -> np.ndarray:
    r"""Density (GMP-4b) at real ``x``; exactly 0 outside ``(left, right)``.

    ``left``, ``right`` are the bulk edges :math:`c(\sqrt\gamma \mp \sqrt p)^2` as found by
    :func:`rmthess.gmp.edges.find_bulks`, so that the density vanishes exactly outside the support
    the law reports.
    """
    x = np.asarray(x, dtype=float)
    out = np.zeros(x.shape)
    inside = (x > left) & (x < right)
    xi = x[inside]
    out[inside] = np.sqrt((right - xi) * (xi - left)) / (2.0 * np.pi * gamma * abs(c) * np.abs(xi))
    return out


def mp_stieltjes(z: np.ndarray, c: float, p: float, gamma: float) -> np.ndarray:
    r"""Herglotz root :math:`s(z)` of (GMP-4a) for ``Im z > 0``."""
    z = np.asarray(z, dtype=np.complex128)
    sg, sp = np.sqrt(gamma), np.sqrt(p)
    a, b = c * (sg - sp) ** 2, c * (sg + sp) ** 2
    B = z + c * (gamma - p)
    R = np.sqrt(z - a) * np.sqrt(z - b)
    plus = B + R
    minus = R - B
    big = np.abs(plus) >= np.abs(minus)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(big, -2.0 / plus, minus / (2.0 * gamma * c * z))
