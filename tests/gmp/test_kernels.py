"""numba kernels against their plain-numpy twins (same equations, different algorithms)."""

import mpmath
import numpy as np
import pytest

from rmthess.gmp import _kernels as K
from rmthess.gmp.edges import find_bulks
from rmthess.gmp.equation import AtomicEquation
from rmthess.laws import DiscreteLaw

#: bisection to the last bit vs Newton–bisection hybrid: both at a few ulps of the pole spacing
ROOT_RTOL = 1e-12
#: two Newton iterations converged to the same simple root, relative
NEWTON_RTOL = 1e-12

LAWS = [
    (DiscreteLaw([1.0], [1.0]), 0.3),
    (DiscreteLaw([1.0, 5.0], [0.6, 0.4]), 4.0),
    (DiscreteLaw([-2.0, -0.5, 0.0, 1.0, 3.0], [0.2, 0.2, 0.2, 0.2, 0.2]), 0.7),
    (DiscreteLaw(np.linspace(0.5, 3.0, 40), np.full(40, 1 / 40)), 2.0),
]


@pytest.mark.parametrize("law,gamma", LAWS)
def test_edge_roots_twin(law, gamma):
    eq = AtomicEquation.from_law(law, gamma)
    a = K.edge_roots(eq.tau, eq.w)
    b = K.edge_roots_numpy(eq.tau, eq.w)
    scale = np.max(np.abs(eq.tau)) + np.sqrt(eq.w.sum())
    np.testing.assert_allclose(a, b, rtol=0, atol=ROOT_RTOL * scale)


#: boundary value at an interior point (≥ 1/40 of the bulk width from an edge) vs the mpmath root
ORACLE_RTOL = 1e-10


@pytest.mark.parametrize("law,gamma", LAWS)
def test_bulk_continuation_twin(law, gamma, oracle):
    eq = AtomicEquation.from_law(law, gamma)
    for b in find_bulks(eq):
        x = np.linspace(b.left, b.right, 41)[1:-1]
        edges = (b.t_left, b.left, b.d2_left, b.t_right, b.right, b.d2_right)
        t, ok = K.bulk_continuation(x, *edges, *eq.kernel_args)
        assert ok.all()
        if law.size <= 5:          # against the 30-digit oracle (degree <= 6: fast, convergent)
            rho = -t.imag / (np.pi * np.abs(t) ** 2)
            idx = np.arange(0, x.size, 8)
            want = [oracle.density(law.atoms, law.probs, gamma, xi) for xi in x[idx]]
            np.testing.assert_allclose(rho[idx], want, rtol=0, atol=NEWTON_RTOL * max(want))
        t2 = K.bulk_newton_numpy(x, *edges, eq.tau, eq.w, eq.mean)
        good = np.abs(eq.z_of_t(t2) - x) < 1e-12 * (1 + np.abs(x))
        good &= t2.imag < 0        # the twin has no safeguards; compare where it converged
        np.testing.assert_allclose(t[good], t2[good], rtol=NEWTON_RTOL)
        # where the twin did not converge, the mpmath root of the polynomial in s is the reference
        for xi, ti in zip(x[~good], t[~good], strict=True):
            want = oracle.stieltjes(law.atoms, law.probs, gamma, mpmath.mpf(xi))
            assert 1 / ti == pytest.approx(want, rel=ORACLE_RTOL)


@pytest.mark.parametrize("law,gamma", LAWS)
def test_newton_homotopy_twin(law, gamma):
    eq = AtomicEquation.from_law(law, gamma)
    rng = np.random.default_rng(1)
    z = rng.uniform(-5, 10, 50) + 1j * rng.uniform(2, 10, 50)
    t0 = -z + eq.mean
    t, ok = K.newton_homotopy(z, t0, *eq.kernel_args, 4 * eq.scale + 1)
    assert ok.all()
    t2 = K.newton_homotopy_numpy(z, t0, eq.tau, eq.w, eq.mean)
    np.testing.assert_allclose(t, t2, rtol=NEWTON_RTOL)
