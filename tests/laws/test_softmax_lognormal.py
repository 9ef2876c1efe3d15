"""The atomic law of the softmax weights at large C (lognormal sum of the other classes) vs direct draws.

Above ``EXACT_REST_LIMIT`` other classes, :meth:`GaussianSoftmaxLaw.discretize` draws the sum of their
exponentials from one moment-matched lognormal (Fenton–Wilkinson, SML-1). Oracle: the weights drawn
here directly from their definition, a full C-dimensional softmax of Gaussian logits. The statistic is
the Kolmogorov distance between the atomic law's distribution function and the oracle sample's.

False-alarm budget: a Kolmogorov distance above ``max atom probability + ε(n) + ε(DISCRETIZE_SAMPLES)``
needs one of the two samples to leave its Dvoretzky–Kiefer–Wolfowitz band ``ε(n) =
sqrt(log(4/ALPHA)/(2n))`` (probability ≤ ALPHA/2 each), since an atom carries the mass of its bin and
sits inside it; the lognormal model's own error at σ_v = 1 (log-variance 1.7e-3 next to σ_v² = 1 at
C = 10³) is far below that.
"""

import math

import numpy as np
import pytest

from rmthess.laws.softmax import DISCRETIZE_SAMPLES, EXACT_REST_LIMIT, GaussianSoftmaxLaw

from tests._mc import monte_carlo

#: stated false-alarm rate of each check
ALPHA = 1e-3
#: (C, oracle draws): the cost of a direct draw is proportional to C
SIZES = {"C=1e3": (1000, 4096), "C=1e4": (10_000, 1024)}


def _dkw(n):
    return math.sqrt(math.log(4 / ALPHA) / (2 * n))


def _direct_draws(classes, which, n, rng):
    out = []
    per = max(1, (1 << 21) // classes)
    for start in range(0, n, per):
        z = rng.standard_normal((min(per, n - start), classes))
        e = np.exp(z - z.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        out.append(p[:, 0] * (1 - p[:, 0]) if which == "diag" else -p[:, 0] * p[:, 1])
    return np.concatenate(out)


def _kolmogorov(atoms, probs, x):
    order = np.argsort(atoms)
    a, p = atoms[order], probs[order]
    cdf = np.cumsum(p)
    xs = np.sort(x)
    above = np.searchsorted(xs, a, side="right") / xs.size
    below = np.searchsorted(xs, a, side="left") / xs.size
    return max(np.max(np.abs(above - cdf)), np.max(np.abs(below - (cdf - p))))


PARAMS = {f"{w}-{k}": dict(which=w, size=k) for w in ("diag", "offdiag") for k in SIZES}


@monte_carlo(alpha=ALPHA, seed=5, params=PARAMS)
def check_lognormal_atomic_law(seed, which, size):
    classes, n = SIZES[size]
    assert classes - 2 > EXACT_REST_LIMIT          # the lognormal branch is the one under test
    law = GaussianSoftmaxLaw(classes, which=which).discretize()
    x = _direct_draws(classes, which, n, np.random.default_rng(seed))
    tol = law.probs.max() + _dkw(n) + _dkw(DISCRETIZE_SAMPLES)
    dist = _kolmogorov(law.atoms, law.probs, x)
    assert dist <= tol, (dist, tol)


@pytest.mark.parametrize("key", PARAMS)
def test_lognormal_atomic_law_matches_direct_draws(key):
    check_lognormal_atomic_law(5, **PARAMS[key])
