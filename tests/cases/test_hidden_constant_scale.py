"""``K_h(γ, m)`` against the large-C diagonal hidden block, by direct Monte Carlo (CASE-10).

``K_h/C`` is the limit of ``g_ij/g_ii``; its denominator is ``lim_C g_ii = (E a_ii)² + γ E a_ii²``
with ``a_ii = κ_ii(u) 1(u_i > 0)``, ``κ_ii = Σ_c p_c (V_ci − μ_i)²``. Oracle: that g_ii, sampled
here with numpy at C = 1000 from its definition (no code of the package), times ``K_h`` must give
the numerator ``(E h0²)^{m−2}(E h1²)² + γ α^{m−2} T²`` of (CASE-10), whose pieces are checked by
quadrature of their definitions in ``test_hidden_terms_quadrature.py``. Two values of γ pin the
γ-dependence of the normalisation.

False alarm: ``ALPHA`` per check (two comparisons; Student t over the V draws, whose spread carries
the error), plus the known O(1/C) bias of the finite-C softmax variance, bounded by
``FINITE_C_BIAS / C`` relative.
"""

import math

import numpy as np

from rmthess.cases import hidden_constant
from rmthess.cases._mlp_ce_constants import hidden_terms
from tests._mc import monte_carlo, z_threshold

ALPHA = 1e-3
C, M, SIGMA = 1000, 8, 1.0
GAMMAS = (0.25, 4.0)
V_DRAWS, U_DRAWS = 32, 256
#: κ_ii is a p-weighted variance of C values: relative bias ~ Σ p_c² ≈ e^{τ|s|²}/C; 10/C bounds it
FINITE_C_BIAS = 10.0


def _diag_weights(rng):
    """Samples of ``a_00``, one row per V draw: shape (V_DRAWS, U_DRAWS)."""
    out = np.empty((V_DRAWS, U_DRAWS))
    for k in range(V_DRAWS):
        V = SIGMA / math.sqrt(M) * rng.standard_normal((C, M))
        u = rng.standard_normal((U_DRAWS, M))
        z = np.maximum(u, 0.0) @ V.T
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        mu = p @ V[:, 0]
        kappa = np.einsum("tc,tc->t", p, (V[None, :, 0] - mu[:, None]) ** 2)
        out[k] = kappa * (u[:, 0] > 0)
    return out


@monte_carlo(alpha=ALPHA, seed=2025)
def check_hidden_constant_times_gii(seed):
    a = _diag_weights(np.random.default_rng(seed))
    half = U_DRAWS // 2
    sq = a[:, :half].mean(1) * a[:, half:].mean(1)       # per V, unbiased (E_u a)²: two halves
    ms = (a * a).mean(1)
    e0, h1, alpha, T = hidden_terms(M, SIGMA)
    k = z_threshold(ALPHA, dof=V_DRAWS - 1, comparisons=len(GAMMAS))
    for gamma in GAMMAS:
        per_v = sq + gamma * ms
        g, g_se = per_v.mean(), per_v.std(ddof=1) / math.sqrt(V_DRAWS)
        num = e0 ** (M - 2) * h1 ** 2 + gamma * alpha ** (M - 2) * T ** 2
        got = hidden_constant(gamma, M, SIGMA) * g
        tol = k * hidden_constant(gamma, M, SIGMA) * g_se + FINITE_C_BIAS / C * num
        assert abs(got - num) <= tol, (gamma, got, num, tol)


def test_hidden_constant_against_large_c_diagonal_block():
    check_hidden_constant_times_gii(2025)
