"""
Reading, checking and normalising Heliophysics Events Knowledgebase (HEK) records.

A HEK record is a flat `dict` keyed by the HEK's lower-case attribute names (``event_starttime``,
``boundbox_c1ll``, ``frm_name``, ...), as the HEK search API returns them (``{"result": [...]}``) and as
`sunpy.net.hek.HEKTable.raw` holds them. Which attributes the HEK requires for an event type is read at
run time from sunpy's own copy of the HEK specification (``sunpy/net/hek/data/*.json``), so it follows
sunpy rather than a list typed from memory.
"""

import functools
import json
import math
import os
import re
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np

import astropy.units as u
from astropy.table import Table
from astropy.time import Time
from astropy.utils.data import get_pkg_data_filename

from .._json import parse_json
from ..exceptions import FileFormatError, HEKFormatError, HEKFormatWarning, InputError, InputTypeError
from ._columns import plain_value

__all__ = [
    "ARCHIVIST_FIELDS",
    "hek_event_fields",
    "format_hek_time",
    "load_hek_records",
    "normalize_hek_record",
    "validate_hek_record",
]

#: Required attributes that the HEK archivist fills in on ingest; a submitter leaves them blank.
ARCHIVIST_FIELDS = ("kb_archivdate", "kb_archivid", "kb_archivist", "kb_archivurl")

#: Attributes a record must have to be turned into a `~sunpy_jets.events.JetEvents` row.
_IMPORT_REQUIRED = (
    "event_type",
    "event_starttime",
    "event_endtime",
    "event_coordsys",
    "event_coordunit",
    "event_coord1",
    "event_coord2",
    "boundbox_c1ll",
    "boundbox_c2ll",
    "boundbox_c1ur",
    "boundbox_c2ur",
)
_NUMERIC_FIELDS = (
    "event_coord1",
    "event_coord2",
    "event_c1error",
    "event_c2error",
    "boundbox_c1ll",
    "boundbox_c2ll",
    "boundbox_c1ur",
    "boundbox_c2ur",
    "obs_meanwavel",
    "event_probability",
)
_TIME_FIELDS = ("event_starttime", "event_endtime", "event_peaktime", "frm_daterun", "kb_archivdate")
_ISO_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z?$")
# Values the HEK and SolarSoft's export_event.pro treat as "not filled in".
_DEFAULT_VALUES = ("", "blank", "n/a", "-", "none", "null", "nan", "inf", "-inf", "-9999", "-9999.0")


@functools.cache
def _hek_attributes():
    attributes = []
    for name in ("unit_properties.json", "coord_properties.json"):
        filename = get_pkg_data_filename(f"data/{name}", package="sunpy.net.hek")
        with open(filename, encoding="utf-8") as handle:
            attributes.extend(json.load(handle)["attributes"])
    return tuple(attributes)


def hek_event_fields(event_type="CJ", *, which="req"):
    """
    The HEK attributes required (or optional) for an event type, from sunpy's HEK metadata files.

    Parameters
    ----------
    event_type : `str`, optional
        The two-letter HEK event code (``"CJ"`` for coronal jets).
    which : {"req", "opt"}, optional
        Required or optional attributes.

    Returns
    -------
    `tuple` of `str`
        Lower-case attribute names, in the order of sunpy's files.

    Examples
    --------
    >>> from sunpy_jets.events import hek_event_fields
    >>> required = hek_event_fields("CJ")
    >>> "boundbox_c1ll" in required and "frm_paramset" in required
    True
    >>> "event_probability" in hek_event_fields("CJ", which="opt")
    True
    """
    if which not in ("req", "opt"):
        raise HEKFormatError(f"which must be 'req' or 'opt', not {which!r}")
    attributes = _hek_attributes()
    if not any(event_type in attr for attr in attributes):
        raise HEKFormatError(f"unknown HEK event type {event_type!r}: give a two-letter code such as 'CJ'")
    return tuple(attr["name"] for attr in attributes if attr.get(event_type) == which)


