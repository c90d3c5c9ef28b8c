"""
Match detected jet events to reference events (HEK records, Solar Jet Hunter jets) by time and distance.
"""

from typing import NamedTuple

import numpy as np

import astropy.units as u
from astropy.table import QTable

from ..exceptions import InputError, InputTypeError
from ._sky import sky_distance
from .table import JetEvents

__all__ = ["EventMatch", "match_events"]


class EventMatch(NamedTuple):
    """
    The result of `match_events`.

    Attributes
    ----------
    matched : `~astropy.table.QTable`
        One row per pair: ``detected`` and ``reference`` (row indices), ``separation`` (arcsec, between
        the events' positions) and ``time_offset`` (detected start − reference start).
    unmatched_detected, unmatched_reference : `~sunpy_jets.events.JetEvents`
        The events of each side left without a partner.
    """

    matched: QTable
    unmatched_detected: JetEvents
    unmatched_reference: JetEvents


def _as_events(events, name):
    if isinstance(events, JetEvents):
        return events
    try:
        return JetEvents.from_hek(events)
    except InputTypeError as exc:
        raise InputTypeError(f"{name} must be JetEvents, a HEKTable or HEK records: {exc}") from exc


def match_events(detected, reference, *, max_distance=60 * u.arcsec, time_margin=2 * u.min):
    """
    Pair detected events with reference events that overlap them in time and lie close on the Sun.

    Two events can pair when their intervals overlap (each widened by ``time_margin``) and their positions
    (``event_coord``: a jet's base) are at most ``max_distance`` apart. Pairs are taken closest first, each
    event in at most one pair (a one-to-one matching).

    Parameters
    ----------
    detected : `~sunpy_jets.events.JetEvents`
        The events found (``JetClassifier.detect``).
    reference : `~sunpy_jets.events.JetEvents`, `sunpy.net.hek.HEKTable` or `list` of `dict`
        The events to compare with: a HEK search result (``Fido.search(..., a.hek.CJ)["hek"]``), HEK
        records, or `JetEvents` (e.g. the Solar Jet Hunter catalogue's).
    max_distance : `~astropy.units.Quantity`
        Largest separation of paired positions.
    time_margin : `~astropy.units.Quantity`
        Added to both ends of every interval before testing the overlap.

    Returns
    -------
    `EventMatch`

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.time import Time
    >>> from sunpy_jets.events import JetEvents, match_events
    >>> found = JetEvents.from_columns(start=Time(["2011-01-20T09:01", "2011-01-20T12:00"]),
    ...     end=Time(["2011-01-20T09:10", "2011-01-20T12:10"]), probability=[0.9, 0.8],
    ...     tx=[-240, 500] * u.arcsec, ty=[-1000, 0] * u.arcsec, width=60 * u.arcsec)
    >>> hek = JetEvents.from_columns(start=Time(["2011-01-20T09:00"]), end=Time(["2011-01-20T09:59"]),
    ...     probability=[1.0], tx=[-245] * u.arcsec, ty=[-1003] * u.arcsec, width=180 * u.arcsec)
    >>> result = match_events(found, hek)
    >>> len(result.matched), len(result.unmatched_detected), len(result.unmatched_reference)
    (1, 1, 0)
    >>> result.matched["separation"].round(1)
    <Quantity [5.8] arcsec>
    """
    detected = _as_events(detected, "detected")
    reference = _as_events(reference, "reference")
    max_distance = u.Quantity(max_distance, u.arcsec)
    margin = u.Quantity(time_margin, u.s)
    if not max_distance.isscalar or max_distance.value < 0 or not np.isfinite(max_distance.value):
        raise InputError(f"max_distance must be one finite, non-negative angle, not {max_distance}")
    pairs = []
    if len(detected) and len(reference):
        a, b = detected.table, reference.table
        overlap = ((a["event_starttime"][:, None] - margin <= b["event_endtime"][None, :] + margin)
                   & (b["event_starttime"][None, :] - margin <= a["event_endtime"][:, None] + margin))
        distance = sky_distance(a["event_coord"].reshape(-1, 1), b["event_coord"].reshape(1, -1))
        ok = overlap & (distance <= max_distance.to_value(u.arcsec))
        used_a, used_b = set(), set()
        for i, j in zip(*np.unravel_index(np.argsort(distance, axis=None), distance.shape)):
            if ok[i, j] and i not in used_a and j not in used_b:
                used_a.add(int(i))
                used_b.add(int(j))
                pairs.append((int(i), int(j), float(distance[i, j]),
                              float((a["event_starttime"][i] - b["event_starttime"][j]).to_value(u.s))))
    pairs.sort()
    matched = QTable({
        "detected": np.array([p[0] for p in pairs], dtype=int),
        "reference": np.array([p[1] for p in pairs], dtype=int),
        "separation": np.array([p[2] for p in pairs], dtype=float) * u.arcsec,
        "time_offset": (np.array([p[3] for p in pairs], dtype=float) * u.s).to(u.min),
    })
    keep_a = np.setdiff1d(np.arange(len(detected)), matched["detected"])
    keep_b = np.setdiff1d(np.arange(len(reference)), matched["reference"])
    return EventMatch(matched, detected[keep_a], reference[keep_b])
