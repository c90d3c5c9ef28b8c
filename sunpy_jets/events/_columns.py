"""
Checks and conversions of `JetEvents` columns, shared by the table and the event detection.
"""

import numpy as np

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.time import Time

from sunpy.coordinates import Helioprojective

from ..exceptions import InputError, InputTypeError

__all__ = ["as_time", "as_arcsec", "hpc", "tx_ty", "plain_value"]


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
