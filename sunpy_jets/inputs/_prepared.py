"""
The prepared sequence (frames, times, geometry) and the angle check of cutout widths.
"""

from dataclasses import dataclass

import numpy as np
import torch

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.time import Time

from ..exceptions import InputError, InputTypeError

__all__ = ["PreparedSequence", "check_angle"]


def check_angle(value, name: str, *, allow_pair: bool = False) -> u.Quantity:
    """
    Check that ``value`` is a positive angular `~astropy.units.Quantity` and return it in arcsec.

    Parameters
    ----------
    value : `~astropy.units.Quantity`
        The angle to check.
    name : str
        The argument's name, used in messages.
    allow_pair : bool
        Accept two values (width, height) as well as one.

    Raises
    ------
    `~sunpy_jets.exceptions.InputTypeError`
        If ``value`` is not an angle.
    `~sunpy_jets.exceptions.InputError`
        If it is not positive and finite.

    Examples
    --------
    >>> import astropy.units as u
    >>> from sunpy_jets.inputs import check_angle
    >>> check_angle(5 * u.arcmin, "width")
    <Quantity 300. arcsec>
    >>> check_angle(300, "width")
    Traceback (most recent call last):
    ...
    sunpy_jets.exceptions.InputTypeError: width must be an angle such as 300 * u.arcsec, not 300
    """
    if not isinstance(value, u.Quantity) or value.unit.physical_type != "angle":
        raise InputTypeError(f"{name} must be an angle such as 300 * u.arcsec, not {value!r}")
    value = value.to(u.arcsec)
    if not (value.isscalar or (allow_pair and value.shape == (2,))):
        raise InputError(f"{name} must be a single angle{' or a (width, height) pair' if allow_pair else ''}")
    if not (np.all(np.isfinite(value)) and np.all(value > 0)):
        raise InputError(f"{name} must be positive and finite, got {value}")
    return value


@dataclass
class PreparedSequence:
    """
    A sequence ready for the model, with the times and geometry it came from.

    Attributes
    ----------
    frames : `torch.Tensor`
        Standardised frames, ``(T, 1, H, W)`` float32.
    times : `~astropy.time.Time`
        Time of each frame (on the model's cadence).
    center : `~astropy.coordinates.SkyCoord`
        Helioprojective centre of the model grid (its frame carries the observer).
    extent : `~astropy.units.Quantity`
        Width and height of the data inside the grid, in arcsec (smaller than the grid when padded).
    pixel_scale : `~astropy.units.Quantity`
        Angular size of a grid pixel.

    Examples
    --------
    >>> import torch
    >>> import astropy.units as u
    >>> from astropy.coordinates import SkyCoord
    >>> from astropy.time import Time
    >>> from sunpy.coordinates import frames
    >>> from sunpy_jets.inputs import PreparedSequence
    >>> times = Time("2012-07-19T07:30:00") + [0, 24, 48] * u.s
    >>> hpc = frames.Helioprojective(obstime=times[0], observer="earth")
    >>> prepared = PreparedSequence(
    ...     frames=torch.zeros(3, 1, 16, 16),
    ...     times=times,
    ...     center=SkyCoord(100 * u.arcsec, -50 * u.arcsec, frame=hpc),
    ...     extent=[200, 100] * u.arcsec,
    ...     pixel_scale=12 * u.arcsec,
    ... )
    >>> len(prepared)
    3
    >>> ll, ur = prepared.bounding_box
    >>> ll.Tx, ll.Ty, ur.Tx, ur.Ty
    (<Longitude 0. arcsec>, <Latitude -100. arcsec>, <Longitude 200. arcsec>, <Latitude 0. arcsec>)
    """

    frames: torch.Tensor
    times: Time
    center: SkyCoord
    extent: u.Quantity
    pixel_scale: u.Quantity

    def __len__(self):
        return self.frames.shape[0]

    @property
    def observer(self):
        """The observer of the helioprojective frame (SDO for AIA data)."""
        return self.center.observer

    @property
    def bounding_box(self) -> tuple[SkyCoord, SkyCoord]:
        """Lower-left and upper-right corners of the data inside the grid."""
        half = self.extent / 2
        frame = self.center.frame
        ll = SkyCoord(self.center.Tx - half[0], self.center.Ty - half[1], frame=frame)
        ur = SkyCoord(self.center.Tx + half[0], self.center.Ty + half[1], frame=frame)
        return ll, ur
