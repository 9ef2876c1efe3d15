"""``rmthess analyze``: the Hessian-block structure of a PyTorch model, the theory beside it."""

from __future__ import annotations

__all__ = ["HELP", "add_arguments", "run"]

HELP = "block structure of a PyTorch model's Hessian from a TOML file (needs rmthess[torch])"


def add_arguments(parser) -> None:
    from rmthess.cli._progress import add_quiet_argument

    parser.add_argument("config", help="analysis configuration (TOML; see rmthess.torch.analysis)")
    parser.add_argument("--out", default="rmthess-analysis",
                        help="output folder (default rmthess-analysis)")
    parser.add_argument("--pdf", action="store_true", help="also write the figures as PDF")
    parser.add_argument("--json", action="store_true",
                        help="print the analysis record (analysis.json) on stdout")
    add_quiet_argument(parser)


def run(args) -> int:
    import importlib.util
    import json
    import sys

    from rmthess.montecarlo.sweep import prepare_out

    if importlib.util.find_spec("torch") is None:
        raise ValueError("rmthess analyze needs PyTorch: pip install 'rmthess[torch]'")
    from rmthess._format import with_error
    from rmthess.torch.analysis import (
        load_config,
        mde_text,
        plain,
        record,
        run_analysis,
        write_analysis,
    )

    prepare_out(args.out, create=False)     # checks that create nothing come first
    cfg = load_config(args.config)          # a bad file fails here, before any writing
    out = prepare_out(args.out)

    def say(step: str) -> None:
        if not args.quiet:
            print(f"rmthess analyze: {step}", file=sys.stderr, flush=True)

    an = run_analysis(cfg, progress=say)
    written = write_analysis(an, out, formats=("png", "pdf") if args.pdf else ("png",))
    if args.json:
        print(json.dumps(plain(record(an)), allow_nan=False))
        return 0
    for name, r in an.ratios.items():
        err = "" if r["stderr"] is None else f" ± {r['stderr']:.2g}"
        if r["n_blocks"] < 2:
            print(f"group {name}: 1 block, no off-diagonal blocks (no ratio)")
            continue
        print(f"group {name}: {r['n_blocks']} blocks, block ratio {r['ratio']:.6g}{err}")
    if an.theory is not None:
        th = an.theory
        for row in th.rows:
            meas = (f"{row.measured:.5g}" if row.measured_stderr is None else
                    with_error(row.measured, row.measured_stderr))
            print(f"theory {th.network.case} {row.block_type}: measured {meas}, "
                  f"ensemble {row.ensemble_mean:.4g} ± {row.ensemble_sd:.2g}, "
                  f"limit {row.limit:.4g}, z = {row.z:+.2f} against {row.threshold:.2f} "
                  f"(detects {mde_text(row.mde)})")
        print(f"verdict: {'PASS' if th.passed else 'FAIL'}")
    elif an.theory_note:
        print(f"no theory for this model: {an.theory_note}")
    print(f"report: {written['html']}")
    return 0 if an.theory is None or an.theory.passed else 1
