"""The γ-term of the mlp-ce hidden blocks by quadrature (CASE-19) against independent routes."""

import math

import numpy as np
import pytest

from rmthess.cases._mlp_ce_gamma import gamma_term

#: plain Monte Carlo with K_SIGMA standard errors: two-sided false alarm ≈ 7e-6 per comparison
K_SIGMA = 4.5
#: two resolutions of the |s| rule agree to this (measured ≤ 3e-10 at 24/36 nodes)
RTOL_RESOLUTION = 1e-8


def _conditional(u, x, tau):
    """Per draw of (u, ζ_·1 = x): the (CASE-19) formulas averaged over i and over pairs i ≠ j."""
    m = u.shape[1]
    s = np.maximum(u, 0.0)
    ns = np.linalg.norm(s, axis=1)
    sh = np.divide(s, ns[:, None], out=np.zeros_like(s), where=ns[:, None] > 0)
    z = math.sqrt(tau) * ns[:, None] * x
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    xb = (p * x).sum(1)
    n = (p * x * x).sum(1) - xb ** 2
    trq = 1.0 - (p * p).sum(1)
    mm = (p * p * (x - xb[:, None]) ** 2).sum(1)
    sp2 = (p * p).sum(1)
    trq2 = sp2 - 2.0 * (p ** 3).sum(1) + sp2 ** 2
    diag = np.zeros(len(u))
    off = np.zeros(len(u))
    for i in range(m):
        a2 = sh[:, i] ** 2
        diag += (s[:, i] > 0) * ((a2 * n + (1 - a2) * trq) ** 2 + 4 * a2 * (1 - a2) * mm
                                 + 2 * (1 - a2) ** 2 * trq2)
        for j in range(m):
            if j != i:
                b2 = sh[:, j] ** 2
                off += (s[:, i] > 0) * (s[:, j] > 0) * (
                    a2 * b2 * (n - trq) ** 2 + (a2 + b2 - 4 * a2 * b2) * mm
                    + (1 - a2 - b2 + 2 * a2 * b2) * trq2)
    return tau * tau * diag / m, tau * tau * off / (m * (m - 1))


@pytest.mark.parametrize("C, m, sigma_v", [(10, 8, 1.0), (3, 3, 1.0), (5, 4, 0.6), (2, 2, 0.8)])
def test_against_monte_carlo_of_the_conditional_expectation(C, m, sigma_v):
    """The average over s and the power-sum quadrature against sampling u and ζ_·1 in the
    (CASE-19) formulas; and the two resolutions of the |s| rule."""
    d, o, err = gamma_term(C, m, sigma_v)
    assert err <= RTOL_RESOLUTION
    n = 1 << 17
    rng = np.random.default_rng(C * 100 + m)
    diag, off = _conditional(rng.standard_normal((n, m)), rng.standard_normal((n, C)),
                             sigma_v ** 2 / m)
    for x, val in ((diag, d), (off, o)):
        assert abs(x.mean() - val) <= K_SIGMA * x.std(ddof=1) / math.sqrt(n)


def test_against_brute_force_over_V():
    """Fresh V ~ N(0, τ), u ~ N(0, I): E a_ij² = E κ_ij² 1(u_i>0)1(u_j>0) sampled directly."""
    C, m, tau = 4, 3, 1.0 / 3.0
    rng = np.random.default_rng(3)
    n = 200_000
    V = math.sqrt(tau) * rng.standard_normal((n, C, m))
    u = rng.standard_normal((n, m))
    s = np.maximum(u, 0)
    z = np.einsum("ncm,nm->nc", V, s)
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    mu = np.einsum("nc,ncm->nm", p, V)
    D = V - mu[:, None, :]
    kap = np.einsum("nc,nci,ncj->nij", p, D, D)
    pos = (u > 0).astype(float)
    a2 = kap ** 2 * pos[:, :, None] * pos[:, None, :]
    diag = np.mean([a2[:, i, i] for i in range(m)], axis=0)
    off = np.mean([a2[:, i, j] for i in range(m) for j in range(m) if i != j], axis=0)
    d, o, _ = gamma_term(C, m, 1.0)
    for x, val in ((diag, d), (off, o)):
        assert abs(x.mean() - val) <= K_SIGMA * x.std(ddof=1) / math.sqrt(n)


def test_uniform_limit_of_small_sigma():
    """σ_v → 0: p → uniform, so E a_ij² → E(κ⁰_ij)²/4 = τ²(C − 1)/(4C²) and
    E a_ii² → τ²(C² − 1)/(2C²) (CASE-18); the O(σ_v²) relative correction bounds the tolerance."""
    C, m, sv = 6, 4, 1e-3
    tau = sv * sv / m
    d, o, _ = gamma_term(C, m, sv)
    assert d == pytest.approx(tau ** 2 * (C * C - 1) / (2 * C * C), rel=1e-4)
    assert o == pytest.approx(tau ** 2 * (C - 1) / (4 * C * C), rel=1e-4)
