"""Tests of the real sample files shipped with the package (`sunpy_jets.sample_data`)."""

import pytest

import astropy.units as u

import sunpy.map

from sunpy_jets import InputWarning, JetModelConfig
from sunpy_jets.exceptions import InputError
from sunpy_jets.inputs import prepare_sequence
from sunpy_jets.sample_data import SAMPLE_FILES, sample_file
from sunpy_jets.synthetic import make_sequence


def test_every_sample_file_is_shipped():
    for name in SAMPLE_FILES:
        assert sample_file(name).is_file()


def test_aia304_limb_frame_is_real_aia_304():
    m = sunpy.map.Map(sample_file("aia304_limb"))
    assert m.wavelength == 304 * u.AA and m.exposure_time > 0 * u.s
    assert u.allclose(m.scale.axis1, 0.6 * u.arcsec / u.pix, rtol=1e-3)
    # As the background of a synthetic jet it makes a sequence the model takes (padded from 240″ x 270″ to 300″).
    seq = make_sequence(kind="jet", seed=0, n_frames=30, background=[m])
    assert seq.label and seq.maps[0].wavelength == 304 * u.AA
    with pytest.warns(InputWarning, match="padded"):
        prepared = prepare_sequence(seq.maps, JetModelConfig())
    assert tuple(prepared.frames.shape) == (30, 1, 166, 166)


def test_unknown_sample_name():
    with pytest.raises(InputError, match="aia304_limb"):
        sample_file("aia171")
