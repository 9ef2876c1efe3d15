"""The public API under bad and extreme values (hypothesis): every call returns finite numbers or
raises a ``ValueError`` — never another exception, a NaN, an infinity or a warning."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rmthess._validate import as_generator, seed_sequence
from rmthess.cases import get_case
from rmthess.cases.linear_ce import linear_ce_r0
from rmthess.integrals import softmax_mixed_moment, softmax_moments

#: any scalar a user might pass: floats of every size and class, integers, bools, strings, None
ANY = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=1e-320, max_value=1e-250), st.floats(min_value=1e250, max_value=1e308),
    st.integers(min_value=-10**30, max_value=10**30), st.booleans(), st.none(),
    st.text(max_size=4),
    st.complex_numbers(allow_nan=False, allow_infinity=False, max_magnitude=10),
)
POSITIVE = st.one_of(st.floats(min_value=1e-300, max_value=1e300), ANY)


def _finite(x):
    if x is None or isinstance(x, (str, bool)):
        return True
    if isinstance(x, dict):
        return all(_finite(v) for v in x.values())
    if hasattr(x, "__dataclass_fields__"):
        return all(_finite(getattr(x, k)) for k in x.__dataclass_fields__)
    if isinstance(x, (list, tuple)):
        return all(_finite(v) for v in x)
    if isinstance(x, np.ndarray):
        return bool(np.all(np.isfinite(x)))
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return True


def right_or_refused(fn, *args, **kwargs):
    """The result if it is finite, None if refused with ValueError; anything else fails the test."""
    try:
        out = fn(*args, **kwargs)
    except ValueError as exc:
        assert str(exc).strip() and "\n" not in str(exc).strip(), repr(exc)
        return None
    assert _finite(out), f"{fn.__name__}{args}{kwargs} returned a non-finite value: {out!r}"
    return out


@settings(max_examples=60)
@given(classes=ANY, sigma=POSITIVE)
def test_softmax_moments(classes, sigma):
    m = right_or_refused(softmax_moments, classes, sigma)
    if m is not None:
        assert abs(m.M1 * m.classes - 1) <= 1e-12 and 0 < m.mean_a2 <= m.mean_a / 4 * (1 + 1e-12)


@settings(max_examples=40)
@given(k=st.integers(-2, 6), b=st.integers(-2, 4), classes=st.integers(1, 10**7),
       sigma=st.floats(min_value=1e-4, max_value=40))
def test_softmax_mixed_moment(k, b, classes, sigma):
    v = right_or_refused(softmax_mixed_moment, [k], b, classes, sigma)
    if v is not None:
        assert 0 < v <= 1


@settings(max_examples=60)
@given(case=st.sampled_from(["linear-mse", "linear-ce", "mlp-mse"]), gamma=POSITIVE,
       classes=st.one_of(st.integers(-3, 10**12), ANY), m=st.one_of(st.none(), st.integers(-1, 64)),
       sigma=st.one_of(st.floats(min_value=1e-60, max_value=1e60), ANY))
def test_case_limits_and_asymptote(case, gamma, classes, m, sigma):
    c = get_case(case)
    lim = right_or_refused(c.limits, gamma, classes, m=m, sigma_v=sigma)
    if lim is not None:
        for blk in lim.blocks.values():
            assert blk.g_ii > 0 and blk.g_ij >= 0 and blk.ratio >= 0
    right_or_refused(c.asymptote, gamma, classes, m=m, sigma_v=sigma)


@settings(max_examples=20)
@given(dps=ANY)
def test_limits_mp_digits(dps):
    lim = right_or_refused(get_case("linear-mse").limits_mp, 1.0, 3, dps=dps)
    if lim is not None:
        assert not isinstance(dps, (bool, str)) and float(dps).is_integer() and dps >= 1


@settings(max_examples=60)
@given(gamma=POSITIVE, sigma=POSITIVE)
def test_linear_ce_r0(gamma, sigma):
    r = right_or_refused(linear_ce_r0, gamma, sigma)
    if r is not None:
        assert r >= 1.0 - 1e-15      # (1 + γe^{2σ²})/(1 + γe^{σ²}) ≥ 1


@settings(max_examples=60)
@given(seed=st.one_of(ANY, st.lists(st.integers(-3, 2**70), max_size=3)))
def test_seeds(seed):
    ok = seed is None or (isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0) or (
        isinstance(seed, list) and len(seed) > 0 and all(x >= 0 for x in seed))
    for fn in (seed_sequence, as_generator):
        out = right_or_refused(fn, seed)
        assert (out is not None) == ok, (fn.__name__, seed)


@settings(max_examples=30)
@given(d=ANY, gamma=POSITIVE, reps=st.one_of(st.integers(-1, 10**13), ANY))
def test_simulate_refuses_before_work(d, gamma, reps):
    """Invalid or unaffordable parameters are refused (the valid, affordable ones are skipped
    here: they are the Monte Carlo tests' business)."""
    from rmthess._cost import check_cost
    from rmthess._validate import DIM, GAMMA, REPS
    from rmthess.montecarlo import simulate
    from rmthess.montecarlo.simulation import make_spec, simulation_cost

    try:
        spec, _, _ = make_spec("linear-ce", d=d, gamma=gamma, classes=3)
        nbytes, seconds = simulation_cost(spec, REPS.validate(reps))
        check_cost("x", nbytes=nbytes, seconds=seconds / 100)
    except ValueError:
        with pytest.raises(ValueError):
            simulate("linear-ce", d=d, gamma=gamma, classes=3, reps=reps, rng=0)
        return
    assert DIM.validate(d) and GAMMA.validate(gamma)


@pytest.mark.parametrize("scale", [1e150, 1e200, 1e300])
def test_hessian_of_huge_inputs(scale):
    from rmthess.networks.hessian import hessian

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((6, 4)), np.array([0, 1, 2, 0, 1, 2])
    V, W = rng.standard_normal((3, 5)), rng.standard_normal((5, 4))
    right_or_refused(hessian, X * scale, y, V, W)
    right_or_refused(hessian, X * scale, y, rng.standard_normal((3, 4)))
