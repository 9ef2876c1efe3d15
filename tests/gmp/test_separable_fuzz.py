"""Fuzz of the separable law: random signed weight laws × random covariance spectra.

Each law: 1–4 weight atoms of random sign over two decades (an atom at 0 one time in five),
2–4 covariance atoms over two decades, γ log-uniform in [1e−2, 1e2]. Checked: the bulk masses plus
the atom sum to 1; Im m > 0 at random points of the upper half plane down to Im z = 1e−8 and
there against the 40-digit oracle; the density ≥ 0 and against the oracle at points uniform in the
bulks, 1e−6 … 1e−3 of the width from every edge, in the gaps and outside. A wrong-branch point is
one where the density is positive and the oracle's zero or conversely, or the values disagree.
`pytest tests/gmp/test_separable_fuzz.py -m slow -s` runs 150 laws.
"""

import numpy as np
import pytest

from rmthess.gmp import SeparableMarchenkoPastur
from rmthess.laws import DiscreteLaw
from tests.gmp.separable_oracle import SeparableOracle

#: density error relative to the law's largest density on its points; points 1e−6 of the width
#: from an edge carry the square-root conditioning (relative error ~ eps/1e−6 there)
DENSITY_RTOL = 1e-9
#: Stieltjes values: verified roots, relative error ~ eps × condition (near-axis points 1e−8 above
#: a bulk edge are the worst conditioned)
STIELTJES_RTOL = 1e-8
MASS_ATOL = 1e-10


def _random_law(rng):
    k = int(rng.integers(1, 5))
    a = rng.choice([-1.0, 1.0], k) * 10 ** rng.uniform(-1, 1, k)
    if rng.random() < 0.2:
        a[0] = 0.0
    p = rng.dirichlet(np.ones(k))
    kh = int(rng.integers(2, 5))
    s = 10 ** rng.uniform(-1, 1, kh)
    q = rng.dirichlet(np.ones(kh))
    return a, p, s, q, float(10 ** rng.uniform(-2, 2))


def _points(law, rng):
    pts = []
    bulks = law.support()
    for left, right in bulks:
        w = right - left
        pts += list(rng.uniform(left, right, 2))
        rel = 10 ** rng.uniform(-6, -3)
        pts += [left + rel * w, right - rel * w]
    for (_, r0), (l1, _) in zip(bulks[:-1], bulks[1:], strict=True):
        pts.append(rng.uniform(r0, l1))
    lo, hi = (bulks[0][0], bulks[-1][1]) if bulks else (-1.0, 1.0)   # ν = δ_0: no bulk
    pts += [lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo)]
    return np.array(pts)


def _campaign(seed: int, n_laws: int):
    rng = np.random.default_rng(seed)
    wrong, checked, worst = 0, 0, 0.0
    for _ in range(n_laws):
        a, p, s, q, g = _random_law(rng)
        law = SeparableMarchenkoPastur(DiscreteLaw(a, p), DiscreteLaw(s, q), g)
        oracle = SeparableOracle(a, p, s, q, g)
        assert abs(law.bulk_masses().sum() + law.atom_at_zero - 1.0) <= MASS_ATOL, (a, p, s, q, g)
        x = _points(law, rng)
        got = law.pdf(x)
        want = np.array([oracle.density(v) for v in x])
        assert np.all(got >= 0)
        err = np.abs(got - want) / max(want.max(), 1e-300)   # 0/1e-300 = 0 when both vanish
        worst = max(worst, float(err.max()))
        wrong += int(np.count_nonzero(((got > 0) != (want > 0)) | (err > DENSITY_RTOL)))
        z = rng.normal(size=4) * max(abs(x).max(), 1.0) + 1j * 10 ** rng.uniform(-8, 0, 4)
        m = law.stieltjes(z)
        ref = np.array([oracle.stieltjes(v) for v in z])
        assert np.all(m.imag > 0)
        wrong += int(np.count_nonzero(np.abs(m - ref) > STIELTJES_RTOL * np.abs(ref)))
        checked += x.size + z.size
    return wrong, checked, worst


def test_fuzz_default():
    wrong, checked, worst = _campaign(2024, 5)
    assert wrong == 0, f"{wrong} wrong-branch points of {checked} (largest error {worst:.2g})"


@pytest.mark.slow
def test_fuzz_long():
    wrong, checked, worst = _campaign(7, 150)
    print(f"\nseparable fuzz: {checked} points, largest density error {worst:.2g} of the largest "
          f"density, {wrong} wrong-branch points")
    assert wrong == 0
