"""Closed forms of the one-atom GMP law (GMP-4a, GMP-4b) against the general solver and mpmath."""

import mpmath
import numpy as np
import pytest

from rmthess.gmp import GeneralizedMarchenkoPastur
from rmthess.gmp.density import density
from rmthess.gmp.marchenko_pastur import mp_stieltjes
from rmthess.gmp.solver import solve_t_complex
from rmthess.laws import DiscreteLaw, PointMass

#: density: both sides are accurate to a few ulps of the edges (GMP-8, GMP-4b), relative to max ρ
DENSITY_RTOL = 1e-13
#: Stieltjes transform: a verified Newton root vs the stable quadratic root, both a few ulps away
#: from the true root except next to an edge (square-root branch point: measured 3e-14)
STIELTJES_RTOL = 1e-12

CASES = [(c, p, g) for c in (1.0, -0.7, 3e-5) for p in (1.0, 0.4) for g in (0.01, 0.4, 1.0, 50.0)]


def _law(c, p):
    return PointMass(c) if p == 1.0 else DiscreteLaw([0.0, c], [1.0 - p, p])


@pytest.mark.parametrize("c,p,gamma", CASES)
def test_closed_forms_against_solver(c, p, gamma):
    law = GeneralizedMarchenkoPastur(_law(c, p), gamma)
    (left, right), = law.support()
    x = np.linspace(left - 0.1 * (right - left), right + 0.1 * (right - left), 801)
    eq = law._eq
    want = law._up(density(eq, law._bulks, law._down(x)), -1, "")
    got = law.pdf(x)
    np.testing.assert_allclose(got, want, rtol=0, atol=DENSITY_RTOL * want.max())
    w = right - left
    z = np.concatenate([x + 1e-3j * w, 3 * x + 1j * w, 1e-6 * w * (np.linspace(-1, 1, 11) + 1j)])
    want = law._up(1.0 / solve_t_complex(eq, law._down(z), law._bulks), -1, "")
    np.testing.assert_allclose(law.stieltjes(z), want, rtol=STIELTJES_RTOL)


def test_stieltjes_against_mpmath():
    """The root of (GMP-4a) with Im s > 0, found by mpmath (30 digits), at points off the axis."""
    c, p, gamma = -0.7, 0.4, 2.0
    z = np.array([0.3 + 0.01j, -2.0 + 0.5j, 1e-7 + 1e-7j, 40.0 + 1e-3j])
    got = mp_stieltjes(z, c, p, gamma)
    with mpmath.workdps(30):
        for zi, si in zip(z, got, strict=True):
            zm = mpmath.mpc(zi.real, zi.imag)
            qa, qb = gamma * c * zm, zm + c * (gamma - p)
            disc = mpmath.sqrt(qb * qb - 4 * qa)
            want = max([(-qb + disc) / (2 * qa), (-qb - disc) / (2 * qa)], key=mpmath.im)
            assert mpmath.im(want) > 0
            assert complex(si) == pytest.approx(complex(want), rel=1e-13)
