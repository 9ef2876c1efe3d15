"""Block spectra, the exact coupling, its rank bound, c(z), and the Lindeberg path."""

import numpy as np
import pytest

from rmthess.montecarlo.spectra import (
    block_spectrum,
    coupling,
    coupling_constant,
    empirical_stieltjes,
    lindeberg_path,
)

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
    # c(z) = −E[λ(|y|² − C)]/z² − [2γ E λ²(|y|² − C) + ‖E λ yyᵀ‖²_F − C(Eλ)²]/z³ + O(z⁻⁴) (THEORY
    # §6), evaluated on the same samples y that coupling_constant draws
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
    """The returned V is the one the block was built with: the mean eigenvalue of the hidden
    diagonal block, (1/d) tr B, matches the first moment of the per-V law within Monte Carlo error.

    (1/d) tr B = (1/N) Σ λ_n |x_n|²/d with λ_n = κ_00 1(u_n0 > 0), so its relative standard
    deviation is about sqrt(Var λ)/Eλ / sqrt(N) = 1/sqrt(N); we allow 4 of them.
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


# --------------------------------------------------------------------------------------------------
# c(z) by quadrature (MC-14 … MC-16) against independent routes

def _softmax(y):
    e = np.exp(y - y.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def _c_from_nodes(lam, w, y, z, gamma):
    """c(z) (MC-13) on nodes (λ_k, ω_k, y_k), with s by fixed-point iteration of
    s = 1/(−z + E[λ/(1 + γλs)]) polished by secant steps — not the package's Newton continuation."""
    def fixed(s):
        return 1.0 / (-z + np.sum(w * lam / (1 + gamma * lam * s)))

    s = -1.0 / z
    for _ in range(200):
        s = fixed(s)
    s0, s1 = s, fixed(s)
    for _ in range(50):
        f0, f1 = fixed(s0) - s0, fixed(s1) - s1
        if f1 == f0 or abs(f1) < 1e-16 * abs(s1):
            break
        s0, s1 = s1, s1 - f1 * (s1 - s0) / (f1 - f0)
    s = s1
    assert s.imag > 0 and abs(fixed(s) - s) < 1e-14 * abs(s)
    sp = 1.0 / (1 / s**2 - gamma * np.sum(w * lam**2 / (1 + gamma * lam * s) ** 2))
    r = y.shape[1]
    den = 1 + gamma * lam * s
    S = -z * np.eye(r) + (y * (w * lam / den)[:, None]).T @ y
    dS = -np.eye(r) - gamma * sp * (y * (w * lam**2 / den**2)[:, None]).T @ y
    return -np.trace(np.linalg.solve(S, dS)) - r * sp / s


def _gauss_hermite_c(C, n, z, gamma, which):
    """Full C-dimensional Gauss–Hermite product rule (no reduction to 1⊥)."""
    x, wt = np.polynomial.hermite_e.hermegauss(n)
    wt = wt / wt.sum()
    y = np.stack([g.ravel() for g in np.meshgrid(*([x] * C), indexing="ij")], axis=1)
    w = np.ones(y.shape[0])
    for g in np.meshgrid(*([wt] * C), indexing="ij"):
        w = w * g.ravel()
    p = _softmax(y)
    lam = p[:, 0] * (1 - p[:, 0]) if which == "diag" else -p[:, 0] * p[:, 1]
    return _c_from_nodes(lam, w, y, z, gamma)


@pytest.mark.parametrize("which", ["diag", "offdiag"])
def test_c_lattice_matches_full_gauss_hermite(which):
    # Two independent deterministic routes at C = 3, γ = 1: the package's 2-D trapezoid lattice on
    # 1⊥ with Newton continuation, and a 3-D Gauss–Hermite product rule on y itself with a
    # fixed-point solver. Gauss–Hermite converges only root-exponentially for this analytic
    # integrand; its own error is estimated from two orders (n = 30, 40) and the tolerance is that
    # estimate plus the lattice's two-resolution estimate, each with a factor 2 of margin.
    C, gamma = 3, 1.0
    for z in (0.3 + 0.5j, -0.4 + 0.6j):
        c, err = coupling_constant("linear-ce", [z], gamma=gamma, classes=C, which=which,
                                   return_error=True)
        gh30 = _gauss_hermite_c(C, 30, z, gamma, which)
        gh40 = _gauss_hermite_c(C, 40, z, gamma, which)
        gh_err = abs(gh40 - gh30)
        assert abs(err[0]) <= 1e-8 * abs(c[0])          # the stated precision target
        assert abs(c[0] - gh40) <= 2 * (gh_err + abs(err[0])) + 1e-12
        assert gh_err < 1e-6 * abs(c[0])                # the oracle is itself sharp


