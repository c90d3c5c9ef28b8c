"""
Property-based tests (hypothesis) of preprocessing and of turning windows into events.

Random frame shapes, pixel scales, cadences and NaN masks must give either a finite model input on
the model's cadence or one of the documented refusals (an all-NaN frame, a gap longer than a window),
each exactly when its condition holds. `tests/test_events.py` checks that events are ordered, do not
overlap and hold every window above the threshold; here the events must also not depend on the order
of the windows, and their peaks and sizes must agree with the windows they hold.
"""

import re
import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.table import QTable
from astropy.time import Time

import sunpy.map
from sunpy.coordinates import Helioprojective

from sunpy_jets.events import events_from_windows
from sunpy_jets.exceptions import InputError, SunpyJetsWarning
from sunpy_jets.model import JetModelConfig
from sunpy_jets.inputs import prepare_sequence, resample_time, standardize

from conftest import make_aia_sequence

CONFIG = JetModelConfig(image_size=32, channels=(4, 8), hidden_size=8, n_frames=6, fov_arcsec=57.6)
WINDOW_S = CONFIG.n_frames * CONFIG.cadence_s  # the longest gap preprocessing bridges
FAST = settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    BASE = make_aia_sequence(1, (96, 96)).maps[0]


def _frame(data, time, scale):
    header = dict(BASE.meta)
    header.update({"date-obs": time.isot, "cdelt1": scale, "cdelt2": scale,
                   "crpix1": (data.shape[1] + 1) / 2, "crpix2": (data.shape[0] + 1) / 2})  # fmt: skip
    return sunpy.map.Map(data, header)


@st.composite
def sequences(draw):
    scale = draw(st.sampled_from([0.6, 1.2, 1.8, 2.4]))
    largest = int(CONFIG.fov_arcsec / scale)
    ny = draw(st.integers(4, largest))
    nx = draw(st.integers(4, largest))
    n = draw(st.integers(2, 9))
    # Any spacing, or the model's 24 s with the jitter real archives have (frames then used as they are).
    step = st.one_of(st.floats(5.0, 170.0), st.floats(21.6, 26.4), st.just(24.0))
    steps = draw(st.lists(step, min_size=n - 1, max_size=n - 1))
    nan_fraction = draw(st.sampled_from([0.0, 0.0, 0.002, 0.3, 1.0]))
    nan_frame = draw(st.integers(0, n - 1))
    seed = draw(st.integers(0, 2**16))
    return scale, (ny, nx), np.concatenate([[0.0], np.cumsum(steps)]), nan_fraction, nan_frame, seed


