"""
Label catalogues: the Solar Jet Hunter (SJH) jets and the HEK-derived non-jet positions.

Each reader returns an astropy `~astropy.table.QTable` with `~astropy.time.Time`,
`~astropy.coordinates.SkyCoord` and `~astropy.units.Quantity` columns. Rows that cannot be used are
never dropped silently: they are listed in ``table.meta["bad_rows"]`` (row number, column, reason),
also available as the `SolarJetHunterCatalogue.bad_rows` table, and summarised in one
`~sunpy_jets.exceptions.CatalogueWarning`. A file that cannot be read at all, or that lacks required
columns, raises `~sunpy_jets.exceptions.CatalogueError`.
"""

import math
import re
from pathlib import Path

import numpy as np

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.table import QTable
from astropy.time import Time

from sunpy.coordinates import HeliographicStonyhurst, Helioprojective, get_earth

from .._json import parse_json
from ..exceptions import CatalogueError
from ._bad_rows import BadRows
from ._label_rows import csv_rows, drop_unsplit_records, parse_float, parse_times, read_text, require_rows

__all__ = [
    "SolarJetHunterCatalogue",
    "read_nonjet_positions",
    "bad_rows_table",
]

# HEK SOL_standard, e.g. SOL2011-01-20T09:00:09L289C165
_SOL_PATTERN = re.compile(r"^SOL\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?L\d{3}C\d{3}$")
# Helioprojective coordinates beyond this are not on any AIA image; such a base point is a bad value.
_MAX_HPC_ARCSEC = 2000.0

# The SJH CSV header (after its leading "#"), in file order.
_SJH_CSV_COLUMNS = (
    "sjh_ID", "date", "SOL_event", "duration", "basepoint_X", "std_X", "basepoint_Y", "std_Y",
    "basepoint_X_longitude", "basepoint_Y_latitude", "max_height", "upper_H", "lower_H", "avg_width",
    "std_width", "velocity", "sigma", "flag",
)  # fmt: skip

# Output column -> (CSV column, unit, required). Required values that fail leave the row out of the
# table (it is reported); optional ones become NaN and are reported.
_NUMERIC = {
    "duration": ("duration", u.min, True),
    "base_x": ("basepoint_X", u.arcsec, True),
    "base_y": ("basepoint_Y", u.arcsec, True),
    "base_std_x": ("std_X", u.arcsec, False),
    "base_std_y": ("std_Y", u.arcsec, False),
    "base_lon": ("basepoint_X_longitude", u.deg, False),
    "base_lat": ("basepoint_Y_latitude", u.deg, False),
    "max_height": ("max_height", u.arcsec, False),
    "max_height_upper": ("upper_H", u.arcsec, False),
    "max_height_lower": ("lower_H", u.arcsec, False),
    "width": ("avg_width", u.arcsec, False),
    "width_std": ("std_width", u.arcsec, False),
    "velocity": ("velocity", u.arcsec / u.s, False),
    "sigma": ("sigma", u.dimensionless_unscaled, False),
}
# Columns where "nan" is the catalogue's own way of saying "not measured" (velocity of one-subject jets).
_NAN_ALLOWED = {"velocity", "max_height_upper", "max_height_lower", "width_std", "base_std_x", "base_std_y"}


def bad_rows_table(table):
    """
    The problems found while reading a catalogue, as a table.

    Parameters
    ----------
    table : `~astropy.table.Table`
        A table returned by one of this module's readers.

    Returns
    -------
    `~astropy.table.QTable`
        Columns ``row`` (1-based line number in the file, header included, or the record index for
        JSON/HEK input), ``column`` and ``reason``; no rows when the file was clean.

    Examples
    --------
    >>> from astropy.table import QTable
    >>> t = QTable(meta={"bad_rows": [{"row": 3, "column": "date", "reason": "not a time"}]})
    >>> str(bad_rows_table(t)["reason"][0])
    'not a time'
    """
    rows = table.meta.get("bad_rows", [])
    return QTable(
        rows=[(b["row"], b["column"], b["reason"]) for b in rows],
        names=("row", "column", "reason"),
        dtype=(int, str, str),
    )


