"""Tests of `sunpy_jets.scanning.scan` (JetClassifier.scan): streaming, frame reuse, gaps, resampling."""

import warnings

import numpy as np
import pytest
import torch

import astropy.units as u
from astropy.table import QTable
from astropy.time import Time

import sunpy.map

from sunpy_jets import JetClassifier
from sunpy_jets.exceptions import InputError, InputTypeError, InputWarning
from sunpy_jets.model import JetModelConfig
from sunpy_jets.inputs import prepare_sequence
from sunpy_jets.synthetic import make_sequence
from sunpy_jets.scanning._windows import window_logits

CONFIG = JetModelConfig(image_size=32, channels=(4, 8), hidden_size=8, n_frames=6)
SCALE = 9.375 * u.arcsec / u.pix  # 32 px cover the model's 300″


@pytest.fixture(
    scope="module",
    params=[{}, {"difference_channels": (2, 4)}, {"difference_channels": (2, 4), "smoothing_arcsec": 15.0}],
    ids=["appearance", "with-differences", "smoothed"],
)
def clf(request):
    """
    The model without and with a frame-difference encoder (whose windows must not see frames before them), and
    with its own smoothing of every frame (which a scan in chunks must apply to the frame before each chunk too).
    """
    return JetClassifier(CONFIG.replace(**request.param), device="cpu", seed=0, progress=False)


@pytest.fixture(scope="module")
def maps():
    seq = make_sequence(kind="jet", seed=3, n_frames=17, shape=(32, 32), scale=SCALE, bad_frame_rate=0)
    return list(seq.maps.maps)


def _retimed(maps, offsets_s):
    """Copies of ``maps`` with their observation times set to ``offsets_s`` after the first."""
    t0 = maps[0].date
    out = []
    for m, dt in zip(maps, offsets_s):
        meta = dict(m.meta)
        meta["date-obs"] = (t0 + dt * u.s).isot
        meta.pop("t_obs", None)
        meta.pop("date-avg", None)
        out.append(sunpy.map.Map(m.data, meta))
    return out


@pytest.mark.parametrize("stride", [1, 3])
def test_scan_matches_predict_proba_on_each_window(clf, maps, stride):
    n = CONFIG.n_frames
    table = clf.scan(maps, stride=stride)
    starts = list(range(0, len(maps) - n + 1, stride))
    assert isinstance(table, QTable)
    assert len(table) == len(starts)
    expected = [clf.predict_proba(maps[i : i + n]) for i in starts]
    np.testing.assert_allclose(table["probability"], expected, rtol=0, atol=1e-6)
    assert all(table["start_time"][k].isot == maps[i].date.isot for k, i in enumerate(starts))
    np.testing.assert_allclose((table["end_time"] - table["start_time"]).to_value(u.s), (n - 1) * CONFIG.cadence_s)


def test_each_frame_is_encoded_once(clf, maps, monkeypatch):
    calls = []
    original = clf.model.encode_frames

    def counting(frames, previous=None):
        calls.append(len(frames))
        return original(frames, previous=previous)

    monkeypatch.setattr(clf.model, "encode_frames", counting)
    clf.scan(maps, stride=1)
    assert sum(calls) == len(maps)


def test_scan_streams_a_generator_without_a_length(clf, maps):
    table = clf.scan(m for m in maps)
    assert len(table) == len(maps) - CONFIG.n_frames + 1


def test_resampling_on_the_fly_matches_resampling_the_whole_sequence(clf, maps):
    # 16 s frames (with jitter) resampled to the 24 s model cadence while streaming.
    offsets = np.arange(len(maps)) * 16.0 + np.tile([0.0, 0.4, -0.3], 6)[: len(maps)]
    retimed = _retimed(maps, offsets)
    with pytest.warns(InputWarning, match="resampled"):
        table = clf.scan(retimed)
    with pytest.warns(InputWarning, match="resampled"):
        prepared = prepare_sequence(retimed, CONFIG)
    with torch.inference_mode():
        logits = window_logits(clf.model, clf.model.encode_frames(prepared.frames), CONFIG.n_frames, 1)
    np.testing.assert_allclose(table["probability"], torch.sigmoid(logits).numpy(), atol=1e-6)
    assert np.allclose(np.diff(table["start_time"].unix), CONFIG.cadence_s)


def test_a_long_gap_starts_a_new_run(clf, maps):
    offsets = np.arange(len(maps)) * 24.0
    offsets[8:] += 3600  # one hour without data after frame 7
    retimed = _retimed(maps, offsets)
    with pytest.warns(InputWarning, match="gap"):
        table = clf.scan(retimed)
    # 8 frames before the gap and 9 after: 3 + 4 windows, none across the gap.
    assert len(table) == 3 + 4
    gap_start, gap_end = retimed[7].date, retimed[8].date
    assert not np.any((table["start_time"] < gap_start + 1 * u.s) & (table["end_time"] > gap_end - 1 * u.s))
    expected = clf.predict_proba(retimed[8 : 8 + CONFIG.n_frames])
    assert table["probability"][3] == pytest.approx(expected, abs=1e-6)


