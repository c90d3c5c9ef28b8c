"""
The JSOC queries that turn labels into AIA cutout sequences, and the folders their downloads fill.

The download itself (``Fido``/parfive, export polling, resumption) is `sunpy_jets.datasets.downloads`.

The recipe (CS-433 ``helper_data_creation.py``): series ``aia.lev1_euv_12s``, 304 Å, one frame every
24 s, 30 frames from the jet start (``a.Time(start, start + 29 × 24 s)``), a 300″ × 300″ cutout
centred on the base point with no tracking, the ``image`` segment, and a registered JSOC e-mail
(``a.jsoc.Notify``). All of these come from a `~sunpy_jets.model.JetModelConfig`, so a model trained
on other settings downloads matching data.
"""

import json
import os
from pathlib import Path

import numpy as np

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.table import QTable, Table
from astropy.time import Time

import sunpy.net.attrs as a
from sunpy.coordinates import Helioprojective, get_earth

from ..exceptions import DownloadError, InputError, InputTypeError
from ..model.config import JetModelConfig

__all__ = [
    "AIA_SERIES",
    "JSOC_EMAIL_ENV",
    "resolve_jsoc_email",
    "jsoc_query",
    "build_manifest",
    "manifest_query",
    "sequence_directory",
    "completed_files",
    "COMPLETE_MARKER",
]

AIA_SERIES = "aia.lev1_euv_12s"
"""The JSOC series of the recipe: AIA level-1 EUV images at 12 s cadence."""

JSOC_EMAIL_ENV = "JSOC_EMAIL"
"""Environment variable read for the JSOC e-mail when none is given."""

COMPLETE_MARKER = "complete.json"
"""The file written last into a downloaded sequence's folder: a folder without it is incomplete."""


def resolve_jsoc_email(email=None):
    """
    The JSOC e-mail to notify: the argument, else the ``JSOC_EMAIL`` environment variable.

    Parameters
    ----------
    email : str, optional
        An address registered at http://jsoc.stanford.edu/ajax/register_email.html.

    Returns
    -------
    str

    Raises
    ------
    `~sunpy_jets.exceptions.DownloadError`
        No e-mail was given or set, or it does not look like an address.

    Examples
    --------
    >>> resolve_jsoc_email("someone@example.org")
    'someone@example.org'
    """
    value = email if email is not None else os.environ.get(JSOC_EMAIL_ENV, "")
    value = str(value).strip()
    if not value:
        raise DownloadError(
            "JSOC needs a registered e-mail address to export AIA cutouts: pass email=... or set the "
            f"{JSOC_EMAIL_ENV} environment variable (register at http://jsoc.stanford.edu/ajax/register_email.html)"
        )
    if "@" not in value or value.startswith("@") or value.endswith("@"):
        raise DownloadError(f"{value!r} is not an e-mail address: give the address registered with JSOC")
    return value


def _hpc_center(center, time):
    if not isinstance(center, SkyCoord):
        raise InputTypeError(f"center must be a SkyCoord, not {type(center).__name__}")
    if not isinstance(center.frame, Helioprojective):
        center = center.transform_to(Helioprojective(observer="earth", obstime=time))
    return center


