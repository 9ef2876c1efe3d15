"""Time and values of the linear-ce limits with a Zipf class prior against C (theory/cases.md,
(CASE-30)): ``PYTHONPATH=. python benchmarks/bench_prior_limits.py [--quick] [--class-laws]``.

Prints, per (S, C), the wall time of ``class_limits`` (best of 3; S = 0 is the uniform prior,
answered by the identical-class route), the class means of g_ii and g_ij,
C²·ratio (block-diagonality; its identical-class value at S = 0 is r0 of (CASE-5)), and the spread
std/mean of g_ii(c) across the classes.

``--class-laws`` prints instead, per (C, S) and the first, middle and last class, the time of one
per-class block law (theory/softmax_moments.md, SML-5, SML-6) split into its parts, side by side:
the exact moments of every class (SMO-2, evaluated once for the classes of one prior), the atoms
(``OffsetSoftmaxLaw.discretize``: the other classes' sum by the tail split, compression, tilt) and
the GMP law's support; the split's expected number of exactly drawn terms K and its accepted bulk
error; and, beside g_ii(c), the right edge of the block law's bulk of largest mass, that mass, and
the right edge of its rightmost bulk (which rests on atoms of mass ~10⁻⁵ and moves between atom
sets, SML-5). ``--quick``: C = 10⁵ only.

``--class-atoms`` prints the accuracy of those atoms: the Kolmogorov distance between the atoms of
``a_c`` and 4096 direct draws (a full C-class softmax each) for the first, middle and last class
at C = 2000 and 20000, Zipf S = 0.5, 1, 1.5, 2, σ_v = 1 (the table of SML-6; the draws' own noise
is ~0.014, the atoms' resolution ~0.011).

``--edge-spread`` prints, for the first, middle and last class at C = 10⁴, Zipf S = 1, the right
edge of the main bulk and of the rightmost bulk of the block law built from three independent atom
sets (the default seed and sample count, another seed, 4× the samples), and their relative spread:
the digits ``rmthess limits --class-edges`` keeps (docs/json-schema.md).
"""

import argparse
import time

from rmthess.cases import get_case
from rmthess.laws.prior import zipf_prior


