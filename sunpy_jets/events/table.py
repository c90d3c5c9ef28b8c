"""
Coronal-jet events: a `~astropy.table.QTable`-backed collection with HEK column names, and their export to
(and import from) the HEK. The rules that turn per-window jet probabilities into events are in
`sunpy_jets.events`.

Columns of `JetEvents.table` (HEK attribute names):

=====================  =====================================================================
``event_starttime``    `~astropy.time.Time`, start of the event
``event_endtime``      `~astropy.time.Time`, end of the event
``event_peaktime``     `~astropy.time.Time`, time of the most probable window's centre
``event_probability``  `float` in [0, 1] (masked for human annotations without one)
``event_coord``        helioprojective `~astropy.coordinates.SkyCoord`, the event's position
``event_c1error``      `~astropy.units.Quantity` (arcsec), uncertainty of ``Tx`` (half the box width by default)
``event_c2error``      `~astropy.units.Quantity` (arcsec), uncertainty of ``Ty`` (half the box height by default)
``boundbox_c1ll``      `~astropy.units.Quantity` (arcsec), bounding box, lower-left ``Tx``
``boundbox_c2ll``      `~astropy.units.Quantity` (arcsec), lower-left ``Ty``
``boundbox_c1ur``      `~astropy.units.Quantity` (arcsec), upper-right ``Tx`` (> ``boundbox_c1ll``)
``boundbox_c2ur``      `~astropy.units.Quantity` (arcsec), upper-right ``Ty`` (> ``boundbox_c2ll``)
=====================  =====================================================================

Any other column is a per-event HEK attribute (``frm_name``, ``obs_channelid``, ``SOL_standard``,
``kb_archivid``, ...) and overrides the table-wide value of the same name in `JetEvents.meta`, which holds the
provenance: ``obs_observatory``, ``obs_instrument``, ``obs_channelid``, ``obs_meanwavel`` (Quantity),
``frm_name``, ``frm_versionnumber``, ``frm_daterun``, ``model_name``, ``model_version``, ``model_sha256``,
``threshold``, ``low_threshold``, ``min_windows``, ``merge_gap`` and any other ``frm_*``/``obs_*`` value.

``event_coord`` keeps ``Tx``/``Ty`` exactly as given (the HEK's ``UTC-HPC-TOPO`` convention: as seen by the
observatory) and labels them, as `sunpy.net.hek.HEKTable` does, with an Earth observer at the event start.
"""

import os
import warnings
from pathlib import Path

import numpy as np

from astropy.coordinates import SkyCoord
from astropy.table import QTable, Table

from sunpy.coordinates import Helioprojective

from .._atomic import atomic_write_text
from .._paths import check_output_dir, check_output_file
from ..exceptions import HEKFormatError, InputError, InputTypeError, ProvenanceWarning
from ._columns import as_arcsec, as_time
from ._hek_convert import (
    CORE_COLUMNS,
    REQUIRED_COLUMNS,
    hektable_from_records,
    records_from_table,
    table_from_records,
)
from ._hek_json import column_kind, decode_meta, hek_json_text, read_stored_block
from ._provenance import warn_placeholder_provenance
from ._table_checks import default_meta, empty_table, validated, voevent_paths
from .hek import load_hek_records
from .voevent import read_voevent, write_voevent

__all__ = ["JetEvents"]