@u.quantity_input
def jsoc_query(start_time, center, *, config=None, series=AIA_SERIES, email=None):
    """
    The Fido query of one label's cutout sequence.

    Parameters
    ----------
    start_time : `~astropy.time.Time` or str
        Start of the sequence (the jet start).
    center : `~astropy.coordinates.SkyCoord`
        Centre of the cutout (the jet base point), helioprojective or any frame that transforms to it.
    config : `~sunpy_jets.model.JetModelConfig`, optional
        Gives the wavelength, cadence, number of frames and field of view; the published recipe by default.
    series : str
        The JSOC series.
    email : str, optional
        Adds ``a.jsoc.Notify(email)`` when given; `download` adds it otherwise.

    Returns
    -------
    `sunpy.net.attr.AttrAnd`
        ``a.Time & a.jsoc.Series & a.Wavelength & a.Sample & a.jsoc.Segment & a.jsoc.Cutout [& a.jsoc.Notify]``.

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.coordinates import SkyCoord
    >>> from sunpy.coordinates import Helioprojective, get_earth
    >>> frame = Helioprojective(observer="earth", obstime="2011-01-20T09:15:44")
    >>> q = jsoc_query("2011-01-20T09:15:44", SkyCoord(-226.6 * u.arcsec, -957 * u.arcsec, frame=frame))
    >>> [type(x).__name__ for x in q.attrs]
    ['Time', 'Series', 'Wavelength', 'Sample', 'Segment', 'Cutout']
    >>> q.attrs[0].end.isot, float(q.attrs[-1].value["width"])
    ('2011-01-20T09:27:20.000', 300.0)
    """
    config = JetModelConfig() if config is None else config
    if not isinstance(config, JetModelConfig):
        raise InputTypeError(f"config must be a JetModelConfig, not {type(config).__name__}")
    try:
        start = Time(start_time)
    except ValueError as exc:
        raise InputError(f"start_time {start_time!r} is not a time: {exc}") from exc
    if not start.isscalar:
        raise InputError(f"start_time must be one time, not {len(start.ravel())}: build one query per sequence")
    center = _hpc_center(center, start)
    end = start + (config.n_frames - 1) * config.cadence
    half = config.fov / 2
    bottom_left = SkyCoord(center.Tx - half, center.Ty - half, frame=center.frame)
    top_right = SkyCoord(center.Tx + half, center.Ty + half, frame=center.frame)
    query = (
        a.Time(start, end)
        & a.jsoc.Series(series)
        & a.Wavelength(config.wavelength)
        & a.Sample(config.cadence)
        & a.jsoc.Segment("image")
        & a.jsoc.Cutout(bottom_left, top_right=top_right, tracking=False)
    )
    if email is not None:
        query = query & a.jsoc.Notify(resolve_jsoc_email(email))
    return query


def _manifest_rows(ids, labels, targets, groups, times, centers, config, series):
    n = len(ids)
    table = QTable()
    table["label_id"] = np.asarray(ids, dtype=str)
    table["label"] = np.asarray(labels, dtype=str)
    table["target"] = np.asarray(targets, dtype=np.int8)
    table["group"] = np.asarray(groups, dtype=str)
    table["start_time"] = times
    table["end_time"] = times + (config.n_frames - 1) * config.cadence
    table["center"] = centers
    table["width"] = np.full(n, config.fov_arcsec) * u.arcsec
    table["wavelength"] = np.full(n, config.wavelength_angstrom) * u.AA
    table["sample"] = np.full(n, config.cadence_s) * u.s
    table["n_frames"] = np.full(n, config.n_frames, dtype=int)
    table["series"] = np.full(n, series)
    return table


