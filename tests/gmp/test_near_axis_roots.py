"""Roots next to the real axis outside the support, and the companion-matrix root, against mpmath.

Just above the axis in a spectral gap (and left or right of the support) the equation has a real
root with |Im t| at rounding level besides the Herglotz one; the solver must pick the root with
z'(t) < 0 (GMP-9). The companion-matrix fallback must return the root with the largest Im s. The
oracle is the mpmath root of the polynomial in s at 30 digits (tests/gmp/conftest.py).
"""

import mpmath
import numpy as np
import pytest

from rmthess.gmp import GeneralizedMarchenkoPastur
from rmthess.gmp import _kernels as K
from rmthess.gmp.equation import AtomicEquation
from rmthess.gmp.solver import herglotz_root_poly
from rmthess.laws import DiscreteLaw

#: a verified root is a Newton-polished root of a well-conditioned equation away from the edges:
#: a few ulps of relative error (measured ≤ 3e-15), far below the distance between distinct roots
ROOT_RTOL = 1e-12

#: two bulks with a wide gap: support [1.34, 6.59] ∪ [34.0, 147.1]
ATOMS, PROBS, GAMMA = [1.0, 20.0], [0.5, 0.5], 4.0


@pytest.mark.parametrize("eps", [1e-14, 1e-10, 1e-6])
def test_stieltjes_next_to_the_axis_off_the_support(oracle, eps):
    law = GeneralizedMarchenkoPastur(DiscreteLaw(ATOMS, PROBS), GAMMA)
    (a1, b1), (a2, b2) = law.support()
    x = np.array([0.5 * (b1 + a2), b1 + 1e-3 * (a2 - b1), a2 - 1e-3 * (a2 - b1), a1 - 0.5, -3.0,
                  b2 + 10.0])
    z = x + 1j * eps
    got = law.stieltjes(z)
    want = np.array([oracle.stieltjes(ATOMS, PROBS, GAMMA, mpmath.mpc(v.real, v.imag)) for v in z])
    np.testing.assert_allclose(got, want, rtol=ROOT_RTOL)


@pytest.mark.parametrize("eps", [1e-14, 1e-8])
def test_kernel_alone_verifies_the_root_next_to_the_axis(oracle, eps):
    """The compiled Newton/homotopy kernel accepts the right root itself (no polynomial
    fallback)."""
    law = GeneralizedMarchenkoPastur(DiscreteLaw(ATOMS, PROBS), GAMMA)
    (a1, b1), (a2, b2) = law.support()
    eq = AtomicEquation.from_law(DiscreteLaw(ATOMS, PROBS), GAMMA)
    z = np.array([0.5 * (b1 + a2), a1 - 0.5, b2 + 10.0, -3.0]) + 1j * eps
    t, ok = K.newton_homotopy(z, -z + eq.mean, *eq.kernel_args, 4.0 * eq.scale + 1.0)
    assert ok.all()
    want = np.array([oracle.stieltjes(ATOMS, PROBS, GAMMA, mpmath.mpc(v.real, v.imag)) for v in z])
    np.testing.assert_allclose(1 / t, want, rtol=ROOT_RTOL)


@pytest.mark.parametrize("z", [0.5 + 0.5j, 3.0 + 1e-3j, 20.0 + 1e-8j, 60.0 + 2.0j, -1.0 + 0.1j])
def test_companion_matrix_root_is_the_herglotz_root(oracle, z):
    eq = AtomicEquation.from_law(DiscreteLaw(ATOMS, PROBS), GAMMA)
    want = oracle.stieltjes(ATOMS, PROBS, GAMMA, mpmath.mpc(z.real, z.imag))
    assert herglotz_root_poly(eq, z) == pytest.approx(want, rel=ROOT_RTOL)
