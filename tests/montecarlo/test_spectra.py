"""Block spectra, the exact coupling, its rank bound, c(z), and the Lindeberg path."""

import numpy as np
import pytest

from rmthess.montecarlo.spectra import (block_spectrum, coupling, coupling_constant,
                                        empirical_stieltjes, lindeberg_path)

#: agreement of a Monte Carlo mean with c(z): false alarm P(|t_59| > 3.5) ≈ 9e-4 per compared number
#: (60 replicates), ≈ 5e-3 for the six numbers (Re, Im at three z) of one check
Z_MAX = 3.5
Z = np.array([1.0j, 0.3 + 0.5j, -0.4 + 0.6j])


def test_empirical_stieltjes():
    e = np.array([0.0, 1.0, 3.0])
    z = 0.5 + 0.5j
    assert empirical_stieltjes(e, z) == pytest.approx(np.mean(1 / (e - z)), rel=1e-14)
    with pytest.raises(ValueError, match="upper half plane"):
        empirical_stieltjes(e, 0.5 - 0.1j)


def test_block_spectrum_is_the_block():
    e = block_spectrum("linear-ce", d=30, gamma=1.0, classes=3, seed=4)
    assert e.shape == (30,) and np.all(np.diff(e) >= 0)
    # diagonal CE block is positive semi-definite with trace ≈ E a = 1/C − M2 > 0
    assert e[0] > -1e-12
    off = block_spectrum("linear-ce", d=30, gamma=1.0, classes=3, seed=4, which="offdiag")
    assert off[-1] < 1e-12          # −(1/N) Σ p_i p_j x xᵀ is negative semi-definite


@pytest.mark.parametrize("case, m", [("linear-ce", None), ("mlp-ce", 3)])
def test_rank_bound_every_realization(case, m):
    res = coupling(case, d=50, gamma=1.0, classes=3, m=m, z=Z, reps=15, seed=1, literal=False,
                   prediction=False)
    assert res.rank == 2 * (3 if m is None else m)
    assert res.rank_bound_ratio <= 1.0


def test_coupling_matches_c_and_literal_is_noisier():
    res = coupling("linear-ce", d=100, gamma=1.0, classes=3, z=Z, reps=60, seed=2)
    assert np.all(np.abs(res.z_real) < Z_MAX) and np.all(np.abs(res.z_imag) < Z_MAX), res
    assert res.rank_bound_ratio <= 1.0
    # the literal estimator's spread grows like √d, the coupled one's shrinks: ≳ 10× at d = 100
    assert np.all(res.spread_ratio > 5.0)


def test_c_large_z_expansion():
    # c(z) = −E[λ(|y|² − C)]/z² − [2γ E λ²(|y|² − C) + ‖E λ yyᵀ‖²_F − C(Eλ)²]/z³ + O(z⁻⁴) (THEORY §6),
    # evaluated on the same samples y that coupling_constant draws
    C, gamma, M, seed = 3, 1.0, 2**14, 11
    y = np.random.default_rng(seed).standard_normal((M, C))
    e = np.exp(y - y.max(1, keepdims=True))
    p = e / e.sum(1, keepdims=True)
    lam = p[:, 0] * (1 - p[:, 0])
    q = np.sum(y * y, 1) - C
    c2 = -np.mean(lam * q)
    T = (y * lam[:, None]).T @ y / M
    c3 = -(2 * gamma * np.mean(lam**2 * q) + np.sum(T * T) - C * np.mean(lam) ** 2)
    for z in (60j, 60 * np.exp(1j * np.pi / 3)):
        c = coupling_constant("linear-ce", z, gamma=gamma, classes=C, samples=M, seed=seed)
        approx = c2 / z**2 + c3 / z**3
        #: the first neglected term is O(|z|⁻⁴): a fraction ~ 1/|z| of the z⁻³ term
        assert abs(c - approx) < 0.1 * abs(c3 / z**3)


def test_lindeberg_path_endpoint_is_h():
    path = lindeberg_path("linear-ce", d=30, gamma=1.0, classes=3, z=Z, t=(0.0, 0.5, 1.0),
                          reps=1, seed=8)
    e = block_spectrum("linear-ce", d=30, gamma=1.0, classes=3, seed=8)
    np.testing.assert_allclose(path.mean[-1], empirical_stieltjes(e, Z), rtol=1e-12)
    assert path.mean.shape == (3, 3)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        lindeberg_path("linear-ce", d=30, gamma=1.0, classes=3, z=Z, t=(2.0,), reps=1)


def test_coupling_rejects_output_block():
    with pytest.raises(ValueError, match="d×d block"):
        coupling("mlp-ce", d=20, gamma=1.0, classes=3, m=3, z=Z, reps=2, block="output")


@pytest.mark.slow
def test_scaled_difference_flat_in_d():
    for d in (100, 400):
        res = coupling("linear-ce", d=d, gamma=1.0, classes=3, z=Z, reps=100, seed=3,
                       literal=False)
        assert np.all(np.abs(res.z_real) < Z_MAX) and np.all(np.abs(res.z_imag) < Z_MAX)
        assert res.rank_bound_ratio <= 1.0


def test_block_spectrum_returns_the_second_layer_of_its_realization():
    """The returned V is the one the block was built with: the mean eigenvalue of the hidden diagonal
    block, (1/d) tr B, matches the first moment of the per-V law within Monte Carlo error.

    (1/d) tr B = (1/N) Σ λ_n |x_n|²/d with λ_n = κ_00 1(u_n0 > 0), so its relative standard deviation is
    about sqrt(Var λ)/Eλ / sqrt(N) = 1/sqrt(N); we allow 4 of them.
    """
    from rmthess.cases import get_case

    d, gamma, C, m = 400, 0.25, 5, 4
    eigs, V = block_spectrum("mlp-mse", d=d, gamma=gamma, classes=C, m=m, seed=11,
                             return_second=True)
    assert V.shape == (C, m)
    law = get_case("mlp-mse").block_law("hidden", "diag", gamma, C, m=m, V=V)
    n = round(d / gamma)
    assert abs(eigs.mean() / law.moment(1) - 1) <= 4 / np.sqrt(n)
    lin = block_spectrum("linear-ce", d=30, gamma=1.0, classes=3, seed=4, return_second=True)
    assert lin[1] is None
