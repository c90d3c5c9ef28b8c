"""
From per-window jet probabilities to jet events.

`events_from_windows` applies the rules (hysteresis in time, merging across neighbouring tiles) that turn
the window probabilities of a scan into `~sunpy_jets.events.JetEvents`; its docstring states them exactly.
"""

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.table import QTable, Table
from astropy.time import Time

from sunpy.coordinates import Helioprojective

from ._columns import as_arcsec, as_time, tx_ty
from .table import JetEvents
from ..exceptions import InputError, InputTypeError

__all__ = ["events_from_windows"]


def events_from_windows(
    windows,
    *,
    threshold,
    low_threshold=None,
    min_windows=1,
    merge_gap=0 * u.s,
    tile_center=None,
    tile_width=None,
    tile_height=None,
    meta=None,
):
    """
    Turn per-window jet probabilities into jet events.

    The rules, applied in order:

    1. **Tiles.** Rows with the same ``tile_center``, ``tile_width`` and ``tile_height`` form one tile.
    2. **Runs in time (hysteresis).** In each tile, windows are taken in order of start time. A run starts at a
       window with ``probability >= threshold`` and goes on while the next window has
       ``probability >= low_threshold`` and starts no later than ``merge_gap`` after the run's end; runs of
       fewer than ``min_windows`` windows are dropped. Runs of a tile less than ``merge_gap`` apart (or
       overlapping, as runs of overlapping windows do) are joined.
    3. **Merge in space.** Runs of tiles whose boxes overlap or touch, and whose intervals overlap (or are at
       most ``merge_gap`` apart), belong to the same event; events whose bounding boxes overlap or touch and
       whose intervals overlap are joined too, until none are left. So events at the same place never overlap
       in time.
    4. **Event values.** Start: the start of its earliest window (one above ``threshold``); end: the end of
       its last window; peak time and probability: the centre and probability of its most probable window
       (the earliest if tied); bounding box: the union of its tiles' boxes; position: the probability-weighted
       mean, over its windows above ``threshold``, of their ``centroid`` (when the column exists and is
       finite) or else their tile centre, clipped to the box. With a ``change`` column (the brightness
       change each centroid weighs, as `~sunpy_jets.scanning.scan` gives), each window's weight is its
       probability times its change, so that a tile that fires beside the jet, where little changes, does
       not pull the position to itself.

    With ``min_windows=1`` every window above ``threshold`` lies inside an event (in time and space), and
    every event holds at least one window above ``threshold``.

    Parameters
    ----------
    windows : `~astropy.table.Table`
        One row per (window, tile): ``start_time`` and ``end_time`` (`~astropy.time.Time`), ``probability``
        (`float` in [0, 1]), and optionally ``tile_center`` (helioprojective `~astropy.coordinates.SkyCoord`),
        ``tile_width``/``tile_height`` (angle `~astropy.units.Quantity`), ``centroid`` (SkyCoord) and
        ``change`` (non-negative float).
    threshold : `float`
        Probability (in (0, 1]) a window must reach to start an event.
    low_threshold : `float`, optional
        Probability that keeps an event going; ``0.6 * threshold`` by default.
    min_windows : `int`, optional
        Fewest windows in a run.
    merge_gap : `~astropy.units.Quantity`, optional
        Largest gap in time bridged between runs.
    tile_center : `~astropy.coordinates.SkyCoord`, optional
        The position of every row, for a table without a ``tile_center`` column (a single cutout).
    tile_width, tile_height : `~astropy.units.Quantity`, optional
        Tile size, for a table without those columns (``tile_height`` defaults to ``tile_width``).
    meta : `dict`, optional
        Provenance for the events (model name/version/sha256, instrument...); the thresholds are added.

    Returns
    -------
    `JetEvents`

    Raises
    ------
    `~sunpy_jets.exceptions.InputError`
        Missing columns, probabilities outside [0, 1] or NaN, windows ending before they start,
        thresholds out of range, no position given.
    `~sunpy_jets.exceptions.InputTypeError`
        Columns or arguments of the wrong type.

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.coordinates import SkyCoord
    >>> from astropy.table import QTable
    >>> from astropy.time import Time
    >>> from sunpy.coordinates import Helioprojective
    >>> from sunpy_jets.events import events_from_windows
    >>> start = Time("2011-01-20T09:00") + [0, 1, 2, 3, 4, 5] * u.min
    >>> windows = QTable({"start_time": start, "end_time": start + 12 * u.min,
    ...                   "probability": [0.1, 0.8, 0.4, 0.6, 0.1, 0.1]})
    >>> events = events_from_windows(windows, threshold=0.5, tile_width=300 * u.arcsec,
    ...                              tile_center=SkyCoord(-245 * u.arcsec, -1003 * u.arcsec, frame=Helioprojective))
    >>> len(events), events[0]["event_starttime"].isot, events[0]["event_endtime"].isot
    (1, '2011-01-20T09:01:00.000000', '2011-01-20T09:15:00.000000')
    """
    if not isinstance(windows, Table):
        raise InputTypeError(f"windows must be an astropy Table, not {type(windows).__name__}")
    threshold, low_threshold, min_windows, gap = _check_options(threshold, low_threshold, min_windows, merge_gap)
    missing = [name for name in ("start_time", "end_time", "probability") if name not in windows.colnames]
    if missing:
        raise InputError(f"windows table lacks the column(s) {', '.join(missing)}")
    meta = {
        **(meta or {}),
        "threshold": threshold,
        "low_threshold": low_threshold,
        "min_windows": min_windows,
        "merge_gap": merge_gap.to(u.s),
        "frm_daterun": Time.now().utc,
    }
    if len(windows) == 0:
        return JetEvents(meta=meta)
    rows = _Windows.from_table(windows, tile_center, tile_width, tile_height)
    runs = _runs_in_time(rows, threshold, low_threshold, min_windows, gap)
    if not runs:
        return JetEvents(meta=meta)
    groups = _merge_in_space(rows, runs, gap)
    return JetEvents(_summary(rows, groups, threshold), meta=meta)


