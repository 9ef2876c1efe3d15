"""The nested route of mlp-ce (any entry law of V) is unbiased at two inner draws (CASE-9).

For a law of the entries of V other than the Gaussian, ``g = E_V[(E_u a)² + γ E_u a²]`` is estimated
per V draw with a U-statistic for ``(E_u a)²``, which is unbiased for any number ``n_u`` of inner
draws; the square of the inner mean would be biased upward by ``Var_u(a)/n_u`` (half the inner variance
at ``n_u = 2``). Oracle: ``a_ij(u)`` computed here from its definition with numpy for independent draws
of V with uniform entries, and ``(E_u a)²`` estimated by the product of the means of two independent
halves of the inner draws (unbiased by independence). Both sides are averages over V draws with
standard errors from their spread.
"""

import math

import numpy as np

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
LAW = entry_law("uniform")


def _oracle(rng):
    """Per V draw: ``(E_u a_ii)² + γ E_u a_ii²`` and the same for a_ij, averaged over the pairs."""
    half = math.sqrt(3.0)                                  # unit-variance uniform entries
    V = SIGMA / math.sqrt(M) * rng.uniform(-half, half, (ORACLE_V, C, M))
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
    g = halves[:, 0] * halves[:, 1] + GAMMA * (a * a).mean((1, 2))
    eye = np.eye(M, dtype=bool)
    return g[:, eye].mean(1), g[:, ~eye].mean(1)


@monte_carlo(alpha=ALPHA, seed=3)
def check_law_route_unbiased(seed):
    rng = np.random.default_rng(seed)
    blk = get_case("mlp-ce").limits(GAMMA, C, m=M, sigma_v=SIGMA, rng=rng, samples=PACKAGE_SAMPLES,
                                    v_law=LAW).blocks["hidden"]
    gd, go = _oracle(rng)
    k = z_threshold(ALPHA, comparisons=2)     # >= 1024 V draws on both sides: normal quantiles
    for got, se, ref in ((blk.g_ii, blk.stderr_g_ii, gd), (blk.g_ij, blk.stderr_g_ij, go)):
        ref_se = ref.std(ddof=1) / math.sqrt(ref.size)
        assert abs(got - ref.mean()) <= k * math.hypot(se, ref_se), (got, ref.mean(), se, ref_se)


def test_law_route_is_unbiased_with_two_inner_draws():
    check_law_route_unbiased(3)
