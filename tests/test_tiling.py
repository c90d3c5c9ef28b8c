"""Tests of spatial tiling: tile geometry, skipping off-disk tiles, pooled vs cropped tile features."""

import numpy as np
import pytest
import torch

import astropy.units as u
from astropy.coordinates import SkyCoord

from sunpy.coordinates import Helioprojective, get_earth

from sunpy_jets import JetClassifier
from sunpy_jets.exceptions import InputError
from sunpy_jets.model import JetModelConfig
from sunpy_jets.inputs import FramePreprocessor
from sunpy_jets.synthetic import make_sequence
from sunpy_jets.scanning import POOL_TOLERANCE, crop_tiles, make_tile_grid, pool_tiles

CONFIG = JetModelConfig(image_size=32, channels=(4, 8, 16), hidden_size=8, n_frames=6)
SCALE = 9.375 * u.arcsec / u.pix


@pytest.fixture(scope="module", params=[(), (2, 4, 8)], ids=["appearance", "with-differences"])
def clf(request):
    """The model without and with a frame-difference encoder (whose windows must not see frames before them)."""
    return JetClassifier(CONFIG.replace(difference_channels=request.param), device="cpu", seed=1, progress=False)


@pytest.fixture(scope="module")
def wide():
    """A 900″ × 1200″ on-disk field: 96 × 128 model pixels."""
    t = "2014-03-01T12:00:00"
    center = SkyCoord(-100 * u.arcsec, 50 * u.arcsec, frame=Helioprojective(observer=get_earth(t), obstime=t))
    return make_sequence(kind="jet", seed=7, n_frames=7, shape=(96, 128), scale=SCALE, center=center,
                         start_time=t, bad_frame_rate=0)


def test_tile_grid_covers_the_field_with_overlap(wide):
    m = wide.maps[0]
    pre = FramePreprocessor(m, CONFIG, full_frame=True)
    grid = make_tile_grid(pre, m, CONFIG, n_stages=3, overlap=0.5, max_radius=None)
    assert grid.step == 16 and grid.cell == 8
    assert grid.shape == (5, 7)
    assert grid.padded_shape[0] >= 96 and grid.padded_shape[1] >= 128
    assert u.isclose(grid.width, 300 * u.arcsec) and u.isclose(grid.height, 300 * u.arcsec)
    # Neighbouring tile centres are one step (150″) apart; the first tile's centre is 150″ in from the corner.
    tx = grid.centers.Tx.to_value(u.arcsec).reshape(grid.shape)
    ty = grid.centers.Ty.to_value(u.arcsec).reshape(grid.shape)
    np.testing.assert_allclose(np.diff(tx, axis=1), 150, atol=1)
    np.testing.assert_allclose(np.diff(ty, axis=0), 150, atol=1)
    corner = m.bottom_left_coord
    assert tx[0, 0] == pytest.approx(corner.Tx.to_value(u.arcsec) + 150 - SCALE.value / 2, abs=2)
    assert ty[0, 0] == pytest.approx(corner.Ty.to_value(u.arcsec) + 150 - SCALE.value / 2, abs=2)


def test_off_disk_tiles_are_skipped():
    t = "2014-03-01T12:00:00"
    # A 1500″-wide field from the disk out to ~2.3 R_sun.
    center = SkyCoord(1400 * u.arcsec, 0 * u.arcsec, frame=Helioprojective(observer=get_earth(t), obstime=t))
    m = make_sequence(kind="quiet", seed=1, n_frames=1, shape=(32, 160), scale=SCALE, center=center,
                      start_time=t, bad_frame_rate=0).maps[0]
    pre = FramePreprocessor(m, CONFIG, full_frame=True)
    everything = make_tile_grid(pre, m, CONFIG, n_stages=3, max_radius=None)
    kept = make_tile_grid(pre, m, CONFIG, n_stages=3, max_radius=1.3)
    assert 0 < len(kept) < len(everything)
    rsun = m.rsun_obs.to_value(u.arcsec)
    near = np.abs(kept.centers.Tx.to_value(u.arcsec)) - 150
    assert np.all(near <= 1.3 * rsun + 1)
    far = np.setdiff1d(everything.keep, kept.keep)
    assert np.all(np.abs(everything.centers.Tx.to_value(u.arcsec)[far]) - 150 > 1.3 * rsun)
    with pytest.raises(InputError, match="solar radii"):
        make_tile_grid(pre, m, CONFIG, n_stages=3, max_radius=0.1)


