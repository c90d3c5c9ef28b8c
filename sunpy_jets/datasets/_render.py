"""
The render domain of the Solar Jet Hunter subjects: colormaps, display stretches and overlays, both ways.

A subject render is calibrated data through a display stretch, a colormap in 8 bits and grid lines.
This module holds that path and its inverse: the colormap's look-up table and the nearest-colour
inversion (`colormap_lut`, `invert_colormap`), the stretches (`stretch_forward`, `stretch_inverse`),
finding and filling overlay pixels, and colour positions back to sunpy maps (shared with
`~sunpy_jets.datasets.read_subject_render`). `render_sequence` pushes calibrated AIA 304 Å maps through
the same path, so that real non-jet scenes can be compared with the subjects in the render domain.
The public names are re-exported by `sunpy_jets.datasets` (and `sunpy_jets.datasets.zooniverse`).
"""

import math
import warnings

import numpy as np
from scipy import ndimage

import astropy.units as u
from astropy.time import Time

from .. import _stretch
from ..exceptions import FileFormatError, InputError, InputTypeError

__all__ = [
    "NOMINAL_EXPOSURE",
    "colormap_lut",
    "invert_colormap",
    "stretch_forward",
    "stretch_inverse",
    "render_sequence",
    "aia_header",
    "check_render_options",
    "read_render_frames",
    "overlay_mask",
    "positions_to_maps",
]

#: The exposure written into the headers of render-domain maps: AIA 304 Å's nominal 2.9 s.
NOMINAL_EXPOSURE = 2.9 * u.s


# --------------------------------------------------------------------------------------------------
# Colormap and stretch


def colormap_lut(cmap="sdoaia304", n: int = 256) -> np.ndarray:
    """
    The colormap's look-up table as ``(n, 3)`` 8-bit RGB values (entry ``i`` is position ``i / (n - 1)``).

    Examples
    --------
    >>> from sunpy_jets.datasets import colormap_lut
    >>> lut = colormap_lut()
    >>> lut.shape, lut.dtype, lut[0].tolist(), lut[-1].tolist()
    ((256, 3), dtype('uint8'), [0, 0, 0], [255, 255, 255])
    """
    import matplotlib

    import sunpy.visualization.colormaps  # noqa: F401  (registers the sdo* colormaps with matplotlib)

    if isinstance(cmap, str):
        try:
            cmap = matplotlib.colormaps[cmap]
        except KeyError:
            raise InputError(f"unknown colormap {cmap!r}; give a matplotlib or sunpy colormap name such as 'sdoaia304'") from None
    rgba = cmap(np.linspace(0.0, 1.0, int(n)))
    return np.round(rgba[:, :3] * 255).astype(np.uint8)


def invert_colormap(rgb, *, cmap="sdoaia304") -> tuple:
    """
    Colormap position of each pixel of an RGB image: the nearest colour in the colormap's look-up table.

    Parameters
    ----------
    rgb : array-like
        ``(..., 3)`` or ``(..., 4)`` 8-bit colours (alpha is ignored).
    cmap : str or `~matplotlib.colors.Colormap`
        The colormap the image was drawn with.

    Returns
    -------
    position : `numpy.ndarray`
        Float positions in [0, 1], in steps of 1/255.
    distance : `numpy.ndarray`
        Euclidean RGB distance (0–441) to that nearest colour: large where something else than the colormap
        was drawn (grid lines, labels) or the colours were blended.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_jets.datasets import colormap_lut, invert_colormap
    >>> lut = colormap_lut()
    >>> position, distance = invert_colormap(lut[[0, 100, 255]])
    >>> (position * 255).round().tolist(), distance.tolist()
    ([0.0, 100.0, 255.0], [0.0, 0.0, 0.0])
    """
    rgb = np.asarray(rgb)
    if rgb.ndim < 1 or rgb.shape[-1] not in (3, 4):
        raise InputError(f"an RGB image must end in an axis of 3 (or 4) colours, not shape {rgb.shape}")
    flat = np.ascontiguousarray(rgb[..., :3]).reshape(-1, 3).astype(np.int64)
    lut = colormap_lut(cmap).astype(np.int64)
    # Renders hold few distinct colours: match each distinct colour once.
    keys = (flat[:, 0] << 16) | (flat[:, 1] << 8) | flat[:, 2]
    unique, inverse = np.unique(keys, return_inverse=True)
    colours = np.stack([(unique >> 16) & 255, (unique >> 8) & 255, unique & 255], axis=1)
    d2 = ((colours[:, None, :] - lut[None, :, :]) ** 2).sum(-1)
    index = d2.argmin(1)
    position = (index / (len(lut) - 1))[inverse.ravel()].reshape(rgb.shape[:-1])
    distance = np.sqrt(d2[np.arange(len(colours)), index])[inverse.ravel()].reshape(rgb.shape[:-1])
    return position, distance


