"""The solver's safety net, executed and checked against the mpmath oracle (conftest).

Newton in t = 1/s is the fast path; behind it stand the near-real root acceptance (GMP-9), the
vertical-path homotopy (GMP-9) and the companion-matrix roots (GMP-8). Each is forced to run here,
by inputs that need it or by handing it a start from which plain Newton fails, and its answer is
compared with the 30-digit Herglotz root of the polynomial in s.
"""

import itertools

import numpy as np
import pytest

from rmthess.gmp import GeneralizedMarchenkoPastur, solver
from rmthess.gmp import _kernels as K
from rmthess.gmp.equation import AtomicEquation
from rmthess.laws import DiscreteLaw

#: float64 root of a well-conditioned equation vs the 30-digit oracle, relative
STIELTJES_RTOL = 1e-11
#: just above the axis next to an edge the root is ill-conditioned: |ds| ~ eps/sqrt(distance),
#: relative 1e-8 at distance 1e-10 of the width (sqrt(eps·scale/distance) with ~10x margin)
NEAR_EDGE_RTOL = 1e-7

LAWS = [
    (DiscreteLaw([1.0, 5.0], [0.6, 0.4]), 10.0),                        # two bulks, a gap
    (DiscreteLaw([-2.0, 0.0, 1.0, 4.0], [0.2, 0.3, 0.3, 0.2]), 3.0),     # signed, atom at 0
    (DiscreteLaw([-3.0, -1.0, 0.5, 2.0, 6.0], [0.1, 0.2, 0.3, 0.2, 0.2]), 40.0),
]


def _gap_points(law):
    bulks = law.support()
    lo, hi = bulks[0][0], bulks[-1][1]
    span = hi - lo
    gaps = [(u[1] + v[0]) / 2 for u, v in itertools.pairwise(bulks)]
    gaps += [u[1] + 1e-6 * span for u in bulks] + [v[0] - 1e-6 * span for v in bulks]
    return np.array(gaps + [lo - 0.3 * span, hi + 0.3 * span])


@pytest.mark.parametrize("weights,gamma", LAWS)
def test_stieltjes_1e_14_above_gaps_and_outside(weights, gamma, oracle):
    """In a gap the roots are nearly real: only the near-real acceptance (Re z'(t) < 0) picks
    the Herglotz one; a reversed sign there makes every point below fail."""
    law = GeneralizedMarchenkoPastur(weights, gamma)
    x = _gap_points(law)
    assert len(law.support()) >= 2
    z = x + 1e-14j
    got = law.stieltjes(z)
    want = np.array([oracle.stieltjes(weights.atoms, weights.probs, gamma, zi) for zi in z])
    np.testing.assert_allclose(got.real, want.real, rtol=STIELTJES_RTOL)
    # Im s = Im z ∫ mu(dx)/|x - z|^2 > 0: tiny, but positive and relatively accurate
    assert np.all(got.imag > 0)
    np.testing.assert_allclose(got.imag, want.imag, rtol=1e-6)


@pytest.mark.parametrize("weights,gamma", LAWS)
def test_stieltjes_1e_14_above_bulks_and_edges(weights, gamma, oracle):
    law = GeneralizedMarchenkoPastur(weights, gamma)
    pts = []
    for a, b in law.support():
        w = b - a
        pts += [a + 0.37 * w, a + 1e-10 * w, b - 1e-10 * w, a - 1e-10 * w, b + 1e-10 * w]
    z = np.array(pts) + 1e-14j
    got = law.stieltjes(z)
    want = np.array([oracle.stieltjes(weights.atoms, weights.probs, gamma, zi) for zi in z])
    assert np.all(np.abs(got - want) <= NEAR_EDGE_RTOL * np.abs(want))


def _physical_eq(weights, gamma):
    return AtomicEquation.from_law(weights, gamma)


@pytest.mark.parametrize("weights,gamma", LAWS)
def test_homotopy_runs_and_is_right(weights, gamma, oracle):
    """Plain Newton from the conjugate of the answer converges to the non-Herglotz root (or
    nowhere); the vertical-path homotopy (GMP-9) must then find the right one."""
    eq = _physical_eq(weights, gamma)
    law = GeneralizedMarchenkoPastur(weights, gamma)
    z = np.array([p + 1j * h for (a, b) in law.support() for p in (a, 0.5 * (a + b), b)
                  for h in (1e-3, 0.3)])
    want = np.array([oracle.stieltjes(weights.atoms, weights.probs, gamma, zi) for zi in z])
    t0 = np.conj(1.0 / want)               # Im t0 > 0: the mirror image of the answer
    args = eq.kernel_args
    plain = np.array([K._newton(t0[i], z[i], *args, 0.0, 0.0, 0.0, eq.w, False, False)[1]
                      for i in range(z.size)])
    need = np.flatnonzero(~plain)         # plain Newton fails: only the homotopy can answer
    assert need.size >= 3
    t, ok = K.newton_homotopy(z[need], t0[need], *args, 4.0 * eq.scale + 1.0)
    assert ok.all()
    np.testing.assert_allclose(1.0 / t, want[need], rtol=STIELTJES_RTOL)


@pytest.mark.parametrize("weights,gamma", LAWS)
def test_companion_fallback_off_axis(weights, gamma, oracle):
    eq = _physical_eq(weights, gamma)
    z = np.array([0.3 + 1e-6j, 2.0 + 0.5j, -1.0 + 1e-3j, 30.0 + 2j])
    for zi in z:
        got = solver.herglotz_root_poly(eq, zi)
        assert got == pytest.approx(oracle.stieltjes(weights.atoms, weights.probs, gamma, zi),
                                    rel=STIELTJES_RTOL)


