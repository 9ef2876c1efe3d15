"""One-hidden-layer cases with a data covariance Σ (theory/anisotropic.md, ANI-5–ANI-9).

The oracle is a brute Monte Carlo of an actual network at finite d, written here with numpy only:
``x = Σ^{1/2} y`` with Σ diagonal (the atoms of its spectrum in equal shares), ``W = σ_w ε/√d``,
``V = σ_v ε'/√m``, the per-sample weights ``a_ij(u_n)`` of the hidden blocks and ``M(n)`` of the
output blocks built from their definitions (CASE-6, CASE-9), and the block norms from the blocks
themselves: ``(1/d)‖(1/N) Σ_n a_ij(u_n) x_n x_nᵀ‖²_F = (1/(dN²)) aᵀ((XXᵀ)∘(XXᵀ))a`` and, for the
m×m output blocks, the unbiased U-statistic of ``‖E[M_cc' s sᵀ]‖²_F`` (its N → ∞ limit at fixed
W, V). Each replicate draws X, W and V afresh, so the replicate mean estimates the V-averaged ``g``
of the cases; the V-to-V spread is reduced by control variates of V alone whose means are exact
Gaussian (or kurtosis) moments, computed here (CASE-7, CASE-18, CASE-21).

Finite-size allowance. The d → ∞ limits are approached as ``c/d`` (relative): the fluctuations
of ``WΣWᵀ`` around ``s_1 I`` enter at second order, e.g. ``Var (WΣWᵀ)_ii = 2 s_2/d`` gives
``c = 2 s_2/s_1² = 3.0`` for the mlp-MSE output blocks. Measured with this oracle (two-atom spectrum
{0.5, 3}, m = C = 4, γ = 1, 3000–4000 networks per point at d = 50, 100, 200, 400): ``c`` ≈ 1.2 and
2.1 (mlp-MSE hidden g_ii, g_ij), 3.0 (mlp-MSE output), |c| ≤ 1.6 (mlp-CE hidden) and 1.6–4.5, ± 1
(mlp-CE output). The tests add :data:`ALLOW` = 8/d, relative to the limit, to their thresholds.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from rmthess._threads import blas_threads
from rmthess.cases import get_case
from rmthess.gmp.covariance import covariance_from_atoms, powerlaw_spectrum
from rmthess.laws import EmpiricalLaw, PointMass
from tests._mc import monte_carlo, z_threshold

ATOMS = (0.5, 3.0)
TWO_ATOMS = covariance_from_atoms(list(ATOMS), [0.5, 0.5])          # s1 = 1.75, s2 = 4.625
#: relative finite-size allowance times d (module docstring)
ALLOW = 8.0
#: stated false-alarm rate of each Monte Carlo check (Bonferroni over its comparisons)
ALPHA = 1e-3
#: μ₄ = E ε⁴ of the unit-variance uniform law on [−√3, √3]
MU4_UNIFORM = 9.0 / 5.0


def _identities():
    return [PointMass(1.0), covariance_from_atoms([1.0]), EmpiricalLaw(np.ones(7))]


# ----------------------------------------------------------------------------- the oracle
def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _entries(rng, law, shape):
    if law == "gaussian":
        return rng.standard_normal(shape)
    assert law == "uniform", law
    return rng.uniform(-math.sqrt(3.0), math.sqrt(3.0), shape)      # unit variance


def _replicate(rng, loss, spectrum, d, n, m, classes, sigma_v, sigma_w, v_law, w_law, offsets):
    """One network at finite d: ``(hidden_ii, hidden_ij, output_ii, output_ij, z_ii, z_ij)`` —
    the block norms averaged over the blocks, and the control variates of V — followed by the
    output diagonal block of each class. CE logits ``V s + b``, ``b`` = ``offsets`` (or 0)."""
    sig = np.repeat(np.asarray(spectrum, float), d // len(spectrum))
    X = rng.standard_normal((n, d)) * np.sqrt(sig)                  # x = Σ^{1/2} y
    W = sigma_w * _entries(rng, w_law, (m, d)) / math.sqrt(d)
    V = sigma_v * _entries(rng, v_law, (classes, m)) / math.sqrt(m)
    U = X @ W.T
    S = np.maximum(U, 0.0)
    on = (U > 0).astype(float)
    if loss == "ce":
        P = _softmax(S @ V.T + (0.0 if offsets is None else offsets))
        mu = P @ V
        K = np.einsum("nc,ci,cj->nij", P, V, V) - mu[:, :, None] * mu[:, None, :]
        M = P[:, :, None] * np.eye(classes) - P[:, :, None] * P[:, None, :]
        Q0 = (np.eye(classes) - 1.0 / classes) / classes              # M at uniform p
        K0 = V.T @ Q0 @ V
    else:
        K = np.broadcast_to(V.T @ V, (n, m, m))
        M = np.broadcast_to(np.eye(classes), (n, classes, classes))
        K0 = V.T @ V
    A = (K * on[:, :, None] * on[:, None, :]).reshape(n, m * m)      # a_ij(u_n)
    G = (X @ X.T) ** 2
    h = ((G @ A) * A).sum(axis=0).reshape(m, m) / (d * n * n)
    B = np.einsum("ncd,ni,nj->ncdij", M, S, S).reshape(n, classes, classes, m * m)
    tot = B.sum(axis=0)
    o = ((tot ** 2).sum(-1) - (B ** 2).sum((0, -1))) / (n * (n - 1))
    eye, ceye = np.eye(m, dtype=bool), np.eye(classes, dtype=bool)
    return (h[eye].mean(), h[~eye].mean(), o[ceye].mean(), o[~ceye].mean(),
            (K0[eye] ** 2).mean(), (K0[~eye] ** 2).mean(), *o[ceye])


def _control_means(loss, classes, m, sigma_v, v_law):
    """Exact means of the control variates, ``τ = σ_v²/m``, μ₄ the kurtosis of the entries of V:
    mlp-MSE ``E κ_ii² = τ²C(C − 1 + μ₄)``, ``E κ_ij² = τ²C`` (CASE-21); mlp-CE ``κ⁰ = VᵀQ₀V``,
    ``Q₀ = P/C``, ``P = I − 11ᵀ/C``: ``E (κ⁰_ij)² = τ² tr P²/C² = τ²(C − 1)/C²`` and, from
    ``E(εᵀPε)² = (tr P)² + 2 tr P² + (μ₄ − 3) Σ_k P_kk²``,
    ``E (κ⁰_ii)² = τ²[(C² − 1) + (μ₄ − 3)(C − 1)²/C]/C²`` (CASE-18 at μ₄ = 3)."""
    tau = sigma_v ** 2 / m
    mu4 = 3.0 if v_law == "gaussian" else MU4_UNIFORM
    C = classes
    if loss == "ce":
        return (tau ** 2 * ((C * C - 1) + (mu4 - 3.0) * (C - 1) ** 2 / C) / C ** 2,
                tau ** 2 * (C - 1) / C ** 2)
    return tau ** 2 * C * (C - 1 + mu4), tau ** 2 * C


def brute(loss, spectrum, *, d, gamma, m, classes, reps, seed, sigma_v=1.0, sigma_w=1.0,
          v_law="gaussian", w_law="gaussian", offsets=None):
    """Control-variate estimates of the network's g (hidden_ii, hidden_ij, output_ii, output_ij,
    then the output diagonal of each class, plain means), their standard errors (from the
    residuals), and the hidden and output ratios of means with theirs."""
    rng = np.random.default_rng(seed)
    n = int(round(d / gamma))
    with blas_threads():                           # small products: one thread (rmthess._threads)
        rows = np.array([_replicate(rng, loss, spectrum, d, n, m, classes, sigma_v, sigma_w,
                                    v_law, w_law, offsets) for _ in range(reps)])
    ez = _control_means(loss, classes, m, sigma_v, v_law)
    res = np.delete(rows, [4, 5], axis=1)
    for k in (0, 1):                               # hidden blocks: control κ² of V
        z = rows[:, 4 + k] - ez[k]
        res[:, k] -= np.cov(res[:, k], z)[0, 1] / z.var(ddof=1) * z
    mean = res.mean(axis=0)
    se = res.std(axis=0, ddof=1) / math.sqrt(reps)
    ratios = []
    for num, den in ((1, 0), (3, 2)):
        r = mean[num] / mean[den] if mean[den] else math.nan
        ratios.append((r, (res[:, num] - r * res[:, den]).std(ddof=1)
                       / (abs(mean[den]) * math.sqrt(reps))))
    return mean, se, ratios


def _check(est, se, want, want_se, d, z, what):
    """|est − want| within z standard errors (both sources) plus the finite-size allowance."""
    tol = z * math.hypot(se, want_se) + ALLOW / d * abs(want)
    assert abs(est - want) <= tol, (what, est, want, se, want_se, tol)
    return tol


# ----------------------------------------------------------------------------- Σ = I
@pytest.mark.parametrize("gamma,classes,m,sigma_v", [(0.5, 2, 3, 1.0), (2.0, 10, 8, 0.7),
                                                     (1e3, 10 ** 6, 64, 1.3)])
def test_identity_mlp_mse(gamma, classes, m, sigma_v):
    # Σ = I (s1 = s2 = 1) reproduces every isotropic number exactly (ANI-9: the map is exact there)
    case = get_case("mlp-mse")
    ref = case.limits(gamma, classes, m=m, sigma_v=sigma_v)
    ref_mp = case.limits_mp(gamma, classes, m=m, sigma_v=sigma_v, dps=25)
    ref_as = case.asymptote(gamma, classes, m=m, sigma_v=sigma_v)
    V = np.random.default_rng(0).standard_normal((classes, m)) / math.sqrt(m) \
        if classes <= 10 else None
    for H in _identities():
        got = case.limits(gamma, classes, m=m, sigma_v=sigma_v, covariance=H)
        assert got.blocks == ref.blocks and got.covariance == (1.0, 1.0)
        got_mp = case.limits_mp(gamma, classes, m=m, sigma_v=sigma_v, dps=25, covariance=H)
        assert got_mp.blocks == ref_mp.blocks
        assert case.asymptote(gamma, classes, m=m, sigma_v=sigma_v, covariance=H) == ref_as
        if V is not None:
            for which in ("diag", "offdiag"):
                a = case.block_law("hidden", which, gamma, classes, m=m, V=V).moments(3)
                b = case.block_law("hidden", which, gamma, classes, m=m, V=V,
                                   covariance=H).moments(3)
                np.testing.assert_allclose(b, a, rtol=1e-14)


def test_identity_mlp_ce():
    # the estimate at Σ = I with the same seed and budget is the isotropic estimate, bit for bit
    # (C = m = 4, σ_v = 1: the γ-term quadrature is shared with the Monte Carlo test below)
    case = get_case("mlp-ce")
    ref = case.limits(1.0, 4, m=4, rng=5, samples=1024)
    ref_as = case.asymptote(0.7, 30, m=4, sigma_v=0.9)
    V = np.random.default_rng(1).standard_normal((3, 3)) / math.sqrt(3)
    law = case.block_law("hidden", "offdiag", 1.0, 3, m=3, V=V, rng=2, samples=4096).moments(3)
    for H in _identities():
        got = case.limits(1.0, 4, m=4, rng=5, samples=1024, covariance=H)
        assert got.blocks == ref.blocks and got.seed == ref.seed
        assert case.asymptote(0.7, 30, m=4, sigma_v=0.9, covariance=H) == ref_as
        b = case.block_law("hidden", "offdiag", 1.0, 3, m=3, V=V, rng=2, samples=4096,
                           covariance=H).moments(3)
        np.testing.assert_allclose(b, law, rtol=1e-14)


# ----------------------------------------------------------------------------- closed forms
def _mse_closed(gamma, classes, m, sigma_v, mu4, s1, s2, one=1.0):
    """(ANI-2) with the mlp-MSE weights written out: ``Eλ = κ/4, Eλ² = κ²/4`` (i ≠ j), ``κ/2,
    κ²/2`` (i = j), and ``E κ²`` of (CASE-21) — no effective parameters."""
    s4 = (one * sigma_v) ** 4 / m ** 2
    g_ii = s4 * classes * (classes - 1 + mu4) * (s2 / 4 + gamma * s1 ** 2 / 2)
    g_ij = s4 * classes * (s2 / 16 + gamma * s1 ** 2 / 4)
    pi = mpmath.pi if isinstance(one, mpmath.mpf) else math.pi
    out = s1 ** 2 * (one * m / 4 + one * m * (m - 1) / (4 * pi ** 2))
    return g_ii, g_ij, out


@pytest.mark.parametrize("H", [TWO_ATOMS, powerlaw_spectrum(1.2, 30.0),
                               covariance_from_atoms([0.1, 1.0, 7.0], [0.2, 0.5, 0.3])])
@pytest.mark.parametrize("gamma,classes,m,sigma_v,v_law", [
    (1.0, 10, 8, 1.0, None), (0.3, 3, 2, 0.6, "uniform"), (5.0, 1000, 16, 1.4, "rademacher")])
def test_mlp_mse_closed_form(H, gamma, classes, m, sigma_v, v_law):
    # float64 to 1e-14 relative; limits_mp to 30 digits against the same formula in mpmath
    # (with the float64 moments s1, s2 of H, which both routes take as given)
    mu4 = {None: 3.0, "uniform": MU4_UNIFORM, "rademacher": 1.0}[v_law]
    s1, s2 = float(H.moment(1)), float(H.moment(2))
    case = get_case("mlp-mse")
    lim = case.limits(gamma, classes, m=m, sigma_v=sigma_v, covariance=H, v_law=v_law)
    g_ii, g_ij, out = _mse_closed(gamma, classes, m, sigma_v, mu4, s1, s2)
    h, o = lim.blocks["hidden"], lim.blocks["output"]
    assert h.g_ii == pytest.approx(g_ii, rel=1e-14) and h.g_ij == pytest.approx(g_ij, rel=1e-14)
    assert h.ratio == pytest.approx(g_ij / g_ii, rel=1e-14)
    assert o.g_ii == pytest.approx(out, rel=1e-14) and o.g_ij == 0.0 and o.ratio == 0.0
    assert lim.covariance == (s1, s2)
    # C → ∞: C·ratio → (s2/16 + γ s1²/4)/(s2/4 + γ s1²/2)
    lead = (s2 / 16 + gamma * s1 ** 2 / 4) / (s2 / 4 + gamma * s1 ** 2 / 2) / classes
    got = case.asymptote(gamma, classes, m=m, sigma_v=sigma_v, covariance=H, v_law=v_law)
    assert got["hidden"] == pytest.approx(lead, rel=1e-14) and got["output"] == 0.0
    if v_law is None:
        mp = case.limits_mp(gamma, classes, m=m, sigma_v=sigma_v, covariance=H, dps=30)
        with mpmath.workdps(40):
            want = _mse_closed(mpmath.mpf(gamma), classes, m, mpmath.mpf(sigma_v), 3,
                               mpmath.mpf(s1), mpmath.mpf(s2), one=mpmath.mpf(1))
            got = (mp.blocks["hidden"].g_ii, mp.blocks["hidden"].g_ij, mp.blocks["output"].g_ii)
            for a, b in zip(got, want, strict=True):
                assert abs(a / b - 1) < mpmath.mpf(10) ** -28


# ----------------------------------------------------------------------------- Monte Carlo
@monte_carlo(alpha=ALPHA, seed=3)
def check_mlp_mse_monte_carlo(seed):
    # d = N = 200, m = C = 4, two-atom Σ, 800 networks: hidden g_ii, g_ij, ratio and output g_ii
    # (4 comparisons, Student-t with 798 degrees of freedom) within the threshold plus 8/d.
    # Power: the limits of Σ = s1·I (the same s1, the wrong s2: hidden g_ii 15 % lower) lie
    # beyond twice the threshold.
    d, m, classes = 200, 4, 4
    z = z_threshold(ALPHA, dof=798, comparisons=4)
    mean, se, ratios = brute("mse", ATOMS, d=d, gamma=1.0, m=m, classes=classes, reps=800,
                             seed=seed)
    lim = get_case("mlp-mse").limits(1.0, classes, m=m, covariance=TWO_ATOMS).blocks
    h, o = lim["hidden"], lim["output"]
    tol = _check(mean[0], se[0], h.g_ii, 0.0, d, z, "hidden g_ii")
    _check(mean[1], se[1], h.g_ij, 0.0, d, z, "hidden g_ij")
    _check(ratios[0][0], ratios[0][1], h.ratio, 0.0, d, z, "hidden ratio")
    _check(mean[2], se[2], o.g_ii, 0.0, d, z, "output g_ii")
    wrong = get_case("mlp-mse").limits(1.0, classes, m=m, covariance=PointMass(1.75)).blocks
    assert abs(mean[0] - wrong["hidden"].g_ii) > 2 * tol


def test_mlp_mse_monte_carlo():
    check_mlp_mse_monte_carlo(3)


@monte_carlo(alpha=ALPHA, seed=4)
def check_mlp_ce_monte_carlo(seed):
    # d = N = 200, m = C = 4, two-atom Σ, 800 networks against the mlp-ce estimate (rtol 1e-2,
    # its standard errors added in quadrature): hidden and output g_ii, g_ij and ratios (6
    # comparisons, Student-t with 798 degrees of freedom) within the threshold plus 8/d.
    # Power: the isotropic hidden and output g_ii (3x smaller) lie beyond twice the threshold, the
    # output g_ii with the softmax left at σ_v instead of σ_v √s1 (s1² times the isotropic one:
    # 17 % higher, about 7 standard errors beyond the threshold) beyond it.
    d, m, classes = 200, 4, 4
    z = z_threshold(ALPHA, dof=798, comparisons=6)
    mean, se, ratios = brute("ce", ATOMS, d=d, gamma=1.0, m=m, classes=classes, reps=800,
                             seed=seed)
    case = get_case("mlp-ce")
    lim = case.limits(1.0, classes, m=m, covariance=TWO_ATOMS, rng=seed).blocks
    iso = case.limits(1.0, classes, m=m, rng=seed, samples=4096).blocks
    for k, name in enumerate(("hidden", "output")):
        blk = lim[name]
        tol = _check(mean[2 * k], se[2 * k], blk.g_ii, blk.stderr_g_ii, d, z, f"{name} g_ii")
        _check(mean[2 * k + 1], se[2 * k + 1], blk.g_ij, blk.stderr_g_ij, d, z, f"{name} g_ij")
        _check(ratios[k][0], ratios[k][1], blk.ratio, blk.stderr_ratio, d, z, f"{name} ratio")
        assert abs(mean[2 * k] - iso[name].g_ii) > 2 * tol
    assert abs(mean[2] - 1.75 ** 2 * iso["output"].g_ii) > tol


def test_mlp_ce_monte_carlo():
    check_mlp_ce_monte_carlo(4)


def _network_check(loss, spectrum, H, *, d, reps, seed, init=None, z=None, lim_kwargs=None):
    """The brute network against the case's limits on the network's scale: with an
    initialization preset, the theory at ``σ_v^theory = σ_w σ_v`` and the law of V (CASE-24), g
    times ``σ_w^∓4`` (CASE-20), composed with Σ (ANI-9). All g and ratios of both block types."""
    from rmthess.laws.init import network_init

    m, classes = 4, 4
    ini = network_init(init or "lecun-normal", classes=classes, width=m)
    laws = {"w_law": ini.w_law.name, "v_law": ini.v_law.name}
    mean, se, ratios = brute(loss, spectrum, d=d, gamma=1.0, m=m, classes=classes, reps=reps,
                             seed=seed, sigma_v=ini.sigma_v, sigma_w=ini.sigma_w, **laws)
    lim = get_case(f"mlp-{loss}").limits(1.0, classes, m=m, covariance=H, **ini.theory(),
                                         **(lim_kwargs or {})).blocks
    f = ini.norm_factors()
    for k, name in enumerate(("hidden", "output")):
        blk = lim[name]
        for q, col in (("g_ii", 2 * k), ("g_ij", 2 * k + 1)):
            want = getattr(blk, q) * f[name]
            want_se = (getattr(blk, f"stderr_{q}") or 0.0) * f[name]
            if want or mean[col]:
                _check(mean[col], se[col], want, want_se, d, z, f"{name} {q}")
        if blk.ratio:
            _check(ratios[k][0], ratios[k][1], blk.ratio, blk.stderr_ratio or 0.0, d, z,
                   f"{name} ratio")


@monte_carlo(alpha=ALPHA, seed=6)
def check_mlp_mse_init_composition(seed):
    # PyTorch's default initialization (uniform W and V, σ_w² = σ_v² = 1/3) with the two-atom Σ,
    # d = N = 200, 800 networks: the case's limits at the theory's parameters (σ_v = 1/3, uniform
    # V: μ₄ = 9/5 in κ) times σ_w^∓4 — (ANI-9), the maps of Σ and of the hidden scale composed.
    # 4 comparisons (hidden g_ii, g_ij, ratio; output g_ii), Student-t, plus 8/d.
    _network_check("mse", ATOMS, TWO_ATOMS, d=200, reps=800, seed=seed, init="torch-default",
                   z=z_threshold(ALPHA, dof=798, comparisons=4))


def test_mlp_mse_init_composition():
    check_mlp_mse_init_composition(6)


@pytest.mark.slow
def test_mlp_ce_init_composition():
    # as above for mlp-ce: uniform V takes the nested estimator at σ_v^theory = 1/3 (rtol 1e-2);
    # 6 comparisons. About 20 s.
    _network_check("ce", ATOMS, TWO_ATOMS, d=200, reps=1600, seed=7, init="torch-default",
                   z=z_threshold(ALPHA, dof=1598, comparisons=6), lim_kwargs={"rng": 7})


@pytest.mark.slow
@pytest.mark.parametrize("loss", ["mse", "ce"])
def test_powerlaw_spectrum_monte_carlo(loss):
    # a power-law spectrum σ_k ∝ k^(-1/2), k = 1..400 (condition number 20, mean 1), given to the
    # case as the empirical law of these eigenvalues; d = N = 400, 800 networks, lecun-normal;
    # every g and ratio (6 comparisons) within the Student-t threshold plus 8/d. 13–18 s each.
    d = 400
    spectrum = np.arange(1, d + 1) ** -0.5
    spectrum /= spectrum.mean()
    _network_check(loss, spectrum, EmpiricalLaw(spectrum), d=d, reps=800, seed=12,
                   z=z_threshold(ALPHA, dof=798, comparisons=6),
                   lim_kwargs={"rng": 12, "rtol": 5e-3} if loss == "ce" else None)


@monte_carlo(alpha=ALPHA, seed=5)
def check_mlp_ce_prior_monte_carlo(seed):
    # logit offsets b_c = log π_c (Zipf, π_c ∝ 1/c, C = 4) with the two-atom Σ: the offsets are
    # not rescaled (ANI-6). d = N = 200, m = 4, 800 networks against ``class_limits``: hidden and
    # output g_ii, g_ij, ratios and the four per-class output diagonals (10 comparisons,
    # Student-t, plus 8/d). Power: class 1's output diagonal (about 50 % above the class mean)
    # is told apart from the class mean.
    d, m, classes = 200, 4, 4
    z = z_threshold(ALPHA, dof=798, comparisons=10)
    pi = 1.0 / np.arange(1, classes + 1)
    pi /= pi.sum()
    mean, se, ratios = brute("ce", ATOMS, d=d, gamma=1.0, m=m, classes=classes, reps=800,
                             seed=seed, offsets=np.log(pi))
    cl = get_case("mlp-ce").class_limits(1.0, pi, m=m, covariance=TWO_ATOMS, rng=seed)
    lim = cl["limits"].blocks
    assert cl["limits"].covariance == (1.75, 4.625)
    for k, name in enumerate(("hidden", "output")):
        blk = lim[name]
        _check(mean[2 * k], se[2 * k], blk.g_ii, blk.stderr_g_ii, d, z, f"{name} g_ii")
        _check(mean[2 * k + 1], se[2 * k + 1], blk.g_ij, blk.stderr_g_ij, d, z, f"{name} g_ij")
        _check(ratios[k][0], ratios[k][1], blk.ratio, blk.stderr_ratio, d, z, f"{name} ratio")
    tol = [_check(mean[4 + c], se[4 + c], cl["g_ii"][c], cl["stderr_g_ii"][c], d, z,
                  f"output g_ii({c})") for c in range(classes)]
    assert abs(mean[4] - lim["output"].g_ii) > tol[0]


def test_mlp_ce_prior_monte_carlo():
    check_mlp_ce_prior_monte_carlo(5)


# ----------------------------------------------------------------------------- block laws
def _hidden_weights(loss, U, V, i, j):
    """``a_ij(u_n)`` from the definitions (CASE-6, CASE-9)."""
    on = (U[:, i] > 0) & (U[:, j] > 0)
    if loss == "mse":
        return (V[:, i] @ V[:, j]) * on
    P = _softmax(np.maximum(U, 0.0) @ V.T)
    vi, vj = P @ V[:, i], P @ V[:, j]
    return ((P * V[:, i] * V[:, j]).sum(axis=1) - vi * vj) * on


@pytest.mark.parametrize("name,which,ij", [("mlp-mse", "offdiag", (0, 1)),
                                           ("mlp-ce", "diag", (2, 2))])
def test_block_law_moments_monte_carlo(name, which, ij):
    # (ANI-8): at a fixed V the hidden block's law is the separable law of the weights a_ij(u),
    # u ~ N(0, s1 I_m), and H. Its first three moments (SEP-6) against (1/d) tr Bᵏ of the blocks
    # of networks at d = N = 200 (x = Σ^{1/2} y, fresh W and X, 16 replicates), within the
    # Student-t threshold (15 degrees of freedom, 3 comparisons, false alarm 1e-3) plus 8/d
    # relative (module docstring). Power: the third moment of the isotropic law is rejected.
    loss = name.split("-")[1]
    d, reps, classes, m = 200, 16, 3, 4
    rng = np.random.default_rng(8)
    V = rng.standard_normal((classes, m)) / math.sqrt(m)
    case = get_case(name)
    extra = {"rng": 9, "samples": 1 << 18} if loss == "ce" else {}
    idx = ij if which == "offdiag" else (ij[0], (ij[0] + 1) % m)
    law = case.block_law("hidden", which, 1.0, classes, m=m, V=V, indices=idx,
                         covariance=TWO_ATOMS, **extra)
    want = law.moments(3)
    iso = case.block_law("hidden", which, 1.0, classes, m=m, V=V, indices=idx, **extra).moments(3)
    sig = np.repeat(ATOMS, d // 2)
    vals = []
    with blas_threads():
        for _ in range(reps):
            X = rng.standard_normal((d, d)) * np.sqrt(sig)
            W = rng.standard_normal((m, d)) / math.sqrt(d)
            a = _hidden_weights(loss, X @ W.T, V, *ij)
            ev = np.linalg.eigvalsh((X.T * a) @ X / d)
            vals.append([ev.mean(), (ev ** 2).mean(), (ev ** 3).mean()])
    vals = np.array(vals)
    mean, se = vals.mean(0), vals.std(0, ddof=1) / math.sqrt(reps)
    tol = z_threshold(ALPHA, dof=reps - 1, comparisons=3) * se + ALLOW / d * np.abs(want)
    assert np.all(np.abs(mean - want) <= tol), (mean, se, want)
    assert abs(mean[2] - iso[2]) > tol[2]


# ----------------------------------------------------------------------------- refusals
@pytest.mark.parametrize("name", ["mlp-mse", "mlp-ce"])
def test_bad_covariance(name):
    case = get_case(name)
    V = np.ones((3, 4))
    for call in (lambda H: case.limits(1.0, 3, m=4, covariance=H, rng=0, samples=512),
                 lambda H: case.asymptote(1.0, 30, m=4, covariance=H),
                 lambda H: case.block_law("hidden", "diag", 1.0, 3, m=4, V=V, covariance=H)):
        with pytest.raises(ValueError, match="positive"):
            call(PointMass(-1.0))
        with pytest.raises(ValueError, match="positive"):
            call(PointMass(0.0))
        with pytest.raises(ValueError, match="WeightLaw"):
            call([1.0, 2.0])
    # effective parameters out of their domains name them
    with pytest.raises(ValueError, match="effective"):
        case.limits(1.0, 3, m=4, sigma_v=1e40, covariance=PointMass(1e30), rng=0, samples=512)


def test_effective_scale_refusals():
    # the C → ∞ constants need σ_eff²/m < 1/2 with σ_eff = σ_v √s1 (ANI-7): at m = 4, σ_v = 1
    # they exist for Σ = I and not for s1 = 2.5; the message names the effective parameters.
    # mlp-ce has no high-precision route with a covariance either.
    case = get_case("mlp-ce")
    assert case.asymptote(1.0, 30, m=4)["hidden"] > 0
    with pytest.raises(ValueError, match=r"effective.*1/2"):
        case.asymptote(1.0, 30, m=4, covariance=PointMass(2.5))
    with pytest.raises(ValueError, match="high-precision"):
        case.limits_mp(1.0, 3, m=4, covariance=TWO_ATOMS)
