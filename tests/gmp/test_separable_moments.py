"""Moments of the separable law (SEP-6) against the S-transform route and against the density.

The oracle is the free multiplicative convolution done the textbook way: moment series
ψ(x) = Σ m_n xⁿ, χ = ψ^{−1} by series reversion, S(x) = χ(x)(1 + x)/x, S_{μ} = S_W S_H, hence
χ_μ = χ_W χ_H (1 + x)/x and ψ_μ = χ_μ^{−1}. It needs nonzero means; as polynomial identities in
γ, Eλ^k and s_j (sympy) the results then hold at Eλ = 0 too. The GMP moments m_n(W) come from
rmthess.symbolic.gmp (a derivation of its own from the functional equation).
"""

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from rmthess.gmp import SeparableMarchenkoPastur
from rmthess.gmp.separable_moments import separable_moments
from rmthess.laws import DiscreteLaw
from rmthess.symbolic.gmp import gmp_moment_polynomials, weight_moment_symbols
from rmthess.symbolic.separable import covariance_moment_symbols, separable_moment_polynomials
from tests.gmp.separable_oracle import composite_rule

#: exact rational evaluation, rounded once
MOMENT_RTOL = 4e-16


def _mul(a, b, n, simplify):
    out = [0] * (n + 1)
    for i, ai in enumerate(a):
        for j, bj in enumerate(b):
            if i + j <= n:
                out[i + j] = out[i + j] + ai * bj
    return [simplify(v) for v in out]


def _compose(f, g, n, simplify):
    """f(g(x)) to order n (g[0] = 0)."""
    out = [0] * (n + 1)
    power = [1] + [0] * n
    for k in range(1, n + 1):
        power = _mul(power, g, n, simplify)
        out = [simplify(o + f[k] * p) for o, p in zip(out, power, strict=True)]
    return out


def _revert(f, n, simplify):
    """Compositional inverse of f = [0, f1, f2, ...] to order n."""
    inv = [0, 1 / f[1]] + [0] * (n - 1)
    for k in range(2, n + 1):
        inv[k] = simplify(-_compose(f, inv, n, simplify)[k] / f[1])
    return inv


def _s_transform_product(mw, mh, n, simplify=lambda v: v):
    """Moments of μ_W ⊠ H from the two moment sequences via S-transforms."""
    chi_w = _revert([0] + list(mw[:n]), n, simplify)
    chi_h = _revert([0] + list(mh[:n]), n, simplify)
    prod = _mul(chi_w, chi_h, n + 1, simplify)           # starts at x²
    over_x = prod[1:] + [0]                               # / x
    chi = [simplify(a + b) for a, b in zip(over_x, [0] + over_x[:-1], strict=True)]  # (1 + x)
    return _revert(chi[:n + 1], n, simplify)[1:]


def test_polynomials_equal_the_s_transform_route():
    n = 4
    g = sp.Symbol("gamma", positive=True)
    ell = weight_moment_symbols(n)
    s = covariance_moment_symbols(n + 1)
    mw = gmp_moment_polynomials(n, g, ell)
    want = _s_transform_product(mw, list(s[:n]), n, simplify=sp.cancel)
    got = separable_moment_polynomials(n, g, ell, s)
    assert all(sp.cancel(a - b) == 0 for a, b in zip(got, want, strict=True))
    # the polynomials hold at mean-zero weights as well (identities in l1)
    assert sp.expand(got[1].subs(ell[0], 0)) == g * ell[1] * s[0] ** 2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exact_rationals_equal_the_s_transform_route_to_order_8(seed):
    rng = np.random.default_rng(seed)
    n = 8
    law = DiscreteLaw(rng.uniform(-1, 2, 3).round(3), [0.25, 0.25, 0.5])
    cov = DiscreteLaw(rng.uniform(0.1, 3, 3).round(3), [0.5, 0.25, 0.25])
    gamma = 0.375                                   # dyadic: the same rational in both routes
    ell = [Fraction(law.moment(k)) for k in range(1, n + 1)]
    s = [Fraction(cov.moment(k)) for k in range(1, n + 2)]
    mw = gmp_moment_polynomials(n, sp.Rational(gamma), [sp.Rational(v) for v in ell])
    want = _s_transform_product([Fraction(str(v)) for v in mw], s[:n], n)
    got = separable_moments(law.moments(n), gamma, cov.moments(n + 1), n)
    np.testing.assert_allclose(got, [float(v) for v in want], rtol=MOMENT_RTOL)


def test_moments_equal_the_density_moments():
    """m_1..m_4 from (SEP-6) against the moments of the verified density (composite quadrature,
    converged to ~1e−13) plus the atom: two independent computations of the same law."""
    law = SeparableMarchenkoPastur(DiscreteLaw([-2.0, 0.0, 1.0], [0.3, 0.2, 0.5]),
                                   DiscreteLaw([1.0, 10.0], [0.8, 0.2]), 1.5)
    th, w = composite_rule(128)
    got = np.zeros(4)
    for left, right in law.support():
        x = left + (right - left) * 0.5 * (1 - np.cos(th))
        dens = 0.5 * (right - left) * np.sin(th) * w * law.pdf(x)
        got += [np.sum(dens * x**k) for k in range(1, 5)]
    np.testing.assert_allclose(got, law.moments(4), rtol=1e-10)
