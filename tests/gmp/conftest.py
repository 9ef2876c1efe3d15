"""Independent high-precision oracles for the GMP tests (mpmath polynomial roots).

They use the polynomial of degree K+1 in s (theory/gmp.md, GMP-3), built and solved in mpmath at
high precision: a different variable, a different algorithm and a different precision from the
package's Newton iteration in t = 1/s.
"""

import mpmath
import numpy as np
import pytest

ORACLE_DPS = 30


def _poly_s(atoms, probs, gamma, z):
    """Coefficients (highest first) of
    P(s) = (zs+1) prod(1+g l s) - s sum p l prod_{j!=k}(1+g l s)."""
    g = mpmath.mpf(gamma)
    lam = [mpmath.mpf(a) for a in atoms]
    p = [mpmath.mpf(q) for q in probs]

    def mul(a, b):
        out = [mpmath.mpf(0)] * (len(a) + len(b) - 1)
        for i, ai in enumerate(a):
            for j, bj in enumerate(b):
                out[i + j] += ai * bj
        return out

    # polynomials stored lowest degree first
    prod = [mpmath.mpf(1)]
    for lk in lam:
        prod = mul(prod, [mpmath.mpf(1), g * lk])
    acc = [mpmath.mpf(0)] * len(prod)
    for k in range(len(lam)):
        others = [mpmath.mpf(1)]
        for j in range(len(lam)):
            if j != k:
                others = mul(others, [mpmath.mpf(1), g * lam[j]])
        for i, c in enumerate(others):
            acc[i] += p[k] * lam[k] * c
    first = mul([mpmath.mpf(1), mpmath.mpc(z)], prod)
    second = [mpmath.mpf(0)] + acc
    n = max(len(first), len(second))
    first += [0] * (n - len(first))
    second += [0] * (n - len(second))
    coeffs = [a - b for a, b in zip(first, second, strict=True)]
    while len(coeffs) > 1 and coeffs[-1] == 0:
        coeffs.pop()
    return coeffs[::-1]


class Oracle:
    """mpmath oracles: Herglotz root, density, edges and the number of non-real roots."""

    @staticmethod
    def roots(atoms, probs, gamma, z):
        with mpmath.workdps(ORACLE_DPS):
            c = _poly_s(atoms, probs, gamma, z)
            if len(c) == 1:
                return []
            return mpmath.polyroots(c, maxsteps=200, extraprec=60)

    @classmethod
    def stieltjes(cls, atoms, probs, gamma, z):
        with mpmath.workdps(ORACLE_DPS):
            r = cls.roots(atoms, probs, gamma, z)
            best = max(r, key=lambda v: mpmath.im(v))
            return complex(best)

    @classmethod
    def density(cls, atoms, probs, gamma, x):
        with mpmath.workdps(ORACLE_DPS):
            r = cls.roots(atoms, probs, gamma, mpmath.mpf(x))
            im = max(mpmath.im(v) for v in r)
            return float(max(im, 0) / mpmath.pi)

    @staticmethod
    def edges(atoms, probs, gamma):
        """Sorted z(s_c) over the real roots s_c of z'(s) = 0, as a polynomial in s (mpmath)."""
        with mpmath.workdps(ORACLE_DPS):
            g = mpmath.mpf(gamma)
            keep = [(mpmath.mpf(a), mpmath.mpf(p))
                    for a, p in zip(atoms, probs, strict=True) if a != 0]
            lam = [a for a, _ in keep]
            p = [q for _, q in keep]
            s = mpmath.mpf(1)

            def zprime_poly():
                # prod (1+g l s)^2 - g s^2 sum_k p_k l_k^2 prod_{j!=k} (1+g l_j s)^2, lowest first
                def mul(a, b):
                    out = [mpmath.mpf(0)] * (len(a) + len(b) - 1)
                    for i, ai in enumerate(a):
                        for j, bj in enumerate(b):
                            out[i + j] += ai * bj
                    return out
                sq = [mul([1, g * lk], [1, g * lk]) for lk in lam]
                prod = [mpmath.mpf(1)]
                for q in sq:
                    prod = mul(prod, q)
                acc = [mpmath.mpf(0)] * (len(prod))
                for k in range(len(lam)):
                    others = [mpmath.mpf(1)]
                    for j in range(len(lam)):
                        if j != k:
                            others = mul(others, sq[j])
                    for i, c in enumerate(others):
                        acc[i + 2] += g * p[k] * lam[k] ** 2 * c
                out = [a - b for a, b in zip(prod, acc, strict=True)]
                while out[-1] == 0:
                    out.pop()
                return out[::-1]

            del s
            roots = mpmath.polyroots(zprime_poly(), maxsteps=200, extraprec=60)
            edges = []
            for r in roots:
                if abs(mpmath.im(r)) <= mpmath.mpf(10) ** (-30) * (1 + abs(r)):
                    sr = mpmath.re(r)
                    z = -1 / sr + sum(pk * lk / (1 + g * lk * sr)
                                      for lk, pk in zip(lam, p, strict=True))
                    edges.append(float(z))
            return sorted(edges)


@pytest.fixture
def oracle():
    return Oracle


@pytest.fixture
def mp_closed_form():
    """Marchenko–Pastur density and edges in closed form (lambda = 1).

    The density is evaluated in mpmath (30 digits) at the float x with the exact edges
    (1 ± sqrt(gamma))², so that points within a few ulps of an edge get the true value, not the
    float64 rounding of the closed form.
    """
    def density(x, gamma):
        x = np.asarray(x, float)
        out = np.zeros(x.shape)
        with mpmath.workdps(ORACLE_DPS):
            g = mpmath.mpf(gamma)
            a, b = (1 - mpmath.sqrt(g)) ** 2, (1 + mpmath.sqrt(g)) ** 2
            for i, xi in np.ndenumerate(x):
                xm = mpmath.mpf(xi)
                if a < xm < b:
                    out[i] = float(mpmath.sqrt((xm - a) * (b - xm)) / (2 * mpmath.pi * g * xm))
        return out

    def edges(gamma):
        return (1 - np.sqrt(gamma)) ** 2, (1 + np.sqrt(gamma)) ** 2

    return density, edges
