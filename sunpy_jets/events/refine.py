"""
One event per jet: the coarse events of a scan, localised and measured inside their windows.

`localize_events` takes the events `~sunpy_jets.events.events_from_windows` made (runs of windows above the
threshold, merged across tiles: a box and an interval that may hold several jets, or one jet timed by the
windows' edges) and the frames, and replaces each by one event per jet that
`~sunpy_jets.events.segment_jets` finds in its box and interval, timed by the jet's own frames and
carrying its measured properties (`jets_table`). A coarse event in which no jet-like brightening is found is
kept as it was, with its properties masked (``localized`` is `False`).
"""

import numpy as np

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.table import QTable, vstack
from astropy.time import Time

from sunpy.coordinates import Helioprojective

from ..exceptions import InputError, InputTypeError
from ._columns import PROPERTY_COLUMNS, spine_text
from ._cube import CubeBuilder
from ._sky import sky_distance
from .localization import segment_jets
from .table import JetEvents

__all__ = ["localize_events", "jets_table", "single_window_table"]

#: Margin added around a coarse event's box (arcsec) and interval (s) before segmenting.
SPACE_MARGIN = 30.0
TIME_MARGIN = 480.0
#: Longest stretch of a coarse event segmented at once (s), and the overlap of consecutive stretches: a coarse
#: event of a whole day (a flaring region flagged for hours) is localised piece by piece, so that the frames held
#: do not grow with its length. A jet belongs to the piece its onset falls in, less half the overlap on each side.
PIECE = 5400.0
PIECE_OVERLAP = 1800.0


def single_window_table(maps, probability, *, center=None, width=None):
    """
    The scan table of a sequence shorter than a window: one row, the whole sequence, its probability.

    Parameters
    ----------
    maps : `list` of `~sunpy.map.GenericMap`
        The frames.
    probability : `float`
        The classifier's probability for the whole sequence.
    center : `~astropy.coordinates.SkyCoord`, optional
        The cutout's centre (the first map's centre by default).
    width : `~astropy.units.Quantity`, optional
        The cutout's side (the first map's field by default).

    Returns
    -------
    `~astropy.table.QTable`
        ``start_time``, ``end_time``, ``probability``; ``meta`` with ``center``, ``extent``, ``observatory``,
        ``instrument`` and ``wavelength``, as ``scan`` gives them.
    """
    first = maps[0]
    if center is None:
        center = first.center
    if width is None:
        extent = u.Quantity([first.dimensions.x * first.scale.axis1, first.dimensions.y * first.scale.axis2])
        extent = abs(extent.to(u.arcsec))
    else:
        extent = u.Quantity([width, width]).to(u.arcsec)
    table = QTable({"start_time": Time([first.date]), "end_time": Time([maps[-1].date]),
                    "probability": [float(probability)]})
    table.meta.update({"center": SkyCoord(center.Tx, center.Ty, frame=Helioprojective), "extent": extent,
                       "observatory": first.observatory, "instrument": first.instrument,
                       "wavelength": first.wavelength})
    return table


