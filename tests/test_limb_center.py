"""A cutout centre above the limb, given for another time or observer than the frames' (as catalogue labels are)."""

import numpy as np
import pytest

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.time import Time

import sunpy.map
from sunpy.coordinates import Helioprojective, get_earth

from sunpy_jets.inputs import FramePreprocessor
from sunpy_jets.model import JetModelConfig

CONFIG = JetModelConfig(image_size=32, channels=(4,), hidden_size=4, fov_arcsec=57.6)


def _limb_map(time):
    """A 200×200 frame at 1.8″/px centred on the west limb (960″, 0″), seen from Earth at ``time``."""
    observer = get_earth(time)
    ref = SkyCoord(960 * u.arcsec, 0 * u.arcsec, frame=Helioprojective(observer=observer, obstime=time))
    header = sunpy.map.make_fitswcs_header(
        np.ones((200, 200), dtype=np.float32), ref, scale=[1.8, 1.8] * u.arcsec / u.pix,
        telescope="SDO", instrument="AIA", wavelength=304 * u.AA, exposure=2.9 * u.s,
    )  # fmt: skip
    return sunpy.map.Map(np.ones((200, 200), dtype=np.float32), header)


@pytest.mark.parametrize("hours", [0.5, 6])
def test_an_off_disk_centre_from_another_time_is_placed_on_the_frame(hours):
    frame = _limb_map(Time("2011-01-20T09:00:00"))
    label_time = frame.date + hours * u.hour
    # 1000″ west: above the limb, as a catalogued limb jet's base is; its label was made at another time.
    center = SkyCoord(1000 * u.arcsec, 20 * u.arcsec,
                      frame=Helioprojective(observer=get_earth(label_time), obstime=label_time))  # fmt: skip
    pre = FramePreprocessor(frame, CONFIG, center=center)
    cx, cy = (pre.x0 + pre.x1) / 2 - 0.5, (pre.y0 + pre.y1) / 2 - 0.5
    expected = frame.wcs.world_to_pixel(SkyCoord(1000 * u.arcsec, 20 * u.arcsec, frame=frame.coordinate_frame))
    # Off-disk points keep their angle from the Sun's centre: the same pixel within the observer's small move.
    assert abs(cx - expected[0]) < 2 and abs(cy - expected[1]) < 2
