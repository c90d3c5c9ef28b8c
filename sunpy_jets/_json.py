"""
Reading JSON that comes from outside the package: one place that turns every way a document can fail to parse
(invalid text or bytes, nesting deep enough to exhaust Python's recursion limit) into the caller's package error.
"""

import json

__all__ = ["parse_json"]


def parse_json(text, *, error, what, advice="it is not the file you meant"):
    """
    Parse JSON ``text``; a document that is not JSON or is nested too deeply raises ``error``.

    Bytes are decoded as JSON's standard encodings (UTF-8, or UTF-16/32 with their byte-order marks); bytes that
    are none of them are "not JSON" too.

    Parameters
    ----------
    text : `str` or `bytes`
        The document.
    error : type
        The package exception to raise (e.g. `~sunpy_jets.exceptions.HEKFormatError`).
    what : `str`
        What the document is, for the message (``"the HEK JSON file events.json"``).
    advice : `str`, optional
        What the user should do, ending the message (``"rebuild this entry"``).

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
    >>> parse_json(b"\\xff", error=HEKFormatError, what="a HEK response", advice="ask again")
    Traceback (most recent call last):
    ...
    sunpy_jets.exceptions.HEKFormatError: a HEK response is not JSON ('utf-8' codec can't decode ...); ask again
    """
    try:
        return json.loads(text)
    except ValueError as exc:
        # JSONDecodeError, UnicodeDecodeError from bytes, and the int-digit limit on a number thousands of digits long
        raise error(f"{what} is not JSON ({exc}); {advice}") from exc
    except RecursionError:
        # json's decoder recurses once per nesting level: a document of [[[[...]]]] exhausts the stack
        raise error(
            f"{what} is nested too deeply to be read (a JSON document of thousands of nested arrays or objects); "
            f"{advice}"
        ) from None
