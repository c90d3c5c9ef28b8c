"""
Reading JSON that comes from outside the package: one place that turns every way a document can fail to parse
(invalid text, nesting deep enough to exhaust Python's recursion limit) into the caller's package error.
"""

import json

__all__ = ["parse_json"]


def parse_json(text, *, error, what):
    """
    Parse JSON ``text``; a document that is not JSON or is nested too deeply raises ``error``.

    Parameters
    ----------
    text : `str` or `bytes`
        The document.
    error : type
        The package exception to raise (e.g. `~sunpy_jets.exceptions.HEKFormatError`).
    what : `str`
        What the document is, for the message (``"the HEK JSON file events.json"``).

    Examples
    --------
    >>> from sunpy_jets._json import parse_json
    >>> from sunpy_jets.exceptions import HEKFormatError
    >>> parse_json('{"result": []}', error=HEKFormatError, what="a HEK response")
    {'result': []}
    >>> parse_json("[" * 100_000 + "]" * 100_000, error=HEKFormatError, what="a HEK response")
    Traceback (most recent call last):
    ...
    sunpy_jets.exceptions.HEKFormatError: a HEK response is nested too deeply to be read (a JSON document of ...
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{what} is not JSON ({exc})") from exc
    except RecursionError:
        # json's decoder recurses once per nesting level: a document of [[[[...]]]] exhausts the stack
        raise error(
            f"{what} is nested too deeply to be read (a JSON document of thousands of nested arrays or objects); "
            "it is not the file you meant"
        ) from None