def _check_stretch(stretch, a):
    if stretch not in _stretch.STRETCHES:
        raise InputError(f"unknown stretch {stretch!r}; use one of {', '.join(_stretch.STRETCHES)}")
    if not (isinstance(a, (int, float)) and a > 0):
        raise InputError(f"the stretch parameter a must be a positive number, not {a!r}")


def stretch_forward(x, *, stretch="asinh", a=0.01) -> np.ndarray:
    """
    Display stretch of values normalised to [0, 1] (astropy's ``AsinhStretch``, ``SqrtStretch``, ``LogStretch``).

    ``asinh``: ``asinh(x / a) / asinh(1 / a)`` (sunpy's AIA default, ``a = 0.01``); ``log``:
    ``log(a x + 1) / log(a + 1)`` (give ``a = 1000`` for astropy's default); ``sqrt``; ``linear``.

    Examples
    --------
    >>> from sunpy_jets.datasets import stretch_forward, stretch_inverse
    >>> y = stretch_forward([0.0, 0.07, 1.0])
    >>> y.round(2).tolist(), stretch_inverse(y).round(2).tolist()
    ([0.0, 0.5, 1.0], [0.0, 0.07, 1.0])
    """
    _check_stretch(stretch, a)
    return _stretch.forward(np.clip(np.asarray(x, dtype=float), 0.0, 1.0), stretch, a, np)


def stretch_inverse(y, *, stretch="asinh", a=0.01) -> np.ndarray:
    """
    Inverse of `stretch_forward`: display positions in [0, 1] back to normalised linear values.

    Examples
    --------
    >>> from sunpy_jets.datasets import stretch_inverse
    >>> float(stretch_inverse(1.0, stretch="sqrt")), float(stretch_inverse(0.5, stretch="linear"))
    (1.0, 0.5)
    """
    _check_stretch(stretch, a)
    return _stretch.inverse(np.clip(np.asarray(y, dtype=float), 0.0, 1.0), stretch, a, np)


# --------------------------------------------------------------------------------------------------
# Options, files and headers of renders


def check_render_options(fill, stretch, a, peak, exposure, tolerance, line_fraction):
    if fill not in ("inpaint", "nan"):
        raise InputError(f"fill must be 'inpaint' or 'nan', not {fill!r}")
    _check_stretch(stretch, a)
    if not (isinstance(peak, (int, float)) and math.isfinite(peak) and peak > 0):
        raise InputError(f"peak must be a positive number (the value of the top of the colour scale), not {peak!r}")
    if not (isinstance(exposure, u.Quantity) and exposure.unit.physical_type == "time" and exposure.to_value(u.s) > 0):
        raise InputTypeError(f"exposure must be a positive time Quantity such as 2.9 * u.s, not {exposure!r}")
    if not (isinstance(tolerance, (int, float)) and tolerance >= 0):
        raise InputError(f"tolerance must be a non-negative RGB distance (0–441), not {tolerance!r}")
    if line_fraction is not None and not (isinstance(line_fraction, (int, float)) and 0 < line_fraction <= 1):
        raise InputError(f"line_fraction must be in (0, 1] or None, not {line_fraction!r}")


