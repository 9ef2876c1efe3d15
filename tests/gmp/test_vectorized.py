"""The numpy path of the GMP solver against the compiled kernels: the same edges and bulk roots.

The two run the same iterations (rmthess/gmp/_vectorized.py) in another form: the oracle of each is
the other, computed by a different program (scalar loops compiled by numba, with the Euler
predictor of the continuation as first guess). The edges are simple roots of h - 1 and the bulk
root is the unique verified root of (GMP-8), so the two agree to the rounding of the K-term sums,
amplified by the conditioning: the tolerance 1e-12 holds on grids and down to 1e-8 of the bulk's
width from an edge (closer, the root's rounding grows like eps·|x_e|/|x - x_e|, and both paths
share the error of the float64 edge, checked against mpmath in test_extremes.py).
"""

import numpy as np
import pytest

from rmthess.gmp import GeneralizedMarchenkoPastur, solver
from rmthess.gmp import _kernels as K
from rmthess.gmp import _vectorized as V
from rmthess.gmp.edges import find_bulks
from rmthess.gmp.equation import AtomicEquation
from rmthess.laws import DiscreteLaw

#: relative agreement of the two paths (rounding of sums in another order; measured ≤ 2e-13)
RTOL = 1e-12


def _laws():
    laws = [
        ([1.0, 5.0], [0.6, 0.4], 0.5),
        ([1.0, 5.0], [0.6, 0.4], 10.0),                                     # two bulks
        ([-1.0, 0.5, 2.0], [0.2, 0.5, 0.3], 0.5),                           # signed weights
        ([-2.0, 0.0, 1.0, 4.0], [0.2, 0.3, 0.3, 0.2], 3.0),                 # atom at 0
        ([-1.0, 0.0, 2.0], [0.3, 0.2, 0.5], 0.8),                           # gamma = P(λ ≠ 0)
        ([-1.0, 0.0, 2.0], [0.3, 0.2, 0.5], 0.8 * (1 - 1e-8)),              # edge near 0
        ([-3.0, -1.0, 0.5, 2.0, 6.0], [0.1, 0.2, 0.3, 0.2, 0.2], 40.0),
    ]
    rng = np.random.default_rng(20261201)
    for k in (7, 30, 120):                                                  # up to many bulks
        atoms = rng.standard_normal(k) * 3.0
        laws.append((atoms.tolist(), rng.dirichlet(np.ones(k)).tolist(),
                     float(10 ** rng.uniform(-3, 3))))
    return laws


LAWS = _laws()


def _eq(atoms, probs, gamma):
    return AtomicEquation.from_law(DiscreteLaw(atoms, probs), gamma, normalize=True)


@pytest.mark.parametrize("atoms,probs,gamma", LAWS)
def test_edges_agree(atoms, probs, gamma):
    eq = _eq(atoms, probs, gamma)
    want = K.edge_roots(eq.tau, eq.w)
    got = V.edge_roots(eq.tau, eq.w)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=0)
    zw, dw = K.edge_values(want, *eq.kernel_args)
    zg, dg = V.edge_values(want, *eq.kernel_args)
    np.testing.assert_allclose(zg, zw, rtol=RTOL, atol=RTOL * eq.scale)  # z(0) = 0 is an edge
    np.testing.assert_allclose(dg, dw, rtol=RTOL, atol=0)


def _points(bulk, n):
    w = bulk.right - bulk.left
    near = np.logspace(-8, -1, 8) * w
    x = np.concatenate([np.linspace(bulk.left, bulk.right, n + 2)[1:-1],
                        bulk.left + near, bulk.right - near])
    return np.unique(x[(x > bulk.left) & (x < bulk.right)])


