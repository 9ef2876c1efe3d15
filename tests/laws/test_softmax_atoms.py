"""The atomic Gaussian-softmax weight laws (SML-1..4) vs direct draws, and their refusals.

Oracle: the weights drawn here directly from their definition, a full C-dimensional softmax of
Gaussian logits per draw (``benchmarks/bench_softmax_atoms.direct_draws``, independent of the
discretization's stratified and tail/bulk construction). Statistic: the Kolmogorov distance between
the atomic law's distribution function and the oracle sample's.

False-alarm budget: the atoms are claimed within ``ATOM_KS`` of the exact law (SML-4: the largest
atom mass, ≤ 0.025, as the resolution of 96 atoms, plus the normal bulk's ``2·BULK_KS_TOL`` and the
tilt's shift, ≤ 0.005 measured); the oracle sample of ``n`` draws leaves the
Dvoretzky–Kiefer–Wolfowitz band ``sqrt(log(2/ALPHA)/(2n))`` with probability ≤ ALPHA.
"""

import math

import numpy as np
import pytest

from benchmarks.bench_softmax_atoms import direct_draws, kolmogorov
from rmthess.laws.softmax import GaussianSoftmaxLaw, _tilt
from tests._mc import monte_carlo

#: stated false-alarm rate of each check
ALPHA = 1e-3
#: claimed Kolmogorov accuracy of the atomic law (SML-4): largest atom mass ≤ 0.025, tilt shift
#: ≤ 0.005 (measured), normal bulk ≤ 2·0.003
ATOM_KS = 0.03


def _dkw(n):
    return math.sqrt(math.log(2 / ALPHA) / (2 * n))


#: (C, σ_v, oracle draws); the cost of a direct draw is proportional to C. σ_v = 2, 3 at C = 10³
#: are points the former lognormal construction missed by 0.08-0.76; "offdiag" at C = 10³,
#: σ_v = 3 and C = 10⁴, σ_v = 2 needs the joint-tail construction (SML-3).
POINTS = {"C=10-s=3": (10, 3.0, 8192), "C=1e3-s=2": (1000, 2.0, 4096),
          "C=1e3-s=3": (1000, 3.0, 4096), "C=1e4-s=2": (10_000, 2.0, 1024)}
PARAMS = {f"{w}-{k}": dict(which=w, point=k) for w in ("diag", "offdiag") for k in POINTS}
SLOW = {f"{w}-C={c}-s={s}": dict(which=w, classes=c, sigma_v=s)
        for w in ("diag", "offdiag") for c in (10, 100, 1000, 10_000, 100_000)
        for s in (0.5, 1.0, 1.5, 2.0, 3.0)}


def _check(classes, sigma_v, which, n, seed):
    law = GaussianSoftmaxLaw(classes, sigma_v, which).discretize()
    xa, xb = direct_draws(classes, sigma_v, n, np.random.default_rng(seed))
    dist = kolmogorov(law.atoms, law.probs, xa if which == "diag" else xb)
    tol = ATOM_KS + _dkw(n)
    assert dist <= tol, (classes, sigma_v, which, dist, tol)


@monte_carlo(alpha=ALPHA, seed=7, params=PARAMS)
def check_atomic_law(seed, which, point):
    classes, sigma_v, n = POINTS[point]
    _check(classes, sigma_v, which, n, seed)


@pytest.mark.parametrize("key", PARAMS)
def test_atomic_law_matches_direct_draws(key):
    check_atomic_law(7, **PARAMS[key])


@pytest.mark.slow
@pytest.mark.parametrize("key", SLOW)
def test_atomic_law_grid(key):
    """The measured grid of theory/softmax_moments.md (SML-4); each point at false-alarm ALPHA."""
    p = SLOW[key]
    _check(p["classes"], p["sigma_v"], p["which"], 4096 if p["classes"] <= 10_000 else 1024, 11)


def test_tilt_reaches_the_moments_or_refuses():
    # three atoms: the mean, second moment and total mass fix the probabilities (a linear system)
    atoms, probs = np.array([-0.2, -0.1, -0.05]), np.array([0.2, 0.3, 0.5])
    target = np.array([0.25, 0.35, 0.4])
    m1, m2 = float(target @ atoms), float(target @ atoms ** 2)
    np.testing.assert_allclose(_tilt(atoms, probs, m1, m2), target, rtol=1e-10)
    # a second moment above the largest atom's square cannot be reached
    assert _tilt(atoms, probs, m1, 0.05) is None


def test_refusal_names_the_domain():
    # σ_v = 8 at C = 10⁴: below the 1024 largest terms the normal bulk is off by about 4e-3 > 3e-3
    with pytest.raises(ValueError, match=r"C = 10000, sigma_v = 8.0.*SML-2"):
        GaussianSoftmaxLaw(10_000, 8.0).discretize()


#: the linear-CE v-block law at γ = 1, C = 10³, σ_v = 2 vs block spectra: replicates, size
BLOCK_REPLICATES, BLOCK_DIM = 16, 400
#: allowance for the finite-d bias of the spectral distribution function (O(1/d)) and the
#: atoms' own error
BLOCK_BIAS = 5e-3


@monte_carlo(alpha=ALPHA, seed=3)
def check_block_law_distribution(seed):
    """GMP distribution function of the linear-CE v-block at σ_v = 2 vs simulated spectra.

    Oracle: eigenvalues of ``X diag(a) Xᵀ/N`` with ``a`` drawn exactly
    (``GaussianSoftmaxLaw.sample``, a full softmax per weight), d = 400, N = 400. At 9 points the
    replicate mean of the empirical distribution function is compared with the law's ``cdf`` by a
    Student-t test (15 degrees of freedom, Bonferroni over 9) plus ``BLOCK_BIAS``. The former
    lognormal atoms were off by 0.03 at the lower points (z ≈ 20).
    """
    from scipy import stats

    from rmthess.cases import get_case

    law = get_case("linear-ce").block_law("v", "diag", 1.0, 1000, sigma_v=2.0)
    xs = np.geomspace(1e-6, 2e-3, 9)
    target = law.cdf(xs)
    rng = np.random.default_rng(seed)
    esd = np.array([np.searchsorted(law.sample_eigenvalues(BLOCK_DIM, rng=rng), xs, side="right")
                    / BLOCK_DIM for _ in range(BLOCK_REPLICATES)])
    se = esd.std(axis=0, ddof=1) / math.sqrt(BLOCK_REPLICATES)
    t = stats.t.isf(ALPHA / (2 * xs.size), BLOCK_REPLICATES - 1)
    err = np.abs(esd.mean(axis=0) - target)
    assert np.all(err <= t * se + BLOCK_BIAS), (err, t * se + BLOCK_BIAS)


def test_linear_ce_block_law_matches_block_spectra():
    check_block_law_distribution(3)
