"""C → ∞ constants K_h, K_o: their 1-D reductions vs independent routes.

* the Gaussian integrals I_n(v) vs direct mpmath quadrature;
* the hidden pieces E h0², E h1², α, T: see test_hidden_terms_quadrature.py (quadrature of their
  definitions);
* E‖A‖², E‖B‖² vs a Monte Carlo over v of ‖M(v)‖²_F built entry by entry;
* a slow check against the finite-C Monte Carlo of the mlp-ce case at large C.
"""

import math

import mpmath
import numpy as np
import pytest

from rmthess.cases import get_case, hidden_constant, output_constant
from rmthess.cases._mlp_ce_constants import _I, hidden_terms, output_terms
from tests._mc import monte_carlo, z_threshold

#: I_n by the closed form + recursion vs mpmath quadrature (a few ulps)
RTOL_I = 1e-13
#: false-alarm rate of each Monte Carlo check under normal theory (two comparisons each; ≥ 3·10⁵
#: draws, or a ratio of 64 V draws in the slow test)
ALPHA = 1e-5
K_SIGMA = z_threshold(ALPHA, comparisons=2)


@pytest.mark.parametrize("v", [-6.0, -1.0, 0.0, 0.3, 2.0, 5.0])
@pytest.mark.parametrize("rho", [1.125, 1 + 2 / 3])
def test_gaussian_integrals(v, rho):
    got = _I(np.float64(v), rho)
    with mpmath.workdps(30):
        for n in range(3):
            ref = mpmath.quad(lambda u, n=n: u ** n * mpmath.exp(v * u - rho * u * u / 2),
                              [0, 1, mpmath.inf]) / mpmath.sqrt(2 * mpmath.pi)
            # I_1 for very negative v loses ~v² ulps to cancellation (v I_0 ≈ −1/√(2π))
            tol = RTOL_I * (1 + v * v) * (10 if n else 1)
            assert abs(got[n] / float(ref) - 1) <= tol, n


@monte_carlo(alpha=ALPHA, seed=11)
def check_output_norms(seed):
    m, n = 6, 300_000
    tau = 1 / m
    rng = np.random.default_rng(seed)
    for (rho, var), ref in zip(((1 + tau, tau), (1 + 2 * tau, 2 * tau)), output_terms(m),
                               strict=True):
        v = math.sqrt(var) * rng.standard_normal((n, m))
        I0, I1, I2 = _I(v, rho)
        g0 = 0.5 + I0
        M2 = np.zeros(n)
        for k in range(m):
            others = np.prod(np.delete(g0, k, axis=1) ** 2, axis=1)
            M2 += others * I2[:, k] ** 2
            for k2 in range(m):
                if k2 != k:
                    rest = np.prod(np.delete(g0, [k, k2], axis=1) ** 2, axis=1)
                    M2 += rest * I1[:, k] ** 2 * I1[:, k2] ** 2
        assert abs(M2.mean() - ref) <= K_SIGMA * M2.std(ddof=1) / math.sqrt(n)


def test_output_norms_by_monte_carlo_over_v():
    check_output_norms(11)


@pytest.mark.parametrize("m", [1, 2])
def test_constants_need_three_hidden_units(m):
    with pytest.raises(ValueError, match="m >= 3"):
        hidden_constant(1.0, m)
    with pytest.raises(ValueError, match="m >= 3"):
        output_constant(m)
    with pytest.raises(ValueError, match="m >= 3"):
        get_case("mlp-ce").asymptote(1.0, 10, m=m)


def test_sigma_scaling_domain():
    """With V ~ N(0, σ²/m) the constants exist iff σ²/m < 1/2."""
    assert hidden_constant(1.0, 3, sigma_v=1.2) > 0
    with pytest.raises(ValueError, match="1/2"):
        output_constant(4, sigma_v=1.5)


def test_constants_decrease_towards_large_width():
    ks = [hidden_constant(1.0, m) for m in (3, 4, 8, 16)]
    ko = [output_constant(m) for m in (3, 4, 8, 16)]
    assert ks == sorted(ks, reverse=True) and ko == sorted(ko, reverse=True)


