"""Each numba kernel against its numpy twin, and the twins against independent formulas."""

import numpy as np
import pytest

from rmthess.montecarlo import _kernels as K

#: numba and numpy evaluate the same sums in different orders: agreement to a few ulps of the sum
RTOL_TWIN = 1e-12


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def _symmetric(rng, n):
    x = rng.standard_normal((n, n))
    return x + x.T


def test_sq_weighted_sum(rng):
    g, w = rng.standard_normal((30, 40)), rng.standard_normal((30, 40))
    direct = float(np.sum(g**2 * w))
    for upper in (False, True):
        assert K.sq_weighted_sum(g, w, upper) == pytest.approx(
            K.sq_weighted_sum_numpy(g, w, upper), rel=RTOL_TWIN)
    assert K.sq_weighted_sum(g, w, False) == pytest.approx(direct, rel=RTOL_TWIN)


def test_sq_weighted_sum_upper_panels(rng):
    """A symmetric square summed panel by panel from its upper triangle (rows [r0, r1), columns
    from r0 on) gives the sum over the whole square."""
    g, w = _symmetric(rng, 37), _symmetric(rng, 37)
    direct = float(np.sum(g**2 * w))
    for kernel in (K.sq_weighted_sum, K.sq_weighted_sum_numpy):
        panels = sum(kernel(g[r0:r0 + 8, r0:], w[r0:r0 + 8, r0:], True) for r0 in range(0, 37, 8))
        assert panels == pytest.approx(direct, rel=RTOL_TWIN)


def test_sq_weighted_struct(rng):
    g, aa, bb, qq = (rng.standard_normal((20, 25)) for _ in range(4))
    for upper in (False, True):
        d1, o1 = K.sq_weighted_struct(g, aa, bb, qq, upper)
        d2, o2 = K.sq_weighted_struct_numpy(g, aa, bb, qq, upper)
        assert d1 == pytest.approx(d2, rel=RTOL_TWIN) and o1 == pytest.approx(o2, rel=RTOL_TWIN)
    d1, o1 = K.sq_weighted_struct(g, aa, bb, qq, False)
    assert d1 == pytest.approx(float(np.sum(g**2 * aa)), rel=RTOL_TWIN)
    assert o1 == pytest.approx(float(np.sum(g**2 * (bb**2 - qq))), rel=RTOL_TWIN)


def test_sq_weighted_struct_upper_panels(rng):
    g, aa, bb, qq = (_symmetric(rng, 29) for _ in range(4))
    direct = (float(np.sum(g**2 * aa)), float(np.sum(g**2 * (bb**2 - qq))))
    for kernel in (K.sq_weighted_struct, K.sq_weighted_struct_numpy):
        parts = [kernel(*(x[r0:r0 + 5, r0:] for x in (g, aa, bb, qq)), True)
                 for r0 in range(0, 29, 5)]
        assert sum(p[0] for p in parts) == pytest.approx(direct[0], rel=RTOL_TWIN)
        assert sum(p[1] for p in parts) == pytest.approx(direct[1], rel=RTOL_TWIN)


def test_stieltjes_rows(rng):
    e = rng.standard_normal((3, 50))
    z = np.array([0.3 + 0.1j, -1 + 2j])
    a, b = K.stieltjes_rows(e, z), K.stieltjes_rows_numpy(e, z)
    np.testing.assert_allclose(a, b, rtol=RTOL_TWIN)
    direct = np.array([[np.mean(1 / (row - zk)) for zk in z] for row in e])
    np.testing.assert_allclose(a, direct, rtol=1e-13)