def format_hek_time(time, *, precision=3):
    """
    Format times the way the HEK writes them (ISO 8601, ``T`` separator, UTC, no zone suffix).

    Parameters
    ----------
    time : `~astropy.time.Time`
        A scalar or array time.
    precision : `int`, optional
        Digits of the seconds' fraction.

    Returns
    -------
    `str` or `numpy.ndarray` of `str`

    Examples
    --------
    >>> from astropy.time import Time
    >>> from sunpy_jets.events import format_hek_time
    >>> format_hek_time(Time("2011-01-20 09:00:09.5"))
    '2011-01-20T09:00:09.500'
    """
    time = Time(time, scale="utc", precision=precision)
    return time.utc.isot


def _is_default(value):
    if value is None:
        return True
    if isinstance(value, float) and not math.isfinite(value):
        return True
    return str(value).strip().lower() in _DEFAULT_VALUES


def validate_hek_record(record, *, event_type="CJ", index=None, skip=ARCHIVIST_FIELDS):
    """
    Check that a HEK record carries every attribute the HEK requires for its event type.

    Parameters
    ----------
    record : `dict`
        One HEK record (lower-case attribute names).
    event_type : `str`, optional
        The HEK event code whose required attributes are checked.
    index : `int`, optional
        The record's position, quoted in error messages.
    skip : `tuple` of `str`, optional
        Required attributes not to check; by default those the HEK archivist fills in.

    Raises
    ------
    `~sunpy_jets.exceptions.HEKFormatError`
        If a required attribute is missing or still holds a placeholder (``""``, ``"blank"``,
        ``-9999``, ``inf``...), or the bounding box has LL > UR.

    Examples
    --------
    >>> from sunpy_jets.events import validate_hek_record
    >>> validate_hek_record({"event_type": "CJ"})
    Traceback (most recent call last):
    ...
    sunpy_jets.exceptions.HEKFormatError: HEK record: required CJ field 'event_coordsys' is missing
    """
    where = "HEK record" if index is None else f"HEK record {index}"
    skip = set(skip)
    for name in hek_event_fields(event_type, which="req"):
        if name in skip:
            continue
        if name not in record:
            raise HEKFormatError(f"{where}: required {event_type} field {name!r} is missing")
        if _is_default(record[name]):
            raise HEKFormatError(
                f"{where}: required {event_type} field {name!r} holds the placeholder {record[name]!r}; "
                "give a real value"
            )
    for axis in ("c1", "c2"):
        low, high = record.get(f"boundbox_{axis}ll"), record.get(f"boundbox_{axis}ur")
        if isinstance(low, (int, float)) and isinstance(high, (int, float)) and low > high:
            raise HEKFormatError(f"{where}: boundbox_{axis}ll={low} is above boundbox_{axis}ur={high}")


def _table_records(table):
    names = table.colnames
    return [{name: plain_value(row[name]) for name in names} for row in table]


def _is_fido_result(source):
    if "sunpy.net" not in sys.modules:  # no Fido result without sunpy.net; asking does not import it
        return False
    from sunpy.net.fido_factory import UnifiedResponse

    return isinstance(source, UnifiedResponse)


def load_hek_records(source):
    """
    Load HEK records from a file, a sunpy ``HEKTable`` or a list of dicts.

    Parameters
    ----------
    source : path-like, ``UnifiedResponse``, `sunpy.net.hek.HEKTable`, `astropy.table.Table` or `list` of `dict`
        A JSON file holding a HEK API response (``{"result": [...]}``) or a plain list of records;
        the whole result of ``Fido.search(..., a.hek.CJ)`` or its ``HEKTable`` (``result["hek"]``, whose
        unparsed ``.raw`` table is used); or records already in memory.

    Returns
    -------
    `list` of `dict`
        The records, unmodified (see `normalize_hek_record` to check and clean them).

    Raises
    ------
    `~sunpy_jets.exceptions.FileFormatError`
        If the file cannot be read.
    `~sunpy_jets.exceptions.HEKFormatError`
        If the content is not JSON or not HEK-shaped.
    `~sunpy_jets.exceptions.InputTypeError`
        If ``source`` is of another type.

    Examples
    --------
    >>> from sunpy_jets.events import load_hek_records
    >>> load_hek_records([{"event_type": "CJ"}])
    [{'event_type': 'CJ'}]
    """
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise FileFormatError(f"cannot read HEK JSON file {path}: {exc}") from exc
        content = parse_json(text, error=HEKFormatError, what=f"the HEK file {path}")
        if isinstance(content, Mapping):
            if "result" not in content:
                raise HEKFormatError(f"{path} holds a JSON object without a 'result' list; it is not a HEK response")
            content = content["result"]
        records = content
    elif isinstance(source, Table):
        raw = getattr(source, "raw", None)
        records = _table_records(raw if isinstance(raw, Table) else source)
    elif _is_fido_result(source):
        # a whole Fido.search(...) result: its HEK tables (a search may also hold data providers' tables)
        tables = [table for table in source if isinstance(table, Table) and type(table).__name__ == "HEKTable"]
        if not tables:
            raise InputError(
                "the Fido result holds no HEK table: search with a HEK event type, e.g. "
                "Fido.search(a.Time(start, end), a.hek.EventType('CJ'))"
            )
        records = [record for table in tables for record in load_hek_records(table)]
    elif isinstance(source, (list, tuple)):
        records = list(source)
    else:
        raise InputTypeError(
            f"cannot read HEK records from a {type(source).__name__}: give a JSON path, a HEKTable or a list of dicts"
        )
    if not isinstance(records, list):
        raise HEKFormatError(f"HEK 'result' must be a list of records, not {type(records).__name__}")
    for index, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise HEKFormatError(f"HEK record {index} is a {type(record).__name__}, not a JSON object/dict")
    return [dict(record) for record in records]