def _check_record(rec, row, report, seen_ids):
    """Validate one record (a dict of raw values keyed by CSV column); return output values or None."""
    out = {}
    ok = True
    sjh_id = str(rec.get("sjh_ID", "")).strip()
    if not sjh_id:
        report.add(row, "sjh_ID", "empty identifier")
        ok = False
    elif sjh_id in seen_ids:
        report.add(row, "sjh_ID", f"duplicate identifier {sjh_id!r} (first seen at row {seen_ids[sjh_id]})")
        ok = False
    out["sjh_id"] = sjh_id
    out["start_time"] = rec["__time__"]
    ok &= out["start_time"] is not None
    sol = str(rec.get("SOL_event", "")).strip()
    if not _SOL_PATTERN.match(sol):
        report.add(row, "SOL_event", f"{sol!r} is not a HEK SOL_standard (SOLyyyy-mm-ddThh:mm:ssLlllCccc)")
        ok = False
    out["sol_event"] = sol
    for name, (column, _, required) in _NUMERIC.items():
        value, good = parse_float(rec.get(column), column, row, report, nan_allowed=name in _NAN_ALLOWED)
        if good and name in ("base_x", "base_y") and abs(value) > _MAX_HPC_ARCSEC:
            report.add(row, column, f"{value} arcsec is off any AIA image (|value| > {_MAX_HPC_ARCSEC:g})")
            value, good = math.nan, False
        if good and name == "duration" and value <= 0:
            report.add(row, column, f"duration {value} min is not positive")
            value, good = math.nan, False
        if required and not good:
            ok = False
        out[name] = value
    # The flag is a code such as "001": keep it a string so its leading zeros survive.
    out["flag"] = "" if rec.get("flag") is None else str(rec.get("flag")).strip()
    if ok:
        seen_ids[sjh_id] = row
    return out if ok else None


