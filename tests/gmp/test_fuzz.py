"""Fuzz of the real-axis density over random signed atomic laws against the mpmath oracle.

Each case is a random law of 1–5 atoms (signs mixed, magnitudes over three decades, sometimes an
atom at 0) and gamma log-uniform in [1e-3, 1e3], or gamma just below P(lambda != 0) (an edge then
sits next to 0 and the density there is nearly singular). Points: uniform inside every bulk, at
relative distances 1e-9 … 1e-2 of the bulk width from every edge, next to 0, and in the gaps and
outside the support (where the density must be exactly 0). The oracle is the Herglotz root of the
degree-K'+1 polynomial in s, solved by mpmath at 30 digits (conftest), a different variable,
algorithm and precision from the solver's Newton iteration in t.

Reported: the largest error relative to the law's largest density on the points, and the number
of wrong-branch points (density > 0 where the oracle's is 0 or the reverse, or an error above
1e-3 of the largest density, i.e. a different root).
"""

import itertools

import numpy as np
import pytest

from rmthess.gmp import GeneralizedMarchenkoPastur
from rmthess.laws import DiscreteLaw

#: density error relative to the law's largest density on the points. Edge values are rounded to
#: eps·|edge|; at relative distance 1e-9 of a bulk's width from an edge this moves the density by
#: ~eps|edge|/(2 sqrt(1e-9) width) of its scale, ≤ 1e-10 for the bulks the fuzz draws.
FUZZ_RTOL = 1e-9
#: an error this large (relative to the largest density) is another root, not rounding
WRONG_BRANCH_RTOL = 1e-3
EDGE_DISTANCES = np.logspace(-9, -2, 8)


def random_case(rng):
    k = int(rng.integers(1, 6))
    atoms = rng.choice([-1.0, 1.0], k) * 10.0 ** rng.uniform(-1.5, 1.5, k)
    if k > 1 and rng.random() < 0.2:
        atoms[0] = 0.0
    atoms = np.unique(np.round(atoms, 6))
    probs = rng.dirichlet(np.ones(atoms.size))
    law = DiscreteLaw(atoms, probs)
    if rng.random() < 0.15 and law.prob_nonzero > 0:
        gamma = law.prob_nonzero * (1.0 - 10.0 ** rng.uniform(-8, -2))
    else:
        gamma = 10.0 ** rng.uniform(-3, 3)
    return law, gamma


def case_points(law, rng, n_uniform):
    bulks = law.support()
    pts = []
    for a, b in bulks:
        w = b - a
        pts += [rng.uniform(a, b, n_uniform), a + w * EDGE_DISTANCES, b - w * EDGE_DISTANCES]
    lo, hi = bulks[0][0], bulks[-1][1]
    span = hi - lo
    pts.append(np.array([lo - 0.01 * span, hi + 0.01 * span]))
    pts.append([(u[1] + v[0]) / 2 for u, v in itertools.pairwise(bulks)])
    pts.append(np.array([1e-14, 1e-12, 1e-10, 1e-8, -1e-14, -1e-10]) * span)
    return np.concatenate(pts)


def run_fuzz(oracle, n_points, seed):
    """Return (points, max error / max density, wrong-branch count, worst case)."""
    rng = np.random.default_rng(seed)
    done, worst, wrong, worst_case = 0, 0.0, 0, None
    while done < n_points:
        weights, gamma = random_case(rng)
        law = GeneralizedMarchenkoPastur(weights, gamma)
        x = case_points(law, rng, 8)
        got = law.pdf(x)
        want = np.array([oracle.density(weights.atoms, weights.probs, gamma, xi) for xi in x])
        top = want.max()
        err = np.abs(got - want) / top
        wrong += int(np.sum(((got > 0) != (want > 0)) & (err > FUZZ_RTOL))
                     + np.sum(err > WRONG_BRANCH_RTOL))
        if err.max() > worst:
            worst, worst_case = err.max(), (weights, gamma, x[np.argmax(err)])
        done += x.size
    return done, worst, wrong, worst_case


def _report(n, worst, wrong, case):
    print(f"\nGMP density fuzz: {n} points, max error {worst:.2e} of the largest density, "
          f"{wrong} wrong-branch points; worst at {case}")


def test_fuzz_fast(oracle):
    n, worst, wrong, case = run_fuzz(oracle, 300, seed=2024)
    _report(n, worst, wrong, case)
    assert wrong == 0
    assert worst <= FUZZ_RTOL, case


@pytest.mark.slow
def test_fuzz_12000_points(oracle):
    n, worst, wrong, case = run_fuzz(oracle, 12_000, seed=11)
    _report(n, worst, wrong, case)
    assert wrong == 0
    assert worst <= FUZZ_RTOL, case