def class_laws(quick):
    """Per-class block laws at C = 10⁵, 10⁶ (σ_v = 1, γ = 1): the time of each part."""
    from rmthess.gmp import GeneralizedMarchenkoPastur
    from rmthess.laws.softmax import OffsetSoftmaxLaw

    print(f"{'C':>8} {'S':>4} {'class':>7} {'moments_s':>9} {'atoms_s':>8} {'support_s':>9} "
          f"{'K':>5} {'bulk_err':>9} {'g_ii':>11} {'main_edge':>11} {'mass':>7} "
          f"{'right_edge':>11} {'bulks':>5}")
    for C in (10 ** 5,) if quick else (10 ** 5, 10 ** 6):
        for S in (0.5, 1.0, 2.0):
            pi = zipf_prior(C, S)
            t = time.perf_counter()
            OffsetSoftmaxLaw(pi, 1.0, 0).moment(1)   # every class's moments, shared by the laws
            t_mom = time.perf_counter() - t
            for c in (0, C // 2, C - 1):
                law = OffsetSoftmaxLaw(pi, 1.0, c)
                t = time.perf_counter()
                law.discretize()
                t_at = time.perf_counter() - t
                t = time.perf_counter()
                gmp = GeneralizedMarchenkoPastur(law, 1.0)
                sup, mass = gmp.support(), gmp.bulk_masses()
                t_sup = time.perf_counter() - t
                main = max(range(len(sup)), key=lambda i: mass[i])
                g = gmp.moment(2)
                split = law.tail_split
                print(f"{C:8d} {S:4.1f} {c:7d} {t_mom:9.2f} {t_at:8.2f} {t_sup:9.2f} "
                      f"{split['terms']:5d} {split['bulk_error']:9.2e} {g:11.4e} "
                      f"{sup[main][1]:11.4e} {mass[main]:7.4f} {sup[-1][1]:11.4e} {len(sup):5d}",
                      flush=True)


def class_atoms():
    """Kolmogorov distance of the class atoms to direct draws (SML-6)."""
    import numpy as np

    from rmthess.laws.softmax import OffsetSoftmaxLaw

    print(f"{'C':>6} {'S':>4}  first/middle/last")
    for C in (2000, 20000):
        for S in (0.5, 1.0, 1.5, 2.0):
            pi = zipf_prior(C, S)
            ks = []
            for c in (0, C // 2, C - 1):
                law = OffsetSoftmaxLaw(pi, 1.0, c)
                at = law.discretize()
                x = np.sort(law.sample(4096, rng=np.random.default_rng(C + c)))
                order = np.argsort(at.atoms)
                a, p = at.atoms[order], at.probs[order]
                cdf = np.concatenate([[0.0], np.cumsum(p)])[np.searchsorted(a, x, side="right")]
                n = len(x)
                ks.append(max(np.max(np.abs(cdf - np.arange(1, n + 1) / n)),
                              np.max(np.abs(cdf - np.arange(n) / n))))
            print(f"{C:6d} {S:4.1f}  " + "/".join(f"{k:.3f}" for k in ks), flush=True)


def edge_spread():
    """Spread of the per-class block-law edges over independent atom sets (SML-5, SML-6)."""
    import numpy as np

    import rmthess.laws.softmax as softmax

    case, C = get_case("linear-ce"), 10 ** 4
    pi = zipf_prior(C, 1.0)
    default = (softmax.DISCRETIZE_SAMPLES, softmax.DISCRETIZE_SEED)
    sets = (default, (default[0], 1), (4 * default[0], 2))
    edges = {}
    try:
        for samples, seed in sets:
            softmax.DISCRETIZE_SAMPLES, softmax.DISCRETIZE_SEED = samples, seed
            for c in (0, C // 2, C - 1):
                law = case.class_block_law(1.0, pi, c)
                sup, mass = law.support(), law.bulk_masses()
                edges.setdefault(c, []).append((sup[int(np.argmax(mass))][1], sup[-1][1]))
    finally:
        softmax.DISCRETIZE_SAMPLES, softmax.DISCRETIZE_SEED = default
    print(f"{'class':>6}  {'main-bulk right edges':>36} {'spread':>7}  "
          f"{'rightmost edges':>36} {'spread':>7}")
    for c, e in edges.items():
        main, outer = np.array(e).T
        print(f"{c + 1:6d}  " + " ".join(f"{x:11.4e}" for x in main)
              + f" {np.ptp(main) / main.mean():7.2%}  " + " ".join(f"{x:11.4e}" for x in outer)
              + f" {np.ptp(outer) / outer.mean():7.2%}", flush=True)


def main():
    case = get_case("linear-ce")
    print(f"{'S':>4} {'C':>8} {'time_s':>8} {'g_ii_mean':>12} {'g_ij_mean':>12} "
          f"{'C2_ratio':>10} {'spread':>9}")
    for C in (10 ** 3, 10 ** 4, 10 ** 5):
        for S in (0.0, 0.5, 1.0, 1.1, 1.5, 2.0):
            pi = zipf_prior(C, S)
            lim = case.limits(1.0, C, prior=pi).blocks["v"]
            times = []
            for _ in range(3):
                t = time.perf_counter()
                cl = case.class_limits(1.0, pi)
                times.append(time.perf_counter() - t)
            spread = 0.0 if cl is None else float(cl["g_ii"].std() / cl["g_ii"].mean())
            print(f"{S:4.1f} {C:8d} {min(times):8.3f} {lim.g_ii:12.5e} {lim.g_ij:12.5e} "
                  f"{C * C * lim.ratio:10.4g} {spread:9.3g}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--class-laws", action="store_true")
    ap.add_argument("--class-atoms", action="store_true")
    ap.add_argument("--edge-spread", action="store_true")
    a = ap.parse_args()
    if a.class_laws:
        class_laws(a.quick)
    elif a.class_atoms:
        class_atoms()
    elif a.edge_spread:
        edge_spread()
    else:
        main()
