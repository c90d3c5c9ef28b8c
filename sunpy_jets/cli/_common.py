"""What the subcommands share: turning their path arguments into files, and the model options."""

__all__ = ["expand_inputs", "add_precision_option"]


def add_precision_option(parser):
    """``--precision``, beside ``--device`` (see `~sunpy_jets.JetClassifier`'s ``precision``)."""
    parser.add_argument("--precision", choices=("float32", "bfloat16", "float16"), default="float32",
                        help='inference precision: "float32" (default, the model card\'s figures), "bfloat16" '
                        '(faster where the network dominates: GPUs, CPUs with bf16 instructions) or "float16" (GPU only)')


def expand_inputs(arguments) -> list:
    """
    Every FITS path named by the arguments (files, glob patterns, folders, any number of each), in the order given.

    Examples
    --------
    >>> from sunpy_jets.cli._common import expand_inputs
    >>> expand_inputs(["no_such_*.fits"])
    Traceback (most recent call last):
    ...
    sunpy_jets.exceptions.InputError: no files match the pattern 'no_such_*.fits'
    """
    from ..inputs._files import expand_path_argument

    return [path for argument in arguments for path in expand_path_argument(argument)]