class SolarJetHunterCatalogue(QTable):
    """
    The Solar Jet Hunter jet catalogue (Musset et al. 2024, A&A 688, A127) as a `~astropy.table.QTable`.

    Read it with `SolarJetHunterCatalogue.read`. One row per jet; columns:

    ``sjh_id`` (str), ``start_time`` (`~astropy.time.Time`), ``sol_event`` (HEK SOL_standard, str),
    ``duration`` (min), ``base`` (helioprojective `~astropy.coordinates.SkyCoord`, Earth observer at the
    jet start), ``base_std_x``/``base_std_y`` (arcsec), ``base_stonyhurst`` (Stonyhurst
    `~astropy.coordinates.SkyCoord` from the catalogue's lon/lat), ``max_height`` with
    ``max_height_upper``/``max_height_lower`` (arcsec, as given: the lower one is negative),
    ``width``/``width_std`` (arcsec), ``velocity`` (arcsec/s, NaN where not measured), ``sigma``
    (box-agreement σ_IoU) and ``flag`` (a string such as ``"001"``).

    Examples
    --------
    >>> import io
    >>> header = ("#sjh_ID, date, SOL_event, duration, basepoint_X, std_X, basepoint_Y, std_Y, "
    ...           "basepoint_X_longitude, basepoint_Y_latitude, max_height, upper_H, lower_H, "
    ...           "avg_width, std_width, velocity, sigma, flag")
    >>> row = ("sjh_2011-01-20T09_1,2011-01-20T09:15:44,SOL2011-01-20T09:00:09L289C165,43.6,"
    ...        "-226.6,7.5,-957.0,9.6,-109.0,-75.0,173.8,46.8,-36.9,52.3,14.6,0.139,0.42,001")
    >>> cat = SolarJetHunterCatalogue.read(io.StringIO(header + chr(10) + row))
    >>> len(cat), str(cat["flag"][0]), cat["base"][0].Tx
    (1, '001', <Longitude -226.6 arcsec>)
    >>> cat.events.tolist()
    ['SOL2011-01-20T09:00:09L289C165']
    """

    @classmethod
    def read(cls, source, *, format=None):
        """
        Read the SJH catalogue from its CSV or JSON form.

        Parameters
        ----------
        source : str, `~pathlib.Path` or file-like
            The CSV (``Jet_clusters_3.0_2.0_paperID.csv``: a header line starting with ``#``) or the
            JSON list of jet clusters (``Jet_clusters_3.0_2.0_paperID.json``: keys ``id``, ``SOL``,
            ``obs_time``, ``duration``, ``Bx``/``By`` ``{mean, std}``, ``lat``, ``lon``,
            ``max_height {mean, std_upper, std_lower}``, ``width {mean, std}``, ``velocity``,
            ``sigma``, ``flag``).
        format : {"csv", "json"}, optional
            Guessed from the file suffix or the first character when not given.

        Returns
        -------
        `SolarJetHunterCatalogue`

        Raises
        ------
        `~sunpy_jets.exceptions.CatalogueError`
            The file cannot be read, is neither form, or lacks required columns.

        Warns
        -----
        `~sunpy_jets.exceptions.CatalogueWarning`
            Some rows had bad values: see ``meta["bad_rows"]``.

        Examples
        --------
        >>> import io, json
        >>> record = {"id": "sjh_2011-01-20T09_1", "SOL": "SOL2011-01-20T09:00:09L289C165",
        ...           "obs_time": "2011-01-20T09:15:44", "duration": 43.6, "lat": -75.0, "lon": -109.0,
        ...           "Bx": {"mean": -226.6, "std": 7.5}, "By": {"mean": -957.0, "std": 9.6},
        ...           "max_height": {"mean": 173.8, "std_upper": 46.8, "std_lower": -36.9},
        ...           "width": {"mean": 52.3, "std": 14.6}, "sigma": 0.42, "flag": "001"}
        >>> cat = SolarJetHunterCatalogue.read(io.StringIO(json.dumps([record])), format="json")
        >>> cat["velocity"]  # not in the record, so not measured
        <Quantity [nan] arcsec / s>
        """
        name, text = read_text(source)
        if format is None:
            suffix = Path(name).suffix.lower()
            format = suffix[1:] if suffix in (".csv", ".json") else ("json" if text.lstrip()[:1] in ("[", "{") else "csv")
        if format not in ("csv", "json"):
            raise CatalogueError(f"unknown catalogue format {format!r}: use 'csv' or 'json'")
        records = _sjh_csv_records(text, name) if format == "csv" else _sjh_json_records(text, name)
        report = BadRows()
        seen = {}
        usable = drop_unsplit_records(records, report)
        times = parse_times([rec.get("date") for _, rec in usable], [row for row, _ in usable], report)
        for (_, rec), time in zip(usable, times):
            rec["__time__"] = time
        good = [out for row, rec in usable if (out := _check_record(rec, row, report, seen)) is not None]
        require_rows(good, report, name)
        table = cls._from_rows(good, name)
        table.meta["bad_rows"] = report.rows
        report.warn(name, len(records), len(records) - len(good), stacklevel=2)
        return table

    @classmethod
    def _from_rows(cls, rows, name):
        table = cls(meta={"source": name})
        times = Time([r["start_time"] for r in rows] or [], format="isot", scale="utc")
        table["sjh_id"] = np.array([r["sjh_id"] for r in rows], dtype=str)
        table["start_time"] = times
        table["sol_event"] = np.array([r["sol_event"] for r in rows], dtype=str)

        def column(key):
            return np.array([r[key] for r in rows], dtype=float) * _NUMERIC[key][1]

        table["duration"] = column("duration")
        # One SkyCoord for the whole column, each row with its own time and Earth observer.
        observer = get_earth(times) if len(rows) else "earth"
        frame = Helioprojective(observer=observer, obstime=times)
        table["base"] = SkyCoord(column("base_x"), column("base_y"), frame=frame)
        table["base_std_x"] = column("base_std_x")
        table["base_std_y"] = column("base_std_y")
        table["base_stonyhurst"] = SkyCoord(
            column("base_lon"), column("base_lat"), frame=HeliographicStonyhurst(obstime=times)
        )
        for key in ("max_height", "max_height_upper", "max_height_lower", "width", "width_std", "velocity", "sigma"):
            table[key] = column(key)
        table["flag"] = np.array([r["flag"] for r in rows], dtype=str)
        return table

    @property
    def events(self):
        """
        The distinct HEK events (SOL_standard strings) the jets belong to, sorted.

        Examples
        --------
        >>> SolarJetHunterCatalogue().events.size
        0
        """
        if "sol_event" not in self.colnames:
            return np.array([], dtype=str)
        return np.unique(np.asarray(self["sol_event"], dtype=str))

    @property
    def bad_rows(self):
        """
        The problems found while reading, as a table (see `bad_rows_table`).

        Examples
        --------
        >>> len(SolarJetHunterCatalogue().bad_rows)
        0
        """
        return bad_rows_table(self)

    def to_length(self, column="max_height"):
        """
        An angular column as a projected length, from each jet's Earth–Sun distance.

        Parameters
        ----------
        column : str
            An arcsec column: ``max_height``, ``width``, ``velocity``, ...

        Returns
        -------
        `~astropy.units.Quantity`
            In Mm (or Mm/s for a velocity): ``angle [rad] × observer distance``, the plane-of-sky
            length at the Sun (about 0.725 Mm per arcsec).

        Examples
        --------
        >>> import io
        >>> header = ("#sjh_ID, date, SOL_event, duration, basepoint_X, std_X, basepoint_Y, std_Y, "
        ...           "basepoint_X_longitude, basepoint_Y_latitude, max_height, upper_H, lower_H, "
        ...           "avg_width, std_width, velocity, sigma, flag")
        >>> row = ("sjh_x_1,2011-01-20T09:15:44,SOL2011-01-20T09:00:09L289C165,43.6,"
        ...        "-226.6,7.5,-957.0,9.6,-109.0,-75.0,100.0,46.8,-36.9,52.3,14.6,nan,0.42,001")
        >>> cat = SolarJetHunterCatalogue.read(io.StringIO(header + chr(10) + row))
        >>> cat.to_length("max_height").round(1)
        <Quantity [71.4] Mm>
        """
        value = self[column]
        if not (value.unit * u.s).is_equivalent(u.arcsec) and not value.unit.is_equivalent(u.arcsec):
            raise CatalogueError(f"column {column!r} is in {value.unit}, not an angle: give an arcsec column")
        distance = self["base"].observer.radius
        target = u.Mm if value.unit.is_equivalent(u.arcsec) else u.Mm / u.s
        return (value * distance).to(target, equivalencies=u.dimensionless_angles())