@pytest.mark.slow
def test_constants_against_finite_C_monte_carlo():
    """C = 3000, m = 8: C·ratio and C²·ratio approach K_h and K_o (measured bias ≲ 5% at
    C = 3000)."""
    BIAS = 0.12
    C, m = 3000, 8
    lim = get_case("mlp-ce").limits(1.0, C, m=m, rng=5, samples=(64, 1024))
    for blk, K, p in ((lim.blocks["hidden"], hidden_constant(1.0, m), 1),
                      (lim.blocks["output"], output_constant(m), 2)):
        assert abs(blk.ratio * C ** p - K) <= K_SIGMA * blk.stderr_ratio * C ** p + BIAS * K


# ------------------------------------------------------------ general entry laws (CASE-22/23)
from rmthess.cases import _mlp_ce_constants as _const  # noqa: E402
from rmthess.laws.entry import GAUSSIAN, RADEMACHER, UNIFORM, ScipyEntries  # noqa: E402

#: the general-law route (u by composite Gauss–Legendre, v by the law's Gauss rule) applied to the
#: Gaussian law vs the closed forms of (CASE-11): measured ≤ 2e-15 relative at m = 4, 8
RTOL_ROUTES = 1e-12


@pytest.mark.parametrize("m, sigma", [(8, 1.0), (4, 1.2), (16, 0.5)])
def test_general_route_reproduces_the_gaussian_closed_forms(m, sigma):
    tau = sigma * sigma / m
    np.testing.assert_allclose(_const._general_hidden_terms(tau, GAUSSIAN), hidden_terms(m, sigma),
                               rtol=RTOL_ROUTES)
    np.testing.assert_allclose(_const._general_output_terms(m, tau, GAUSSIAN),
                               output_terms(m, sigma), rtol=RTOL_ROUTES)
    # the default law is the Gaussian one, through the same closed forms
    assert hidden_constant(1.0, m, sigma, v_law=GAUSSIAN) == hidden_constant(1.0, m, sigma)
    assert output_constant(m, sigma, v_law="gaussian") == output_constant(m, sigma)


def test_uniform_inner_integrals_against_mpmath():
    tau = 0.3
    q = _const._Quad(UNIFORM, tau)
    a = math.sqrt(3 * tau)
    v = np.array([-a, 0.0, 0.7 * a])
    for k in (1, 2):
        J0, J1, J2, K = q.inner(v, k)
        with mpmath.workdps(25):
            def mv(u):   # M_v(u) = sinh(a u)/(a u), ψ_v' = a coth(a u) − 1/u
                return mpmath.sinh(a * u) / (a * u) if u else mpmath.mpf(1)

            def d1(u):
                return a * mpmath.coth(a * u) - 1 / u if u else mpmath.mpf(0)

            for i, vi in enumerate(v):
                f = [lambda u, n=n, vi=vi, k=k: u ** n * mpmath.exp(vi * u) / mv(u) ** k
                     * mpmath.npdf(u)
                     for n in range(3)]
                ref = [mpmath.quad(g, [0, 2, 6, mpmath.inf]) for g in f]
                refK = mpmath.quad(lambda u, vi=vi: mpmath.exp(vi * u) / mv(u) * d1(u)
                                   * mpmath.npdf(u),
                                   [0, 2, 6, mpmath.inf])
                for got, r in zip((J0[i], J1[i], J2[i]), ref, strict=True):
                    assert got == pytest.approx(float(r), rel=1e-13)
                if k == 1:
                    assert K[i] == pytest.approx(float(refK), rel=1e-13)


def test_uniform_diagonal_terms_against_mpmath():
    """D_k = E[1(u>0) ψ_v''(u)^k], ψ_v'' = 3τ(1/c² − 1/sinh² c), c = √(3τ) u (CASE-22)."""
    tau = 1 / 24
    a = math.sqrt(3 * tau)
    got = _const._diag_terms(tau, UNIFORM)
    with mpmath.workdps(25):
        def d2(u):
            c = a * u
            return a * a * (1 / c ** 2 - 1 / mpmath.sinh(c) ** 2) if u else a * a / 3
        for k, g in zip((1, 2), got, strict=True):
            assert g == pytest.approx(float(mpmath.quad(lambda u, k=k: d2(u) ** k * mpmath.npdf(u),
                                                        [0, 2, mpmath.inf])), rel=1e-13)


