"""
The ``sunpy-jets`` command line.

Each subcommand lives in its own module of this package, which defines ``add_parser(subparsers)``
(its arguments) and ``run(args) -> int`` (its work). Errors of the package are printed as one line
with what to fix, and give exit status 2; an interruption gives 130; a closed output pipe
(``sunpy-jets ... | head -1``) ends quietly with 141.

The subcommand modules import the rest of the package inside their functions, not at the top: that is
what lets ``sunpy-jets --help`` answer without importing torch or building a model.
"""

import argparse
import importlib
import os
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


def _silence_stdout():
    """Point stdout at /dev/null so that Python's final flush of a closed pipe raises nothing."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout replaced by an object without a descriptor
        pass


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
        status = int(args._run(args) or 0)
        sys.stdout.flush()  # here, where a closed pipe is caught, not at exit
        return status
    except SunpyJetsError as e:
        print(f"sunpy-jets {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"sunpy-jets {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output went away (``sunpy-jets ... | head -1``): stop quietly, as Unix tools do.
        _silence_stdout()
        return 141


if __name__ == "__main__":
    sys.exit(main())
