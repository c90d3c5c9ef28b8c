"""``sunpy-jets predict``: the jet probability of one window of AIA frames."""

import argparse

from ._common import add_precision_option

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``predict`` subcommand."""
    parser = subparsers.add_parser(
        "predict",
        help="probability that a sequence of FITS frames holds a jet",
        description=(
            "Classify one window of AIA frames (FITS files, a glob pattern or a directory) and print the probability "
            "that it holds a coronal jet."
        ),
    )
    parser.add_argument("inputs", nargs="+", help="FITS files, glob patterns or a directory")
    parser.add_argument("--weights", help="model directory written by JetClassifier.save (default: bundled weights)")
    parser.add_argument("--device", default="auto", help='"auto" (default), "cpu", "cuda" or "mps"')
    add_precision_option(parser)
    parser.add_argument("--threshold", type=float, help="override the model's decision threshold")
    parser.add_argument("--model-card", action="store_true", help="also print a summary of the model card (what "
                        "the weights were trained on, their measured figures, the threshold)")
    return parser


def run(args) -> int:
    """Run ``predict``; print the probability and the decision."""
    from .. import JetClassifier
    from ._common import expand_inputs

    data = expand_inputs(args.inputs)  # several globs or folders are one sequence, in the order given
    clf = JetClassifier.load(args.weights, device=args.device, precision=args.precision) if args.weights else JetClassifier.from_pretrained(device=args.device, precision=args.precision)
    if args.threshold is not None:
        clf.threshold = args.threshold
    proba = clf.predict_proba(data)
    verdict = "jet" if proba >= clf.threshold else "no jet"
    print(f"jet probability {proba:.4f} (threshold {clf.threshold:.3f}): {verdict}")
    if args.model_card:
        print(clf.card.summary())
    return 0
