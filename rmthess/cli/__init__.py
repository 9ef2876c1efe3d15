"""The ``rmthess`` command line.

Each subcommand lives in its own module of this package, which defines ``HELP`` (one line),
``add_arguments(parser)`` and ``run(args) -> int``. Heavy imports happen inside ``run`` so that
``rmthess --help`` stays fast. Errors of the user's making (``ValueError``) are printed as one line
and give exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

__all__ = ["main", "build_parser"]

#: subcommand name -> module implementing it
COMMANDS = {
    "analyze": "rmthess.cli.analyze",
    "gmp": "rmthess.cli.gmp",
    "limits": "rmthess.cli.limits",
    "simulate": "rmthess.cli.simulate",
    "sweep": "rmthess.cli.sweep",
    "verify": "rmthess.cli.verify",
}


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (exit status 2), like every other error."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every subcommand; with ``only`` (a subcommand's name) the options of that
    one alone are declared, the others listed by name and help (what one command needs)."""
    from rmthess import __version__

    parser = _Parser(
        prog="rmthess",
        description="Random-matrix-theory numerics for the Hessians of neural networks.",
    )
    parser.add_argument("--version", action="version", version=f"rmthess {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, modname in COMMANDS.items():
        mod = importlib.import_module(modname)
        p = sub.add_parser(name, help=mod.HELP, description=mod.HELP)
        if only is None or name == only:
            mod.add_arguments(p)
        p.set_defaults(_module=mod)
    return parser


def _one_line_warning(message, category, filename, lineno, line=None):
    return f"rmthess: warning: {message}\n"


def main(argv=None) -> int:
    """Run the command line; BLAS, when the command loads it, starts with one thread
    (:func:`rmthess._threads.single_thread_start`, which says why)."""
    from rmthess._threads import single_thread_start

    with single_thread_start():
        return _main(argv)


def _main(argv) -> int:
    import warnings

    warnings.formatwarning = _one_line_warning
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(only=next((w for w in words if not w.startswith("-")), None))
    args = parser.parse_args(argv)
    if getattr(args, "_module", None) is None:
        parser.print_help()
        return 2
    try:
        if getattr(args, "force", False):
            from rmthess._cost import allow_cost

            with allow_cost():
                return int(args._module.run(args) or 0)
        return int(args._module.run(args) or 0)
    except ValueError as exc:
        print(f"rmthess {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except ConnectionError as exc:
        print(f"rmthess {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"rmthess {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
