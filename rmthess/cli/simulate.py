"""``rmthess simulate``: Monte Carlo block-norm ratios with prediction, limit and z-scores."""

from __future__ import annotations

__all__ = ["HELP", "add_arguments", "run", "format_result"]

HELP = "simulate Hessian blocks of a model case and compare their off/diag ratio with theory"


def add_arguments(parser) -> None:
    from rmthess.cli._options import (
        add_covariance_arguments,
        add_init_arguments,
        add_prior_argument,
        add_seed_argument,
    )
    from rmthess.cli._progress import add_quiet_argument

    parser.add_argument("--case", required=True,
                        help="model case: linear-mse, linear-ce, mlp-mse, mlp-ce")
    parser.add_argument("--d", type=int, required=True, help="input dimension d (>= 2, > C or m)")
    parser.add_argument("--gamma", type=float, required=True, help="aspect ratio d/N (> 0)")
    parser.add_argument("--classes", type=int, required=True, help="number of classes C (>= 2)")
    parser.add_argument("--m", type=int, default=None, help="hidden width (mlp cases)")
    parser.add_argument("--reps", type=int, required=True,
                        help="replicates (>= 2 for a standard error; z-scores need about 10 or "
                             "more)")
    parser.add_argument("--design", default="coupled",
                        help="coupled, decoupled, sharp or lindeberg (default coupled)")
    parser.add_argument("--t", type=float, default=None,
                        help="interpolation parameter of the lindeberg design (default 0.5)")
    parser.add_argument("--sigma-v", type=float, default=None,
                        help="output-weight scale (default 1)")
    add_init_arguments(parser, number=float, w_law=True)
    add_prior_argument(parser, cases="linear-ce, mlp-ce",
                       adds="adds the per-class diagonal norms ('per_class'); mlp-ce: no "
                            "prediction")
    add_covariance_arguments(parser, law="the data x = Sigma^(1/2) y (theory/anisotropic.md; "
                                         "mlp cases: no prediction)")
    add_seed_argument(parser, default=None, help="random seed (default: fresh; printed)")
    parser.add_argument("--force", action="store_true",
                        help="run even when the estimated memory or time exceeds the guard")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object (docs/json-schema.md): per block type the "
                             "simulated ratio, g_ii, g_ij with standard errors, prediction, limit")
    add_quiet_argument(parser)


def _fmt(x, se=None):
    import math

    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    text = f"{x:.6g}"
    if se is not None and se > 0 and math.isfinite(se):
        text += f" ± {se:.2g}"
    return text


def format_result(res) -> str:
    """The text table of a simulation: every number z is computed from, on one line per block."""
    from rmthess.montecarlo.result import FEW_REPLICATES

    head = (f"{res.case}  d={res.d} N={res.n_samples} gamma={res.gamma:g} C={res.classes}"
            + (f" m={res.m}" if res.m is not None else "")
            + f"  design={res.design}" + (f"(t={res.t:g})" if res.t is not None else "")
            + f"  reps={res.reps}  seed={res.seed_entropy}")
    rows = [("block", "ratio ± se", "prediction ± se_p", "z(pred)", "limit ± se_L", "z(limit)")]
    for b, r in res.blocks.items():
        rows.append((b, _fmt(r.ratio, r.stderr), _fmt(r.prediction, r.prediction_stderr),
                     "n/a" if r.z_prediction is None else f"{r.z_prediction:+.2f}",
                     _fmt(r.limit, r.limit_stderr),
                     "n/a" if r.z_limit is None else f"{r.z_limit:+.2f}"))
    widths = [max(len(row[j]) for row in rows) for j in range(len(rows[0]))]
    lines = [head] + ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                      for row in rows]
    if res.covariance is not None:
        cov = res.covariance
        lines.insert(1, f"covariance {cov!r}: s1={cov.moment(1):.6g} s2={cov.moment(2):.6g}; "
                        "x = Sigma^(1/2) y, Sigma the d midpoint quantiles of the spectrum")
    if res.prior is not None:
        per = next(iter(res.class_diag.values()))
        lines.insert(1, f"prior: logit offsets log pi_c, pi_max={max(res.prior):.4g}, "
                        f"pi_min={min(res.prior):.4g}; block values are class averages")
        norm = "(1/d)|H_cc|^2" if res.m is None else "|H_{v_c v_c}|^2 (output)"
        lines.append(f"per-class {norm} ± se  [prediction; limit]:")
        for c in range(min(5, len(per["mean"]))):
            theory = [_fmt(None if per[k] is None else float(per[k][c]))
                      for k in ("prediction", "limit")]
            lines.append(f"  c={c + 1} (pi={res.prior[c]:.4g}): "
                         f"{_fmt(float(per['mean'][c]), float(per['stderr'][c]))}  "
                         f"[{theory[0]}; {theory[1]}]")
        if len(per["mean"]) > 5:
            lines.append(f"  … {len(per['mean']) - 5} more classes in --json (per_class)")
    unpredicted = res.m is not None and (res.covariance is not None or res.prior is not None)
    if unpredicted:
        lines.append("no finite-size prediction is derived for the mlp cases with a covariance "
                     "or a prior (ANI-14): compare runs at d and 2d extrapolated in 1/d with the "
                     "limit")
    lines.append("z = (ratio − T)/√(se² + se_T²), T the prediction or the limit"
                 + ("; for the mlp cases z(pred) is conditional on each replicate's V (MC-11)"
                    if res.m is not None and not unpredicted else ""))
    if res.reps < FEW_REPLICATES:
        lines.append(f"note: the standard errors come from {res.reps} replicates, so they are "
                     f"themselves uncertain (Student t with {res.reps - 1} degrees of freedom); "
                     f"use reps >= {FEW_REPLICATES} to read z-scores as standard normal")
    return "\n".join(lines)


