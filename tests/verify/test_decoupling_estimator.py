"""The Rao–Blackwellized exact coupling of the ``decoupling`` check (VER-9): Woodbury redraws and
the exchangeable control."""

import math

import numpy as np
import pytest

from rmthess.cases import get_case
from rmthess.montecarlo.blocknorms import block_matrix
from rmthess.montecarlo.designs import _row_space_basis
from rmthess.montecarlo.spectra import block_spectrum, coupling
from rmthess.montecarlo.spectra.exact_coupling import _woodbury

#: |mean| ≤ 4.5 standard errors: false-alarm rate ≈ 7e-6 per assertion (means of ≥ 200 replicates)
Z = 4.5
POINTS = np.array([0.3 + 0.4j, -0.1 + 1.5j])


@pytest.mark.parametrize("case, m, which", [("linear-ce", None, (0, 0)),
                                            ("linear-ce", None, (0, 1)), ("mlp-ce", 3, (0, 1))])
def test_woodbury_is_the_difference_of_the_two_resolvent_traces(case, m, which):
    # oracle: eigenvalues of H and of H♯ formed explicitly
    model = get_case(case)
    rng = np.random.default_rng(3)
    d, n, C = 30, 40, 4
    params = model.draw(rng, d, C, m, 1.0)
    X = rng.standard_normal((n, d))
    block = "v" if m is None else "hidden"
    w = model.weights(params, X @ params.first.T)[block]
    H = block_matrix(X, w, *which)
    e, E = np.linalg.eigh(H)
    Q = _row_space_basis(params.first)
    delta = rng.standard_normal((n, Q.shape[1])) - X @ Q
    e_s = np.linalg.eigvalsh(block_matrix(X + delta @ Q.T, w, *which))
    direct = [np.sum(1 / (e - z)) - np.sum(1 / (e_s - z)) for z in POINTS]
    got = _woodbury(e, E, X, Q, np.asarray(w.block(*which)), delta, POINTS)
    np.testing.assert_allclose(got, direct, rtol=1e-9, atol=1e-11)


def test_exchangeable_control_has_mean_zero_and_redraws_estimate_the_same_mean():
    kw = dict(d=24, gamma=1.0, classes=3, z=POINTS[:1], literal=False, prediction=False)
    fast = coupling("linear-ce", reps=400, seed=1, redraws=3, control_weight=0.2, **kw)
    c = fast.controls[:, 0]
    for part in (c.real, c.imag):
        assert abs(part.mean()) <= Z * part.std(ddof=1) / math.sqrt(part.size)
    # the plain estimator (one redraw, two eigendecompositions) on independent replicates
    plain = coupling("linear-ce", reps=400, seed=2, **kw)
    diff = fast.scaled_difference[0] - plain.scaled_difference[0]
    se = np.hypot(fast.stderr[0].real, plain.stderr[0].real), np.hypot(fast.stderr[0].imag,
                                                                       plain.stderr[0].imag)
    assert abs(diff.real) <= Z * se[0] and abs(diff.imag) <= Z * se[1]
    assert fast.replicates.shape == (400, 1) and plain.replicates is None
    assert fast.rank_bound_ratio <= 1.0


def test_coupling_validates_the_new_options():
    kw = dict(d=10, gamma=1.0, classes=3, z=POINTS[:1], reps=2, prediction=False)
    with pytest.raises(ValueError, match="control_weight"):
        coupling("linear-ce", control_weight=0.0, **kw)
    with pytest.raises(ValueError):
        coupling("linear-ce", redraws=0, **kw)


def test_block_spectrum_returns_the_weights_and_first_layer_of_its_realization():
    ev = block_spectrum("mlp-ce", d=20, gamma=1.0, classes=3, m=3, which="offdiag", seed=5)
    ev2, V, lam, W = block_spectrum("mlp-ce", d=20, gamma=1.0, classes=3, m=3, which="offdiag",
                                    seed=5, return_weights=True)
    np.testing.assert_array_equal(ev, ev2)
    assert V.shape == (3, 3) and W.shape == (3, 20) and lam.shape == (20,)
