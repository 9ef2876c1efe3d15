"""``rmthess limits``: limiting Hessian-block norms g_ii, g_ij and their ratio for a model case."""

from __future__ import annotations

from rmthess._format import supported_digits

HELP = "limiting block norms g_ii, g_ij and ratios of a model case (theorems 1 and 2)"

__all__ = ["HELP", "add_arguments", "run"]


def add_arguments(parser) -> None:
    from rmthess.cli._options import (
        add_covariance_arguments,
        add_init_arguments,
        add_prior_argument,
        add_seed_argument,
    )
    from rmthess.cli._progress import add_quiet_argument

    parser.add_argument("--case", required=True,
                        help="model case: linear-mse, linear-ce, mlp-mse or mlp-ce")
    parser.add_argument("--gamma", required=True, help="aspect ratio d/N > 0")
    parser.add_argument("--classes", required=True, help="number of classes C >= 2 (1e6 accepted)")
    parser.add_argument("--m", default=None, help="hidden width (mlp cases)")
    parser.add_argument("--sigma-v", default=None, help="output weight scale σ_v > 0 (default 1)")
    add_prior_argument(parser, cases="linear-ce, mlp-ce", adds="adds 'per_class'")
    parser.add_argument("--class-edges", default=None,
                        help="linear-ce with --prior: comma-separated classes (1-based, or "
                             "first, middle, last; at most 32) whose diagonal block law is built "
                             "(a few seconds each): adds per_class.class_edges with its right "
                             "edge (theory/softmax_moments.md, SML-5, SML-6)")
    add_init_arguments(parser)
    add_covariance_arguments(parser, law="the data covariance, x = Sigma^(1/2) y, of every case "
                                         "(theory/anisotropic.md)")
    parser.add_argument("--digits", default=None,
                        help="evaluate with the mpmath oracle and print D significant digits")
    parser.add_argument("--rtol", default=None,
                        help="mlp-ce: target relative standard error of every g and ratio "
                             "(default 1e-2); the estimate stops when it is met")
    parser.add_argument("--max-time", default=None,
                        help="mlp-ce: time budget in seconds (default 60); an rtol out of its "
                             "reach is an error")
    parser.add_argument("--samples", default=None,
                        help="mlp-ce: a fixed number of draws instead of --rtol")
    add_seed_argument(parser, default=None,
                      help="mlp-ce: integer seed (default: fresh; the seed used is printed)")
    parser.add_argument("--force", action="store_true",
                        help="run even when the estimated memory or time exceeds the guard")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object (docs/json-schema.md)")
    add_quiet_argument(parser)


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


def _two(se):
    return None if se is None else float(f"{se:.2g}")


#: up to this many classes the per-class values are listed; above, summarised
_LIST_MAX = 1000


def _per_class(case, lim, prior, cl=None, covariance=None):
    """The ``per_class`` JSON entry (docs/json-schema.md): ``g_ii(c)`` of the class-indexed block
    (linear-ce: ``v``; mlp-ce: ``output``, with standard errors), listed or summarised. ``cl``:
    the result of ``class_limits`` when it has been computed already (mlp-ce)."""
    import numpy as np

    block = "output" if case.hidden else "v"
    if cl is None and not case.hidden:
        cl = case.class_limits(lim.gamma, prior, sigma_v=lim.sigma_v, covariance=covariance)
    se = None
    if cl is None:                              # uniform prior: every class alike
        g = np.full(lim.classes, lim.blocks[block].g_ii)
        gij = lim.blocks[block].g_ij
    else:
        g, gij = cl["g_ii"], cl["g_ij_mean"]
        se = cl.get("stderr_g_ii")
    out = {"block": block, "prior_max": float(prior.max()), "prior_min": float(prior.min()),
           "g_ij_mean": float(gij),
           "g_ii_summary": {"mean": float(g.mean()), "std": float(g.std()),
                            "min": float(g.min()), "max": float(g.max()),
                            "first": [float(x) for x in g[:10]]}}
    if lim.classes <= _LIST_MAX:
        out["g_ii"] = [float(x) for x in g]
        if se is not None:
            out["stderr_g_ii"] = [float(x) for x in se]
    return out


#: at most this many classes for --class-edges (each class law takes seconds, SML-6)
_EDGES_MAX = 32


