import warnings

import numpy as np
import pytest
import torch

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.time import Time

import sunpy.map

from sunpy_jets.exceptions import FileFormatError, InputError, InputTypeError, InputWarning
from sunpy_jets.inputs import load_maps
from sunpy_jets.model import JetModelConfig
from sunpy_jets.inputs import FramePreprocessor, prepare_sequence, resample_time, standardize

from conftest import make_aia_sequence

# A 64x64 grid over 115.2" gives exactly the 1.8"/px of 3x3-pooled 0.6" pixels.
SMALL = JetModelConfig(image_size=64, fov_arcsec=64 * 1.8, n_frames=8)
SMALL3 = SMALL.replace(n_frames=3)


def _remake(m, **changes):
    meta = {k: v for k, v in m.meta.items() if k not in changes or changes[k] is not None}
    meta.update({k: v for k, v in changes.items() if v is not None})
    data = changes.pop("data", None)
    return sunpy.map.Map(m.data if data is None else data, meta)


def _quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        return func(*args, **kwargs)


def test_real_36s_sequence_is_resampled_to_24s_and_padded(aia304_files):
    with pytest.warns(InputWarning) as record:
        prepared = prepare_sequence(aia304_files)
    messages = " ".join(str(w.message) for w in record)
    assert "padded" in messages  # 222" x 300" cutout in a 300" grid
    assert "resampled" in messages  # 36 s to 24 s
    assert prepared.frames.shape == (38, 1, 166, 166)
    assert prepared.frames.dtype == torch.float32
    assert torch.isfinite(prepared.frames).all()
    steps = np.diff((prepared.times - prepared.times[0]).to_value(u.s))
    np.testing.assert_allclose(steps, 24.0)
    assert abs(prepared.center.Tx.to_value(u.arcsec) - 908.7) < 1
    assert abs(prepared.center.Ty.to_value(u.arcsec) + 252.0) < 1
    np.testing.assert_allclose(prepared.extent.to_value(u.arcsec), [222.1, 300.0], atol=0.5)


def test_real_12s_sequence_takes_every_other_frame(aia304_12s_files):
    config = JetModelConfig()
    prepared = _quiet(prepare_sequence, aia304_12s_files, config)
    assert len(prepared) == 4
    maps = load_maps(aia304_12s_files)
    pre = FramePreprocessor(maps[0], config)
    direct = standardize(np.stack([pre(maps[i]) for i in (0, 2, 4, 6)]), config)
    np.testing.assert_array_equal(prepared.frames[:, 0].numpy(), direct)


def test_eit_is_refused_as_wrong_instrument(eit_files):
    with pytest.raises(InputError, match="EIT.*AIA"):
        prepare_sequence(eit_files)


def test_max_pooling_keeps_a_single_bright_pixel():
    seq = make_aia_sequence(n_frames=3, shape=(192, 192))
    maps = []
    for m in seq:
        data = np.full(m.data.shape, 100.0, dtype=np.float32)
        data[97, 101] = 2000.0
        maps.append(_remake(m, data=data))
    config = SMALL3.replace(clip_max=5000.0, mean=0.0, std=1.0)
    prepared = prepare_sequence(maps, config)
    frame = prepared.frames[0, 0].numpy()
    assert frame.shape == (64, 64)
    np.testing.assert_allclose(frame.max(), 2000.0 / 2.9, rtol=1e-5)
    assert np.count_nonzero(frame > 100) == 1


def test_exposure_normalisation_makes_exposure_irrelevant():
    seq = make_aia_sequence(n_frames=3, shape=(192, 192))
    doubled = [_remake(m, data=2 * m.data, exptime=2 * m.meta["exptime"]) for m in seq]
    a = prepare_sequence(seq, SMALL3).frames
    b = prepare_sequence(doubled, SMALL3).frames
    torch.testing.assert_close(a, b)


def test_cutout_around_center():
    seq = make_aia_sequence(n_frames=3, shape=(400, 400), center=(0, 0) * u.arcsec)
    m = seq[0]
    center = SkyCoord(30 * u.arcsec, -20 * u.arcsec, frame=m.coordinate_frame)
    prepared = prepare_sequence(seq, SMALL3, center=center)
    assert prepared.frames.shape[-2:] == (64, 64)
    # A cutout narrower than the model's field would be padded, and padding reads as structure (issue 19, 3).
    with pytest.raises(InputError, match="narrower than the model's field of view"):
        prepare_sequence(seq, SMALL3, center=center, width=100 * u.arcsec)
    assert abs(prepared.center.Tx.to_value(u.arcsec) - 30) < 1
    assert abs(prepared.center.Ty.to_value(u.arcsec) + 20) < 1
    ll, ur = prepared.bounding_box
    assert ll.Tx < center.Tx < ur.Tx