def aia_header(data, time, reference, scale):
    """A FITS header for render-domain data as AIA 304 Å seen from ``reference`` (its bottom-left pixel)."""
    from sunpy.map.header_helper import make_fitswcs_header

    header = make_fitswcs_header(
        data,
        reference,
        reference_pixel=[0, 0] * u.pix,
        scale=scale,
        telescope="SDO",
        instrument="AIA",
        wavelength=304 * u.AA,
        observatory="SDO",
    )
    header["date-obs"] = time.isot
    header["detector"] = "AIA"
    header["waveunit"] = "angstrom"
    return header


def read_render_frames(path):
    """The frames of a GIF or PNG render as ``(H, W, 4)`` RGBA arrays; package errors when unreadable."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            frames = []
            for i in range(getattr(image, "n_frames", 1)):
                image.seek(i)
                frames.append(np.array(image.convert("RGBA")))
    except FileNotFoundError:
        raise InputError(f"{path} does not exist; give the path of a subject render (GIF or PNG)") from None
    except (UnidentifiedImageError, OSError) as e:
        raise FileFormatError(f"{path} could not be read as a GIF/PNG image: {e}") from e
    return frames


# --------------------------------------------------------------------------------------------------
# Overlays: grid lines and labels inside the plot box


def overlay_mask(distance, *, tolerance, line_fraction):
    """Pixels that are not colormap colours, and whole rows/columns that are mostly such pixels (grid lines)."""
    off = distance > tolerance
    mask = off.copy()
    if line_fraction is not None and line_fraction < 1:
        mask[off.mean(axis=1) > line_fraction, :] = True
        mask[:, off.mean(axis=0) > line_fraction] = True
    return mask


def _inpaint(image, mask, *, max_iter=64):
    """Fill masked pixels from their valid 4-neighbours, growing inwards (grid lines are 1–3 px wide)."""
    out = np.where(mask, 0.0, image).astype(float)
    todo = mask.copy()
    for _ in range(max_iter):
        if not todo.any():
            break
        valid = (~todo).astype(float)
        padded_v = np.pad(out * valid, 1)
        padded_n = np.pad(valid, 1)
        total = padded_v[:-2, 1:-1] + padded_v[2:, 1:-1] + padded_v[1:-1, :-2] + padded_v[1:-1, 2:]
        count = padded_n[:-2, 1:-1] + padded_n[2:, 1:-1] + padded_n[1:-1, :-2] + padded_n[1:-1, 2:]
        fill = todo & (count > 0)
        out[fill] = total[fill] / count[fill]
        todo &= ~fill
    if todo.any():
        out[todo] = np.median(out[~todo]) if (~todo).any() else 0.0
    return out


def positions_to_maps(positions, masks, times, wcs_for, *, fill, stretch, a, peak, exposure, meta):
    """Turn colormap positions into sunpy maps (shared by the subject reader and `render_sequence`)."""
    import sunpy.map

    maps = []
    for i, (position, mask, time) in enumerate(zip(positions, masks, times)):
        linear = stretch_inverse(position, stretch=stretch, a=a) * peak
        if fill == "inpaint":
            data = _inpaint(linear, mask)
        else:
            data = np.where(mask, np.nan, linear)
        header = wcs_for(i, data, time)
        header.update(meta)
        header["exptime"] = exposure.to_value(u.s)
        header["render_masked"] = int(mask.sum())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sunpy's notes on missing keywords (no DN unit: arbitrary units)
            maps.append(sunpy.map.Map(data.astype(np.float32), header))
    return sunpy.map.Map(maps, sequence=True)


# --------------------------------------------------------------------------------------------------
# Calibrated maps through the render and back


def _grid_lines(m, spacing):
    """Columns and rows where a grid line of ``spacing`` crosses the map's x and y axes (at its first row/column)."""
    ny, nx = m.data.shape
    s = spacing.to_value(u.arcsec)
    tx = m.wcs.pixel_to_world(np.arange(nx), np.zeros(nx)).Tx.to_value(u.arcsec)
    ty = m.wcs.pixel_to_world(np.zeros(ny), np.arange(ny)).Ty.to_value(u.arcsec)
    return np.nonzero(np.diff(np.floor(tx / s)) != 0)[0], np.nonzero(np.diff(np.floor(ty / s)) != 0)[0]


