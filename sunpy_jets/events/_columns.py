"""
Checks and conversions of `JetEvents` columns, shared by the table and the event detection.
"""

import numpy as np

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.time import Time

from sunpy.coordinates import Helioprojective

from ..exceptions import InputError, InputTypeError

__all__ = ["as_time", "as_arcsec", "hpc", "tx_ty", "plain_value", "PROPERTY_COLUMNS", "SKELETON_FIELDS",
           "property_records", "property_from_record", "spine_text", "spine_points"]


def as_time(column, name):
    if isinstance(column, Time):
        return column
    try:
        return Time(column, scale="utc")
    except (ValueError, TypeError) as exc:
        raise InputTypeError(f"column {name!r} must hold astropy Time values: {exc}") from exc


def as_arcsec(column, name):
    if not isinstance(column, u.Quantity):
        raise InputTypeError(f"column {name!r} must be an angle Quantity (e.g. arcsec), not {type(column).__name__}")
    try:
        return column.to(u.arcsec)
    except u.UnitConversionError as exc:
        raise InputTypeError(f"column {name!r} must be an angle, not in {column.unit}") from exc


def hpc(tx, ty, obstime):
    # sunpy cannot place an observer at an empty array of times
    frame = Helioprojective(observer="earth", obstime=obstime) if len(obstime) else Helioprojective()
    return SkyCoord(u.Quantity(tx, u.arcsec), u.Quantity(ty, u.arcsec), frame=frame)


def tx_ty(coord, name):
    if not isinstance(coord, SkyCoord):
        raise InputTypeError(f"{name!r} must be a helioprojective SkyCoord, not {type(coord).__name__}")
    if not isinstance(coord.frame, Helioprojective):
        raise InputError(f"{name!r} must be in the Helioprojective frame, not {coord.frame.name}")
    return coord.Tx.to(u.arcsec), coord.Ty.to(u.arcsec)


def plain_value(value):
    """A JSON-able Python value from a numpy/astropy table cell (masked cells become None)."""
    if value is np.ma.masked:
        return None
    if isinstance(value, np.ma.MaskedArray):
        return None if value.mask.all() else value.item()
    if isinstance(value, u.Quantity):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return value


# Measured jet properties: column -> (unit of the column, unit written to HEK records, HEK unit field or None).
# The first four are HEK CJ attributes; the others (uncertainties, direction, duration) travel as extra
# parameters of the same name, which HEK JSON and our VOEvents keep.
PROPERTY_COLUMNS = {
    "outflow_length": (u.Mm, u.km, "outflow_lengthunit"),
    "outflow_width": (u.Mm, u.km, "outflow_widthunit"),
    "outflow_speed": (u.km / u.s, u.km / u.s, "outflow_speedunit"),
    "outflow_openingangle": (u.deg, u.deg, None),
    "outflow_length_error": (u.Mm, u.km, None),
    "outflow_width_error": (u.Mm, u.km, None),
    "outflow_speed_error": (u.km / u.s, u.km / u.s, None),
    "outflow_openingangle_error": (u.deg, u.deg, None),
    "jet_position_angle": (u.deg, u.deg, None),
    "jet_duration": (u.min, u.s, None),
}
#: HEK unit strings of the units above.
HEK_UNIT_NAMES = {u.km: "km", u.km / u.s: "km/s", u.deg: "deg", u.s: "s"}
# The spine as a HEK skeleton: "x1,y1,x2,y2,..." in arcsec (event_coordunit), from the base out.
SKELETON_FIELDS = ("skel_chaincode", "skel_startc1", "skel_startc2", "skel_nsteps", "chaincodetype")


def property_records(row_values):
    """HEK fields of the property columns of one row (``{column: Quantity or None}``); missing ones left out."""
    out = {}
    for name, (_, hek_unit, unit_field) in PROPERTY_COLUMNS.items():
        value = row_values.get(name)
        if value is None:
            continue
        number = float(u.Quantity(value).to_value(hek_unit))
        if not np.isfinite(number):
            continue
        out[name] = number
        if unit_field:
            out[unit_field] = HEK_UNIT_NAMES[hek_unit]
    return out


def property_from_record(record, name):
    """The value (in the column's unit, NaN when absent) of a property column in a HEK record."""
    column_unit, hek_unit, unit_field = PROPERTY_COLUMNS[name]
    value = record.get(name)
    if value is None or value == "":
        return np.nan
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"HEK field {name!r} must be a number, not {value!r}") from None
    unit = hek_unit
    if unit_field and record.get(unit_field):
        try:
            unit = u.Unit(str(record[unit_field]).replace(" ", ""))
        except ValueError:
            raise InputError(f"HEK field {unit_field!r} holds an unknown unit {record[unit_field]!r}") from None
    try:
        return (number * unit).to_value(column_unit)
    except u.UnitConversionError:
        raise InputError(f"HEK field {name!r} is in {unit}, which is not a {column_unit.physical_type}") from None


def spine_text(tx, ty):
    """A HEK chain code ``"x1,y1,x2,y2,..."`` (arcsec, 2 decimals) of a polyline."""
    return ",".join(f"{x:.2f},{y:.2f}" for x, y in zip(np.ravel(tx), np.ravel(ty)))


def spine_points(text):
    """``(tx, ty)`` arrays (arcsec) of a chain code written by `spine_text` (empty arrays for none)."""
    text = "" if text is None else str(text).strip()
    if not text:
        return np.zeros(0), np.zeros(0)
    text = text.replace("POLYGON((", "").replace("LINESTRING(", "").rstrip(")")
    numbers = np.array([float(value) for value in text.replace(" ", ",").split(",") if value], dtype=float)
    if numbers.size % 2:
        raise InputError("a skel_chaincode needs pairs of numbers x1,y1,x2,y2,...")
    return numbers[0::2], numbers[1::2]
