"""mlp-ce with logit offsets ``b_c = log π_c`` (a class prior; theory/cases.md, CASE-31) against
independent routes.

Monte Carlo comparisons use K_SIGMA = 4.5 combined standard errors (two-sided false-alarm rate
≈ 7e-6 per comparison for a Gaussian error; every standard error comes from ≥ 32 independent
replicates or ≥ 400 independent draws of V, so normal quantiles apply).
"""

import math

import numpy as np
import pytest

from rmthess.cases import get_case
from rmthess.cases._mlp_ce_kernels import gamma_terms_numba, pair_terms_numba
from rmthess.cases.mlp_ce import _control_means
from rmthess.laws.prior import zipf_prior
from tests.cases.kernel_oracles import pair_terms_numpy

K_SIGMA = 4.5
#: numba vs numpy: the same formulas in a different order of summation
RTOL_TWIN = 1e-12

case = get_case("mlp-ce")


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@pytest.mark.parametrize("C, m, tau, S", [(3, 3, 0.3, 1.0), (7, 5, 0.2, 2.0), (4, 2, 1.3, 0.5)])
def test_pair_kernel_with_offsets_matches_dense_numpy_form(C, m, tau, S):
    rng = np.random.default_rng(C * m)
    U, U2, Z = (rng.standard_normal((300, m)), rng.standard_normal((300, m)),
                rng.standard_normal((300, C, 2)))
    b = np.log(zipf_prior(C, S))
    ref = pair_terms_numpy(U, U2, Z, tau, offsets=b)
    got, cls, cpair = pair_terms_numba(U, U2, Z, tau, offsets=b, per_class=True,
                                       pairs=[(0, 1), (1, 0), (C - 1, 0)])
    for col in range(got.shape[1]):
        np.testing.assert_allclose(got[:, col], ref[:, col], rtol=RTOL_TWIN,
                                   atol=RTOL_TWIN * np.abs(ref[:, col]).max(), err_msg=str(col))
    # the per-class draws average to the class-mean output column
    np.testing.assert_allclose(cls.mean(1), got[:, 2], rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(cpair[:, 0], cpair[:, 1], rtol=1e-14)  # (c, c′) and (c′, c) alike
    # all ordered pairs together give the class-mean off-diagonal output column
    allp = [(c, c2) for c in range(C) for c2 in range(C) if c != c2]
    full = pair_terms_numba(U, U2, Z, tau, offsets=b, per_class=True, pairs=allp)[2]
    np.testing.assert_allclose(full.mean(1), got[:, 3], rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("C, m, S", [(3, 3, 1.0), (6, 4, 2.0)])
def test_gamma_kernel_against_sampled_orthogonal_parts(C, m, S):
    """(CASE-31): the kernel's E_w κ_ij² given (u, ζ_·1) against an average over sampled parts of
    V orthogonal to s, with the offsets in the logits."""
    rng = np.random.default_rng(5 + C)
    tau = 0.5
    b = np.log(zipf_prior(C, S))
    u = rng.standard_normal(m)
    u[0], u[1] = abs(u[0]), abs(u[1])               # at least two active units
    x = rng.standard_normal(C)
    row = gamma_terms_numba(u[None], x[None], tau, offsets=b)[0]
    np.testing.assert_allclose(gamma_terms_numba(u[None], x[None], tau, offsets=b,
                                                 compiled=False)[0], row, rtol=1e-13)
    s = np.maximum(u, 0.0)
    e1 = s / np.linalg.norm(s)
    P = np.eye(m) - np.outer(e1, e1)
    n = 20_000
    V = math.sqrt(tau) * (x[:, None] * e1[None, :] + rng.standard_normal((n, C, m)) @ P)
    p = _softmax(V @ s + b)                          # logits √τ|s|x + b for every draw
    Q = p[:, :, None] * np.eye(C) - p[:, :, None] * p[:, None, :]
    kappa = np.einsum("nca,ncd,ndb->nab", V, Q, V)
    a = kappa * np.outer(s > 0, s > 0)
    diag = (np.einsum("naa->na", a) ** 2).mean(1)
    off = ((a ** 2).sum((1, 2)) - (np.einsum("naa->na", a) ** 2).sum(1)) / (m * (m - 1))
    for col, y in enumerate((diag, off)):
        assert abs(y.mean() - row[col]) <= K_SIGMA * y.std(ddof=1) / math.sqrt(n), col


@pytest.mark.parametrize("C, m, sigma_v, S", [(5, 3, 1.0, 1.0), (10, 4, 0.7, 2.0)])
def test_control_means_with_a_prior(C, m, sigma_v, S):
    """Columns 4..9 of the kernel average to the means subtracted with a prior (CASE-31)."""
    tau = sigma_v ** 2 / m
    b = np.log(zipf_prior(C, S))
    rng = np.random.default_rng(C + m)
    n = 1 << 16
    out = pair_terms_numba(rng.standard_normal((n, m)), rng.standard_normal((n, m)),
                           rng.standard_normal((n, C, 2)), tau, offsets=b)
    mu = _control_means(C, m, tau, zipf_prior(C, S))
    for col in range(4, 10):
        y = out[:, col]
        assert abs(y.mean() - mu[col]) <= K_SIGMA * y.std(ddof=1) / math.sqrt(n), col


def test_uniform_prior_is_the_identical_class_case():
    a = case.limits(1.0, 5, m=3, rng=4, rtol=5e-2)
    assert case.limits(1.0, 5, m=3, rng=4, rtol=5e-2, prior=np.full(5, 0.2)) == a
    assert case.class_limits(1.0, np.full(5, 0.2), m=3, rng=4, rtol=5e-2) is None


def _z(x, sx, y, sy):
    return abs(x - y) / math.hypot(sx, sy)


def test_sampled_gamma_term_agrees_with_the_quadrature():
    """A prior that differs from uniform by 1e-9 takes the sampled route (CASE-31); its numbers
    must agree with the deterministic γ-term of (CASE-19) within the standard errors."""
    C, m = 6, 3
    pi = np.full(C, 1.0 / C) * (1.0 + 1e-9 * np.arange(C))
    pi /= pi.sum()
    exact = case.limits(1.0, C, m=m, rng=1, rtol=3e-3)
    sampled = case.limits(1.0, C, m=m, rng=2, rtol=1e-2, prior=pi)
    for name in ("hidden", "output"):
        e, s = exact.blocks[name], sampled.blocks[name]
        assert _z(e.g_ii, e.stderr_g_ii, s.g_ii, s.stderr_g_ii) <= K_SIGMA, name
        assert _z(e.g_ij, e.stderr_g_ij, s.g_ij, s.stderr_g_ij) <= K_SIGMA, name


def _brute(C, m, sigma_v, b, n_v, n_u, rng, pairs=()):
    """Nested Monte Carlo from the definitions (CASE-9) with offsets: per V, U-statistics of the
    inner means; returns per-V rows (hidden g_ii, g_ij at γ = 1, output diag per class, output
    off-diagonal class mean, the output blocks of ``pairs``)."""
    rows = []
    off = ~np.eye(m, dtype=bool)
    nn = n_u * (n_u - 1)
    for _ in range(n_v):
        V = sigma_v / math.sqrt(m) * rng.standard_normal((C, m))
        u = rng.standard_normal((n_u, m))
        s = np.maximum(u, 0.0)
        p = _softmax(s @ V.T + b)
        D = V[None] - (p @ V)[:, None, :]                       # v_c − μ
        kap = np.einsum("nc,nca,ncb->nab", p, D, D)
        a = kap * (u > 0)[:, :, None] * (u > 0)[:, None, :]
        S1, S2 = a.sum(0), (a * a).sum(0)
        g = (S1 * S1 - S2) / nn + S2 / n_u                      # (E a)² + γ E a², γ = 1
        w = p * (1 - p)                                          # per-class output weights
        M = np.einsum("nc,na,nb->cab", w, s, s)
        M2 = np.einsum("nc,n->c", w * w, (s * s).sum(1) ** 2)
        od = ((M * M).sum((1, 2)) - M2) / nn
        # off-diagonal output over the ordered pairs: ‖Σ_n p_c p_c' s sᵀ‖² summed over c ≠ c'
        G = s @ s.T
        P = p @ p.T                                              # Σ_c p_nc p_n'c
        tot = ((P * P - (p * p) @ (p * p).T) * G * G)
        diag_n = ((p * p).sum(1) ** 2 - (p ** 4).sum(1)) * (s * s).sum(1) ** 2
        oo = (tot.sum() - diag_n.sum()) / nn / (C * (C - 1))
        op = []
        for c, c2 in pairs:
            w2 = p[:, c] * p[:, c2]
            Mp = np.einsum("n,na,nb->ab", w2, s, s)
            op.append(((Mp * Mp).sum() - (w2 * w2 * (s * s).sum(1) ** 2).sum()) / nn)
        rows.append(np.concatenate([[np.diag(g).mean(), g[off].mean()], od, [oo], op]))
    return np.array(rows)


def _compare_with_brute(C, m, S, rtol, n_v, seeds, pairs):
    """``class_limits`` with a Zipf prior against :func:`_brute`: hidden g, per-class output
    diagonals, the class-mean output blocks and the output blocks of ``pairs``, each within
    K_SIGMA combined standard errors. Returns the estimate and the brute rows."""
    pi = zipf_prior(C, S)
    cl = case.class_limits(1.0, pi, m=m, rng=seeds[0], rtol=rtol, max_time=600, pairs=pairs)
    rows = _brute(C, m, 1.0, np.log(pi), n_v, 200, np.random.default_rng(seeds[1]), pairs=pairs)
    mean, se = rows.mean(0), rows.std(0, ddof=1) / math.sqrt(len(rows))
    h, o = cl["limits"].blocks["hidden"], cl["limits"].blocks["output"]
    assert _z(h.g_ii, h.stderr_g_ii, mean[0], se[0]) <= K_SIGMA
    assert _z(h.g_ij, h.stderr_g_ij, mean[1], se[1]) <= K_SIGMA
    for c in range(C):
        assert _z(cl["g_ii"][c], cl["stderr_g_ii"][c], mean[2 + c], se[2 + c]) <= K_SIGMA, c
    cm = rows[:, 2:2 + C].mean(1)
    assert _z(o.g_ii, o.stderr_g_ii, cm.mean(), cm.std(ddof=1) / math.sqrt(len(cm))) <= K_SIGMA
    assert _z(o.g_ij, o.stderr_g_ij, mean[2 + C], se[2 + C]) <= K_SIGMA
    for k in range(len(pairs)):
        assert _z(cl["g_ij_pairs"][k], cl["stderr_g_ij_pairs"][k], mean[3 + C + k],
                  se[3 + C + k]) <= K_SIGMA, k
    return cl, mean, se


def test_limits_with_a_zipf_prior_against_brute_nested_monte_carlo():
    C = 4
    cl, mean, se = _compare_with_brute(C, 3, 1.5, 1e-2, 500, (7, 8), [(0, 1), (2, 3)])
    # the head pair's block is larger than the tail pair's, resolved by the estimate
    assert cl["g_ij_pairs"][0] > cl["g_ij_pairs"][1] + K_SIGMA * np.hypot(*cl["stderr_g_ij_pairs"])
    # the brute route resolves the classes: the frequent class's block is the largest
    assert mean[2] > mean[2 + C - 1] + K_SIGMA * math.hypot(se[2], se[2 + C - 1])


@pytest.mark.parametrize("kwargs, msg", [
    ({"prior": [0.5, 0.5]}, "one entry per class"), ({"prior": [0.2, 0.2, 0.2, 0.3, 0.2]}, "sum"),
    ({"prior": [0.5, 0.5, 0.0, 0.0, 0.0]}, "positive"),
])
def test_bad_priors_are_refused(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        case.limits(1.0, 5, m=3, rng=0, **kwargs)


def test_prior_with_a_non_gaussian_v_law_is_refused():
    from rmthess.laws.entry import entry_law

    with pytest.raises(ValueError, match="v_law"):
        case.limits(1.0, 4, m=3, rng=0, prior=zipf_prior(4, 1.0), v_law=entry_law("uniform"))


@pytest.mark.slow
def test_limits_with_a_zipf_prior_against_a_large_brute_estimate():
    """As above with 12 000 draws of V (hidden ≈ 1.3 %, output ≈ 0.5–1 % relative standard error
    of the brute estimate), C = 8, a steeper prior."""
    _compare_with_brute(8, 3, 2.0, 2e-3, 12_000, (9, 10), [(0, 1), (0, 7)])


def test_mse_cases_refuse_a_prior_with_the_reason():
    for name, m in (("mlp-mse", 3), ("linear-mse", None)):
        with pytest.raises(ValueError, match="does not change any Hessian block of the MSE"):
            get_case(name).limits(1.0, 5, m=m, prior=zipf_prior(5, 1.0))


def test_cli_prior_for_mlp_ce(capsys):
    """One run gives the class means and the per-class output diagonals (JSON), the same numbers
    as ``class_limits`` with the printed seed."""
    import json

    from rmthess.cli import main

    argv = ["limits", "--case", "mlp-ce", "--gamma", "1", "--classes", "5", "--m", "3",
            "--prior", "zipf:1.5", "--rtol", "3e-2", "--seed", "11", "--quiet"]
    assert main(argv + ["--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    pc = out["per_class"]
    cl = case.class_limits(1.0, zipf_prior(5, 1.5), m=3, rng=11, rtol=3e-2)
    assert pc["block"] == "output" and len(pc["g_ii"]) == len(pc["stderr_g_ii"]) == 5
    np.testing.assert_allclose(pc["g_ii"], cl["g_ii"], rtol=1e-15)
    assert out["seed"] == 11 and out["blocks"]["output"]["asymptote"] is None
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "per class (output block" in text and "seed=11" in text
    for bad in (["--case", "mlp-mse", "--m", "3", "--prior", "zipf:1"],
                ["--case", "mlp-ce", "--m", "3", "--prior", "zipf:1", "--init", "torch-default"]):
        assert main(["limits", "--gamma", "1", "--classes", "5", *bad]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "prior" in err


@pytest.mark.parametrize("pairs", [[(0, 0)], [(0, 5)], [(0.5, 1)], "ab"])
def test_bad_pairs_are_refused(pairs):
    with pytest.raises(ValueError, match="pairs"):
        case.class_limits(1.0, zipf_prior(5, 1.0), m=3, rng=0, pairs=pairs)
