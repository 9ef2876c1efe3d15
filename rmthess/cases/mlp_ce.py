"""Case 4: one-hidden-layer ReLU network with the cross-entropy loss (theory/cases.md, (CASE-9)–(CASE-12)).

At finite C the limits are m-dimensional Gaussian integrals plus an expectation over the output
weights V; they are estimated by Monte Carlo (numba kernel :mod:`rmthess.cases._kernels`) with
standard errors, and flagged ``estimate=True``. As C → ∞ the ratios follow the constants of
:mod:`rmthess.cases.constants`.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from rmthess._cost import FLOP_RATE, check_cost
from rmthess._validate import as_generator
from rmthess.cases._kernels import sums_numba
from rmthess.cases.base import BlockLimit, Case, CaseLimits, register
from rmthess.cases.constants import hidden_constant, output_constant
from rmthess.cases.mlp_mse import _hidden_block

__all__ = ["MlpCE", "DEFAULT_SAMPLES", "DEFAULT_V_DRAWS"]

#: default Monte Carlo budget: total inner draws u, split over DEFAULT_V_DRAWS output matrices V
DEFAULT_SAMPLES = 1 << 17
DEFAULT_V_DRAWS = 64
_CHUNK = 16  # V draws processed per kernel call (bounds memory)


def _split(samples):
    if samples is None:
        samples = DEFAULT_SAMPLES
    if isinstance(samples, tuple):
        if len(samples) != 2:
            raise ValueError(f"samples must be an int or a pair (v_draws, u_draws), got {samples!r}")
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
    h_diag_sq = sq[:, eye].mean(1)
    h_diag_2 = ms[:, eye].mean(1)
    h_off_sq = sq[:, off].mean(1) if m > 1 else np.full(hS.shape[0], np.nan)
    h_off_2 = ms[:, off].mean(1) if m > 1 else np.full(hS.shape[0], np.nan)
    o_diag = ((odS ** 2).sum((2, 3)) - odS2).mean(1) / nn
    o_off = ((ooS ** 2).sum((2, 3)) - ooS2).mean(1) / nn
    return h_diag_sq, h_diag_2, h_off_sq, h_off_2, o_diag, o_off


def _ratio_with_error(num, den):
    """Ratio of means over V draws and its delta-method standard error."""
    k = num.size
    mn, md = num.mean(), den.mean()
    r = mn / md
    cov = np.cov(np.vstack([num, den]), ddof=1)
    var = (cov[0, 0] / md ** 2 - 2 * r * cov[0, 1] / md ** 2 + r * r * cov[1, 1] / md ** 2) / k
    return r, math.sqrt(max(var, 0.0)), math.sqrt(cov[0, 0] / k), math.sqrt(cov[1, 1] / k)


def _check_statistics_cost(classes, m, n_v, n_u):
    """Refuse (:func:`rmthess._cost.check_cost`) before allocating: per chunk of V draws the kernel
    holds ``V``, ``U`` and two ``C×m×m`` sums; each of the ``n_v n_u`` draws costs ``~C(m² + m)``."""
    k = min(_CHUNK, n_v)
    nbytes = 8.0 * k * (classes * m + n_u * m + 2 * classes * m * m + 2 * m * m)
    seconds = n_v * n_u * classes * (m * m + m) / FLOP_RATE
    check_cost(f"mlp-ce limits (classes={classes}, m={m}, {n_v}x{n_u} draws)", nbytes=nbytes,
               seconds=seconds, hint="reduce classes, m or samples")


def mlp_ce_statistics(classes, m, sigma_v, rng, n_v, n_u, kernel=sums_numba):
    """Per-V statistics of :func:`_per_v_statistics` for ``n_v`` fresh V and ``n_u`` draws of u each."""
    rng = as_generator(rng)
    parts = []
    scale = sigma_v / math.sqrt(m)
    for start in range(0, n_v, _CHUNK):
        k = min(_CHUNK, n_v - start)
        V = scale * rng.standard_normal((k, classes, m))
        U = rng.standard_normal((k, n_u, m))
        parts.append(_per_v_statistics(kernel(V, U), n_u))
    return [np.concatenate([p[i] for p in parts]) for i in range(6)]


@register
class MlpCE(Case):
    r"""One-hidden-layer ReLU network ``f = V relu(W x)`` with the CE loss (Monte Carlo at finite C).

    Notes
    -----
    (CASE-9): at fixed V, ``(1/d)‖H_{w_i w_j}‖²_F → (E_u a_ij)² + γ E_u a_ij²`` with
    ``a_ij = κ_ij(u) 1(u_i>0) 1(u_j>0)``, ``κ(u) = Vᵀ(diag p − ppᵀ)V``, ``p = softmax(V relu(u))``,
    ``u ~ N(0, I_m)``; output blocks ``‖H_{v_c v_c'}‖²_F → ‖E_u[(δ_cc' p_c − p_c p_c') s sᵀ]‖²_F``.
    ``g`` are averages over ``V_ci ~ N(0, σ_v²/m)``; the squared inner means are estimated without
    bias by U-statistics, averaged over all hidden pairs, all classes c and the pairs (c, c+1), and the
    standard errors come from the spread over independent V draws (ratio: delta method).

    References
    ----------
    Dong et al., arXiv:2505.02809, theorem 2.

    Examples
    --------
    >>> from rmthess.cases import get_case
    >>> lim = get_case("mlp-ce").limits(1.0, 4, m=3, rng=0, samples=4096)
    >>> lim.blocks["hidden"].estimate
    True
    """

    name = "mlp-ce"
    block_types = ("hidden", "output")
    uses_width = True

    def limits(self, gamma, classes, *, m=None, sigma_v=1.0, rng=None, samples=None) -> CaseLimits:
        """Monte Carlo estimates; ``samples`` is the total number of u draws (int) or a pair
        ``(v_draws, u_draws)``; ``rng`` anything :func:`numpy.random.default_rng` accepts."""
        gamma, classes, m, sigma_v = self._check(gamma, classes, m, sigma_v)
        if m < 2:
            raise ValueError("mlp-ce needs m >= 2 hidden units to have off-diagonal hidden blocks")
        n_v, n_u = _split(samples)
        _check_statistics_cost(classes, m, n_v, n_u)
        hd2, hd, ho2, ho, od, oo = mlp_ce_statistics(classes, m, sigma_v, rng, n_v, n_u)
        r, se_r, se_o, se_d = _ratio_with_error(ho2 + gamma * ho, hd2 + gamma * hd)
        hidden = BlockLimit(float(np.mean(hd2 + gamma * hd)), float(np.mean(ho2 + gamma * ho)), r,
                            se_r, True, se_d, se_o)
        r, se_r, se_o, se_d = _ratio_with_error(oo, od)
        output = BlockLimit(float(od.mean()), float(oo.mean()), r, se_r, True, se_d, se_o)
        return CaseLimits(self.name, gamma, classes, m, sigma_v,
                          {"hidden": hidden, "output": output})

    def block_law(self, block, which, gamma, classes, *, m=None, sigma_v=1.0, V=None,
                  indices=(0, 1), rng=None, samples=1 << 16, **kwargs):
        r"""GMP law of a hidden block at a fixed V, with the empirical law of ``a_ij(u)`` as weights.

        ``samples`` draws of ``u ~ N(0, I_m)`` (``rng``) give an :class:`~rmthess.laws.EmpiricalLaw`
        of ``a_ii`` (``"diag"``) or ``a_ij`` (``"offdiag"``), ``(i, j) = indices``.
        """
        from rmthess.gmp import GeneralizedMarchenkoPastur
        from rmthess.laws import EmpiricalLaw

        gamma, classes, m, sigma_v = self._check_law(block, which, gamma, classes, m, sigma_v)
        _, i, j = _hidden_block(block, V, indices, classes, m)
        V = np.asarray(V, dtype=float)
        if which == "diag":
            j = i
        u = as_generator(rng).standard_normal((int(samples), m))
        s = np.maximum(u, 0.0)
        z = s @ V.T
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        mu = p @ V
        di = V[None, :, i] - mu[:, i:i + 1]
        dj = V[None, :, j] - mu[:, j:j + 1]
        kij = np.einsum("tc,tc->t", p, di * dj)
        a = kij * (u[:, i] > 0) * (u[:, j] > 0)
        return GeneralizedMarchenkoPastur(EmpiricalLaw(a), gamma)

    def asymptote(self, gamma, classes, *, m=None, sigma_v=1.0) -> dict:
        """``{"hidden": K_h/C, "output": K_o/C²}`` (CASE-10, CASE-12); ``ValueError`` for m < 3."""
        gamma, classes, m, sigma_v = self._check(gamma, classes, m, sigma_v)
        return {"hidden": hidden_constant(gamma, m, sigma_v) / classes,
                "output": output_constant(m, sigma_v) / classes ** 2}