def _check_options(threshold, low_threshold, min_windows, merge_gap):
    """The checked options: ``(threshold, low_threshold, min_windows, merge_gap in s)``."""
    threshold = _probability_argument(threshold, "threshold")
    if threshold == 0:
        raise InputError("threshold must be above 0")
    low_threshold = 0.6 * threshold if low_threshold is None else _probability_argument(low_threshold, "low_threshold")
    if low_threshold > threshold:
        raise InputError(f"low_threshold={low_threshold} must not exceed threshold={threshold}")
    if isinstance(min_windows, bool) or not isinstance(min_windows, (int, np.integer)) or min_windows < 1:
        raise InputError(f"min_windows must be a positive integer, not {min_windows!r}")
    if not isinstance(merge_gap, u.Quantity) or merge_gap.unit.physical_type != "time":
        raise InputTypeError(f"merge_gap must be a time Quantity (e.g. 2 * u.min), not {merge_gap!r}")
    gap = float(merge_gap.to_value(u.s))
    if not np.isfinite(gap) or gap < 0:
        raise InputError(f"merge_gap must be finite and not negative, not {merge_gap}")
    return threshold, low_threshold, int(min_windows), gap


@dataclass
class _Windows:
    """The windows as arrays: times (s after the first start), probability, tile, position and weight."""

    starts: Time
    ends: Time
    s: np.ndarray
    e: np.ndarray
    prob: np.ndarray
    cx: np.ndarray
    cy: np.ndarray
    w: np.ndarray
    h: np.ndarray
    px: np.ndarray
    py: np.ndarray
    weight: np.ndarray

    @classmethod
    def from_table(cls, windows, tile_center, tile_width, tile_height):
        starts = as_time(windows["start_time"], "start_time")
        ends = as_time(windows["end_time"], "end_time")
        try:
            prob = np.asarray(u.Quantity(windows["probability"], u.dimensionless_unscaled).value, dtype=float)
        except (TypeError, ValueError, u.UnitsError) as exc:
            raise InputTypeError(f"column 'probability' must hold plain numbers: {exc}") from exc
        if np.any(~np.isfinite(prob)) or np.any((prob < 0) | (prob > 1)):
            raise InputError("column 'probability' must be finite and between 0 and 1")
        t0 = starts.min()
        s = (starts - t0).to_value(u.s)
        e = (ends - t0).to_value(u.s)
        if np.any(e < s):
            raise InputError(f"window(s) {np.flatnonzero(e < s)[:10].tolist()} end before they start")
        cx, cy, w, h = _tile_geometry(windows, len(windows), tile_center, tile_width, tile_height)
        px, py = _centroids(windows, cx, cy)
        return cls(starts, ends, s, e, prob, cx, cy, w, h, px, py, prob * _change(windows))

    def tiles(self):
        """The tile index of every window (same centre and size, to a micro-arcsecond)."""
        keys = np.round(np.stack([self.cx, self.cy, self.w, self.h], axis=1), 6)
        return np.unique(keys, axis=0, return_inverse=True)[1].ravel()

    def spans(self, groups):
        """Per group of window indices: ``(t_lo, t_hi, x_lo, x_hi, y_lo, y_hi)`` arrays."""
        def extreme(values, reduce):
            return np.array([reduce(values[g]) for g in groups])

        return (extreme(self.s, np.min), extreme(self.e, np.max),
                extreme(self.cx - self.w / 2, np.min), extreme(self.cx + self.w / 2, np.max),
                extreme(self.cy - self.h / 2, np.min), extreme(self.cy + self.h / 2, np.max))


