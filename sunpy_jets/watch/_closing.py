"""
When has an event ended? Splitting the events of the windows kept so far into final and open ones.

The watcher computes events with the batch rules (`~sunpy_jets.events.events_from_windows`) over the
windows it keeps. Events are grouped into *clusters* of events whose intervals overlap or lie at most
``merge_gap`` apart. A window still to come starts after the latest window classified (``t_last``);
it can join an event only through a run that reaches within ``merge_gap`` of it, or a run still too
short to count (at most ``min_windows`` windows back). So a cluster whose end lies more than
``merge_gap + min_windows × stride × cadence`` before ``t_last`` can change no more: its events are
final, and equal to those of a batch scan of the whole observation. Every window that starts before
the earliest open event, and that far before ``t_last``, is then no longer needed.
"""

import numpy as np

import astropy.units as u

__all__ = ["split_final", "event_id"]


def split_final(events, t_last, t_ref, *, margin_s, merge_gap_s):
    """
    Indices of the final events, and the time (s since ``t_ref``) before which windows may be dropped.

    Parameters
    ----------
    events : `~sunpy_jets.events.JetEvents`
        Events of the windows kept.
    t_last : float
        Start of the latest classified window, seconds since ``t_ref``.
    t_ref : `~astropy.time.Time`
        Time origin.
    margin_s, merge_gap_s : float
        The finality margin and the merging gap, in seconds.

    Returns
    -------
    final : list of int
    cut : float
    """
    cut = t_last - margin_s
    if not len(events):
        return [], cut - 1.0
    start = (events["event_starttime"] - t_ref).to_value(u.s)
    end = (events["event_endtime"] - t_ref).to_value(u.s)
    order = np.argsort(start, kind="stable")
    clusters, current, current_end = [], [], -np.inf
    for index in order:
        if current and start[index] > current_end + merge_gap_s:
            clusters.append((current, current_end))
            current, current_end = [], -np.inf
        current.append(int(index))
        current_end = max(current_end, end[index])
    clusters.append((current, current_end))
    final = []
    for members, cluster_end in clusters:
        if cluster_end + margin_s < t_last:
            final.extend(members)
        else:
            cut = min(cut, float(min(start[members])))
    # Window times are seconds from the same origin, but computed by another route: keep a second to spare.
    return sorted(final, key=lambda i: (start[i], i)), cut - 1.0


def event_id(row):
    """
    A name for an event that does not depend on when or how often it was computed: its start and box corner.

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.time import Time
    >>> from sunpy_jets.events import JetEvents
    >>> from sunpy_jets.watch._closing import event_id
    >>> events = JetEvents.from_columns(start=Time(["2011-01-20T09:00:12"]), end=Time(["2011-01-20T09:12"]),
    ...     probability=[0.9], tx=[-245] * u.arcsec, ty=[-1003] * u.arcsec, width=300 * u.arcsec)
    >>> event_id(events[0])
    'CJ_20110120T090012_x-395_y-1153'
    """
    stamp = row["event_starttime"].utc.strftime("%Y%m%dT%H%M%S")
    x = int(np.round(row["boundbox_c1ll"].to_value(u.arcsec)))
    y = int(np.round(row["boundbox_c2ll"].to_value(u.arcsec)))
    return f"CJ_{stamp}_x{x:+d}_y{y:+d}"
