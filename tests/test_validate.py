"""Tests of the parameter declarations and validation helpers."""

import math

import numpy as np
import pytest
from hypothesis import given

from rmthess import _validate as v


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf, -math.inf, "1", None, True])
def test_gamma_rejects_values_outside_its_domain(bad):
    with pytest.raises(ValueError, match="gamma"):
        v.GAMMA.validate(bad)


@pytest.mark.parametrize("bad", [1, 0, 2.5, math.nan])
def test_classes_must_be_an_integer_at_least_two(bad):
    with pytest.raises(ValueError, match="classes"):
        v.CLASSES.validate(bad)


def test_integer_domain_accepts_integral_floats_and_numpy_scalars():
    assert v.CLASSES.validate(10.0) == 10
    assert isinstance(v.CLASSES.validate(np.int64(7)), int)
    assert v.GAMMA.validate(np.float32(0.5)) == 0.5


def test_describe_names_the_range():
    assert "(0, inf)" in v.GAMMA.describe()
    assert "integer" in v.CLASSES.describe()


@given(v.GAMMA.strategy())
def test_gamma_strategy_stays_inside_the_declared_domain(gamma):
    assert v.GAMMA.validate(gamma) == gamma
    assert 1e-3 * (1 - 1e-12) <= gamma <= 1e3 * (1 + 1e-12)


@given(v.CLASSES.strategy(high=1000))
def test_classes_strategy_stays_inside_the_declared_domain(c):
    assert v.CLASSES.validate(c) == c


def test_upper_half_plane_check():
    z = v.check_upper_half_plane([1 + 1j, 2j])
    assert z.dtype == np.complex128
    with pytest.raises(ValueError, match="upper half plane"):
        v.check_upper_half_plane([1 - 1e-9j])
    with pytest.raises(ValueError, match="upper half plane"):
        v.check_upper_half_plane(1.0)
    assert v.check_upper_half_plane(1.0, closed=True).imag == 0
    with pytest.raises(ValueError, match="finite"):
        v.check_upper_half_plane(complex(math.nan, 1))


def test_finite_array_check():
    with pytest.raises(ValueError, match="empty"):
        v.check_finite_array("atoms", [])
    with pytest.raises(ValueError, match="finite"):
        v.check_finite_array("atoms", [1.0, math.nan])
    with pytest.raises(ValueError, match="2-dimensional"):
        v.check_finite_array("X", [1.0, 2.0], ndim=2)


def test_spawned_seeds_depend_only_on_seed_and_index():
    a = [np.random.default_rng(s).random() for s in v.spawn_seeds(42, 4)]
    b = [np.random.default_rng(s).random() for s in v.spawn_seeds(42, 8)[:4]]
    assert a == b
    assert len(set(a)) == 4


def test_child_seeds_are_pure_functions_of_the_parent():
    """Spawning twice from the same parent object gives the same children (numpy's spawn does
    not)."""
    parent = np.random.SeedSequence(7)
    first = [np.random.default_rng(s).random() for s in v.spawn_seeds(parent, 3)]
    again = [np.random.default_rng(s).random() for s in v.spawn_seeds(parent, 3)]
    assert first == again
    fresh = np.random.SeedSequence(7).spawn(3)
    assert first == [np.random.default_rng(s).random() for s in fresh]
    assert v.child_seed(parent, 2).spawn_key == (2,)
