"""The per-term upper-tail split of a weighted lognormal sum (theory/softmax_moments.md, SML-6)."""

import math

import numpy as np
import pytest
from scipy.stats import binom, kstwo

from rmthess.laws import _weighted_lognormal as wl
from rmthess.laws.prior import zipf_prior


def _sorted_log(pi):
    return np.log(np.sort(pi)[::-1])


def test_exceedances_are_independent_bernoulli_draws():
    """Each term's exceedance count over n rows against Binomial(n, q_j) (two-sided exact
    p-values, Bonferroni over the 600 terms: family false-alarm rate 1e-3), the pooled count of the
    rare terms (n q_j < 25) against its mean (z ≤ 5), and the variance of the per-row count
    against Σ q_j(1 − q_j) (independent terms; within 5 standard errors). q spans 0.45 to 1e-9,
    so several points often fall in one term's interval of the hazard axis."""
    n = 20_000
    q = np.sort(np.concatenate([np.full(100, 0.45), np.geomspace(0.3, 1e-4, 300),
                                np.geomspace(1e-4, 1e-9, 200)]))[::-1]
    rows, idx = wl._exceedances(q, n, np.random.default_rng(11))
    assert rows.min() >= 0 and rows.max() < n and idx.max() < len(q)
    assert len(np.unique(rows * len(q) + idx)) == len(idx)       # no term twice in a row
    count = np.bincount(idx, minlength=len(q))
    p = 2 * np.minimum(binom.cdf(count, n, q), binom.sf(count - 1, n, q))
    assert np.min(p) >= 1e-3 / len(q)
    rare = n * q < 25
    v_rare = float(np.sum(n * q[rare] * (1 - q[rare])))
    assert abs(count[rare].sum() - n * q[rare].sum()) <= 5 * math.sqrt(v_rare)
    per_row = np.bincount(rows, minlength=n)
    v = float(np.sum(q * (1 - q)))
    mu4 = float(np.sum(q * (1 - q) * (1 - 6 * q * (1 - q)))) + 3 * v * v   # 4th central moment
    assert abs(per_row.var(ddof=1) - v) <= 5 * math.sqrt((mu4 - v * v) / n)
    assert abs(per_row.mean() - q.sum()) <= 5 * math.sqrt(v / n)


def _brute(lw, s, n, rng):
    out = []
    for start in range(0, n, 1000):
        z = lw + s * rng.standard_normal((min(1000, n - start), len(lw)))
        top = z.max(1)
        out.append(top + np.log(np.exp(z - top[:, None]).sum(1)))
    return np.concatenate(out)


def _ks2(x, y):
    xs, ys = np.sort(x), np.sort(y)
    grid = np.concatenate([xs, ys])
    fx = np.searchsorted(xs, grid, side="right") / len(xs)
    fy = np.searchsorted(ys, grid, side="right") / len(ys)
    return float(np.max(np.abs(fx - fy)))


def _against_brute(w, s):
    """n = 8192 split draws of log W against 8192 term-by-term sums: the two-sample Kolmogorov
    statistic within its 0.999 quantile (the one-sample law at n/2, false-alarm rate 1e-3) plus
    the split's accepted error (BULK_KS_TOL, the normal bulk's Edgeworth bound)."""
    n = 8192
    lw = _sorted_log(w)
    x, split = wl.log_weighted_lognormal_sum(lw, s, n, np.random.default_rng(5), 3e-3)
    assert split["bulk_error"] <= 3e-3
    y = _brute(lw, s, n, np.random.default_rng(6))
    assert _ks2(x, y) <= float(kstwo.isf(1e-3, n // 2)) + 3e-3


def _two_level(C):
    """Three classes of 0.3 and C − 3 sharing 0.1: a head, then a flat tail."""
    return np.concatenate([[0.3, 0.3, 0.3], np.full(C - 3, 0.1 / (C - 3))])


def _lognormal_prior(C):
    w = np.random.default_rng(0).lognormal(0.0, 3.0, C)
    return w / w.sum()


def test_split_against_brute_sums():
    """A steep prior (Zipf S = 2, C = 3000): head, exceedances and bulk all matter."""
    _against_brute(zipf_prior(3000, 2.0)[1:], 1.0)


@pytest.mark.slow
@pytest.mark.parametrize("w, s", [(zipf_prior(3000, 1.0)[1:], 1.0),
                                  (zipf_prior(5000, 0.5)[1:], 2.0),
                                  (zipf_prior(3000, 1.5)[1:], 3.0),
                                  (zipf_prior(20000, 2.0)[1:], 0.5),
                                  (zipf_prior(3000, 1.0)[1:], 0.05),
                                  (_lognormal_prior(5000), 1.0),
                                  (_two_level(5000), 2.0),
                                  (np.full(4000, 1 / 4000), 1.0)],
                         ids=["zipf1", "zipf0.5-s2", "zipf1.5-s3", "zipf2-20000", "s0.05",
                              "lognormal-prior", "two-level", "uniform"])
def test_split_against_brute_sums_grid(w, s):
    _against_brute(w, s)


def test_split_mean_and_variance_are_exact():
    """The mean and variance of W from the split's draws against the closed forms
    E W = e^{σ²/2} Σ w_j and Var W = (e^{2σ²} − e^{σ²}) Σ w_j²: within 5 standard errors (the
    sample variance's standard error from the sample's fourth central moment); false-alarm rate
    about 1e-6 each. A flat prior at C = 10⁵ (one bin of equal-ish q, many exceedances)."""
    s = 0.7
    w = zipf_prior(100_000, 0.5)
    lw = _sorted_log(w)
    x, _ = wl.log_weighted_lognormal_sum(lw, s, 1 << 16, np.random.default_rng(2), 3e-3)
    W = np.exp(x)
    mean = math.exp(s * s / 2) * math.fsum(w)
    var = (math.exp(2 * s * s) - math.exp(s * s)) * math.fsum(w * w)
    n = len(W)
    assert abs(W.mean() - mean) <= 5 * math.sqrt(var / n)
    d = W - W.mean()
    m4 = float(np.mean(d ** 4))
    assert abs(W.var(ddof=1) - var) <= 5 * math.sqrt((m4 - var * var) / n)


def test_every_term_exact_when_the_split_holds_them_all():
    """A split whose threshold is below every term draws each term exactly: with 40 terms and
    K = 64 exactly drawn terms the tail is empty and the bulk absent (error 0)."""
    lw = _sorted_log(zipf_prior(40, 1.0))
    x, split = wl.log_weighted_lognormal_sum(lw, 1.0, 4096, np.random.default_rng(3), 3e-3)
    assert split["bulk_error"] == 0.0 and split["head"] == 40
    y = _brute(lw, 1.0, 4096, np.random.default_rng(4))
    assert _ks2(x, y) <= float(kstwo.isf(1e-3, 2048))
