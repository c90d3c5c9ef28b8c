"""
Conversion between the table of a `~sunpy_jets.events.JetEvents` and HEK records.

The HEK methods of `~sunpy_jets.events.JetEvents` delegate here: ``to_hek`` to `records_from_table`,
``to_hektable`` to `hektable_from_records`, ``from_hek`` and ``read`` to `table_from_records`. The table's
columns are HEK attribute names, so their names are defined here as well. Checking and normalising one record
at a time is `sunpy_jets.events.hek`'s job; the ``"sunpy_jets"`` block of our JSON files is
`sunpy_jets.events._hek_json`'s, and who made the records `sunpy_jets.events._provenance`'s.
"""

import hashlib
import json
import re
import warnings
from collections import Counter

import numpy as np

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.table import MaskedColumn, QTable, Table
from astropy.time import Time

from sunpy.coordinates import Helioprojective

from ..exceptions import HEKFormatError, HEKFormatWarning, InputError
from ..settings import warn_user
from ._columns import (
    PROPERTY_COLUMNS,
    SKELETON_FIELDS,
    plain_value,
    property_from_record,
    property_records,
    spine_points,
)
from ._provenance import PROJECT_URL, configured_provenance
from .hek import ARCHIVIST_FIELDS, format_hek_time, normalize_hek_record
from ..version import version as _package_version

__all__ = [
    "BOX_COLUMNS",
    "TIME_COLUMNS",
    "REQUIRED_COLUMNS",
    "ERROR_COLUMNS",
    "CORE_COLUMNS",
    "records_from_table",
    "hektable_from_records",
    "table_from_records",
    "only_jets",
]

BOX_COLUMNS = ("boundbox_c1ll", "boundbox_c2ll", "boundbox_c1ur", "boundbox_c2ur")
TIME_COLUMNS = ("event_starttime", "event_endtime", "event_peaktime")
REQUIRED_COLUMNS = (*TIME_COLUMNS, "event_probability", "event_coord", *BOX_COLUMNS)
ERROR_COLUMNS = ("event_c1error", "event_c2error")
CORE_COLUMNS = (*REQUIRED_COLUMNS, *ERROR_COLUMNS)
# Per-record attributes of imported HEK events that are kept as columns (who annotated, in which channel).
_PROVENANCE_COLUMNS = (
    "frm_name",
    "frm_institute",
    "frm_identifier",
    "frm_humanflag",
    "frm_contact",
    "frm_url",
    "frm_paramset",
    "frm_daterun",
    "obs_observatory",
    "obs_instrument",
    "obs_channelid",
    "obs_meanwavel",
    "SOL_standard",
    "kb_archivid",
    "event_title",
    "event_description",
)


