"""Shared fixtures: mpmath precision is reset around every test, hypothesis is bounded."""

import os

import mpmath
import pytest
from hypothesis import HealthCheck, settings

#: the default suite draws the same examples on every run (``derandomize``: CI is reproducible,
#: a failure there is a failure here); the "thorough" profile explores with fresh random examples
#: (``RMTHESS_HYPOTHESIS_PROFILE=thorough``)
settings.register_profile(
    "default",
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", max_examples=400, deadline=None)
settings.load_profile(os.environ.get("RMTHESS_HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _reset_mpmath_precision():
    """No test may leak a global mpmath precision change into another."""
    dps = mpmath.mp.dps
    yield
    mpmath.mp.dps = dps
