"""
The figures of `sunpy_jets.visualization.events` and ``sunpy-jets demo`` as a paper would need them (issue 19
item 11): checked through the state of their axes after drawing (Agg), not pixels.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import astropy.units as u  # noqa: E402
from astropy.table import QTable  # noqa: E402
from astropy.time import Time  # noqa: E402

from sunpy_jets.cli._demo import _demo_figure  # noqa: E402
from sunpy_jets.events import JetEvents  # noqa: E402
from sunpy_jets.exceptions import InputError  # noqa: E402
from sunpy_jets.synthetic import make_sequence  # noqa: E402
from sunpy_jets.visualization import animate_window, plot_events_on_map, plot_probability  # noqa: E402

START = Time("2012-07-19T07:30:00")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def scan_table():
    start = START + np.arange(30) * 24 * u.s
    prob = np.r_[np.full(10, 0.05), np.linspace(0.2, 0.95, 10), np.full(10, 0.1)]
    return QTable({"start_time": start, "end_time": start + 12 * u.min, "probability": prob})


@pytest.fixture
def events():
    return JetEvents.from_columns(start=START + [5] * u.min, end=START + [16] * u.min, probability=[0.95],
                                  tx=[0] * u.arcsec, ty=[0] * u.arcsec, width=200 * u.arcsec, meta={"threshold": 0.45})


@pytest.fixture(scope="module")
def seq():
    return make_sequence(kind="jet", seed=3, n_frames=4, shape=(64, 64), scale=9.375 * u.arcsec / u.pix,
                         start_time=START, bad_frame_rate=0)


def _visible_tick_labels(axis):
    return [t.get_text() for t in axis.get_ticklabels() if t.get_visible() and t.get_text()]


def test_probability_in_the_top_panel_leaves_the_other_panel_alone(scan_table, events):
    fig, (top, bottom) = plt.subplots(2, 1)
    bottom.plot([0, 1, 2], [3, 1, 2])
    plot_probability(scan_table, events=events, axes=top)
    fig.canvas.draw()
    # Its own time labels survive above another panel (autofmt_xdate hid every row but the last)...
    labels = _visible_tick_labels(top.xaxis)
    assert len(labels) >= 3 and all(":" in text for text in labels)
    assert all(t.get_rotation() == 0 for t in top.get_xticklabels())
    # ... and the user's panel keeps its labels as they were: unrotated, right of centre untouched.
    assert _visible_tick_labels(bottom.xaxis)
    assert all(t.get_rotation() == 0 and t.get_ha() == "center" for t in bottom.get_xticklabels())
    assert isinstance(top.xaxis.get_major_formatter(), mdates.ConciseDateFormatter)


def test_probability_axis_says_the_date_and_that_points_are_window_centres(scan_table):
    ax = plot_probability(scan_table, threshold=0.45)
    assert "2012-07-19" in ax.get_xlabel() and "UTC" in ax.get_xlabel()
    assert "window" in ax.get_xlabel() and "centre" in ax.get_xlabel()
    # The curve's points are the window centres: start + 6 min.
    first = mdates.date2num(Time(scan_table["start_time"][0] + 6 * u.min).datetime)
    assert ax.lines[0].get_xdata(orig=False)[0] == pytest.approx(first, abs=1e-6)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "threshold 0.45" in legend


def test_a_day_boundary_is_said_in_the_label():
    start = Time("2012-07-19T23:50") + np.arange(3) * 5 * u.min
    table = QTable({"start_time": start, "end_time": start + 12 * u.min, "probability": [0.1, 0.2, 0.3]})
    assert "from 2012-07-19" in plot_probability(table).get_xlabel()


def test_one_window_is_drawn_over_its_own_minutes():
    start = START.reshape(1)
    table = QTable({"start_time": start, "end_time": start + 12 * u.min, "probability": [0.7]})
    ax = plot_probability(table, threshold=0.45)
    lo, hi = (mdates.num2date(x) for x in ax.get_xlim())
    # Around the window, not years of empty axes.
    assert Time(lo) <= START and Time(hi) >= START + 12 * u.min
    assert (Time(hi) - Time(lo)) < 20 * u.min
    spans = [line for line in ax.lines if line.get_label() == "window start to end"]
    np.testing.assert_allclose(spans[0].get_ydata(), [0.7, 0.7])
    ax.figure.canvas.draw()
    assert len(_visible_tick_labels(ax.xaxis)) >= 2


def test_events_alone_on_a_short_interval_keep_their_date(events):
    ax = plot_probability(events)
    assert "2012-07-19" in ax.get_xlabel() and "centre" not in ax.get_xlabel()
    assert any(line.get_label() == "threshold 0.45" for line in ax.lines)


def test_nothing_to_draw_says_so():
    ax = plot_probability(QTable({"start_time": Time([], format="isot"), "end_time": Time([], format="isot"),
                                  "probability": []}))
    assert ax.texts and "no windows" in ax.texts[0].get_text()


def test_a_formatter_the_user_chose_is_kept(scan_table):
    fig, ax = plt.subplots()
    ax.plot(Time(scan_table["start_time"]).datetime, np.zeros(len(scan_table)))
    mine = mdates.DateFormatter("%H:%M:%S")
    ax.xaxis.set_major_formatter(mine)
    plot_probability(scan_table, axes=ax)
    assert ax.xaxis.get_major_formatter() is mine


def test_animation_uses_the_maps_own_colormap(seq):
    animation = animate_window(seq.maps, probability=0.3)
    image = animation._fig.axes[0].images[0]
    assert image.get_cmap().name == seq.maps[0].plot_settings["cmap"] == "sdoaia304"
    animation = animate_window(seq.maps, probability=0.3, cmap="gray")
    assert animation._fig.axes[0].images[0].get_cmap().name == "gray"


def test_animation_scale_covers_every_frame(seq):
    maps = list(seq.maps)
    brightest = max(float(np.nanpercentile(m.data, 99.9)) for m in maps)
    animation = animate_window(maps)
    assert animation._fig.axes[0].images[0].get_clim()[1] == pytest.approx(brightest)


def test_animation_takes_a_scan_table(seq, tmp_path):
    times = Time([m.date for m in seq.maps])
    # Two windows: frames 0-2 (p 0.2) and 1-3 (p 0.8); each frame shows the most probable window holding it.
    table = QTable({"start_time": times[[0, 1]], "end_time": times[[2, 3]], "probability": [0.2, 0.8]})
    animation = animate_window(seq.maps, probability=table)
    ax = animation._fig.axes[0]
    assert "P(jet) = 0.20" in ax.get_title() and "frame 1/4" in ax.get_title()
    animation.save(tmp_path / "w.gif", writer="pillow")
    assert "P(jet) = 0.80 (max of 2 windows)" not in ax.get_title()  # the last frame is in one window
    assert "P(jet) = 0.80" in ax.get_title() and "frame 4/4" in ax.get_title()
    later = QTable({"start_time": times[[3]] + 1 * u.h, "end_time": times[[3]] + 2 * u.h, "probability": [0.5]})
    assert "in no scanned window" in animate_window(seq.maps, probability=later)._fig.axes[0].get_title()
    with pytest.raises(InputError, match="end_time"):
        animate_window(seq.maps, probability=QTable({"start_time": times, "probability": [0.1] * 4}))


def test_animation_title_names_the_instrument_and_time(seq):
    title = animate_window(seq.maps, probability=0.5)._fig.axes[0].get_title()
    assert "AIA" in title and seq.maps[0].date.strftime("%Y-%m-%d %H:%M:%S") in title


def test_event_labels_on_a_map_are_outlined(seq):
    m = seq.maps[0]
    events = JetEvents.from_columns(start=START.reshape(1), end=(START + 5 * u.min).reshape(1), probability=[0.9],
                                    tx=m.center.Tx.reshape(1), ty=m.center.Ty.reshape(1), width=200 * u.arcsec)
    ax = plot_events_on_map(m, events)
    text = ax.texts[0]
    assert text.get_fontsize() >= 9 and text.get_path_effects()
    assert ax.coords[0].get_axislabel()


def test_demo_figure_map_panels_have_x_labels_and_readable_boxes(seq):
    maps = list(seq.maps)
    start, end = maps[0].date.reshape(1), maps[-1].date.reshape(1)
    windows = QTable({"start_time": start, "end_time": end, "probability": [0.9]})
    found = JetEvents.from_columns(start=start, end=end, probability=[0.9], tx=maps[0].center.Tx.reshape(1),
                                   ty=maps[0].center.Ty.reshape(1), width=150 * u.arcsec)
    fig = _demo_figure({"jet": maps}, {"jet": windows}, {"jet": found}, 0.45)
    fig.canvas.draw()
    map_axes, probability_axes = fig.axes[:3], fig.axes[3]
    for ax in map_axes:
        assert ax.coords[0].get_axislabel().strip()
        assert ax.texts and ax.texts[0].get_path_effects() and ax.texts[0].get_fontsize() >= 9
    assert map_axes[0].coords[1].get_axislabel().strip()
    assert "UTC" in probability_axes.get_xlabel() and _visible_tick_labels(probability_axes.xaxis)
    assert "jet" in probability_axes.get_title()


def test_boxes_beyond_the_map_keep_its_frame_and_their_labels_on_it(seq):
    m = seq.maps[0]
    fig = plt.figure()
    ax = fig.add_subplot(projection=m)
    m.plot(axes=ax)
    frame = ax.get_xlim(), ax.get_ylim()
    # A box half off the right edge of the map.
    tx = m.top_right_coord.Tx.reshape(1)
    events = JetEvents.from_columns(start=START.reshape(1), end=(START + 5 * u.min).reshape(1), probability=[0.9],
                                    tx=tx, ty=m.center.Ty.reshape(1), width=150 * u.arcsec)
    plot_events_on_map(m, events, axes=ax)
    assert (ax.get_xlim(), ax.get_ylim()) == frame
    fig.canvas.draw()
    label = ax.texts[0].get_window_extent()
    axes_box = ax.get_window_extent()
    assert axes_box.x0 <= label.x0 and label.x1 <= axes_box.x1 + 0.5