def records_from_table(table, overrides, *, test, time_precision):
    """
    One HEK CJ record per row of a `~sunpy_jets.events.JetEvents` table (see its ``to_hek``).

    Parameters
    ----------
    table : `~astropy.table.QTable`
        A validated events table; its ``meta`` gives the table-wide values.
    overrides : `dict`
        ``frm_name``, ``frm_institute``, ``frm_contact``, ``frm_identifier`` and ``frm_url`` given by the
        caller (`None` where not given); they win over the columns and ``meta``.
    test : `bool`
        Write ``event_testflag`` as ``"true"``.
    time_precision : `int`
        Digits of the seconds' fraction in times.

    Returns
    -------
    `list` of `dict`

    Raises
    ------
    `~sunpy_jets.exceptions.InputError`
        An override is given but is not a non-empty string.
    """
    for name, value in overrides.items():
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise InputError(f"{name} must be a non-empty string, not {value!r}")
    overrides = {key: value for key, value in overrides.items() if value is not None}
    meta = table.meta
    daterun = Time(meta.get("frm_daterun", Time.now()))
    fmt = lambda time: format_hek_time(time, precision=time_precision)  # noqa: E731
    extra = [name for name in table.colnames if name not in CORE_COLUMNS and name not in PROPERTY_COLUMNS]
    measured = [name for name in table.colnames if name in PROPERTY_COLUMNS]
    configured = configured_provenance()
    records = []
    for index, row in enumerate(table):
        values = {key: meta[key] for key in meta if key.startswith(("frm_", "obs_", "event_"))}
        for name in extra:
            cell = plain_value(row[name])
            if cell is not None and cell != "":
                values[name] = cell
        values.update(overrides)
        name = str(values.get("frm_name", "sunpy_jets"))
        start, end, peak = row["event_starttime"], row["event_endtime"], row["event_peaktime"]
        coord = row["event_coord"]
        wavelength = u.Quantity(values.get("obs_meanwavel", 304 * u.AA), u.AA)
        probability = plain_value(row["event_probability"])
        row_daterun = Time(values["frm_daterun"]) if "frm_daterun" in values else daterun
        record = {
            "event_type": "CJ",
            "event_starttime": fmt(start),
            "event_endtime": fmt(end),
            "event_peaktime": fmt(peak),
            "event_coordsys": "UTC-HPC-TOPO",
            "event_coordunit": "arcsec",
            "event_coord1": float(coord.Tx.to_value(u.arcsec)),
            "event_coord2": float(coord.Ty.to_value(u.arcsec)),
            "event_c1error": float(row["event_c1error"].to_value(u.arcsec)),
            "event_c2error": float(row["event_c2error"].to_value(u.arcsec)),
            **{box: float(row[box].to_value(u.arcsec)) for box in BOX_COLUMNS},
            "event_probability": None if probability is None else float(probability),
            "event_testflag": "true" if test else "false",
            "event_description": str(
                values.get("event_description")
                or f"Coronal jet found by {name}"
                + ("" if probability is None else f" (peak window probability {probability:.3f})")
            ),
            "frm_name": name,
            "frm_institute": str(values.get("frm_institute") or configured.get("frm_institute", "sunpy_jets")),
            "frm_humanflag": "true" if _flag(values.get("frm_humanflag", False)) else "false",
            "frm_identifier": str(values.get("frm_identifier") or configured.get("frm_identifier", name)),
            "frm_paramset": str(values.get("frm_paramset") or _paramset(meta)),
            "frm_daterun": fmt(row_daterun),
            "frm_contact": str(values.get("frm_contact") or configured.get("frm_contact", f"{PROJECT_URL}/issues")),
            "frm_url": str(values.get("frm_url") or configured.get("frm_url", PROJECT_URL)),
            "frm_versionnumber": values.get("frm_versionnumber"),
            "obs_observatory": str(values.get("obs_observatory", "SDO")),
            "obs_instrument": _instrument(values.get("obs_instrument", "AIA")),
            "obs_channelid": str(values.get("obs_channelid", "304")),
            "obs_meanwavel": float(wavelength.to_value(u.AA)),
            "obs_wavelunit": "angstrom",
            **dict.fromkeys(ARCHIVIST_FIELDS, ""),
        }
        record.update(property_records({column: plain_value(row[column]) for column in measured}))
        record["kb_archivid"] = str(values.get("kb_archivid") or _ivorn(name, row_daterun, start, index, record))
        for name_, value in values.items():
            if name_ not in record and name_ in extra:
                record[name_] = value
        records.append(record)
    return records


def hektable_from_records(records):
    """
    Parse HEK records with sunpy's own HEK parser (see ``JetEvents.to_hektable``).

    Parameters
    ----------
    records : `list` of `dict`
        Records as `records_from_table` gives them; they gain an ``event_coord3`` of `None`.

    Returns
    -------
    `sunpy.net.hek.HEKTable`
    """
    from sunpy.net.hek import HEKTable

    for record in records:
        record.setdefault("event_coord3", None)  # sunpy's coordinate parser expects the column
        chain = record.get("skel_chaincode")
        if chain and not str(chain).startswith("POLYGON"):
            # sunpy parses chain codes as the HEK's WKT polygons, not our "x1,y1,x2,y2" spine text
            tx, ty = spine_points(chain)
            record["skel_chaincode"] = "POLYGON((" + ",".join(f"{x:.2f} {y:.2f}" for x, y in zip(tx, ty)) + "))"
    if not records:
        return HEKTable._from_search(Table())
    # A column must not mix None with numbers; HEK tables mask missing values.
    # Records differ in the fields they fill (jet properties are left out where none was measured).
    names = list(dict.fromkeys(key for record in records for key in record))
    table = Table(rows=[[record.get(key) for key in names] for record in records], names=names)
    for name in table.colnames:
        column = table[name]
        if column.dtype == object:
            values = [value for value in column if value is not None]
            kind = float if all(isinstance(v, (int, float)) for v in values) else str
            filled = [np.nan if kind is float else "" if v is None else str(v) for v in column] if kind is str \
                else [np.nan if v is None else float(v) for v in column]
            table[name] = MaskedColumn(filled, mask=[v is None for v in column])
    # _from_search is sunpy's (private) parser of HEK responses; it is what HEKClient.search uses.
    return HEKTable._from_search(table)


