"""linear-ce with class offsets b_c = log π_c (theory/cases.md, (CASE-30))."""

import json
import math

import numpy as np
import pytest

from rmthess.cases import get_case
from rmthess.cli import main
from rmthess.laws import DiscreteLaw
from rmthess.laws.prior import parse_prior, validate_prior, zipf_prior

CASE = get_case("linear-ce")


@pytest.mark.parametrize("classes", [2, 3, 10, 1000, 10 ** 6])
@pytest.mark.parametrize("sigma_v", [0.5, 1.0, 3.0])
def test_uniform_prior_reproduces_identical_classes(classes, sigma_v):
    # b = const is the identical-class case exactly (softmax is shift invariant): same numbers
    ref = CASE.limits(0.7, classes, sigma_v=sigma_v).blocks["v"]
    got = CASE.limits(0.7, classes, sigma_v=sigma_v, prior=zipf_prior(classes, 0.0)).blocks["v"]
    for x, y in [(got.g_ii, ref.g_ii), (got.g_ij, ref.g_ij), (got.ratio, ref.ratio)]:
        assert abs(x / y - 1) <= 1e-14


def test_nearly_uniform_prior_is_continuous():
    # a prior 1e-9 away from uniform goes through the offset integrals (SMO-2): it must land on the
    # identical-class values to O(1e-9) plus the quadratures' ~1e-14 (second-order in the offsets)
    C = 50
    pi = zipf_prior(C, 1e-9)
    ref = CASE.limits(1.0, C).blocks["v"]
    got = CASE.limits(1.0, C, prior=pi).blocks["v"]
    assert abs(got.g_ii / ref.g_ii - 1) < 1e-8 and abs(got.g_ij / ref.g_ij - 1) < 1e-8


def test_two_classes_ratio_is_one():
    # C = 2: a_1 = a_2 = p_1 p_2 = −b for any offsets, so g_ii(1) = g_ii(2) = g_ij exactly
    cl = CASE.class_limits(1.3, [0.9, 0.1], pairs=[(0, 1)])
    assert abs(cl["g_ii"][0] / cl["g_ii"][1] - 1) < 1e-13
    assert abs(cl["g_ij_pairs"][0] / cl["g_ii"][0] - 1) < 1e-13
    assert abs(cl["g_ij_mean"] / cl["g_ii_mean"] - 1) < 1e-13


def test_per_class_mean_matches_limits_and_moments():
    # g_ii(c) = (E a_c)² + γ E a_c² (CASE-30), and the class mean is the block value of limits
    C, gamma = 30, 0.8
    pi = zipf_prior(C, 1.2)
    cl = CASE.class_limits(gamma, pi)
    assert np.allclose(cl["g_ii"], cl["E_a"] ** 2 + gamma * cl["E_a2"], rtol=1e-15, atol=0)
    blk = CASE.limits(gamma, C, prior=pi).blocks["v"]
    assert blk.g_ii == cl["g_ii_mean"] and blk.g_ij == cl["g_ij_mean"]


def test_block_diagonality_grows_with_the_exponent():
    # the more unequal the classes, the larger the mean off-diagonal block relative to the mean
    # diagonal one at C = 1000 (mass concentrates on a few classes, which then interact like a
    # small-C problem); monotone over S in [0, 2]
    C = 1000
    ratios = [CASE.limits(1.0, C, prior=zipf_prior(C, S)).blocks["v"].ratio
              for S in (0.0, 0.5, 1.0, 1.5, 2.0)]
    assert all(a < b for a, b in zip(ratios, ratios[1:], strict=False))


@pytest.mark.parametrize("bad, match", [
    ([0.5, 0.5 + 2e-12], "sum to 1"), ([1.0, 0.0], "positive"), ([np.nan, 1.0], "positive"),
    ([np.inf, 0.0], "positive"), ([0.2, 0.3, 0.5], "one entry per class")])
def test_invalid_priors(bad, match):
    with pytest.raises(ValueError, match=match):
        CASE.limits(1.0, 2, prior=bad)


