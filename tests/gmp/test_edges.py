"""Support edges (GMP-7) against closed forms and an independent mpmath critical-point solver."""

import numpy as np
import pytest

from rmthess.gmp import GeneralizedMarchenkoPastur
from rmthess.gmp.edges import find_bulks
from rmthess.gmp.equation import AtomicEquation
from rmthess.laws import DiscreteLaw, PointMass

#: edges are z at a stationary point: rounding of z only (a few ulps of the spectral scale)
EDGE_RTOL = 1e-13
#: requirement of the design: edges to ~1e-10 against the independent solver
ORACLE_EDGE_RTOL = 1e-10


@pytest.mark.parametrize("gamma", [1e-3, 0.04, 0.5, 0.999, 1.0, 1.001, 3.0, 1e3])
def test_marchenko_pastur_edges(gamma, mp_closed_form):
    _, edges = mp_closed_form
    (a, b), = GeneralizedMarchenkoPastur(PointMass(1.0), gamma).support()
    ea, eb = edges(gamma)
    assert a == pytest.approx(ea, rel=EDGE_RTOL, abs=EDGE_RTOL * eb)
    assert b == pytest.approx(eb, rel=EDGE_RTOL)


@pytest.mark.parametrize("c", [-2.5, 0.5, 3.0])
def test_scaled_marchenko_pastur_edges(c, mp_closed_form):
    _, edges = mp_closed_form
    (a, b), = GeneralizedMarchenkoPastur(PointMass(c), 0.3).support()
    want = sorted(c * np.array(edges(0.3)))
    np.testing.assert_allclose([a, b], want, rtol=EDGE_RTOL)


@pytest.mark.parametrize("atoms,probs,gamma", [
    ([1.0, 5.0], [0.6, 0.4], 0.1),
    ([1.0, 5.0], [0.6, 0.4], 10.0),
    ([-1.0, 2.0], [0.5, 0.5], 0.01),
    ([-1.0, 2.0], [0.5, 0.5], 4.0),
    ([-3.0, -1.0, 0.0, 0.5, 2.0, 6.0], [0.1, 0.2, 0.15, 0.2, 0.2, 0.15], 0.3),
    ([-3.0, -1.0, 0.0, 0.5, 2.0, 6.0], [0.1, 0.2, 0.15, 0.2, 0.2, 0.15], 30.0),
])
def test_edges_against_mpmath(atoms, probs, gamma, oracle):
    bulks = GeneralizedMarchenkoPastur(DiscreteLaw(atoms, probs), gamma).support()
    got = np.array([e for b in bulks for e in b])
    want = np.array(oracle.edges(atoms, probs, gamma))
    assert got.size == want.size
    scale = np.max(np.abs(want))
    np.testing.assert_allclose(got, want, rtol=0, atol=ORACLE_EDGE_RTOL * scale)


def test_number_of_bulks_two_point_law():
    """At large gamma the spectrum follows gamma·lambda and separated atoms give separate bulks;
    at small gamma it concentrates around E lambda in one bulk."""
    law = DiscreteLaw([1.0, 100.0], [0.5, 0.5])
    assert len(GeneralizedMarchenkoPastur(law, 20.0).support()) == 2
    assert len(GeneralizedMarchenkoPastur(law, 0.05).support()) == 1
    assert len(GeneralizedMarchenkoPastur(DiscreteLaw([1.0, 1.2], [0.5, 0.5]), 0.5).support()) == 1


def test_no_bulk_for_zero_weights():
    law = GeneralizedMarchenkoPastur(PointMass(0.0), 2.0)
    assert law.support() == [] and law.atom_at_zero == 1.0
    assert find_bulks(AtomicEquation.from_law(PointMass(0.0), 1.0)) == []


def test_edges_are_critical_points():
    eq = AtomicEquation.from_law(DiscreteLaw([-2.0, 1.0, 3.0], [0.3, 0.3, 0.4]), 0.7)
    for b in find_bulks(eq):
        for t in (b.t_left, b.t_right):
            assert abs(eq.dz_dt(t)) <= 1e-12 * (1 + np.sum(eq.w / (t - eq.tau) ** 2))
