"""Tests of the synthetic AIA 304 Å generator (`sunpy_jets.synthetic`)."""

import numpy as np
import pytest

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.time import Time

import sunpy.map
from sunpy.coordinates import Helioprojective, get_earth

from sunpy_jets.exceptions import InputError, InputTypeError
from sunpy_jets.synthetic import (
    NEGATIVES,
    RANGES,
    SJH_HEIGHT,
    JetEvent,
    JetParameters,
    make_observation,
    make_sequence,
    write_fits,
)

from sunpy_jets.synthetic.noise import RESIDUAL_HIT_RATE, plan_frames

from conftest import realdata_path

SMALL = dict(shape=(96, 96), scale=1.8 * u.arcsec / u.pix)


def _box_slices(m, event):
    """Array slices of the jet's truth box in map ``m`` (pixel space, so no frame transforms)."""
    x, y = m.wcs.world_to_pixel_values(
        [event.bottom_left.Tx.to_value(u.deg), event.top_right.Tx.to_value(u.deg)],
        [event.bottom_left.Ty.to_value(u.deg), event.top_right.Ty.to_value(u.deg)],
    )
    ny, nx = m.data.shape
    cols = slice(max(int(np.floor(min(x))), 0), min(int(np.ceil(max(x))) + 1, nx))
    rows = slice(max(int(np.floor(min(y))), 0), min(int(np.ceil(max(y))) + 1, ny))
    return rows, cols


def _box_mean(seq, event):
    """Mean DN/s per frame inside the jet's truth box."""
    return np.array([np.mean(m.data[_box_slices(m, event)]) / m.exposure_time.to_value(u.s) for m in seq.maps])


def test_metadata():
    start = Time("2013-05-01T12:00:00")
    seq = make_sequence(kind="quiet", seed=1, n_frames=5, cadence=24 * u.s, start_time=start, bad_frame_rate=0, **SMALL)
    assert isinstance(seq.maps, sunpy.map.MapSequence)
    assert len(seq.maps) == 5 and not seq.label and seq.kind == "quiet"
    for i, m in enumerate(seq.maps):
        assert isinstance(m, sunpy.map.sources.AIAMap)
        assert m.data.dtype == np.float32 and m.data.shape == (96, 96)
        assert m.instrument == "AIA" and m.meta["telescop"] == "SDO"
        assert m.wavelength == 304 * u.AA
        assert m.exposure_time == 2.9 * u.s
        assert abs((m.date - (start + i * 24 * u.s)).to_value(u.s)) < 1e-3
        assert u.allclose(m.scale.axis1, 1.8 * u.arcsec / u.pix)
        assert u.allclose(m.scale.axis2, 1.8 * u.arcsec / u.pix)
        assert m.unit == u.DN
        assert "blank" not in m.meta
    # The observer follows the Earth frame by frame.
    assert seq.maps[0].dsun != seq.maps[-1].dsun
    again = sunpy.map.Map(list(seq.maps), sequence=True)
    assert len(again) == 5


def test_default_shape_and_levels():
    seq = make_sequence(kind="quiet", seed=5, n_frames=2, center=SkyCoord(0 * u.arcsec, 0 * u.arcsec, frame="helioprojective", observer="earth", obstime="2012-07-19"), start_time="2012-07-19", bad_frame_rate=0)
    m = seq.maps[0]
    assert m.data.shape == (500, 500)
    assert u.allclose(m.scale.axis1, 0.6 * u.arcsec / u.pix)
    # Quiet disk centre of AIA 304 Å: tens of DN in 2.9 s.
    assert 30 < np.median(m.data) < 100


def test_determinism():
    a = make_sequence(kind="jet", seed=7, n_frames=4, **SMALL)
    b = make_sequence(kind="jet", seed=7, n_frames=4, **SMALL)
    c = make_sequence(kind="jet", seed=8, n_frames=4, **SMALL)
    for ma, mb in zip(a.maps, b.maps):
        np.testing.assert_array_equal(ma.data, mb.data)
        assert ma.date == mb.date
    assert not np.array_equal(a.maps[0].data, c.maps[0].data)
    # Lazy frames equal eager ones, in any order.
    lazy = make_sequence(kind="jet", seed=7, n_frames=4, lazy=True, **SMALL)
    np.testing.assert_array_equal(lazy[3].data, a.maps[3].data)
    np.testing.assert_array_equal(lazy[0].data, a.maps[0].data)


def _limb_jet(start):
    t = Time(start)
    base = SkyCoord(950 * u.arcsec, 0 * u.arcsec, frame=Helioprojective(observer=get_earth(t), obstime=t))
    params = JetParameters(
        speed=300 * u.km / u.s,
        width=8 * u.Mm,
        height=100 * u.Mm,
        duration=10 * u.min,
        position_angle=270 * u.deg,
        peak_rate=400 * u.DN / u.s,
    )
    return JetEvent(params, base, t + 30 * u.s)


