import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.table import QTable
from astropy.time import Time

from sunpy.coordinates import Helioprojective

from sunpy_jets.events import JetEvents
from sunpy_jets.events import events_from_windows
from sunpy_jets.exceptions import InputError, InputTypeError

T0 = Time("2012-07-19T07:30:00")
TILE = 300


def window_table(probabilities, tiles=((0, 0),), window=12, stride=1, centroid=False):
    """Windows ``window`` minutes long every ``stride`` minutes; one probability curve per tile."""
    rows = {"start_time": [], "end_time": [], "probability": [], "x": [], "y": []}
    for (x, y), curve in zip(tiles, probabilities):
        for i, p in enumerate(curve):
            rows["start_time"].append(i * stride)
            rows["end_time"].append(i * stride + window)
            rows["probability"].append(p)
            rows["x"].append(x)
            rows["y"].append(y)
    start = T0 + np.array(rows["start_time"], dtype=float) * u.min
    table = QTable({"start_time": start, "end_time": T0 + np.array(rows["end_time"], dtype=float) * u.min,
                    "probability": np.array(rows["probability"], dtype=float),
                    "tile_center": SkyCoord(np.array(rows["x"], float) * u.arcsec, np.array(rows["y"], float) * u.arcsec,
                                            frame=Helioprojective),
                    "tile_width": np.full(len(start), TILE) * u.arcsec,
                    "tile_height": np.full(len(start), TILE) * u.arcsec})
    if centroid:
        table["centroid"] = SkyCoord((np.array(rows["x"], float) + 20) * u.arcsec,
                                     (np.array(rows["y"], float) - 10) * u.arcsec, frame=Helioprojective)
    return table


def test_hysteresis_single_tile():
    curve = [0.1, 0.2, 0.8, 0.4, 0.35, 0.2] + [0.1] * 14 + [0.9, 0.1]  # second run starts after the first ends
    events = events_from_windows(window_table([curve]), threshold=0.5, low_threshold=0.3)
    assert len(events) == 2
    first, second = events[0], events[1]
    assert first["event_starttime"] == T0 + 2 * u.min
    assert first["event_endtime"] == T0 + (4 + 12) * u.min  # windows 2..4 are >= 0.3
    assert abs(first["event_peaktime"] - (T0 + (2 + 6) * u.min)) < 1 * u.ms
    assert first["event_probability"] == 0.8 and second["event_probability"] == 0.9
    assert first["boundbox_c1ll"] == -150 * u.arcsec and first["boundbox_c2ur"] == 150 * u.arcsec
    assert events.meta["threshold"] == 0.5 and events.meta["low_threshold"] == 0.3


def test_overlapping_runs_merge_and_neighbours_join():
    curves = [[0.9, 0.1, 0.9, 0.1], [0.1, 0.1, 0.95, 0.1], [0.1, 0.1, 0.1, 0.1]]
    tiles = [(0, 0), (300, 0), (1200, 1200)]
    events = events_from_windows(window_table(curves, tiles, centroid=True), threshold=0.5)
    assert len(events) == 1  # runs of 12-min windows 2 min apart overlap in time; tiles touch
    event = events[0]
    assert event["boundbox_c1ll"] == -150 * u.arcsec and event["boundbox_c1ur"] == 450 * u.arcsec
    assert event["event_probability"] == 0.95
    # probability-weighted centroid of the windows above threshold (centroids offset by +20, -10)
    expected_x = (0.9 * 20 + 0.9 * 20 + 0.95 * 320) / (0.9 + 0.9 + 0.95)
    assert event["event_coord"].Tx.to_value(u.arcsec) == pytest.approx(expected_x)
    assert event["event_coord"].Ty.to_value(u.arcsec) == pytest.approx(-10)


def test_change_weighs_the_centroids():
    # Two touching tiles fire together; only the first sees a brightness change, the second fires beside it.
    curves = [[0.9, 0.9], [0.9, 0.9]]
    table = window_table(curves, [(0, 0), (300, 0)], centroid=True)
    table["change"] = [40.0, 10.0, 0.0, 0.0]
    event = events_from_windows(table, threshold=0.5)[0]
    assert event["event_coord"].Tx.to_value(u.arcsec) == pytest.approx((40 * 20 + 10 * 20) / 50)
    # Where nothing changed anywhere, the probabilities alone weigh the centroids.
    table["change"] = 0.0
    event = events_from_windows(table, threshold=0.5)[0]
    assert event["event_coord"].Tx.to_value(u.arcsec) == pytest.approx((20 + 320) / 2)
    table["change"] = [1.0, -1.0, 0.0, 0.0]
    with pytest.raises(InputError, match="'change'"):
        events_from_windows(table, threshold=0.5)


