"""Independent high-precision oracle of the separable law (mpmath polynomial roots in e).

The package solves the coupled equations by Newton in t = 1/e in float64. This oracle clears the
denominators of the coupled equations (theory/separable.md, SEP-1) in the variable e itself,

    g(e) = N(e)/P(e),  P = prod_k (1 + γλ_k e),  N = sum_k p_k λ_k prod_{i≠k} (1 + γλ_i e),
    e prod_j (σ_j N − z P) − P sum_j q_j σ_j prod_{i≠j} (σ_i N − z P) = 0,

and takes all roots with mpmath ``polyroots`` at 40 digits. By (SEP-2, SEP-5) at most one root has
Im e > 0: it is the Stieltjes branch (Im z > 0), and at real x the density is Im m/π from it, 0
when no root has Im e > 0. Edges are located by bisection on that criterion.
"""

import mpmath
import numpy as np

ORACLE_DPS = 40


def _mul(a, b):
    out = [mpmath.mpf(0)] * (len(a) + len(b) - 1)
    for i, ai in enumerate(a):
        for j, bj in enumerate(b):
            out[i + j] += ai * bj
    return out


def _add(a, b):
    n = max(len(a), len(b))
    a = list(a) + [0] * (n - len(a))
    b = list(b) + [0] * (n - len(b))
    return [x + y for x, y in zip(a, b, strict=True)]


def _scale(a, c):
    return [c * x for x in a]


def _poly_e(atoms, probs, sig, q, gamma, z):
    """Coefficients (lowest degree first) of the polynomial in e, and (N, P) as polynomials."""
    g = mpmath.mpf(gamma)
    lam = [mpmath.mpf(a) for a in atoms if a != 0]
    p = [mpmath.mpf(b) for a, b in zip(atoms, probs, strict=True) if a != 0]
    P = [mpmath.mpf(1)]
    for lk in lam:
        P = _mul(P, [mpmath.mpf(1), g * lk])
    N = [mpmath.mpf(0)]
    for k in range(len(lam)):
        others = [mpmath.mpf(1)]
        for i in range(len(lam)):
            if i != k:
                others = _mul(others, [mpmath.mpf(1), g * lam[i]])
        N = _add(N, _scale(others, p[k] * lam[k]))
    zz = mpmath.mpc(z)
    lin = [_add(_scale(N, mpmath.mpf(s)), _scale(P, -zz)) for s in sig]   # sigma_j N - z P
    full = [mpmath.mpf(1)]
    for f in lin:
        full = _mul(full, f)
    acc = [mpmath.mpf(0)]
    for j, s in enumerate(sig):
        others = [mpmath.mpf(1)]
        for i, f in enumerate(lin):
            if i != j:
                others = _mul(others, f)
        acc = _add(acc, _scale(others, mpmath.mpf(q[j]) * mpmath.mpf(s)))
    poly = _add(_mul([mpmath.mpf(0), mpmath.mpf(1)], full), _scale(_mul(P, acc), -1))
    while len(poly) > 1 and abs(poly[-1]) == 0:
        poly.pop()
    return poly, N, P


def _polyval(c, x):
    acc = mpmath.mpc(0)
    for v in reversed(c):
        acc = acc * x + v
    return acc


class SeparableOracle:
    """Stieltjes transform, density and edges of the separable law at 40 digits."""

    def __init__(self, atoms, probs, sig, q, gamma):
        self.args = ([float(a) for a in atoms], [float(b) for b in probs],
                     [float(s) for s in sig], [float(v) for v in q], float(gamma))

    def herglotz_e(self, z):
        """The root e with the largest Im e (and its m), at 40 digits."""
        atoms, probs, sig, q, gamma = self.args
        with mpmath.workdps(ORACLE_DPS):
            poly, N, P = _poly_e(atoms, probs, sig, q, gamma, z)
            deg = len(poly) - 1
            roots = mpmath.polyroots(poly[::-1], maxsteps=max(400, 60 * deg),
                                     extraprec=max(100, 12 * deg))
            e = max(roots, key=lambda r: mpmath.im(r))
            g = _polyval(N, e) / _polyval(P, e)
            m = sum(mpmath.mpf(qj) / (mpmath.mpf(s) * g - mpmath.mpc(z))
                    for s, qj in zip(sig, q, strict=True))
            return e, m

    def stieltjes(self, z) -> complex:
        return complex(self.herglotz_e(z)[1])

    def density(self, x: float) -> float:
        with mpmath.workdps(ORACLE_DPS):
            e, m = self.herglotz_e(mpmath.mpf(x))
            if mpmath.im(e) <= mpmath.mpf(10) ** (-ORACLE_DPS + 8) * abs(e):
                return 0.0
            return float(mpmath.im(m) / mpmath.pi)

    def inside(self, x) -> bool:
        with mpmath.workdps(ORACLE_DPS):
            e, _ = self.herglotz_e(mpmath.mpf(x))
            return bool(mpmath.im(e) > mpmath.mpf(10) ** (-ORACLE_DPS + 8) * abs(e))

    def edge(self, inner: float, outer: float, rtol: float = 1e-13) -> float:
        """Bisection between a point inside the support and one outside it."""
        with mpmath.workdps(ORACLE_DPS):
            a, b = mpmath.mpf(inner), mpmath.mpf(outer)
            while abs(a - b) > rtol * max(abs(a), abs(b)):
                c = (a + b) / 2
                if self.inside(c):
                    a = c
                else:
                    b = c
            return float((a + b) / 2)


def composite_rule(panels: int):
    """Composite 32-point Gauss–Legendre nodes and weights on (0, π), ``panels`` equal panels: the
    tests' quadrature of the density in the angle of x = l + (r − l)(1 − cos θ)/2 (smooth at
    square-root edges)."""
    x, w = np.polynomial.legendre.leggauss(32)
    edges = np.linspace(0.0, np.pi, panels + 1)
    half = 0.5 * np.diff(edges)[:, None]
    return ((edges[:-1, None] + half) + half * x).ravel(), (half * w).ravel()