def _draw_grid(rgb, cols, rows):
    """Dotted white lines (alpha 0.5) at the given columns and rows, as sunpy's WCS grid draws them."""
    out = rgb.astype(float)
    dotted_rows = (np.arange(rgb.shape[0]) // 2) % 2 == 0
    dotted_cols = (np.arange(rgb.shape[1]) // 2) % 2 == 0
    for c in cols:
        out[dotted_rows, c] = 0.5 * out[dotted_rows, c] + 0.5 * 255
    for r in rows:
        out[r, dotted_cols] = 0.5 * out[r, dotted_cols] + 0.5 * 255
    return np.round(out).astype(np.uint8)


def render_sequence(
    data,
    *,
    cmap="sdoaia304",
    stretch: str = "asinh",
    a: float = 0.01,
    percentile: float = 99.9,
    grid: u.Quantity | None = 100 * u.arcsec,
    fill: str = "inpaint",
    peak: float = 1000.0,
    exposure: u.Quantity = NOMINAL_EXPOSURE,
    tolerance: float = 12.0,
    line_fraction: float | None = 0.25,
    blur: u.Quantity | None = None,
):
    """
    Push calibrated maps through a Solar Jet Hunter-like render and back: the subjects' render domain.

    Each frame is scaled to [0, 1] between 0 and its ``percentile`` (matplotlib's autoscale, made robust
    to hot pixels), stretched, coloured with ``cmap`` in 8 bits, overlaid with dotted white grid lines every
    ``grid`` (as the subjects' WCS axes draw them), then read back with the same code as
    `read_subject_render`. Jets and non-jet scenes treated this way differ only by their content.

    Parameters
    ----------
    data : `~sunpy.map.MapSequence` or list of `~sunpy.map.GenericMap`
        Calibrated frames (e.g. AIA 304 Å level 1), in time order.
    cmap, stretch, a, fill, peak, exposure, tolerance, line_fraction
        As in `read_subject_render` (``stretch`` and ``a`` serve both ways).
    percentile : float
        Percentile of each frame's finite pixels that maps to the top of the colour scale (100: the maximum).
    grid : `~astropy.units.Quantity` or None
        Spacing of the drawn grid lines (None: none).
    blur : `~astropy.units.Quantity` or None
        Standard deviation (an angle) of a Gaussian blur applied to each frame before the render. The Solar Jet
        Hunter subjects were resampled before they became GIFs: at the model's 1.8″ pixels they are about half as
        sharp (power at 0.25–0.5 over power at 0.05–0.15 cycles per pixel) as real level-1 AIA 304 Å frames pushed
        through this render unblurred (``None``, the default), and as sharp as those frames blurred by about 0.6″
        first (0.5–0.75″ for the three dynamic scenes of ``scripts/render_sharpness.py``).

    Returns
    -------
    `~sunpy.map.MapSequence`
        Maps on the input's WCS and times, with render-domain data in arbitrary units (see
        `read_subject_render`), ``INSTRUME`` AIA, ``WAVELNTH`` from the input and ``EXPTIME`` ``exposure``.

    Raises
    ------
    `~sunpy_jets.exceptions.InputTypeError`
        If ``data`` is not a sequence of sunpy maps.
    `~sunpy_jets.exceptions.InputError`
        If it is empty, a frame has no finite positive pixel, or an option is out of range.

    Examples
    --------
    >>> import sunpy.map
    >>> import sunpy.data.test
    >>> from sunpy_jets.datasets import render_sequence
    >>> aia = sunpy.map.Map(sunpy.data.test.get_test_filepath("aia_171_level1.fits"))
    >>> rendered = render_sequence([aia], grid=None)
    >>> rendered[0].data.shape == aia.data.shape, float(rendered[0].data.max()) <= 1000
    (True, True)
    """
    import sunpy.map

    if isinstance(data, sunpy.map.GenericMap):
        data = [data]
    maps = list(data.maps) if isinstance(data, sunpy.map.MapSequence) else data
    if not isinstance(maps, (list, tuple)) or not all(isinstance(m, sunpy.map.GenericMap) for m in maps):
        raise InputTypeError("give a sunpy.map.MapSequence or a list of sunpy maps (e.g. sunpy.map.Map(files, sequence=True))")
    if not maps:
        raise InputError("the sequence is empty: give at least one map")
    check_render_options(fill, stretch, a, peak, exposure, tolerance, line_fraction)
    if not (isinstance(percentile, (int, float)) and 0 < percentile <= 100):
        raise InputError(f"percentile must be in (0, 100], not {percentile!r}")
    if grid is not None and not (isinstance(grid, u.Quantity) and grid.unit.physical_type == "angle" and grid > 0):
        raise InputTypeError(f"grid must be a positive angle such as 100 * u.arcsec, or None, not {grid!r}")
    if blur is not None and not (isinstance(blur, u.Quantity) and blur.unit.physical_type == "angle" and blur > 0):
        raise InputTypeError(f"blur must be a positive angle such as 1.8 * u.arcsec, or None, not {blur!r}")
    lut = colormap_lut(cmap)
    positions, masks, grids = [], [], {}
    for i, m in enumerate(maps):
        x = np.asarray(m.data, dtype=float)
        finite = np.isfinite(x)
        if not finite.any() or not (x[finite] > 0).any():
            raise InputError(f"frame {i} ({m.date.isot}) has no finite positive pixel: it cannot be rendered")
        if blur is not None:
            sigma = (blur / np.abs(m.scale.axis1 * u.pix)).to_value(u.dimensionless_unscaled)
            x = np.where(finite, ndimage.gaussian_filter(np.where(finite, x, 0.0), sigma), np.nan)
        vmax = float(np.percentile(x[finite], percentile))
        if vmax <= 0:
            vmax = float(x[finite].max())
        y = stretch_forward(np.where(finite, x, 0.0) / vmax, stretch=stretch, a=a)
        rgb = lut[np.round(y * (len(lut) - 1)).astype(int)]
        if grid is not None:
            # frames of a sequence usually share their pointing: compute the grid once per distinct WCS
            key = (x.shape, *(m.meta.get(k) for k in ("crpix1", "crpix2", "crval1", "crval2", "cdelt1", "cdelt2",
                                                       "crota2", "pc1_1", "pc1_2", "pc2_1", "pc2_2")))  # fmt: skip
            if key not in grids:
                grids[key] = _grid_lines(m, grid)
            rgb = _draw_grid(rgb, *grids[key])
        position, distance = invert_colormap(rgb, cmap=cmap)
        positions.append(position)
        masks.append(overlay_mask(distance, tolerance=tolerance, line_fraction=line_fraction))
    def wcs_for(i, data, time):
        header = dict(maps[i].meta)
        for key in ("bunit", "datamin", "datamax", "datamean", "datamedn", "datarms", "dataskew", "datakurt",
                    "datap01", "datap10", "datap25", "datap75", "datap90", "datap95", "datap98", "datap99"):  # fmt: skip
            header.pop(key, None)
        header["instrume"] = header.get("instrume") or "AIA"
        return header

    meta = {
        "render": f"pushed through {cmap if isinstance(cmap, str) else cmap.name} 8-bit render; {stretch} stretch a={a}",
        "comment": "uncalibrated 8-bit render-domain intensity in arbitrary units",
    }
    return positions_to_maps(positions, masks, Time([m.date for m in maps]), wcs_for, fill=fill, stretch=stretch,
                              a=a, peak=peak, exposure=exposure, meta=meta)  # fmt: skip
