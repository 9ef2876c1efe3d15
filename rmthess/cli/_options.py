"""Command-line options shared by several subcommands, declared once."""

from __future__ import annotations

__all__ = ["add_init_arguments", "add_seed_argument", "seed_value", "require_distributed",
           "float_list", "add_covariance_arguments", "covariance_from_args", "add_prior_argument",
           "prior_from_args"]


def add_init_arguments(parser, *, number=None, w_law: bool = False) -> None:
    """``--init``, ``--v-law``, ``--sigma-w`` (and ``--w-law`` if ``w_law``): the initialization of
    the network (:func:`rmthess.laws.init.resolve_init`, theory/cases.md CASE-20–CASE-24).

    ``number`` is the argparse ``type`` of ``--sigma-w`` (None keeps the text for the command's own
    parsing). The values are checked when the command runs (:data:`rmthess.laws.init.INITS`,
    :data:`rmthess.laws.entry.ENTRY_LAWS`); the help names them without importing those modules, so
    building the parser stays cheap.
    """
    laws = "gaussian, rademacher, uniform"
    parser.add_argument("--init", default=None,
                        help="named initialization of the network: lecun-normal, torch-default, "
                             "kaiming-normal, xavier-uniform (sets the laws and scales of V and W)")
    parser.add_argument("--v-law", default=None,
                        help=f"entry law of V (mlp cases): {laws} (default gaussian)")
    if w_law:
        parser.add_argument("--w-law", default=None,
                            help=f"entry law of W (mlp cases): {laws} (default gaussian)")
    parser.add_argument("--sigma-w", type=number, default=None,
                        help="hidden-weight scale of the mlp cases, W = sigma_w eps/sqrt(d) "
                             "(default 1)")


def seed_value(text: str) -> int:
    """argparse type of ``--seed``: a non-negative integer (argparse names the option on error).

    >>> seed_value("12")
    12
    """
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text!r}")
    return value


def add_seed_argument(parser, *, default, help: str) -> None:
    """``--seed S``: a non-negative integer, validated while parsing (exit 2 naming ``--seed``)."""
    parser.add_argument("--seed", type=seed_value, default=default, metavar="S", help=help)


def require_distributed(option: str) -> None:
    """``ValueError`` (exit 2) naming ``option`` and the install command unless Dask's distributed
    scheduler can be imported — checked before anything is written."""
    from rmthess.montecarlo.sweep.execute import INSTALL_DISTRIBUTED
    from rmthess.montecarlo.sweep.execute import require_distributed as require

    try:
        require()
    except ValueError:
        raise ValueError(f"{option} runs on Dask, which is not installed; install it with: "
                         f"{INSTALL_DISTRIBUTED}") from None


def float_list(name):
    """Parser of ``--NAME a,b,...``: a non-empty list of finite floats; ``ValueError`` naming the
    option otherwise."""
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


def add_covariance_arguments(parser, *, law: str) -> None:
    """``--covariance-atoms``/``--covariance-probs`` or ``--covariance NAME:PARAMS|FILE``: the
    spectrum of a data covariance Σ (:mod:`rmthess.gmp.covariance`); ``law`` says what it enters."""
    cov = parser.add_mutually_exclusive_group()
    cov.add_argument("--covariance-atoms", type=str, default=None,
                     help="eigenvalues of the population covariance Sigma (> 0), e.g. 0.5,2: "
                          + law)
    cov.add_argument("--covariance", type=str, default=None,
                     help="covariance spectrum: a named family, powerlaw:alpha=A,kappa=K[,atoms=N] "
                          "(density ~ s^(-1-1/A) on [s_min, K s_min], mean 1), or a file of "
                          "eigenvalues (text or .npy)")
    parser.add_argument("--covariance-probs", type=str, default=None,
                        help="probabilities of --covariance-atoms (default: uniform)")


def covariance_from_args(args):
    """The covariance spectrum law of the options of :func:`add_covariance_arguments`, or None;
    ``ValueError`` naming the option."""
    if args.covariance_probs is not None and args.covariance_atoms is None:
        raise ValueError("--covariance-probs needs --covariance-atoms")
    if args.covariance is None and args.covariance_atoms is None:
        return None                    # no GMP import (numba) on the isotropic path
    from rmthess.gmp.covariance import covariance_from_atoms, parse_covariance

    if args.covariance is not None:
        try:
            return parse_covariance(args.covariance)
        except ValueError as exc:
            raise ValueError(f"--covariance: {exc}") from None
    if args.covariance_atoms is None:
        return None
    atoms = float_list("covariance-atoms")(args.covariance_atoms)
    if any(a <= 0 for a in atoms):
        raise ValueError(f"--covariance-atoms must be > 0 (a positive definite covariance), got "
                         f"{args.covariance_atoms!r}")
    probs = None
    if args.covariance_probs is not None:
        probs = float_list("covariance-probs")(args.covariance_probs)
        if len(probs) != len(atoms):
            raise ValueError(f"--covariance-probs has {len(probs)} entries but --covariance-atoms "
                             f"has {len(atoms)}")
    try:
        return covariance_from_atoms(atoms, probs)
    except ValueError as exc:
        raise ValueError(f"--covariance-probs: {exc}") from None


def add_prior_argument(parser, *, cases: str, adds: str) -> None:
    """``--prior zipf:S|FILE``: the class prior of the logit offsets ``b_c = log π_c``
    (:mod:`rmthess.laws.prior`) of the ``cases`` named; ``adds`` says what the command adds with
    it."""
    parser.add_argument("--prior", default=None,
                        help=f"{cases}: class prior, logit offsets b_c = log π_c: 'zipf:S' "
                             f"(π_c ∝ c^-S) or a file of class frequencies; {adds}")


def prior_from_args(args, case_name: str, classes, *, cases: tuple, refusal: str):
    """The prior of ``--prior`` over ``classes`` classes, or None; ``ValueError`` naming the
    option: ``refusal`` for a case outside ``cases``, then an integer C >= 2 and a valid prior."""
    if args.prior is None:
        return None
    from rmthess.laws.prior import parse_prior

    if case_name not in cases:
        raise ValueError(refusal)
    if isinstance(classes, bool) or not (isinstance(classes, int) and classes >= 2):
        raise ValueError(f"--classes must be an integer >= 2, got {args.classes!r}")
    try:
        return parse_prior(args.prior, classes)
    except ValueError as exc:
        raise ValueError(f"--prior: {exc}") from None