def test_cutout_center_outside_field_is_refused():
    seq = make_aia_sequence(n_frames=3, shape=(100, 100), center=(0, 0) * u.arcsec)
    far = SkyCoord(500 * u.arcsec, 0 * u.arcsec, frame=seq[0].coordinate_frame)
    with pytest.raises(InputError, match="outside the field of view"):
        prepare_sequence(seq, SMALL, center=far)


@pytest.mark.parametrize("width", [100, "100 arcsec", 3 * u.m])
def test_width_must_be_an_angle(width):
    seq = make_aia_sequence(n_frames=3, shape=(100, 100), center=(0, 0) * u.arcsec)
    center = seq[0].center
    with pytest.raises(InputTypeError, match="width must be an angle"):
        prepare_sequence(seq, SMALL, center=center, width=width)


def test_field_larger_than_model_needs_center_or_scan():
    seq = make_aia_sequence(n_frames=3, shape=(400, 400))
    with pytest.raises(InputError, match="larger than the model"):
        prepare_sequence(seq, SMALL)


def test_nan_pixels_are_filled_with_a_warning():
    seq = make_aia_sequence(n_frames=3, shape=(192, 192))
    data = seq[1].data.copy()
    data[10:12, 10:12] = np.nan
    maps = [seq[0], _remake(seq[1], data=data), seq[2]]
    with pytest.warns(InputWarning, match="4 NaN"):
        prepared = prepare_sequence(maps, SMALL3)
    assert torch.isfinite(prepared.frames).all()


@pytest.mark.parametrize(
    ("fill", "match"),
    [(np.nan, "no finite pixel"), (np.inf, "no finite pixel"), (0.0, "all zero or negative"), (-5.0, "all zero or negative")],
)
def test_unusable_frames_are_refused(fill, match):
    seq = make_aia_sequence(n_frames=3, shape=(64, 64))
    bad = _remake(seq[1], data=np.full((64, 64), fill, dtype=np.float32))
    with pytest.raises(InputError, match=f"frame 1 .*{match}|frame 1 is {match}"):
        prepare_sequence([seq[0], bad, seq[2]], SMALL)


@pytest.mark.parametrize(("key", "match"), [("exptime", "exposure"), ("date-obs", "observation time"), ("ctype1", "world coordinate")])
def test_missing_metadata_is_refused(key, match):
    seq = make_aia_sequence(n_frames=3, shape=(64, 64))
    meta = {k: v for k, v in seq[2].meta.items() if k != key}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sunpy itself warns about the missing keyword
        bad = sunpy.map.Map(seq[2].data, meta)
    with pytest.raises(InputError, match=match):
        prepare_sequence([seq[0], seq[1], bad], SMALL)


def test_unsorted_and_duplicated_times_are_refused():
    maps = make_aia_sequence(n_frames=4, shape=(64, 64)).maps
    # A list is put in time order (issue 19, 13); an iterator, read as it comes, must be in order.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)  # the small field is padded
        in_order = prepare_sequence(maps, SMALL).frames
        assert torch.equal(prepare_sequence([maps[0], maps[2], maps[1], maps[3]], SMALL).frames, in_order)
    with pytest.raises(InputError, match="sort the frames"):
        prepare_sequence(iter([maps[0], maps[2], maps[1], maps[3]]), SMALL)
    with pytest.raises(InputError, match="same time"):
        prepare_sequence([maps[0], maps[1], maps[1], maps[2]], SMALL)


def test_gap_longer_than_a_window_is_refused_shorter_gap_interpolated():
    maps = make_aia_sequence(n_frames=12, shape=(64, 64)).maps
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        prepared = prepare_sequence(maps[:4] + maps[6:], SMALL)  # two missing frames
    assert any("resampled" in str(w.message) and w.category is InputWarning for w in record)
    assert len(prepared) == 12
    late = _remake(maps[1], **{"date-obs": (maps[0].date + 30 * u.min).isot})
    with pytest.raises(InputError, match="gap"):
        prepare_sequence([maps[0], late], SMALL)


def test_mixed_wavelengths_and_shapes_are_refused():
    a = make_aia_sequence(n_frames=2, shape=(64, 64)).maps
    b = make_aia_sequence(n_frames=2, shape=(64, 64), wavelength=171 * u.AA, start="2012-07-19T07:31:00").maps
    with pytest.raises(InputError, match="mixed wavelengths"):
        prepare_sequence(a + b, SMALL)
    c = make_aia_sequence(n_frames=2, shape=(64, 70), start="2012-07-19T07:31:00").maps
    with pytest.raises(InputError, match="same shape"):
        prepare_sequence(a + c, SMALL)


def test_wrong_wavelength_for_the_model():
    seq = make_aia_sequence(n_frames=3, shape=(64, 64), wavelength=171 * u.AA)
    with pytest.raises(InputError, match="model expects 304"):
        prepare_sequence(seq, SMALL)


