"""``rmthess limits``: limiting Hessian-block norms g_ii, g_ij and their ratio for a model case."""

from __future__ import annotations

HELP = "limiting block norms g_ii, g_ij and ratios of a model case (theorems 1 and 2)"

__all__ = ["HELP", "add_arguments", "run"]


def add_arguments(parser) -> None:
    parser.add_argument("--case", required=True,
                        help="model case: linear-mse, linear-ce, mlp-mse or mlp-ce")
    parser.add_argument("--gamma", required=True, help="aspect ratio d/N > 0")
    parser.add_argument("--classes", required=True, help="number of classes C >= 2 (1e6 accepted)")
    parser.add_argument("--m", default=None, help="hidden width (mlp cases)")
    parser.add_argument("--sigma-v", default="1.0", help="output weight scale σ_v > 0 (default 1)")
    parser.add_argument("--digits", default=None,
                        help="evaluate with the mpmath oracle and print D significant digits")
    parser.add_argument("--samples", default=None,
                        help="Monte Carlo draws of u for mlp-ce (default 131072)")
    parser.add_argument("--seed", default=None, help="Monte Carlo seed for mlp-ce")
    parser.add_argument("--force", action="store_true",
                        help="run even when the estimated memory or time exceeds the guard")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _number(name, text, integer=False):
    if text is None:
        return None
    try:
        x = float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {text!r}") from None
    if integer and x.is_integer():
        return int(x)
    return x


def run(args) -> int:
    import json
    import math

    import mpmath

    from rmthess._validate import DIGITS
    from rmthess.cases import get_case

    case = get_case(args.case)
    gamma = _number("gamma", args.gamma)
    classes = _number("classes", args.classes, integer=True)
    m = _number("m", args.m, integer=True)
    sigma_v = _number("sigma-v", args.sigma_v)
    seed = _number("seed", args.seed, integer=True)
    if seed is not None and (not isinstance(seed, int) or seed < 0):
        raise ValueError(f"--seed must be a non-negative integer, got {args.seed!r}")
    samples = _number("samples", args.samples, integer=True)
    if args.digits is not None:
        digits = DIGITS.validate(_number("digits", args.digits, integer=True))
        lim = case.limits_mp(gamma, classes, m=m, sigma_v=sigma_v, dps=digits)

        def fmt(x):
            with mpmath.workdps(digits + 5):
                return mpmath.nstr(mpmath.mpf(x), digits, strip_zeros=False)
    else:
        digits = None
        lim = case.limits(gamma, classes, m=m, sigma_v=sigma_v, rng=seed, samples=samples)

        def fmt(x):
            return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)

    try:
        asym = case.asymptote(lim.gamma, lim.classes, m=lim.m, sigma_v=lim.sigma_v)
    except ValueError:
        asym = {}
    out = {"case": lim.case, "gamma": lim.gamma, "classes": lim.classes, "m": lim.m,
           "sigma_v": lim.sigma_v, "digits": digits}
    for name, blk in lim.blocks.items():
        entry = {"g_ii": fmt(blk.g_ii), "g_ij": fmt(blk.g_ij), "ratio": fmt(blk.ratio),
                 "estimate": blk.estimate}
        if blk.estimate:
            entry["stderr"] = {"g_ii": fmt(blk.stderr_g_ii), "g_ij": fmt(blk.stderr_g_ij),
                               "ratio": fmt(blk.stderr_ratio)}
        if name in asym:
            entry["asymptote"] = float(asym[name])
        out[name] = entry
    if args.json:
        print(json.dumps(out))
        return 0
    head = f"case {lim.case}: gamma={lim.gamma:g} classes={lim.classes}"
    if lim.m is not None:
        head += f" m={lim.m}"
    print(head + f" sigma_v={lim.sigma_v:g}")
    for name in lim.blocks:
        e = out[name]
        line = f"  {name:7s} g_ii={e['g_ii']}  g_ij={e['g_ij']}  ratio={e['ratio']}"
        if "stderr" in e:
            line += f"  (Monte Carlo, ratio stderr {e['stderr']['ratio']})"
        if "asymptote" in e:
            line += f"  C→∞ leading term {e['asymptote']:.6g}"
        print(line)
    return 0
