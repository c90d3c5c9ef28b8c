"""
The exceptions and warnings raised by sunpy_jets.

Every error the package raises on purpose is a `SunpyJetsError`. Each concrete class also derives
from the built-in exception a Python user would expect (`ValueError` for bad values, `TypeError`
for wrong types, `OSError` for unreadable files), so ``except ValueError`` keeps working.

Warnings are issued when the package can proceed but had to change what it was given (a padded
field of view, interpolated frames, a few NaN pixels); they are all `SunpyJetsWarning`, which is a
`sunpy.util.exceptions.SunpyUserWarning`, so sunpy's own warning filters apply to them.
"""

from sunpy.util.exceptions import SunpyDeprecationWarning, SunpyUserWarning

__all__ = [
    "SunpyJetsError",
    "InputError",
    "InputTypeError",
    "FileFormatError",
    "WeightsError",
    "HEKFormatError",
    "CatalogueError",
    "DownloadError",
    "TrainingError",
    "SunpyJetsWarning",
    "InputWarning",
    "CatalogueWarning",
    "ProvenanceWarning",
    "HEKFormatWarning",
    "SunpyJetsDeprecationWarning",
]


class SunpyJetsError(Exception):
    """
    Base class of every error raised by sunpy_jets.

    Examples
    --------
    >>> from sunpy_jets.exceptions import InputError, SunpyJetsError
    >>> issubclass(InputError, SunpyJetsError) and issubclass(InputError, ValueError)
    True
    """


class InputError(SunpyJetsError, ValueError):
    """
    Input data has the right type but unusable values.

    Examples: an empty sequence, frames of different shapes or wavelengths, unsorted or duplicated
    times, a gap longer than a window, all-NaN or all-zero frames, missing exposure time or WCS,
    a cutout centre outside the field of view.

    Examples
    --------
    >>> from sunpy_jets.exceptions import InputError
    >>> raise InputError("the sequence is empty: give at least one frame")
    Traceback (most recent call last):
    ...
    sunpy_jets.exceptions.InputError: the sequence is empty: give at least one frame
    """


class InputTypeError(SunpyJetsError, TypeError):
    """
    Input data or an argument has the wrong type (a bare array where a map goes, a width that is not an angle).

    Examples
    --------
    >>> from sunpy_jets.exceptions import InputTypeError
    >>> issubclass(InputTypeError, TypeError)
    True
    """


class FileFormatError(InputError, OSError):
    """
    A file could not be read as what it claims to be (a truncated FITS file, a non-FITS file named ``.fits``).

    Examples
    --------
    >>> from sunpy_jets.exceptions import FileFormatError, InputError
    >>> issubclass(FileFormatError, InputError) and issubclass(FileFormatError, OSError)
    True
    """


class WeightsError(SunpyJetsError, ValueError):
    """
    A weights file or checkpoint is unsafe, corrupt, or does not match its configuration or checksum.

    Examples
    --------
    >>> from sunpy_jets.exceptions import WeightsError
    >>> issubclass(WeightsError, ValueError)
    True
    """


class HEKFormatError(SunpyJetsError, ValueError):
    """
    A HEK record or HEK-shaped file lacks required fields or holds values of the wrong type.

    Examples
    --------
    >>> from sunpy_jets.exceptions import HEKFormatError
    >>> issubclass(HEKFormatError, ValueError)
    True
    """


class CatalogueError(SunpyJetsError, ValueError):
    """
    A label catalogue (Solar Jet Hunter, non-jet positions, HEK CJ events) cannot be read.

    Examples
    --------
    >>> from sunpy_jets.exceptions import CatalogueError
    >>> issubclass(CatalogueError, ValueError)
    True
    """


class DownloadError(SunpyJetsError, RuntimeError):
    """
    A download (JSOC data, weights) failed, or cannot start (no network, no JSOC e-mail).

    Examples
    --------
    >>> from sunpy_jets.exceptions import DownloadError
    >>> issubclass(DownloadError, RuntimeError)
    True
    """


class TrainingError(SunpyJetsError, ValueError):
    """
    Training cannot run with the data or settings given (an empty split, a single class, a bad recipe).

    Examples
    --------
    >>> from sunpy_jets.exceptions import TrainingError
    >>> issubclass(TrainingError, ValueError)
    True
    """


class SunpyJetsWarning(SunpyUserWarning):
    """
    Base class of every warning issued by sunpy_jets (a sunpy ``SunpyUserWarning``).

    Examples
    --------
    >>> from sunpy.util.exceptions import SunpyUserWarning
    >>> from sunpy_jets.exceptions import InputWarning, SunpyJetsWarning
    >>> issubclass(InputWarning, SunpyJetsWarning) and issubclass(SunpyJetsWarning, SunpyUserWarning)
    True
    """


class InputWarning(SunpyJetsWarning):
    """
    The input was usable but had to be changed: padded, interpolated in time, NaN pixels filled.

    Examples
    --------
    >>> import warnings
    >>> from sunpy_jets.exceptions import InputWarning
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("3 NaN pixels were set to zero", InputWarning)
    >>> caught[0].category.__name__
    'InputWarning'
    """


class CatalogueWarning(SunpyJetsWarning):
    """
    Some rows of a label catalogue could not be used; the report says which and why.

    Examples
    --------
    >>> from sunpy_jets.exceptions import CatalogueWarning, SunpyJetsWarning
    >>> issubclass(CatalogueWarning, SunpyJetsWarning)
    True
    """


class HEKFormatWarning(SunpyJetsWarning):
    """
    A HEK record was normalised on import (swapped box corners, wavelengths in cm).

    Examples
    --------
    >>> from sunpy_jets.exceptions import HEKFormatWarning, SunpyJetsWarning
    >>> issubclass(HEKFormatWarning, SunpyJetsWarning)
    True
    """


class ProvenanceWarning(SunpyJetsWarning):
    """
    HEK records went out with the package's placeholder provenance (``frm_institute``, ``frm_contact``):
    set yours once with `~sunpy_jets.events.set_hek_provenance` or the ``SUNPY_JETS_FRM_*`` variables.

    Examples
    --------
    >>> from sunpy_jets.exceptions import ProvenanceWarning, SunpyJetsWarning
    >>> issubclass(ProvenanceWarning, SunpyJetsWarning)
    True
    """


class SunpyJetsDeprecationWarning(SunpyDeprecationWarning):
    """
    A name or import path of sunpy_jets still works but will be removed; the message says what to use.

    Examples
    --------
    >>> from sunpy.util.exceptions import SunpyDeprecationWarning
    >>> from sunpy_jets.exceptions import SunpyJetsDeprecationWarning
    >>> issubclass(SunpyJetsDeprecationWarning, SunpyDeprecationWarning)
    True
    """
