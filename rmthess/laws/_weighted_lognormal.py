r"""Draws of a weighted sum of independent lognormals, ``W = Σ_j w_j e^{σ Z_j}``, for any weights.

The other classes' sum of a class with logit offsets (theory/softmax_moments.md, SML-5) is such a
sum with ``w_j = π_j``. :func:`log_weighted_lognormal_sum` draws it by the per-term upper-tail split
of (SML-6): a threshold ``T``; the terms with ``w_j ≥ T`` (the head) drawn exactly; every other
term exceeds ``T`` with probability ``q_j = Φ̄((log T − log w_j)/σ)``, the exceedances are the
points of a Poisson process on the terms' cumulative hazard, each drawn from its exact conditional
law; the terms below ``T`` are summed as one normal variable with their exact conditional mean
and variance given which terms exceeded. ``T`` is searched so that the leading Edgeworth error of
that normal law, averaged over the draws, is within the accepted bound.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["SplitRefused", "edgeworth_error", "log_weighted_lognormal_sum"]

#: candidate expected numbers of exactly drawn terms (head + exceedances), tried in order (SML-6)
SPLIT_TERMS = (64, 128, 256, 512, 1024, 2048, 4096)
#: cost bound: draws × expected exact terms; a split above it is not tried (SML-6)
SPLIT_CELLS = 1 << 28
#: draws of the exceedance pattern used to choose the threshold before the full draw (SML-6)
PILOT_DRAWS = 4096
#: exactly drawn terms held at once (rows per block × expected terms per row)
_CHUNK = 1 << 22


#: ``φ He_2``, ``φ He_3``, ``φ He_5`` on a grid of x: the shapes of the first two Edgeworth
#: corrections to a standardized distribution function
_X = np.linspace(-8.0, 8.0, 3201)
_PHI = np.exp(-_X * _X / 2) / math.sqrt(2 * math.pi)
_HE2, _HE3, _HE5 = (_PHI * (_X * _X - 1), _PHI * (_X ** 3 - 3 * _X),
                    _PHI * (_X ** 5 - 10 * _X ** 3 + 15 * _X))
#: ``max|φ He_2|/6, max|φ He_3|/24, max|φ He_5|/72``: the per-draw bound
#: ``c_2|γ| + c_3|κ| + c_5 γ²`` of (SML-6), the triangle inequality applied to
#: :func:`edgeworth_error`
_C2, _C3, _C5 = (float(np.max(np.abs(_HE2))) / 6, float(np.max(np.abs(_HE3))) / 24,
                 float(np.max(np.abs(_HE5))) / 72)


def edgeworth_error(skew, kurt):
    """Largest first two Edgeworth corrections to the distribution function of a standardized sum
    with skewness ``skew`` and excess kurtosis ``kurt`` (SML-2): ``max_x |skew φ(x)He_2(x)|/6 +
    max_x |φ(x)(kurt He_3(x)/24 + skew² He_5(x)/72)|``."""
    return float(np.max(np.abs(skew * _HE2)) / 6
                 + np.max(np.abs(kurt * _HE3 / 24 + skew ** 2 * _HE5 / 72)))


class SplitRefused(ValueError):
    """No threshold within the cost bound puts the normal bulk's error within the tolerance; the
    message names the best error reached and the largest split tried."""


def _threshold(lw, s, k):
    """``log T`` with ``#{w_j ≥ T} + Σ_{w_j < T} q_j ≈ k`` (the expected number of exactly drawn
    terms); ``lw`` sorted decreasing. Only the cost depends on how closely ``k`` is met, so the
    count is evaluated on a histogram of ``log w`` (bins of width 0.01σ, at most 2¹⁶ of them) and
    bisected in ``log T``.
    """
    from scipy.special import ndtr

    lo, hi = float(lw[-1]), float(lw[0])
    nb = min(1 << 16, max(1, int(math.ceil((hi - lo) / (0.01 * s)))))
    counts, edges = np.histogram(lw, bins=nb, range=(lo, hi + 1e-9 * max(1.0, abs(hi))))
    mid = (edges[:-1] + edges[1:]) / 2
    a, b = lo - 12 * s, hi + 12 * s
    for _ in range(60):
        t = (a + b) / 2
        z = (t - mid) / s
        exact = counts @ np.where(z <= 0, 1.0, ndtr(-np.maximum(z, 0.0)))
        a, b = (t, b) if exact > k else (a, t)
    return (a + b) / 2


def _truncated_terms(lw, logt, s):
    """Per tail term (``w_j < T``): ``q_j = Φ̄(z_j)`` and the cumulants ``κ_{1..4}`` of
    ``w_j e^{σZ}`` given ``Z ≤ z_j``, from ``E[e^{rσZ} 1{Z ≤ z}] = e^{r²σ²/2} Φ(z − rσ)``
    (SML-6)."""
    from scipy.special import log_ndtr, ndtr

    z = (logt - lw) / s
    l0 = log_ndtr(z)
    m1, m2, m3, m4 = (np.exp(r * r * s * s / 2 + log_ndtr(z - r * s) - l0 + r * lw)
                      for r in range(1, 5))
    k2 = m2 - m1 * m1
    k3 = m3 - 3 * m1 * m2 + 2 * m1 ** 3
    k4 = m4 - 4 * m1 * m3 - 3 * m2 * m2 + 12 * m1 * m1 * m2 - 6 * m1 ** 4
    return ndtr(-z), np.stack([m1, k2, k3, k4])


def _exceedances(q, n, rng):
    """Rows and term indices of independent Bernoulli(``q_j``) successes, ``n`` rows (SML-6).

    Term ``j`` owns the interval ``(H_{j−1}, H_j]`` of length ``h_j = −log(1 − q_j)`` on the
    cumulative hazard axis; a unit-rate Poisson process on ``[0, H_m]`` puts at least one point in
    it with probability ``1 − e^{−h_j} = q_j``, independently over the disjoint intervals. Per row
    the process is drawn as a Poisson(``H_m``) count of points, placed in increasing order by the
    row's normalised cumulative exponential spacings, mapped to their intervals by a binary search,
    the repeats of one interval counted once: ``E #points = H_m ≤ 2 log 2 · Σ q_j`` for
    ``q_j ≤ ½``.
    """
    hz = np.cumsum(-np.log1p(-q))
    if len(hz) == 0 or hz[-1] <= 0.0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    lam = float(hz[-1])
    rows, idx = [], []
    per = max(1, int(_CHUNK // (lam + 6.0 * math.sqrt(lam) + 8.0)))
    for start in range(0, n, per):
        m = min(per, n - start)
        count = rng.poisson(lam, size=m)
        width = int(count.max()) + 1               # each row: count + 1 spacings, padded
        c = np.cumsum(rng.standard_exponential((m, width)), axis=1)
        span = c[np.arange(m), count]
        col = np.arange(width - 1)
        r, k = np.nonzero(col[None, :] < count[:, None])
        x = c[r, k] / span[r] * lam                # sorted uniform points on [0, H_m] per row
        j = np.minimum(np.searchsorted(hz, x, side="left"), len(hz) - 1)
        new = np.ones(len(j), dtype=bool)          # a term holding several points counts once
        new[1:] = (j[1:] != j[:-1]) | (r[1:] != r[:-1])
        rows.append(start + r[new])
        idx.append(j[new])
    return np.concatenate(rows), np.concatenate(idx)


def _bulk_given_exceedances(cum, total, rows, idx, n):
    """Per row: the non-exceeding terms' cumulants ``κ_1..κ_4`` (the totals minus the exceeding
    terms') and the Edgeworth error bound of their normal law (SML-6); 0 for a row whose every
    tail term exceeded (no bulk), ``inf`` where the bulk's variance is lost to rounding."""
    k = np.stack([total[r] - np.bincount(rows, weights=cum[r][idx], minlength=n)
                  for r in range(4)])
    var = k[1]
    empty = np.bincount(rows, minlength=n) == cum.shape[1]
    ok = var > 0
    g = np.where(ok, k[2] / np.where(ok, var, 1.0) ** 1.5, np.inf)
    ex = np.where(ok, k[3] / np.where(ok, var, 1.0) ** 2, np.inf)
    err = np.where(empty, 0.0, _C2 * np.abs(g) + _C3 * np.abs(ex) + _C5 * g * g)
    return k[0], np.maximum(var, 0.0), err


