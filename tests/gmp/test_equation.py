"""The reciprocal form (GMP-3) against the defining map (GMP-2) and the polynomial."""

import numpy as np
import pytest

from rmthess.gmp.equation import AtomicEquation
from rmthess.laws import DiscreteLaw

#: identities between rational expressions evaluated in float64
IDENTITY_RTOL = 1e-13
#: central differences with h = 1e-6: truncation h²|z'''| ~ 1e-12, round-off eps|z|/h ~ 1e-10
#: (measured 3e-10 relative); 30× margin
FD_STEP = 1e-6
FD_RTOL = 1e-8


@pytest.fixture
def eq():
    return AtomicEquation.from_law(DiscreteLaw([-1.5, 0.0, 0.5, 2.0], [0.2, 0.3, 0.25, 0.25]), 0.8)


def test_zero_atoms_dropped(eq):
    assert eq.atoms.tolist() == sorted(eq.atoms.tolist(), key=lambda a: -0.8 * a)
    assert 0.0 not in eq.atoms.tolist()
    assert eq.prob_nonzero == pytest.approx(0.7)
    np.testing.assert_allclose(eq.tau, -0.8 * eq.atoms)


def test_t_form_equals_s_form(eq):
    s = np.array([0.3 + 0.7j, -2 + 0.1j, 5.0 + 0j, -0.2 + 1e-3j])
    np.testing.assert_allclose(eq.z_of_t(1 / s), eq.inverse(s), rtol=IDENTITY_RTOL)


def test_derivatives_by_differences(eq):
    t = np.array([0.7 - 0.4j, -3.0 - 1.0j])
    h = FD_STEP
    np.testing.assert_allclose(eq.dz_dt(t), (eq.z_of_t(t + h) - eq.z_of_t(t - h)) / (2 * h),
                               rtol=FD_RTOL)
    np.testing.assert_allclose(eq.d2z_dt2(t), (eq.dz_dt(t + h) - eq.dz_dt(t - h)) / (2 * h),
                               rtol=FD_RTOL)


def test_polynomial_vanishes_at_solutions(eq):
    s = np.array([0.3 + 0.7j, -2 + 0.1j])
    for si in s:
        z = eq.inverse(si)
        c = eq.polynomial(z)
        assert c.size == eq.atoms.size + 2
        scale = np.sum(np.abs(c) * np.abs(si) ** np.arange(c.size - 1, -1, -1))
        assert abs(np.polyval(c, si)) <= IDENTITY_RTOL * scale