def table_from_records(records, *, columns):
    """
    The events table of HEK records, before `~sunpy_jets.events.JetEvents` checks it.

    Parameters
    ----------
    records : `list` of `dict`
        HEK records; each is checked with `~sunpy_jets.events.normalize_hek_record`.
    columns : `dict` or `None`
        Kinds (as `column_kind` names them) of the extra columns to read from the records, or `None` for
        the HEK provenance attributes (``frm_name``, ``obs_channelid``, ``kb_archivid``...) the records hold.

    Returns
    -------
    `~astropy.table.QTable` or `None`
        `None` when there are no records.

    Raises
    ------
    `~sunpy_jets.exceptions.HEKFormatError`
        A record is malformed, not in helioprojective arcseconds, has a box of zero size, or an extra
        numeric field holds something else.
    """
    records = only_jets(records)
    clean = _normalized(records)
    for index, record in enumerate(clean):
        if record["event_coordsys"] != "UTC-HPC-TOPO" or record["event_coordunit"] != "arcsec":
            raise HEKFormatError(
                f"HEK record {index}: coordinates are {record['event_coordsys']} in {record['event_coordunit']}; "
                "JetEvents needs helioprojective arcseconds (UTC-HPC-TOPO, arcsec)"
            )
        for axis in ("c1", "c2"):
            if record[f"boundbox_{axis}ll"] == record[f"boundbox_{axis}ur"]:
                raise HEKFormatError(f"HEK record {index}: the bounding box has zero size along {axis}")
    if not clean:
        return None
    start = Time([record["event_starttime"] for record in clean], scale="utc")
    end = Time([record["event_endtime"] for record in clean], scale="utc")
    peak = Time(
        [record.get("event_peaktime") or format_hek_time(s + (e - s) / 2, precision=6) for record, s, e in
         zip(clean, start, end)],
        scale="utc",
    )
    prob = [record.get("event_probability") for record in clean]
    table = QTable(
        {
            "event_starttime": start,
            "event_endtime": end,
            "event_peaktime": peak,
            "event_probability": MaskedColumn([np.nan if p is None else p for p in prob],
                                              mask=[p is None for p in prob]),
            "event_coord": SkyCoord([r["event_coord1"] for r in clean] * u.arcsec,
                                    [r["event_coord2"] for r in clean] * u.arcsec, frame=Helioprojective),
            **{name: [r[name] for r in clean] * u.arcsec for name in BOX_COLUMNS},
            **{name: [np.nan if r.get(name) is None else r[name] for r in clean] * u.arcsec
               for name in ERROR_COLUMNS},
        }
    )
    for name in PROPERTY_COLUMNS:
        if any(record.get(name) not in (None, "") for record in clean):
            unit = PROPERTY_COLUMNS[name][0]
            try:
                table[name] = [property_from_record(record, name) for record in clean] * unit
            except InputError as exc:
                raise HEKFormatError(f"HEK records: {exc}") from exc
    if columns is None:
        columns = {name: ("quantity:Angstrom" if name == "obs_meanwavel" else "bool" if name == "frm_humanflag"
                          else "str") for name in _PROVENANCE_COLUMNS if any(name in r for r in clean)}
        if any("localized" in record for record in clean):
            columns["localized"] = "bool"
        if any(record.get("skel_chaincode") for record in clean):
            columns.update({name: "str" if name in ("skel_chaincode", "chaincodetype") else "float"
                            for name in SKELETON_FIELDS})
    for name, kind in columns.items():
        if name in PROPERTY_COLUMNS:
            continue
        values = [record.get(name) for record in clean]
        if kind == "bool":
            table[name] = [_flag(value) if value is not None else False for value in values]
        elif kind == "float" or kind.startswith("quantity:"):
            try:
                numbers = [np.nan if value is None else float(value) for value in values]
            except (TypeError, ValueError) as exc:
                raise HEKFormatError(f"HEK records: field {name!r} must be a number: {exc}") from exc
            table[name] = numbers * u.Unit(kind.split(":", 1)[1]) if kind != "float" else numbers
        else:
            table[name] = ["" if value is None else str(value) for value in values]
    return table