def test_prior_parser(tmp_path):
    pi = parse_prior("zipf:1", 4)
    h = 1 + 1 / 2 + 1 / 3 + 1 / 4
    assert np.allclose(pi, [1 / h, 1 / (2 * h), 1 / (3 * h), 1 / (4 * h)], rtol=1e-15, atol=0)
    f = tmp_path / "freq.txt"
    f.write_text("3, 1\n4\n")
    assert np.allclose(parse_prior(str(f), 3), [3 / 8, 1 / 8, 4 / 8], rtol=1e-15, atol=0)
    for spec, match in [("zipf:-1", "exponent"), ("zipf:nan", "exponent"), ("zipf:", "number"),
                        (str(tmp_path / "none"), "cannot read"), (str(f), "expected 4")]:
        with pytest.raises(ValueError, match=match):
            parse_prior(spec, 4)
    f.write_text("1 0 2 2")
    with pytest.raises(ValueError, match="positive"):
        parse_prior(str(f), 4)
    assert validate_prior([0.25] * 4, 4).shape == (4,)


def test_cli_prior_json(capsys, tmp_path):
    assert main(["limits", "--case", "linear-ce", "--gamma", "1", "--classes", "20",
                 "--prior", "zipf:1.1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    cl = CASE.class_limits(1.0, zipf_prior(20, 1.1))
    assert out["per_class"]["g_ii"] == [float(x) for x in cl["g_ii"]]
    assert out["blocks"]["v"]["g_ii"] == cl["g_ii_mean"]
    assert out["blocks"]["v"]["asymptote"] is None
    assert out["per_class"]["g_ii_summary"]["max"] == float(cl["g_ii"].max())


def test_cli_class_edges(capsys):
    """``--class-edges`` adds each named class's block law: its g_ii is g_ii(c) of the integrals
    (SMO-2, the atoms carry the exact moments), its edges those of ``class_block_law``; the
    right edge lies beyond the main bulk and the masses of the bulks are at most 1."""
    assert main(["limits", "--case", "linear-ce", "--gamma", "0.5", "--classes", "30",
                 "--prior", "zipf:1.2", "--class-edges", "first,17,last", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    cl = CASE.class_limits(0.5, zipf_prior(30, 1.2))
    edges = out["per_class"]["class_edges"]
    assert [e["class"] for e in edges] == [1, 17, 30]
    for e in edges:
        c = e["class"] - 1
        assert e["g_ii"] == pytest.approx(cl["g_ii"][c], rel=1e-10)
        law = CASE.class_block_law(0.5, zipf_prior(30, 1.2), c)
        sup, mass = law.support(), law.bulk_masses()
        main_right = sup[int(np.argmax(mass))][1]
        # stored with the digits their spread over atom sets supports: the main bulk to ≥ 3
        # significant digits (rounding ≤ 0.5 %), the outer edge to ≥ 2 (rounding ≤ 5 %)
        assert e["main_bulk"]["right"] == pytest.approx(main_right, rel=5e-3)
        outer = len(sup) > 1 and sup[-1][1] > main_right
        assert e["right_edge"] == pytest.approx(sup[-1][1], rel=0.05 if outer else 5e-3)
        assert e["right_edge"] >= 0.95 * e["main_bulk"]["right"] > 0.95 * e["main_bulk"]["left"]
        assert 0.5 < e["main_bulk"]["mass"] <= 1.0 + 1e-12
    assert main(["limits", "--case", "linear-ce", "--gamma", "0.5", "--classes", "30",
                 "--prior", "zipf:1.2", "--class-edges", "2"]) == 0
    assert "class 2 (pi=" in capsys.readouterr().out


@pytest.mark.parametrize("argv, word", [
    (["--case", "linear-ce", "--prior", "zipf:1", "--class-edges", "6"], "outside"),
    (["--case", "linear-ce", "--prior", "zipf:1", "--class-edges", "x"], "--class-edges"),
    (["--case", "linear-ce", "--class-edges", "1"], "--prior"),
    (["--case", "mlp-ce", "--m", "3", "--prior", "zipf:1", "--class-edges", "1"], "linear-ce"),
    (["--case", "linear-ce", "--prior", "zipf:1", "--covariance-atoms", "1,2",
      "--class-edges", "1"], "covariance")])
def test_cli_class_edges_errors(capsys, argv, word):
    assert main(["limits", "--gamma", "1", "--classes", "5", *argv]) == 2
    err = capsys.readouterr().err
    assert word in err and err.count("\n") == 1


@pytest.mark.parametrize("argv, word", [
    (["--case", "linear-ce", "--prior", "zipf:x"], "--prior"),
    (["--case", "linear-ce", "--prior", "zipf:-2"], "--prior"),
    (["--case", "linear-mse", "--prior", "zipf:1"], "--prior"),
    (["--case", "linear-ce", "--prior", "zipf:1", "--digits", "20"], "--prior")])
def test_cli_prior_errors(capsys, argv, word):
    assert main(["limits", "--gamma", "1", "--classes", "5", *argv]) == 2
    err = capsys.readouterr().err
    assert word in err and err.count("\n") == 1


def _brute_class_norms(pi, sig, d, reps, rng):
    """(1/d)‖(1/N) Σ_n a_c(x_n) x_n x_nᵀ‖²_F for every class c of a linear CE network with
    logits V x + log π, x = Σ^{1/2} y (diagonal Σ with entries ``sig``), N = d (γ = 1)."""
    C = len(pi)
    out = []
    for _ in range(reps):
        X = np.sqrt(sig)[:, None] * rng.standard_normal((d, d))
        z = rng.standard_normal((C, d)) / math.sqrt(d) @ X + np.log(pi)[:, None]
        p = np.exp(z - z.max(0))
        p /= p.sum(0)
        K2 = (X.T @ X) ** 2
        out.append([(p[c] * (1 - p[c])) @ K2 @ (p[c] * (1 - p[c])) / d ** 3 for c in range(C)])
    return np.array(out)


def test_prior_with_a_covariance_against_the_network(capsys):
    """(ANI-13): the offsets are not rescaled, the logits have the scale σ_v √s₁ and every block
    g_ii(c) is s₂ times the isotropic one at γ s₁²/s₂. Against the network at d = N = 300 with
    Σ = diag(0.5, 3) (two halves), 60 replicates: each class within 4.5 standard errors (two-sided
    false-alarm rate 7e-6 per class) plus an O(1/d) allowance of 8/d relative (the size of the
    rank-C corrections measured for the mlp cases, ANI-6)."""
    C, d = 5, 300
    pi = zipf_prior(C, 1.2)
    cov = DiscreteLaw([0.5, 3.0], [0.5, 0.5])
    cl = CASE.class_limits(1.0, pi, covariance=cov)
    sig = np.where(np.arange(d) < d // 2, 0.5, 3.0)
    rows = _brute_class_norms(pi, sig, d, 60, np.random.default_rng(12))
    mean, se = rows.mean(0), rows.std(0, ddof=1) / math.sqrt(len(rows))
    for c in range(C):
        assert abs(mean[c] - cl["g_ii"][c]) <= 4.5 * se[c] + 8.0 / d * cl["g_ii"][c], c
    # the isotropic per-class limits are far off (s₂ = 4.625 multiplies them): the check has power
    iso = CASE.class_limits(1.0, pi)
    assert abs(mean[0] - iso["g_ii"][0]) > 4.5 * se[0] + 8.0 / d * iso["g_ii"][0]
    lim = CASE.limits(1.0, C, prior=pi, covariance=cov)
    assert lim.blocks["v"].g_ii == pytest.approx(cl["g_ii_mean"], rel=1e-14)
    assert lim.covariance == (1.75, 4.625)
    code = main(["limits", "--case", "linear-ce", "--gamma", "1", "--classes", str(C),
                 "--prior", "zipf:1.2", "--covariance-atoms", "0.5,3", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["per_class"]["g_ii"] == [float(x) for x in cl["g_ii"]]