def jets_table(jets, probability):
    """
    The `JetEvents` columns of measured jets (`~sunpy_jets.events.JetMeasurement`).

    Parameters
    ----------
    jets : `list` of `~sunpy_jets.events.JetMeasurement`
    probability : array-like of `float`
        Each jet's probability (that of the windows that flagged it).

    Returns
    -------
    `~astropy.table.QTable`
        The core columns (times, probability, base as ``event_coord``, box around base and spire, base
        uncertainty as ``event_c1error``/``event_c2error``), the property columns (see
        `~sunpy_jets.events.JetEvents`), the spine as ``skel_chaincode`` and ``localized``.
    """
    if not jets:
        raise InputError("no jets to tabulate")
    k = np.array([jet.km_per_arcsec for jet in jets]) / 1e3  # Mm per arcsec
    half = np.array([max(jet.width / 2, 2.0) for jet in jets])
    columns = {
        "event_starttime": Time([jet.start_time for jet in jets]),
        "event_endtime": Time([jet.end_time for jet in jets]),
        "event_peaktime": Time([jet.peak_time for jet in jets]),
        "event_probability": np.asarray(probability, dtype=float),
        "event_coord": SkyCoord([jet.base.Tx for jet in jets], [jet.base.Ty for jet in jets], frame=Helioprojective),
        "boundbox_c1ll": np.array([min(jet.bbox[0], jet.spine[:, 0].min()) for jet in jets]) * u.arcsec,
        "boundbox_c2ll": np.array([min(jet.bbox[2], jet.spine[:, 1].min()) for jet in jets]) * u.arcsec,
        "boundbox_c1ur": np.array([max(jet.bbox[1], jet.spine[:, 0].max()) for jet in jets]) * u.arcsec,
        "boundbox_c2ur": np.array([max(jet.bbox[3], jet.spine[:, 1].max()) for jet in jets]) * u.arcsec,
        "event_c1error": np.array([jet.base_error for jet in jets]) * u.arcsec,
        "event_c2error": np.array([jet.base_error for jet in jets]) * u.arcsec,
    }
    columns["boundbox_c1ll"] = np.minimum(columns["boundbox_c1ll"], columns["boundbox_c1ur"] - 2 * half * u.arcsec)
    columns["boundbox_c2ll"] = np.minimum(columns["boundbox_c2ll"], columns["boundbox_c2ur"] - 2 * half * u.arcsec)
    values = {
        "outflow_length": [jet.height for jet in jets] * k,
        "outflow_width": [jet.width for jet in jets] * k,
        "outflow_speed": [jet.speed for jet in jets],
        "outflow_openingangle": [jet.opening_angle for jet in jets],
        "outflow_length_error": [jet.height_error for jet in jets] * k,
        "outflow_width_error": [jet.width_error for jet in jets] * k,
        "outflow_speed_error": [jet.speed_error for jet in jets],
        "outflow_openingangle_error": [jet.opening_angle_error for jet in jets],
        "jet_position_angle": [jet.position_angle for jet in jets],
        "jet_duration": [(jet.end_time - jet.start_time).to_value(u.min) for jet in jets],
    }
    for name, (unit, _, _) in PROPERTY_COLUMNS.items():
        columns[name] = np.asarray(values[name], dtype=float) * unit
    columns["skel_chaincode"] = [spine_text(jet.spine[:, 0], jet.spine[:, 1]) for jet in jets]
    columns["localized"] = np.ones(len(jets), dtype=bool)
    return QTable(columns)


def _unlocalized(events):
    """A coarse events table with the property columns present and NaN."""
    table = QTable(events.table, copy=True)
    coord = table["event_coord"]
    table["event_coord"] = SkyCoord(coord.Tx, coord.Ty, frame=Helioprojective)
    for name, (unit, _, _) in PROPERTY_COLUMNS.items():
        table[name] = np.full(len(table), np.nan) * unit
    table["skel_chaincode"] = [""] * len(table)
    table["localized"] = np.zeros(len(table), dtype=bool)
    return table


def _pieces(events, margin_t):
    """
    ``(row, start, end, core start, core end)`` (MJD) of the stretches each coarse event is segmented in: its
    interval with the time margin, cut into `PIECE`-long stretches overlapping by `PIECE_OVERLAP` (one for
    most events); a jet is kept from the stretch whose core holds its onset.
    """
    day = 86400.0
    step = (PIECE - PIECE_OVERLAP) / day
    out = []
    for i, row in enumerate(events.table):
        start = row["event_starttime"].mjd - margin_t / day
        end = row["event_endtime"].mjd + margin_t / day
        k = 0
        while True:
            a = start + k * step
            b = min(a + PIECE / day, end)
            last = b >= end
            core_a = -np.inf if k == 0 else a + PIECE_OVERLAP / 2 / day
            core_b = np.inf if last else b - PIECE_OVERLAP / 2 / day
            out.append((i, a, b, core_a, core_b))
            if last:
                break
            k += 1
    return out


