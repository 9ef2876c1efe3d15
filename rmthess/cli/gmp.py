"""``rmthess gmp``: bulks, atom at zero, moments and density of a GMP law with an atomic weight law,
optionally with a population covariance spectrum (the separable law, theory/separable.md)."""

from __future__ import annotations

__all__ = ["HELP", "add_arguments", "run"]

#: cost guard: density points evaluated and printed without --force
MAX_GRID = 1_000_000

HELP = "generalized Marchenko-Pastur law of (1/N) X diag(lambda) X^T for an atomic weight law"


def _floats(name):
    def parse(text):
        import math

        parts = [p for p in text.replace(" ", "").split(",") if p != ""]
        if not parts:
            raise ValueError(f"--{name} must be a comma-separated list of numbers, got {text!r}")
        try:
            vals = [float(p) for p in parts]
        except ValueError:
            raise ValueError(f"--{name} must be a comma-separated list of numbers, got {text!r}") \
                from None
        if not all(math.isfinite(v) for v in vals):
            raise ValueError(f"--{name} must contain finite numbers, got {text!r}")
        return vals
    return parse


def add_arguments(parser) -> None:
    parser.add_argument("--gamma", type=str, required=True, help="aspect ratio d/N > 0")
    parser.add_argument("--atoms", type=str, required=True,
                        help="weights lambda_k, e.g. 1,5 (write --atoms=-1,2 if the first is < 0)")
    parser.add_argument("--probs", type=str, default=None,
                        help="probabilities p_k (default: uniform), e.g. 0.6,0.4")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--grid", type=int, default=None,
                       help="evaluate the density on K points spanning the support (default 11)")
    where.add_argument("--x", type=str, default=None, help="evaluate the density at x1,x2,...")
    cov = parser.add_mutually_exclusive_group()
    cov.add_argument("--covariance-atoms", type=str, default=None,
                     help="eigenvalues of the population covariance Sigma (> 0), e.g. 0.5,2: the "
                          "law of (1/N) Sigma^1/2 X diag(lambda) X^T Sigma^1/2")
    cov.add_argument("--covariance", type=str, default=None,
                     help="covariance spectrum: a named family, powerlaw:alpha=A,kappa=K[,atoms=N] "
                          "(density ~ s^(-1-1/A) on [s_min, K s_min], mean 1), or a file of "
                          "eigenvalues (text or .npy)")
    parser.add_argument("--covariance-probs", type=str, default=None,
                        help="probabilities of --covariance-atoms (default: uniform)")
    parser.add_argument("--moments", type=int, default=4, help="number of moments m_1..m_K (4)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--force", action="store_true",
                        help=f"lift the cost guards (--grid above {MAX_GRID:,} points, --moments "
                             f"above the order limit of rmthess.gmp.moments.MAX_ORDER)")


def run(args) -> int:
    import json

    import numpy as np

    from rmthess.gmp import GeneralizedMarchenkoPastur
    from rmthess.gmp.moments import MAX_ORDER
    from rmthess.laws import DiscreteLaw

    try:
        gamma = float(args.gamma)
    except ValueError:
        raise ValueError(f"--gamma must be a positive number, got {args.gamma!r}") from None
    atoms = _floats("atoms")(args.atoms)
    probs = (_floats("probs")(args.probs) if args.probs is not None
             else [1 / len(atoms)] * len(atoms))
    if len(probs) != len(atoms):
        raise ValueError(f"--probs has {len(probs)} entries but --atoms has {len(atoms)}")
    if args.moments < 0:
        raise ValueError(f"--moments must be >= 0, got {args.moments}")
    if args.moments > MAX_ORDER and not args.force:
        raise ValueError(f"--moments {args.moments} costs ~{args.moments ** 2 / 2:.3g} vector "
                         f"operations; at most {MAX_ORDER} without --force")
    k = 11 if args.grid is None else args.grid
    if k < 2:
        raise ValueError(f"--grid must be >= 2, got {k}")
    if k > MAX_GRID and not args.force:
        raise ValueError(f"--grid {k} evaluates and prints {k:.3g} densities "
                         f"(~{24 * k / 2**20:.3g} MiB); at most {MAX_GRID:,} without --force")
    covariance = _covariance(args)
    if covariance is None:
        law = GeneralizedMarchenkoPastur(DiscreteLaw(atoms, probs), gamma)
    else:
        from rmthess.gmp import SeparableMarchenkoPastur

        law = SeparableMarchenkoPastur(DiscreteLaw(atoms, probs), covariance, gamma)
    bulks = law.support()
    if args.x is not None:
        x = np.array(_floats("x")(args.x))
    else:
        lo = min([b[0] for b in bulks] + [0.0]) if bulks else -1.0
        hi = max([b[1] for b in bulks] + [0.0]) if bulks else 1.0
        x = np.linspace(lo, hi, k)
    density = law.pdf(x)
    moments = law.moments(args.moments, max_order=max(args.moments, MAX_ORDER))
    if args.json:
        out = {
            "gamma": law.gamma,
            "atoms": law.weights.atoms.tolist(),
            "probs": law.weights.probs.tolist(),
            **({} if covariance is None else {"covariance": {
                "law": repr(covariance),
                "atoms": covariance.discretize().atoms.tolist(),
                "probs": covariance.discretize().probs.tolist()}}),
            "bulks": [[float(a), float(b)] for a, b in bulks],
            "atom_at_zero": law.atom_at_zero,
            "moments": moments.tolist(),
            "x": x.tolist(),
            "density": density.tolist(),
        }
        print(json.dumps(out))
        return 0
    print(f"GMP law, gamma = {law.gamma:g}, weights {law.weights!r}"
          + ("" if covariance is None else f", covariance spectrum {covariance!r}"))
    print("bulks:")
    for a, b in bulks:
        print(f"  [{a:.15g}, {b:.15g}]")
    print(f"atom at 0: {law.atom_at_zero:.15g}")
    for k, m in enumerate(moments, start=1):
        print(f"m_{k} = {m:.15g}")
    print(f"{'x':>24} {'density':>24}")
    for xi, di in zip(x, density, strict=True):
        print(f"{xi:24.15g} {di:24.15g}")
    return 0


def _covariance(args):
    """The covariance spectrum law of the options, or None; ``ValueError`` naming the option."""
    from rmthess.gmp.covariance import covariance_from_atoms, parse_covariance

    if args.covariance_probs is not None and args.covariance_atoms is None:
        raise ValueError("--covariance-probs needs --covariance-atoms")
    if args.covariance is not None:
        try:
            return parse_covariance(args.covariance)
        except ValueError as exc:
            raise ValueError(f"--covariance: {exc}") from None
    if args.covariance_atoms is None:
        return None
    atoms = _floats("covariance-atoms")(args.covariance_atoms)
    if any(a <= 0 for a in atoms):
        raise ValueError(f"--covariance-atoms must be > 0 (a positive definite covariance), got "
                         f"{args.covariance_atoms!r}")
    probs = None
    if args.covariance_probs is not None:
        probs = _floats("covariance-probs")(args.covariance_probs)
        if len(probs) != len(atoms):
            raise ValueError(f"--covariance-probs has {len(probs)} entries but --covariance-atoms "
                             f"has {len(atoms)}")
    try:
        return covariance_from_atoms(atoms, probs)
    except ValueError as exc:
        raise ValueError(f"--covariance-probs: {exc}") from None
