"""Case 4: one-hidden-layer ReLU network with the cross-entropy loss (theory/cases.md,
(CASE-9)–(CASE-18), (CASE-32)–(CASE-35)).

At finite C the limits are expectations over the output weights V and the hidden pre-activations u.
For Gaussian V they are estimated by randomized quasi-Monte Carlo over pairs ``(u, u')`` after the
parts of V orthogonal to ``span(s, s')`` are integrated out exactly (Rao–Blackwellization,
(CASE-15)–(CASE-17)), with control variates and replicate error bars, until a requested relative
standard error is met (CASE-18); from :data:`OUTPUT_QUADRATURE_CLASSES` classes on, the output
block integrates the coordinates ζ out by quadrature and samples ``(u, u')`` only (CASE-32), and
from :data:`HIDDEN_QUADRATURE_CLASSES` on the hidden block does the same (CASE-33). Where
``m ≤ 16`` and ``τ = σ_v²/m ≤ 1/4``, ``m ≤ 32`` and ``τ ≤ 1/16``, or ``17 ≤ m ≤ 2048``,
``τ ≤ 1/8`` and ``σ_v ≤ 2``, the output block is not sampled at all: a deterministic product
rule over ``(|s|, |s'|, ŝ·ŝ')`` gives it to 1e-6 relative at any C (to 1e-5 by default above
τ = 1/8 and with the per-degree rules of CASE-36; CASE-34, CASE-36); where also ``m ≤ 16``, at tight
targets, the hidden block integrates the norms by a rule too and samples only the directions,
stratified by the pattern of active units (CASE-35). For any
other law of the entries of V, nested Monte Carlo over
independent V draws (CASE-9) with the same stopping rule. All values are flagged ``estimate=True``.
As C → ∞ the ratios follow the constants of :mod:`rmthess.cases._mlp_ce_constants`.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from rmthess._cost import FLOP_RATE, check_cost
from rmthess._jit import steady_clock
from rmthess._softmax import kappa, softmax
from rmthess._validate import as_generator, child_seed
from rmthess.cases._architectures import HiddenAnisotropy, HiddenArchitecture
from rmthess.cases._base import BlockLimit, CaseLimits
from rmthess.cases._blocks import BLOCK_HIDDEN, BLOCK_OUTPUT
from rmthess.cases._estimate import (
    check_rtol,
    check_time,
    resolve_seed,
    run_to_rtol,
    summarize,
    worst_rse,
)
from rmthess.cases._mlp_ce_constants import hidden_constant, output_constant
from rmthess.cases._mlp_ce_gamma import gamma_term
from rmthess.cases._mlp_ce_hidden import hidden_pair_terms
from rmthess.cases._mlp_ce_hidden_rule import HiddenRule, TableDisagreement
from rmthess.cases._mlp_ce_hidden_rule import usable as hidden_rule_usable
from rmthess.cases._mlp_ce_kernels import (
    gamma_terms_numba,
    hidden_weights,
    ndtri_numba,
    pair_terms_numba,
    sums_numba,
)
from rmthess.cases._mlp_ce_output import SIGMA_MAX, OutputDomainError, output_expectations
from rmthess.cases._mlp_ce_output_rule import output_rule
from rmthess.cases._mlp_ce_output_rule import usable as output_rule_usable
from rmthess.cases._registry import register
from rmthess.laws.prior import validate_prior

__all__ = ["MlpCE", "DEFAULT_RTOL", "DEFAULT_LAW_RTOL", "DEFAULT_MAX_TIME", "REPLICATES",
           "DEFAULT_SAMPLES", "DEFAULT_V_DRAWS", "OUTPUT_QUADRATURE_CLASSES",
           "HIDDEN_QUADRATURE_CLASSES", "HIDDEN_RULE_RTOL"]

#: default target relative standard error of every g and ratio (Gaussian V; RQMC route)
DEFAULT_RTOL = 1e-2
#: default target for a non-Gaussian law of V (nested Monte Carlo over V draws, much slower)
DEFAULT_LAW_RTOL = 1e-2
#: default time budget in seconds
DEFAULT_MAX_TIME = 60.0
#: independent scrambles of the Sobol' rule (their spread gives the standard errors)
REPLICATES = 32
#: legacy fixed budget ``samples``: total inner draws u, split over DEFAULT_V_DRAWS matrices V
DEFAULT_SAMPLES = 1 << 17
DEFAULT_V_DRAWS = 64
_CHUNK = 16          # V draws per kernel call (nested route)
_LAW_U_DRAWS = DEFAULT_SAMPLES // DEFAULT_V_DRAWS
_PILOT = 1 << 14     # plain Monte Carlo draws that fix the control-variate coefficients
_QMC_MAX_DIM = 512   # above this many dimensions only the first 512 are Sobol' (u first, then u')
_BLOCK_ROWS = 1 << 21  # bound on n·C per kernel call (memory)
_OUTPUT_PILOT = 256  # plain Monte Carlo points that fix the output control coefficients (CASE-32)
_OUTPUT_FIRST = 16   # output points per replicate in the first round (CASE-32)
_HIDDEN_PILOT = 64   # plain Monte Carlo points that fix the hidden control coefficients (CASE-33)
_HIDDEN_FIRST = 2    # hidden points per replicate in the first round (CASE-33)
#: from this many classes on, ζ is integrated out of the output draws (CASE-32): measured faster
#: than the sampled ζ of (CASE-18) from C ≈ 300 on (benchmarks/bench_mlp_ce_output.py)
OUTPUT_QUADRATURE_CLASSES = 1000
#: from this many classes on (and from OUTPUT_QUADRATURE_CLASSES), ζ is integrated out of the
#: hidden pair terms (CASE-33): measured faster than the sampled ζ from C ≈ 10³ on, slower at
#: C ≤ 300 (benchmarks/bench_mlp_ce_hidden.py)
HIDDEN_QUADRATURE_CLASSES = 1000
#: loosest target at which the hidden block may come from the rule over the norms with stratified
#: directions (CASE-35); see :func:`_hidden_rule_pays` for the target at a given C
HIDDEN_RULE_RTOL = 1e-3
#: the share of ``rtol`` the table of (CASE-35) may take; the replicates meet the rest (they are
#: cheap: ≈ 0.1 s of CPU to rtol/2 = 5e-5 at m = 8, while a table level costs 0.5–6 s; at τ = 1/4
#: a share of 1/4 took a third level at C ≥ 10³, ≈ 5 s more)
_HIDDEN_RULE_TABLE_SHARE = 0.5


def _split(samples):
    if isinstance(samples, tuple):
        if len(samples) != 2:
            raise ValueError("samples must be an int or a pair (v_draws, u_draws), "
                             f"got {samples!r}")
        n_v, n_u = samples
    else:
        if isinstance(samples, bool) or not isinstance(samples, numbers.Integral) or samples < 256:
            raise ValueError(f"samples must be an integer >= 256, got {samples!r}")
        n_v = min(DEFAULT_V_DRAWS, max(4, int(samples) // 64))
        n_u = int(samples) // n_v
    for name, x in (("v_draws", n_v), ("u_draws", n_u)):
        if isinstance(x, bool) or not isinstance(x, numbers.Integral) or x < 2:
            raise ValueError(f"samples gives {name}={x!r}; need >= 2 of each (samples >= 256)")
    if n_v < 4:
        raise ValueError(f"at least 4 draws of V are needed for a standard error, got {n_v}")
    return int(n_v), int(n_u)


def _per_v_statistics(sums, n):
    """Unbiased per-V estimates (U-statistics for the squared inner means), (CASE-9)."""
    hS, hS2, odS, odS2, ooS, ooS2 = sums
    m = hS.shape[1]
    nn = n * (n - 1)
    sq = (hS * hS - hS2) / nn                  # unbiased (E_u a_ij)²
    ms = hS2 / n                               # unbiased E_u a_ij²
    eye = np.eye(m, dtype=bool)
    off = ~eye
    o_diag = ((odS ** 2).sum((2, 3)) - odS2).mean(1) / nn
    o_off = ((ooS ** 2).sum((2, 3)) - ooS2).mean(1) / nn
    return np.column_stack([sq[:, eye].mean(1), sq[:, off].mean(1), ms[:, eye].mean(1),
                            ms[:, off].mean(1), o_diag, o_off])


def _law_draws(v_law, rng, shape):
    """``v_law.sample(rng, shape)`` checked: the right shape, finite."""
    x = np.asarray(v_law.sample(rng, shape), dtype=float)
    if x.shape != shape:
        raise ValueError(f"v_law.sample(rng, {shape}) returned shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("v_law.sample returned non-finite values")
    return x


def _check_statistics_cost(classes, m, n_v, n_u):
    """Refuse (:func:`rmthess._cost.check_cost`) before allocating: per chunk of V draws the kernel
    holds ``V``, ``U`` and two ``C×m×m`` sums; each of the ``n_v n_u`` draws costs
    ``~C(m² + m)``."""
    k = min(_CHUNK, n_v)
    nbytes = 8.0 * k * (classes * m + n_u * m + 2 * classes * m * m + 2 * m * m)
    seconds = n_v * n_u * classes * (m * m + m) / FLOP_RATE
    check_cost(f"mlp-ce limits (classes={classes}, m={m}, {n_v}x{n_u} draws)", nbytes=nbytes,
               seconds=seconds, hint="reduce classes, m or samples")


def nested_rows(classes, m, sigma_v, rng, n_v, n_u, v_law=None, kernel=sums_numba):
    """Per-V rows ``(T1_ii, T1_ij, T2_ii, T2_ij, O_ii, O_ij)`` of (CASE-9) for ``n_v`` fresh V
    (entries ``σ_v/√m`` times draws of ``v_law``, standard normal when None) and ``n_u`` draws of
    u."""
    rng = as_generator(rng)
    parts = []
    scale = sigma_v / math.sqrt(m)
    for start in range(0, n_v, _CHUNK):
        k = min(_CHUNK, n_v - start)
        shape = (k, classes, m)
        V = scale * (rng.standard_normal(shape) if v_law is None else _law_draws(v_law, rng, shape))
        U = rng.standard_normal((k, n_u, m))
        parts.append(_per_v_statistics(kernel(V, U), n_u))
    return np.concatenate(parts)


#: control variates of each target column (T1_ii, T1_ij, O_ii, O_ij) of the pair kernel (CASE-18)
_CONTROLS = ((4,), (5,), (6, 7, 8, 9), (6, 7, 8, 9))


def _control_means(classes, m, tau, prior=None):
    """Known means of the pair-kernel columns 4..9 (CASE-18; CASE-31 with a class ``prior`` π,
    the controls' ``Q0 = diag π − ππᵀ``)."""
    C = classes
    if prior is None:
        off = tau * tau * (C - 1.0) / (C * C)        # E (aᵀQ0 b)², a, b independent columns of V
        diag = tau * tau * (C * C - 1.0) / (C * C)   # E (aᵀQ0 a)²
    else:
        pi = np.asarray(prior, dtype=float)
        s2 = math.fsum(pi * pi)
        trq = math.fsum(pi * (1.0 - pi))             # tr Q0
        trq2 = s2 - 2.0 * math.fsum(pi ** 3) + s2 * s2   # tr Q0²
        off = tau * tau * trq2                       # E (aᵀQ0 b)² = τ² tr Q0²
        diag = tau * tau * (trq * trq + 2.0 * trq2)  # E (aᵀQ0 a)² = τ²((tr Q0)² + 2 tr Q0²)
    ss = m / 4.0 + m * (m - 1.0) / (4.0 * math.pi ** 2)   # E (s·s')² (CASE-8)
    mu = np.zeros(10)
    mu[4:7] = diag / 4.0, off / 16.0, ss
    return mu


class _Scrambles:
    """``R`` independent scrambled Sobol' streams of standard normal points in ``dim`` dimensions:
    all from the Sobol' rule up to :data:`_QMC_MAX_DIM` dimensions, else the first ``lead`` ones
    (at most :data:`_QMC_MAX_DIM`: scrambling costs as much per dimension as a few thousand
    kernel draws, and adds nothing measurable in thousands of dimensions), the rest
    pseudo-random (CASE-18)."""

    def __init__(self, dim, lead, seed, key, replicates):
        from scipy.stats import qmc

        self.dim = dim
        self.qdim = dim if dim <= _QMC_MAX_DIM else min(lead, _QMC_MAX_DIM)
        self.engines = [qmc.Sobol(self.qdim, scramble=True,
                                  seed=np.random.default_rng(child_seed(seed, key, r)))
                        for r in range(replicates)]
        self.rngs = [np.random.default_rng(child_seed(seed, key + 1, r))
                     for r in range(replicates)]

    def normals(self, r, n):
        """The next ``n`` points of replicate ``r``, shape ``(n, dim)``."""
        with warnings.catch_warnings():
            # draws continue one sequence in blocks; the totals reached are powers of two
            warnings.filterwarnings("ignore", message="The balance properties")
            x = self.engines[r].random(n)
        g = ndtri_numba(np.clip(x, 2.0 ** -60, 1.0 - 2.0 ** -53))
        if self.qdim == self.dim:
            return g
        return np.concatenate([g, self.rngs[r].standard_normal((n, self.dim - self.qdim))], 1)


class _GammaSampler:
    """Replicates of the γ-term ``(E a_ii², E a_ij²)`` with logit offsets (CASE-31): points
    ``(u, ζ_·1) ∈ R^{m+C}`` of scrambled Sobol' rules, no control variates."""

    def __init__(self, classes, m, sigma_v, seed, offsets, replicates=REPLICATES):
        self.C, self.m, self.tau, self.R = classes, m, sigma_v * sigma_v / m, replicates
        self.offsets = offsets
        self.points = _Scrambles(m + classes, m, seed, 5, replicates)
        self.sums = np.zeros((replicates, 2))
        self.count = 0

    def __call__(self, n):
        rows = max(1, min(n, _BLOCK_ROWS // max(self.C, 1)))
        for r in range(self.R):
            done = 0
            while done < n:
                k = min(rows, n - done)
                g = self.points.normals(r, k)
                self.sums[r] += gamma_terms_numba(g[:, :self.m], g[:, self.m:], self.tau,
                                                  offsets=self.offsets).sum(0)
                done += k
        self.count += n
        return self.sums / self.count


class _PairSampler:
    """Scrambled Sobol' replicates of the Rao–Blackwellized pair terms with control variates.

    ``gamma_terms``: the exact ``(E a_ii², E a_ij²)`` (CASE-19) or, with logit ``offsets``, a
    :class:`_GammaSampler` advanced with the pair terms (CASE-31); then the per-class output
    diagonals are accumulated too (``class_means``)."""

    def __init__(self, classes, m, sigma_v, seed, gamma_terms, replicates=REPLICATES,
                 offsets=None, pairs=None):
        self.C, self.m, self.tau = classes, m, sigma_v * sigma_v / m
        self.R = replicates
        self.offsets = offsets
        self.points = _Scrambles(2 * m + 2 * classes, 2 * m, seed, 1, replicates)
        self.sums = np.zeros((self.R, 4))
        self.class_sums = np.zeros((self.R, classes)) if offsets is not None else None
        self.pairs = np.zeros((0, 2), dtype=np.int64) if pairs is None else pairs
        self.pair_sums = np.zeros((self.R, len(self.pairs)))
        self.count = 0
        if isinstance(gamma_terms, _GammaSampler):
            self.gamma, self.exact = gamma_terms, None
        else:
            self.gamma, self.exact = None, np.asarray(gamma_terms, dtype=float)  # (CASE-19)
        prior = None
        if offsets is not None:
            e = np.exp(offsets - np.max(offsets))
            prior = e / e.sum()
        self.mu = _control_means(classes, m, self.tau, prior)
        n_pilot = max(64, min(_PILOT, (1 << 24) // (2 * classes + m * m)))
        pilot = self._terms(np.random.default_rng(child_seed(seed, 0)), n_pilot)
        self.beta = self._coefficients(pilot)

    # -- draws
    def _terms_from(self, g, zeta, per_class=False):
        m = self.m
        return pair_terms_numba(g[:, :m], g[:, m:2 * m], zeta, self.tau, offsets=self.offsets,
                                per_class=per_class, pairs=self.pairs if per_class else None)

    def _terms(self, rng, n):
        g = rng.standard_normal((n, 2 * self.m))
        return self._terms_from(g, rng.standard_normal((n, self.C, 2)))

    def _sobol_terms(self, r, n):
        g = self.points.normals(r, n)
        zeta = g[:, 2 * self.m:].reshape(n, self.C, 2)
        if self.class_sums is None:
            return self._terms_from(g, zeta)
        t, cls, cpair = self._terms_from(g, zeta, per_class=True)
        self.class_sums[r] += cls.sum(0)
        self.pair_sums[r] += cpair.sum(0)
        return t

    def class_means(self):
        """Per-replicate means of the per-class output diagonals ``(s·s')² w_c w'_c``, (R, C), and
        of the output blocks of the class pairs, (R, P)."""
        return self.class_sums / self.count, self.pair_sums / self.count

    # -- control variates
    @staticmethod
    def _coefficients(t):
        """Least-squares control-variate coefficients of every target from the pilot draws."""
        beta = []
        for k, cols in enumerate(_CONTROLS):
            x = t[:, cols] - t[:, cols].mean(0)
            y = t[:, k] - t[:, k].mean()
            beta.append(np.linalg.lstsq(x, y, rcond=None)[0] if np.any(x) else np.zeros(len(cols)))
        return beta

    def _adjusted(self, t):
        out = np.empty((t.shape[0], 4))
        for k, cols in enumerate(_CONTROLS):
            out[:, k] = t[:, k] - (t[:, cols] - self.mu[list(cols)]) @ self.beta[k]
        return out

    def __call__(self, n):
        """Add ``n`` points to every replicate; return rows ``(T1_ii, T1_ij, T2_ii, T2_ij, O_ii,
        O_ij)``
        of replicate means, with the exact γ-terms T2, shape (R, 6)."""
        rows = max(1, min(n, _BLOCK_ROWS // max(self.C, 1)))
        for r in range(self.R):
            done = 0
            while done < n:
                k = min(rows, n - done)
                self.sums[r] += self._adjusted(self._sobol_terms(r, k)).sum(0)
                done += k
        self.count += n
        mean = self.sums / self.count
        if self.gamma is None:
            t2 = np.broadcast_to(self.exact, (self.R, 2))
        else:
            t2 = self.gamma(n)
        return np.column_stack([mean[:, :2], t2, mean[:, 2:]])


def _polynomial_means(m):
    """Exact means of the output controls ``(a, b, c, a², b², c², ab, ac, bc)``, ``a = |s|²``,
    ``b = |s'|²``, ``c = s·s'`` (half-normal moments ``E s = 1/√(2π)``, ``E s² = 1/2``,
    ``E s³ = √(2/π)``, ``E s⁴ = 3/2``; CASE-32)."""
    pi = math.pi
    a, a2 = m / 2.0, 1.5 * m + m * (m - 1.0) / 4.0
    c, c2 = m / (2.0 * pi), m / 4.0 + m * (m - 1.0) / (4.0 * pi * pi)
    ac = m / pi + m * (m - 1.0) / (4.0 * pi)
    return np.array([a, a, c, a2, a2, c2, a * a, ac, ac])


def _polynomials(g, m):
    """The control monomials of :func:`_polynomial_means` at the normal points ``g = (u, u')``."""
    s = np.maximum(g[:, :m], 0.0)
    s2 = np.maximum(g[:, m:2 * m], 0.0)
    a, b, c = (s * s).sum(1), (s2 * s2).sum(1), (s * s2).sum(1)
    return np.column_stack([a, b, c, a * a, b * b, c * c, a * b, a * c, b * c])


#: tilts k of the large-C controls ``(s·s')² e^{kτ s·s'}`` (CASE-32; means from CASE-12)
_TILTS = np.array([1.0, 2.0])


def _tilt_means(m, sigma_v):
    """Means ``E(s·s')² e^{τ s·s'} = E‖A‖²_F`` and ``E(s·s')² e^{2τ s·s'} = E‖B‖²_F`` of (CASE-12),
    the limits of ``C² (s·s')² D`` and ``C⁴ (s·s')² O`` as C → ∞ (CASE-32); each only where the
    control has a finite variance (``E e^{λ s·s'} < ∞`` iff λ < 1: ``2kτ < 1``)."""
    from rmthess.cases._mlp_ce_constants import output_terms

    tau = sigma_v * sigma_v / m
    if not 2.0 * tau < 1.0:
        return np.zeros(0)
    a, b = output_terms(m, sigma_v)
    return np.array([a, b]) if 4.0 * tau < 1.0 else np.array([a])


class _OutputSampler:
    """Scrambled Sobol' replicates over ``(u, u') ∈ R^{2m}`` of the output draws with ζ integrated
    out by quadrature (CASE-32): ``(s·s')² (D, O)`` at ``(√τ|s|, √τ|s'|, ŝ·ŝ')``, with the
    degree-2 polynomial controls in ``(|s|², |s'|², s·s')`` and the large-C controls
    ``(s·s')² e^{kτ s·s'}``, all of exact means."""

    def __init__(self, classes, m, sigma_v, seed, replicates=REPLICATES):
        self.C, self.m, self.tau, self.R = classes, m, sigma_v * sigma_v / m, replicates
        self.points = _Scrambles(2 * m, 2 * m, seed, 9, replicates)
        self.mu = np.concatenate([_polynomial_means(m), _tilt_means(m, sigma_v)])
        self.sums = np.zeros((replicates, 2))
        self.count = 0
        pilot = np.random.default_rng(child_seed(seed, 8)).standard_normal((_OUTPUT_PILOT, 2 * m))
        y, x = self._terms(pilot)
        xc = x - x.mean(0)
        self.beta = [np.linalg.lstsq(xc, y[:, k] - y[:, k].mean(), rcond=None)[0]
                     for k in range(2)]

    @staticmethod
    def usable(m, sigma_v):
        """Whether every point with ``|s| ≤ √m + 7`` lies in the certified domain."""
        return sigma_v / math.sqrt(m) * (math.sqrt(m) + 7.0) <= SIGMA_MAX

    def _terms(self, g):
        m = self.m
        x = _polynomials(g, m)
        tilts = x[:, 5:6] * np.exp(self.tau * np.outer(x[:, 2], _TILTS[:self.mu.size - 9]))
        x = np.column_stack([x, tilts])
        n1, n2 = np.sqrt(x[:, 0]), np.sqrt(x[:, 1])
        with np.errstate(invalid="ignore", divide="ignore"):
            rho = np.where(n1 * n2 > 0, x[:, 2] / (n1 * n2), 0.0)
        st = math.sqrt(self.tau)
        de = output_expectations(st * n1, st * n2, np.clip(rho, 0.0, 1.0), self.C)
        return x[:, 5:6] * de, x

    def __call__(self, n):
        """Add ``n`` points to every replicate; rows ``(O_ii, O_ij)`` of replicate means."""
        g = np.concatenate([self.points.normals(r, n) for r in range(self.R)])
        y, x = self._terms(g)
        adj = np.column_stack([y[:, k] - (x - self.mu) @ self.beta[k] for k in range(2)])
        self.sums += adj.reshape(self.R, n, 2).sum(1)
        self.count += n
        return self.sums / self.count


def _hidden_controls(g, m, tau, classes):
    """Large-C controls of the hidden pair terms at the normal points ``g = (u, u')`` (CASE-33):
    ``τ² avg_i 1_i`` (the limit of the diagonal, κ_ii → τ) and, where ``2τ < 1`` (finite variance),
    ``τ² e^{τ s·s'} avg_{i≠j} 1_i 1_j (1 + τ s_i s'_i)(1 + τ s_j s'_j)/C`` (the limit of the
    off-diagonal, CASE-10), ``1_i = 1(u_i > 0)1(u'_i > 0)``."""
    s = np.maximum(g[:, :m], 0.0)
    s2 = np.maximum(g[:, m:2 * m], 0.0)
    both = (s > 0) & (s2 > 0)
    diag = tau * tau * both.mean(1)
    if not 2.0 * tau < 1.0:
        return diag[:, None]
    f = both * (1.0 + tau * s * s2)
    pairs = f.sum(1) ** 2 - (f * f).sum(1)
    off = tau * tau * np.exp(tau * (s * s2).sum(1)) * pairs / (m * (m - 1.0) * classes)
    return np.column_stack([diag, off])


def _hidden_control_means(m, sigma_v, classes):
    """Means of :func:`_hidden_controls`: ``τ²/4``, and ``(E h0²)^{m−2}(E h1²)²/C`` of (CASE-10)
    (``E_{u,u'} e^{τ s s'} = E h0²``, ``E_{u,u'}[1_i e^{τ s_i s'_i}(τ + τ² s_i s'_i)] = E h1²``
    per coordinate)."""
    from rmthess.cases._mlp_ce_constants import hidden_terms

    tau = sigma_v * sigma_v / m
    if not 2.0 * tau < 1.0:
        return np.array([tau * tau / 4.0])
    h0, h1, _, _ = hidden_terms(m, sigma_v)
    return np.array([tau * tau / 4.0, h0 ** (m - 2) * h1 * h1 / classes])


class _HiddenSampler:
    """Scrambled Sobol' replicates over ``(u, u') ∈ R^{2m}`` of the hidden pair terms with ζ
    integrated out by quadrature (CASE-33); rows ``(T1_ii, T1_ij, T2_ii, T2_ij)`` of replicate
    means with the exact γ-terms (CASE-19). Controls of exact means: the large-C limits of
    :func:`_hidden_controls` with coefficient 1, and on what they leave, the nine output
    polynomials of :func:`_polynomials` and the large-C controls again, with least-squares
    coefficients from an independent plain Monte Carlo pilot of :data:`_HIDDEN_PILOT` points."""

    first = _HIDDEN_FIRST

    def __init__(self, classes, m, sigma_v, seed, gamma_terms, replicates=REPLICATES):
        self.C, self.m, self.tau, self.R = classes, m, sigma_v * sigma_v / m, replicates
        self.points = _Scrambles(2 * m, 2 * m, seed, 11, replicates)
        self.mu_x = _hidden_control_means(m, sigma_v, classes)
        self.mu = np.concatenate([_polynomial_means(m), self.mu_x])
        self.exact = np.asarray(gamma_terms, dtype=float)
        self.sums = np.zeros((replicates, 2))
        self.count = 0
        pilot = np.random.default_rng(child_seed(seed, 10)).standard_normal((_HIDDEN_PILOT, 2 * m))
        r, z = self._terms(pilot)
        zc = z - z.mean(0)
        self.beta = [np.linalg.lstsq(zc, r[:, k] - r[:, k].mean(), rcond=None)[0]
                     for k in range(2)]

    @staticmethod
    def usable(m, sigma_v):
        """Whether every point with ``|s| ≤ √m + 7`` lies in the certified domain."""
        return _OutputSampler.usable(m, sigma_v)

    def _terms(self, g):
        """The draws minus their large-C controls plus the controls' means, and the fitted
        controls (polynomials, large-C), at the normal points ``g``."""
        y = hidden_pair_terms(g[:, :self.m], g[:, self.m:], self.tau, self.C)
        x = _hidden_controls(g, self.m, self.tau, self.C)
        y[:, :x.shape[1]] -= x - self.mu_x
        return y, np.column_stack([_polynomials(g, self.m), x])

    def __call__(self, n):
        g = np.concatenate([self.points.normals(r, n) for r in range(self.R)])
        y, z = self._terms(g)
        adj = np.column_stack([y[:, k] - (z - self.mu) @ self.beta[k] for k in range(2)])
        self.sums += adj.reshape(self.R, n, 2).sum(1)
        self.count += n
        return np.column_stack([self.sums / self.count, np.broadcast_to(self.exact, (self.R, 2))])


class _RuleOutput:
    """The output block of the deterministic rule (CASE-34) as constant replicate rows
    ``(O_ii, O_ij)`` (no spread: the block never misses ``rtol`` in :class:`_SplitSampler`); the
    rule's error bounds replace the standard errors afterwards (:meth:`block`)."""

    def __init__(self, classes, m, sigma_v, rtol, replicates=REPLICATES, max_time=None):
        self.values, self.errors = output_rule(classes, m, sigma_v, rtol, max_time)
        self.R = replicates
        self.count = 0

    def __call__(self, n):
        self.count += n
        return np.broadcast_to(np.asarray(self.values), (self.R, 2))

    @classmethod
    def where_usable(cls, classes, m, sigma_v, rtol, max_time=None):
        """The rule where it serves ``(m, σ_v)`` and its sizes agree, else None (a ``ValueError``
        when its next size would overrun ``max_time`` seconds)."""
        if not output_rule_usable(m, sigma_v):
            return None
        try:
            return cls(classes, m, sigma_v, rtol, max_time=max_time)
        except OutputDomainError:
            return None

    def block(self):
        """The output :class:`BlockLimit` with the rule's error bounds as standard errors."""
        (g_ii, g_ij), (e_ii, e_ij, e_ratio) = self.values, self.errors
        return BlockLimit(g_ii, g_ij, g_ij / g_ii, e_ratio, True, e_ii, e_ij, bound=True)


class _SplitSampler:
    """The hidden columns from a :class:`_PairSampler`, a :class:`_HiddenSampler` or a
    :class:`HiddenRule`, the output columns from an :class:`_OutputSampler` or a
    :class:`_RuleOutput`; each advanced only while its own block misses ``rtol`` at some γ of
    ``gamma`` (a number or a tuple; the integrated samplers doubling from their first round: the
    ``first`` attribute, :data:`_OUTPUT_FIRST`). A :class:`HiddenRule`'s block is tested with its
    table error bounds added (:meth:`HiddenRule.widen`), as it is reported."""

    def __init__(self, pairs, output, gamma, rtol):
        self.pairs, self.output, self.rtol = pairs, output, rtol
        self.gammas = gamma if isinstance(gamma, tuple) else (gamma,)
        self.hidden_rows = None
        self.output_rows = None

    def _misses(self, rows, block):
        if rows is None:
            return True
        for g in self.gammas:
            limit = summarize(rows, g)[block]
            if block == BLOCK_HIDDEN and isinstance(self.pairs, HiddenRule):
                limit = self.pairs.widen(limit, g)
            if worst_rse({block: limit}) > self.rtol:
                return True
        return False

    def __call__(self, n):
        rows = self._join()
        if self._misses(rows, BLOCK_HIDDEN):
            first = getattr(self.pairs, "first", None)
            if first is not None:
                n = max(first, self.pairs.count)
            self.hidden_rows = self.pairs(n)
        if self._misses(rows, BLOCK_OUTPUT):
            self.output_rows = self.output(max(_OUTPUT_FIRST, self.output.count))
        return self._join()

    def _join(self):
        if self.hidden_rows is None or self.output_rows is None:
            return None
        return np.column_stack([self.hidden_rows[:, :4], self.output_rows])


def _hidden_rule_pays(classes, rtol):
    """Whether the rule of (CASE-35) is expected to beat the sampled routes at the target ``rtol``:
    their time grows like ``a(C)/rtol²`` (at m = 8, σ_v = 1, ``a`` ∝ C^0.8 from C = 3 to 300:
    1e-4 in 2.7 s at C = 3, 6 s at C = 10, 28 s at C = 100; 1e-3 in 1–2 s up to C = 100, 5 s at
    C = 300, 1.5 s by (CASE-33) at C = 10³), the rule's is ≈ 2.5–3.5 s at any target: the
    crossover is ``rtol ≈ 1e-4 (C/3)^0.4``, capped at :data:`HIDDEN_RULE_RTOL`
    (benchmarks/bench_mlp_ce_limits.py)."""
    return rtol <= min(HIDDEN_RULE_RTOL, 1e-4 * (classes / 3.0) ** 0.4)


def _hidden_route(classes, m, sigma_v, root, exact, rtol):
    """The sampler of the hidden columns beside an integrated output block: the rule of (CASE-35)
    where it serves ``(m, σ_v)`` and pays (:func:`_hidden_rule_pays`; unless its tables do not
    agree), the ζ-quadrature of (CASE-33) from :data:`HIDDEN_QUADRATURE_CLASSES`, else the
    sampled pair terms (CASE-18)."""
    if hidden_rule_usable(m, sigma_v) and _hidden_rule_pays(classes, rtol):
        try:
            return HiddenRule(classes, m, sigma_v, root, exact, _HIDDEN_RULE_TABLE_SHARE * rtol,
                              REPLICATES)
        except TableDisagreement:
            pass
    if classes >= HIDDEN_QUADRATURE_CLASSES and _HiddenSampler.usable(m, sigma_v):
        return _HiddenSampler(classes, m, sigma_v, root, exact)
    return _PairSampler(classes, m, sigma_v, root, exact)


def _identical_classes_step(classes, m, sigma_v, root, exact, rtol, fixed, gamma, max_time=None):
    """The step of :func:`run_to_rtol` for Gaussian V and identical classes, with the exact
    γ-terms ``exact``: a :class:`_SplitSampler` where the output block is integrated — by the rule
    of (CASE-34) where it serves, else from :data:`OUTPUT_QUADRATURE_CLASSES` by (CASE-32) — with
    the hidden block of :func:`_hidden_route`; else (or with a ``fixed`` budget) the pair
    sampler of (CASE-18). ``gamma``: one aspect ratio or a tuple (the rows are free of γ);
    ``max_time``: the seconds left for the output rule (None: no limit)."""
    output = None if fixed is not None else _RuleOutput.where_usable(classes, m, sigma_v, rtol,
                                                                     max_time)
    if (output is None and fixed is None and classes >= OUTPUT_QUADRATURE_CLASSES
            and _OutputSampler.usable(m, sigma_v)):
        output = _OutputSampler(classes, m, sigma_v, root)
    if output is None:
        return _PairSampler(classes, m, sigma_v, root, exact)
    return _SplitSampler(_hidden_route(classes, m, sigma_v, root, exact, rtol), output, gamma,
                         rtol)


def _finished(blocks, step, gamma):
    """``blocks`` at γ with the deterministic parts' error bounds in place of (output rule) or
    added to (hidden rule) the replicate standard errors (the ``finish`` of :func:`run_to_rtol`,
    so the stopping rule tests the errors as reported)."""
    if isinstance(step, _SplitSampler):
        if isinstance(step.pairs, HiddenRule):
            blocks[BLOCK_HIDDEN] = step.pairs.widen(blocks[BLOCK_HIDDEN], gamma)
        if isinstance(step.output, _RuleOutput):
            blocks[BLOCK_OUTPUT] = step.output.block()
    return blocks


def _check_pairs(pairs, classes):
    """``pairs`` as a (P, 2) int array of distinct 0-based classes, or ``ValueError``."""
    try:
        arr = np.asarray(pairs, dtype=float).reshape(-1, 2)
    except (TypeError, ValueError):
        raise ValueError(f"pairs must be a sequence of (c, c') class pairs, "
                         f"got {pairs!r}") from None
    if arr.size and (not np.all(arr == np.round(arr)) or arr.min() < 0 or arr.max() >= classes
                     or np.any(arr[:, 0] == arr[:, 1])):
        raise ValueError(f"pairs must be pairs of distinct classes in 0..{classes - 1}, "
                         f"got {pairs!r}")
    return arr.astype(np.int64)


def _time_spent(max_time, t_start, fixed):
    """Seconds of ``max_time`` spent on the set-up (γ-term quadrature, output rule, pilot draws)
    before the sampler starts; ``ValueError`` when nothing is left for a target-driven run (a
    fixed budget runs regardless)."""
    spent = steady_clock() - t_start
    if fixed is None and spent >= max_time:
        raise ValueError(f"max_time={max_time:g} s is spent on the set-up (γ-term quadrature, "
                         f"output rule, pilot draws) before any sampling; raise max_time")
    return spent


def _first_points(classes, m):
    """Sobol' points per replicate in the first round: ~2²² kernel operations, a power of two."""
    work = REPLICATES * (2 * classes + m * m)
    k = int(math.log2(max(1.0, (1 << 22) / work)))
    return 1 << min(10, max(4, k))


@register
class MlpCE(HiddenArchitecture):
    r"""One-hidden-layer ReLU network ``f = V relu(W x)`` with the CE loss (estimates at finite C).

    Notes
    -----
    (CASE-9): at fixed V, ``(1/d)‖H_{w_i w_j}‖²_F → (E_u a_ij)² + γ E_u a_ij²`` with
    ``a_ij = κ_ij(u) 1(u_i>0) 1(u_j>0)``, ``κ(u) = Vᵀ(diag p − ppᵀ)V``, ``p = softmax(V relu(u))``,
    ``u ~ N(0, I_m)``; output blocks ``‖H_{v_c v_c'}‖²_F → ‖E_u[(δ_cc' p_c − p_c p_c') s sᵀ]‖²_F``;
    ``g`` averages these over V (hidden: over all pairs; output: over c and the pairs c ≠ c').

    Gaussian V (``v_law=None``, ``V_ci ~ N(0, σ_v²/m)``): ``E_V(E_u a)² = E_{u,u'} E_V[a(u) a(u')]``
    over independent ``u, u'``; given ``(u, u')`` and the coordinates of the rows of V on
    ``span(s, s')``, the orthogonal parts are Gaussian and are integrated out exactly (CASE-15;
    output blocks CASE-17). The γ-term ``E a_ij²`` is deterministic: conditioning on ``s`` alone
    (CASE-16) leaves Gaussian-softmax power sums and an integral over ``|s|`` (CASE-19), computed by
    quadrature (graded panels, Gauss and Kronrod rules agreeing to 1e-8). The remaining
    ``2m + 2C``-dimensional expectation is a scrambled Sobol' rule with :data:`REPLICATES`
    independent scrambles, control variates with known means (the same formulas at uniform ``p``,
    and ``(s·s')²`` of the MSE case), doubling until every relative standard error is ≤ ``rtol``
    (CASE-18). From :data:`OUTPUT_QUADRATURE_CLASSES` classes on (no prior, a target ``rtol``),
    the output draws are integrated over ζ by quadrature at a cost independent of C, and only
    ``(u, u')`` is sampled, with polynomial and large-C controls (CASE-32); from
    :data:`HIDDEN_QUADRATURE_CLASSES` on, the hidden pair terms likewise (CASE-33). Where ``m ≤ 16``
    and ``τ ≤ 1/4``, ``m ≤ 32`` and ``τ ≤ 1/16``, or ``17 ≤ m ≤ 2048``, ``τ ≤ 1/8`` and
    ``σ_v ≤ 2`` (no prior, a target ``rtol``) the output block comes instead from a deterministic
    rule over ``(|s|, |s'|, ρ)`` (CASE-34; above m = 32, and above τ = 1/16 from m = 17, with
    per-degree radial rules and a table of the ζ-quadrature, CASE-36) at every C, to
    ``min(rtol, 1e-6)`` relative (``min(rtol, 1e-5)`` above τ = 1/8 and with the per-degree rules,
    where finer rules cost 10 s and more); its ``stderr_*`` are then the differences of two
    successive rules (error bounds).
    Where also ``m ≤ 16``, at targets where it pays (``rtol`` ≤ 1e-4 at C = 3 up to
    :data:`HIDDEN_RULE_RTOL` from C = 10³ on, :func:`_hidden_rule_pays`), the hidden block
    integrates ``|s|, |s'|`` by a Gauss rule over a table of the ζ-expectations in
    ``(|s|, |s'|, arccos ρ)`` and samples only the directions, stratified by the pattern of active
    units, with ``ρⁿ`` controls (CASE-35):
    ≈ 4–5 s of CPU for 1e-4 at any C at m = 8, σ_v = 1, 9–12 s at τ = 1/4 (m = 4, σ_v = 1; m = 8,
    σ_v = √2; m = 16, σ_v = 2); its ``stderr_*`` are the replicate errors plus the table's error
    bound. Above m = 16 the hidden block keeps the sampled routes beside the output rule
    (1e-4 in ≈ 2–10 s at m = 32–2048, σ_v = 1, C = 3–10⁶; their pair kernel sums the unit pairs
    through a 2 × 2 Gram matrix, O(m) per draw).

    Other laws (``v_law`` an object with ``.sample(rng, shape)`` giving iid unit-variance draws and
    a ``.name``): nested Monte Carlo (CASE-9) over independent V with ``σ_v/√m · v_law.sample``
    entries, U-statistics for the squared inner means, doubling the number of V draws until
    ``rtol``.

    With a data covariance of spectrum law H (``covariance``, :mod:`rmthess.gmp.covariance`;
    theory/anisotropic.md, ANI-5–ANI-8), ``s_k = E_H σᵏ``: ``u ~ N(0, s_1 I_m)``, and since
    ``κ(√s_1 g; V) = κ(g; √s_1 V)/s_1`` the hidden ``g`` are the isotropic ones at
    ``(γ s_1²/s_2, σ_v √s_1)`` times ``s_2/s_1²``, the output ``g`` those at ``σ_v √s_1`` times
    ``s_1²``; the ratios are the isotropic ratios at these parameters (also as C → ∞).

    References
    ----------
    Dong et al., arXiv:2505.02809, theorem 2.

    Examples
    --------
    >>> from rmthess.cases import get_case
    >>> lim = get_case("mlp-ce").limits(1.0, 4, m=3, rng=0, rtol=1e-2)
    >>> lim.blocks["hidden"].estimate, lim.seed
    (True, 0)
    >>> lim.blocks["hidden"].stderr_ratio <= 1e-2 * lim.blocks["hidden"].ratio
    True
    """

    name = "mlp-ce"
    loss = "ce"

    def limits(self, gamma, classes, *, m=None, sigma_v=1.0, covariance=None, rng=None,
               samples=None, rtol=None, max_time=DEFAULT_MAX_TIME, v_law=None,
               prior=None) -> CaseLimits:
        """Estimates of ``g_ii``, ``g_ij`` and the ratio of both block types, with standard errors.

        Parameters
        ----------
        gamma, classes, m, sigma_v
            ``γ = d/N > 0``, ``C >= 2``, hidden width ``m >= 2``, ``V_ci`` of variance ``σ_v²/m``.
        covariance : WeightLaw, optional
            Spectrum law of a data covariance Σ (None: Σ = I): the estimate runs at the effective
            parameters of (ANI-6), and the ``g`` and their standard errors are mapped back. With
            a ``prior`` as well, the offsets are not rescaled (the homogeneity of ANI-6 acts on
            ``V relu(u)`` only).
        rng : None, int, Generator or SeedSequence
            Source of the seed; the integer seed used is ``result.seed`` (pass it back to
            reproduce the result).
        samples : int or (int, int), optional
            A fixed budget instead of ``rtol`` (kept for compatibility): the total number of draws,
            or ``(v_draws, u_draws)``. Gaussian V: that many pairs ``(u, u')`` in all.
        rtol : float, optional
            Target relative standard error of every ``g`` and ratio (default :data:`DEFAULT_RTOL`,
            :data:`DEFAULT_LAW_RTOL` with ``v_law``).
        max_time : float
            Time budget in seconds for the whole call, γ-term quadrature included; ``ValueError``
            before the quadrature when its estimated cost exceeds the budget, and as soon as
            ``rtol`` is out of reach of what is left. numba's one-time compilation of the kernels
            (a fresh install's first call) is not counted (:func:`rmthess._jit.steady_clock`).
        v_law : object, optional
            Law of the entries of V (``.sample(rng, shape)``, unit variance); None: Gaussian.
        prior : array_like, optional
            Class probabilities π: logits ``V s + b`` with offsets ``b_c = log π_c`` (CASE-31).
            The output ``g`` are then means over the classes (diagonal) and over the ordered pairs
            of distinct classes (off-diagonal); :meth:`class_limits` gives the output diagonal
            class by class. A uniform prior is the identical-class case.
        """
        return self._estimate(gamma, classes, m, sigma_v, rng, samples, rtol, max_time, v_law,
                              prior, covariance=covariance)[0]

    def class_limits(self, gamma, prior, *, m=None, sigma_v=1.0, covariance=None, rng=None,
                     samples=None, rtol=None, max_time=DEFAULT_MAX_TIME, v_law=None, pairs=()):
        r"""Per-class output-block limits with the offsets ``b_c = log π_c`` (CASE-31).

        The diagonal output block of class c, ``g_ii(c) = E_V ‖E_u[p_c(1 − p_c) s sᵀ]‖²_F``, for
        every class, from the same draws as :meth:`limits` (which stops on the class means; the
        per-class values carry their own standard errors, larger for rare classes). The other
        arguments are those of :meth:`limits` (a non-Gaussian ``v_law`` is refused); ``pairs``:
        0-based pairs of distinct classes whose off-diagonal output block
        ``g_ij(c, c′) = E_V ‖E_u[p_c p_c′ s sᵀ]‖²_F`` is wanted.

        Returns
        -------
        dict or None
            None for a uniform prior (identical classes). Else ``g_ii`` and ``stderr_g_ii``
            (arrays over the classes), ``g_ii_mean`` and ``g_ij_mean`` (the output block's class
            means), ``pairs``, ``g_ij_pairs`` and ``stderr_g_ij_pairs``, ``limits`` (the
            :class:`CaseLimits` of the same run) and ``seed``.
        """
        pi = np.asarray(prior, dtype=float)
        classes = len(pi) if pi.ndim == 1 else 0
        pairs = _check_pairs(pairs, classes)
        lim, step = self._estimate(gamma, classes, m, sigma_v, rng, samples, rtol, max_time,
                                   v_law, prior, pairs, covariance)
        if step is None:
            return None
        cm, pm = step.class_means()
        f = HiddenAnisotropy.of(covariance).factors[BLOCK_OUTPUT]      # (ANI-7)
        cm, pm = cm * f, pm * f
        out = lim.blocks[BLOCK_OUTPUT]
        k = math.sqrt(cm.shape[0])
        return {"g_ii": cm.mean(0), "stderr_g_ii": cm.std(0, ddof=1) / k,
                "g_ii_mean": out.g_ii, "g_ij_mean": out.g_ij, "pairs": pairs,
                "g_ij_pairs": pm.mean(0), "stderr_g_ij_pairs": pm.std(0, ddof=1) / k,
                "limits": lim, "seed": lim.seed}

    def _check_pairs_of_units(self, gamma, classes, m, sigma_v):
        """The parameters validated (:meth:`_check`), with m ≥ 2: the off-diagonal hidden blocks
        need a pair of hidden units."""
        gamma, classes, m, sigma_v = self._check(gamma, classes, m, sigma_v)
        if m < 2:
            raise ValueError("mlp-ce needs m >= 2 hidden units to have off-diagonal hidden blocks")
        return gamma, classes, m, sigma_v

    def limits_over_gamma(self, gammas, classes, *, m=None, sigma_v=1.0, rng=None, rtol=None,
                          max_time=DEFAULT_MAX_TIME) -> dict:
        r"""The limits at several aspect ratios γ from one set of draws: ``{γ: CaseLimits}``.

        With Gaussian V, no class prior and Σ = I, the replicate rows of every route
        ``(T1_ii, T1_ij, T2_ii, T2_ij, O_ii, O_ij)`` do not depend on γ: ``g = T1 + γ T2`` (CASE-9)
        with the exact γ-terms T2 (CASE-19), and the output block is free of γ. One run of the
        samplers :meth:`limits` would use then serves every γ; each block stops when its limits
        at *every* γ meet ``rtol``, so each is an estimate of the same law as :meth:`limits` with
        the same seed, with a relative standard error ≤ ``rtol`` (at the γ that converges first
        it rests on more points than :meth:`limits` would use). The output blocks of all γ are
        the same numbers. ``max_time`` covers the whole call. The other
        arguments are those of :meth:`limits`.
        """
        t_start = steady_clock()
        if isinstance(gammas, (str, bytes)) or not hasattr(gammas, "__iter__"):
            raise ValueError(f"gammas must be a sequence of aspect ratios, got {gammas!r}")
        checked = [self._check_pairs_of_units(g, classes, m, sigma_v) for g in gammas]
        if not checked:
            raise ValueError("gammas must hold at least one aspect ratio")
        _, classes, m, sigma_v = checked[0]
        gs = tuple(c[0] for c in checked)
        rtol = check_rtol(DEFAULT_RTOL if rtol is None else rtol)
        max_time = check_time(max_time)
        seed = resolve_seed(rng)
        t2d, t2o, _ = gamma_term(classes, m, sigma_v, max_time=max_time)
        step = _identical_classes_step(classes, m, sigma_v, np.random.SeedSequence(seed),
                                       (t2d, t2o), rtol, None, gs,
                                       max_time - (steady_clock() - t_start))
        blocks, _ = run_to_rtol(step, gs, rtol, max_time, _first_points(classes, m), None,
                                _time_spent(max_time, t_start, None),
                                lambda b, g: _finished(b, step, g))
        return {g: CaseLimits(self.name, g, classes, m, sigma_v, b, seed)
                for g, b in zip(gs, blocks, strict=True)}

    def _estimate(self, gamma, classes, m, sigma_v, rng, samples, rtol, max_time, v_law, prior,
                  pairs=None, covariance=None):
        """The limits and, with a non-uniform prior, the pair sampler (for its per-class sums, at
        the effective parameters of a ``covariance``: (ANI-6), the offsets unchanged). The time
        budget covers the whole call: the γ-term quadrature refuses before its work when its
        estimated cost exceeds ``max_time``, and the sampler gets what is left."""
        t_start = steady_clock()
        gamma, classes, m, sigma_v = self._check_pairs_of_units(gamma, classes, m, sigma_v)
        ani = HiddenAnisotropy.of(covariance)
        gamma_iso, sigma_iso = gamma, sigma_v
        gamma, sigma_v = ani.effective(gamma, sigma_v)               # (ANI-6)
        if samples is not None and rtol is not None:
            raise ValueError("give either samples (a fixed budget) or rtol (a target), not both")
        fixed = None if samples is None else _split(samples)
        if fixed is not None:
            _check_statistics_cost(classes, m, *fixed)
        if rtol is None:
            rtol = DEFAULT_RTOL if v_law is None else DEFAULT_LAW_RTOL
        rtol, max_time = check_rtol(rtol), check_time(max_time)
        if v_law is not None and not callable(getattr(v_law, "sample", None)):
            raise ValueError(f"v_law must have a method sample(rng, shape), got {v_law!r}")
        offsets = None
        if prior is not None:
            pi = validate_prior(prior, classes)
            if v_law is not None:
                raise ValueError("a class prior with a non-Gaussian v_law is not supported: the "
                                 "offsets are integrated for Gaussian V only (CASE-31)")
            if not np.all(pi == pi[0]):
                offsets = np.log(pi)
        seed = resolve_seed(rng)
        root = np.random.SeedSequence(seed)
        step = None
        if v_law is None:
            if offsets is None:
                t2d, t2o, _ = gamma_term(classes, m, sigma_v, max_time=max_time)
                step = _identical_classes_step(classes, m, sigma_v, root, (t2d, t2o), rtol, fixed,
                                               gamma, max_time - (steady_clock() - t_start))
            else:
                step = _PairSampler(classes, m, sigma_v, root,
                                    _GammaSampler(classes, m, sigma_v, root, offsets),
                                    offsets=offsets, pairs=pairs)
            total = None if fixed is None else max(2, -(-fixed[0] * fixed[1] // REPLICATES))
            blocks, _ = run_to_rtol(step, gamma, rtol, max_time, _first_points(classes, m), total,
                                    _time_spent(max_time, t_start, total),
                                    lambda b, g: _finished(b, step, g))
            if offsets is None:
                step = None
        else:
            n_u = _LAW_U_DRAWS if fixed is None else fixed[1]
            rows = []

            def step(n):
                rows.append(nested_rows(classes, m, sigma_v, child_seed(root, len(rows)), n, n_u,
                                        v_law))
                return np.concatenate(rows)

            blocks, _ = run_to_rtol(step, gamma, rtol, max_time, _CHUNK,
                                    None if fixed is None else fixed[0],
                                    _time_spent(max_time, t_start, fixed))
            step = None
        return ani.restore(CaseLimits(self.name, gamma, classes, m, sigma_v, blocks, seed),
                           gamma_iso, sigma_iso), step

    def block_law(self, block, which, gamma, classes, *, m=None, sigma_v=1.0, covariance=None,
                  V=None, indices=(0, 1), rng=None, samples=1 << 16, gram=None, **kwargs):
        r"""GMP law of a hidden block at a fixed V, with the empirical law of ``a_ij(u)`` as
        weights.

        ``samples`` draws of ``u ~ N(0, I_m)`` (``rng``) give an :class:`~rmthess.laws.EmpiricalLaw`
        of ``a_ii`` (``"diag"``) or ``a_ij`` (``"offdiag"``), ``(i, j) = indices``. With a
        ``covariance`` H: ``u ~ N(0, s_1 I_m)`` and the separable law of these weights and H
        (ANI-8). With ``gram`` (the m×m ``W Wᵀ`` of a fixed first layer): ``u = L g``,
        ``LLᵀ = gram``, the law at fixed V and W (CASE-37).
        """
        from rmthess.gmp import GeneralizedMarchenkoPastur, SeparableMarchenkoPastur
        from rmthess.laws import EmpiricalLaw

        gamma, classes, m, sigma_v = self._check_law(block, which, gamma, classes, m, sigma_v)
        ani = HiddenAnisotropy.of(covariance)
        V, i, j = self.hidden_block(block, V, indices, classes, m)
        L = self.hidden_gram_factor(gram, m)
        if which == "diag":
            j = i
        u = as_generator(rng).standard_normal((int(samples), m))
        if L is not None:
            u = u @ L.T
        if ani.given:
            u *= math.sqrt(ani.s1)                                     # (ANI-5)
        pair = V[:, [i, j]]
        kij = kappa(pair, softmax(np.maximum(u, 0.0) @ V.T))[:, 0, 1]
        a = kij * (u[:, i] > 0) * (u[:, j] > 0)
        if covariance is None:
            return GeneralizedMarchenkoPastur(EmpiricalLaw(a), gamma)
        return SeparableMarchenkoPastur(EmpiricalLaw(a), covariance, gamma)

    def asymptote(self, gamma, classes, *, m=None, sigma_v=1.0, covariance=None,
                  v_law=None) -> dict:
        """``{"hidden": K_h/C, "output": K_o/C²}`` (CASE-10, CASE-12; CASE-22, CASE-23 for a
        non-Gaussian entry law ``v_law`` of V) — with a ``covariance`` at ``(γ s_1²/s_2, σ_v √s_1)``
        (ANI-6); ``ValueError`` where the constants do not exist."""
        gamma, classes, m, sigma_v = self._check(gamma, classes, m, sigma_v)
        ani = HiddenAnisotropy.of(covariance)
        gamma_eff, sigma_eff = ani.effective(gamma, sigma_v)
        try:
            return {BLOCK_HIDDEN: hidden_constant(gamma_eff, m, sigma_eff, v_law=v_law) / classes,
                    BLOCK_OUTPUT: output_constant(m, sigma_eff, v_law=v_law) / classes ** 2}
        except ValueError as exc:
            raise ani.explained(exc, gamma, sigma_v) from None

    def weights(self, params, U):
        """Hidden: dense ``κ_ij(n) 1(u_ni>0) 1(u_nj>0)``, ``κ(n) = Vᵀ(diag p_n − p_n p_nᵀ)V``;
        output: ``Λ_n = diag(p_n) − p_n p_nᵀ`` (structured, ``α = β = p_n``),
        ``p_n = softmax(V s_n + b)`` with the offsets ``b = params.offset`` of a class prior
        (CASE-31, theory/anisotropic.md ANI-14; none by default)."""
        from rmthess.montecarlo.blocknorms import DenseWeights, StructuredWeights

        V = np.ascontiguousarray(params.second, dtype=float)
        U = np.ascontiguousarray(U, dtype=float)
        z = np.maximum(U, 0.0) @ V.T
        p = softmax(z if params.offset is None else z + params.offset)
        return {BLOCK_HIDDEN: DenseWeights(hidden_weights(U, V, p)),
                BLOCK_OUTPUT: StructuredWeights(p, p)}