def _segment_pieces(maps, events, pieces, margin, options):
    """
    The jets of each coarse event, from its pieces (`_pieces`) in one pass over the frames: each frame is cut to
    the boxes (with the margin) of the pieces it falls in, and a piece is segmented, and its frames let go, as
    soon as the frames have passed its end.
    """
    starts = np.array([piece[1] for piece in pieces])
    ends = np.array([piece[2] for piece in pieces])
    builders, done = [None] * len(pieces), np.zeros(len(pieces), bool)
    per_row = [[] for _ in range(len(events))]

    def finish(k):
        index, _, _, core_a, core_b = pieces[k]
        builder, builders[k], done[k] = builders[k], None, True
        if not isinstance(builder, CubeBuilder):  # no frame in the piece, or one that failed (kept as the error)
            return
        try:
            cube = builder.cube()  # refuses fewer than three frames
        except (InputError, ValueError, IndexError):
            return
        if min(cube.data.shape[1:]) >= 8:
            per_row[index] += [jet for jet in segment_jets(cube, **options) if core_a <= jet.start_time.mjd < core_b]

    for m in maps:
        t = m.date.mjd
        for k in np.flatnonzero(~done & (ends < t)):
            finish(k)
        for k in np.flatnonzero(~done & (starts <= t) & (ends >= t)):
            if isinstance(builders[k], Exception):
                continue
            if builders[k] is None:
                row, frame = events.table[pieces[k][0]], m.coordinate_frame
                bottom = SkyCoord(row["boundbox_c1ll"] - margin * u.arcsec, row["boundbox_c2ll"] - margin * u.arcsec,
                                  frame=frame)
                top = SkyCoord(row["boundbox_c1ur"] + margin * u.arcsec, row["boundbox_c2ur"] + margin * u.arcsec,
                               frame=frame)
                builders[k] = CubeBuilder(bottom, top)
            try:
                builders[k].add(m)
            except (InputError, ValueError, IndexError) as error:
                builders[k] = error
    for k in np.flatnonzero(~done):
        finish(k)
    return per_row


def _window_probability(windows, jet, extent):
    """Highest probability of the windows whose tile holds the jet's base and whose interval overlaps it."""
    start, end = windows["start_time"], windows["end_time"]
    near = (start <= jet.end_time) & (end >= jet.start_time)
    if "tile_center" in windows.colnames:
        centre = windows["tile_center"]
        half_w = u.Quantity(windows["tile_width"], u.arcsec) / 2
        half_h = u.Quantity(windows["tile_height"], u.arcsec) / 2 if "tile_height" in windows.colnames else half_w
        near &= (abs(centre.Tx - jet.base.Tx) <= half_w) & (abs(centre.Ty - jet.base.Ty) <= half_h)
    elif extent is None:
        return None
    if not np.any(near):
        return 0.0
    return float(np.max(np.asarray(u.Quantity(windows["probability"]).value)[near]))


