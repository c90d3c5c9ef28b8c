"""
HEK coronal-jet (CJ) events as a label table.

Records are loaded and cleaned by `sunpy_jets.events` (swapped bounding-box corners, wavelengths in cm,
time formats); this module turns them into an astropy `~astropy.table.QTable` with `~astropy.time.Time`
and `~astropy.coordinates.SkyCoord` columns, with the same bad-row report as the other catalogues.
"""

import math
import warnings
from pathlib import Path

import numpy as np

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.table import QTable
from astropy.time import Time

from sunpy.coordinates import Helioprojective, get_earth

from ..exceptions import CatalogueError, FileFormatError, HEKFormatError, HEKFormatWarning, InputTypeError
from ..events.hek import load_hek_records, normalize_hek_record

from ._bad_rows import BadRows

__all__ = ["read_hek_jets"]


def read_hek_jets(source):
    """
    Read HEK coronal-jet (CJ) events into a table, normalising the quirks of real records.

    Records are loaded with `sunpy_jets.events.load_hek_records` and cleaned with
    `sunpy_jets.events.normalize_hek_record` (swapped box corners, wavelengths in cm, time formats).

    Parameters
    ----------
    source : path-like, `sunpy.net.hek.HEKTable`, `~astropy.table.Table` or list of dict
        A HEK JSON response (``{"result": [...]}``), a ``HEKTable`` from
        ``Fido.search(a.Time(...), a.hek.CJ)``, or records in memory.

    Returns
    -------
    `~astropy.table.QTable`
        One row per usable CJ record: ``sol_event`` (HEK SOL_standard), ``kb_archivid``,
        ``start_time``/``end_time`` (`~astropy.time.Time`), ``coord`` (helioprojective
        `~astropy.coordinates.SkyCoord`, Earth observer at the start), ``bbox_ll``/``bbox_ur``
        (SkyCoord corners, LL below and left of UR), ``wavelength`` (Å, NaN when not given),
        ``channel`` (str) and ``frm_name``. Records that are not CJ, lack fields or use a coordinate
        system other than UTC-HPC-TOPO are left out and listed in ``meta["bad_rows"]`` (``row`` is
        the record index).

    Raises
    ------
    `~sunpy_jets.exceptions.CatalogueError`
        The source cannot be read as HEK records.

    Warns
    -----
    `~sunpy_jets.exceptions.HEKFormatWarning`
        Once, summarising the records that were normalised.
    `~sunpy_jets.exceptions.CatalogueWarning`
        Once, summarising the records left out.

    Examples
    --------
    >>> record = {"event_type": "CJ", "SOL_standard": "SOL2011-01-20T09:00:09L289C165",
    ...           "event_starttime": "2011-01-20T09:00:09", "event_endtime": "2011-01-20T09:59:33",
    ...           "event_coordsys": "UTC-HPC-TOPO", "event_coordunit": "arcsec",
    ...           "event_coord1": -245.0, "event_coord2": -1003.0, "boundbox_c1ll": -335.0,
    ...           "boundbox_c2ll": -1119.0, "boundbox_c1ur": -155.0, "boundbox_c2ur": -887.0,
    ...           "obs_meanwavel": 304.0, "obs_wavelunit": "angstrom", "obs_channelid": "304"}
    >>> t = read_hek_jets([record])
    >>> str(t["sol_event"][0]), t["coord"][0].Ty, t["wavelength"][0]
    ('SOL2011-01-20T09:00:09L289C165', <Latitude -1003. arcsec>, <Quantity 304. Angstrom>)
    """
    name = str(source) if isinstance(source, (str, Path)) else type(source).__name__
    try:
        records = load_hek_records(source)
    except (HEKFormatError, FileFormatError, InputTypeError) as exc:
        raise CatalogueError(f"cannot read HEK CJ events from {name}: {exc}") from exc
    report = BadRows()
    normalised = []
    rows = []
    for i, record in enumerate(records):
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", HEKFormatWarning)
                clean = normalize_hek_record(record, index=i)
        except HEKFormatError as exc:
            report.add(i, "*", str(exc))
            continue
        normalised += [str(w.message) for w in caught if issubclass(w.category, HEKFormatWarning)]
        if str(clean["event_type"]).upper() != "CJ":
            report.add(i, "event_type", f"{clean['event_type']!r} is not a coronal jet (CJ)")
            continue
        if not str(clean["event_coordsys"]).upper().startswith("UTC-HPC"):
            report.add(i, "event_coordsys", f"{clean['event_coordsys']!r}: only helioprojective (UTC-HPC-TOPO) is read")
            continue
        if clean["event_coordunit"] != "arcsec":
            unit = clean["event_coordunit"]
            report.add(i, "event_coordunit", f"{unit!r}: helioprojective coordinates in arcsec expected")
            continue
        sol = clean.get("SOL_standard", clean.get("sol_standard")) or ""
        wavelength = clean.get("obs_meanwavel")
        rows.append(
            (
                str(sol), str(clean.get("kb_archivid") or ""), clean["event_starttime"], clean["event_endtime"],
                clean["event_coord1"], clean["event_coord2"], clean["boundbox_c1ll"], clean["boundbox_c2ll"],
                clean["boundbox_c1ur"], clean["boundbox_c2ur"],
                math.nan if wavelength is None else float(wavelength),
                str(clean.get("obs_channelid") or ""), str(clean.get("frm_name") or ""),
            )
        )  # fmt: skip
    columns = list(zip(*rows)) if rows else [[] for _ in range(13)]
    start = Time(list(columns[2]), format="isot", scale="utc")
    frame = Helioprojective(observer=get_earth(start) if rows else None, obstime=start)

    def coord(i, j):
        return SkyCoord(np.array(columns[i], float) * u.arcsec, np.array(columns[j], float) * u.arcsec, frame=frame)

    table = QTable(meta={"source": name, "bad_rows": report.rows, "normalised": normalised})
    table["sol_event"] = np.array(columns[0], dtype=str)
    table["kb_archivid"] = np.array(columns[1], dtype=str)
    table["start_time"] = start
    table["end_time"] = Time(list(columns[3]), format="isot", scale="utc")
    table["coord"] = coord(4, 5)
    table["bbox_ll"] = coord(6, 7)
    table["bbox_ur"] = coord(8, 9)
    table["wavelength"] = np.array(columns[10], dtype=float) * u.AA
    table["channel"] = np.array(columns[11], dtype=str)
    table["frm_name"] = np.array(columns[12], dtype=str)
    if normalised:
        warnings.warn(
            f"{name}: {len(normalised)} HEK record(s) normalised on import, e.g. {normalised[0]}; "
            "see table.meta['normalised']",
            HEKFormatWarning,
            stacklevel=2,
        )
    report.warn(name, len(records), len(records) - len(rows), stacklevel=2)
    return table
