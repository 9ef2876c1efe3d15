"""One convention across the public API: ``rng=`` (SPEC 7, ``seed=`` a deprecated alias), scalar in
→ scalar out, one meaning per method name, layers in forward order, loss names in any case.

Oracles: the same call twice (reproducibility), numpy's own ``default_rng`` semantics (a Generator
advances), and the dense Hessian from the keyword form of the same weights.
"""

import warnings

import numpy as np
import pytest

from rmthess.gmp import GeneralizedMarchenkoPastur
from rmthess.laws import DiscreteLaw
from rmthess.montecarlo import simulate

SIM = dict(d=20, gamma=1.0, classes=3, reps=2, predictions=False, limits=False)


def _ratio(res):
    return res.blocks["v"].ratio


def test_simulate_rng_int_reproduces_and_generator_advances():
    once = simulate("linear-ce", rng=4, **SIM)
    assert _ratio(once) == _ratio(simulate("linear-ce", rng=4, **SIM))
    g = np.random.default_rng(4)
    first, second = simulate("linear-ce", rng=g, **SIM), simulate("linear-ce", rng=g, **SIM)
    assert _ratio(first) != _ratio(second)
    again = np.random.default_rng(4)                       # the same stream: the same two results
    assert _ratio(simulate("linear-ce", rng=again, **SIM)) == _ratio(first)
    ss = np.random.SeedSequence([11, 22, 33])               # list entropy
    assert _ratio(simulate("linear-ce", rng=ss, **SIM)) == _ratio(simulate("linear-ce", rng=ss,
                                                                           **SIM))


def test_seed_is_a_deprecated_alias_of_rng():
    with pytest.warns(DeprecationWarning, match="rng="):
        old = simulate("linear-ce", seed=5, **SIM)
    assert _ratio(old) == _ratio(simulate("linear-ce", rng=5, **SIM))
    with pytest.raises(ValueError, match="not both"):
        simulate("linear-ce", rng=5, seed=5, **SIM)


def test_run_verification_takes_rng(monkeypatch):
    from rmthess.verify.runner import run_verification

    from .verify import _fake

    _fake.install(monkeypatch)

    def value(result):
        return result.rows[0].simulation

    a = run_verification("tiny", 3, checks=["fake-mean"])
    assert value(a) == value(run_verification("tiny", rng=3, checks=["fake-mean"]))
    g = np.random.default_rng(3)
    assert value(run_verification("tiny", g, checks=["fake-mean"])) != value(
        run_verification("tiny", g, checks=["fake-mean"]))
    with pytest.warns(DeprecationWarning):
        b = run_verification("tiny", rng=None, seed=3, checks=["fake-mean"])
    assert value(b) == value(a)


def test_sweep_seeds_with_list_entropy_round_trip():
    from rmthess.montecarlo.sweep.grid import cell_seed
    from rmthess.montecarlo.sweep.grid import from_pair as _from_pair
    from rmthess.montecarlo.sweep.grid import seed_pair as _seed_pair

    cell = {"case": "linear-ce", "d": 12, "gamma": 1.0, "classes": 3}
    root = np.random.SeedSequence([3, 7])
    s = cell_seed(root, cell)
    assert s.entropy == [3, 7] and len(s.spawn_key) == 4
    back = _from_pair(_seed_pair(s))
    assert back.entropy == s.entropy and back.spawn_key == s.spawn_key
    assert np.array_equal(back.generate_state(4), s.generate_state(4))
    assert cell_seed(3, cell).entropy == 3                   # a configuration's int seed as before


def test_scalar_in_scalar_out_and_one_meaning_per_name():
    law = GeneralizedMarchenkoPastur(DiscreteLaw([1.0, 3.0], [0.5, 0.5]), 0.5)
    for f in (law.pdf, law.cdf):
        assert type(f(1.0)) is float
        assert f(np.array([1.0, 2.0])).shape == (2,) and f([[1.0]]).shape == (1, 1)
        assert f(1.0) == f(np.array([1.0]))[0]
    assert law.mean == law.weights.mean == 2.0                # both properties
    ev = law.sample_eigenvalues(30, rng=5)
    with pytest.warns(DeprecationWarning, match="sample_eigenvalues"):
        assert np.array_equal(law.sample(30, rng=5), ev)
    assert law.weights.sample(30, rng=5).shape == (30,)       # iid draws of λ


def test_hessian_layers_in_forward_order_and_loss_in_any_case():
    from rmthess import networks

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((12, 4)), rng.integers(0, 3, 12)
    W, V = rng.standard_normal((2, 4)), rng.standard_normal((3, 2))
    ref = networks.hessian(X, y, V=V, W=W)
    np.testing.assert_array_equal(networks.hessian(X, y, W, V), ref)
    np.testing.assert_array_equal(networks.hessian(X, y, W, V, loss="CE"), ref)
    np.testing.assert_array_equal(networks.gauss_newton(X, y, W, V, loss="Ce"),
                                  networks.gauss_newton(X, y, V=V, W=W))
    with pytest.raises(ValueError, match="forward order"):
        networks.hessian(X, y, V, W)                          # the former order, output first
    with pytest.raises(ValueError, match="loss="):
        networks.hessian(X, y, W, V, "mse")
    lin = rng.standard_normal((3, 4))
    np.testing.assert_array_equal(networks.hessian(X, y, lin, loss="MSE"),
                                  networks.hessian(X, y, V=lin, loss="mse"))
    with pytest.raises(ValueError, match="any letter case"):
        networks.hessian(X, y, lin, loss="hinge")


def test_no_warning_on_the_new_names():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        simulate("linear-ce", rng=1, **SIM)
