"""
Files of the watched folder: which are new, when they were observed (from the header alone), and quarantine.
"""

import os
import shutil
import warnings
from pathlib import Path

import numpy as np

from astropy.io import fits

import sunpy.map

from .._atomic import atomic_write_text
from ..exceptions import FileFormatError, InputError
from ..inputs._checks import DATE_KEYS

__all__ = ["list_candidates", "header_time", "quarantine", "QUARANTINE_FOLDER"]

#: Sub-folder of the output where unusable files go, each with a ``.reason.txt`` beside it.
QUARANTINE_FOLDER = "quarantine"

_SUFFIXES = (".fits", ".fts", ".fit", ".fits.gz")
# Names that downloaders give files they are still writing.
_PARTIAL = (".part", ".tmp", ".download", ".crdownload", ".partial")


def list_candidates(directory, known, *, settle_s, now):
    """
    FITS files of ``directory`` not in ``known``, untouched for ``settle_s`` seconds: ``[(name, mtime)]``.

    Hidden files (rsync's temporary names) and names of partial downloads are skipped.
    """
    out = []
    with os.scandir(directory) as entries:
        for entry in entries:
            name = entry.name
            lower = name.lower()
            if name in known or name.startswith(".") or lower.endswith(_PARTIAL) or not lower.endswith(_SUFFIXES):
                continue
            try:
                stat = entry.stat()
            except FileNotFoundError:  # removed while listing
                continue
            if not entry.is_file() or now - stat.st_mtime < settle_s:
                continue
            out.append((name, stat.st_mtime))
    return out


def header_time(path):
    """
    The observation time of a FITS image as sunpy reads it, from its header only.

    Raises
    ------
    `~sunpy_jets.exceptions.FileFormatError`
        If the file holds no readable 2-D image header or no observation time.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with fits.open(path) as hdul:
                header = next((hdu.header.copy() for hdu in hdul if hdu.is_image and hdu.header.get("NAXIS") == 2),
                              None)  # fmt: skip
    except Exception as exc:  # any reader failure means the same: the file is unusable
        raise FileFormatError(f"{path} could not be read as a FITS file: {' '.join(str(exc).split())}") from exc
    if header is None:
        raise FileFormatError(f"{path} holds no 2-D image")
    if not any(str(header.get(key.upper(), "")).strip() for key in DATE_KEYS):
        raise InputError(f"{path} has no observation time (DATE-OBS); every frame needs one")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # A 1×1 stand-in for the pixels: the time comes from the header exactly as sunpy.map.Map(path).date.
        return sunpy.map.Map((np.zeros((1, 1), dtype=np.float32), header)).date


def quarantine(path, output, reason, *, move=True):
    """
    Put an unusable file aside: move it into ``output/quarantine/`` with ``NAME.reason.txt``; return the reason file.

    With ``move=False`` (a read-only input folder) only the reason is written.
    """
    folder = Path(output) / QUARANTINE_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    path = Path(path)
    note = atomic_write_text(folder / f"{path.name}.reason.txt", reason.rstrip() + "\n")
    if move and path.exists():
        try:
            shutil.move(str(path), str(folder / path.name))
        except OSError:
            pass  # a read-only input folder: the reason file says why the file is skipped
    return note
