r"""The mlp-ce output block for wide hidden layers, by per-degree radial rules and a table of F
(theory/cases.md, (CASE-36)).

The output draws with ζ integrated out are ``c² F(σ1, σ2, ρ)`` (CASE-32), and given the activity
pattern ``(j, k1, k2)`` the norms ``r1 ~ χ_{d1}``, ``r2 ~ χ_{d2}`` (``d1 = j + k1``,
``d2 = j + k2``) and ``ρ`` are independent (CASE-34), so

    E c² F = Σ_{d1,d2} Σ_i W_{d1,d2}[i] E[r1² r2² F(√τ r1, √τ r2, t_i)],
    W_{d1,d2}[i] = Σ_j π_{j,d1,d2} E[ρ² ℓ_i(ρ) | j, d1, d2],

with ``ℓ_i`` the Lagrange basis on Chebyshev points ``t_i`` of ``[0, 1]``. The rule of (CASE-34)
integrates the radii with one Gauss rule for ``e^{−r²/2}``, whose size must grow like m/2 to be
exact for ``r^{d+1}``; here each degree d gets its own Gauss rule for ``χ_d`` (generalized
Gauss–Laguerre of parameter ``d/2 − 1`` in ``r²/2``, the factor ``r²`` in the weights), and F —
smooth, and over a narrow range of σ when m is large — is tabulated on Chebyshev points of σ
over one range for every size and interpolated (barycentric form). Then, with
``M[d, k] = Σ_a R^d_a L_k(√τ r^d_a)`` (radial weights ``R``, interpolation basis ``L``),

    E c² F ≈ Σ_{d1,d2,i} W_{d1,d2}[i] Σ_{k,l} M[d1, k] M[d2, l] F(σ_k, σ_l, t_i),

so F is evaluated ``n_σ(n_σ + 1)/2 · n_ρ`` times whatever m. The sum over j that forms W has
positive terms only and is taken in float64; the cancellation of the basis then costs the
conditioning of the Chebyshev–Vandermonde system (``E c²`` is reproduced to 1e-11 and the
powers ``E c² ρ^k`` to ≤ 3e-9 at n_ρ ≤ 12, checked in the tests). Degrees of Binomial(m, ½)
probability below :data:`DEGREE_CUT` are left out (their share of ``E c²`` is below 1e-15).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from rmthess.cases._mlp_ce_output import output_expectations

__all__ = ["wide_rule", "usable_wide", "WIDE_LEVELS", "WIDE_MIN_WIDTH", "WIDE_LOW_WIDTH",
           "WIDE_LOW_TAU", "WIDE_MAX_WIDTH", "WIDE_MAX_TAU", "WIDE_MAX_SIGMA", "DEGREE_CUT"]

#: sizes ``(n_r, n_σ, n_ρ)`` (radial nodes per degree, σ-table nodes, ρ nodes), in the order tried
WIDE_LEVELS = ((6, 10, 8), (8, 12, 10), (10, 16, 12), (12, 20, 14))
#: narrowest hidden layer served at every τ up to :data:`WIDE_MAX_TAU` (below, the rule of CASE-34
#: is exact in r and cheaper where it serves: τ ≤ 1/16 from m = 17 to 32, τ ≤ 1/4 up to m = 16)
WIDE_MIN_WIDTH = 33
#: narrowest hidden layer served above τ = :data:`WIDE_LOW_TAU` (m = 17–32, where the ρ-rules of
#: CASE-34 converge slowly: m = 24, σ_v = √2 and m = 17, σ_v = √2 in CASE-36)
WIDE_LOW_WIDTH = 17
#: the τ above which the wide rule also serves m = :data:`WIDE_LOW_WIDTH` to 32
WIDE_LOW_TAU = 1.0 / 16.0
#: widest hidden layer served (the ρ-weights cost O(D² J), D ≈ 10√m, J ≈ 8√m: 1.6 s at m = 2048)
WIDE_MAX_WIDTH = 2048
#: largest τ = σ_v²/m served: at τ = 1/16 and σ_v = 2 the successive sizes are 1.5e-5, 1.7e-6,
#: 1.1e-7 apart at m = 64, C = 10, and the third meets 1e-5 at every C from 2 to 10⁶ (m = 64,
#: 256, 1024, 2048); at τ = 1/8 (m = 32, σ_v = 2) and C = 10⁶ the third size is 4e-6 off and the
#: fourth 4e-8, each within its bound (CASE-36)
WIDE_MAX_TAU = 1.0 / 8.0
#: largest σ_v served (the logits' scale is ≈ σ_v whatever m): at m = 256, σ_v = √8 and
#: C = 10⁶ the ρ-rules do not converge (successive g_ij 3.4e-3, 6.9e-5 apart); at σ_v = 2 they
#: meet 1e-5 in 5–10 s at C = 10⁶ (m = 64–2048)
WIDE_MAX_SIGMA = 2.0
#: degrees d of Binomial(m, ½) probability below this are left out
DEGREE_CUT = 1e-22
#: the σ-table spans the nodes of the radial rules of this size (≥ every size's n_r), so that
#: every size interpolates on the same interval
SPAN_NODES = 12


def usable_wide(m, sigma_v):
    """Whether the wide rule serves ``(m, σ_v)``: ``τ = σ_v²/m ≤`` :data:`WIDE_MAX_TAU`,
    ``σ_v ≤`` :data:`WIDE_MAX_SIGMA` and either :data:`WIDE_MIN_WIDTH` ≤ m ≤
    :data:`WIDE_MAX_WIDTH`, or :data:`WIDE_LOW_WIDTH` ≤ m < :data:`WIDE_MIN_WIDTH` with
    ``τ >`` :data:`WIDE_LOW_TAU` (τ compared up to rounding)."""
    slack = 1.0 + 1e-12
    tau = sigma_v * sigma_v / m
    if not (0.0 < sigma_v <= WIDE_MAX_SIGMA * slack and tau <= WIDE_MAX_TAU * slack):
        return False
    if WIDE_LOW_WIDTH <= m < WIDE_MIN_WIDTH:
        return tau > WIDE_LOW_TAU * slack
    return WIDE_MIN_WIDTH <= m <= WIDE_MAX_WIDTH


@lru_cache(maxsize=8)
def _rho_basis(n_rho):
    """Chebyshev points ``t`` of ``[0, 1]`` and ``inv[n, i]`` with ``ℓ_i(ρ) = Σ_n inv[n, i] ρⁿ``
    (inverted in extended precision, rounded once)."""
    import mpmath as mp

    with mp.workdps(40):
        t = [(1 + mp.cos(mp.pi * (2 * i + 1) / (2 * n_rho))) / 2 for i in range(n_rho)]
        vander = mp.matrix(n_rho, n_rho)
        for i in range(n_rho):
            for n in range(n_rho):
                vander[i, n] = t[i] ** n
        inv = np.array(mp.inverse(vander).tolist(), dtype=float)
    return np.array([float(x) for x in t]), inv


def kept_degrees(m):
    """The degrees ``d = 1 … m`` of the activity (``d ~ Binomial(m, ½)``) whose probability is
    above :data:`DEGREE_CUT`: a contiguous range around m/2."""
    from scipy.special import gammaln

    d = np.arange(1, m + 1)
    log_p = gammaln(m + 1.0) - gammaln(d + 1.0) - gammaln(m - d + 1.0) - m * math.log(2.0)
    return d[log_p > math.log(DEGREE_CUT)]


#: number of powers of ρ the pattern sums of :func:`_pattern_moments` hold (ρ² … ρ^{_MAX_POWER+1}:
#: n_ρ ≤ this; the largest size of :data:`WIDE_LEVELS` has n_ρ = 14, the benchmarks' reference 16)
_MAX_POWER = 17
#: overlaps j per block of the pattern sums (memory: block × D² doubles)
_OVERLAP_BLOCK = 16


@lru_cache(maxsize=4)
def _pattern_moments(m):
    """``acc[a, b, n] = Σ_j π_{j,d_a,d_b} E[(x·y)^{n+2}]`` (n = 0 … ``_MAX_POWER`` − 1) over
    the kept degrees d_a of :func:`kept_degrees` and the overlaps j of probability above
    :data:`DEGREE_CUT` (``j ~ Binomial(m, ¼)``): one matrix product over j per block of overlaps,
    shared by every n_ρ."""
    from scipy.special import comb, gammaln

    nmax = _MAX_POWER + 1
    p = np.arange(nmax + 1)
    mu = np.exp(2.0 * ((p / 2) * math.log(2.0) + gammaln((p + 1) / 2)
                       - 0.5 * math.log(math.pi)))                  # E (x_i y_i)^p
    binom = comb(p[:, None], p[None, :])
    degrees = kept_degrees(m)
    j_all = np.arange(1, m + 1)
    log_pj = (gammaln(m + 1.0) - gammaln(j_all + 1.0) - gammaln(m - j_all + 1.0)
              + j_all * math.log(0.25) + (m - j_all) * math.log(0.75))
    overlaps = j_all[(log_pj > math.log(DEGREE_CUT)) & (j_all <= degrees[-1])]
    sums = np.zeros((overlaps[-1] + 1, nmax + 1))                   # E (x·y)^n, x, y in R^j
    sums[0, 0] = 1.0
    for j in range(1, overlaps[-1] + 1):
        prev = sums[j - 1]
        sums[j] = [(binom[n, :n + 1] * mu[:n + 1] * prev[n::-1]).sum() for n in range(nmax + 1)]
    lf = gammaln(np.arange(m + 1) + 1.0)
    D = degrees.size
    acc = np.zeros((D * D, nmax - 1))
    for start in range(0, overlaps.size, _OVERLAP_BLOCK):
        j = overlaps[start:start + _OVERLAP_BLOCK, None, None]
        k1 = degrees[None, :, None] - j
        k2 = degrees[None, None, :] - j
        rest = m - j - k1 - k2
        valid = (k1 >= 0) & (k2 >= 0) & (rest >= 0)
        log_p = np.where(valid, lf[m] - lf[j] - lf[np.clip(k1, 0, m)] - lf[np.clip(k2, 0, m)]
                         - lf[np.clip(rest, 0, m)] - m * math.log(4.0), -np.inf)
        acc += np.exp(log_p).reshape(j.shape[0], D * D).T @ sums[j[:, 0, 0], 2:nmax + 1]
    return acc.reshape(D, D, nmax - 1)


@lru_cache(maxsize=8)
def rho_weights(m, n_rho):
    """``W[a, b, i] = Σ_j π_{j,d_a,d_b} E[ρ² ℓ_i(ρ) | j, d_a, d_b]`` over the kept degrees
    ``d_a`` of :func:`kept_degrees` (shape ``(D, D, n_ρ)``), from the exact moments
    ``E[ρⁿ | j, d1, d2] = E[(x·y)ⁿ]/(E r1ⁿ E r2ⁿ)`` of (CASE-34), summed over j first
    (:func:`_pattern_moments`). The overlaps j (``j ~ Binomial(m, ¼)``) of probability below
    :data:`DEGREE_CUT` are left out too, so the cost is O(D² J) (D ≈ 10√m, J ≈ 8√m) instead of
    O(m³ n_ρ)."""
    from scipy.special import gammaln

    if n_rho > _MAX_POWER:
        raise ValueError(f"n_rho must be at most {_MAX_POWER}, got {n_rho}")
    _, inv = _rho_basis(n_rho)
    p = np.arange(n_rho + 2)
    k = kept_degrees(m)[:, None]
    log_chi = (p / 2) * math.log(2.0) + gammaln((k + p) / 2) - gammaln(k / 2)  # log E rⁿ, χ_d
    acc = _pattern_moments(m)[:, :, :n_rho]
    moments = acc / np.exp(log_chi[:, None, 2:] + log_chi[None, :, 2:])
    return moments @ inv


def _gamma_rule(n, shape):
    """n-point Gauss rule of the Gamma(shape, 1) law: nodes and weights summing to 1 (Golub–Welsch
    on the generalized Laguerre recurrence; no Γ(shape) is formed, so any shape is fine)."""
    from scipy.linalg import eigh_tridiagonal

    i = np.arange(n)
    alpha = shape - 1.0
    x, v = eigh_tridiagonal(2.0 * i + alpha + 1.0, np.sqrt(i[1:] * (i[1:] + alpha)))
    return x, v[0] ** 2


@lru_cache(maxsize=16)
def _radial(m, n_r):
    """``(r, R)``: per kept degree d (:func:`kept_degrees`) the nodes ``r^d_a`` and weights
    ``R^d_a`` of the Gauss rule with ``E_{r~χ_d}[r² g(r)] ≈ Σ_a R^d_a g(r^d_a)``."""
    r, R = [], []
    for k in kept_degrees(m):
        x, w = _gamma_rule(n_r, k / 2)                            # r²/2 ~ Gamma(k/2, 1)
        r.append(np.sqrt(2.0 * x))
        R.append(w * 2.0 * x)
    return np.array(r), np.array(R)


def chebyshev_nodes(lo, hi, n):
    """Chebyshev points of the first kind on ``[lo, hi]`` and their barycentric weights."""
    k = np.arange(n)
    angle = np.pi * (2 * k + 1) / (2 * n)
    return (lo + hi) / 2 + (hi - lo) / 2 * np.cos(angle), (-1.0) ** k * np.sin(angle)


def interpolation(x, nodes, weights):
    """``(len(x), n)`` barycentric interpolation matrix at the points ``x``."""
    diff = x[:, None] - nodes[None, :]
    hit = diff == 0.0
    q = weights / np.where(hit, 1.0, diff)
    q = np.where(hit.any(1, keepdims=True), hit.astype(float), q)
    return q / q.sum(1, keepdims=True)


def wide_rule(classes, m, sigma_v, level, F=output_expectations):
    """``(E c² D, E c² O)`` by the rule of size ``level`` = ``(n_r, n_σ, n_ρ)`` (CASE-36).
    ``F(σ1, σ2, ρ, classes)`` -> ``(n, k)`` is the integrand (the ζ-quadrature of (CASE-32);
    another function only in tests); it must be symmetric in σ1 ↔ σ2 (the table is filled from
    ``σ1 ≤ σ2``)."""
    n_r, n_s, n_rho = level
    t, _ = _rho_basis(n_rho)
    W = rho_weights(m, n_rho)
    r, R = _radial(m, n_r)
    scale = math.sqrt(sigma_v * sigma_v / m)
    sig = scale * r                                                  # (D, n_r)
    r_span, _ = _radial(m, SPAN_NODES)             # one σ-range for every size: refinements nest
    nodes, weights = chebyshev_nodes(scale * r_span.min(), scale * r_span.max(), n_s)
    L = interpolation(sig.ravel(), nodes, weights)
    M = np.einsum("da,dak->dk", R, L.reshape(*sig.shape, n_s))       # (D, n_σ)
    ia, ib = np.triu_indices(n_s)
    a, b = np.repeat(ia, n_rho), np.repeat(ib, n_rho)
    i = np.tile(np.arange(n_rho), ia.size)
    f = F(nodes[a], nodes[b], t[i], classes)
    table = np.zeros((n_s, n_s, n_rho, f.shape[1]))
    table[a, b, i] = f
    table[b, a, i] = f
    H = np.einsum("xk,klif,yl->xyif", M, table, M)                  # (D, D, n_ρ, k)
    return np.einsum("xyi,xyif->f", W, H)