def _old_monte_carlo_c(C, z, gamma, samples, seed):
    """The Monte Carlo route of c(z) (pseudo-random y, GMP law of the empirical weights)."""
    from rmthess.gmp import GeneralizedMarchenkoPastur
    from rmthess.laws import EmpiricalLaw

    y = np.random.default_rng(seed).standard_normal((samples, C))
    p = _softmax(y)
    lam = p[:, 0] * (1 - p[:, 0])
    law = GeneralizedMarchenkoPastur(EmpiricalLaw(lam), gamma)
    s = complex(np.atleast_1d(law.stieltjes([z]))[0])
    sp = complex(np.atleast_1d(law.stieltjes_derivative([z]))[0])
    den = 1 + gamma * lam * s
    S = -z * np.eye(C) + (y * (lam / den)[:, None]).T @ y / samples
    dS = -np.eye(C) - gamma * sp * (y * (lam**2 / den**2)[:, None]).T @ y / samples
    return -np.trace(np.linalg.solve(S, dS)) - C * sp / s


def test_c_lattice_agrees_with_monte_carlo():
    # 6 independent Monte Carlo evaluations (2^14 samples each, GMP law of the empirical weights):
    # the quadrature lies within 4 standard errors of their mean in both parts (false alarm per part
    # ≈ 1e-2 for Student t with 5 d.o.f.; fixed seeds make the test deterministic).
    C, gamma, z = 3, 1.0, 0.3 + 0.5j
    mc = np.array([_old_monte_carlo_c(C, z, gamma, 2**14, seed) for seed in range(6)])
    se = (mc.real.std(ddof=1) + 1j * mc.imag.std(ddof=1)) / np.sqrt(mc.size)
    c = coupling_constant("linear-ce", [z], gamma=gamma, classes=C)[0]
    assert abs(mc.real.mean() - c.real) < 4 * se.real
    assert abs(mc.imag.mean() - c.imag) < 4 * se.imag


def test_c_sobol_route_has_honest_error():
    # C = 10 has no lattice rule: scrambled Sobol' replicates with a standard error. Two independent
    # seeds agree within 4 combined standard errors, and the error is below 1% of |c|.
    kw = dict(gamma=1.0, classes=10, return_error=True)
    a, ea = coupling_constant("linear-ce", [0.3 + 0.5j], seed=1, **kw)
    b, eb = coupling_constant("linear-ce", [0.3 + 0.5j], seed=2, **kw)
    assert abs(a[0].real - b[0].real) < 4 * np.hypot(ea[0].real, eb[0].real)
    assert abs(a[0].imag - b[0].imag) < 4 * np.hypot(ea[0].imag, eb[0].imag)
    assert 0 < abs(ea[0]) < 1e-2 * abs(a[0])


def test_c_mlp_mse_closed_form_matches_sobol_rule():
    # MLP-MSE: the two-atom rule with closed-form orthant moments (MC-15) against the generic
    # scrambled Sobol' rule on the same V (8 rules of 2^14 points; 4 standard errors).
    from rmthess.cases import Params, get_case
    from rmthess.montecarlo import coupling_limit as cl

    model = get_case("mlp-mse")
    V = model.draw(np.random.default_rng(5), 10, 3, 4, 1.0).second
    params = Params(first=np.zeros((4, 1)), second=V)
    z = np.array([0.3 + 0.6j])
    for which, ij in (("diag", (0, 0)), ("offdiag", (0, 1))):
        exact = coupling_constant("mlp-mse", z, gamma=1.0, classes=3, m=4, V=V, which=which)[0]
        vals = np.array([cl._evaluate(cl._sobol_rule(model, params, "hidden", ij, 1.0, 4, 14, k),
                                      z, 1.0)[0] for k in range(8)])
        se = (vals.real.std(ddof=1) + 1j * vals.imag.std(ddof=1)) / np.sqrt(vals.size)
        assert abs(vals.real.mean() - exact.real) < 4 * se.real + 1e-12
        assert abs(vals.imag.mean() - exact.imag) < 4 * se.imag + 1e-12


