"""Time and values of the linear-ce limits with a Zipf class prior against C (theory/cases.md,
(CASE-30)): ``PYTHONPATH=. python benchmarks/bench_prior_limits.py``.

Prints, per (S, C), the wall time of ``class_limits`` (best of 3; S = 0 is the uniform prior,
answered by the identical-class route), the class means of g_ii and g_ij,
C²·ratio (block-diagonality; its identical-class value at S = 0 is r0 of (CASE-5)), and the spread
std/mean of g_ii(c) across the classes.
"""

import time

from rmthess.cases import get_case
from rmthess.laws.prior import zipf_prior


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
    main()
