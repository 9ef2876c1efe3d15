"""Benchmark: Gaussian-softmax moments and the linear-CE block norms g_ii, g_ij.

Side by side, in one run:

1. float64 one-dimensional quadrature (``rmthess.integrals.softmax_moments``) at C = 10^5: time per
   evaluation and relative error against the mpmath oracle;
2. brute-force Monte Carlo of the same moments (softmax of z ~ N(0, I_C) sampled directly) given the
   same wall-clock time (at least one draw), and given 5 s (1 s with --quick): its relative error
   and the ratio of errors at equal time
   (the quadrature error is floored at 2.2e-16 in the ratio);
3. the mpmath oracle at 30 digits: time per (γ, C) point (the moments do not depend on γ).

Run ``python benchmarks/bench_limits.py`` (``--quick`` for a short run).
"""

from __future__ import annotations

import argparse
import functools
import time

import mpmath
import numpy as np

from rmthess.integrals import softmax_moments, softmax_moments_mp


def _time(f, repeat):
    f()  # warm-up (imports, caches)
    best = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        best.append(time.perf_counter() - t)
    return float(np.median(best))


def _mc_block_norms(C, gamma, budget, rng):
    """Sample softmax vectors until ``budget`` seconds pass (at least one); estimate g_ii, g_ij."""
    t0 = time.perf_counter()
    a, a2, b, b2, n = 0.0, 0.0, 0.0, 0.0, 0
    while n == 0 or time.perf_counter() - t0 < budget:
        z = rng.standard_normal(C)
        p = np.exp(z - z.max())
        p /= p.sum()
        aa = p * (1 - p)                      # every class is a diagonal sample
        bb = -p[0::2][: C // 2] * p[1::2][: C // 2]  # disjoint pairs are off-diagonal samples
        a += aa.mean()
        a2 += (aa * aa).mean()
        b += bb.mean()
        b2 += (bb * bb).mean()
        n += 1
    a, a2, b, b2 = a / n, a2 / n, b / n, b2 / n
    return a * a + gamma * a2, b * b + gamma * b2, n, time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats and points")
    args = ap.parse_args(argv)
    repeat = 5 if args.quick else 30
    C, gamma = 10**5, 1.0
    rng = np.random.default_rng(20250502)

    print(f"== float64 quadrature vs brute-force Monte Carlo, C = {C}, gamma = {gamma} ==")
    ref = softmax_moments_mp(C, dps=25)
    with mpmath.workdps(25):
        gd_ref, go_ref = ref.g_diag(mpmath.mpf(gamma)), ref.g_offdiag(mpmath.mpf(gamma))
    t_quad = _time(lambda: softmax_moments(C), repeat)
    m = softmax_moments(C)
    e_d = float(abs(m.g_diag(gamma) / gd_ref - 1))
    e_o = float(abs(m.g_offdiag(gamma) / go_ref - 1))
    print(f"quadrature : {1e3 * t_quad:8.3f} ms   rel.err g_ii {e_d:.1e}  g_ij {e_o:.1e}")
    for budget in (t_quad, 1.0 if args.quick else 5.0):
        gd, go, n, el = _mc_block_norms(C, gamma, budget, rng)
        md, mo = abs(gd / float(gd_ref) - 1), abs(go / float(go_ref) - 1)
        print(f"Monte Carlo: {1e3 * el:8.3f} ms ({n} softmax draws)   rel.err g_ii {md:.1e}  "
              f"g_ij {mo:.1e}   error ratio MC/quad: g_ii {md / max(e_d, 2.2e-16):.1e}  "
              f"g_ij {mo / max(e_o, 2.2e-16):.1e}")

    print("\n== mpmath oracle, 30 digits: time per (gamma, C) point ==")
    classes = (10, 10**3, 10**6) if args.quick else (2, 10, 100, 10**3, 10**4, 10**5, 10**6)
    for Ck in classes:
        t = time.perf_counter()
        softmax_moments_mp(Ck, dps=30)
        print(f"C = {Ck:>8d}: {time.perf_counter() - t:6.2f} s")

    print("\n== float64 time across C (cost independent of C) ==")
    for Ck in (2, 10**3, 10**6, 10**9):
        seconds = _time(functools.partial(softmax_moments, Ck), repeat)
        print(f"C = {Ck:>10d}: {1e3 * seconds:7.3f} ms")
    print(f"\n(sanity: E p_1·C − 1 at C = 1e9: {softmax_moments(10**9).M1 * 1e9 - 1:.1e})")


if __name__ == "__main__":
    main()