def test_no_events_and_bad_input():
    assert len(events_from_windows(window_table([[0.1, 0.2]]), threshold=0.5)) == 0
    assert len(events_from_windows(window_table([[]]), threshold=0.5)) == 0
    with pytest.raises(InputError, match="between 0 and 1"):
        events_from_windows(window_table([[0.1, 1.2]]), threshold=0.5)
    with pytest.raises(InputError, match="low_threshold"):
        events_from_windows(window_table([[0.1]]), threshold=0.5, low_threshold=0.7)
    with pytest.raises(InputTypeError):
        events_from_windows({"probability": [1]}, threshold=0.5)
    with pytest.raises(InputTypeError, match="merge_gap"):
        events_from_windows(window_table([[0.1]]), threshold=0.5, merge_gap=3)
    table = window_table([[0.9]])
    del table["tile_center"]
    with pytest.raises(InputError, match="tile_center"):
        events_from_windows(table, threshold=0.5)
    events = events_from_windows(table, threshold=0.5,
                                 tile_center=SkyCoord(5 * u.arcsec, 6 * u.arcsec, frame=Helioprojective))
    assert events[0]["event_coord"].Tx == 5 * u.arcsec


def test_jetevents_validation_and_container():
    start = Time(["2011-01-20T10:00", "2011-01-20T09:00"])
    events = JetEvents.from_columns(start=start, end=start + 5 * u.min, probability=[0.6, 0.9],
                                    tx=[0, 1] * u.arcsec, ty=[0, 1] * u.arcsec, width=10 * u.arcsec)
    assert list(events["event_probability"]) == [0.9, 0.6]  # sorted by start
    assert [float(row["event_probability"]) for row in events] == [0.9, 0.6]
    assert isinstance(events[:1], JetEvents) and len(events[:1]) == 1
    assert "JetEvents: 2 event(s)" in repr(events) and "<table" in events._repr_html_()
    with pytest.raises(InputError, match="boundbox_c1ll"):
        JetEvents.from_columns(start=start, end=start + 5 * u.min, probability=[0.6, 0.9],
                               tx=[0, 1] * u.arcsec, ty=[0, 1] * u.arcsec, width=0 * u.arcsec)
    with pytest.raises(InputError, match="between 0 and 1"):
        JetEvents.from_columns(start=start, end=start + 5 * u.min, probability=[0.6, 1.9],
                               tx=[0, 1] * u.arcsec, ty=[0, 1] * u.arcsec, width=10 * u.arcsec)
    with pytest.raises(InputError, match="lacks"):
        JetEvents(QTable({"event_starttime": start}))
    with pytest.raises(InputTypeError):
        JetEvents([1, 2])


curves = st.integers(1, 4).flatmap(lambda n: st.tuples(
    st.lists(st.tuples(st.integers(-3, 3), st.integers(-3, 3)), min_size=n, max_size=n, unique=True),
    st.lists(st.lists(st.floats(0, 1), min_size=1, max_size=25), min_size=n, max_size=n),
))


@settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=curves, window=st.integers(1, 12), stride=st.integers(1, 12), threshold=st.floats(0.05, 1),
       low=st.floats(0, 1), gap=st.integers(0, 5))
def test_events_properties(data, window, stride, threshold, low, gap):
    grid, probabilities = data
    tiles = [(x * 250, y * 250) for x, y in grid]  # 300" tiles every 250": neighbours overlap
    table = window_table(probabilities, tiles, window=window, stride=stride)
    events = events_from_windows(table, threshold=threshold, low_threshold=min(low, threshold),
                                 merge_gap=gap * u.min)
    starts = events["event_starttime"]
    assert np.all(starts[1:] >= starts[:-1])
    t_lo, t_hi = (starts - T0).to_value(u.s), (events["event_endtime"] - T0).to_value(u.s)
    boxes = [events[name].to_value(u.arcsec) for name in ("boundbox_c1ll", "boundbox_c2ll", "boundbox_c1ur",
                                                           "boundbox_c2ur")]
    for i in range(len(events)):
        for j in range(i + 1, len(events)):
            same_place = (boxes[0][i] <= boxes[2][j] and boxes[0][j] <= boxes[2][i]
                          and boxes[1][i] <= boxes[3][j] and boxes[1][j] <= boxes[3][i])
            assert not (same_place and t_lo[i] <= t_hi[j] and t_lo[j] <= t_hi[i])
    ws, we = (table["start_time"] - T0).to_value(u.s), (table["end_time"] - T0).to_value(u.s)
    wx, wy = table["tile_center"].Tx.to_value(u.arcsec), table["tile_center"].Ty.to_value(u.arcsec)
    tol = 1e-3  # event times are kept to the microsecond
    inside = ((t_lo[:, None] <= ws + tol) & (we - tol <= t_hi[:, None]) & (boxes[0][:, None] <= wx - 150)
              & (wx + 150 <= boxes[2][:, None]) & (boxes[1][:, None] <= wy - 150) & (wy + 150 <= boxes[3][:, None]))
    above = table["probability"] >= threshold
    assert inside[:, above].any(axis=0).all()  # every window above threshold is inside an event
    assert (inside & above).any(axis=1).all()  # every event holds a window above threshold
    assert np.all(events["event_probability"] >= threshold)
