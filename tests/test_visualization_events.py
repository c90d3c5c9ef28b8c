"""Tests of `sunpy_jets.visualization.events` (Agg backend): artists are drawn where they should be."""

import numpy as np
import pytest

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.table import QTable
from astropy.time import Time

from sunpy_jets.events import JetEvents
from sunpy_jets.exceptions import InputError, InputTypeError
from sunpy_jets.model import JetModelConfig
from sunpy_jets.inputs import prepare_sequence
from sunpy_jets.synthetic import make_sequence
from sunpy_jets.visualization import animate_window, plot_events_on_map, plot_probability

START = Time("2013-05-01T10:00:00")


@pytest.fixture
def scan_table():
    start = START + np.arange(20) * u.min
    prob = np.r_[np.full(5, 0.05), np.linspace(0.2, 0.95, 5), np.full(10, 0.1)]
    return QTable({"start_time": start, "end_time": start + 7 * u.min, "probability": prob})


@pytest.fixture
def events():
    return JetEvents.from_columns(
        start=START + [5, 30] * u.min, end=START + [16, 40] * u.min, probability=[0.95, 0.7],
        tx=[-100, 300] * u.arcsec, ty=[50, -200] * u.arcsec, width=300 * u.arcsec, meta={"threshold": 0.6},
    )


@pytest.fixture(scope="module")
def seq():
    return make_sequence(kind="jet", seed=1, n_frames=4, shape=(64, 64), scale=9.375 * u.arcsec / u.pix,
                         center=None, start_time=START, bad_frame_rate=0)


def test_probability_curve_with_events_and_threshold(scan_table, events):
    ax = plot_probability(scan_table, events=events)
    curve = ax.lines[0]
    np.testing.assert_allclose(curve.get_ydata(), scan_table["probability"])
    # Points at the window centres, on a date axis.
    first = curve.get_xdata()[0]
    assert abs((Time(first) - (START + 3.5 * u.min)).to_value(u.s)) < 1
    spans = [p for p in ax.patches]
    assert len(spans) == 2  # one shaded interval per event
    thresholds = [line for line in ax.lines if line.get_label().startswith("threshold")]
    assert thresholds and thresholds[0].get_ydata()[0] == pytest.approx(0.6)
    assert ax.get_ylabel() == "Jet probability"


def test_a_tiled_scan_plots_the_best_tile_per_window(scan_table):
    tiled = QTable(np.repeat(scan_table, 2))
    tiled["probability"][1::2] = 0.0
    ax = plot_probability(tiled, threshold=0.5)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), scan_table["probability"])
    assert ax.lines[0].get_label() == "max over tiles"


def test_events_alone_and_on_given_axes(events):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    out = plot_probability(events, axes=ax)
    assert out is ax
    assert len(ax.patches) == 2
    peaks = [line for line in ax.lines if line.get_label() == "event peak"]
    np.testing.assert_allclose(peaks[0].get_ydata(), [0.95, 0.7])


def test_plot_probability_refuses_bad_input():
    with pytest.raises(InputTypeError):
        plot_probability([0.1, 0.2])
    with pytest.raises(InputError, match="probability"):
        plot_probability(QTable({"start_time": Time([START]), "end_time": Time([START])}))


def test_events_drawn_as_boxes_on_a_map(seq, events):
    m = seq.maps[0]
    ax = plot_events_on_map(m, events)
    assert len(ax.images) == 1
    assert len(ax.patches) == len(events)
    texts = [t.get_text() for t in ax.texts]
    assert any("p=0.95" in t for t in texts)
    # The first box's lower-left corner lies at its HPC corner in the map's pixels.
    x, y = m.wcs.world_to_pixel(SkyCoord(-250 * u.arcsec, -100 * u.arcsec, frame=m.coordinate_frame))
    vertices = ax.patches[0].get_path().vertices
    transformed = ax.patches[0].get_transform().transform(vertices)
    pixel = ax.transData.inverted().transform(transformed)
    assert np.min(np.hypot(pixel[:, 0] - x, pixel[:, 1] - y)) < 1.0


def test_events_on_map_needs_wcs_axes(seq, events):
    import matplotlib.pyplot as plt

    with pytest.raises(InputTypeError, match="WCSAxes"):
        plot_events_on_map(seq.maps[0], events, axes=plt.figure().add_subplot())
    with pytest.raises(InputTypeError):
        plot_events_on_map("map.fits", events)


def test_animation_of_a_window_with_its_probability(seq, tmp_path):
    animation = animate_window(seq.maps, probability=[0.1, 0.4, 0.8, 0.9], interval=50)
    path = tmp_path / "window.gif"
    animation.save(path, writer="pillow")
    assert path.stat().st_size > 0
    title = animation._fig.axes[0].title.get_text()
    assert "P(jet) = 0.90" in title and "frame 4/4" in title


def test_animation_of_a_prepared_sequence(seq, tmp_path):
    config = JetModelConfig(image_size=32, channels=(4, 8), n_frames=4, fov_arcsec=600)
    prepared = prepare_sequence(seq.maps, config)
    animation = animate_window(prepared, probability=0.5)
    ax = animation._fig.axes[0]
    assert ax.images[0].get_array().shape == (32, 32)
    assert "P(jet) = 0.50" in ax.title.get_text()
    animation.save(tmp_path / "prepared.gif", writer="pillow")
    assert "frame 4/4" in ax.title.get_text()
    with pytest.raises(InputError, match="one per frame"):
        animate_window(prepared, probability=[0.1, 0.2])


def test_plot_jet_event_draws_map_evidence_and_time_distance(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from sunpy_jets.events import localize_events
    from sunpy_jets.synthetic import JetEvent, JetParameters, make_observation
    from sunpy_jets.visualization import plot_jet_event

    p = JetParameters(speed=150 * u.km / u.s, width=6 * u.Mm, height=60 * u.Mm, duration=8 * u.min,
                      position_angle=0 * u.deg)
    options = dict(duration=24 * u.min, n_distractors=0, shape=(160, 160), scale=1.2 * u.arcsec / u.pix,
                   bad_frame_rate=0, seed=2)
    empty = make_observation(jets=[], **options)
    obs = make_observation(jets=[JetEvent(p, empty[0].center, empty.times[3])], lazy=False, **options)
    c = obs.maps[0].center
    coarse = JetEvents.from_columns(start=obs.maps[0].date.reshape(1), end=obs.maps[-1].date.reshape(1),
                                    probability=[0.9], tx=c.Tx.reshape(1), ty=c.Ty.reshape(1), width=190 * u.arcsec)
    events = localize_events(coarse, obs.maps)
    fig = plot_jet_event(events[0], obs.maps)
    ax_map, ax_evidence, ax_td = fig.axes[:3]
    assert "peak" in ax_map.get_title() and ax_evidence.images and "arcsec" in ax_td.get_ylabel()
    assert any("km/s" in text.get_text() for text in ax_td.get_legend().get_texts())
    assert "height" in fig._suptitle.get_text()
    fig.savefig(tmp_path / "jet.png")
    with pytest.raises(InputError, match="frame"):
        plot_jet_event(events[0], obs.maps[:2])
