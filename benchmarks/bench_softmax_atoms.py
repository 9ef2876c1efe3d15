"""Kolmogorov distance of the atomic Gaussian-softmax weight laws (SML-1) from direct draws.

For each (C, σ_v) the weights ``a = p_1(1 − p_1)`` and ``b = −p_1 p_2`` are drawn directly (a full
C-dimensional softmax of Gaussian logits per draw) and compared with
``GaussianSoftmaxLaw(C, σ_v, which).discretize()``; a refused point prints its ValueError. The
sampling error of the direct draws alone is about ``1.36/sqrt(n)`` (95% Kolmogorov quantile).

Run: ``PYTHONPATH=. python benchmarks/bench_softmax_atoms.py [n]``
"""

import sys
import time

import numpy as np

from rmthess.laws.softmax import GaussianSoftmaxLaw

CLASSES = (10, 100, 1000, 10_000, 100_000)
SIGMAS = (0.5, 1.0, 1.5, 2.0, 3.0)


def direct_draws(classes, sigma_v, n, rng):
    """Exact draws of (a, b): one C-dimensional softmax per draw."""
    a, b = [], []
    per = max(1, (1 << 21) // classes)
    for start in range(0, n, per):
        z = sigma_v * rng.standard_normal((min(per, n - start), classes))
        e = np.exp(z - z.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        a.append(p[:, 0] * (1 - p[:, 0]))
        b.append(-p[:, 0] * p[:, 1])
    return np.concatenate(a), np.concatenate(b)


def kolmogorov(atoms, probs, x):
    """sup |F_atoms − F_sample| (both distribution functions are step functions)."""
    order = np.argsort(atoms)
    a, p = atoms[order], probs[order]
    cdf = np.cumsum(p)
    xs = np.sort(x)
    above = np.searchsorted(xs, a, side="right") / xs.size
    below = np.searchsorted(xs, a, side="left") / xs.size
    return float(max(np.max(np.abs(above - cdf)), np.max(np.abs(below - (cdf - p)))))


def main(n=4096):
    rng = np.random.default_rng(1)
    print(f"{'C':>7} {'sigma_v':>7} {'KS diag':>9} {'KS offdiag':>10} {'n':>6} {'s':>6}")
    for C in CLASSES:
        m = n if C <= 10_000 else n // 4
        for s in SIGMAS:
            t0 = time.perf_counter()
            xa, xb = direct_draws(C, s, m, rng)
            row = []
            for which, x in (("diag", xa), ("offdiag", xb)):
                try:
                    law = GaussianSoftmaxLaw(C, s, which).discretize()
                    row.append(f"{kolmogorov(law.atoms, law.probs, x):.3f}")
                except ValueError:
                    row.append("refused")
            print(f"{C:>7} {s:>7} {row[0]:>9} {row[1]:>10} {m:>6} {time.perf_counter() - t0:6.1f}",
                  flush=True)


if __name__ == "__main__":
    main(*(int(v) for v in sys.argv[1:]))
