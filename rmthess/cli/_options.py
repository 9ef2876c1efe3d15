"""Command-line options shared by several subcommands, declared once."""

from __future__ import annotations

__all__ = ["add_init_arguments", "add_seed_argument", "seed_value", "require_distributed"]


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