def test_jet_brightens_along_its_path():
    start = "2012-07-19T07:30:00"
    event = _limb_jet(start)
    center = SkyCoord(1000 * u.arcsec, 0 * u.arcsec, frame=event.base.frame)
    common = dict(seed=3, n_frames=15, start_time=start, center=center, bad_frame_rate=0, **SMALL)
    jet = make_sequence(kind="jet", jet=event, **common)
    quiet = make_sequence(kind="quiet", **common)
    assert jet.label and jet.jets == [event]
    box_jet, box_quiet = _box_mean(jet, event), _box_mean(quiet, event)
    assert box_jet.max() - box_jet[0] > 30  # DN/s averaged over the box
    assert np.ptp(box_quiet) < 5
    # The front is higher later: brightness far out along the axis appears after the rise starts.
    far = SkyCoord(950 * u.arcsec + 100 * u.Mm.to(u.km) / 735 * u.arcsec, 0 * u.arcsec, frame=event.base.frame)
    far_series = []
    for m in jet.maps:
        x, y = m.wcs.world_to_pixel_values(far.Tx.to_value(u.deg), far.Ty.to_value(u.deg))
        far_series.append(m.data[int(round(float(y))), int(round(float(x)))])
    assert far_series[-1] - far_series[0] > 30


@pytest.mark.parametrize("kind", ["quiet", *NEGATIVES])
def test_negatives_have_no_jet(kind):
    seq = make_sequence(kind=kind, seed=11, n_frames=3, **SMALL)
    assert seq.label is False and seq.jets == [] and seq.kind == kind
    assert seq.distractors == ([] if kind == "quiet" else [kind])


def test_negative_kind_draws_one():
    kinds = {make_sequence(kind="negative", seed=s, n_frames=2, shape=(32, 32)).kind for s in range(12)}
    assert kinds <= {"quiet", *NEGATIVES} and len(kinds) > 2


def test_jet_parameters_random_ranges():
    rng = np.random.default_rng(0)
    draws = [JetParameters.random(rng) for _ in range(300)]
    for name in ("speed", "width", "height", "duration", "peak_rate"):
        low, high = RANGES[name]
        values = u.Quantity([getattr(p, name) for p in draws]).to(low.unit)
        assert values.min() >= low and values.max() <= high
    assert all(p.height <= p.speed * p.duration for p in draws)
    assert 0.1 < np.mean([p.blowout for p in draws]) < 0.5
    assert any(p.bend != 0 for p in draws) and any(p.bend == 0 for p in draws)


def test_jet_heights_follow_the_solar_jet_hunter_catalogue():
    # Fast, long-lived jets can reach any height, so the truncation to what the front reaches does not bind.
    rng = np.random.default_rng(1)
    ranges = {"speed": (400, 500) * u.km / u.s, "duration": (15, 20) * u.min}
    heights = u.Quantity([JetParameters.random(rng, ranges=ranges).height for _ in range(2000)]).to_value(u.Mm)
    median, sigma = SJH_HEIGHT
    assert np.median(heights) == pytest.approx(median.to_value(u.Mm), rel=0.1)
    assert np.std(np.log(heights)) == pytest.approx(sigma, rel=0.15)
    assert heights.min() >= RANGES["height"][0].to_value(u.Mm) and heights.max() <= RANGES["height"][1].to_value(u.Mm)


def test_good_frames_keep_only_residual_cosmic_rays():
    plans = plan_frames(np.random.default_rng(0), 2000, (1000, 1000), exposure=2.9, bad_frame_rate=0.0)
    assert np.mean([p.cosmic_rays for p in plans]) == pytest.approx(RESIDUAL_HIT_RATE * 2.9, rel=0.1)
    bursts = plan_frames(np.random.default_rng(0), 200, (1000, 1000), exposure=2.9, bad_frame_rate=1.0)
    assert min(p.cosmic_rays for p in bursts if p.bad == "cosmic_rays") >= 200


def test_bad_frames_change_exposure():
    seq = make_sequence(kind="quiet", seed=2, n_frames=30, bad_frame_rate=1.0, shape=(64, 64))
    exposures = u.Quantity([m.exposure_time for m in seq.maps])
    short = exposures < 2.9 * u.s
    assert short.any() and (~short).any()
    # Data scale with the exposure: normalised levels agree.
    rates = [np.median(m.data) / m.exposure_time.to_value(u.s) for m in seq.maps]
    assert np.ptp(rates) / np.median(rates) < 0.35


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        (dict(kind="spicule"), InputError),
        (dict(n_frames=0), InputError),
        (dict(n_frames=2.5), InputTypeError),
        (dict(cadence=24), InputTypeError),
        (dict(cadence=24 * u.m), InputTypeError),
        (dict(cadence=-24 * u.s), InputError),
        (dict(scale=0.6 * u.arcsec), InputTypeError),
        (dict(shape=(4, 4)), InputError),
        (dict(shape="big"), InputTypeError),
        (dict(seed=-1), InputError),
        (dict(start_time="yesterday-ish"), InputError),
        (dict(center=(0, 0)), InputTypeError),
        (dict(background="real"), InputError),
        (dict(background=[1, 2]), InputError),
        (dict(kind="quiet", jet=None, bad_frame_rate=2.0), InputError),
        (dict(kind="quiet", jet=JetParameters.random(np.random.default_rng(0))), InputError),
        (dict(jet="tall"), InputTypeError),
    ],
)
def test_bad_input(kwargs, error):
    with pytest.raises(error):
        make_sequence(**{"n_frames": 2, "shape": (32, 32), **kwargs})


