"""
The frames of a segmentation: `JetCube`, and `CubeBuilder`, which cuts each frame to the box as it comes.

Private: `JetCube` is public as `sunpy_jets.events.JetCube`; `~sunpy_jets.events.cube_from_maps` and the
localisation of events (`~sunpy_jets.events.localize_events`, which feeds one builder per event in a
single pass over the frames) build cubes with `CubeBuilder`.
"""

from dataclasses import dataclass

import numpy as np

import astropy.units as u
from astropy.coordinates import Longitude
from astropy.time import Time

from ..exceptions import InputError

__all__ = ["JetCube", "CubeBuilder", "TARGET_SCALE"]

#: Pixel size (arcsec) the frames are binned to, at most.
TARGET_SCALE = 1.2


@dataclass
class JetCube:
    """
    Frames of one cutout, ready for segmentation.

    Attributes
    ----------
    data : `numpy.ndarray`
        ``(n_frames, ny, nx)`` float32 brightness (DN/s, frames scaled to one overall level).
    times : `~astropy.time.Time`
        Time of each frame.
    tx, ty : `numpy.ndarray`
        ``(ny, nx)`` helioprojective coordinates (arcsec) of the pixel centres.
    scale : `float`
        Pixel size in arcsec.
    km_per_arcsec : `float`
        Plane-of-sky km per arcsec at the Sun, from the observer's distance.
    frame : `~astropy.coordinates.BaseCoordinateFrame`
        The helioprojective frame of the first map (observer and time), for the positions.
    """

    data: np.ndarray
    times: Time
    tx: np.ndarray
    ty: np.ndarray
    scale: float
    km_per_arcsec: float
    frame: object


def _bin(data, factor):
    if factor == 1:
        return data.astype(np.float32)
    ny, nx = (data.shape[0] // factor) * factor, (data.shape[1] // factor) * factor
    return data[:ny, :nx].reshape(ny // factor, factor, nx // factor, factor).mean(axis=(1, 3)).astype(np.float32)


def _pixel_box(m, bottom_left, top_right):
    """Pixel ranges ``((x0, x1), (y0, y1))`` of a helioprojective box in a map (no frame transform needed)."""
    ny, nx = m.data.shape
    if bottom_left is None:
        return (0, nx), (0, ny)
    tx = u.Quantity([bottom_left.Tx, top_right.Tx]).to_value(u.deg)
    ty = u.Quantity([bottom_left.Ty, top_right.Ty]).to_value(u.deg)
    px, py = m.wcs.world_to_pixel_values(tx, ty)
    x0, x1 = int(np.clip(np.floor(np.min(px)), 0, nx)), int(np.clip(np.ceil(np.max(px)) + 1, 0, nx))
    y0, y1 = int(np.clip(np.floor(np.min(py)), 0, ny)), int(np.clip(np.ceil(np.max(py)) + 1, 0, ny))
    return (x0, x1), (y0, y1)


class CubeBuilder:
    """
    The frames of a `JetCube`, cut to its box as they come: only the cutouts are kept, never a whole frame
    (a day of 4096² full-disk frames held for its events' localisation filled the memory).
    """

    def __init__(self, bottom_left=None, top_right=None):
        self.bottom_left, self.top_right = bottom_left, top_right
        self.frames, self.times, self.box, self.first, self.shape = [], [], None, None, None

    def add(self, m):
        """Cut one map (in DN/s) to the box, bin it to the cube's pixels and keep that (float32)."""
        if self.first is None:
            self.box = _pixel_box(m, self.bottom_left, self.top_right)
            scale = float(abs(m.scale.axis1.to_value(u.arcsec / u.pix)))
            # what the cube needs of the first frame: its coordinates, not its pixels
            self.first = {"wcs": m.wcs, "frame": m.coordinate_frame, "dsun": m.dsun, "scale": scale,
                          "factor": max(1, int(np.floor(TARGET_SCALE / scale + 1e-6)))}  # fmt: skip
        (x0, x1), (y0, y1) = self.box
        exposure = m.exposure_time
        data = np.array(m.data[y0:y1, x0:x1], dtype=np.float64)  # a copy: a view would keep the whole frame
        unit = m.unit
        if exposure is not None and exposure.to_value(u.s) > 0 and (unit is None or "s" not in unit.to_string()):
            data /= exposure.to_value(u.s)
        if self.shape is not None and data.shape != self.shape:
            raise InputError(f"frame at {m.date.isot} is {data.shape}, not {self.shape}: give frames of one field")
        self.shape = data.shape
        self.frames.append(_bin(np.nan_to_num(data, nan=0.0), self.first["factor"]))
        self.times.append(m.date)

    def cube(self):
        """The `JetCube` of the frames added."""
        frames, first, box = self.frames, self.first, self.box
        if len(frames) < 3 or min(self.shape) < 2:
            raise InputError(f"{len(frames)} frame(s) of {self.shape or ()} pixels in the cutout: "
                             "segmentation needs at least three frames of a field")
        scale, factor = first["scale"], first["factor"]
        stack = np.stack(frames)
        ny, nx = stack.shape[1:]
        rows, cols = np.mgrid[0:ny, 0:nx]
        lon, lat = first["wcs"].pixel_to_world_values(cols * factor + (factor - 1) / 2 + box[0][0],
                                                      rows * factor + (factor - 1) / 2 + box[1][0])
        # wcslib gives longitudes within 180° of CRVAL1, not of 0: a field across Tx = 0 comes back with 360°
        # or -360° on one side (a region there measured 1.3e6″ long). Tx is wrapped at ±180°, as sunpy's is.
        world_tx = Longitude(np.asarray(lon) * u.deg, wrap_angle=180 * u.deg).to_value(u.arcsec)
        world_ty = (np.asarray(lat) * u.deg).to_value(u.arcsec)
        dsun = first["dsun"].to_value(u.km)
        return JetCube(
            data=stack,
            times=Time(self.times),
            tx=world_tx,
            ty=world_ty,
            scale=scale * factor,
            km_per_arcsec=dsun * np.pi / (180 * 3600),
            frame=first["frame"],
        )
