"""
``read_fits`` reads the image HDU directly (issue 22: a third faster on small RICE cutouts) and must give the map
sunpy's own reader gives: same class, pixels, time, wavelength, WCS and unit, on every real FITS file we have.
"""

import warnings

import numpy as np
import pytest

import sunpy.map

from sunpy_jets.exceptions import FileFormatError
from sunpy_jets.inputs._files import read_fits

from conftest import realdata_path


def test_read_fits_gives_sunpy_s_map_on_every_real_file():
    files = sorted(realdata_path().rglob("*.fits"))
    assert len(files) > 50
    for path in files:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = sunpy.map.Map(str(path))
        ours = read_fits(path)
        assert type(ours) is type(expected), path
        assert np.array_equal(np.asarray(ours.data), np.asarray(expected.data), equal_nan=True), path
        assert ours.date == expected.date and ours.wavelength == expected.wavelength, path
        assert ours.unit == expected.unit and ours.exposure_time == expected.exposure_time, path
        assert ours.wcs.to_header() == expected.wcs.to_header(), path


def test_read_fits_refuses_several_images_and_no_image(tmp_path):
    from astropy.io import fits

    two = tmp_path / "two.fits"
    fits.HDUList([fits.PrimaryHDU(np.ones((4, 4))), fits.ImageHDU(np.ones((4, 4)))]).writeto(two)
    with pytest.raises(FileFormatError, match="2 images"):
        read_fits(two)
    none = tmp_path / "none.fits"
    fits.HDUList([fits.PrimaryHDU()]).writeto(none)
    with pytest.raises(FileFormatError, match="no image"):
        read_fits(none)


def test_header_time_is_the_maps_own_date_on_every_real_file():
    # header_time parses only the cards a map's time can depend on: the time must still be sunpy's, exactly
    from sunpy_jets.inputs._files import header_time

    for path in sorted(realdata_path().rglob("*.fits")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = sunpy.map.Map(str(path)).date
        got = header_time(path)
        assert got.scale == expected.scale and (got - expected).to_value("s") == 0, path
