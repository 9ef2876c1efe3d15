"""The per-class weight law with logit offsets (theory/softmax_moments.md, SML-5) and the class
block law of linear CE (theory/cases.md, CASE-30)."""

import math

import numpy as np
import pytest

import rmthess.laws._weighted_lognormal as wl
from rmthess.cases import get_case
from rmthess.laws.prior import zipf_prior
from rmthess.laws.softmax import OffsetSoftmaxLaw

#: Kolmogorov distance allowed between the atoms and n = 4096 direct draws: the 0.999 quantile of
#: the two-sided Kolmogorov statistic, 1.95/√n = 0.030 (false-alarm rate 1e-3 per comparison),
#: plus the atoms' resolution (largest atom mass ≈ 0.011, SML-4) and their stated accuracy
KS_TOL = 0.030 + 0.011 + 0.01


def _ks(atoms_law, x):
    order = np.argsort(atoms_law.atoms)
    a, p = atoms_law.atoms[order], atoms_law.probs[order]
    xs = np.sort(x)
    cdf = np.concatenate([[0.0], np.cumsum(p)])[np.searchsorted(a, xs, side="right")]
    n = len(xs)
    return max(np.max(np.abs(cdf - np.arange(1, n + 1) / n)),
               np.max(np.abs(cdf - np.arange(n) / n)))


@pytest.mark.parametrize("C, S, cls, sigma", [(50, 1.1, 0, 1.0), (50, 1.1, 49, 1.0),
                                               (300, 0.5, 7, 1.5), (1000, 1.1, 3, 1.0)])
def test_atoms_against_direct_draws(C, S, cls, sigma):
    """The atoms (the other classes drawn term by term: up to 1024 of them) against
    draws with a full C-class softmax each."""
    law = OffsetSoftmaxLaw(zipf_prior(C, S), sigma, cls)
    x = law.sample(4096, rng=np.random.default_rng(C + cls))
    assert _ks(law.discretize(), x) <= KS_TOL


def test_exact_first_two_moments_and_the_block_law():
    """The atoms carry the exact E a_c, E a_c² (SMO-2); the class block's GMP law then has the
    second moment g_ii(c) of class_limits, and moment(3) is refused."""
    case = get_case("linear-ce")
    pi = zipf_prior(40, 1.2)
    cl = case.class_limits(0.5, pi)
    for c in (0, 13, 39):
        law = OffsetSoftmaxLaw(pi, 1.0, c)
        at = law.discretize()
        assert at.moment(1) == pytest.approx(law.moment(1), rel=1e-10)
        assert at.moment(2) == pytest.approx(law.moment(2), rel=1e-10)
        block = case.class_block_law(0.5, pi, c)
        assert block.moment(2) == pytest.approx(cl["g_ii"][c], rel=1e-12)
        with pytest.raises(ValueError, match="not derived"):
            law.moment(3)


def test_block_law_against_simulated_blocks():
    """The class block law's distribution function at its quartiles against the eigenvalues of
    simulated blocks (1/N) Σ_n a_c(x_n) x_n x_nᵀ, d = 300, γ = 1, 4 replicates pooled: the
    fraction of eigenvalues below each quartile is within 0.04 (the spread of that fraction over
    replicates is ≈ 0.005 at this d; the O(1/d) bias and the atoms' accuracy ≈ 0.02)."""
    C, c, d = 20, 2, 300
    pi = zipf_prior(C, 1.0)
    block = get_case("linear-ce").class_block_law(1.0, pi, c)
    rng = np.random.default_rng(3)
    ev = []
    for _ in range(4):
        X = rng.standard_normal((d, d))
        V = rng.standard_normal((C, d)) / math.sqrt(d)
        z = V @ X + np.log(pi)[:, None]
        p = np.exp(z - z.max(0))
        p /= p.sum(0)
        a = p[c] * (1.0 - p[c])
        ev.append(np.linalg.eigvalsh((X * a) @ X.T / d))
    ev = np.concatenate(ev)
    lo, hi = block.support()[0][0], block.support()[-1][1]
    grid = np.linspace(lo, hi, 4001)
    F = block.cdf(grid)
    for q in (0.25, 0.5, 0.75):
        x = grid[np.searchsorted(F, q)]
        assert abs(np.mean(ev <= x) - q) <= 0.04, q


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="cls"):
        OffsetSoftmaxLaw(zipf_prior(5, 1.0), 1.0, 5)
    with pytest.raises(ValueError, match="sum"):
        OffsetSoftmaxLaw([0.5, 0.6], 1.0, 0)


def test_a_split_beyond_the_cost_bound_is_refused(monkeypatch):
    """Where no split within the cost bound puts the normal bulk within BULK_KS_TOL the atoms are
    refused with the reason, not returned: a steep prior at C = 2000 needs about 512 exactly
    drawn terms (SML-6); with the splits capped at 64 it is refused."""
    monkeypatch.setattr(wl, "SPLIT_TERMS", (64,))
    law = OffsetSoftmaxLaw(zipf_prior(2000, 2.0), 1.0, 0)
    with pytest.raises(ValueError, match="cost bound") as info:
        law.discretize()
    assert "cost bound" in str(info.value) and "SML-6" in str(info.value)


@pytest.mark.parametrize("C, S, cls", [(2000, 1.5, 1000)])
def test_split_atoms_against_direct_draws(C, S, cls):
    """Above 1025 classes the other classes' sum comes from the per-term upper-tail split
    (SML-6): the atoms against 4096 draws with a full C-class softmax each (KS_TOL: false-alarm
    rate 1e-3), and the exact E a_c, E a_c² carried by the atoms."""
    law = OffsetSoftmaxLaw(zipf_prior(C, S), 1.0, cls)
    at = law.discretize()
    x = law.sample(4096, rng=np.random.default_rng(C + cls))
    assert _ks(at, x) <= KS_TOL
    assert at.moment(1) == pytest.approx(law.moment(1), rel=1e-10)
    assert at.moment(2) == pytest.approx(law.moment(2), rel=1e-10)


@pytest.mark.slow
@pytest.mark.parametrize("C", [2000, 20000])
@pytest.mark.parametrize("S", [0.5, 1.0, 1.5, 2.0])
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_split_atoms_against_direct_draws_grid(C, S, where):
    """The grid of SML-6: first, middle and last class at C = 2000 and 20000, Zipf S from 0.5 to
    2, σ_v = 1 (measured 0.015–0.028, the noise of the check); false-alarm rate 1e-3 each."""
    cls = {"first": 0, "middle": C // 2, "last": C - 1}[where]
    law = OffsetSoftmaxLaw(zipf_prior(C, S), 1.0, cls)
    x = law.sample(4096, rng=np.random.default_rng(C + cls))
    assert _ks(law.discretize(), x) <= KS_TOL


@pytest.mark.slow
@pytest.mark.parametrize("C, S", [(100_000, 1.1), (100_000, 2.0)])
def test_large_c_class_laws_build_with_their_exact_moments(C, S):
    """At C = 10⁵ with a steep prior (refused before SML-6) the first and last classes' atoms
    build and carry the exact E a_c, E a_c² of (SMO-2)."""
    pi = zipf_prior(C, S)
    for c in (0, C - 1):
        law = OffsetSoftmaxLaw(pi, 1.0, c)
        at = law.discretize()
        assert at.moment(1) == pytest.approx(law.moment(1), rel=1e-10)
        assert at.moment(2) == pytest.approx(law.moment(2), rel=1e-10)
