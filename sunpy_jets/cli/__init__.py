"""
The ``sunpy-jets`` command line.

Each subcommand lives in its own module of this package, which defines ``add_parser(subparsers)``
(its arguments) and ``run(args) -> int`` (its work). Errors of the package are printed as one line
with what to fix, and give exit status 2; an interruption gives 130.
"""

import argparse
import importlib
import sys

from ..exceptions import SunpyJetsError

__all__ = ["main", "build_parser"]

# Subcommand modules, in the order `sunpy-jets --help` lists them.
_COMMANDS = ("predict", "train", "detect", "watch", "demo")


def build_parser() -> argparse.ArgumentParser:
    """
    The argument parser of ``sunpy-jets`` with every subcommand.

    Examples
    --------
    >>> from sunpy_jets.cli import build_parser
    >>> build_parser().parse_args(["predict", "a.fits", "b.fits"]).command
    'predict'
    """
    from ..version import version

    parser = argparse.ArgumentParser(
        prog="sunpy-jets",
        description="Find coronal jets in SDO/AIA image sequences.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _COMMANDS:
        module = importlib.import_module(f"{__name__}.{name}")
        sub = module.add_parser(subparsers)
        sub.set_defaults(_run=module.run)
    return parser


def main(argv=None) -> int:
    """
    Run ``sunpy-jets`` with ``argv`` (default: the process arguments) and return its exit status.

    Examples
    --------
    >>> from sunpy_jets.cli import main
    >>> main(["predict", "no_such_*.fits"])
    2
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except SunpyJetsError as e:
        print(f"sunpy-jets {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"sunpy-jets {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
