"""What the subcommands share: turning their path arguments into files."""

__all__ = ["expand_inputs"]


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
