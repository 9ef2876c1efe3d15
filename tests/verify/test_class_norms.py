"""The per-class norm estimator of the anisotropic check (theory/verification.md, VER-15): exact
control means, the Rao–Blackwellized norm, the out-of-fold control variates, and the whole estimator
against plain Monte Carlo of the block norms over many seeds."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special

from rmthess.integrals.softmax_offsets import offset_softmax_moments
from rmthess.laws.prior import zipf_prior
from rmthess.verify.checks._class_norms import (
    class_norm_replicates,
    conditional_norms,
    weight_moments_at_d,
)
from rmthess.verify.checks._stats import crossfit_mean_se

#: |z| threshold of the Monte Carlo comparisons below: P(|Z| > 4.5) = 6.8e-6 per comparison
Z = 4.5


def _weights(U, b):
    """``a = p(1 − p)``, ``p = softmax(U + b)`` over the last axis, from the definition."""
    z = U + b
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    p = e / e.sum(axis=-1, keepdims=True)
    return p * (1.0 - p)


def test_weight_moments_at_d_against_direct_draws_of_v_and_x():
    # oracle: E a_c and E a_c² from 4·10⁵ draws of a Gaussian V (C×d, variance 1/d) and
    # x ~ N(0, I_d) at d = 6, where the scale mixture differs from the moments at σ_v = 1 by O(1/d).
    # 8 comparisons at |z| ≤ 4.5: false alarm < 6e-5.
    C, d, M = 4, 6, 400_000
    prior = zipf_prior(C, 1.0)
    b = np.log(prior)
    rng = np.random.default_rng(11)
    U = np.einsum("mcd,md->mc", rng.standard_normal((M, C, d)) / math.sqrt(d),
                  rng.standard_normal((M, d)))
    a = _weights(U, b)
    mu1, mu2 = weight_moments_at_d(prior, d)
    plain = offset_softmax_moments(b, 1.0)
    far = 0.0
    for x, mu, ref in ((a, mu1, plain.mean_a), (a * a, mu2, plain.mean_a2)):
        m, se = x.mean(axis=0), x.std(axis=0, ddof=1) / math.sqrt(M)
        assert np.all(np.abs(m - mu) <= Z * se), (m - mu) / se
        far = max(far, float(np.max(np.abs(m - ref) / se)))
    assert far > 10.0       # the moments at σ_v = 1 are rejected: the test can tell the two apart


def test_weight_moments_at_d_against_a_second_quadrature():
    # Gauss–Legendre (48 nodes) over t = ds/2 on mean ± 11 sd of the Gamma(d/2) law (tails below
    # 1e-20) against the Gauss rule of the Gamma law in weight_moments_at_d (measured: the two
    # agree to 1e-13); at d = 400, where scipy's generalized Laguerre weights overflow
    prior = zipf_prior(5, 1.3)
    b = np.log(prior)
    d = 400
    k = d / 2.0
    lo, hi = k - 11.0 * math.sqrt(k), k + 11.0 * math.sqrt(k)
    x, w = np.polynomial.legendre.leggauss(48)
    t = lo + (hi - lo) * (x + 1.0) / 2.0
    dens = np.exp((k - 1.0) * np.log(t) - t - special.gammaln(k)) * (hi - lo) / 2.0
    ref1, ref2 = np.zeros(5), np.zeros(5)
    for tk, wk in zip(t, w * dens, strict=True):
        mom = offset_softmax_moments(b, math.sqrt(2.0 * tk / d))
        ref1 += wk * mom.mean_a
        ref2 += wk * mom.mean_a2
    mu1, mu2 = weight_moments_at_d(prior, d)
    np.testing.assert_allclose(mu1, ref1, rtol=1e-11)
    np.testing.assert_allclose(mu2, ref2, rtol=1e-11)


def test_conditional_norms_is_the_expectation_over_the_orthogonal_data():
    # fixed V and data projections; 20000 redraws of the parts orthogonal to the row space of V
    # (which leave the weights unchanged), each block norm from its definition. 3 classes at
    # |z| ≤ 4.5: false alarm < 3e-5. The same average with k = d (the orthogonal part counted
    # with the row space's dimension too) is off by ~C/d and rejected.
    C, d, n, R = 3, 12, 10, 20_000
    rng = np.random.default_rng(5)
    V = rng.standard_normal((C, d)) / math.sqrt(d)
    X = rng.standard_normal((n, d))
    b = np.log(zipf_prior(C, 1.0))
    U = X @ V.T
    a = _weights(U, b)
    Q, _ = np.linalg.qr(V.T)
    G = rng.standard_normal((R, n, d))
    G -= (G @ Q) @ Q.T
    Xs = X @ Q @ Q.T + G
    K = np.einsum("rnd,rmd->rnm", Xs, Xs) ** 2
    Y = np.einsum("nc,rnm,mc->rc", a, K, a) / (n * n * d)
    m, se = Y.mean(axis=0), Y.std(axis=0, ddof=1) / math.sqrt(R)
    rb = conditional_norms(a, U, V, d)
    assert np.all(np.abs(m - rb) <= Z * se), (m - rb) / se
    # with k = d: E(u_n·u_m)² = d instead of d − C
    W = X @ Q
    Kw = (W @ W.T) ** 2 + d
    w2 = np.sum(W * W, axis=1)
    Kw[np.diag_indices(n)] = w2 * w2 + 2 * d * w2 + d * (d + 2.0)
    wrong = np.einsum("nc,nm,mc->c", a, Kw, a) / (n * n * d)
    assert np.all(np.abs(m - wrong) > 10 * se)
    with pytest.raises(ValueError, match="C < d"):
        conditional_norms(a, U, V, C)


def test_crossfit_mean_se_is_unbiased_with_an_honest_error():
    # synthetic replicates y = 2 + c₁ − 0.5 c₂ + ε with skewed controls of mean 0 (centred
    # exponentials) and skewed noise, R = 40 in 8 folds, 2000 seeds:
    # the mean of the estimates against 2 (|z| ≤ 4.5, false alarm 7e-6) and their spread against
    # the root mean square of the reported errors (within 10 %; the spread's own relative error is
    # about 1/√4000 = 1.6 %, so 10 % is 6 of its standard errors): an error bar 10 % too small or
    # too large fails.
    rng = np.random.default_rng(3)
    S, R = 2000, 40
    est, ses = np.empty(S), np.empty(S)
    for s in range(S):
        c = rng.exponential(size=(R, 2)) - 1.0
        y = 2.0 + c[:, 0] - 0.5 * c[:, 1] + 0.7 * (rng.exponential(size=R) - 1.0)
        est[s], ses[s], dof = crossfit_mean_se(y, c)
    assert dof == R - 3
    assert abs(est.mean() - 2.0) <= Z * est.std(ddof=1) / math.sqrt(S)
    ratio = est.std(ddof=1) / math.sqrt(np.mean(ses**2))
    assert 0.9 <= ratio <= 1.1, ratio
    with pytest.raises(ValueError, match="too few"):
        crossfit_mean_se(np.arange(4.0), np.ones((4, 2)))
    with pytest.raises(ValueError, match="folds"):
        crossfit_mean_se(np.arange(10.0), np.ones((10, 1)), folds=1)


def _plain_class_norms(prior, d, n, reps, rng, batch=4000):
    """Plain Monte Carlo of (1/d)‖H_cc‖²_F from its definition: Gaussian V (variance 1/d),
    x ~ N(0, I_d)."""
    C = len(prior)
    b = np.log(prior)
    out = []
    for start in range(0, reps, batch):
        m = min(batch, reps - start)
        V = rng.standard_normal((m, C, d)) / math.sqrt(d)
        X = rng.standard_normal((m, n, d))
        a = _weights(np.einsum("rnd,rcd->rnc", X, V), b)
        K = np.einsum("rnd,rmd->rnm", X, X) ** 2
        out.append(np.einsum("rnc,rnm,rmc->rc", a, K, a) / (n * n * d))
    return np.concatenate(out)


@pytest.mark.slow
def test_class_norm_estimator_over_seeds_against_plain_monte_carlo():
    """VER-15 end to end at d = N = 16, C = 4, Zipf S = 1: 400 independent estimates of 60
    replicates each (Rao–Blackwellized norms, out-of-fold controls) against 4·10⁵ replicates of the
    plain block norms from their definition. Per class: the mean of the estimates within 4.5
    standard errors of the plain mean (4 classes: false alarm 3e-5), and the spread of the
    estimates over the root mean square of their reported errors within [0.85, 1.15] (its relative
    error at 400 estimates is 3.5 %: 4.3 of them; false alarm ~2e-5 per class). About 15 s of
    CPU."""
    C, d, R, S = 4, 16, 60, 400
    prior = zipf_prior(C, 1.0)
    cell = class_norm_replicates(prior, d=d, gamma=1.0, reps=R * S,
                                 seed=np.random.SeedSequence(2024))
    plain = _plain_class_norms(prior, d, d, 400_000, np.random.default_rng(99))
    p_mean, p_se = plain.mean(axis=0), plain.std(axis=0, ddof=1) / math.sqrt(len(plain))
    for c in range(C):
        est = np.array([crossfit_mean_se(cell.norms[s * R:(s + 1) * R, c],
                                         cell.controls[s * R:(s + 1) * R, c, :])[:2]
                        for s in range(S)])
        e_se = est[:, 0].std(ddof=1) / math.sqrt(S)
        z = (est[:, 0].mean() - p_mean[c]) / math.hypot(e_se, p_se[c])
        assert abs(z) <= Z, (c, z)
        ratio = est[:, 0].std(ddof=1) / math.sqrt(np.mean(est[:, 1] ** 2))
        assert 0.85 <= ratio <= 1.15, (c, ratio)
        # the estimator's point: its spread is a fraction of the plain norms' over R replicates
        assert est[:, 0].std() < 0.5 * plain[:, c].std() / math.sqrt(R)


def test_class_norm_estimate_against_plain_monte_carlo_and_inputs():
    # one estimate of 1000 replicates at d = N = 12, C = 3 against 10⁵ plain replicates of the
    # norms from their definition; 3 classes at |z| ≤ 4.5: false alarm < 3e-5
    prior = zipf_prior(3, 1.5)
    cell = class_norm_replicates(prior, d=12, gamma=1.0, reps=1000, seed=5)
    assert cell.norms.shape == (1000, 3) and cell.controls.shape == (1000, 3, 2)
    plain = _plain_class_norms(prior, 12, 12, 100_000, np.random.default_rng(8))
    for c in range(3):
        m, se, dof = crossfit_mean_se(cell.norms[:, c], cell.controls[:, c, :])
        p_se = plain[:, c].std(ddof=1) / math.sqrt(len(plain))
        assert abs(m - plain[:, c].mean()) <= Z * math.hypot(se, p_se)
        assert dof == 997
    again = class_norm_replicates(prior, d=12, gamma=1.0, reps=4,
                                  seed=np.random.SeedSequence(5))
    np.testing.assert_array_equal(again.norms, cell.norms[:4])
    with pytest.raises(ValueError, match="reps"):
        class_norm_replicates(prior, d=12, gamma=1.0, reps=1, seed=0)
    with pytest.raises(ValueError, match="1-d"):
        class_norm_replicates(prior[None, :], d=12, gamma=1.0, reps=4, seed=0)
    with pytest.raises(ValueError, match="prior"):
        class_norm_replicates([0.5, 0.6], d=12, gamma=1.0, reps=4, seed=0)
    with pytest.raises(ValueError, match="prior"):
        weight_moments_at_d([0.5, -0.5, 1.0], 10)
    with pytest.raises(ValueError):
        weight_moments_at_d(prior, 1)
