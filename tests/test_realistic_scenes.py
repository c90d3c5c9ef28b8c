"""Tests of the realistic scene generator: real-frame backgrounds, catalogue jets, pairs, noise and renders."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch

import astropy.units as u

from sunpy_jets.exceptions import InputError
from sunpy_jets.synthetic import BackgroundBank, JetDistribution, RenderAugment, SceneSampler, make_sequence, write_fits
from sunpy_jets.synthetic.realistic import NEGATIVE_KINDS, augment_batch, procedural_images, psf

REALDATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "realdata"
needs_realdata = pytest.mark.skipif(not REALDATA.is_dir(), reason="needs ../shared/realdata (not in a fresh clone)")


@pytest.fixture(scope="module")
def sampler():
    images, geometry = procedural_images(4, size=160, seed=0)
    return SceneSampler(images, geometry, n_frames=8, size=96, seed=3, negative_rate=0.0)


def test_pairs_differ_only_by_the_jet(sampler):
    batch = sampler.sample(3)
    assert batch.frames.shape == (6, 8, 96, 96)
    assert batch.labels.tolist() == [1.0, 0.0] * 3
    assert torch.isfinite(batch.frames).all() and (batch.frames >= 0).all()
    for i in range(3):
        jet, twin = batch.frames[2 * i], batch.frames[2 * i + 1]
        # The twin holds the same background: outside the jet, only noise tells them apart.
        diff = (jet - twin).abs()
        level = float(twin.median())
        assert float((diff < 0.15 * level).float().mean()) > 0.3  # a large part of the field differs by noise only
        assert float(diff.amax()) > level  # the jet is brighter than the quiet Sun somewhere
        assert batch.info[i]["jet"]["height_arcsec"] >= 15


def test_sampler_is_deterministic():
    images, geometry = procedural_images(2, size=100, seed=1)
    a = SceneSampler(images, geometry, n_frames=4, size=40, seed=7).sample(2)
    b = SceneSampler(images, geometry, n_frames=4, size=40, seed=7).sample(2)
    torch.testing.assert_close(a.frames, b.frames)
    c = SceneSampler(images, geometry, n_frames=4, size=40, seed=8).sample(2)
    assert not torch.equal(a.frames, c.frames)


def test_a_different_number_of_frames_per_call(sampler):
    assert sampler.sample(1, n_frames=5).frames.shape == (2, 5, 96, 96)


@pytest.mark.parametrize("kind", NEGATIVE_KINDS)
def test_hard_negatives_render(kind, sampler):
    sampler._set_frames(6)
    x = sampler._negative(kind, 10.0)
    assert x.shape == (6, 96, 96)
    assert torch.isfinite(x).all() and (x >= 0).all() and float(x.max()) > 0


def test_unknown_negative_is_refused(sampler):
    with pytest.raises(ValueError, match="unknown hard negative"):
        sampler._negative("tornado", 10.0)


def test_psf_keeps_the_total_and_blurs():
    x = torch.zeros(1, 41, 41)
    x[0, 20, 20] = 1.0
    y = psf(x)
    assert float(y.sum()) == pytest.approx(1.0, rel=0.02)
    assert 0.3 < float(y.max()) < 0.6  # a core of about 1.3 px FWHM: half the light stays in the pixel


def test_render_quantises_to_eight_bits():
    x = torch.rand(3, 4, 32, 32) * 200
    y = RenderAugment(p=1.0, read_default=1.0)(x, torch.Generator().manual_seed(0))
    assert float(y.max()) <= 1000 / 2.9 + 1e-3
    for seq in y:
        for frame in seq:
            assert len(torch.unique(frame)) <= 256
    # The members of a pair share one render.
    x2 = torch.cat([x[:1], x[:1]])
    y2 = RenderAugment(p=1.0)(x2, torch.Generator().manual_seed(1), groups=[0, 0])
    torch.testing.assert_close(y2[0], y2[1])


def test_render_off_changes_nothing():
    x = torch.rand(2, 3, 8, 8)
    torch.testing.assert_close(RenderAugment(p=0.0)(x, torch.Generator().manual_seed(0)), x)


def test_smaller_field_is_padded_with_the_median():
    x = torch.arange(2 * 10 * 10, dtype=torch.float32).reshape(1, 2, 10, 10)
    y = augment_batch(x, torch.Generator().manual_seed(0), fov_rate=1.0, flip=False)
    assert float(y[0, 0, 0, 0]) == float(y[0, 0, -1, -1])  # corners are padding
    assert int((y[0, 0] == y[0, 0, 0, 0]).sum()) > 10


def test_jet_distribution_from_a_catalogue_file(tmp_path):
    path = tmp_path / "cat.csv"
    path.write_text(
        "#sjh_ID, date, max_height, avg_width, velocity, duration\n"
        "a,2011-01-01,100.0,40.0,0.2,12.8\nb,2011-01-02,50.0,20.0,nan,5.6\n"
    )
    dist = JetDistribution.from_catalogue(path)
    assert dist.height.tolist() == [100.0, 50.0] and math.isnan(dist.velocity[1])
    h, w, v, d = dist.draw(np.random.default_rng(0), 200)
    assert np.all(np.isfinite(v)) and np.all(v > 0)
    assert 15 <= h.min() and h.max() <= 400 and d.min() >= 120


def test_a_file_that_is_not_the_catalogue_is_refused(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not the Solar Jet Hunter catalogue"):
        JetDistribution.from_catalogue(path)


@needs_realdata
def test_jets_follow_the_catalogue():
    dist = JetDistribution.from_catalogue(REALDATA / "sjh_catalogue" / "Jet_clusters_3.0_2.0_paperID.csv")
    assert len(dist.height) == 883
    h, w, v, d = dist.draw(np.random.default_rng(1), 4000)
    assert np.median(h) == pytest.approx(np.median(dist.height), rel=0.1)
    assert np.median(d) / 60 == pytest.approx(np.median(dist.duration), rel=0.1)


def test_bank_from_fits_frames_and_round_trip(tmp_path):
    seq = make_sequence(kind="quiet", seed=2, n_frames=1, shape=(60, 60), scale=0.6 * u.arcsec / u.pix)
    files = write_fits(seq.maps, tmp_path)
    bank = BackgroundBank.from_files(files)
    assert bank.images[0].shape == (20, 20)
    m = seq.maps[0]
    assert bank.geometry[0][2] == pytest.approx(m.rsun_obs.to_value(u.arcsec) / 1.8, rel=0.01)
    # DN/s: the data divided by the exposure time, then max-pooled 3x3.
    expected = (m.data / m.exposure_time.to_value(u.s)).reshape(20, 3, 20, 3).max(axis=(1, 3))
    np.testing.assert_allclose(bank.images[0], expected, rtol=0.03)  # the FITS files are compressed with loss
    bank.save(tmp_path / "bank.npz")
    again = BackgroundBank.load(tmp_path / "bank.npz")
    assert again.names == bank.names
    np.testing.assert_allclose(again.images[0], bank.images[0], rtol=1e-3)


def test_bank_refuses_nothing_and_missing_files(tmp_path):
    with pytest.raises(InputError, match="at least one frame"):
        BackgroundBank.from_files([])
    with pytest.raises(InputError, match="no such file"):
        BackgroundBank.from_files([tmp_path / "missing.fits"])
    with pytest.raises(InputError, match="positive integer"):
        BackgroundBank.procedural(0)


@needs_realdata
def test_helioviewer_full_disk_frame():
    bank = BackgroundBank.from_files([REALDATA / "helioviewer_jp2" / "2021_06_01__00_01_29_132__SDO_AIA_AIA_304.jp2"])
    image = bank.images[0]
    assert image.shape == (1365, 1365)
    cx, cy, r = bank.geometry[0]
    assert r == pytest.approx(526, abs=3) and cx == pytest.approx(682, abs=3)
    yy, xx = np.mgrid[: image.shape[0], : image.shape[1]]
    rr = np.hypot(xx - cx, yy - cy) / r
    disk, corona = np.median(image[rr < 0.8]), np.median(image[(rr > 1.1) & (rr < 1.2)])
    assert 5 < disk < 60  # DN/s of the quiet Sun at 1.8"/px (max-pooled), approximately
    assert corona < 0.2 * disk


@needs_realdata
def test_real_backgrounds_give_limb_and_disk_scenes():
    bank = BackgroundBank.from_files([REALDATA / "helioviewer_jp2" / "2024_04_16__11_15_41_129__SDO_AIA_AIA_304.jp2"])
    s = SceneSampler(*bank.arrays(), n_frames=3, size=64, seed=0, limb_fraction=0.5)
    batch = s.sample(6)
    assert {info["limb"] for info in batch.info} == {True, False}
    assert torch.isfinite(batch.frames).all()