def _centroids(windows, cx, cy):
    """Each window's position: its finite ``centroid`` where the column has one, else its tile centre."""
    px, py = cx.copy(), cy.copy()
    if "centroid" in windows.colnames:
        qx, qy = tx_ty(windows["centroid"], "centroid")
        qx, qy = qx.to_value(u.arcsec), qy.to_value(u.arcsec)
        good = np.isfinite(qx) & np.isfinite(qy)
        px[good], py[good] = qx[good], qy[good]
    return px, py


def _change(windows):
    """The ``change`` column (1 without it), checked."""
    if "change" not in windows.colnames:
        return np.ones(len(windows))
    change = np.asarray(u.Quantity(windows["change"], u.dimensionless_unscaled).value, dtype=float)
    if np.any(~np.isfinite(change)) or np.any(change < 0):
        raise InputError("column 'change' must be finite and non-negative")
    return change


def _runs_in_time(rows, threshold, low_threshold, min_windows, gap):
    """Rule 2: the runs (lists of window indices) of every tile, hysteresis then joined across gaps."""
    tile = rows.tiles()
    runs = []
    for tile_id in np.unique(tile):
        members = np.flatnonzero(tile == tile_id)
        members = members[np.lexsort((rows.e[members], rows.s[members]))]
        tile_runs = [run for run in _hysteresis(rows, members, threshold, low_threshold, gap)
                     if len(run) >= min_windows]
        merged = []
        for run in tile_runs:
            if merged and rows.s[run].min() <= rows.e[merged[-1]].max() + gap:
                merged[-1] = merged[-1] + run
            else:
                merged.append(run)
        runs.extend(merged)
    return runs


def _hysteresis(rows, members, threshold, low_threshold, gap):
    """Runs of one tile's windows (in time order): start at ``threshold``, go on above ``low_threshold``."""
    runs, current, run_end = [], None, -np.inf
    for index in members:
        if current is not None and (rows.prob[index] < low_threshold or rows.s[index] > run_end + gap):
            runs.append(current)
            current = None
        if current is None:
            if rows.prob[index] >= threshold:
                current, run_end = [index], rows.e[index]
        else:
            current.append(index)
            run_end = max(run_end, rows.e[index])
    if current is not None:
        runs.append(current)
    return runs


def _merge_in_space(rows, runs, gap):
    """Rule 3: runs whose tiles touch join; then events whose boxes touch and intervals overlap, to a fixed point."""
    eps = 1e-6
    t_lo, t_hi, x_lo, x_hi, y_lo, y_hi = rows.spans(runs)
    linked = _overlaps(t_lo, t_hi, gap) & _overlaps(x_lo, x_hi, eps) & _overlaps(y_lo, y_hi, eps)
    groups = _join(runs, linked)
    while True:
        t_lo, t_hi, x_lo, x_hi, y_lo, y_hi = rows.spans(groups)
        linked = _overlaps(t_lo, t_hi, 0.0) & _overlaps(x_lo, x_hi, eps) & _overlaps(y_lo, y_hi, eps)
        joined = _join(groups, linked)
        if len(joined) == len(groups):
            return groups
        groups = joined


