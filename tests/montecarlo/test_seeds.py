"""The reserved spawn keys (theory/montecarlo.md, MC-20): fixed values, distinct, out of the reach
of replicate indices, and the ones the simulation and the spectral experiments draw from."""

import numpy as np

from rmthess.montecarlo.seeds import (
    COUPLING_LIMIT_KEY,
    FIXED_V_KEY,
    LIMIT_KEY,
    PREDICTION_KEY,
    RESERVED_KEYS,
    replicate_seed,
)


def test_reserved_keys_are_those_of_the_seeding_scheme():
    # MC-20: the keys define the results; these are the values every stored number was drawn with
    assert (PREDICTION_KEY, LIMIT_KEY, FIXED_V_KEY, COUPLING_LIMIT_KEY) == \
        (2**31 - 1, 2**31 - 2, 2**31 - 3, 2**31 - 4)
    assert RESERVED_KEYS == (PREDICTION_KEY, LIMIT_KEY, FIXED_V_KEY, COUPLING_LIMIT_KEY)
    assert len(set(RESERVED_KEYS)) == 4


def test_replicate_seed_is_the_spawned_child():
    root = np.random.SeedSequence(11, spawn_key=(3,))
    for k in (0, 5, PREDICTION_KEY):
        child = replicate_seed(root, k)
        assert child.entropy == 11 and child.spawn_key == (3, k)
    # for a fresh parent the k-th spawned child is the same stream
    assert np.array_equal(replicate_seed(np.random.SeedSequence(4), 2).generate_state(4),
                          np.random.SeedSequence(4).spawn(3)[2].generate_state(4))


def test_the_simulation_draws_its_limit_from_the_reserved_key(monkeypatch):
    """The limits of the mlp cases get their generator (mlp-ce: a Monte Carlo estimate) from the
    LIMIT_KEY child of the seed."""
    from rmthess.montecarlo import simulation

    used = []
    real = simulation.replicate_seed

    def spy(seed, k):
        used.append(k)
        return real(seed, k)

    monkeypatch.setattr(simulation, "replicate_seed", spy)
    simulation.case_limits("mlp-mse", 1.0, 3, m=3, seed=np.random.SeedSequence(0))
    assert used == [LIMIT_KEY]
