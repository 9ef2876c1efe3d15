"""Are the standard errors of the mlp-ce output block honest? (theory/cases.md, CASE-32, CASE-18)

``PYTHONPATH=. python benchmarks/mlp_ce_output_errors.py oracle C SEED CHUNKS`` — a plain Monte
Carlo of the output block (iid ``(u, u')`` and logit pairs, no controls, no quadrature, the
oracle of tests/cases/test_mlp_ce_output.py) with iid error bars, ``CHUNKS × 4096`` draws; the
values of CASE-32 are ``oracle 1000 2 400`` and ``oracle 300 3 400``.

``PYTHONPATH=. python benchmarks/mlp_ce_output_errors.py spread ROUTE C N SEEDS`` — ``SEEDS``
independent runs of one route (``sampled``: the Sobol' ζ of CASE-18; ``integrated``: ζ by
quadrature, CASE-32) at ``N`` points per replicate: the mean, the spread of the estimates and
the spread over the mean reported standard error (the table of CASE-32), for g_ii, g_ij and the
ratio. m = 8, σ_v = 1, γ = 1 throughout.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from rmthess.cases._estimate import summarize
from rmthess.cases.mlp_ce import _OutputSampler, _PairSampler

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.cases.test_mlp_ce_output import _plain_output_draws  # noqa: E402  (test oracle)

M, SIGMA_V, BATCH = 8, 1.0, 4096


def oracle(C, seed, chunks):
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    y = np.concatenate([_plain_output_draws(rng, BATCH, C, M, SIGMA_V) for _ in range(chunks)])
    mu, cov = y.mean(0), np.cov(y.T) / len(y)
    grad = np.array([-mu[1] / mu[0] ** 2, 1.0 / mu[0]])        # delta method for the ratio
    se_ratio = float(np.sqrt(grad @ cov @ grad))
    print(f"plain Monte Carlo, C = {C}, {len(y)} draws: g_ii = {mu[0]:.6g} ± "
          f"{np.sqrt(cov[0, 0]):.2g}, g_ij = {mu[1]:.6g} ± {np.sqrt(cov[1, 1]):.2g}, "
          f"C²·ratio = {C * C * mu[1] / mu[0]:.5g} ± {C * C * se_ratio:.2g} "
          f"({time.perf_counter() - t0:.0f} s)")


def spread(route, C, n, seeds):
    res = []
    for s in range(seeds):
        root = np.random.SeedSequence([1000 + s, C])
        if route == "sampled":
            rows = _PairSampler(C, M, SIGMA_V, root, (0.0, 0.0))(n)[:, 4:]
        else:
            rows = _OutputSampler(C, M, SIGMA_V, root)(n)
        b = summarize(np.column_stack([np.ones((rows.shape[0], 4)), rows]), 1.0)["output"]
        res.append([b.g_ii, b.stderr_g_ii, b.g_ij, b.stderr_g_ij, b.ratio, b.stderr_ratio])
    res = np.array(res)
    for k, name in enumerate(("g_ii", "g_ij", "ratio")):
        v, se = res[:, 2 * k], res[:, 2 * k + 1]
        sd = v.std(ddof=1)
        print(f"{route} C = {C}, {n} points × {seeds} seeds, {name}: mean {v.mean():.7g} ± "
              f"{sd / np.sqrt(seeds):.2g}, spread / mean SE {sd / se.mean():.2f}, "
              f"spread / rms SE {sd / np.sqrt(np.mean(se * se)):.2f}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    o = sub.add_parser("oracle")
    o.add_argument("C", type=int)
    o.add_argument("seed", type=int)
    o.add_argument("chunks", type=int)
    p = sub.add_parser("spread")
    p.add_argument("route", choices=("sampled", "integrated"))
    p.add_argument("C", type=int)
    p.add_argument("n", type=int)
    p.add_argument("seeds", type=int)
    a = ap.parse_args()
    if a.what == "oracle":
        oracle(a.C, a.seed, a.chunks)
    else:
        spread(a.route, a.C, a.n, a.seeds)
