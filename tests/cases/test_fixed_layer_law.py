"""Hidden block laws at a fixed first layer (theory/cases.md, CASE-37): ``u = W y ~ N(0, W Wᵀ)``.

Oracles: Sheppard's orthant probability at a correlation where it is a rational number, the
frequency of the orthant over draws of ``N(0, G)`` made with a factor other than the code's
(``G^{1/2}`` by ``eigh``, not Cholesky), and the moments of the CE weights ``a_ij(u)`` over such
draws, with their standard errors.
"""

import math

import numpy as np
import pytest
from scipy import special

from rmthess.cases import get_case
from tests._mc import monte_carlo, z_threshold

#: stated false-alarm rate of each Monte Carlo check (normal quantile: ≥ 10⁵ draws)
ALPHA = 1e-4


def _gram(m, rng):
    """A first layer's ``W Wᵀ`` far from the identity: rows of norms 0.5–2, correlations ~0.5."""
    W = rng.standard_normal((m, 3 * m)) / math.sqrt(3 * m)
    W += 0.8 * W[[0]]                                     # every row leans on the first
    W *= rng.uniform(0.5, 2.0, (m, 1))
    return W @ W.T


def _square_root_draws(G, n, rng):
    """``n`` draws of ``N(0, G)`` through the symmetric square root of G (not Cholesky)."""
    w, Q = np.linalg.eigh(G)
    return rng.standard_normal((n, G.shape[0])) @ (Q * np.sqrt(w)) @ Q.T


def test_mse_orthant_probability_closed_form():
    """ρ = 1/2: ``P(u_i > 0, u_j > 0) = 1/3`` exactly; the law's first moment is ``κ_ij P``."""
    V = np.random.default_rng(3).standard_normal((5, 3)) / 2
    k = (V.T @ V)[0, 2]
    G = np.array([[4.0, 0.3, 1.0], [0.3, 1.0, 0.1], [1.0, 0.1, 1.0]])   # ρ_02 = 1/(2·1) = 1/2
    law = get_case("mlp-mse").block_law("hidden", "offdiag", 0.5, 5, m=3, V=V, indices=(0, 2),
                                        gram=G)
    assert law.moment(1) == pytest.approx(k / 3, rel=1e-14)
    # the second moment of a GMP law: (Eλ)² + γ Eλ² with λ = κ Bernoulli(1/3)
    assert law.moment(2) == pytest.approx(k**2 / 9 + 0.5 * k**2 / 3, rel=1e-13)
    diag = get_case("mlp-mse").block_law("hidden", "diag", 0.5, 5, m=3, V=V, indices=(0, 2),
                                         gram=G)
    assert diag.moment(1) == pytest.approx((V.T @ V)[0, 0] / 2, rel=1e-14)


@monte_carlo(alpha=ALPHA, seed=11)
def check_mse_orthant_frequency(seed):
    rng = np.random.default_rng(seed)
    m = 4
    G = _gram(m, rng)
    V = rng.standard_normal((3, m))
    u = _square_root_draws(G, 200_000, rng)
    on = (u[:, 1] > 0) & (u[:, 3] > 0)
    freq, se = on.mean(), on.std() / math.sqrt(on.size)
    law = get_case("mlp-mse").block_law("hidden", "offdiag", 1.0, 3, m=m, V=V, indices=(1, 3),
                                        gram=G)
    got = law.moment(1) / (V.T @ V)[1, 3]
    assert abs(got - freq) <= z_threshold(ALPHA) * se, (got, freq, se)


def test_mse_orthant_frequency():
    check_mse_orthant_frequency(11)


@monte_carlo(alpha=ALPHA, seed=5)
def check_ce_weight_moments(seed):
    """The CE law's ``E a`` and ``E a²`` (from its first two moments) against a Monte Carlo of
    ``a_ij(u)`` over independent draws of ``N(0, G)``; both sides carry sampling error."""
    rng = np.random.default_rng(seed)
    m, C, gamma = 4, 6, 0.5
    G = _gram(m, rng)
    V = rng.standard_normal((C, m)) * 1.5 / math.sqrt(m)
    n_law, n_ref = 1 << 16, 1 << 17
    law = get_case("mlp-ce").block_law("hidden", "offdiag", gamma, C, m=m, V=V, indices=(2, 0),
                                       rng=seed + 1, samples=n_law, gram=G)
    m1, m2 = law.moment(1), law.moment(2)
    mean_law, sq_law = m1, (m2 - m1**2) / gamma
    u = _square_root_draws(G, n_ref, rng)
    p = special.softmax(np.maximum(u, 0.0) @ V.T, axis=1)    # κ_20 = Σ p v_2 v_0 − (p·v_2)(p·v_0)
    k20 = p @ (V[:, 2] * V[:, 0]) - (p @ V[:, 2]) * (p @ V[:, 0])
    a = k20 * (u[:, 2] > 0) * (u[:, 0] > 0)
    k = z_threshold(ALPHA, comparisons=2)
    for got, ref, x in ((mean_law, a.mean(), a), (sq_law, np.mean(a**2), a**2)):
        se = x.std() * math.sqrt(1 / n_law + 1 / n_ref)      # the law's sample and the reference's
        assert abs(got - ref) <= k * se, (got, ref, se)


def test_ce_weight_moments():
    check_ce_weight_moments(5)


@pytest.mark.parametrize("case", ["mlp-ce", "mlp-mse"])
def test_identity_gram_is_the_default(case):
    V = np.random.default_rng(2).standard_normal((4, 3))
    for which in ("diag", "offdiag"):
        a = get_case(case).block_law("hidden", which, 1.0, 4, m=3, V=V, rng=4,
                                     samples=2048).moments(3)
        b = get_case(case).block_law("hidden", which, 1.0, 4, m=3, V=V, rng=4, samples=2048,
                                     gram=np.eye(3)).moments(3)
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("case", ["mlp-ce", "mlp-mse"])
@pytest.mark.parametrize("gram, match", [
    (np.eye(2), "shape"),
    (np.array([[1.0, 0.2, 0], [0.1, 1, 0], [0, 0, 1]]), "symmetric"),
    (np.array([[1.0, 1, 0], [1, 1, 0], [0, 0, 1]]), "positive definite"),
    (np.array([[1.0, np.nan, 0], [np.nan, 1, 0], [0, 0, 1]]), "finite"),
])
def test_bad_gram(case, gram, match):
    V = np.ones((4, 3))
    with pytest.raises(ValueError, match=match):
        get_case(case).block_law("hidden", "diag", 1.0, 4, m=3, V=V, gram=gram)
