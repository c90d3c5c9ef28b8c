"""
Checks and canonical form of the `~sunpy_jets.events.JetEvents` table: defaults of ``meta``, the empty
table, validation of the core and property columns, and the VOEvent files a path names.
"""


import numpy as np
from packaging.version import parse as parse_version

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.table import MaskedColumn, QTable
from astropy.time import Time

from sunpy.coordinates import Helioprojective

from ..exceptions import InputError, InputTypeError
from ..version import version as _package_version
from ._columns import PROPERTY_COLUMNS, as_arcsec, as_time, hpc, tx_ty
from ._hek_convert import BOX_COLUMNS, CORE_COLUMNS, ERROR_COLUMNS, TIME_COLUMNS

__all__ = ["default_meta", "empty_table", "validated", "voevent_paths"]


def default_meta():
    release = parse_version(_package_version).release
    return {
        "obs_observatory": "SDO",
        "obs_instrument": "AIA",
        "obs_channelid": "304",
        "obs_meanwavel": 304.0 * u.AA,
        "frm_name": "sunpy_jets",
        "frm_humanflag": False,
        "frm_versionnumber": float(f"{release[0]}.{release[1] if len(release) > 1 else 0}"),
    }


def voevent_paths(path):
    """The VOEvent files ``path`` names (an ``.xml`` file, or a folder holding some), or `None`."""
    if path.is_dir():
        found = sorted(path.glob("*.xml"))
        if not found:
            raise InputError(f"{path} is a folder without VOEvent .xml files; give a JSON file or a folder of VOEvents")
        return found
    if path.suffix.lower() == ".xml":
        return [path]
    return None


def empty_table():
    empty_time = Time(np.zeros(0), format="mjd", scale="utc")
    empty_time.format = "isot"
    zero = np.zeros(0) * u.arcsec
    return QTable(
        {
            "event_starttime": empty_time,
            "event_endtime": empty_time.copy(),
            "event_peaktime": empty_time.copy(),
            "event_probability": np.zeros(0),
            "event_coord": SkyCoord(zero, zero, frame=Helioprojective),
            **{name: zero.copy() for name in BOX_COLUMNS},
        }
    )


def validated(table):
    """Check and canonicalise the core columns of ``table`` in place; return it sorted by start."""
    for name in TIME_COLUMNS:
        time = as_time(table[name], name)
        # times are kept to the microsecond, the precision of our JSON files, so a round trip is exact
        text = Time(time.utc, precision=6).isot
        table[name] = Time(text, format="isot", scale="utc", precision=6)
    start, end, peak = (table[name] for name in TIME_COLUMNS)
    if len(table):
        if np.any(end < start):
            raise InputError(f"event(s) {np.flatnonzero(end < start).tolist()} end before they start")
        bad = (peak < start) | (peak > end)
        if np.any(bad):
            raise InputError(f"event(s) {np.flatnonzero(bad).tolist()} peak outside their start-end interval")
    prob = table["event_probability"]
    if isinstance(prob, u.Quantity):
        if prob.unit != u.dimensionless_unscaled:
            raise InputTypeError("event_probability must be dimensionless")
        prob = prob.value
    mask = np.ma.getmaskarray(prob)
    try:
        values = np.ma.filled(np.ma.asarray(prob, dtype=float), 0.5)
    except (TypeError, ValueError) as exc:
        raise InputTypeError(f"event_probability must hold numbers: {exc}") from exc
    if np.any(~np.isfinite(values)) or np.any((values < 0) | (values > 1)):
        raise InputError("event_probability must be between 0 and 1 (masked where unknown)")
    table["event_probability"] = MaskedColumn(values, mask=mask) if mask.any() else values
    boxes = {}
    for name in BOX_COLUMNS:
        boxes[name] = as_arcsec(table[name], name)
        if np.any(~np.isfinite(boxes[name])):
            raise InputError(f"column {name!r} holds NaN or infinite values")
        table[name] = boxes[name]
    for axis in ("c1", "c2"):
        bad = boxes[f"boundbox_{axis}ll"] >= boxes[f"boundbox_{axis}ur"]
        if np.any(bad):
            raise InputError(
                f"event(s) {np.flatnonzero(bad).tolist()}: boundbox_{axis}ll must be below boundbox_{axis}ur"
            )
    for name, (unit, _, _) in PROPERTY_COLUMNS.items():
        if name in table.colnames:
            column = table[name]
            if not isinstance(column, u.Quantity):
                raise InputTypeError(f"column {name!r} must be a Quantity in {unit} (NaN where not measured)")
            try:
                table[name] = column.to(unit)
            except u.UnitConversionError as exc:
                raise InputTypeError(f"column {name!r} must be in a unit of {unit.physical_type}: {exc}") from exc
    tx, ty = tx_ty(table["event_coord"], "event_coord")
    table["event_coord"] = hpc(tx, ty, start)
    for name, low, high in zip(ERROR_COLUMNS, ("boundbox_c1ll", "boundbox_c2ll"), ("boundbox_c1ur", "boundbox_c2ur")):
        if name in table.colnames:
            error = as_arcsec(table[name], name)
            if np.any(~np.isfinite(error)):
                error = np.where(np.isfinite(error), error, (boxes[high] - boxes[low]) / 2)
            table[name] = error
        else:
            table[name] = (boxes[high] - boxes[low]) / 2
    order = np.lexsort((end.mjd, start.mjd)) if len(table) else np.arange(0)
    columns = [*CORE_COLUMNS, *[name for name in table.colnames if name not in CORE_COLUMNS]]
    return table[order][columns]