def build_manifest(catalogue, nonjets=None, *, config=None, series=AIA_SERIES):
    """
    The download manifest: one JSOC query per label.

    Parameters
    ----------
    catalogue : `~sunpy_jets.datasets.SolarJetHunterCatalogue`
        The jets (label ``"jet"``, target 1, group = the HEK SOL event).
    nonjets : `~astropy.table.QTable`, optional
        Non-jet positions from `~sunpy_jets.datasets.read_nonjet_positions` (label ``"non-jet"``,
        target 0, group from the table).
    config : `~sunpy_jets.model.JetModelConfig`, optional
        The sequence recipe; the published one by default.
    series : str
        The JSOC series.

    Returns
    -------
    `~astropy.table.QTable`
        Columns ``label_id``, ``label``, ``target``, ``group``, ``start_time``, ``end_time``,
        ``center`` (SkyCoord), ``width``, ``wavelength``, ``sample``, ``n_frames`` and ``series``:
        everything the JSOC query needs, in columns that can be written to ECSV. `manifest_query`
        turns a row into the Fido query (about 10 ms each, so they are built when needed). Nothing
        touches the network.

    Raises
    ------
    `~sunpy_jets.exceptions.InputError`
        A label identifier appears twice, or a table lacks a column.

    Examples
    --------
    >>> import io
    >>> from sunpy_jets.datasets import read_nonjet_positions
    >>> nj = read_nonjet_positions(io.StringIO("date,basepoint_X,basepoint_Y\\n2011-07-08T16:00:04,432,118\\n"))
    >>> m = build_manifest(None, nj)
    >>> str(m["label"][0]), m["end_time"][0].isot, m["width"][0]
    ('non-jet', '2011-07-08T16:11:40.000', <Quantity 300. arcsec>)
    """
    config = JetModelConfig() if config is None else config
    ids, labels, targets, groups, times, tx, ty = [], [], [], [], [], [], []
    for table, kind in ((catalogue, "jet"), (nonjets, "non-jet")):
        if table is None:
            continue
        id_col, group_col = ("sjh_id", "sol_event") if kind == "jet" else ("label_id", "group")
        if not isinstance(table, Table):
            raise InputTypeError(
                f"the {kind} labels must be a table read with sunpy_jets.datasets, not {type(table).__name__}"
            )
        missing = [c for c in (id_col, "start_time", group_col, "base") if c not in table.colnames]
        if missing:
            raise InputError(f"the label table lacks column(s) {', '.join(missing)}: read it with sunpy_jets.datasets")
        if len(table) == 0:
            continue
        base = _hpc_center(table["base"], table["start_time"])
        ids += list(table[id_col])
        labels += [kind] * len(table)
        targets += [1 if kind == "jet" else 0] * len(table)
        groups += list(table[group_col])
        times += list(table["start_time"].utc.isot)
        tx.append(base.Tx.to_value(u.arcsec))
        ty.append(base.Ty.to_value(u.arcsec))
    if not ids:
        raise InputError("no labels given: pass a catalogue and/or non-jet positions with at least one row")
    # One helioprojective SkyCoord for all labels, each row with its own time and Earth observer.
    times = Time(times, format="isot", scale="utc")
    frame = Helioprojective(observer=get_earth(times), obstime=times)
    centers = SkyCoord(np.concatenate(tx) * u.arcsec, np.concatenate(ty) * u.arcsec, frame=frame)
    manifest = _manifest_rows(ids, labels, targets, groups, times, centers, config, series)
    ids, counts = np.unique(np.asarray(manifest["label_id"]), return_counts=True)
    if (counts > 1).any():
        raise InputError(f"label identifiers must be unique; repeated: {', '.join(ids[counts > 1][:5])}")
    manifest.meta["config"] = config.to_dict()
    return manifest


def manifest_query(manifest, index, *, email=None):
    r"""
    The Fido query of one manifest row.

    Parameters
    ----------
    manifest : `~astropy.table.QTable`
        From `build_manifest`.
    index : int
        Row number.
    email : str, optional
        Adds ``a.jsoc.Notify(email)``.

    Returns
    -------
    `sunpy.net.attr.AttrAnd`

    Examples
    --------
    >>> import io
    >>> from sunpy_jets.datasets import read_nonjet_positions
    >>> nj = read_nonjet_positions(io.StringIO("date,basepoint_X,basepoint_Y\n2011-07-08T16:00:04,432,118\n"))
    >>> q = manifest_query(build_manifest(None, nj), 0, email="me@example.org")
    >>> q.attrs[-1].value
    'me@example.org'
    """
    row = manifest[index]
    config = JetModelConfig(
        n_frames=int(row["n_frames"]),
        cadence_s=float(row["sample"].to_value(u.s)),
        fov_arcsec=float(row["width"].to_value(u.arcsec)),
        wavelength_angstrom=float(row["wavelength"].to_value(u.AA)),
    )
    return jsoc_query(row["start_time"], row["center"], config=config, series=str(row["series"]), email=email)


def sequence_directory(directory, label_id):
    """
    Folder of one label's downloaded FITS files (``directory / label_id``).

    Examples
    --------
    >>> sequence_directory("downloads", "sjh_2011-01-20T09_1").as_posix()
    'downloads/sjh_2011-01-20T09_1'
    """
    return Path(directory) / str(label_id)


def completed_files(directory, label_id):
    """
    The FITS files of a completed download of one label, or `None` when it is missing or incomplete.

    A download is complete only once ``complete.json`` (written last, listing every file and its
    size) is there and every file listed has that size.

    Examples
    --------
    >>> completed_files("/nonexistent", "sjh_1") is None
    True
    """
    folder = sequence_directory(directory, label_id)
    try:
        record = json.loads((folder / COMPLETE_MARKER).read_text())
        files = [folder / f["name"] for f in record["files"]]
        if all(p.stat().st_size == f["size"] for p, f in zip(files, record["files"])):
            return files
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None