def localize_events(events, maps, *, windows=None, margin=SPACE_MARGIN * u.arcsec, time_margin=TIME_MARGIN * u.s,
                    **options):
    """
    Replace coarse events by one event per jet found in their box and interval, with its properties.

    Parameters
    ----------
    events : `~sunpy_jets.events.JetEvents`
        Coarse events (``events_from_windows``).
    maps : iterable of `~sunpy.map.GenericMap`
        The observation's frames in time order (read once; frames outside every event are skipped). Only
        each event's cutouts are kept, and an event longer than `PIECE` (90 minutes, with the margins) is
        segmented in overlapping pieces, so that memory does not grow with the observation's length.
    windows : `~astropy.table.Table`, optional
        The scan the events came from. With it, a jet is kept only where a window of a tile holding its base
        and overlapping its life reaches the events' ``low_threshold`` (``meta``), and its probability is
        the highest such window's: the classifier decides which brightenings are jets. Without it, every
        jet-like brightening in a coarse event is kept, with the coarse event's probability.
    margin : `~astropy.units.Quantity`
        Added around each event's box.
    time_margin : `~astropy.units.Quantity`
        Added before and after each event's interval (a jet starts before the windows that see it end).
    **options
        Passed to `~sunpy_jets.events.segment_jets` (``low``, ``high``, ``min_frames``...).

    Returns
    -------
    `~sunpy_jets.events.JetEvents`
        One row per jet, ``localized`` `True`; coarse events without a jet kept with ``localized`` `False`.
        Jets whose base lies outside the coarse box, or that start after the coarse event ends, are left
        out (another event holds them); a jet found from two coarse events is kept once.

    Examples
    --------
    >>> import numpy as np
    >>> import astropy.units as u
    >>> from astropy.time import Time
    >>> from sunpy_jets.events import JetEvents, localize_events
    >>> from sunpy_jets.synthetic import JetEvent, JetParameters, make_observation
    >>> p = JetParameters(speed=150 * u.km / u.s, width=6 * u.Mm, height=60 * u.Mm,
    ...                   duration=8 * u.min, position_angle=0 * u.deg)
    >>> options = dict(duration=24 * u.min, n_distractors=0, shape=(160, 160), scale=1.2 * u.arcsec / u.pix,
    ...                bad_frame_rate=0, seed=2)
    >>> empty = make_observation(jets=[], **options)
    >>> jet = JetEvent(p, empty[0].center, empty.times[3])
    >>> obs = make_observation(jets=[jet], lazy=False, **options)
    >>> center = obs.maps[0].center
    >>> coarse = JetEvents.from_columns(start=obs.maps[0].date.reshape(1), end=obs.maps[-1].date.reshape(1),
    ...     probability=[0.9], tx=center.Tx.reshape(1), ty=center.Ty.reshape(1), width=190 * u.arcsec)
    >>> events = localize_events(coarse, obs.maps)
    >>> first = events[0]
    >>> offset = np.hypot(first["event_coord"].Tx - jet.base.Tx, first["event_coord"].Ty - jet.base.Ty)
    >>> bool(first["localized"]), bool(offset < 10 * u.arcsec)
    (True, True)
    >>> first["outflow_speed"].round(-1), first["outflow_length"].unit
    (<Quantity 150. km / s>, Unit("Mm"))
    """
    if not isinstance(events, JetEvents):
        raise InputTypeError(f"events must be JetEvents, not {type(events).__name__}")
    if len(events) == 0:
        return events
    margin = float(u.Quantity(margin, u.arcsec).value)
    margin_t = float(u.Quantity(time_margin, u.s).value)
    pieces = _pieces(events, margin_t)
    per_row = _segment_pieces(maps, events, pieces, margin, options)
    rows, kept = [], []
    for index, (row, jets) in enumerate(zip(events.table, per_row)):
        x0, x1 = row["boundbox_c1ll"].to_value(u.arcsec), row["boundbox_c1ur"].to_value(u.arcsec)
        y0, y1 = row["boundbox_c2ll"].to_value(u.arcsec), row["boundbox_c2ur"].to_value(u.arcsec)
        jets = [jet for jet in jets if x0 <= jet.base.Tx.to_value(u.arcsec) <= x1
                and y0 <= jet.base.Ty.to_value(u.arcsec) <= y1 and jet.start_time <= row["event_endtime"]
                and jet.end_time >= row["event_starttime"]]
        scored = []
        for jet in jets:
            p = None if windows is None else _window_probability(windows, jet, windows.meta.get("extent"))
            if p is None:
                p = float(row["event_probability"])
            elif p < events.meta.get("low_threshold", 0.0):
                continue
            scored.append((jet, p))
        jets = [jet for jet, _ in scored]
        for jet, p in scored:
            duplicate = any(abs((jet.start_time - other.start_time).to_value(u.s)) < 60
                            and sky_distance(jet.base, other.base) < max(jet.width, 10)
                            for other in kept)
            if not duplicate:
                kept.append(jet)
                rows.append(p)
        if not jets:
            rows.append(index)  # an index marks a coarse event kept as it was
    found = [r for r in rows if isinstance(r, float)]
    coarse = [r for r in rows if isinstance(r, int)]
    tables = []
    if kept:
        tables.append(jets_table(kept, found))
    if coarse:
        tables.append(_unlocalized(events[np.array(coarse)]))
    table = vstack(tables, metadata_conflicts="silent") if len(tables) > 1 else tables[0]
    return JetEvents(table, meta={**events.meta, "localization": "running-percentile excess segmentation"})
