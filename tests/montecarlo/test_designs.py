"""Designs: the exact coupling changes only the row-space component, and has the decoupled law."""

import numpy as np
import pytest

from rmthess.montecarlo.designs import DESIGNS, get_design


def _setup(seed=0, n=4000, d=6, r=2):
    rng = np.random.default_rng(seed)
    return rng, rng.standard_normal((n, d)), rng.standard_normal((r, d))


def test_sharp_changes_only_row_space():
    rng, X, M = _setup()
    Xs, Xw = get_design("sharp").matrices(X, M, rng)
    assert Xw is X
    Q = np.linalg.qr(M.T)[0]
    P_perp = np.eye(X.shape[1]) - Q @ Q.T
    np.testing.assert_allclose(Xs @ P_perp, X @ P_perp, atol=1e-12)
    # the new row-space coordinates are independent N(0, I): covariance with the old ones ~ 0
    a, b = X @ Q, Xs @ Q
    n = X.shape[0]
    #: sample covariance of independent standard normals: sd 1/sqrt(n); 5 sd
    tol = 5 / np.sqrt(n)
    np.testing.assert_allclose(a.T @ b / n, 0.0, atol=tol)
    np.testing.assert_allclose(b.T @ b / n, np.eye(2), atol=5 * np.sqrt(2) / np.sqrt(n))


def test_lindeberg_endpoints_and_decoupled():
    rng, X, M = _setup(1, n=50)
    Xm, Xw = get_design("lindeberg", t=1.0).matrices(X, M, rng)
    np.testing.assert_array_equal(Xm, X)
    Xm, Xw = get_design("decoupled").matrices(X, M, rng)
    assert Xm is X and Xw.shape == X.shape and not np.allclose(Xw, X)
    Xm, Xw = get_design("coupled").matrices(X, M, rng)
    assert Xm is X and Xw is X


def test_design_errors():
    with pytest.raises(ValueError, match="unknown design"):
        get_design("bootstrap")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        get_design("lindeberg", t=1.5)
    with pytest.raises(ValueError, match="only to the lindeberg"):
        get_design("sharp", t=0.5)
    assert set(DESIGNS) == {"coupled", "decoupled", "sharp", "lindeberg"}