def only_jets(records):
    """
    The coronal-jet (``event_type`` ``CJ``) records of a list; the others are left out with one warning.

    Raises
    ------
    `~sunpy_jets.exceptions.HEKFormatError`
        There are records but none is a coronal jet.
    """
    kinds = [str(record.get("event_type", "")).split(":", 1)[0].strip().upper() if isinstance(record, dict) else ""
             for record in records]
    others = Counter(kind or "(none)" for kind in kinds if kind != "CJ")
    if not others:
        return list(records)
    counts = ", ".join(f"{n} {kind}" for kind, n in others.most_common())
    jets = [record for record, kind in zip(records, kinds) if kind == "CJ"]
    if not jets:
        raise HEKFormatError(
            f"none of the {len(records)} HEK record(s) is a coronal jet (event_type 'CJ'): they are {counts}; "
            "query the HEK for coronal jets (a.hek.CJ) or select the CJ rows"
        )
    warnings.warn(f"{sum(others.values())} HEK record(s) that are not coronal jets were left out ({counts}); "
                  f"{len(jets)} CJ record(s) kept", HEKFormatWarning, stacklevel=4)
    return jets


def _normalized(records, shown=5):
    """`normalize_hek_record` on every record, with one `HEKFormatWarning` for the call instead of one per record."""
    repairs = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", HEKFormatWarning)
        clean = [normalize_hek_record(record, index=index) for index, record in enumerate(records)]
    for warning in caught:
        if issubclass(warning.category, HEKFormatWarning):
            repairs.append(str(warning.message))
        else:  # not ours to summarise: pass it on as it came
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    if repairs:
        more = f"; and {len(repairs) - shown} more" if len(repairs) > shown else ""
        warn_user(f"{len(repairs)} of {len(records)} HEK record(s) were repaired on reading: "
                  f"{'; '.join(repairs[:shown])}{more}", HEKFormatWarning)
    return clean


def _instrument(value):
    """The HEK's instrument name: sunpy's ``AIA 4``/``AIA_4`` (the telescope number) is ``AIA``."""
    text = str(value).strip()
    first = re.split(r"[\s_]+", text)[0] if text else "AIA"
    return "AIA" if first.upper() == "AIA" else text


def _flag(value):
    if isinstance(value, str):
        return value.strip().lower() in ("t", "true", "1", "yes")
    return bool(value)


def _paramset(meta):
    keys = ("threshold", "low_threshold", "min_windows", "merge_gap", "model_name", "model_version", "model_sha256")
    parts = []
    for key in keys:
        if meta.get(key) is None:
            continue
        value = meta[key]
        if isinstance(value, u.Quantity):
            value = f"{value.to_value(u.s):g}s" if value.unit.physical_type == "time" else str(value)
        parts.append(f"{key}={value}")
    return " ".join(parts) or f"sunpy_jets={_package_version}"


def _ivorn(frm_name, daterun, start, index, record):
    """export_event.pro's IVORN, ending in a hash of the record, so that two different events never share one."""
    safe = "".join(char if char.isalnum() or char in "-_" else "-" for char in frm_name).strip("-") or "sunpy_jets"
    safe = safe[:40]
    stamp = Time(daterun).utc.strftime("%Y%m%d_%H%M%S")
    suffix = Time(start).utc.strftime("%Y%m%dT%H%M%S")
    digest = hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode("utf-8")).hexdigest()[:8]
    return f"ivo://helio-informatics.org/CJ_{safe}_{stamp}_{suffix}_{index}_{digest}"