def test_pooled_features_of_an_interior_tile_match_its_crop_away_from_the_border(clf, wide):
    m = wide.maps[0]
    pre = FramePreprocessor(m, CONFIG, full_frame=True)
    grid = make_tile_grid(pre, m, CONFIG, n_stages=3, max_radius=None)
    frame = torch.from_numpy(np.nan_to_num(grid.pad(pre(m)), nan=0.0))[None, None] / 100
    with torch.inference_mode():
        fmap = clf.model.encoder.feature_maps(frame)
        crops = crop_tiles(frame, grid)
        crop_maps = clf.model.encoder.feature_maps(crops)
    # An interior tile's inner cells (those whose receptive field stays inside the tile) are identical.
    tile = 8  # row 1, col 1 of the 5 × 7 grid
    r, c = grid.origins[tile] // grid.cell
    full = fmap[0, :, r : r + 4, c : c + 4]
    torch.testing.assert_close(full[:, 1:3, 1:3], crop_maps[tile, :, 1:3, 1:3], atol=1e-5, rtol=1e-5)
    pooled = pool_tiles(fmap, grid)
    assert pooled.shape == (1, len(grid), CONFIG.feature_size)


def test_pool_and_crop_probabilities_agree_to_the_documented_tolerance(clf, wide):
    pooled = clf.scan(wide.maps, method="pool", max_radius=None)
    cropped = clf.scan(wide.maps, method="crop", max_radius=None)
    assert len(pooled) == len(cropped) == 2 * 35
    assert np.all(pooled["tile"] == cropped["tile"])
    difference = np.abs(np.asarray(pooled["probability"]) - np.asarray(cropped["probability"]))
    assert difference.max() < POOL_TOLERANCE
    assert difference.max() > 0  # the two methods differ at tile borders: the tolerance is a real one


def test_crop_method_is_exact_for_tiles_inside_the_field(clf, wide):
    table = clf.scan(wide.maps, method="crop", max_radius=None)
    first = table[table["start_time"] == table["start_time"][0]]
    # Tile (1, 1) lies wholly inside the field: cropping it is what predict_proba does with its centre.
    row = first[first["tile"] == 8][0]
    expected = clf.predict_proba(wide.maps.maps[:6], center=row["tile_center"], width=300 * u.arcsec)
    assert row["probability"] == pytest.approx(expected, abs=1e-5)


def test_tiled_scan_has_tile_columns_and_uses_tiles_automatically(clf, wide):
    table = clf.scan(wide.maps)
    for name in ("tile", "tile_center", "tile_width", "tile_height", "centroid"):
        assert name in table.colnames
    assert table.meta["tiled"] and table.meta["n_tiles"] == 35
    assert u.allclose(table["tile_width"], 300 * u.arcsec)
    with pytest.raises(InputError, match="larger than the model"):
        clf.scan(wide.maps, tiles=False)


def test_a_small_field_can_be_tiled_on_request(clf):
    seq = make_sequence(kind="quiet", seed=2, n_frames=6, shape=(32, 32), scale=SCALE, bad_frame_rate=0)
    table = clf.scan(seq.maps, tiles=True, max_radius=None)
    assert table.meta["n_tiles"] == 1 and len(table) == 1
    plain = clf.scan(seq.maps)
    assert table["probability"][0] == pytest.approx(plain["probability"][0], abs=POOL_TOLERANCE)
