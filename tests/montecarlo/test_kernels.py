"""Each numba kernel against its numpy twin, and the twins against independent formulas."""

import numpy as np
import pytest

from rmthess.montecarlo import _kernels as K

#: numba and numpy evaluate the same sums in different orders: agreement to a few ulps of the sum
RTOL_TWIN = 1e-12


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def test_sq_weighted_sum(rng):
    g, w = rng.standard_normal((30, 40)), rng.standard_normal((30, 40))
    direct = float(np.sum(g**2 * w))
    assert K.sq_weighted_sum(g, w) == pytest.approx(K.sq_weighted_sum_numpy(g, w), rel=RTOL_TWIN)
    assert K.sq_weighted_sum(g, w) == pytest.approx(direct, rel=RTOL_TWIN)


def test_sq_weighted_struct(rng):
    g, aa, bb, qq = (rng.standard_normal((20, 25)) for _ in range(4))
    d1, o1 = K.sq_weighted_struct(g, aa, bb, qq)
    d2, o2 = K.sq_weighted_struct_numpy(g, aa, bb, qq)
    assert d1 == pytest.approx(d2, rel=RTOL_TWIN) and o1 == pytest.approx(o2, rel=RTOL_TWIN)


def test_stieltjes_rows(rng):
    e = rng.standard_normal((3, 50))
    z = np.array([0.3 + 0.1j, -1 + 2j])
    a, b = K.stieltjes_rows(e, z), K.stieltjes_rows_numpy(e, z)
    np.testing.assert_allclose(a, b, rtol=RTOL_TWIN)
    direct = np.array([[np.mean(1 / (row - zk)) for zk in z] for row in e])
    np.testing.assert_allclose(a, direct, rtol=1e-13)