def test_uniform_hidden_pieces_by_unfactorised_monte_carlo():
    """As for the Gaussian law, with the uniform closed forms written out here (not the law's
    cgf)."""
    m, n = 6, 400_000
    tau = 1 / m
    a = math.sqrt(3 * tau)
    rng = np.random.default_rng(2025)
    e0, e1, alpha, T = hidden_terms(m, 1.0, UNIFORM)
    v = rng.uniform(-a, a, (n, m))
    u, u2 = rng.standard_normal((n, m)), rng.standard_normal((n, m))

    def xi(u):
        s = np.maximum(u, 0)
        c = a * np.where(s > 0, s, 1.0)
        logM = np.where(s > 0, np.log(np.sinh(c) / c), 0.0)
        mean = np.where(s > 0, a / np.tanh(c) - 1 / np.where(s > 0, s, 1.0), 0.0)
        return (np.exp((v * s).sum(1) - logM.sum(1)) * (v[:, 0] - mean[:, 0])
                * (v[:, 1] - mean[:, 1]) * (u[:, 0] > 0) * (u[:, 1] > 0))

    for x, ref in ((xi(u) * xi(u2), e0 ** (m - 2) * e1 ** 2),
                   (xi(u) ** 2, alpha ** (m - 2) * T ** 2)):
        assert abs(x.mean() - ref) <= K_SIGMA * x.std(ddof=1) / math.sqrt(n)


@pytest.mark.parametrize("law", [UNIFORM, RADEMACHER], ids=lambda lw: lw.name)
def test_general_output_norms_by_monte_carlo_over_v(law):
    """E‖A‖², E‖B‖² (CASE-23) vs a Monte Carlo over v (and v + v') of ‖M‖²_F built entry by
    entry."""
    m, n = 5, 10_000
    tau = 1 / m
    q = _const._Quad(law, tau)
    rng = np.random.default_rng(12)
    for k, ref in zip((1, 2), output_terms(m, 1.0, law), strict=True):
        v = math.sqrt(tau) * law.sample(rng, (n, m))
        if k == 2:
            v = v + math.sqrt(tau) * law.sample(rng, (n, m))
        vals, inv = np.unique(v, return_inverse=True)        # Rademacher: three values of v + v'
        J0, J1, J2 = (J[inv].reshape(v.shape) for J in q.inner(vals, k)[:3])
        g0 = 0.5 + J0
        M2 = np.zeros(n)
        for i in range(m):
            M2 += np.prod(np.delete(g0, i, axis=1) ** 2, axis=1) * J2[:, i] ** 2
            for j in range(m):
                if j != i:
                    M2 += (np.prod(np.delete(g0, [i, j], axis=1) ** 2, axis=1)
                           * J1[:, i] ** 2 * J1[:, j] ** 2)
        assert abs(M2.mean() - ref) <= K_SIGMA * M2.std(ddof=1) / math.sqrt(n)


def test_tilted_variance_is_the_large_C_limit_of_kappa_ii():
    """At a fixed u, κ(u) = Σ_c p_c (v_c − μ)(v_c − μ)ᵀ → diag ψ_v''(s) as C → ∞ (CASE-22),
    uniform V."""
    m, C = 4, 400_000
    tau = 1 / m
    rng = np.random.default_rng(8)
    u = np.array([0.3, 1.7, -0.4, 2.5])
    s = np.maximum(u, 0)
    V = math.sqrt(tau) * UNIFORM.sample(rng, (C, m))
    z = V @ s
    p = np.exp(z - z.max())
    p /= p.sum()
    mu = p @ V
    q = _const._Quad(UNIFORM, tau)
    limit = q.cgf(s)[2]
    for i in range(m):
        t = C * p * (V[:, i] - mu[i]) ** 2     # κ_ii = mean of t (self-normalized)
        assert abs(t.mean() - limit[i]) <= K_SIGMA * t.std(ddof=1) / math.sqrt(C)


