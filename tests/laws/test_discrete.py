"""DiscreteLaw and PointMass: validation, merging, exact moments, sampling, scaling."""

import math
from fractions import Fraction

import numpy as np
import pytest

from rmthess.laws import DiscreteLaw, PointMass
from tests._mc import monte_carlo, z_threshold


def test_merge_sort_and_drop_zero_probabilities():
    law = DiscreteLaw([2.0, -1.0, 2.0, 7.0], [0.25, 0.5, 0.25, 0.0])
    assert law.atoms.tolist() == [-1.0, 2.0]
    assert law.probs.tolist() == [0.5, 0.5]
    assert law.size == 2


def test_exact_moments_against_fractions():
    atoms, probs = [-1.5, 0.0, 0.25, 3.0], [0.125, 0.375, 0.25, 0.25]
    law = DiscreteLaw(atoms, probs)
    for k in range(0, 9):
        want = sum(Fraction(p) * Fraction(a) ** k for a, p in zip(atoms, probs, strict=True))
        assert law.moment(k) == float(want)
    assert law.prob_nonzero == 0.625
    np.testing.assert_array_equal(law.moments(3), [law.moment(k) for k in (1, 2, 3)])
    assert law.mean == law.moment(1)
    assert law.expect(np.square) == law.moment(2)


def test_point_mass():
    assert PointMass(2.5) == DiscreteLaw([2.5], [1.0])
    assert PointMass(0.0).prob_nonzero == 0.0
    assert repr(PointMass(1.0)) == "PointMass(1.0)"


@pytest.mark.parametrize("atoms,probs,match", [
    ([], [], "empty"),
    ([1.0, np.nan], [0.5, 0.5], "finite"),
    ([1.0, np.inf], [0.5, 0.5], "finite"),
    ([1.0, 2.0], [1.2, -0.2], ">= 0"),
    ([1.0, 2.0], [0.5, np.nan], "finite"),
    ([1.0, 2.0], [0.5, 0.4], "sum to 1"),
    ([1.0, 2.0], [1.0], "shape"),
    ([[1.0, 2.0]], [[0.5, 0.5]], "1-dimensional"),
    (["a"], [1.0], "array"),
])
def test_bad_input(atoms, probs, match):
    with pytest.raises(ValueError, match=match):
        DiscreteLaw(atoms, probs)


def test_bad_moment_order_and_scale():
    law = PointMass(1.0)
    for k in (-1, 1.5, True):
        with pytest.raises(ValueError, match="moment order"):
            law.moment(k)
    with pytest.raises(ValueError, match="scale"):
        law.scaled(math.nan)


#: stated false-alarm rate of the frequency check (binomial count of 20000 draws: normal quantile)
ALPHA = 1e-4


@monte_carlo(alpha=ALPHA, seed=4)
def check_sampling_frequencies(seed):
    law = DiscreteLaw([-1.0, 3.0], [0.3, 0.7])
    x = law.sample(20_000, rng=np.random.default_rng(seed))
    p = np.mean(x == -1.0)
    assert abs(p - 0.3) <= z_threshold(ALPHA) * math.sqrt(0.3 * 0.7 / x.size)


def test_sampling_frequencies():
    check_sampling_frequencies(4)
    law = DiscreteLaw([-1.0, 3.0], [0.3, 0.7])
    np.testing.assert_array_equal(law.sample((2, 3), rng=1), law.sample((2, 3), rng=1))


def test_scaled():
    law = DiscreteLaw([-1.0, 3.0], [0.3, 0.7]).scaled(-2.0)
    assert law.atoms.tolist() == [-6.0, 2.0] and law.probs.tolist() == [0.7, 0.3]
    assert DiscreteLaw([1.0], [1.0]).scaled(0.0) == PointMass(0.0)