def _sjh_csv_records(text, name):
    return csv_rows(text, name, _SJH_CSV_COLUMNS)


def _sjh_json_records(text, name):
    data = parse_json(text.removeprefix("\ufeff"), error=CatalogueError, what=name,
                      advice="give the Jet_clusters_*.json export or the CSV")
    if not isinstance(data, list):
        keys = ", ".join(sorted(data)) if isinstance(data, dict) else type(data).__name__
        raise CatalogueError(
            f"{name} is not an SJH JSON catalogue: expected a list of jet clusters with keys id, SOL, obs_time, "
            f"Bx, By, ... (the Jet_clusters_*.json export); got {keys}"
        )

    def get(d, *keys):
        for k in keys:
            if not isinstance(d, dict) or k not in d:
                return None
            d = d[k]
        return d

    records = []
    for i, c in enumerate(data):
        if not isinstance(c, dict):
            records.append((i, {"__error__": f"record is a {type(c).__name__}, not an object"}))
            continue
        velocity = c.get("velocity")
        records.append(
            (
                i,
                {
                    "sjh_ID": c.get("id"),
                    "date": c.get("obs_time"),
                    "SOL_event": c.get("SOL"),
                    "duration": c.get("duration"),
                    "basepoint_X": get(c, "Bx", "mean"),
                    "std_X": get(c, "Bx", "std"),
                    "basepoint_Y": get(c, "By", "mean"),
                    "std_Y": get(c, "By", "std"),
                    "basepoint_X_longitude": c.get("lon"),
                    "basepoint_Y_latitude": c.get("lat"),
                    "max_height": get(c, "max_height", "mean"),
                    "upper_H": get(c, "max_height", "std_upper"),
                    "lower_H": get(c, "max_height", "std_lower"),
                    "avg_width": get(c, "width", "mean"),
                    "std_width": get(c, "width", "std"),
                    "velocity": math.nan if velocity is None else velocity,
                    "sigma": c.get("sigma"),
                    "flag": c.get("flag"),
                },
            )
        )
    return records