class JetEvents(QTable):
    """
    Coronal-jet events: an astropy `~astropy.table.QTable` with HEK column names.

    Like sunpy's `~sunpy.net.hek.HEKTable`, it is a ``QTable`` subclass: ``colnames``, ``to_pandas``,
    ``vstack`` and astropy's unified I/O (``write("events.ecsv")``, ``JetEvents.read("events.ecsv")``, with
    astropy's ``overwrite=False``) work as on any table. The lossless HEK-shaped JSON is the named format
    ``"hek-json"`` (chosen for ``.json`` files); VOEvent XML files and folders are read too.

    See the module documentation for the columns and ``meta`` keys. Rows are sorted by start time.
    Indexing with an integer gives a `~astropy.table.Row`, with a slice or mask another `JetEvents`,
    with a column name the column.

    Parameters
    ----------
    data : `~astropy.table.Table`, optional
        Holds at least ``event_starttime``, ``event_endtime``, ``event_peaktime``, ``event_probability``,
        ``event_coord`` and the four ``boundbox_*`` columns. `None` gives no events.
    meta : `dict`, optional
        Provenance, merged over ``table.meta`` and the defaults (SDO/AIA 304 Å, ``frm_name="sunpy_jets"``).

    Raises
    ------
    `~sunpy_jets.exceptions.InputError`
        A required column is missing, a probability is outside [0, 1], a box has LL >= UR,
        an event ends before it starts or peaks outside its interval.
    `~sunpy_jets.exceptions.InputTypeError`
        A column is of the wrong type (times that are not times, boxes that are not angles).

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.coordinates import SkyCoord
    >>> from astropy.table import QTable
    >>> from astropy.time import Time
    >>> from sunpy.coordinates import Helioprojective
    >>> from sunpy_jets.events import JetEvents
    >>> start = Time(["2011-01-20T09:00:00", "2011-01-20T10:00:00"])
    >>> table = QTable({"event_starttime": start, "event_endtime": start + 12 * u.min,
    ...                 "event_peaktime": start + 6 * u.min, "event_probability": [0.9, 0.7],
    ...                 "event_coord": SkyCoord([-245, 300] * u.arcsec, [-1003, 200] * u.arcsec,
    ...                                         frame=Helioprojective),
    ...                 "boundbox_c1ll": [-395, 150] * u.arcsec, "boundbox_c2ll": [-1153, 50] * u.arcsec,
    ...                 "boundbox_c1ur": [-95, 450] * u.arcsec, "boundbox_c2ur": [-853, 350] * u.arcsec})
    >>> events = JetEvents(table)
    >>> len(events), float(events[0]["event_probability"])
    (2, 0.9)
    """


    def __init__(self, data=None, *args, meta=None, **kwargs):
        if args or kwargs:
            # astropy building a table of this class (slices, copies, column subsets, stacks): no checks
            super().__init__(data, *args, meta=meta, **kwargs)
            return
        if data is None:
            data = empty_table()
        if not isinstance(data, Table):
            raise InputTypeError(f"JetEvents needs an astropy Table, not {type(data).__name__}")
        missing = [name for name in REQUIRED_COLUMNS if name not in data.colnames]
        if missing:
            raise InputError(f"JetEvents table lacks the column(s) {', '.join(missing)}")
        table = QTable(data, copy=True)
        merged = default_meta()
        merged.update(table.meta)
        merged.update(meta or {})
        table.meta = merged
        table = validated(table)
        super().__init__(table, meta=table.meta, copy=False)

    def __setitem__(self, item, value):
        # astropy fills a new table of this class (vstack, join...) column by column: an empty JetEvents
        # gives up its placeholder columns to the first column of another length
        if (len(self) == 0 and isinstance(item, str) and item in self.colnames
                and getattr(value, "shape", ())[:1] not in ((), (0,))):
            self.remove_columns(self.colnames)
        super().__setitem__(item, value)

    @property
    def table(self):
        """The events themselves (kept for code written when `JetEvents` wrapped a ``QTable``)."""
        return self

    def __repr__(self):
        body = "\n".join(self.pformat(max_lines=40, max_width=200, show_dtype=False))
        return f"<JetEvents: {len(self)} event(s)>\n{body}"

    def filter(self, *, min_probability=None, start=None, end=None):
        """
        Events above a probability and/or overlapping a time interval.

        Parameters
        ----------
        min_probability : `float`, optional
            Keep events whose probability is at least this (masked probabilities are kept).
        start, end : `~astropy.time.Time`, optional
            Keep events that overlap ``[start, end]``.

        Returns
        -------
        `JetEvents`

        Examples
        --------
        >>> import astropy.units as u
        >>> from astropy.time import Time
        >>> from sunpy_jets.events import JetEvents
        >>> events = JetEvents.from_columns(start=Time(["2011-01-20T09:00", "2011-01-20T10:00"]),
        ...     end=Time(["2011-01-20T09:12", "2011-01-20T10:12"]), probability=[0.9, 0.6],
        ...     tx=[0, 100] * u.arcsec, ty=[0, 0] * u.arcsec, width=300 * u.arcsec)
        >>> len(events.filter(min_probability=0.8)), len(events.filter(start=Time("2011-01-20T10:05")))
        (1, 1)
        """
        keep = np.ones(len(self), dtype=bool)
        if min_probability is not None:
            prob = self["event_probability"]
            values = np.ma.filled(np.ma.asarray(prob, dtype=float), np.inf)
            keep &= values >= float(min_probability)
        if start is not None:
            keep &= self["event_endtime"] >= as_time(start, "start")
        if end is not None:
            keep &= self["event_starttime"] <= as_time(end, "end")
        return self[keep]

    @classmethod
    def from_columns(cls, *, start, end, probability, tx, ty, width, height=None, peak=None, meta=None):
        """
        Build events from plain arrays: times, probabilities, centres and box sizes.

        Parameters
        ----------
        start, end : `~astropy.time.Time`
            Start and end of each event.
        probability : array-like of `float`
            Probability of each event.
        tx, ty : `~astropy.units.Quantity`
            Helioprojective position of each event (box centres).
        width : `~astropy.units.Quantity`
            Box width (scalar or one per event).
        height : `~astropy.units.Quantity`, optional
            Box height; the width by default.
        peak : `~astropy.time.Time`, optional
            Peak times; the middle of each event by default.
        meta : `dict`, optional
            Provenance (see `JetEvents`).

        Returns
        -------
        `JetEvents`

        Examples
        --------
        >>> import astropy.units as u
        >>> from astropy.time import Time
        >>> from sunpy_jets.events import JetEvents
        >>> events = JetEvents.from_columns(start=Time(["2011-01-20T09:00"]), end=Time(["2011-01-20T09:12"]),
        ...     probability=[0.9], tx=[-245] * u.arcsec, ty=[-1003] * u.arcsec, width=300 * u.arcsec)
        >>> events["boundbox_c1ll"]
        <Quantity [-395.] arcsec>
        """
        start, end = as_time(start, "start").reshape(-1), as_time(end, "end").reshape(-1)
        peak = start + (end - start) / 2 if peak is None else as_time(peak, "peak").reshape(-1)
        tx, ty = np.atleast_1d(as_arcsec(tx, "tx")), np.atleast_1d(as_arcsec(ty, "ty"))
        width = as_arcsec(width, "width")
        height = width if height is None else as_arcsec(height, "height")
        half_w, half_h = width * np.ones(tx.shape) / 2, height * np.ones(tx.shape) / 2
        table = QTable(
            {
                "event_starttime": start,
                "event_endtime": end,
                "event_peaktime": peak,
                "event_probability": np.atleast_1d(np.asarray(probability, dtype=float)),
                "event_coord": SkyCoord(tx, ty, frame=Helioprojective),
                "boundbox_c1ll": tx - half_w,
                "boundbox_c2ll": ty - half_h,
                "boundbox_c1ur": tx + half_w,
                "boundbox_c2ur": ty + half_h,
            }
        )
        return cls(table, meta=meta)

    # --- HEK export ---------------------------------------------------------------------------------------
    def to_hek(
        self,
        *,
        frm_name=None,
        frm_institute=None,
        frm_contact=None,
        frm_identifier=None,
        frm_url=None,
        test=False,
        time_precision=3,
    ):
        """
        One HEK coronal-jet (CJ) record per event, with every attribute the HEK requires.

        Values come, in this order, from the keyword arguments, the event's own columns, `meta`,
        `~sunpy_jets.events.set_hek_provenance` or the ``SUNPY_JETS_FRM_*`` environment variables, and
        placeholders (``frm_institute``/``frm_identifier`` ``"sunpy_jets"``, ``frm_contact`` the project's issue
        tracker, ``frm_url`` the project page); records that would go out with the placeholder institute or
        contact give a `~sunpy_jets.exceptions.ProvenanceWarning`. The archivist's
        ``kb_archivdate``, ``kb_archivist`` and ``kb_archivurl`` are left empty; ``kb_archivid`` is the IVORN
        SolarSoft's ``export_event.pro`` would give (``ivo://helio-informatics.org/CJ_{frm}_{date}_{start}_{n}``)
        unless the event already has one. Wavelengths are written in ångström (the HEK archive itself stores
        cm). ``frm_paramset`` holds the thresholds and the model's name, version and SHA-256.

        Parameters
        ----------
        frm_name, frm_institute, frm_contact, frm_identifier, frm_url : `str`, optional
            The feature-recognition method's name, institute, contact, HEK user name and web page.
        test : `bool`, optional
            Mark the records as a trial (``event_testflag``), so the HEK does not treat them as science.
        time_precision : `int`, optional
            Digits of the seconds' fraction in times.

        Returns
        -------
        `list` of `dict`

        Examples
        --------
        >>> import astropy.units as u
        >>> from astropy.time import Time
        >>> from sunpy_jets.events import JetEvents
        >>> events = JetEvents.from_columns(start=Time(["2011-01-20T09:00"]), end=Time(["2011-01-20T09:12"]),
        ...     probability=[0.9], tx=[-245] * u.arcsec, ty=[-1003] * u.arcsec, width=300 * u.arcsec,
        ...     meta={"threshold": 0.5})
        >>> record = events.to_hek(frm_institute="EPFL", frm_contact="me@example.org")[0]
        >>> record["event_type"], record["event_starttime"], record["boundbox_c2ur"], record["frm_paramset"]
        ('CJ', '2011-01-20T09:00:00.000', -853.0, 'threshold=0.5')
        """
        overrides = {
            "frm_name": frm_name,
            "frm_institute": frm_institute,
            "frm_contact": frm_contact,
            "frm_identifier": frm_identifier,
            "frm_url": frm_url,
        }
        warn_placeholder_provenance(self, overrides)
        return records_from_table(self, overrides, test=test, time_precision=time_precision)

    def to_hektable(self, **kwargs):
        """
        The events as a sunpy `~sunpy.net.hek.HEKTable`, parsed by sunpy's own HEK parser.

        The table has ``Time`` columns for the times, a ``SkyCoord`` column ``event_coord`` and ``Quantity``
        columns for the box and wavelength, exactly like the result of ``Fido.search(..., a.hek.CJ)``, so events
        from sunpy_jets and from the HEK can be stacked and compared, and passed to
        `sunpy.net.hek2vso.translate_results_to_query`.

        Parameters
        ----------
        **kwargs
            Passed to `to_hek`.

        Returns
        -------
        `sunpy.net.hek.HEKTable`

        Examples
        --------
        >>> import astropy.units as u
        >>> from astropy.time import Time
        >>> from sunpy_jets.events import JetEvents
        >>> events = JetEvents.from_columns(start=Time(["2011-01-20T09:00"]), end=Time(["2011-01-20T09:12"]),
        ...     probability=[0.9], tx=[-245] * u.arcsec, ty=[-1003] * u.arcsec, width=300 * u.arcsec)
        >>> hek = events.to_hektable()
        >>> hek["event_coord"][0].Tx, hek["obs_meanwavel"][0]
        (<Longitude -245. arcsec>, <MaskedQuantity 304. Angstrom>)
        """
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ProvenanceWarning)  # a table to compare with, not an export
            records = self.to_hek(**kwargs)
        return hektable_from_records(records)

    def to_voevent(self, directory, **kwargs):
        """
        Write one VOEvent 1.1 XML file per event, as SolarSoft's ``export_event.pro`` does.

        Parameters
        ----------
        directory : path-like
            Folder for the files (created if needed). Names are ``{kb_archivid stem}.xml``.
        **kwargs
            Passed to `to_hek` (``frm_institute``, ``frm_contact``, ``test``...).

        Returns
        -------
        `list` of `~pathlib.Path`

        Examples
        --------
        >>> import tempfile
        >>> import astropy.units as u
        >>> from astropy.time import Time
        >>> from sunpy_jets.events import JetEvents
        >>> from sunpy_jets.events import read_voevent
        >>> events = JetEvents.from_columns(start=Time(["2011-01-20T09:00"]), end=Time(["2011-01-20T09:12"]),
        ...     probability=[0.9], tx=[-245] * u.arcsec, ty=[-1003] * u.arcsec, width=300 * u.arcsec)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     paths = events.to_voevent(folder, frm_institute="EPFL", frm_contact="me@example.org")
        ...     read_voevent(paths[0])["event_probability"]
        0.9
        """
        # a folder that cannot be written fails here, before any file of this export exists, not halfway
        directory = check_output_dir(directory, "the VOEvent folder")
        records = self.to_hek(**kwargs)
        directory.mkdir(parents=True, exist_ok=True)
        return [write_voevent(record, directory) for record in records]

    # --- JSON files -----------------------------------------------------------------------------------------
    def write(self, path, *args, format=None, overwrite=None, **kwargs):
        """
        Save the events: HEK-API-shaped JSON (format ``"hek-json"``, for ``.json`` files), or any astropy format.

        In ``"hek-json"`` the records are those of `to_hek` (times to the microsecond); ``meta`` and the types
        of extra columns go under a ``"sunpy_jets"`` key beside ``"result"``, so `read` restores the events
        exactly; the file is written atomically and replaced by default (``overwrite=True``). Any other
        ``format`` (or file name: ``.ecsv``, ``.fits``, ``.h5``...) goes to astropy's unified I/O,
        `astropy.table.Table.write`, with its ``overwrite=False`` default.

        Parameters
        ----------
        path : path-like
            The file.
        *args, **kwargs
            Passed to astropy's writer.
        format : `str`, optional
            ``"hek-json"`` or an astropy format; chosen from the file name by default.
        overwrite : `bool`, optional
            Replace an existing file.

        Returns
        -------
        `~pathlib.Path`

        Examples
        --------
        >>> import tempfile, os
        >>> import astropy.units as u
        >>> from astropy.time import Time
        >>> from sunpy_jets.events import JetEvents
        >>> events = JetEvents.from_columns(start=Time(["2011-01-20T09:00"]), end=Time(["2011-01-20T09:12"]),
        ...     probability=[0.9], tx=[-245] * u.arcsec, ty=[-1003] * u.arcsec, width=300 * u.arcsec)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = events.write(os.path.join(folder, "events.json"))
        ...     again = JetEvents.read(path)
        ...     ecsv = JetEvents.read(events.write(os.path.join(folder, "events.ecsv")))
        >>> again["event_coord"][0].Ty, ecsv["boundbox_c1ll"][0]
        (<Latitude -1003. arcsec>, <Quantity -395. arcsec>)
        """
        path = check_output_file(path, "path")
        if not _is_hek_json(path, format):
            # positions as bare helioprojective Tx/Ty (the observer, Earth at the start, is restored on reading)
            plain = QTable(self, copy=False)
            plain["event_coord"] = SkyCoord(self["event_coord"].Tx, self["event_coord"].Ty, frame=Helioprojective)
            plain.write(path, *args, format=format, overwrite=bool(overwrite), **kwargs)
            return path
        overwrite = True if overwrite is None else overwrite
        if path.exists() and not overwrite:
            raise InputError(f"{path} exists; pass overwrite=True to replace it")
        extra = {name: column_kind(self[name]) for name in self.colnames if name not in CORE_COLUMNS}
        # saving is not submitting: the placeholder provenance is not warned about here, only by to_hek
        text = hek_json_text(records_from_table(self, {}, test=False, time_precision=6), self.meta, extra)
        return atomic_write_text(path, text)

    @classmethod
    def read(cls, path, *args, format=None, **kwargs):
        """
        Read events: our JSON (``"hek-json"``), any HEK JSON response of CJ events, VOEvent XML files (or a
        folder of them), or any astropy table format (``.ecsv``...) written by `write`.

        Parameters
        ----------
        path : path-like
        *args, **kwargs
            Passed to astropy's reader.
        format : `str`, optional
            ``"hek-json"``, ``"voevent"`` or an astropy format; chosen from the file name by default.

        Returns
        -------
        `JetEvents`

        Raises
        ------
        `~sunpy_jets.exceptions.HEKFormatError`
            If the file is not JSON or a record lacks a field or has a wrong type (the message names
            the field and the record's index).

        Examples
        --------
        >>> import tempfile, os
        >>> from sunpy_jets.events import JetEvents
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = JetEvents().write(os.path.join(folder, "none.json"))
        ...     len(JetEvents.read(path))
        0
        """
        if not isinstance(path, (str, os.PathLike)):
            raise InputTypeError(f"path must be a file or folder path, not {type(path).__name__}")
        path = Path(path)
        voevents = voevent_paths(path)
        if voevents is not None:
            return cls.from_hek(voevents)
        if not _is_hek_json(path, format):
            table = QTable.read(path, *args, format=format, **kwargs)
            return cls(table)
        records = load_hek_records(path)
        stored = read_stored_block(path)
        if stored is None:
            return cls.from_hek(records)
        meta, columns = stored
        try:
            return _from_records(records, meta=decode_meta(meta), columns=columns)
        except (HEKFormatError, InputError, InputTypeError):
            raise
        except (TypeError, ValueError) as exc:  # a unit or time in the 'sunpy_jets' block that does not parse
            raise HEKFormatError(f"{path}: its 'sunpy_jets' block holds an unreadable value: {exc}") from exc

    @classmethod
    def from_hek(cls, source):
        """
        Import HEK coronal-jet records (human annotations or another method's) as `JetEvents`.

        Records are checked and normalised with `~sunpy_jets.events.normalize_hek_record` (swapped box corners,
        wavelengths in cm and non-ISO times are fixed with a `~sunpy_jets.exceptions.HEKFormatWarning`).
        The probability is the record's ``event_probability``, masked when it has none (human annotations);
        the peak time is the middle of the interval when the record gives none. Each record's provenance
        (``frm_name``, ``frm_humanflag``, ``obs_channelid``, ``obs_meanwavel``, ``SOL_standard``,
        ``kb_archivid``...) is kept as columns.

        Parameters
        ----------
        source : path-like, ``UnifiedResponse``, `sunpy.net.hek.HEKTable` or `list` of `dict`
            A whole ``Fido.search(..., a.hek.CJ)`` result or its ``result["hek"]``, a HEK JSON file, VOEvent
            files or records; see `~sunpy_jets.events.load_hek_records`.

        Returns
        -------
        `JetEvents`

        Raises
        ------
        `~sunpy_jets.exceptions.HEKFormatError`
            A record is malformed, or not in helioprojective arcseconds (``UTC-HPC-TOPO``).

        Examples
        --------
        >>> from sunpy_jets.events import JetEvents
        >>> record = {"event_type": "CJ", "event_starttime": "2011-01-20T09:00:09",
        ...           "event_endtime": "2011-01-20T09:59:33", "event_coordsys": "UTC-HPC-TOPO",
        ...           "event_coordunit": "arcsec", "event_coord1": -245.0, "event_coord2": -1003.0,
        ...           "boundbox_c1ll": -335.0, "boundbox_c2ll": -1119.0, "boundbox_c1ur": -155.0,
        ...           "boundbox_c2ur": -887.0, "frm_name": "asainz", "frm_humanflag": "true"}
        >>> events = JetEvents.from_hek([record])
        >>> str(events[0]["frm_name"]), bool(events[0]["frm_humanflag"]), bool(events["event_probability"].mask[0])
        ('asainz', True, True)
        """
        if isinstance(source, (str, os.PathLike)) and voevent_paths(Path(source)) is not None:
            source = voevent_paths(Path(source))
        if isinstance(source, (list, tuple)) and source and all(isinstance(item, (str, os.PathLike)) for item in source):
            source = [read_voevent(item) for item in source]
        records = load_hek_records(source)
        return _from_records(records, meta={}, columns=None)


# --- helpers ------------------------------------------------------------------------------------------------
def _is_hek_json(path, format):
    if format is not None:
        return format == "hek-json"
    return Path(path).suffix.lower() == ".json"


def _from_records(records, *, meta, columns):
    """Records (HEK dicts) → JetEvents. ``columns``: extra column kinds, or None for HEK provenance columns."""
    table = table_from_records(records, columns=columns)
    if table is None:
        return JetEvents(meta=meta)
    try:
        return JetEvents(table, meta=meta)
    except InputError as exc:
        raise HEKFormatError(f"HEK records do not make valid events: {exc}") from exc