def test_runs_shorter_than_a_window_are_skipped_with_a_warning(clf, maps):
    offsets = np.arange(len(maps)) * 24.0
    offsets[14:] += 3600  # 14 frames, then a run of 3
    with pytest.warns(InputWarning) as record:
        table = clf.scan(_retimed(maps, offsets))
    assert len(table) == 14 - CONFIG.n_frames + 1
    assert any("shorter than a window" in str(w.message) for w in record)


def test_an_input_shorter_than_a_window_gives_one_window(clf, maps):
    with pytest.warns(InputWarning, match="fewer than the model's window"):
        table = clf.scan(maps[:4])
    assert len(table) == 1
    with pytest.warns(InputWarning):
        expected = clf.predict_proba(maps[:4])
    assert table["probability"][0] == pytest.approx(expected, abs=1e-6)


def test_centroid_follows_the_brightness_change(clf):
    seq = make_sequence(kind="jet", seed=11, n_frames=12, shape=(32, 32), scale=SCALE, bad_frame_rate=0, noise=False)
    table = clf.scan(seq.maps)
    jet = seq.jets[0]
    centroid = table["centroid"]
    good = np.isfinite(centroid.Tx)
    assert good.any()
    # Within the jet's own box, padded by two model pixels.
    pad = 2 * CONFIG.pixel_scale.to_value(u.arcsec / u.pix) * u.arcsec
    inside = ((centroid.Tx[good] >= jet.bottom_left.Tx - pad) & (centroid.Tx[good] <= jet.top_right.Tx + pad)
              & (centroid.Ty[good] >= jet.bottom_left.Ty - pad) & (centroid.Ty[good] <= jet.top_right.Ty + pad))
    assert inside.mean() > 0.5


def test_center_cutout_scan(clf):
    seq = make_sequence(kind="quiet", seed=2, n_frames=8, shape=(64, 64), scale=SCALE, bad_frame_rate=0)
    center = seq.maps[0].center
    table = clf.scan(seq.maps, center=center, width=300 * u.arcsec)
    assert len(table) == 3
    assert "tile_center" not in table.colnames
    assert u.allclose(table.meta["extent"], [300, 300] * u.arcsec, atol=10 * u.arcsec)
    expected = clf.predict_proba(seq.maps.maps[:6], center=center, width=300 * u.arcsec)
    assert table["probability"][0] == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"stride": 0}, InputError, "stride"),
        ({"stride": 1.5}, InputError, "stride"),
        ({"method": "magic"}, InputError, "method"),
        ({"overlap": 1.0}, InputError, "overlap"),
        ({"tiles": "yes"}, InputTypeError, "tiles"),
        ({"max_radius": -1}, InputError, "max_radius"),
    ],
)
def test_bad_options_are_refused_before_reading(clf, kwargs, error, match):
    with pytest.raises(error, match=match):
        clf.scan("no_such_file_*.fits", **kwargs)


def test_bad_input_is_refused(clf):
    with pytest.raises(InputTypeError, match="bare"):
        clf.scan(np.zeros((10, 32, 32)))
    with pytest.raises(InputError, match="no files"):
        clf.scan("no_such_file_*.fits")


def test_progress_bar_can_be_turned_off(clf, maps, capsys):
    clf.scan(maps * 1, progress=False)
    assert "scanning" not in capsys.readouterr().err


def test_times_are_astropy_times(clf, maps):
    table = clf.scan(maps)
    assert isinstance(table["start_time"], Time) and isinstance(table["end_time"], Time)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.all((table["probability"] >= 0) & (table["probability"] <= 1))


def test_memory_is_bounded_by_a_window_and_a_batch(clf, monkeypatch):
    from sunpy_jets.scanning import _engine
    from sunpy_jets.synthetic import make_observation

    sizes = []
    original = _engine.Scanner.flush

    def recording(self):
        original(self)
        if self.features is not None:
            sizes.append((len(self.features), len(self.thumbs)))

    monkeypatch.setattr(_engine.Scanner, "flush", recording)
    # A lazily rendered hour: frames are made one at a time as the scan reads them.
    obs = make_observation(duration=1 * u.hour, cadence=24 * u.s, n_jets=0, n_distractors=0, shape=(32, 32),
                           scale=SCALE, bad_frame_rate=0, seed=1)
    table = clf.scan(obs)
    assert len(table) == 150 - CONFIG.n_frames + 1
    assert len(sizes) >= 150 // _engine._FRAME_BATCH
    assert max(max(s) for s in sizes) <= CONFIG.n_frames - 1


@pytest.mark.parametrize("difference_channels", [(), (2, 4)])
def test_a_two_layer_lstm_scan_matches_each_window(maps, difference_channels):
    """Deeper LSTMs take windows of features, not of precomputed gates: the same logits either way."""
    config = CONFIG.replace(lstm_layers=2, difference_channels=difference_channels)
    clf = JetClassifier(config, device="cpu", seed=0, progress=False)
    table = clf.scan(maps, stride=2)
    starts = range(0, len(maps) - config.n_frames + 1, 2)
    expected = [clf.predict_proba(maps[i : i + config.n_frames]) for i in starts]
    np.testing.assert_allclose(table["probability"], expected, rtol=0, atol=1e-6)