def read_nonjet_positions(source):
    """
    Read the HEK-derived non-jet positions (``No_jet_df.csv``: ``date,basepoint_X,basepoint_Y``).

    Parameters
    ----------
    source : str, `~pathlib.Path` or file-like
        The CSV file.

    Returns
    -------
    `~astropy.table.QTable`
        Columns ``label_id`` (``"nonjet_<line>"``), ``start_time`` (`~astropy.time.Time`), ``base``
        (helioprojective `~astropy.coordinates.SkyCoord`, Earth observer) and ``group``. The file gives
        no HEK event, but the positions are HEK event coordinates: rows sharing a base point come from
        the same event, so ``group`` is ``"nonjet(x,y)"`` of the rounded base point, the unit to keep
        within one split. Problems are listed in ``meta["bad_rows"]``.

    Raises
    ------
    `~sunpy_jets.exceptions.CatalogueError`
        The file cannot be read or lacks a column.

    Warns
    -----
    `~sunpy_jets.exceptions.CatalogueWarning`
        Some rows had bad values (they are left out and listed).

    Examples
    --------
    >>> import io
    >>> t = read_nonjet_positions(io.StringIO("date,basepoint_X,basepoint_Y\\n2011-07-08T16:00:04,432.0,118.0\\n"))
    >>> str(t["label_id"][0]), str(t["group"][0]), t["base"][0].Ty
    ('nonjet_2', 'nonjet(432,118)', <Latitude 118. arcsec>)
    """
    name, text = read_text(source)
    records = csv_rows(text, name, ("date", "basepoint_X", "basepoint_Y"))
    report = BadRows()
    rows = []
    usable = drop_unsplit_records(records, report)
    times = parse_times([rec["date"] for _, rec in usable], [row for row, _ in usable], report)
    for (row, rec), time in zip(usable, times):
        x, okx = parse_float(rec["basepoint_X"], "basepoint_X", row, report, nan_allowed=False)
        y, oky = parse_float(rec["basepoint_Y"], "basepoint_Y", row, report, nan_allowed=False)
        for value, ok, column in ((x, okx, "basepoint_X"), (y, oky, "basepoint_Y")):
            if ok and abs(value) > _MAX_HPC_ARCSEC:
                report.add(row, column, f"{value} arcsec is off any AIA image (|value| > {_MAX_HPC_ARCSEC:g})")
                okx, oky = (False, oky) if column == "basepoint_X" else (okx, False)
        if time is not None and okx and oky:
            rows.append((f"nonjet_{row}", time, x, y))
    require_rows(rows, report, name)
    times = Time([r[1] for r in rows] or [], format="isot", scale="utc")
    x = np.array([r[2] for r in rows], dtype=float) * u.arcsec
    y = np.array([r[3] for r in rows], dtype=float) * u.arcsec
    table = QTable(meta={"source": name, "bad_rows": report.rows})
    table["label_id"] = np.array([r[0] for r in rows], dtype=str)
    table["start_time"] = times
    frame = Helioprojective(observer=get_earth(times) if rows else "earth", obstime=times)
    table["base"] = SkyCoord(x, y, frame=frame)
    table["group"] = np.array([f"nonjet({r[2]:.0f},{r[3]:.0f})" for r in rows], dtype=str)
    report.warn(name, len(records), len(records) - len(rows), stacklevel=2)
    return table

