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


#: many atoms: almost every interval between poles is skipped by its lower bound of h (GMP-7)
LARGE_LAWS = [
    (DiscreteLaw(np.random.default_rng(1).standard_normal(250), np.full(250, 1 / 250)), 0.5),
    (DiscreteLaw(np.random.default_rng(2).exponential(size=200), np.full(200, 1 / 200)), 0.05),
]


@pytest.mark.parametrize("law,gamma", LARGE_LAWS)
def test_edge_roots_twin_large(law, gamma):
    """The pruned kernel against the twin, which bisects on every interval between poles."""
    eq = AtomicEquation.from_law(law, gamma, normalize=True)
    skipped = sum(K._interval_lower_bound(i, eq.tau, eq.w) > 1.0 for i in range(eq.tau.size - 1))
    assert skipped > eq.tau.size // 2          # the case the pruning is for
    a = K.edge_roots(eq.tau, eq.w)
    b = K.edge_roots_numpy(eq.tau, eq.w)
    scale = np.max(np.abs(eq.tau)) + np.sqrt(eq.w.sum())
    assert a.size == b.size
    np.testing.assert_allclose(a, b, rtol=0, atol=ROOT_RTOL * scale)


@pytest.mark.parametrize("w0,w1,gap", [(1.0, 1.0, 3.0), (1e-3, 2.0, 0.7), (5.0, 1e-6, 10.0)])
def test_interval_lower_bound_two_poles(w0, w1, gap):
    """With two poles the bound is the exact minimum of h between them (mpmath, 30 digits)."""
    tau = np.array([0.0, gap])
    w = np.array([w0, w1])
    with mpmath.workdps(30):
        def h(t):
            return w0 / t**2 + w1 / (t - gap) ** 2
        tm = mpmath.findroot(lambda t: mpmath.diff(h, t), gap / (1 + (w1 / w0) ** (1 / 3)))
        want = float(h(tm))
    # closed form (w0^{1/3} + w1^{1/3})^3 / g^2: a few roundings of a cube root and a cube
    assert K._interval_lower_bound(0, tau, w) == pytest.approx(want, rel=1e-14)


def test_interval_lower_bound_below_h():
    """With neighbours the bound stays below h on a fine grid of every interval."""
    rng = np.random.default_rng(3)
    tau = np.sort(rng.standard_normal(60))
    w = rng.uniform(0.01, 1.0, 60) * 1e-3
    for i in range(tau.size - 1):
        t = np.linspace(tau[i], tau[i + 1], 2003)[1:-1]
        h = np.sum(w / (t[:, None] - tau) ** 2, axis=1)
        # the bound is a sum of <= 17 positive terms, each a few roundings
        assert K._interval_lower_bound(i, tau, w) <= h.min() * (1 + 1e-13)
