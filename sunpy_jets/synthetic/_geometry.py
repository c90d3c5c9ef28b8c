"""
The plane-of-sky geometry of a synthetic field of view.

Everything the generator draws is computed on two arrays of helioprojective coordinates
(``tx``, ``ty`` in arcsec, one value per pixel) so that procedural fields and real maps share
one code path. Physical sizes convert to arcsec with the observer's distance, not a fixed
725 km/arcsec, so that January and July differ as they do in real data.
"""

from dataclasses import dataclass, field

import numpy as np

import astropy.units as u

__all__ = ["Field"]

_ARCSEC_RAD = np.pi / (180 * 3600)


@dataclass(eq=False)
class Field:
    """
    Helioprojective coordinates of every pixel of a frame.

    Parameters
    ----------
    tx, ty : `numpy.ndarray`
        ``(ny, nx)`` arrays of helioprojective longitude and latitude in arcsec.
    scale : float
        Pixel size in arcsec.
    rsun : float
        Apparent solar radius in arcsec.
    dsun_km : float
        Observer-Sun distance in km.
    """

    tx: np.ndarray
    ty: np.ndarray
    scale: float
    rsun: float
    dsun_km: float
    _windows: dict = field(default_factory=dict, repr=False)

    @classmethod
    def regular(cls, shape, center, scale, rsun, dsun_km):
        """
        A field on a regular, axis-aligned grid centred on ``center`` (arcsec), as a TAN projection
        with the reference pixel at the array centre gives to within 1e-5 relative.
        """
        ny, nx = shape
        x = center[0] + (np.arange(nx, dtype=np.float32) - (nx - 1) / 2) * scale
        y = center[1] + (np.arange(ny, dtype=np.float32) - (ny - 1) / 2) * scale
        tx, ty = np.broadcast_arrays(x[np.newaxis, :], y[:, np.newaxis])
        return cls(tx, ty, float(scale), float(rsun), float(dsun_km))

    @classmethod
    def from_map(cls, smap):
        """The field of a `~sunpy.map.GenericMap`, from its WCS."""
        from sunpy.map import all_coordinates_from_map

        coords = all_coordinates_from_map(smap)
        tx = coords.Tx.to_value(u.arcsec).astype(np.float32)
        ty = coords.Ty.to_value(u.arcsec).astype(np.float32)
        scale = float(np.mean(u.Quantity([smap.scale.axis1, smap.scale.axis2]).to_value(u.arcsec / u.pix)))
        return cls(tx, ty, scale, float(smap.rsun_obs.to_value(u.arcsec)), float(smap.dsun.to_value(u.km)))

    @property
    def shape(self):
        """``(ny, nx)`` of the frame."""
        return self.tx.shape

    @property
    def km_per_arcsec(self):
        """Plane-of-sky length of one arcsec at the Sun, in km."""
        return self.dsun_km * _ARCSEC_RAD

    def mm_to_arcsec(self, megametres):
        """Convert a length in Mm (a number) to arcsec at the Sun."""
        return megametres * 1e3 / self.km_per_arcsec

    @property
    def bounds(self):
        """``(xmin, xmax, ymin, ymax)`` of the field in arcsec."""
        return (float(self.tx.min()), float(self.tx.max()), float(self.ty.min()), float(self.ty.max()))

    @property
    def center(self):
        """The ``(tx, ty)`` of the central pixel in arcsec."""
        ny, nx = self.shape
        return float(self.tx[ny // 2, nx // 2]), float(self.ty[ny // 2, nx // 2])

    def window(self, box):
        """
        The ``(rows, cols)`` slices holding the arcsec box ``(xmin, xmax, ymin, ymax)``, or `None` when
        the box misses the field. Cached per box, because a feature asks once per frame.
        """
        key = tuple(round(b, 3) for b in box)
        if key not in self._windows:
            xmin, xmax, ymin, ymax = box
            pad = self.scale
            inside = (self.tx >= xmin - pad) & (self.tx <= xmax + pad) & (self.ty >= ymin - pad) & (self.ty <= ymax + pad)
            rows = np.flatnonzero(inside.any(axis=1))
            cols = np.flatnonzero(inside.any(axis=0))
            self._windows[key] = (
                None if rows.size == 0 else (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
            )
        return self._windows[key]

    def contains(self, x, y, *, margin=0.0):
        """Whether the point ``(x, y)`` (arcsec) lies inside the field, ``margin`` (a fraction) from its edges."""
        xmin, xmax, ymin, ymax = self.bounds
        mx, my = margin * (xmax - xmin), margin * (ymax - ymin)
        return xmin + mx <= x <= xmax - mx and ymin + my <= y <= ymax - my