@pytest.mark.parametrize("atoms,probs,gamma", LAWS)
def test_bulk_roots_agree(atoms, probs, gamma):
    eq = _eq(atoms, probs, gamma)
    bulks = find_bulks(eq)
    for bulk in bulks:
        x = _points(bulk, max(10, 4000 // (eq.tau.size * len(bulks))))
        args = (x, bulk.t_left, bulk.left, bulk.d2_left, bulk.t_right, bulk.right,
                bulk.d2_right, *eq.kernel_args)
        want, ok_want = K.bulk_continuation(*args)
        got, ok = V.bulk_roots(*args)
        assert ok.all() and ok_want.all()
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=0)
        # the density -Im t/(pi |t|^2): relative agreement also where it is small
        np.testing.assert_allclose((1 / got).imag, (1 / want).imag, rtol=RTOL, atol=0)


def test_law_density_agrees_with_the_compiled_path(monkeypatch):
    """The law's pdf through the numpy path and through the compiled kernel (single points, and
    the grid with the size limit set to 0): the same numbers."""
    law = GeneralizedMarchenkoPastur(DiscreteLaw([1.0, 5.0], [0.6, 0.4]), 0.5)
    lo, hi = law.support()[0][0], law.support()[-1][1]
    x = np.linspace(lo, hi, 2000)
    small = law.pdf(x)
    # a few points at a time go to the compiled kernel (BULK_POINTS_MIN)
    np.testing.assert_allclose([law.pdf(xi) for xi in x[::97]], small[::97], rtol=RTOL, atol=0)
    monkeypatch.setattr(solver, "BULK_WORK_MAX", 0)
    np.testing.assert_allclose(small, law.pdf(x), rtol=RTOL, atol=0)


def test_unverified_points_go_to_the_kernel(monkeypatch):
    """Points the numpy path leaves unverified are solved by the compiled continuation: with
    every other point reported failed, the density is unchanged."""
    law = GeneralizedMarchenkoPastur(DiscreteLaw([-1.0, 0.5, 2.0], [0.2, 0.5, 0.3]), 0.5)
    x = np.concatenate([np.linspace(a, b, 301)[1:-1] for a, b in law.support()])
    want = law.pdf(x)
    monkeypatch.setattr(solver, "bulk_roots", _half_failing(V.bulk_roots))
    np.testing.assert_allclose(law.pdf(x), want, rtol=RTOL, atol=0)


def _half_failing(route):
    """``route`` with every other point reported unverified (and its value spoiled)."""
    def half(*args):
        ts, ok = route(*args)
        ok[::2] = False
        ts[::2] = np.nan
        return ts, ok

    return half


def _upper_points(law, n, rng):
    """Points of the upper half plane: over and beside the support, from far (Im z = 10) down to
    1e-12 of the spectrum's scale above the axis, where the homotopy of (GMP-9) is the fallback."""
    lo, hi = law.support()[0][0], law.support()[-1][1]
    width = hi - lo
    x = rng.uniform(lo - 0.5 * width, hi + 0.5 * width, n)
    return x + 1j * width * 10.0 ** rng.uniform(-12, 1, n)


@pytest.mark.parametrize("atoms,probs,gamma", LAWS)
def test_stieltjes_agrees_with_the_compiled_path(atoms, probs, gamma, monkeypatch):
    """Off the axis, the numpy Newton of (GMP-9) and the compiled homotopy give the same
    Herglotz roots (unique for Im z > 0), scalar and grid calls alike."""
    law = GeneralizedMarchenkoPastur(DiscreteLaw(atoms, probs), gamma)
    z = _upper_points(law, 400, np.random.default_rng(5))
    got = law.stieltjes(z)
    assert np.all(got.imag > 0)
    np.testing.assert_allclose([law.stieltjes(zi) for zi in z[::40]], got[::40], rtol=RTOL,
                               atol=0)
    monkeypatch.setattr(solver, "COMPLEX_WORK_MAX", 0)
    np.testing.assert_allclose(got, law.stieltjes(z), rtol=RTOL, atol=0)


def test_complex_points_left_unverified_go_to_the_kernel(monkeypatch):
    """Points the numpy Newton and the numpy homotopy leave unverified are solved by the compiled
    homotopy: with every other point reported failed by each, the transform is unchanged."""
    law = GeneralizedMarchenkoPastur(DiscreteLaw([-1.0, 0.5, 2.0], [0.2, 0.5, 0.3]), 0.5)
    z = _upper_points(law, 300, np.random.default_rng(6))
    want = law.stieltjes(z)
    monkeypatch.setattr(solver, "complex_roots", _half_failing(V.complex_roots))
    monkeypatch.setattr(solver, "complex_homotopy", _half_failing(V.complex_homotopy))
    np.testing.assert_allclose(law.stieltjes(z), want, rtol=RTOL, atol=0)


@pytest.mark.parametrize("atoms,probs,gamma", LAWS)
def test_complex_homotopy_agrees_with_the_kernel(atoms, probs, gamma):
    """The numpy homotopy down the vertical path (run here on every point, not only where plain
    Newton fails) reaches the kernel's root: the Herglotz root is unique for Im z > 0."""
    eq = _eq(atoms, probs, gamma)
    rng = np.random.default_rng(7)
    z = rng.uniform(-2.0, 2.0, 300) * eq.scale + 1j * eq.scale * 10.0 ** rng.uniform(-8, 1, 300)
    height = 4.0 * eq.scale + 1.0
    got, ok = V.complex_homotopy(z, *eq.kernel_args, height)
    want, ok_want = K.newton_homotopy(z, -z + eq.mean, *eq.kernel_args, height)
    assert ok.all() and ok_want.all()
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=0)