@pytest.mark.parametrize("weights,gamma", LAWS)
def test_companion_fallback_on_the_axis(weights, gamma, oracle):
    """Inside a bulk exactly one conjugate pair is non-real (GMP-8): the fallback must return the
    member with Im s > 0 (the other one fails the Herglotz test)."""
    eq = _physical_eq(weights, gamma)
    law = GeneralizedMarchenkoPastur(weights, gamma)
    for a, b in law.support():
        for x in np.linspace(a, b, 7)[1:-1]:
            got = solver.herglotz_root_poly(eq, complex(x, 0.0))
            want = oracle.density(weights.atoms, weights.probs, gamma, x)
            assert got.imag / np.pi == pytest.approx(want, rel=1e-9)


def _failing(kernel):
    """Wrap a kernel so that it reports failure everywhere (forces the Python fallbacks)."""
    def wrapped(*args):
        ts, ok = kernel(*args)
        return ts, np.zeros_like(ok)
    return wrapped


@pytest.mark.parametrize("weights,gamma", LAWS)
def test_law_answers_through_the_fallbacks(weights, gamma, oracle, monkeypatch):
    """With both kernels reporting failure, stieltjes goes through the companion roots and pdf
    through the bulk fallback; the answers must still be the oracle's."""
    law = GeneralizedMarchenkoPastur(weights, gamma)
    monkeypatch.setattr(solver, "newton_homotopy", _failing(K.newton_homotopy))
    monkeypatch.setattr(solver, "bulk_continuation", _failing(K.bulk_continuation))
    z = np.array([0.5 + 0.2j, 3.0 + 1e-4j, -1.0 + 2.0j])
    want = np.array([oracle.stieltjes(weights.atoms, weights.probs, gamma, zi) for zi in z])
    np.testing.assert_allclose(law.stieltjes(z), want, rtol=STIELTJES_RTOL)
    x = np.concatenate([np.linspace(a, b, 5)[1:-1] for a, b in law.support()])
    want = np.array([oracle.density(weights.atoms, weights.probs, gamma, xi) for xi in x])
    np.testing.assert_allclose(law.pdf(x), want, rtol=1e-9)


def test_fallback_refuses_a_wrong_root():
    """The companion fallback verifies before returning: at a point off the support on the real
    axis every root is real, so there is no Herglotz root to return."""
    eq = _physical_eq(DiscreteLaw([1.0, 5.0], [0.6, 0.4]), 10.0)
    with pytest.raises(RuntimeError, match="no verified Herglotz root"):
        solver.herglotz_root_poly(eq, complex(-100.0, 0.0))


@pytest.mark.parametrize("delta", [1e-2, 1e-5, 1e-8, -1e-8, -1e-3])
def test_near_critical_gamma(delta, oracle):
    """gamma = P(lambda != 0)(1 - delta): for delta > 0 a bulk edge sits at ~delta² next to 0 and
    the density there is nearly singular; for delta < 0 an atom of mass ~|delta| appears."""
    atoms, probs = [-1.0, 0.0, 2.0], [0.3, 0.2, 0.5]
    weights = DiscreteLaw(atoms, probs)
    gamma = 0.8 * (1.0 - delta)
    law = GeneralizedMarchenkoPastur(weights, gamma)
    assert law.atom_at_zero == pytest.approx(max(0.0, 1 - 0.8 / gamma), rel=1e-12, abs=0)
    assert law.bulk_masses().sum() + law.atom_at_zero == pytest.approx(1.0, abs=1e-12)
    span = law.support()[-1][1] - law.support()[0][0]
    x = np.array([1e-14, 1e-12, 1e-10, 1e-8, 1e-6, -1e-14, -1e-10, -1e-6]) * span
    for a, _ in law.support():
        if a > 0 and a < 1e-3 * span:
            x = np.concatenate([x, a * (1 + np.logspace(-6, 0, 7))])
    got = law.pdf(x)
    want = np.array([oracle.density(atoms, probs, gamma, xi) for xi in x])
    top = max(want.max(), oracle.density(atoms, probs, gamma, 0.37 * span))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9 * top)


def test_bulk_fallback_edge_expansion():
    """Within 1e-12 of the width from an edge the bulk fallback returns the square-root expansion
    t_e - i sqrt(2|x - x_e|/|z''(t_e)|) (GMP-8); it must agree with the continuation kernel (a
    different method on the same computed edge) to the expansion's relative error."""
    eq = _physical_eq(DiscreteLaw([-1.0, 2.0, 5.0], [0.3, 0.3, 0.4]), 2.0)
    from rmthess.gmp.edges import find_bulks
    for bulk in find_bulks(eq):
        w = bulk.right - bulk.left
        for x in (bulk.left + 1e-13 * w, bulk.right - 1e-13 * w):
            got = solver._bulk_fallback(eq, bulk, x)
            ref = solver.solve_t_bulk(eq, bulk, np.array([x]))[0]
            # the correction to the expansion is O(|t - t_e|) relative: |t - t_e| ~ 1e-6 here
            assert got.imag == pytest.approx(ref.imag, rel=1e-4)
            assert got.real == pytest.approx(ref.real, rel=1e-6, abs=1e-6 * abs(ref))
