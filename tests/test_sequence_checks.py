"""
The sequence checker builds sunpy's coordinate frame once per distinct WCS (issue 22), and still refuses a
later frame whose WCS or observer is broken.
"""

import pytest

import sunpy.map

from sunpy_jets.exceptions import InputError
from sunpy_jets.inputs import iter_maps
from sunpy_jets.inputs._checks import SequenceChecker, wcs_key

from conftest import make_aia_sequence


def _maps(n=6):
    return [sunpy.map.Map(m.data, dict(m.meta)) for m in make_aia_sequence(n_frames=n).maps]


def test_real_aia_frames_share_one_full_check(aia304_files):
    # AIA's roll (CROTA2) changes a little every frame; it is a rotation, checked as a number only
    from sunpy_jets.inputs._files import read_fits

    assert len({wcs_key(read_fits(path)) for path in aia304_files}) == 1


def test_frames_with_one_wcs_share_one_full_check(monkeypatch):
    from sunpy_jets.inputs import _checks

    calls = []
    original = _checks.check_wcs
    monkeypatch.setattr(_checks, "check_wcs", lambda m, where: calls.append(where) or original(m, where=where))
    maps = _maps()
    assert len({wcs_key(m) for m in maps}) == 1
    checker = SequenceChecker(need_exposure=True)
    for m in maps:
        checker(m)
    assert calls == ["frame 0"]


@pytest.mark.parametrize(("key", "value", "message"), [
    ("cdelt1", 0.0, "pixel scale|unusable world coordinate system"),
    ("ctype1", "RA---TAN", "world coordinate system"),
    ("hgln_obs", float("nan"), "HGLN_OBS"),
    ("dsun_obs", "far", "DSUN_OBS"),
    ("crval1", float("inf"), "CRVAL1"),
    ("crota2", float("nan"), "CROTA2"),
])
def test_a_later_broken_frame_is_still_refused(key, value, message):
    maps = _maps()
    maps[4].meta[key] = value
    with pytest.raises(InputError, match=message):
        list(iter_maps(maps))