def test_two_resolutions_agree(monkeypatch):
    """Doubling the u-nodes and halving the v-nodes changes the constants by < 1e-12."""
    def both():
        return (hidden_constant(1.0, 8, 1 / 3, v_law=UNIFORM),
                output_constant(8, 1 / 3, v_law=UNIFORM))

    base = both()
    monkeypatch.setattr(_const, "U_NODES", 2 * _const.U_NODES)
    monkeypatch.setattr(_const, "V_NODES", _const.V_NODES // 2)
    np.testing.assert_allclose(both(), base, rtol=1e-12)


def test_bounded_laws_have_constants_for_every_width():
    """With bounded entries the tilted tails are polynomial: K_h, K_o exist at m = 2 (Gaussian:
    no)."""
    assert hidden_constant(1.0, 2, v_law="uniform") > 0
    assert output_constant(2, sigma_v=3.0, v_law="rademacher") > 0
    with pytest.raises(ValueError, match="m >= 2"):
        hidden_constant(1.0, 1, v_law="uniform")
    from scipy import stats
    with pytest.raises(ValueError, match="moment generating function"):
        hidden_constant(1.0, 8, v_law=ScipyEntries(stats.t(6)))


def _finite_C_ratios(C, m, sigma, law, n_v, n_u, gamma, rng):
    """Brute Monte Carlo of the mlp-CE block ratios at finite C (CASE-9) with V entries of ``law``.

    Per V draw: hidden ``G = U-statistic of (E_u a)² + γ E_u a²`` averaged over hidden pairs, output
    ``‖E_u[Λ_cc' s sᵀ]‖²_F`` by the U-statistic through the Gram kernel ``(s_n·s_n')²`` (c' = c and
    c' = c + 1); ratios of means over V with delta-method standard errors.
    """
    def ratio_se(num, den):
        num, den = np.asarray(num), np.asarray(den)
        r = num.mean() / den.mean()
        grad = np.array([1 / den.mean(), -r / den.mean()])
        return r, math.sqrt(grad @ (np.cov(np.stack([num, den])) / num.size) @ grad)

    def g(x):
        S, S2, n = x.sum(0), (x * x).sum(0), x.shape[0]
        return np.mean((S * S - S2) / (n * (n - 1)) + gamma * S2 / n)

    out = {k: [] for k in ("hii", "hij", "oii", "oij")}
    iu = np.triu_indices(m, 1)
    for _ in range(n_v):
        V = sigma / math.sqrt(m) * law.sample(rng, (C, m))
        u = rng.standard_normal((n_u, m))
        s = np.maximum(u, 0)
        z = s @ V.T
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        mu = p @ V
        kap = np.einsum("nc,ci,cj->nij", p, V, V) - mu[:, :, None] * mu[:, None, :]
        on = (u > 0).astype(float)
        a = kap * on[:, :, None] * on[:, None, :]
        out["hij"].append(g(a[:, iu[0], iu[1]]))
        out["hii"].append(g(a[:, np.arange(m), np.arange(m)]))
        K = (s @ s.T) ** 2
        for key, w in (("oii", p - p * p), ("oij", -p * np.roll(p, -1, axis=1))):
            U = ((K @ w) * w).sum(0) - (w * w * np.diag(K)[:, None]).sum(0)
            out[key].append(U.mean() / (n_u * (n_u - 1)))
    return ratio_se(out["hij"], out["hii"]), ratio_se(out["oij"], out["oii"])


@pytest.mark.slow
def test_uniform_constants_against_finite_C_monte_carlo():
    """torch-default (uniform V, σ_w σ_v = 1/3), m = 8, C = 1000: C·ratio → K_h, C²·ratio → K_o.

    The 1/C approach is fast for bounded V: measured C²·ratio − K_o = +0.0067 ± 0.0028 at C = 300
    and +0.0011 ± 0.0010 at C = 1000, C·ratio − K_h = −0.017 ± 0.017 at C = 300; BIAS = 1 % of K
    covers the 1/C term at C = 1000 with a 5× margin. About 30 s.
    """
    BIAS = 0.01
    C, m, sigma = 1000, 8, 1 / 3
    (h, hse), (o, ose) = _finite_C_ratios(C, m, sigma, UNIFORM, 32, 512, 1.0,
                                          np.random.default_rng(1))
    Kh, Ko = hidden_constant(1.0, m, sigma, v_law=UNIFORM), output_constant(m, sigma, v_law=UNIFORM)
    assert abs(C * h - Kh) <= K_SIGMA * C * hse + BIAS * Kh
    assert abs(C * C * o - Ko) <= K_SIGMA * C * C * ose + BIAS * Ko
