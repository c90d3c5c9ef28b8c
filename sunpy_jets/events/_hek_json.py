"""
The lossless JSON file of `~sunpy_jets.events.JetEvents` (format ``"hek-json"``): a HEK API response
(``{"result": [...]}``) with a ``"sunpy_jets"`` block beside it that keeps the table's ``meta`` and the kinds
of its extra columns, so that ``JetEvents.read`` restores exactly what ``JetEvents.write`` saved.
"""

import json

import numpy as np

import astropy.units as u
from astropy.time import Time

from .._json import parse_json
from ..exceptions import HEKFormatError, InputError
from ..version import version as _package_version
from .hek import format_hek_time

__all__ = ["column_kind", "hek_json_text", "read_stored_block", "decode_meta"]

_META_KEY = "sunpy_jets"  # top-level key of our JSON files beside the HEK's "result"


def column_kind(column):
    """
    How an extra column is stored in our JSON files: ``"bool"``, ``"float"``, ``"str"`` or ``"quantity:{unit}"``.

    Parameters
    ----------
    column : `~astropy.table.Column` or `~astropy.units.Quantity`

    Returns
    -------
    `str`
    """
    if isinstance(column, u.Quantity):
        return f"quantity:{column.unit.to_string()}"
    if column.dtype.kind == "b":
        return "bool"
    if column.dtype.kind in "iuf":
        return "float"
    return "str"


def hek_json_text(records, meta, columns):
    """
    The text of a HEK-API-shaped JSON file (see ``JetEvents.write``).

    Parameters
    ----------
    records : `list` of `dict`
        The HEK records, under ``"result"``; NaN becomes ``null``.
    meta : `dict`
        The table's ``meta``, kept under ``"sunpy_jets"`` (quantities and times as JSON objects).
    columns : `dict`
        The `column_kind` of each extra column, kept under ``"sunpy_jets"``.

    Returns
    -------
    `str`

    Raises
    ------
    `~sunpy_jets.exceptions.InputError`
        A value cannot be written as JSON.
    """
    # A missing number (NaN) is null in HEK JSON, as in the HEK's own responses; JetEvents.read turns it back into NaN.
    records = [{k: None if isinstance(v, float) and not np.isfinite(v) else v for k, v in r.items()}
               for r in records]  # fmt: skip
    content = {
        "result": records,
        "overmax": False,
        _META_KEY: {"version": _package_version, "meta": _encode_meta(meta), "columns": columns},
    }
    try:
        return json.dumps(content, indent=1, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InputError(f"the events cannot be written as JSON ({exc}): give meta and columns JSON values") from exc


def read_stored_block(path):
    """
    The still encoded ``meta`` and the column kinds that ``JetEvents.write`` stored in a JSON file.

    Parameters
    ----------
    path : `~pathlib.Path`

    Returns
    -------
    `tuple` of (`dict`, `dict`) or `None`
        `None` when the file has no (or an empty) ``"sunpy_jets"`` block: a plain HEK response.

    Raises
    ------
    `~sunpy_jets.exceptions.HEKFormatError`
        The block lacks a ``meta`` object or a ``columns`` object of type names.
    """
    stored = {}
    try:
        content = parse_json(path.read_text(encoding="utf-8"), error=HEKFormatError, what=str(path))
        if isinstance(content, dict) and isinstance(content.get(_META_KEY), dict):
            stored = content[_META_KEY]
    except (OSError, UnicodeDecodeError, HEKFormatError):
        pass  # not our JSON: load_hek_records reads the file again and says what is wrong with it
    if not stored:
        return None
    meta, columns = stored.get("meta", {}), stored.get("columns", {})
    if not (isinstance(meta, dict) and isinstance(columns, dict) and all(isinstance(v, str) for v in columns.values())):
        raise HEKFormatError(
            f"{path}: its 'sunpy_jets' block needs a 'meta' object and a 'columns' object of type names; "
            "the file was edited or not written by JetEvents.write"
        )
    return meta, columns


def decode_meta(meta):
    """
    Undo the encoding of quantities and times in a stored ``meta``.

    Parameters
    ----------
    meta : `dict`
        As `read_stored_block` returns it.

    Returns
    -------
    `dict`

    Raises
    ------
    `ValueError`, `TypeError`
        A stored unit or time does not parse.
    """
    out = {}
    for key, value in meta.items():
        if isinstance(value, dict) and set(value) == {"value", "unit"}:
            out[key] = u.Quantity(value["value"], value["unit"])
        elif isinstance(value, dict) and set(value) == {"time"}:
            out[key] = Time(value["time"], scale="utc")
        else:
            out[key] = value
    return out


def _encode_meta(meta):
    out = {}
    for key, value in meta.items():
        if isinstance(value, u.Quantity):
            out[key] = {"value": value.value.tolist(), "unit": value.unit.to_string()}
        elif isinstance(value, Time):
            out[key] = {"time": format_hek_time(value, precision=6)}
        elif isinstance(value, np.generic):
            out[key] = value.item()
        else:
            try:
                json.dumps(value)
            except TypeError:
                value = str(value)
            out[key] = value
    return out
