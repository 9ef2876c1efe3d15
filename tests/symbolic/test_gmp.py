"""Symbolic GMP derivations against the free-cumulant recursion, THEORY's m1..m4 and the solver."""

import numpy as np
import pytest
import sympy as sp

from rmthess.gmp import GeneralizedMarchenkoPastur
from rmthess.gmp.moments import free_cumulants, moments_from_cumulants
from rmthess.laws import DiscreteLaw
from rmthess.symbolic.gmp import (
    gmp_moment_polynomials,
    stieltjes_polynomial,
    weight_moment_symbols,
)

#: a float root of a well-conditioned polynomial vs the package solver
ROOT_RTOL = 1e-11

g = sp.Symbol("gamma", positive=True)


def test_series_equals_free_cumulant_formula():
    K = 7
    ell = weight_moment_symbols(K)
    series = gmp_moment_polynomials(K, g, ell)
    cumulant = moments_from_cumulants(free_cumulants(list(ell), g))
    for a, b in zip(series, cumulant, strict=True):
        assert sp.expand(a - b) == 0


def test_theory_m1_to_m4():
    l1, l2, l3, l4 = weight_moment_symbols(4)
    m = gmp_moment_polynomials(4, g, (l1, l2, l3, l4))
    theory = [l1, l1**2 + g * l2, l1**3 + 3 * g * l1 * l2 + g**2 * l3,
              l1**4 + 6 * g * l1**2 * l2 + 2 * g**2 * l2**2 + 4 * g**2 * l1 * l3 + g**3 * l4]
    assert all(sp.expand(a - b) == 0 for a, b in zip(m, theory, strict=True))


def test_numeric_moments_match_symbolic():
    law = DiscreteLaw([-1.0, 0.5, 2.0], [0.25, 0.25, 0.5])
    ell = weight_moment_symbols(6)
    polys = gmp_moment_polynomials(6, g, ell)
    subs = {g: sp.Rational(3, 10)}
    subs.update({ell[k]: sp.Rational(law.moment(k + 1)) for k in range(6)})
    want = [float(p.subs(subs)) for p in polys]
    np.testing.assert_allclose(GeneralizedMarchenkoPastur(law, 0.3).moments(6), want, rtol=4e-16)


def test_marchenko_pastur_polynomial():
    s, z = sp.symbols("s z")
    P = stieltjes_polynomial([1], [1], g, s, z)
    assert sp.expand(P.as_expr() - (g * z * s**2 + (z + g - 1) * s + 1)) == 0


@pytest.mark.parametrize("atoms,probs,gamma", [
    ([1.0, 5.0], [0.6, 0.4], 0.5),
    ([-1.0, 0.0, 2.0], [0.25, 0.25, 0.5], 2.0),
])
def test_polynomial_root_is_the_stieltjes_transform(atoms, probs, gamma):
    s, z = sp.symbols("s z")
    P = stieltjes_polynomial(atoms, probs, gamma, s, z)
    nonzero = sum(a != 0 for a in atoms)
    assert P.degree() == nonzero + 1
    law = GeneralizedMarchenkoPastur(DiscreteLaw(atoms, probs), gamma)
    for zv in (1.5 + 0.5j, -0.3 + 0.01j):
        coeffs = [complex(c.subs(z, sp.nsimplify(zv))) for c in P.all_coeffs()]
        roots = np.roots(coeffs)
        herglotz = roots[np.argmax(roots.imag)]
        assert np.sum(roots.imag > 1e-12) == 1
        np.testing.assert_allclose(law.stieltjes(zv), herglotz, rtol=ROOT_RTOL)


def test_bad_input():
    with pytest.raises(ValueError):
        stieltjes_polynomial([], [], 1)
    with pytest.raises(ValueError):
        gmp_moment_polynomials(-1)