@FAST
@given(sequences())
def test_prepare_sequence_gives_finite_frames_on_the_model_cadence_or_a_documented_refusal(spec):
    scale, shape, offsets, nan_fraction, nan_frame, seed = spec
    rng = np.random.default_rng(seed)
    t0 = Time("2012-07-19T07:30:00")
    frames = []
    n_nan = n_used_nan = 0
    # Max-pooling by an integer factor drops the last rows/columns that do not fill a block; where that
    # factor misses the model's scale (1.2″ pooled by 2 is 2.4″), the frame is resampled to it instead.
    target = CONFIG.pixel_scale.to_value(u.arcsec / u.pix)
    pool = max(1, round(target / scale))
    resampled = abs(pool * scale - target) / target > 0.02
    field = round(min(shape) * scale / target) if resampled else min(shape) // pool
    for i, dt in enumerate(offsets):
        data = rng.normal(150, 15, shape).clip(1).astype(np.float32)
        if i == nan_frame and nan_fraction:
            mask = rng.random(shape) < nan_fraction if nan_fraction < 1 else np.ones(shape, bool)
            data[mask] = np.nan
            n_nan = int(mask.sum())
            used = mask if resampled else mask[: shape[0] // pool * pool, : shape[1] // pool * pool]
            n_used_nan = int(used.sum())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frames.append(_frame(data, t0 + dt * u.s, scale))
    all_nan = n_nan == shape[0] * shape[1]
    gap = np.diff(offsets).max() > WINDOW_S

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            prepared = prepare_sequence(frames, CONFIG)
        except InputError as e:
            refused = str(e)
        else:
            refused = None
    foreign = [f"{w.category.__name__}: {w.message}" for w in caught if not issubclass(w.category, SunpyJetsWarning)]
    assert not foreign, foreign
    if field < max(2, CONFIG.image_size // 8):
        # documented refusal: too few model pixels to read (docs/reliability.rst)
        assert refused is not None and "the model can read" in refused
        return
    if all_nan:
        assert refused is not None and "holds no finite pixel" in refused
        return
    if gap:
        assert refused is not None and "gap" in refused
        return
    assert refused is None
    x = prepared.frames
    step = CONFIG.cadence_s
    span = (frames[-1].date - frames[0].date).to_value(u.s)  # as the package computes it (float rounding)
    expected_t = int(np.floor(span / step + 0.1)) + 1
    assert tuple(x.shape) == (expected_t, 1, CONFIG.image_size, CONFIG.image_size)
    assert bool(x.isfinite().all())
    lo = (CONFIG.clip_min - CONFIG.mean) / CONFIG.std
    hi = (CONFIG.clip_max - CONFIG.mean) / CONFIG.std
    assert float(x.min()) >= lo - 1e-5 and float(x.max()) <= hi + 1e-5
    rel = (prepared.times - t0).to_value(u.s)
    np.testing.assert_allclose(rel, np.arange(expected_t) * step, atol=1e-4)
    messages = [str(w.message) for w in caught]
    said = [m for m in messages if re.search(r"\d+ NaN or infinite pixels", m)]
    assert bool(said) == bool(n_used_nan), (n_nan, n_used_nan, messages)  # NaN pixels that were used are reported


@FAST
@given(
    steps=st.lists(st.floats(1.0, 100.0), min_size=1, max_size=12),
    slope=st.floats(-5, 5),
    offset=st.floats(-100, 100),
    cadence=st.sampled_from([12.0, 24.0, 36.0]),
)
def test_resample_time_is_exact_for_signals_linear_in_time(steps, slope, offset, cadence):
    t = np.concatenate([[0.0], np.cumsum(steps)])
    stack = (offset + slope * t).astype(np.float32)[:, None, None] * np.ones((1, 2, 3), np.float32)
    times = Time("2012-07-19T07:30:00") + t * u.s
    out, grid = resample_time(stack, times, cadence * u.s, max_gap=1000 * u.s)
    g = (grid - times[0]).to_value(u.s)
    assert np.all(np.diff(g) > 0) and g[0] == 0 and g[-1] <= t[-1] + 0.1 * cadence
    np.testing.assert_allclose(np.diff(g), cadence, atol=1e-6)
    assert out.shape == (len(g), 2, 3) and np.all(np.isfinite(out))
    # Frames within 10 % of a grid time are used as they are, so values may differ by slope × that shift.
    tolerance = abs(slope) * 0.1 * cadence + 1e-3 * (1 + abs(offset) + abs(slope) * t[-1])
    assert np.all(np.abs(out[:, 0, 0] - (offset + slope * g)) <= tolerance)


@FAST
@given(
    values=st.lists(st.one_of(st.floats(-1e4, 1e5), st.sampled_from([np.nan, np.inf, -np.inf])), min_size=4,
                    max_size=40),
    n_frames=st.integers(1, 4),
)
def test_standardize_output_is_finite_and_clipped(values, n_frames):
    stack = np.resize(np.array(values, dtype=np.float32), (n_frames, 2, len(values)))
    config = JetModelConfig(clip_min=0.0, clip_max=1000.0, mean=100.0, std=50.0)
    out = standardize(stack, config)
    assert out.shape == stack.shape and out.dtype == np.float32
    assert np.all(np.isfinite(out))
    assert out.min() >= -2.0 - 1e-6 and out.max() <= 18.0 + 1e-6
    finite = np.isfinite(stack)
    np.testing.assert_allclose(out[finite], (np.clip(stack[finite], 0, 1000) - 100) / 50, rtol=1e-5, atol=1e-5)


T0 = Time("2012-07-19T07:30:00")
FRAME = Helioprojective(observer="earth", obstime=T0)


def _windows(curve, window, stride):
    start = T0 + np.arange(len(curve)) * stride * u.min
    return QTable({"start_time": start, "end_time": start + window * u.min, "probability": np.array(curve)})


@FAST
@given(
    curve=st.lists(st.floats(0, 1), min_size=1, max_size=40),
    window=st.integers(1, 12),
    stride=st.integers(1, 6),
    threshold=st.floats(0.05, 1),
    low=st.floats(0, 1),
    min_windows=st.integers(1, 4),
    gap=st.integers(0, 5),
    order_seed=st.integers(0, 1000),
)
def test_events_do_not_depend_on_window_order_and_agree_with_their_windows(curve, window, stride, threshold, low,
                                                                          min_windows, gap, order_seed):  # fmt: skip
    """The single-tile path (as `detect` calls it on a cutout): order-free, peaks and sizes from the windows."""
    table = _windows(curve, window, stride)
    tile = {"tile_center": SkyCoord(100 * u.arcsec, 200 * u.arcsec, frame=FRAME), "tile_width": 300 * u.arcsec,
            "tile_height": 300 * u.arcsec}  # fmt: skip
    options = {"threshold": threshold, "low_threshold": min(low, threshold), "min_windows": min_windows,
               "merge_gap": gap * u.min, **tile}  # fmt: skip
    events = events_from_windows(table, **options)
    shuffled = table[np.random.default_rng(order_seed).permutation(len(table))]
    again = events_from_windows(shuffled, **options)
    assert len(events) == len(again)
    for name in ("event_starttime", "event_endtime", "event_peaktime"):
        assert np.all(np.abs((events[name] - again[name]).to_value(u.s)) < 1e-3)
    np.testing.assert_array_equal(np.asarray(events["event_probability"]), np.asarray(again["event_probability"]))

    s = (table["start_time"] - T0).to_value(u.s)
    e = (table["end_time"] - T0).to_value(u.s)
    p = np.asarray(table["probability"])
    for row in events:
        lo, hi = (row["event_starttime"] - T0).to_value(u.s), (row["event_endtime"] - T0).to_value(u.s)
        peak = (row["event_peaktime"] - T0).to_value(u.s)
        inside = (s >= lo - 1e-3) & (e <= hi + 1e-3)
        assert lo - 1e-3 <= peak <= hi + 1e-3
        assert row["event_probability"] == p[inside].max()  # the peak is the most probable window it holds
        assert row["event_probability"] >= threshold
        assert (inside & (p >= min(low, threshold))).sum() >= min_windows
        # The box is the tile's.
        assert abs(row["boundbox_c1ll"].to_value(u.arcsec) - (100 - 150)) < 1e-6
        assert abs(row["boundbox_c2ur"].to_value(u.arcsec) - (200 + 150)) < 1e-6
    # With one window per run allowed, nothing above the threshold is lost.
    if min_windows == 1:
        above = p >= threshold
        lo = (events["event_starttime"] - T0).to_value(u.s)
        hi = (events["event_endtime"] - T0).to_value(u.s)
        covered = ((s[:, None] >= lo - 1e-3) & (e[:, None] <= hi + 1e-3)).any(axis=1) if len(events) else ~above
        assert np.all(covered[above])


with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    LONG = make_aia_sequence(16, (96, 96), blob=(48, 30, 600.0), seed=3).maps


@settings(max_examples=6, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(threshold=st.floats(0.05, 0.95), low=st.floats(0, 1), min_windows=st.integers(1, 3), stride=st.integers(1, 3))
def test_detect_is_scan_then_events_from_windows(threshold, low, min_windows, stride):
    from sunpy_jets import JetClassifier

    clf = JetClassifier(CONFIG, device="cpu", seed=0, progress=False)
    table = clf.scan(LONG, stride=stride)
    options = {"threshold": threshold, "low_threshold": min(low, threshold), "min_windows": min_windows}
    events = clf.detect(LONG, stride=stride, **options)
    center, extent = table.meta["center"], table.meta["extent"]
    expected = events_from_windows(table, tile_center=center, tile_width=extent[0], tile_height=extent[1], **options)
    assert len(events) == len(expected)
    for name in ("event_starttime", "event_endtime", "event_peaktime"):
        assert np.all(np.abs((events[name] - expected[name]).to_value(u.s)) < 1e-3)
    np.testing.assert_allclose(np.asarray(events["event_probability"]), np.asarray(expected["event_probability"]))
    starts = (events["event_starttime"] - LONG[0].date).to_value(u.s)
    ends = (events["event_endtime"] - LONG[0].date).to_value(u.s)
    assert np.all(np.diff(starts) >= 0) and np.all(starts[1:] > ends[:-1])  # one place: ordered, no overlap
    assert events.meta["threshold"] == threshold
