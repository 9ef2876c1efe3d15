"""``rmthess simulate``: Monte Carlo block-norm ratios with prediction, limit and z-scores."""

from __future__ import annotations

__all__ = ["HELP", "add_arguments", "run"]

HELP = "simulate Hessian blocks of a model case and compare their off/diag ratio with theory"


def add_arguments(parser) -> None:
    from rmthess.cli._options import add_init_arguments

    parser.add_argument("--case", required=True,
                        help="model case: linear-mse, linear-ce, mlp-mse, mlp-ce")
    parser.add_argument("--d", type=int, required=True, help="input dimension d (>= 2, > C or m)")
    parser.add_argument("--gamma", type=float, required=True, help="aspect ratio d/N (> 0)")
    parser.add_argument("--classes", type=int, required=True, help="number of classes C (>= 2)")
    parser.add_argument("--m", type=int, default=None, help="hidden width (mlp cases)")
    parser.add_argument("--reps", type=int, required=True, help="replicates (>= 1; z-scores need about 10 or more)")
    parser.add_argument("--design", default="coupled",
                        help="coupled, decoupled, sharp or lindeberg (default coupled)")
    parser.add_argument("--t", type=float, default=None,
                        help="interpolation parameter of the lindeberg design (default 0.5)")
    parser.add_argument("--sigma-v", type=float, default=None, help="output-weight scale (default 1)")
    add_init_arguments(parser, number=float, w_law=True)
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: fresh)")
    parser.add_argument("--force", action="store_true",
                        help="run even when the estimated memory or time exceeds the guard")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object: per block type ratio, stderr, prediction, limit")


#: estimated run time (seconds) above which progress lines are printed to stderr
PROGRESS_AFTER = 10.0


def _progress():
    import sys
    import time

    t0 = time.monotonic()

    def show(done, total, estimate):
        if estimate >= PROGRESS_AFTER:
            print(f"[{time.monotonic() - t0:7.1f} s] replicate {done}/{total} "
                  f"(estimated {estimate:.0f} s in all)", file=sys.stderr, flush=True)
    return show


def run(args) -> int:
    import json

    from rmthess.montecarlo import simulate

    res = simulate(args.case, d=args.d, gamma=args.gamma, classes=args.classes, m=args.m,
                   reps=args.reps, design=args.design, seed=args.seed, sigma_v=args.sigma_v,
                   t=args.t, init=args.init, v_law=args.v_law, w_law=args.w_law,
                   sigma_w=args.sigma_w,
                   force=args.force, progress=_progress())
    if args.json:
        out = res.to_dict()
        out.pop("replicates", None)
        print(json.dumps(out, indent=2, allow_nan=False))
    else:
        print(res)
    return 0
