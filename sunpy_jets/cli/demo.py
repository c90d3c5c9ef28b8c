"""``sunpy-jets demo``: detect jets in a synthetic jet and non-jet sequence (or your frames), offline."""

import argparse

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``demo`` subcommand."""
    parser = subparsers.add_parser(
        "demo",
        help="detect jets in generated sequences with the bundled weights (offline)",
        description=(
            "Generate an AIA 304 Å sequence with a coronal jet and one without (or read your own frames), detect "
            "jets with the bundled default weights, print the events, and write HEK JSON, VOEvent XML and a figure."
        ),
    )
    parser.add_argument("--output", default="sunpy_jets_demo", help="folder for the files (default: %(default)s)")
    parser.add_argument("--frames", metavar="FOLDER", help="AIA 304 Å FITS frames to use instead of generated ones")
    parser.add_argument("--device", default="auto", help='"auto" (default), "cpu", "cuda" or "mps"')
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated sequences (default: %(default)s)")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="hide progress bars")
    return parser


def run(args) -> int:
    """Run ``demo``."""
    from ._demo import run_demo

    run_demo(args.output, frames=args.frames, device=args.device, seed=args.seed, progress=args.progress)
    return 0