def test_c_linear_mse_vanishes():
    # λ ≡ 1: S = I/s, so −∂_z log det S = r s'/s and c(z) = 0 exactly (MC-13).
    c = coupling_constant("linear-mse", [0.3 + 0.5j, 2.0 + 0.1j], gamma=0.5, classes=4)
    np.testing.assert_allclose(c, 0.0, atol=1e-13)


def test_c_rejects_bad_input():
    with pytest.raises(ValueError, match="rtol"):
        coupling_constant("linear-ce", [1j], gamma=1.0, classes=3, rtol=0.0)
    with pytest.raises(ValueError, match="pass the output weights"):
        coupling_constant("mlp-ce", [1j], gamma=1.0, classes=3, m=3)
    with pytest.raises(ValueError, match="power of two"):
        coupling_constant("linear-ce", [1j], gamma=1.0, classes=10, samples=1000)
    with pytest.raises(ValueError, match="upper half plane"):
        coupling_constant("linear-ce", [1.0 - 1j], gamma=1.0, classes=3)


def test_c_lattice_error_estimate_is_conservative():
    # The returned error of a loose rtol bounds the distance to a much finer evaluation (MC-16), at
    # a point near the spectrum (Im z = 0.1) where the lattice needs the most refinement.
    for z in (0.2 + 0.1j, 0.3 + 0.5j):
        loose, err = coupling_constant("linear-ce", [z], gamma=1.0, classes=3, rtol=1e-4,
                                       return_error=True)
        fine = coupling_constant("linear-ce", [z], gamma=1.0, classes=3, rtol=1e-12)
        assert abs(loose[0].real - fine[0].real) <= err[0].real + 1e-15
        assert abs(loose[0].imag - fine[0].imag) <= err[0].imag + 1e-15


def test_coupling_z_scores_include_the_constants_error():
    # MLP-CE has no deterministic rule: c(z) comes with a standard error, and the z-scores divide by
    # the simulation's and the constant's errors in quadrature (MC-16).
    res = coupling("mlp-ce", d=40, gamma=1.0, classes=3, m=3, z=Z[:1], reps=4, seed=3,
                   literal=False)
    se, pe = res.stderr[0], res.prediction_error[0]
    assert pe.real > 0 and pe.imag > 0
    want = (res.scaled_difference[0].real - res.prediction[0].real) / np.hypot(se.real, pe.real)
    assert res.z_real[0] == pytest.approx(want, rel=1e-12)
    lin = coupling("linear-ce", d=40, gamma=1.0, classes=3, z=Z[:1], reps=2, seed=3, literal=False)
    assert abs(lin.prediction_error[0]) < 1e-9 * abs(lin.prediction[0])


@pytest.mark.parametrize("bad", [[np.nan, 2.0], [1.0, np.inf], [1 + 1j, 2.0], [], [[[1.0]]]])
def test_empirical_stieltjes_refuses_bad_eigenvalues(bad):
    """Non-finite, complex, empty or 3-D eigenvalues are refused instead of giving NaN."""
    from rmthess.montecarlo.spectra import empirical_stieltjes

    with pytest.raises(ValueError, match="eigenvalues"):
        empirical_stieltjes(bad, 1j)


def test_empirical_stieltjes_closed_form():
    """Two eigenvalues: (1/2)(1/(1 − z) + 1/(3 − z)) exactly."""
    from rmthess.montecarlo.spectra import empirical_stieltjes

    z = 2.0 + 0.5j
    assert empirical_stieltjes([1.0, 3.0], z) == pytest.approx(0.5 * (1 / (1 - z) + 1 / (3 - z)),
                                                               rel=1e-15)
