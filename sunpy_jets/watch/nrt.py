"""
Filling a watched folder from JSOC's near-real-time AIA series (``aia.lev1_nrt2``), for users with network.

`fetch_nrt` asks JSOC (sunpy's ``Fido``/``JSOCClient`` and parfive, through
`sunpy_jets.datasets.download`) for the cutouts of the last minutes around a point, and moves each
whole file into the folder in one step, so a `~sunpy_jets.watch.Watcher` never sees half a file. Run it
from cron (or a systemd timer) beside ``sunpy-jets watch``; files already in the folder are not
moved again.
"""

import os
import shutil
from pathlib import Path

import numpy as np

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.table import QTable
from astropy.time import Time

from .._validation import as_quantity
from ..exceptions import DownloadError, InputError, InputTypeError

__all__ = ["fetch_nrt", "NRT_SERIES", "nrt_manifest"]

NRT_SERIES = "aia.lev1_nrt2"
"""JSOC's near-real-time AIA level-1 series (files within minutes of observation, kept for a few days)."""


def nrt_manifest(center, *, start, end, width=300 * u.arcsec, cadence=12 * u.s, wavelength=304 * u.AA,
                 series=NRT_SERIES) -> QTable:  # fmt: skip
    """
    The one-row download manifest (see `sunpy_jets.datasets.build_manifest`) of a near-real-time cutout request.

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.coordinates import SkyCoord
    >>> from sunpy.coordinates import Helioprojective
    >>> from sunpy_jets.watch import nrt_manifest
    >>> frame = Helioprojective(observer="earth", obstime="2024-05-01T12:00")
    >>> m = nrt_manifest(SkyCoord(-300 * u.arcsec, 200 * u.arcsec, frame=frame),
    ...                  start="2024-05-01T12:00", end="2024-05-01T12:10", cadence=24 * u.s)
    >>> str(m["series"][0]), int(m["n_frames"][0]), str(m["label_id"][0])
    ('aia.lev1_nrt2', 26, 'nrt_20240501T120000')
    """
    if not isinstance(center, SkyCoord):
        raise InputTypeError(f"center must be a SkyCoord (the middle of the cutout), not {type(center).__name__}")
    start, end = Time(start), Time(end)
    step = as_quantity(cadence, u.s, "cadence")
    span = float((end - start).to_value(u.s))
    if span < 0:
        raise InputError(f"end ({end.isot}) must not be before start ({start.isot})")
    table = QTable()
    table["label_id"] = [f"nrt_{start.utc.strftime('%Y%m%dT%H%M%S')}"]
    table["start_time"] = Time([start])
    table["end_time"] = Time([end])
    table["center"] = center.reshape(1) if not center.isscalar else SkyCoord([center])
    table["width"] = [as_quantity(width, u.arcsec, "width")] * u.arcsec
    table["wavelength"] = [as_quantity(wavelength, u.AA, "wavelength")] * u.AA
    table["sample"] = [step] * u.s
    table["n_frames"] = np.array([int(np.floor(span / step + 1e-9)) + 1])
    table["series"] = [str(series)]
    return table


def fetch_nrt(directory, center, *, duration=30 * u.min, end=None, width=300 * u.arcsec, cadence=12 * u.s,
              wavelength=304 * u.AA, series=NRT_SERIES, email=None, jsoc_url=None, timeout=10 * u.min,
              progress=False):  # fmt: skip
    """
    Download the near-real-time AIA cutouts of the last ``duration`` into ``directory``; return the new files.

    Parameters
    ----------
    directory : str or `~pathlib.Path`
        The watched folder. Files are downloaded into its hidden ``.nrt`` sub-folder and moved in whole.
    center : `~astropy.coordinates.SkyCoord`
        Centre of the cutout.
    duration : `~astropy.units.Quantity`
        How far back from ``end`` to ask for (files already in the folder are not moved again).
    end : `~astropy.time.Time`, optional
        End of the interval (default: now).
    width : `~astropy.units.Quantity`
        Side of the cutout.
    cadence : `~astropy.units.Quantity`
        Time between frames (``a.Sample``).
    wavelength : `~astropy.units.Quantity`
        The channel.
    series : str
        The JSOC series (default `NRT_SERIES`).
    email : str, optional
        A JSOC-registered e-mail (default: the ``JSOC_EMAIL`` environment variable).
    jsoc_url : str, optional
        Another JSOC server (default: ``SUNPY_JETS_JSOC_URL``, else jsoc.stanford.edu).
    timeout : `~astropy.units.Quantity`
        How long to wait for JSOC to prepare the export.
    progress : bool
        Show parfive's progress bars.

    Returns
    -------
    list of `~pathlib.Path`
        The files moved into ``directory``.

    Raises
    ------
    `~sunpy_jets.exceptions.DownloadError`
        No registered e-mail, JSOC unreachable or the export failed (with what to do).
    """
    # sunpy.net (drms) only when fetching: importing it adds a root logging handler, doubling the watcher's log
    from ..datasets import completed_files, download

    directory = Path(directory).expanduser()
    directory.mkdir(parents=True, exist_ok=True)
    end = Time.now() if end is None else Time(end)
    start = end - as_quantity(duration, u.s, "duration") * u.s
    manifest = nrt_manifest(center, start=start, end=end, width=width, cadence=cadence, wavelength=wavelength,
                            series=series)  # fmt: skip
    staging = directory / ".nrt"
    label = str(manifest["label_id"][0])
    result = download(manifest, staging, email=email, jsoc_url=jsoc_url, progress=progress, timeout=timeout)
    if result["status"][0] == "failed":
        raise DownloadError(f"the near-real-time request for {start.isot} to {end.isot} failed: {result['error'][0]}")
    moved = []
    for path in completed_files(staging, label) or []:
        target = directory / path.name
        if not target.exists():
            os.replace(path, target)
            moved.append(target)
    shutil.rmtree(staging / label, ignore_errors=True)
    return moved