def _join(groups, linked):
    """The groups joined along the connected components of the ``linked`` matrix."""
    count, labels = connected_components(csr_matrix(linked), directed=False)
    return [sum((groups[i] for i in np.flatnonzero(labels == label)), []) for label in range(count)]


def _summary(rows, groups, threshold):
    """Rule 4: the `JetEvents` columns of each group of windows."""
    _, _, x_lo, x_hi, y_lo, y_hi = rows.spans(groups)
    first, last, peak, pos_x, pos_y = [], [], [], [], []
    for group in groups:
        group = np.asarray(group)
        first.append(group[np.argmin(rows.s[group])])
        last.append(group[np.argmax(rows.e[group])])
        peak.append(group[np.lexsort((rows.s[group], -rows.prob[group]))[0]])
        above = group[rows.prob[group] >= threshold]
        # Windows where nothing changed fall back to their probability alone.
        weights = rows.weight[above] if rows.weight[above].sum() > 0 else rows.prob[above]
        pos_x.append(np.average(rows.px[above], weights=weights))
        pos_y.append(np.average(rows.py[above], weights=weights))
    first, last, peak = np.array(first), np.array(last), np.array(peak)
    starts, ends = rows.starts, rows.ends
    return QTable(
        {
            "event_starttime": starts[first],
            "event_endtime": ends[last],
            "event_peaktime": starts[peak] + (ends[peak] - starts[peak]) / 2,
            "event_probability": rows.prob[peak],
            "event_coord": SkyCoord(np.clip(pos_x, x_lo, x_hi) * u.arcsec, np.clip(pos_y, y_lo, y_hi) * u.arcsec,
                                    frame=Helioprojective),
            "boundbox_c1ll": x_lo * u.arcsec,
            "boundbox_c2ll": y_lo * u.arcsec,
            "boundbox_c1ur": x_hi * u.arcsec,
            "boundbox_c2ur": y_hi * u.arcsec,
        }
    )


def _overlaps(low, high, tolerance):
    """Matrix of interval pairs that overlap or are at most ``tolerance`` apart."""
    return (low[:, None] <= high[None, :] + tolerance) & (low[None, :] <= high[:, None] + tolerance)


def _probability_argument(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputTypeError(f"{name} must be a number between 0 and 1, not {value!r}")
    value = float(value)
    if not 0 <= value <= 1:
        raise InputError(f"{name} must be between 0 and 1, not {value}")
    return value


def _tile_geometry(windows, n, tile_center, tile_width, tile_height):
    """Tile centres and sizes (arcsec float arrays) from the table's columns or the keyword fallbacks."""
    if "tile_center" in windows.colnames:
        tx, ty = tx_ty(windows["tile_center"], "tile_center")
    elif tile_center is not None:
        tx, ty = tx_ty(tile_center, "tile_center")
    else:
        raise InputError("give the windows' position: a 'tile_center' column or the tile_center= argument")
    if "tile_width" in windows.colnames:
        width = as_arcsec(windows["tile_width"], "tile_width")
    elif tile_width is not None:
        width = as_arcsec(tile_width, "tile_width")
    else:
        raise InputError("give the tiles' size: a 'tile_width' column or the tile_width= argument")
    if "tile_height" in windows.colnames:
        height = as_arcsec(windows["tile_height"], "tile_height")
    elif tile_height is not None:
        height = as_arcsec(tile_height, "tile_height")
    else:
        height = width
    arrays = [np.broadcast_to(np.asarray(q.to_value(u.arcsec), dtype=float), (n,)).copy()
              for q in (tx, ty, width, height)]
    if any(np.any(~np.isfinite(a)) for a in arrays):
        raise InputError("tile centres and sizes must be finite")
    if np.any(arrays[2] <= 0) or np.any(arrays[3] <= 0):
        raise InputError("tile_width and tile_height must be positive")
    return arrays
