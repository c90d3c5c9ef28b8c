"""Distances on the sky between helioprojective points of one observation (private)."""

import numpy as np

import astropy.units as u

__all__ = ["sky_distance"]


def sky_distance(a, b):
    """
    Distance on the sky (arcsec, a float array broadcast from ``a`` and ``b``) between helioprojective points.

    `~astropy.coordinates.SkyCoord.separation` first transforms ``b`` into ``a``'s frame. Two frames of one
    observation differ in ``obstime``, and sunpy's helioprojective-to-helioprojective transformation then
    goes through 3D, with the points assumed on the solar surface: off the limb there is no surface, and the
    separation is NaN (astropy also warns that it depends on the direction of the
    transformation). Points seconds to hours apart are compared where they appear on the sky instead; the
    observer moves far less than a pixel in that time.

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.coordinates import SkyCoord
    >>> from sunpy.coordinates import frames
    >>> def hpc(tx, ty, time):
    ...     return SkyCoord(tx * u.arcsec, ty * u.arcsec, frame=frames.Helioprojective(observer="earth", obstime=time))
    >>> a, b = hpc(-990, 0, "2012-10-19T06:42"), hpc(-987, 4, "2012-10-19T06:43")  # off the limb, a minute apart
    >>> float(sky_distance(a, b))
    5.0
    """
    ax, ay = a.Tx.to_value(u.arcsec), a.Ty.to_value(u.arcsec)
    bx, by = b.Tx.to_value(u.arcsec), b.Ty.to_value(u.arcsec)
    return np.hypot(ax - bx, ay - by)