def _parse_time(value, name, where):
    if isinstance(value, Time):
        return value, False
    if not isinstance(value, str):
        raise HEKFormatError(f"{where}: {name!r} must be a time string, not {type(value).__name__} {value!r}")
    text = value.strip()
    try:
        time = Time(text.rstrip("Z").replace("/", "-"), scale="utc")
    except ValueError as exc:
        raise HEKFormatError(f"{where}: {name!r}={value!r} is not a time the HEK writes") from exc
    return time, not _ISO_PATTERN.match(text)


def _parse_flag(value, name, where):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("t", "true", "1", "yes"):
        return True
    if text in ("f", "false", "0", "no", ""):
        return False
    raise HEKFormatError(f"{where}: {name!r}={value!r} is not a flag (T/F, true/false)")


def normalize_hek_record(record, *, index=None):
    """
    Check one HEK record and normalise the quirks of real archive entries.

    The record must hold the attributes a jet event needs (``event_type``, ``event_starttime``,
    ``event_endtime``, ``event_coordsys``, ``event_coordunit``, ``event_coord1/2`` and the four
    ``boundbox_*`` corners), with numbers where numbers belong. A copy is returned in which:

    - times (``event_starttime``, ``event_endtime``, ``event_peaktime``, ``frm_daterun``,
      ``kb_archivdate``) are ISO 8601 strings with a ``T`` and milliseconds (empty peak times become `None`);
    - bounding-box corners given with LL > UR are swapped;
    - ``obs_meanwavel`` is in ångström and ``obs_wavelunit`` is ``"angstrom"`` (the HEK archive stores cm);
    - ``event_coordunit`` is ``"arcsec"`` when every coordinate is in arcseconds
      (the HEK also writes ``"arcseconds"`` and ``"arcsec,arcsec"``);
    - ``frm_humanflag`` and ``event_testflag`` are `bool`.

    A `~sunpy_jets.exceptions.HEKFormatWarning` says what was changed when a value was swapped,
    converted or re-formatted (re-spelling units, flags or adding milliseconds is silent).

    Parameters
    ----------
    record : `dict`
        One HEK record.
    index : `int`, optional
        Its position in a list, quoted in messages.

    Returns
    -------
    `dict`

    Raises
    ------
    `~sunpy_jets.exceptions.HEKFormatError`
        Naming the field (and record index) that is missing or of the wrong type.

    Examples
    --------
    >>> import warnings
    >>> from sunpy_jets.events import normalize_hek_record
    >>> record = {"event_type": "CJ", "event_starttime": "2011-01-20 09:00:09.000",
    ...           "event_endtime": "2011-01-20T09:59:33", "event_coordsys": "UTC-HPC-TOPO",
    ...           "event_coordunit": "arcsec", "event_coord1": -245.0, "event_coord2": -1003.0,
    ...           "boundbox_c1ll": -335.0, "boundbox_c2ll": -887.0,
    ...           "boundbox_c1ur": -155.0, "boundbox_c2ur": -1119.0,
    ...           "obs_meanwavel": 3.04e-06, "obs_wavelunit": "cm"}
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     clean = normalize_hek_record(record)
    >>> clean["boundbox_c2ll"], clean["boundbox_c2ur"], round(clean["obs_meanwavel"], 6)
    (-1119.0, -887.0, 304.0)
    >>> clean["event_starttime"]
    '2011-01-20T09:00:09.000'
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    HEK record: swapped boundbox_c2ll/boundbox_c2ur (LL was above UR); converted obs_meanwavel from cm to angstrom; ...
    """
    where = "HEK record" if index is None else f"HEK record {index}"
    if not isinstance(record, Mapping):
        raise HEKFormatError(f"{where} is a {type(record).__name__}, not a dict")
    out = dict(record)
    changes = []
    for name in _IMPORT_REQUIRED:
        if name not in out or out[name] is None or (isinstance(out[name], str) and not out[name].strip()):
            raise HEKFormatError(f"{where}: required field {name!r} is missing or empty")
    for name in ("event_type", "event_coordsys", "event_coordunit"):
        if not isinstance(out[name], str):
            raise HEKFormatError(f"{where}: {name!r} must be a string, not {type(out[name]).__name__}")
    for name in _NUMERIC_FIELDS:
        value = out.get(name)
        if value is None or (name == "event_probability" and value == ""):
            out[name] = None
            continue
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise HEKFormatError(f"{where}: {name!r} must be a number, not {type(value).__name__} {value!r}")
        if not math.isfinite(value):
            raise HEKFormatError(f"{where}: {name!r} must be finite, not {value!r}")
        out[name] = float(value)
    if out["event_probability"] is not None and not 0 <= out["event_probability"] <= 1:
        raise HEKFormatError(f"{where}: 'event_probability'={out['event_probability']} is not between 0 and 1")

    reformatted = []
    for name in _TIME_FIELDS:
        value = out.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if name in out:
                out[name] = None
            continue
        time, odd = _parse_time(value, name, where)
        # keep sub-millisecond digits when a record has them (our own files store microseconds)
        digits = re.search(r"\.(\d+)", value) if isinstance(value, str) else None
        out[name] = format_hek_time(time, precision=min(max(3, len(digits.group(1)) if digits else 3), 9))
        if odd:
            reformatted.append(name)
    start, end = Time(out["event_starttime"]), Time(out["event_endtime"])
    if end < start:
        raise HEKFormatError(f"{where}: event_endtime {out['event_endtime']} is before event_starttime")

    for axis in ("c1", "c2"):
        low, high = f"boundbox_{axis}ll", f"boundbox_{axis}ur"
        if out[low] > out[high]:
            out[low], out[high] = out[high], out[low]
            changes.append(f"swapped {low}/{high} (LL was above UR)")

    unit_parts = {part for part in re.split(r"[,\s]+", out["event_coordunit"].strip()) if part}
    if unit_parts and unit_parts <= {"arcsec", "arcseconds", "Arcsec", "Arcseconds"}:
        out["event_coordunit"] = "arcsec"

    if out.get("obs_meanwavel") is not None:
        unit_text = str(out.get("obs_wavelunit") or "").strip()
        if not unit_text:
            raise HEKFormatError(f"{where}: 'obs_meanwavel' is given without 'obs_wavelunit'")
        try:
            unit = u.Unit(unit_text.rstrip("s") if unit_text.lower().startswith("angstrom") else unit_text)
            wavelength = (out["obs_meanwavel"] * unit).to(u.AA, equivalencies=u.spectral())
        except (ValueError, u.UnitsError) as exc:
            raise HEKFormatError(f"{where}: 'obs_wavelunit'={unit_text!r} is not a wavelength unit") from exc
        if unit != u.AA:
            changes.append(f"converted obs_meanwavel from {unit_text} to angstrom")
        out["obs_meanwavel"] = float(np.round(wavelength.value, 9))
        out["obs_wavelunit"] = "angstrom"

    for name in ("frm_humanflag", "event_testflag"):
        if name in out and out[name] is not None:
            out[name] = _parse_flag(out[name], name, where)

    if reformatted:
        changes.append(f"re-formatted {', '.join(reformatted)} as ISO 8601")
    if changes:
        warnings.warn(f"{where}: {'; '.join(changes)}", HEKFormatWarning, stacklevel=2)
    return out
