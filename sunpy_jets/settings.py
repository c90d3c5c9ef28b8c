"""
Package-wide settings: one switch for progress bars, and where the package's warnings point.

Progress bars are shown by default. Turn them off everywhere at once with the environment variable
``SUNPY_JETS_PROGRESS=0`` (also ``false``, ``no``, ``off``), or from Python with
``sunpy_jets.settings.progress = False``; an explicit ``progress=`` argument of a call still wins. The
``sunpy-jets`` command line follows the same switch (its ``--no-progress`` is the explicit form).

Examples
--------
>>> import sunpy_jets.settings as settings
>>> settings.show_progress(False), settings.show_progress(True)
(False, True)
>>> settings.progress = False
>>> settings.show_progress()  # no explicit value: the package-wide switch
False
>>> settings.progress = None  # back to the environment (default: shown)
"""

import os
import sys
import warnings

__all__ = ["progress", "show_progress", "PROGRESS_ENV", "warn_user"]

#: The environment variable read when `progress` is None.
PROGRESS_ENV = "SUNPY_JETS_PROGRESS"

#: Show progress bars (True/False), or None to follow ``SUNPY_JETS_PROGRESS`` (shown when unset).
progress = None

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def show_progress(value=None) -> bool:
    """Whether to show progress: ``value`` when given, else `progress`, else ``SUNPY_JETS_PROGRESS``."""
    if value is not None:
        return bool(value)
    if progress is not None:
        return bool(progress)
    return os.environ.get(PROGRESS_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def warn_user(message, category, *, skip_internal: bool = True):
    """
    Issue a warning that points at the user's line: the first caller outside sunpy_jets (and its tests'
    helpers are user code), however deep inside the package it was raised.

    Examples
    --------
    >>> import warnings
    >>> from sunpy_jets.exceptions import InputWarning
    >>> from sunpy_jets.settings import warn_user
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_user("frames were padded", InputWarning)
    >>> caught[0].filename.startswith("<doctest")
    True
    """
    level, frame = 1, sys._getframe(1)
    while frame is not None and skip_internal and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level + 1)