def test_jet_parameters_validation():
    good = dict(speed=200 * u.km / u.s, width=8 * u.Mm, height=80 * u.Mm, duration=10 * u.min, position_angle=0 * u.deg)
    with pytest.raises(InputTypeError, match="speed"):
        JetParameters(**{**good, "speed": 200})
    with pytest.raises(InputTypeError, match="width"):
        JetParameters(**{**good, "width": 8 * u.s})
    with pytest.raises(InputError, match="height"):
        JetParameters(**{**good, "height": -1 * u.Mm})
    with pytest.raises(InputTypeError, match="rng"):
        JetParameters.random(0)


def test_real_background():
    folder = realdata_path("jipparchus_sun_data_visualisation", "aia304")
    real = sunpy.map.Map(sorted(folder.glob("*.fits"))[:4], sequence=True)
    seq = make_sequence(kind="jet", seed=4, n_frames=6, background=real, bad_frame_rate=0)
    first = real[0]
    assert seq.label and len(seq.maps) == 6
    for i, m in enumerate(seq.maps):
        assert m.data.shape == first.data.shape and m.data.dtype == np.float32
        assert abs((m.date - (first.date + i * 24 * u.s)).to_value(u.s)) < 1e-3
        assert m.exposure_time == first.exposure_time
        assert m.wavelength == 304 * u.AA
    assert u.allclose(seq.maps[0].scale.axis1, first.scale.axis1)
    # Away from the jet the output is the real data (interpolated, no extra read noise).
    event = seq.jets[0]
    assert event.base.Tx > first.bottom_left_coord.Tx and event.base.Tx < first.top_right_coord.Tx
    rows, cols = _box_slices(first, event)
    assert rows.stop > rows.start and cols.stop > cols.start
    outside = np.ones(first.data.shape, dtype=bool)
    outside[rows, cols] = False
    # Only the few cosmic-ray hits every frame gets differ.
    same = np.isclose(seq.maps[0].data[outside], first.data[outside], rtol=1e-4, atol=1e-3)
    assert same.mean() > 0.999
    with pytest.raises(InputError, match="shape"):
        make_sequence(background=real, shape=(64, 64))


def test_observation_truth_and_write(tmp_path):
    obs = make_observation(duration=4 * u.min, n_jets=2, n_distractors=1, seed=9, bad_frame_rate=0, **SMALL)
    assert len(obs) == 10 and len(obs.jets) == 2 and len(obs.distractors) == 1
    paths = write_fits(obs, tmp_path)
    assert [p.name for p in paths] == sorted(p.name for p in paths)
    assert paths[0].name.startswith("aia.lev1_euv_12s.") and paths[0].name.endswith(".304.image.fits")
    back = sunpy.map.Map(paths, sequence=True)
    assert len(back) == 10
    np.testing.assert_array_equal(back[0].data.shape, (96, 96))
    # RICE is lossy on floats: close, not equal.
    np.testing.assert_allclose(back[4].data, obs[4].data, atol=2.0, rtol=0.05)
    assert back[0].exposure_time == 2.9 * u.s and back[0].wavelength == 304 * u.AA
    assert not list(tmp_path.glob(".tmp-*"))
    with pytest.raises(InputError, match="exists"):
        write_fits(obs, tmp_path)
    plain = write_fits(make_sequence(kind="quiet", seed=1, n_frames=1, **SMALL), tmp_path / "plain", compress=False)
    np.testing.assert_array_equal(sunpy.map.Map(plain[0]).data.shape, (96, 96))


@pytest.mark.parametrize("kind", ["jet", "negative"])
def test_passes_prepare_sequence(kind):
    from sunpy_jets.model import JetModelConfig
    from sunpy_jets.inputs import prepare_sequence

    config = JetModelConfig()
    seq = make_sequence(kind=kind, seed=21, n_frames=config.n_frames, shape=(166, 166), scale=1.8 * u.arcsec / u.pix)
    prepared = prepare_sequence(seq.maps, config)
    assert tuple(prepared.frames.shape) == (config.n_frames, 1, config.image_size, config.image_size)
    assert bool(prepared.frames.isfinite().all())