def run(args) -> int:
    import json

    from rmthess._cost import check_cost
    from rmthess._schema import envelope, simulation_body
    from rmthess.cli._progress import announce, bar
    from rmthess.montecarlo import simulate
    from rmthess.montecarlo.simulation import make_spec, simulation_cost

    if args.reps < 2:
        raise ValueError(f"--reps must be >= 2: the standard error of a ratio needs at least two "
                         f"replicates, got {args.reps}")
    from rmthess.cases import get_case
    from rmthess.cli._options import covariance_from_args, prior_from_args

    case = get_case(args.case)
    prior = prior_from_args(args, case.name, args.classes, cases=("linear-ce", "mlp-ce"),
                            refusal="--prior applies to linear-ce and mlp-ce only: logit offsets "
                                    "do not change the Hessian blocks of the MSE loss (CASE-31)")
    covariance = covariance_from_args(args)
    # the estimate before any work (a typo in --d can mean hours): parameters and the cost guard
    # are checked as simulate() checks them, so a refusal stays one line
    spec, _, _ = make_spec(args.case, d=args.d, gamma=args.gamma, classes=args.classes, m=args.m,
                           design=args.design, sigma_v=args.sigma_v, t=args.t, v_law=args.v_law,
                           w_law=args.w_law, sigma_w=args.sigma_w, init=args.init,
                           covariance=covariance, prior=prior)
    nbytes, seconds = simulation_cost(spec, args.reps)
    check_cost(f"simulate({spec.case}, d={spec.d}, N={spec.n_samples}, reps={args.reps})",
               nbytes=nbytes, seconds=seconds, force=args.force,
               hint="reduce d, reps or raise gamma")
    announce("simulate", seconds, f"{args.reps} replicates", quiet=args.quiet)
    state = {}

    def progress(done, total, _estimate):
        if "bar" not in state:
            state["bar"] = bar(total, "replicates", quiet=args.quiet)
        state["bar"].update(done - state["bar"].n)

    try:
        res = simulate(args.case, d=args.d, gamma=args.gamma, classes=args.classes, m=args.m,
                       reps=args.reps, design=args.design, rng=args.seed, sigma_v=args.sigma_v,
                       t=args.t, init=args.init, v_law=args.v_law, w_law=args.w_law,
                       sigma_w=args.sigma_w, covariance=covariance, prior=prior,
                       force=args.force, progress=progress)
    finally:
        if "bar" in state:
            state["bar"].close()
    if args.json:
        print(json.dumps(envelope("simulate", simulation_body(res)), indent=2, allow_nan=False))
    else:
        print(format_result(res))
    return 0