def test_unreadable_files(tmp_path, aia304_12s_files):
    text = tmp_path / "notes.fits"
    text.write_text("this is not a FITS file\n" * 100)
    with pytest.raises(FileFormatError, match="notes.fits"):
        prepare_sequence([text, text], SMALL)
    truncated = tmp_path / "truncated.fits"
    truncated.write_bytes(aia304_12s_files[0].read_bytes()[:20000])
    with pytest.raises(FileFormatError, match="truncated.fits"):
        prepare_sequence([truncated, aia304_12s_files[1]])


@pytest.mark.parametrize(
    ("data", "error", "match"),
    [
        (np.zeros((8, 64, 64)), InputTypeError, "bare 3-D array"),
        (np.zeros((64, 64)), InputTypeError, "bare 2-D array"),
        (torch.zeros(8, 64, 64), InputTypeError, "tensor"),
        (3.5, InputTypeError, "cannot use a float"),
        ([], InputError, "no frames"),
        ("/no/such/dir/*.fits", InputError, "no files match"),
        ([1, "a"], InputTypeError, "item 0"),
    ],
)
def test_wrong_inputs(data, error, match):
    with pytest.raises(error, match=match):
        prepare_sequence(data, SMALL)


def test_one_frame_is_refused():
    seq = make_aia_sequence(n_frames=1, shape=(64, 64))
    with pytest.raises(InputError, match="at least 2"):
        prepare_sequence(seq, SMALL)


def test_resample_time_interpolates_linearly():
    times = Time("2020-01-01T00:00:00") + [0, 36, 72] * u.s
    stack = np.array([0.0, 36.0, 72.0], dtype=np.float32)[:, None, None] * np.ones((3, 1, 1), np.float32)
    out, grid = resample_time(stack, times, 24 * u.s, max_gap=720 * u.s)
    np.testing.assert_allclose(out[:, 0, 0], [0, 24, 48, 72])
    np.testing.assert_allclose((grid - times[0]).to_value(u.s), [0, 24, 48, 72])


def test_header_time_is_the_maps_own_date_without_decoding(aia304_files, aia304_12s_files, eit_files):
    # Tile-compressed (JSOC RICE), plain and EIT files (whose sunpy source has its own date rule): the time read
    # from the stored header, storage cards left out, is the one the full map gives.
    from sunpy_jets.inputs._files import header_time

    for path in [*aia304_files[:2], *aia304_12s_files[:2], *eit_files[:2]]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = sunpy.map.Map(str(path)).date
        got = header_time(path)
        assert got.scale == expected.scale and (got - expected).to_value(u.s) == 0, path


def test_encoder_inference_path_folds_batch_norm_exactly():
    # Without gradients the encoder folds each batch norm into its convolution; with them (training, saliency)
    # it runs the modules: both must give the same features.
    from sunpy_jets.model import JetRCNN

    torch.manual_seed(0)
    model = JetRCNN(JetModelConfig(image_size=48, n_frames=4, channels=(8, 16), difference_channels=(4, 8))).eval()
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
    x = torch.randn(5, 1, 48, 48)
    with torch.enable_grad():
        expected = model.encode_frames(x).detach()
    with torch.inference_mode():
        got = model.encode_frames(x)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape, block", [((500, 500), (3, 3)), ((37, 52), (2, 5)), ((9, 9), (1, 4))])
def test_block_max_equals_max_pool_with_nan_and_inf(shape, block):
    from sunpy_jets.inputs.preprocessing import block_max

    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.standard_normal(shape).astype(np.float32))
    x[rng.integers(0, shape[0], 5), rng.integers(0, shape[1], 5)] = float("nan")
    x[rng.integers(0, shape[0], 3), rng.integers(0, shape[1], 3)] = float("inf")
    x[rng.integers(0, shape[0], 3), rng.integers(0, shape[1], 3)] = float("-inf")
    expected = torch.nn.functional.max_pool2d(x[None, None], kernel_size=block)[0, 0]
    assert torch.equal(block_max(x, *block).isnan(), expected.isnan())
    assert torch.equal(torch.nan_to_num(block_max(x, *block)), torch.nan_to_num(expected))
    # the preprocessor pools NumPy arrays: the same values
    pooled = torch.from_numpy(block_max(x.numpy(), *block))
    assert torch.equal(pooled.isnan(), expected.isnan())
    assert torch.equal(torch.nan_to_num(pooled), torch.nan_to_num(expected))


def test_parsed_observation_times_follow_the_header():
    # Times are parsed once per header (cached by the date cards): a changed DATE-OBS is read again.
    from sunpy_jets.inputs._checks import observation_time

    m = make_aia_sequence(1)[0]
    first = observation_time(m)
    assert observation_time(m) == first == m.date
    m.meta["date-obs"] = (first + 60 * u.s).isot
    assert (observation_time(m) - first).to_value(u.s) == pytest.approx(60)
    m.meta["date-obs"] = "not a time"
    with pytest.raises(InputError, match="observation time"):
        observation_time(m)