def _split_draws(lw, head, q, cum, s, n, rng, values=True):
    """``n`` draws of ``log W`` given the split (SML-6) and the mean of their error bounds; with
    ``values=False`` only the error (the pilot). Rows go in blocks of about ``_CHUNK`` exactly drawn
    terms, so the memory does not grow with ``n·K``."""
    from scipy.special import ndtri

    total = cum.sum(axis=1)
    tail = lw[head:]
    out = np.empty(n) if values else None
    err = 0.0
    per = max(1, int(_CHUNK // (head + 2.0 * float(q.sum()) + 1.0)))
    for start in range(0, n, per):
        m = min(per, n - start)
        rows, idx = _exceedances(q, m, rng)
        mean, var, e = _bulk_given_exceedances(cum, total, rows, idx, m)
        err += float(e.sum())
        if not values:
            continue
        u = 1.0 - rng.random(len(idx))                             # in (0, 1]
        acc = np.bincount(rows, weights=np.exp(tail[idx] - s * ndtri(u * q[idx])),
                          minlength=m).astype(float)               # float even when no row hit
        acc += np.maximum(mean + np.sqrt(var) * rng.standard_normal(m), 0.0)
        if head:                                                   # the head, exactly
            acc += np.exp(lw[:head] + s * rng.standard_normal((m, head))).sum(axis=1)
        out[start:start + m] = np.log(acc + np.finfo(float).tiny)
    return out, err / n


def log_weighted_lognormal_sum(lw, s, n, rng, tol):
    r"""``n`` draws of ``log W``, ``W = Σ_j w_j e^{s Z_j}``, by the per-term upper-tail split
    (theory/softmax_moments.md, SML-6); ``lw = log w`` sorted decreasing.

    For the smallest ``K`` in ``SPLIT_TERMS`` with ``n·K ≤ SPLIT_CELLS`` whose pilot
    (``PILOT_DRAWS`` exceedance patterns) and then full draw put the mean Edgeworth error bound of
    the bulk within ``tol``: the threshold ``T`` with ``K`` expected exact terms; the head
    ``w_j ≥ T`` drawn exactly; the exceedances ``Z_j > z_j`` of the tail drawn by
    :func:`_exceedances`, each as ``Z_j = −Φ⁻¹(u q_j)``; the rest from the normal law with the
    tail's exact truncated mean and variance minus the exceeding terms'. A failing pilot at ``K``
    moves on to the first ``K′ ≥ K(error/tol)²`` (the error falls about like ``K^{−1/2}``), the
    largest ``K`` within the cost bound being always tried. Returns the draws and
    ``{"terms": K, "head": |H|, "bulk_error": the accepted error}``; :class:`SplitRefused` when no
    ``K`` qualifies.
    """
    allowed = [k for k in SPLIT_TERMS if n * k <= SPLIT_CELLS]
    best, need = math.inf, 0.0
    for k in allowed:
        if k < need and k != allowed[-1]:
            continue
        logt = _threshold(lw, s, k)
        head = int(np.searchsorted(-lw, -logt, side="right"))   # w_j >= T
        q, cum = _truncated_terms(lw[head:], logt, s)
        err = _split_draws(lw, head, q, cum, s, min(n, PILOT_DRAWS), rng, values=False)[1]
        best = min(best, err)
        if err > tol:
            need = k * (err / tol) ** 2
            continue
        out, err = _split_draws(lw, head, q, cum, s, n, rng)
        best = min(best, err)
        if err <= tol:
            return out, {"terms": k, "head": head, "bulk_error": err}
    raise SplitRefused(f"normal bulk error {best:.2g} > {tol} with up to "
                       f"{allowed[-1] if allowed else 0} expected exactly drawn terms (cost bound "
                       f"{SPLIT_CELLS} draws x terms)")
