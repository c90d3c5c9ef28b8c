"""Tests of the Zooniverse subject render reader (sunpy_jets.datasets.zooniverse)."""

import warnings

import numpy as np
import pytest

import astropy.units as u
from astropy.time import Time

import sunpy.map

from sunpy_jets.datasets import (
    SJH_SUBJECT_CADENCE,
    SubjectCalibration,
    colormap_lut,
    invert_colormap,
    read_subject_calibration,
    read_subject_render,
    render_sequence,
    stretch_forward,
    stretch_inverse,
    subjects_table,
)
from sunpy_jets.exceptions import CatalogueError, FileFormatError, InputError, InputTypeError

from conftest import make_aia_sequence, realdata_path

HEADER = "gif,t0,x_arcsec_per_px,x_arcsec_at_px0,x_fit_resid,y_arcsec_per_px,y_arcsec_at_px0,y_fit_resid,r0,r1,c0,c1,jets\n"
JET = "sjh_2011-04-08T11_1;1;-294.3;-301.0;89.5;39.0;0.2870065395589255;10.8"


def known_image(shape=(60, 80)):
    """A smooth known image in [0, 1] with a bright spot, a gradient and a dark corner."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    img = 0.05 + 0.4 * xx / shape[1] + 0.5 * np.exp(-((yy - 30) ** 2 + (xx - 50) ** 2) / 50.0)
    img[:8, :8] = 0.0
    return np.clip(img, 0, 1)


def write_render(path, frames, *, box_origin=(20, 30), canvas=(120, 150), grid_cols=(), grid_rows=()):
    """Write a subject-like animated GIF: white canvas, the frames (positions in [0, 1]) coloured, dotted grid lines."""
    from PIL import Image

    lut = colormap_lut()
    images = []
    for f in frames:
        rgb = np.full((*canvas, 3), 255, dtype=np.uint8)
        r, c = box_origin
        coloured = lut[np.round(f * 255).astype(int)].astype(float)
        for col in grid_cols:  # dotted white at alpha 0.5, as sunpy's WCS grid
            coloured[::2, col] = 0.5 * coloured[::2, col] + 127.5
        for row in grid_rows:
            coloured[row, ::2] = 0.5 * coloured[row, ::2] + 127.5
        rgb[r : r + f.shape[0], c : c + f.shape[1]] = np.round(coloured).astype(np.uint8)
        rgb[5:10, 5:40] = 0  # a "title" outside the box
        images.append(Image.fromarray(rgb))
    images[0].save(path, save_all=True, append_images=images[1:], duration=500, loop=0)
    return path


def calibration_for(shape, *, box_origin=(20, 30), t0="2011-04-08T11:21:44", scale=0.8):
    r, c = box_origin
    return SubjectCalibration(
        name="test.gif",
        t0=Time(t0),
        x_scale=scale * u.arcsec,
        x_offset=(-300 - scale * c) * u.arcsec,
        x_fit_residual=0 * u.arcsec,
        y_scale=-scale * u.arcsec,
        y_offset=(-200 + scale * r) * u.arcsec,
        y_fit_residual=0 * u.arcsec,
        box=(r, r + shape[0] - 1, c, c + shape[1] - 1),
    )


# --------------------------------------------------------------------------------------------------
# Colormap and stretch


def test_invert_colormap_recovers_every_lut_position():
    lut = colormap_lut()
    position, distance = invert_colormap(lut[np.arange(256)][None])
    # sdoaia304 has no repeated colour, so every entry maps back to itself
    np.testing.assert_array_equal(np.round(position[0] * 255).astype(int), np.arange(256))
    assert distance.max() == 0


def test_invert_colormap_flags_foreign_colours():
    position, distance = invert_colormap(np.array([[[0, 200, 255]]], dtype=np.uint8))  # a blue: not in sdoaia304
    assert distance[0, 0] > 50


def test_invert_colormap_bad_shape():
    with pytest.raises(InputError, match="3 \\(or 4\\) colours"):
        invert_colormap(np.zeros((4, 5)))


def test_unknown_colormap():
    with pytest.raises(InputError, match="unknown colormap"):
        colormap_lut("no_such_colormap")


@pytest.mark.parametrize("stretch", ["asinh", "linear", "sqrt", "log"])
def test_stretch_roundtrip(stretch):
    x = np.linspace(0, 1, 101)
    a = 1000.0 if stretch == "log" else 0.01
    np.testing.assert_allclose(stretch_inverse(stretch_forward(x, stretch=stretch, a=a), stretch=stretch, a=a), x, atol=1e-12)


def test_stretch_bad_name():
    with pytest.raises(InputError, match="unknown stretch"):
        stretch_forward([0.5], stretch="cubic")


# --------------------------------------------------------------------------------------------------
# Subject renders


def test_read_render_recovers_known_image(tmp_path):
    truth = [known_image(), np.roll(known_image(), 3, axis=1)]
    gif = write_render(tmp_path / "s.gif", truth, grid_cols=(40,), grid_rows=(25,))
    cal = calibration_for(truth[0].shape)
    seq = read_subject_render(gif, cal, stretch="linear", peak=1.0)
    assert isinstance(seq, sunpy.map.MapSequence) and len(seq) == 2
    for m, t in zip(seq, truth):
        data = m.data[::-1]  # back to the render's row order (row 0 at the top)
        assert data.shape == t.shape
        off_grid = np.ones(t.shape, bool)
        off_grid[:, 40] = off_grid[25, :] = False
        # colormap positions are exact to 8 bits away from the overlays
        assert np.abs(data[off_grid] - t[off_grid]).max() <= 0.5 / 255 + 1e-6
        # the grid lines are filled from their neighbours: close to the truth, nothing like the white overlay
        assert np.abs(data[:, 40] - t[:, 40]).max() < 0.05
        assert np.abs(data[25, :] - t[25, :]).max() < 0.05
    assert seq[0].meta["render_masked"] >= t.shape[0] + t.shape[1] - 1


def test_read_render_nan_fill_and_asinh(tmp_path):
    truth = known_image()
    gif = write_render(tmp_path / "s.gif", [truth, truth[:, ::-1]], grid_cols=(40,))
    seq = read_subject_render(gif, calibration_for(truth.shape), fill="nan")  # asinh, peak 1000 by default
    data = seq[0].data[::-1]
    assert np.isnan(data[:, 40]).all() and np.isfinite(np.delete(data, 40, axis=1)).all()
    expected = stretch_inverse(np.round(truth * 255) / 255) * 1000
    np.testing.assert_allclose(np.delete(data, 40, axis=1), np.delete(expected, 40, axis=1), rtol=1e-5, atol=1e-3)


def test_read_render_geometry_and_metadata(tmp_path):
    truth = known_image()
    gif = write_render(tmp_path / "s.gif", [np.roll(truth, i, axis=1) for i in range(3)])  # GIF merges equal frames
    cal = calibration_for(truth.shape)
    seq = read_subject_render(gif, cal)
    m = seq[0]
    assert m.instrument.startswith("AIA") and m.wavelength == 304 * u.AA and m.exposure_time == 2.9 * u.s
    assert [s.date.isot for s in seq] == [(cal.t0 + i * SJH_SUBJECT_CADENCE).isot for i in range(3)]
    # The top-left pixel of the box is (-300, -200) arcsec: render row 0 is the top (FITS row ny - 1).
    top_left = m.wcs.pixel_to_world(0, truth.shape[0] - 1)
    assert top_left.Tx.to_value(u.arcsec) == pytest.approx(-300, abs=1e-3)
    assert top_left.Ty.to_value(u.arcsec) == pytest.approx(-200, abs=1e-3)
    assert m.scale.axis1 == 0.8 * u.arcsec / u.pix and m.scale.axis2 == 0.8 * u.arcsec / u.pix
    c = cal.pixel_to_world(cal.box[0], cal.box[2])
    assert c.Tx.to_value(u.arcsec) == pytest.approx(-300) and c.Ty.to_value(u.arcsec) == pytest.approx(-200)
    assert m.observer_coordinate.radius.to(u.AU).value == pytest.approx(1.0, abs=0.02)  # Earth


def test_read_render_is_accepted_by_the_classifier(tmp_path):
    from sunpy_jets import JetClassifier
    from sunpy_jets.model import JetModelConfig

    truth = known_image()
    gif = write_render(tmp_path / "s.gif", [np.roll(truth, i, axis=1) for i in range(4)])
    cal = calibration_for(truth.shape)
    seq = read_subject_render(gif, cal)
    clf = JetClassifier(JetModelConfig(image_size=32, channels=(4, 8), hidden_size=8, fov_arcsec=40), device="cpu", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fewer frames than the window, resampling notes
        p = clf.predict_proba(seq, center=cal.center)
    assert 0.0 <= p <= 1.0


def test_read_render_bad_input(tmp_path):
    truth = known_image()
    gif = write_render(tmp_path / "s.gif", [truth])
    cal = calibration_for(truth.shape)
    with pytest.raises(InputTypeError, match="SubjectCalibration"):
        read_subject_render(gif, {"r0": 1})
    with pytest.raises(InputError, match="does not exist"):
        read_subject_render(tmp_path / "missing.gif", cal)
    (tmp_path / "bad.gif").write_bytes(b"not an image")
    with pytest.raises(FileFormatError, match="could not be read"):
        read_subject_render(tmp_path / "bad.gif", cal)
    far = calibration_for(truth.shape, box_origin=(100, 30))
    with pytest.raises(InputError, match="does not fit"):
        read_subject_render(gif, far)
    with pytest.raises(InputError, match="fill"):
        read_subject_render(gif, cal, fill="zero")
    with pytest.raises(InputTypeError, match="exposure"):
        read_subject_render(gif, cal, exposure=2.9)


# --------------------------------------------------------------------------------------------------
# Calibration file


def test_read_calibration(tmp_path):
    path = tmp_path / "subjects.csv"
    path.write_text(
        HEADER
        + "1.gif,2011-04-08T11:21:44.000,0.8662,-582.2289,0.1011,-0.8658,-90.0433,0.0,103,446,94,553," + JET + "\n"
        + "2.gif,2011-04-08T12:00:00.000,0.8662,-582.2289,0.1011,-0.8658,-90.0433,0.0,103,446,94,553,\n"
    )  # fmt: skip
    subjects = read_subject_calibration(path)
    assert [s.name for s in subjects] == ["1.gif", "2.gif"]
    s = subjects[0]
    assert s.t0 == Time("2011-04-08T11:21:44") and s.box == (103, 446, 94, 553)
    (jet,) = s.jets
    assert jet.starts_here and s.starting_jets == (jet,)
    assert jet.base.Tx.to_value(u.arcsec) == pytest.approx(-294.3) and jet.base.obstime == s.t0
    assert jet.max_height == 89.5 * u.arcsec and jet.width == 39.0 * u.arcsec and jet.duration == 10.8 * u.min
    # arcsec/s -> km/s at the Sun-Earth distance (~725 km/arcsec at 1 AU; 1.0012 AU on that day)
    assert jet.velocity.to_value(u.km / u.s) == pytest.approx(0.2870065 * 725.27 * 1.0012, rel=2e-3)
    assert subjects[1].jets == ()
    center = s.center
    assert center.Tx.to_value(u.arcsec) == pytest.approx(-582.2289 + 0.8662 * (94 + 553) / 2)
    table = subjects_table(subjects)
    assert table["jet_height"].unit == u.arcsec and np.isnan(table["jet_height"][1])
    assert table["n_starting_jets"].tolist() == [1, 0]
    assert table["jet_base_x"][1] == table["center_x"][1]


@pytest.mark.parametrize(
    ("row", "match"),
    [
        ("1.gif,yesterday,0.8,-500,0,-0.8,-90,0,1,2,3,4,", "not a time"),
        ("1.gif,2011-04-08T11:21:44,abc,-500,0,-0.8,-90,0,1,2,3,4,", "must be a number"),
        ("1.gif,2011-04-08T11:21:44,0.8,-500,0,0.8,-90,0,1,2,3,4,", "negative"),
        ("1.gif,2011-04-08T11:21:44,0.8,-500,0,-0.8,-90,0,5,2,3,4,", "plot box"),
        ("1.gif,2011-04-08T11:21:44,0.8,-500,0,-0.8,-90,0,1,2,3,4,sjh_1;1;0;0", "fields"),
        ("1.gif,2011-04-08T11:21:44,0.8,-500,0,-0.8,-90,0,1,2,3,4,sjh_1;yes;0;0;1;1;1;1", "starts_here"),
        ("1.gif,2011-04-08T11:21:44,0.8,-500,0,-0.8,-90,0,1,2,3,4,sjh_1;1;nan;0;1;1;1;1", "base point"),
    ],
)
def test_read_calibration_bad_rows(tmp_path, row, match):
    path = tmp_path / "subjects.csv"
    path.write_text(HEADER + row + "\n")
    with pytest.raises(CatalogueError, match=match):
        read_subject_calibration(path)


def test_read_calibration_bad_files(tmp_path):
    with pytest.raises(CatalogueError, match="cannot read"):
        read_subject_calibration(tmp_path / "none.csv")
    (tmp_path / "cols.csv").write_text("gif,t0\n1.gif,2011-01-01\n")
    with pytest.raises(CatalogueError, match="lacks the column"):
        read_subject_calibration(tmp_path / "cols.csv")
    (tmp_path / "empty.csv").write_text(HEADER)
    with pytest.raises(CatalogueError, match="no subject rows"):
        read_subject_calibration(tmp_path / "empty.csv")
    with pytest.raises(InputTypeError):
        subjects_table([])


# --------------------------------------------------------------------------------------------------
# Calibrated maps pushed through the render


def test_render_sequence_roundtrip():
    seq = make_aia_sequence(n_frames=3, shape=(40, 50), blob=(20, 20, 800.0))
    out = render_sequence(seq, grid=None, stretch="linear", percentile=100, peak=1.0)
    assert len(out) == 3 and out[0].meta["render_masked"] == 0
    for m, orig in zip(out, seq):
        expected = orig.data / orig.data.max()
        assert np.abs(m.data - expected).max() <= 0.5 / 255 + 1e-6  # 8-bit quantisation only
        assert m.date == orig.date and m.wcs.wcs.crval.tolist() == orig.wcs.wcs.crval.tolist()
        assert m.exposure_time == 2.9 * u.s


def test_render_sequence_grid_is_found_and_filled():
    # A 120" field with a bright spot, so that the background is mid-scale (grid lines over the white top of
    # sdoaia304 cannot be told from the image, in the subjects as here)
    seq = make_aia_sequence(n_frames=2, shape=(200, 200), scale=0.6 * u.arcsec / u.pix, blob=(100, 100, 5000.0))
    out = render_sequence(seq, grid=50 * u.arcsec, fill="nan", percentile=100)
    masked = np.isnan(out[0].data)
    assert masked.any()
    # the masked lines sit where the drawn grid is: full rows and columns
    assert masked.all(axis=0).sum() >= 2 and masked.all(axis=1).sum() >= 2
    filled = render_sequence(seq, grid=50 * u.arcsec)
    assert np.isfinite(filled[0].data).all()


def test_render_sequence_blur_smooths_the_pixel_scale():
    rng = np.random.default_rng(0)
    seq = make_aia_sequence(n_frames=1, shape=(60, 60), scale=0.6 * u.arcsec / u.pix, blob=(30, 30, 800.0))
    noisy = [sunpy.map.Map(seq[0].data * rng.uniform(0.5, 1.5, seq[0].data.shape), seq[0].meta)]
    sharp = render_sequence(noisy, grid=None)[0].data
    smooth = render_sequence(noisy, grid=None, blur=1.8 * u.arcsec)[0].data
    roughness = [np.abs(np.diff(x, axis=1)).mean() / np.abs(x - x.mean()).mean() for x in (sharp, smooth)]
    assert roughness[1] < 0.5 * roughness[0]
    # the blob survives: the brightest pixel stays where it was
    assert np.unravel_index(np.argmax(smooth), smooth.shape) == pytest.approx((30, 30), abs=2)


def test_render_sequence_bad_input():
    with pytest.raises(InputTypeError, match="MapSequence"):
        render_sequence(np.zeros((3, 4, 4)))
    with pytest.raises(InputError, match="empty"):
        render_sequence([])
    seq = make_aia_sequence(n_frames=2, shape=(16, 16))
    with pytest.raises(InputError, match="percentile"):
        render_sequence(seq, percentile=0)
    with pytest.raises(InputTypeError, match="grid"):
        render_sequence(seq, grid=100)
    with pytest.raises(InputTypeError, match="blur"):
        render_sequence(seq, blur=1.8)
    with pytest.raises(InputTypeError, match="blur"):
        render_sequence(seq, blur=-1 * u.arcsec)
    zero = sunpy.map.Map(np.zeros((16, 16)), seq[0].meta)
    with pytest.raises(InputError, match="no finite positive"):
        render_sequence([zero])


# --------------------------------------------------------------------------------------------------
# The real Solar Jet Hunter subjects (../shared/realdata)


@pytest.fixture(scope="module")
def real_subjects():
    folder = realdata_path("sjh_subjects")
    return folder, read_subject_calibration(folder / "subjects.csv")


def test_real_calibration_file(real_subjects):
    folder, subjects = real_subjects
    assert len(subjects) == 65
    assert all((folder / s.name).is_file() for s in subjects)
    assert sum(bool(s.starting_jets) for s in subjects) == 29
    for s in subjects:
        for jet in s.jets:
            assert jet.max_height.unit == u.arcsec and jet.duration.unit == u.min
            assert np.isnan(jet.velocity) or 0 < jet.velocity.to_value(u.km / u.s) < 2000


@pytest.mark.parametrize("index", [2, 30, 64])
def test_real_subject_render(real_subjects, index):
    folder, subjects = real_subjects
    s = subjects[index]
    seq = read_subject_render(folder / s.name, s, fill="nan")
    assert len(seq) == 15
    m = seq[0]
    r0, r1, c0, c1 = s.box
    assert m.data.shape == (r1 - r0 + 1, c1 - c0 + 1)
    # The overlays are few, and the masked full columns are the render's grid lines: at round arcsec
    # values of the axis calibration (an independent check of the calibration and of the grid finder).
    masked = np.isnan(m.data)
    assert masked.mean() < 0.1
    cols = np.nonzero(masked.mean(axis=0) > 0.9)[0]
    assert len(cols) >= 1
    tx = m.wcs.pixel_to_world(cols, np.zeros_like(cols)).Tx.to_value(u.arcsec)
    # the ticks (and grid) are every 20", 50" or 100" depending on the zoom: all multiples of 10"
    assert np.all(np.abs(tx - 10 * np.round(tx / 10)) < 1.5 * abs(s.x_scale.to_value(u.arcsec)) + 0.5), f"grid columns at {tx}"
    # Every catalogue jet of the subject lies inside the field.
    for jet in s.jets:
        px, py = m.wcs.world_to_pixel(jet.base)
        assert -1 <= px <= m.data.shape[1] and -1 <= py <= m.data.shape[0]
    # The image changes from frame to frame (a sequence, not one frame repeated).
    assert np.nanmean(np.abs(seq[-1].data - seq[0].data)) > 0


# --------------------------------------------------------------------------------------------------
# The evaluation script's helpers (scripts/): the independent injector and the vote-line reader


@pytest.fixture(scope="module")
def scripts_path():
    import sys
    from pathlib import Path

    path = str(Path(__file__).resolve().parents[1] / "scripts")
    sys.path.insert(0, path)
    yield path
    sys.path.remove(path)


def test_independent_injector_adds_a_growing_spire(scripts_path):
    from independent_injector import draw_jet, inject

    rng = np.random.default_rng(1)
    stack = np.full((15, 120, 120), 40.0)
    jet = draw_jet(rng, base=(60.0, 60.0), pixel_scale=0.6, duration=336.0, outward=0.0)
    out = inject(stack, np.arange(15) * 24.0, jet, rng=rng)
    added = out - stack
    assert np.abs(added[0]).max() == 0 or jet.start < 1e-6  # nothing before the jet starts
    bright = [(a > 0.5 * jet.contrast * 40).sum() for a in added]
    assert bright[-1] > bright[3] > 0  # the spire grows
    # the brightest added pixels lie along the drawn direction from the base
    rows, cols = np.nonzero(added[-1] > 0.3 * jet.contrast * 40)
    along = (cols - 60) * np.cos(jet.angle) + (rows - 60) * np.sin(jet.angle)
    assert along.max() > 0.5 * min(jet.height, jet.speed * (336 - jet.start))


def test_vote_line_reader_on_real_subjects(scripts_path, real_subjects):
    from evaluate_real_data import TitleReader

    folder, _ = real_subjects
    reader = TitleReader()
    # read by eye from the renders
    assert reader.read(folder / "70439342.gif") == (4.0, 0.5)
    assert reader.read(folder / "70444781.gif") == (46.0, 0.93)
    assert reader.read(folder / "70444812.gif") == (37.0, 0.54)
    assert reader.read(folder / "70446540.gif") == (3.0, 1.0)


def test_sharpness_index_falls_with_blur_and_the_matching_blur_is_interpolated(scripts_path):
    from scipy import ndimage

    from render_sharpness import matching_blur, sharpness_index

    rng = np.random.default_rng(2)
    frames = rng.standard_normal((3, 1, 64, 64))
    sigmas = [0.0, 0.5, 1.0, 2.0]
    indices = [sharpness_index(ndimage.gaussian_filter(frames, (0, 0, s, s)) if s else frames) for s in sigmas]
    assert all(a > b for a, b in zip(indices, indices[1:]))  # every blur takes power from the high band first
    assert sharpness_index(5.0 * frames + 2.0) == pytest.approx(indices[0])  # contrast and offset do not count
    assert matching_blur(sigmas, indices, indices[2]) == pytest.approx(1.0)
    assert 0.5 < matching_blur(sigmas, indices, np.sqrt(indices[1] * indices[2])) < 1.0
    assert matching_blur(sigmas, indices, 2 * indices[0]) is None  # sharper than any blur reaches
