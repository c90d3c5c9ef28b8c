"""
``read_fits`` decodes JSOC's RICE files itself, on several cores (issue 22): it must give astropy's pixels exactly,
leave every other kind of compression to astropy, and fail on a damaged file with the file's name.
"""

from pathlib import Path

import numpy as np
import pytest

from astropy.io import fits

from sunpy_jets.exceptions import FileFormatError
from sunpy_jets.inputs import _rice
from sunpy_jets.inputs._files import read_fits


def _header(shape):
    return fits.Header({
        "DATE-OBS": "2011-01-20T09:00:00", "CTYPE1": "HPLN-TAN", "CTYPE2": "HPLT-TAN", "CUNIT1": "arcsec",
        "CUNIT2": "arcsec", "CDELT1": 0.6, "CDELT2": 0.6, "CRPIX1": shape[1] / 2, "CRPIX2": shape[0] / 2,
        "CRVAL1": 0.0, "CRVAL2": 0.0, "TELESCOP": "SDO/AIA", "INSTRUME": "AIA_4", "WAVELNTH": 304,
        "WAVEUNIT": "angstrom", "EXPTIME": 2.9, "DSUN_OBS": 1.5e11, "HGLN_OBS": 0.0, "HGLT_OBS": 0.0,
    })


def _write(path, data, **options):
    fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(data, header=_header(data.shape), **options)]).writeto(path)
    return Path(path)


def _raw_table(path):
    with fits.open(path, disable_image_compression=True) as hdus:
        return hdus[1].header.copy(), hdus.fileinfo(1)["datLoc"]


def _astropy(path):
    with fits.open(path) as hdus:
        return np.asarray(hdus[1].data)


@pytest.fixture
def rng():
    return np.random.default_rng(22)


@pytest.mark.parametrize(("dtype", "shape", "tile"), [
    (np.int16, (1100, 1000), None),  # large enough for the thread pool
    (np.int16, (371, 501), None),  # a JSOC cutout's size: decoded in the calling thread
    (np.int32, (300, 257), None),
    (np.int16, (301, 64), (3, 64)),  # several rows a tile, the last tile short
])
def test_decoded_pixels_are_astropy_s(tmp_path, rng, dtype, shape, tile):
    data = rng.integers(-32768 if dtype is np.int16 else -(2**31), 32767, size=shape, dtype=dtype)
    data[: shape[0] // 3] = rng.poisson(40, size=(shape[0] // 3, shape[1]))  # compressible rows too
    path = _write(tmp_path / "image.fits", data, compression_type="RICE_1", tile_shape=tile)
    header, offset = _raw_table(path)
    ours = _rice.decode_tiles(path, header, offset)
    assert ours is not None and ours.dtype == dtype and ours.shape == shape
    np.testing.assert_array_equal(ours, _astropy(path))
    np.testing.assert_array_equal(read_fits(path).data, data)


@pytest.mark.parametrize("options", [
    {"compression_type": "GZIP_1"},
    {"compression_type": "RICE_1", "tile_shape": (16, 16)},  # tiles narrower than a row
])
def test_other_layouts_are_left_to_astropy(tmp_path, rng, options):
    data = rng.integers(0, 3000, size=(64, 80), dtype=np.int16)
    path = _write(tmp_path / "image.fits", data, **options)
    assert _rice.decode_tiles(path, *_raw_table(path)) is None
    np.testing.assert_array_equal(read_fits(path).data, data)


def test_float_and_scaled_images_are_left_to_astropy(tmp_path, rng):
    floats = rng.normal(100, 5, size=(40, 50)).astype(np.float32)
    path = _write(tmp_path / "float.fits", floats, compression_type="RICE_1")
    assert _rice.decode_tiles(path, *_raw_table(path)) is None
    np.testing.assert_array_equal(read_fits(path).data, _astropy(path))

    scaled = tmp_path / "scaled.fits"
    hdu = fits.CompImageHDU(rng.integers(0, 3000, size=(40, 50)).astype(np.int16), header=_header((40, 50)))
    hdu.header["BSCALE"], hdu.header["BZERO"] = 2.0, 10.0
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(scaled)
    assert _rice.decode_tiles(scaled, *_raw_table(scaled)) is None
    np.testing.assert_array_equal(read_fits(scaled).data, _astropy(scaled))


def test_a_truncated_file_is_refused_with_its_name(tmp_path, rng):
    data = rng.integers(0, 3000, size=(1100, 1000), dtype=np.int16)
    path = _write(tmp_path / "image.fits", data, compression_type="RICE_1")
    header, offset = _raw_table(path)
    damaged = tmp_path / "damaged.fits"
    damaged.write_bytes(path.read_bytes()[: offset + 8 * 1100 + 1000])  # descriptors whole, heap cut short
    with pytest.raises(FileFormatError, match="damaged.fits"):
        read_fits(damaged)
