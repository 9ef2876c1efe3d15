"""The mlp-ce hidden blocks by direct sampling: unbiased limits at two inner draws, the fixed-V law.

``g = E_V[(E_u a)² + γ E_u a²]`` (CASE-9); the package estimates ``(E_u a)²`` per V by a
U-statistic, which is unbiased for any number of inner draws, whereas the square of the inner mean
is biased upward by ``Var_u(a)/n_u`` (half of ``E a²`` at n_u = 2 for these non-constant weights).
Oracle: ``a_ij(u)`` computed here from its definition with numpy for independent draws of V, and
``(E_u a)²`` estimated by the product of the means of two independent halves of the inner draws
(unbiased too, by independence). Both sides are averages over V draws with standard errors from
their spread.
"""

import math

import numpy as np
import pytest

from rmthess.cases import get_case
from rmthess.laws import entry_law
from tests._mc import monte_carlo, z_threshold

#: stated false-alarm rate of the check (two comparisons: diagonal and off-diagonal blocks)
ALPHA = 1e-3
#: small γ: the squared inner mean, where the bias would sit, dominates g
GAMMA, C, M, SIGMA = 0.05, 4, 3, 1.0
#: package: many V draws with the smallest inner sample; oracle: (V draws, inner draws per half)
PACKAGE_SAMPLES = (1024, 2)
ORACLE_V, ORACLE_U = 1024, 64


def _oracle(rng, entries=None):
    """Per V draw: ``(E_u a_ii)² + γ E_u a_ii²`` and the same for a_ij, averaged over the pairs.

    ``entries(rng, shape)`` draws unit-variance entries of V (default standard normal).
    """
    eps = rng.standard_normal if entries is None else (lambda shape: entries(rng, shape))
    V = SIGMA / math.sqrt(M) * eps((ORACLE_V, C, M))
    u = rng.standard_normal((ORACLE_V, 2, ORACLE_U, M))
    s = np.maximum(u, 0.0)
    z = np.einsum("vcm,vhtm->vhtc", V, s)
    p = np.exp(z - z.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    mu = np.einsum("vhtc,vcm->vhtm", p, V)
    D = V[:, None, None, :, :] - mu[:, :, :, None, :]                  # (v, h, t, c, m)
    kappa = np.einsum("vhtc,vhtci,vhtcj->vhtij", p, D, D)
    on = (u > 0).astype(float)
    a = kappa * on[..., :, None] * on[..., None, :]
    halves = a.mean(2)                                                  # (v, h, i, j)
    sq = halves[:, 0] * halves[:, 1]
    ms = (a * a).mean((1, 2))
    g = sq + GAMMA * ms
    eye = np.eye(M, dtype=bool)
    return g[:, eye].mean(1), g[:, ~eye].mean(1)


def _assert_matches_oracle(blk, gd, go):
    """``g_ii``, ``g_ij`` of the package's estimate against the oracle's draws, within k combined
    standard errors (two comparisons share the false-alarm budget ALPHA)."""
    k = z_threshold(ALPHA, comparisons=2)     # >= 1024 V draws on both sides: normal quantiles
    for got, se, ref in ((blk.g_ii, blk.stderr_g_ii, gd), (blk.g_ij, blk.stderr_g_ij, go)):
        ref_se = ref.std(ddof=1) / math.sqrt(ref.size)
        assert abs(got - ref.mean()) <= k * math.hypot(se, ref_se), (got, ref.mean(), se, ref_se)


@monte_carlo(alpha=ALPHA, seed=12)
def check_hidden_limits_unbiased(seed):
    rng = np.random.default_rng(seed)
    blk = get_case("mlp-ce").limits(GAMMA, C, m=M, sigma_v=SIGMA, rng=rng,
                                    samples=PACKAGE_SAMPLES).blocks["hidden"]
    _assert_matches_oracle(blk, *_oracle(rng))


def test_hidden_limits_are_unbiased_with_two_inner_draws():
    check_hidden_limits_unbiased(12)


def _uniform_entries(rng, shape):
    """Unit-variance uniform entries, drawn here independently of the package's entry laws."""
    return rng.uniform(-math.sqrt(3.0), math.sqrt(3.0), shape)


@monte_carlo(alpha=ALPHA, seed=3)
def check_law_route_unbiased(seed):
    """The nested route of a non-Gaussian entry law of V (uniform) is unbiased at two inner draws
    too: its U-statistic against the same oracle with uniform entries."""
    rng = np.random.default_rng(seed)
    blk = get_case("mlp-ce").limits(GAMMA, C, m=M, sigma_v=SIGMA, rng=rng, samples=PACKAGE_SAMPLES,
                                    v_law=entry_law("uniform")).blocks["hidden"]
    _assert_matches_oracle(blk, *_oracle(rng, _uniform_entries))


def test_law_route_is_unbiased_with_two_inner_draws():
    check_law_route_unbiased(3)


#: the fixed-V block law: its weights are the empirical law of ``BLOCK_SAMPLES`` draws of a_01(u)
BLOCK_SAMPLES, ORACLE_DRAWS = 4096, 1 << 16


@monte_carlo(alpha=ALPHA, seed=0)
def check_fixed_v_block_law(seed):
    """Mean and second moment of the block law's weights vs a_01(u) drawn here from its definition;
    the GMP second moment (Eλ)² + γ Eλ² (GMP-6) of the block law on top."""
    V = np.random.default_rng(8).standard_normal((5, 4)) / 2
    law = get_case("mlp-ce").block_law("hidden", "offdiag", 1.0, 5, m=4, V=V, rng=seed,
                                       samples=BLOCK_SAMPLES)
    u = np.random.default_rng([seed, 1]).standard_normal((ORACLE_DRAWS, 4))
    z = np.maximum(u, 0.0) @ V.T
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    D = V[None] - (p @ V)[:, None, :]
    a = np.einsum("tc,tc,tc->t", p, D[:, :, 0], D[:, :, 1]) * (u[:, 0] > 0) * (u[:, 1] > 0)
    k = z_threshold(ALPHA, comparisons=2)           # 4096 and 65536 draws: normal quantiles
    for order in (1, 2):
        x = a ** order
        se = x.std(ddof=1) * math.hypot(1 / math.sqrt(BLOCK_SAMPLES), 1 / math.sqrt(x.size))
        assert abs(law.weights.moment(order) - x.mean()) <= k * se
    m1, m2 = law.weights.moment(1), law.weights.moment(2)
    assert law.moment(2) == pytest.approx(m1 * m1 + 1.0 * m2, rel=1e-12)


def test_fixed_v_block_law_against_direct_draws():
    check_fixed_v_block_law(0)