def _edge_classes(text, classes):
    """The 0-based classes of ``--class-edges`` (1-based numbers or first, middle, last)."""
    named = {"first": 1, "middle": classes // 2 + 1, "last": classes}
    out = []
    for tok in text.split(","):
        tok = tok.strip()
        if tok in named:
            c = named[tok]
        else:
            try:
                c = int(tok)
            except ValueError:
                raise ValueError(f"--class-edges: {tok!r} is not a class number (1..{classes}) "
                                 f"or first, middle, last") from None
        if not 1 <= c <= classes:
            raise ValueError(f"--class-edges: class {c} is outside 1..{classes}")
        if c - 1 not in out:
            out.append(c - 1)
    if not out or len(out) > _EDGES_MAX:
        raise ValueError(f"--class-edges takes 1 to {_EDGES_MAX} classes, got {len(out)}")
    return out


#: relative spread of the main bulk's edges, and of the outermost edge, over independent
#: atom sets of the class law (C = 10⁴, Zipf S = 1; benchmarks/bench_prior_limits.py
#: --edge-spread, docs/json-schema.md): the digits kept
_EDGE_SPREAD, _OUTER_SPREAD = 0.02, 0.6


def _clean(left, right):
    """A left edge that is zero to within rounding of the support search (a hard edge at 0)
    printed as 0."""
    return 0.0 if abs(left) <= 1e-12 * abs(right) else left


def _class_edges(case, lim, prior, cls):
    """``per_class.class_edges`` (docs/json-schema.md): per class its diagonal block law
    (``LinearCE.class_block_law``, SML-5): the right edge of its rightmost bulk and the bulk of
    largest mass."""
    import numpy as np

    out = []
    for c in cls:
        law = case.class_block_law(lim.gamma, prior, c, sigma_v=lim.sigma_v)
        sup, mass = law.support(), law.bulk_masses()
        main = int(np.argmax(mass))
        left, right, outer = float(sup[main][0]), float(sup[main][1]), float(sup[-1][1])
        spread = _EDGE_SPREAD if main == len(sup) - 1 else _OUTER_SPREAD
        out.append({"class": c + 1, "prior": float(prior[c]), "g_ii": float(law.moment(2)),
                    "right_edge": supported_digits(outer, spread * outer), "bulks": len(sup),
                    "main_bulk": {"left": supported_digits(_clean(left, right),
                                                           _EDGE_SPREAD * right),
                                  "right": supported_digits(right, _EDGE_SPREAD * right),
                                  "mass": float(mass[main])}})
    return out


def run(args) -> int:
    import dataclasses
    import json
    import math

    from rmthess._schema import envelope, values
    from rmthess._validate import DIGITS
    from rmthess.cases import get_case
    from rmthess.cli._options import covariance_from_args, prior_from_args
    from rmthess.cli._progress import budget_bar

    case = get_case(args.case)
    gamma = _number("gamma", args.gamma)
    classes = _number("classes", args.classes, integer=True)
    m = _number("m", args.m, integer=True)
    from rmthess.laws.init import resolve_init

    sigma_v = _number("sigma-v", args.sigma_v)
    sigma_w = _number("sigma-w", args.sigma_w)
    if not case.hidden and (args.v_law is not None or sigma_w is not None):
        raise ValueError(f"--v-law and --sigma-w apply to the mlp cases only; the limits of "
                         f"{case.name} do not depend on the entry law of V")
    covariance = covariance_from_args(args)
    theory_cov = {} if covariance is None else {"covariance": covariance}
    if args.init is not None and not (isinstance(classes, int) and classes >= 2):
        raise ValueError(f"--classes must be an integer >= 2, got {args.classes!r}")
    ini = resolve_init(args.init, classes=classes, width=m if case.hidden else None,
                       sigma_v=sigma_v, v_law=args.v_law, sigma_w=sigma_w)
    theory = ini.theory()                       # (CASE-20, CASE-24): σ_v → σ_w σ_v, the law of V
    sigma_v = theory.pop("sigma_v")
    factors = ini.norm_factors()                # network's g = factor × the theory's g
    seed = args.seed                            # validated by its argparse type
    samples = _number("samples", args.samples, integer=True)
    extra = {}
    if args.rtol is not None:
        extra["rtol"] = _number("rtol", args.rtol)
    if args.max_time is not None:
        extra["max_time"] = _number("max-time", args.max_time)
    if (extra or seed is not None or samples is not None) and case.name != "mlp-ce":
        raise ValueError("--rtol, --max-time, --samples and --seed apply to mlp-ce only")
    prior = None
    if args.prior is not None:
        if case.loss == "ce" and args.digits is not None:
            raise ValueError("--prior and --digits cannot be combined (no mpmath route with "
                             "offsets)")
        prior = prior_from_args(args, case.name, classes, cases=("linear-ce", "mlp-ce"),
                                refusal="--prior applies to the CE cases (linear-ce, mlp-ce): "
                                        "logit offsets do not change the blocks of the MSE loss")
        extra["prior"] = prior
    edge_classes = None
    if args.class_edges is not None:
        if case.name != "linear-ce" or prior is None or covariance is not None:
            raise ValueError("--class-edges applies to linear-ce with --prior and no covariance "
                             "option (the per-class block laws, theory/softmax_moments.md SML-5)")
        edge_classes = _edge_classes(args.class_edges, classes)
    if args.digits is not None:
        digits = DIGITS.validate(_number("digits", args.digits, integer=True))
        lim = case.limits_mp(gamma, classes, m=m, sigma_v=sigma_v, dps=digits, **theory,
                             **theory_cov)

        import mpmath

        def fmt(x):
            with mpmath.workdps(digits + 5):
                return mpmath.nstr(mpmath.mpf(x), digits, strip_zeros=False)
    else:
        digits = None
        if case.name == "mlp-ce":
            extra.update(rng=seed, samples=samples)
            from rmthess.cases.mlp_ce import DEFAULT_MAX_TIME

            budget = extra.get("max_time") or DEFAULT_MAX_TIME
            # on a terminal only: the inputs are checked inside, and an error stays one line
            with budget_bar(budget, f"mlp-ce integrals (at most {budget:.0f} s, until --rtol)",
                            quiet=args.quiet):
                if prior is None:
                    lim = case.limits(gamma, classes, m=m, sigma_v=sigma_v, **extra, **theory,
                                      **theory_cov)
                else:                           # one run gives the class means and each class
                    extra.pop("prior")
                    per_class = case.class_limits(gamma, prior, m=m, sigma_v=sigma_v, **extra,
                                                  **theory, **theory_cov)
                    lim = per_class["limits"]
        else:
            lim = case.limits(gamma, classes, m=m, sigma_v=sigma_v, **extra, **theory,
                              **theory_cov)

        def fmt(x, se=None):
            if x is None or (isinstance(x, float) and math.isnan(x)):
                return None
            return supported_digits(float(x), se)

    if prior is not None:
        asym, asym_note = {}, "the C → ∞ leading terms are derived for identical classes"
    else:
        try:
            asym, asym_note = case.asymptote(lim.gamma, lim.classes, m=lim.m,
                                             sigma_v=lim.sigma_v, **theory, **theory_cov), None
        except ValueError as exc:              # stated in the output, never dropped silently
            asym, asym_note = {}, str(exc)
    out = {"case": lim.case, "gamma": lim.gamma, "classes": lim.classes, "m": lim.m,
           "sigma_v": lim.sigma_v, "digits": digits}
    if ini.name != "custom" or "v_law" in theory or ini.hidden is not None and ini.sigma_w != 1.0:
        out["init"] = {"name": ini.name, "v_law": ini.v_law.name, "sigma_v": ini.sigma_v}
        if ini.hidden is not None:
            out["init"].update(w_law=ini.w_law.name, sigma_w=ini.sigma_w)
    if lim.covariance is not None:
        out["covariance"] = {"law": repr(covariance), "s1": lim.covariance[0],
                             "s2": lim.covariance[1]}
    out["seed"] = lim.seed
    if prior is not None:
        out["per_class"] = _per_class(case, lim, prior,
                                      per_class if case.name == "mlp-ce" else None, covariance)
        if edge_classes is not None:
            out["per_class"]["class_edges"] = _class_edges(case, lim, prior, edge_classes)
    out["blocks"] = {}
    for name, blk in lim.blocks.items():
        f = factors.get(name, 1.0)
        if f != 1.0:                            # the network's own scale of g (CASE-20)
            blk = dataclasses.replace(
                blk, g_ii=blk.g_ii * f, g_ij=blk.g_ij * f,
                stderr_g_ii=None if blk.stderr_g_ii is None else blk.stderr_g_ii * f,
                stderr_g_ij=None if blk.stderr_g_ij is None else blk.stderr_g_ij * f)
        if blk.estimate:
            entry = values(fmt(blk.ratio, blk.stderr_ratio),
                           fmt(blk.g_ii, blk.stderr_g_ii), fmt(blk.g_ij, blk.stderr_g_ij),
                           stderr=(_two(blk.stderr_ratio), _two(blk.stderr_g_ii),
                                   _two(blk.stderr_g_ij)))
        else:
            entry = values(fmt(blk.ratio), fmt(blk.g_ii), fmt(blk.g_ij))
        entry["estimate"] = bool(blk.estimate)
        if blk.estimate:
            entry["error_kind"] = blk.error_kind
        entry["asymptote"] = float(asym[name]) if name in asym else None
        if name not in asym:
            entry["asymptote_note"] = asym_note or f"no C → ∞ leading term for the {name} block"
        out["blocks"][name] = entry
    if args.json:
        print(json.dumps(envelope("limits", out)))
        return 0
    head = f"case {lim.case}: gamma={lim.gamma:g} classes={lim.classes}"
    if lim.m is not None:
        head += f" m={lim.m}"
    head += f" sigma_v={lim.sigma_v:g}"
    if lim.seed is not None:
        head += f" seed={lim.seed}"
    if lim.covariance is not None:
        head += (f" covariance s1={lim.covariance[0]:.6g} s2={lim.covariance[1]:.6g} "
                 f"(effective gamma={lim.gamma * lim.covariance[0] ** 2 / lim.covariance[1]:.6g}, "
                 f"sigma_v={lim.sigma_v * lim.covariance[0] ** 0.5:.6g})")
    print(head)
    if "init" in out:
        i = out["init"]
        line = f"  init={i['name']}: V entries {i['v_law']} sigma_v={i['sigma_v']:.5g}"
        if "w_law" in i:
            line += (f", W entries {i['w_law']} sigma_w={i['sigma_w']:.5g}; the theory at "
                     f"sigma_v={lim.sigma_v:.5g} (CASE-20), g on the network's scale")
        print(line)
    notes = set()
    for name in lim.blocks:
        e = out["blocks"][name]
        if e["stderr"] is not None:
            se = e["stderr"]
            line = (f"  {name:7s} g_ii={e['g_ii']} ± {se['g_ii']}  g_ij={e['g_ij']} ± {se['g_ij']}"
                    f"  ratio={e['ratio']} ± {se['ratio']}  "
                    + ("(deterministic rule ± error bound)" if e["error_kind"] == "bound"
                       else "(estimate ± standard error)"))
        else:
            line = f"  {name:7s} g_ii={e['g_ii']}  g_ij={e['g_ij']}  ratio={e['ratio']}"
        if e["asymptote"] is not None:
            line += f"  C→∞ leading term {e['asymptote']:.6g}"
        else:
            notes.add(e["asymptote_note"])
        print(line)
    for note in sorted(notes):
        print(f"  no C→∞ leading term: {note}")
    if "per_class" in out:
        pc = out["per_class"]
        sm = pc["g_ii_summary"]
        print(f"  per class ({pc['block']} block; prior from {pc['prior_max']:.4g} to "
              f"{pc['prior_min']:.4g}): g_ii(c) from {sm['first'][0]:.4g} (c=1) to "
              f"{sm['min']:.4g}, spread std/mean {sm['std'] / sm['mean']:.3g}; --json lists "
              f"every class")
        for e in pc.get("class_edges", ()):
            mb = e["main_bulk"]
            # the JSON values already carry only the digits their spread over atom sets supports
            # (_EDGE_SPREAD, _OUTER_SPREAD); the outer bulks rest on atoms of mass ~1e-5
            outer = (f"; {e['bulks'] - 1} outer bulks of mass {1.0 - mb['mass']:.1g} reach "
                     f"≈ {e['right_edge']:.2g} (resolution-limited)" if e["bulks"] > 1 else "")
            print(f"  class {e['class']} (pi={e['prior']:.4g}): block law g_ii={e['g_ii']:.6g}, "
                  f"main bulk [{mb['left']:.3g}, {mb['right']:.3g}] of mass {mb['mass']:.4g}"
                  f"{outer}")
    return 0
