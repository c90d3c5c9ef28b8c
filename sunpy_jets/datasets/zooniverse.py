"""
Zooniverse subject renders: Solar Jet Hunter "Jet or Not" GIFs back to image sequences.

The Solar Jet Hunter volunteers judged colour renders, not calibrated data: each subject is a GIF of 15
AIA 304 Å frames 24 s apart, drawn by matplotlib with the ``sdoaia304`` colormap on WCS axes in arcsec,
with the first frame's time in the title. This module turns such a render, with the axis calibration read
from its tick labels (one row of ``subjects.csv``), into a `~sunpy.map.MapSequence` that the package's
classifier accepts, so that a model can be evaluated on exactly what the volunteers saw.

What comes back is **not calibrated data.** Each pixel's colour is replaced by the position of the nearest
colour in the colormap's 256-entry look-up table (an 8-bit quantity), and that position is turned back into
a linear intensity by inverting an assumed display stretch (by default sunpy's AIA stretch,
``AsinhStretch(0.01)``) and scaled so that the top of the colour scale reads ``peak`` (1000 by default,
the published recipe's clip level in DN at the nominal 2.9 s exposure). The values are in arbitrary,
render-domain units: the render's own per-frame scaling (its ``vmin``/``vmax``) is lost, and so is
everything above the top or below the bottom of the colour scale.

The render domain itself (colormaps, stretches, overlays, and `render_sequence`, which pushes calibrated
maps through the same path) is in ``_render.py``; its public names are re-exported here.
"""

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.table import QTable
from astropy.time import Time

from ..exceptions import CatalogueError, InputError, InputTypeError
from ._render import (
    NOMINAL_EXPOSURE,
    aia_header,
    check_render_options,
    colormap_lut,
    invert_colormap,
    overlay_mask,
    positions_to_maps,
    read_render_frames,
    render_sequence,
    stretch_forward,
    stretch_inverse,
)

__all__ = [
    "SJH_SUBJECT_CADENCE",
    "SubjectJet",
    "SubjectCalibration",
    "read_subject_calibration",
    "subjects_table",
    "colormap_lut",
    "invert_colormap",
    "stretch_forward",
    "stretch_inverse",
    "read_subject_render",
    "render_sequence",
]

#: Time between the frames of a Solar Jet Hunter subject.
SJH_SUBJECT_CADENCE = 24 * u.s

# Columns subjects.csv must have.
_CALIBRATION_COLUMNS = (
    "gif", "t0", "x_arcsec_per_px", "x_arcsec_at_px0", "x_fit_resid", "y_arcsec_per_px", "y_arcsec_at_px0",
    "y_fit_resid", "r0", "r1", "c0", "c1", "jets",
)  # fmt: skip
_JET_FIELDS = ("sjh_ID", "starts_here", "base_x", "base_y", "max_height", "avg_width", "velocity", "duration")


def _earth_frame(time):
    from sunpy.coordinates import Helioprojective, get_earth

    return Helioprojective(observer=get_earth(time), obstime=time)


@dataclass(frozen=True)
class SubjectJet:
    """
    A Solar Jet Hunter catalogue jet active during a subject (one item of the ``jets`` column).

    Attributes
    ----------
    sjh_id : str
        The catalogue's ``sjh_ID``.
    starts_here : bool
        True when the jet's catalogue start time is one of the subject's frames.
    base : `~astropy.coordinates.SkyCoord`
        The base point, helioprojective, seen from Earth at the subject's first frame.
    max_height, width : `~astropy.units.Quantity`
        Maximum height and average width, in arcsec (NaN where the catalogue has none).
    velocity : `~astropy.units.Quantity`
        Plane-of-sky speed in km/s (NaN where the catalogue has none).
    duration : `~astropy.units.Quantity`
        Duration in minutes.
    """

    sjh_id: str
    starts_here: bool
    base: SkyCoord
    max_height: u.Quantity
    width: u.Quantity
    velocity: u.Quantity
    duration: u.Quantity


@dataclass(frozen=True)
class SubjectCalibration:
    """
    The calibration of one subject render: one row of ``subjects.csv``.

    Helioprojective x (arcsec) of GIF column ``c`` is ``x_offset + x_scale * c``; y of GIF row ``r`` is
    ``y_offset + y_scale * r`` (``y_scale`` is negative: rows run down the sky). The image inside the axes
    spans GIF rows ``r0`` to ``r1`` and columns ``c0`` to ``c1``, both inclusive.

    Attributes
    ----------
    name : str
        The GIF's file name (the Zooniverse subject id).
    t0 : `~astropy.time.Time`
        Time of the first frame.
    x_scale, y_scale : `~astropy.units.Quantity`
        Arcsec per render pixel along columns and rows.
    x_offset, y_offset : `~astropy.units.Quantity`
        Helioprojective x and y at GIF column 0 and row 0.
    x_fit_residual, y_fit_residual : `~astropy.units.Quantity`
        The axis fits' worst tick residuals.
    box : tuple of int
        ``(r0, r1, c0, c1)``.
    jets : tuple of `SubjectJet`
        The catalogue jets active during the subject (empty when none matched).
    """

    name: str
    t0: Time
    x_scale: u.Quantity
    x_offset: u.Quantity
    x_fit_residual: u.Quantity
    y_scale: u.Quantity
    y_offset: u.Quantity
    y_fit_residual: u.Quantity
    box: tuple
    jets: tuple = field(default=())

    def pixel_to_world(self, row, col) -> SkyCoord:
        """
        Helioprojective coordinate (seen from Earth at ``t0``) of a GIF row and column.

        Examples
        --------
        >>> import astropy.units as u
        >>> from astropy.time import Time
        >>> from sunpy_jets.datasets import SubjectCalibration
        >>> cal = SubjectCalibration("1.gif", Time("2011-04-08T11:21:44"), 0.8662 * u.arcsec, -582.2 * u.arcsec,
        ...                          0 * u.arcsec, -0.8658 * u.arcsec, -90.0 * u.arcsec, 0 * u.arcsec, (103, 446, 94, 553))
        >>> c = cal.pixel_to_world(103, 94)
        >>> print(f"{c.Tx:.1f} {c.Ty:.1f}")
        -500.8 arcsec -179.2 arcsec
        """
        x = self.x_offset + self.x_scale * np.asarray(col, dtype=float)
        y = self.y_offset + self.y_scale * np.asarray(row, dtype=float)
        return SkyCoord(x, y, frame=_earth_frame(self.t0))

    @property
    def center(self) -> SkyCoord:
        """The centre of the image area inside the axes."""
        r0, r1, c0, c1 = self.box
        return self.pixel_to_world((r0 + r1) / 2, (c0 + c1) / 2)

    @property
    def extent(self) -> u.Quantity:
        """Width and height of the image area inside the axes (arcsec)."""
        r0, r1, c0, c1 = self.box
        return u.Quantity([abs(self.x_scale) * (c1 - c0 + 1), abs(self.y_scale) * (r1 - r0 + 1)])

    def frame_times(self, n_frames: int = 15) -> Time:
        """The times of the subject's frames: ``t0`` and every 24 s after."""
        return self.t0 + np.arange(n_frames) * SJH_SUBJECT_CADENCE

    @property
    def starting_jets(self) -> tuple:
        """The jets whose catalogue start time is one of the subject's frames."""
        return tuple(j for j in self.jets if j.starts_here)


def _float(text, what, where):
    try:
        return float(text)
    except (TypeError, ValueError):
        raise CatalogueError(f"{where}: {what} must be a number, not {text!r}; fix or remove this row") from None


def _arcsec_to_km(time) -> u.Quantity:
    """Kilometres per arcsec in the plane of the sky at the Sun's distance from Earth at ``time``."""
    from sunpy.coordinates import get_earth

    distance = get_earth(time).radius.to(u.km)
    return distance * (1 * u.arcsec).to_value(u.rad) / u.arcsec


def _parse_jets(text, t0, where) -> tuple:
    text = (text or "").strip()
    if not text:
        return ()
    frame = _earth_frame(t0)
    km_per_arcsec = _arcsec_to_km(t0)
    jets = []
    for k, item in enumerate(text.split("|")):
        parts = item.split(";")
        if len(parts) != len(_JET_FIELDS):
            raise CatalogueError(
                f"{where}: jet {k} has {len(parts)} fields, expected {len(_JET_FIELDS)} "
                f"({';'.join(_JET_FIELDS)}); fix the jets column"
            )
        sjh_id, starts = parts[0].strip(), parts[1].strip()
        if starts not in ("0", "1"):
            raise CatalogueError(f"{where}: jet {sjh_id!r} has starts_here={starts!r}; it must be 0 or 1")
        bx, by, height, width, velocity, duration = (_float(v, f"jet {sjh_id!r} {n}", where)
                                                     for v, n in zip(parts[2:], _JET_FIELDS[2:]))  # fmt: skip
        if not (math.isfinite(bx) and math.isfinite(by)):
            raise CatalogueError(f"{where}: jet {sjh_id!r} has no base point; the base_x and base_y fields are needed")
        jets.append(
            SubjectJet(
                sjh_id=sjh_id,
                starts_here=starts == "1",
                base=SkyCoord(bx * u.arcsec, by * u.arcsec, frame=frame),
                max_height=height * u.arcsec,
                width=width * u.arcsec,
                velocity=(velocity * u.arcsec / u.s * km_per_arcsec).to(u.km / u.s),
                duration=duration * u.min,
            )
        )
    return tuple(jets)


def read_subject_calibration(path) -> list:
    """
    Read a Solar Jet Hunter subject calibration file (``subjects.csv``).

    Parameters
    ----------
    path : str or `~pathlib.Path`
        The CSV file: one row per subject GIF with the columns ``gif, t0, x_arcsec_per_px, x_arcsec_at_px0,
        x_fit_resid, y_arcsec_per_px, y_arcsec_at_px0, y_fit_resid, r0, r1, c0, c1, jets``.

    Returns
    -------
    list of `SubjectCalibration`
        In file order. Each item's ``jets`` holds its catalogue jets as `SubjectJet` records: base point as a
        helioprojective `~astropy.coordinates.SkyCoord` (observer at Earth at ``t0``), height and width in
        arcsec, velocity converted from arcsec/s to km/s with the Sun–Earth distance at ``t0`` (about
        725 km per arcsec), duration in minutes.

    Raises
    ------
    `~sunpy_jets.exceptions.CatalogueError`
        If the file cannot be read, lacks a column, or a row holds a value that is not a number, a time or a
        well-formed jet.

    Examples
    --------
    >>> from sunpy_jets.datasets import read_subject_calibration
    >>> read_subject_calibration("no_such_subjects.csv")
    Traceback (most recent call last):
    ...
    sunpy_jets.exceptions.CatalogueError: cannot read the subject calibration file no_such_subjects.csv: ...
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise CatalogueError(
            f"cannot read the subject calibration file {path}: {e}; give the path of subjects.csv"
        ) from e
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in _CALIBRATION_COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise CatalogueError(
            f"{path} lacks the column(s) {', '.join(missing)}; a subject calibration file needs "
            f"{', '.join(_CALIBRATION_COLUMNS)}"
        )
    records = []
    for i, row in enumerate(reader, start=2):
        where = f"{path.name} line {i} ({row.get('gif')})"
        try:
            t0 = Time(row["t0"], scale="utc")
        except ValueError:
            raise CatalogueError(f"{where}: t0 {row['t0']!r} is not a time; write it as ISO, e.g. 2011-04-08T11:21:44") from None
        numbers = {c: _float(row[c], c, where) for c in _CALIBRATION_COLUMNS[2:12]}
        box = tuple(int(numbers[c]) for c in ("r0", "r1", "c0", "c1"))
        if not (box[0] < box[1] and box[2] < box[3]) or min(box) < 0:
            raise CatalogueError(f"{where}: the plot box r0,r1,c0,c1 = {box} is empty or negative")
        if numbers["x_arcsec_per_px"] <= 0 or numbers["y_arcsec_per_px"] >= 0:
            raise CatalogueError(
                f"{where}: x_arcsec_per_px must be positive and y_arcsec_per_px negative (rows run down the sky), "
                f"got {numbers['x_arcsec_per_px']} and {numbers['y_arcsec_per_px']}"
            )
        records.append(
            SubjectCalibration(
                name=row["gif"].strip(),
                t0=t0,
                x_scale=numbers["x_arcsec_per_px"] * u.arcsec,
                x_offset=numbers["x_arcsec_at_px0"] * u.arcsec,
                x_fit_residual=numbers["x_fit_resid"] * u.arcsec,
                y_scale=numbers["y_arcsec_per_px"] * u.arcsec,
                y_offset=numbers["y_arcsec_at_px0"] * u.arcsec,
                y_fit_residual=numbers["y_fit_resid"] * u.arcsec,
                box=box,
                jets=_parse_jets(row["jets"], t0, where),
            )
        )
    if not records:
        raise CatalogueError(f"{path} holds no subject rows")
    return records


def subjects_table(calibrations) -> QTable:
    """
    The subject calibrations as a `~astropy.table.QTable`: one row per subject, with units.

    Columns: ``name``, ``t0`` (`~astropy.time.Time`), ``center_x``, ``center_y`` (helioprojective, arcsec),
    ``x_scale``, ``y_scale`` (arcsec per render pixel, both positive), ``width``, ``height`` (arcsec),
    ``n_jets``, ``n_starting_jets``, and for the first starting jet (else the first jet; NaN when
    none; the base is then the subject's centre) ``jet_id``, ``jet_base_x``, ``jet_base_y`` (arcsec), ``jet_height``, ``jet_width`` (arcsec), ``jet_velocity``
    (km/s), ``jet_duration`` (min).

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.time import Time
    >>> from sunpy_jets.datasets import SubjectCalibration, subjects_table
    >>> cal = SubjectCalibration("1.gif", Time("2011-04-08T11:21:44"), 0.8662 * u.arcsec, -582.2 * u.arcsec,
    ...                          0 * u.arcsec, -0.8658 * u.arcsec, -90.0 * u.arcsec, 0 * u.arcsec, (103, 446, 94, 553))
    >>> t = subjects_table([cal])
    >>> print(t["n_jets"][0], f"{t['width'][0]:.0f}")
    0 398 arcsec
    """
    calibrations = list(calibrations)
    if not calibrations or not all(isinstance(c, SubjectCalibration) for c in calibrations):
        raise InputTypeError("give a non-empty list of SubjectCalibration records (from read_subject_calibration)")
    nan = np.nan
    centers = [c.center for c in calibrations]
    chosen = [(c.starting_jets or c.jets or (None,))[0] for c in calibrations]
    bases = [j.base if j is not None else c.center for j, c in zip(chosen, calibrations)]
    return QTable(
        {
            "name": [c.name for c in calibrations],
            "t0": Time([c.t0 for c in calibrations]),
            "center_x": u.Quantity([c.Tx for c in centers]).to(u.arcsec),
            "center_y": u.Quantity([c.Ty for c in centers]).to(u.arcsec),
            "x_scale": u.Quantity([c.x_scale for c in calibrations]) / u.pix,
            "y_scale": -u.Quantity([c.y_scale for c in calibrations]) / u.pix,
            "width": u.Quantity([c.extent[0] for c in calibrations]),
            "height": u.Quantity([c.extent[1] for c in calibrations]),
            "n_jets": np.array([len(c.jets) for c in calibrations]),
            "n_starting_jets": np.array([len(c.starting_jets) for c in calibrations]),
            "jet_id": [j.sjh_id if j is not None else "" for j in chosen],
            "jet_base_x": u.Quantity([b.Tx for b in bases]).to(u.arcsec),
            "jet_base_y": u.Quantity([b.Ty for b in bases]).to(u.arcsec),
            "jet_height": u.Quantity([j.max_height if j is not None else nan * u.arcsec for j in chosen]),
            "jet_width": u.Quantity([j.width if j is not None else nan * u.arcsec for j in chosen]),
            "jet_velocity": u.Quantity([j.velocity if j is not None else nan * u.km / u.s for j in chosen]),
            "jet_duration": u.Quantity([j.duration if j is not None else nan * u.min for j in chosen]),
        }
    )


def read_subject_render(
    path,
    calibration: SubjectCalibration,
    *,
    cmap="sdoaia304",
    fill: str = "inpaint",
    stretch: str = "asinh",
    a: float = 0.01,
    peak: float = 1000.0,
    exposure: u.Quantity = NOMINAL_EXPOSURE,
    tolerance: float = 12.0,
    line_fraction: float | None = 0.25,
):
    """
    Read a Solar Jet Hunter subject render (an animated GIF, or a list of frame images) as a `~sunpy.map.MapSequence`.

    Parameters
    ----------
    path : str, `~pathlib.Path` or list of them
        An animated GIF (one frame per time step), or a list of single-frame GIF/PNG files in time order.
    calibration : `SubjectCalibration`
        The subject's calibration (a row of `read_subject_calibration`): axis scales and offsets, plot box, t0.
    cmap : str or `~matplotlib.colors.Colormap`
        The colormap the render was drawn with.
    fill : {"inpaint", "nan"}
        What to do with pixels that are not colormap colours (grid lines, labels, tick marks inside the plot
        box): fill them from their neighbours (default), or leave NaN (the package's preprocessing fills NaN
        with each frame's median).
    stretch : {"asinh", "linear", "sqrt", "log"}
        The display stretch assumed for the render, inverted to give linear intensities.
    a : float
        The stretch's parameter (0.01, sunpy's AIA default, for ``asinh``).
    peak : float
        The value given to the top of the colour scale (the default, 1000, is the published recipe's clip
        level in DN at the nominal 2.9 s exposure, so that the package's preprocessing sees the whole range).
    exposure : `~astropy.units.Quantity`
        The exposure time written into each frame's header (``EXPTIME``).
    tolerance : float
        RGB distance (0–441) above which a pixel is taken for an overlay instead of a colormap colour.
    line_fraction : float or None
        A row or column of the plot box with more than this fraction of overlay pixels is a grid line, and
        all its pixels are filled; None to fill only the overlay pixels themselves.

    Returns
    -------
    `~sunpy.map.MapSequence`
        One map per frame, cropped to the plot box (GIF rows ``r0``–``r1``, columns ``c0``–``c1``,
        inclusive), with a helioprojective WCS (observer: Earth at each frame's time; the render does
        not say where SDO was, which is within about 0.01″ of the same view at these scales),
        ``DATE-OBS`` = ``t0`` + 24 s × frame index, ``INSTRUME`` AIA, ``WAVELNTH`` 304 Å and ``EXPTIME``
        ``exposure``. The data are **uncalibrated, 8-bit, render-domain intensities in arbitrary units**:
        colormap positions (steps of 1/255) through the inverse of ``stretch``, times ``peak``. The
        header's ``RENDER_MASKED`` counts the overlay pixels that were filled (or left NaN).

    Raises
    ------
    `~sunpy_jets.exceptions.InputError`
        If the file does not exist, the plot box does not fit the image, or an option is out of range.
    `~sunpy_jets.exceptions.FileFormatError`
        If the file is not an image.
    `~sunpy_jets.exceptions.InputTypeError`
        If ``calibration`` is not a `SubjectCalibration`.

    Notes
    -----
    The render's own display scaling (the ``vmin``/``vmax`` of each frame, chosen by matplotlib or by the
    author) is not recorded, so absolute intensities and frame-to-frame brightness changes are not those
    of the data; nor are values outside the colour scale. Use the result for evaluating what volunteers
    saw, not for photometry.

    Examples
    --------
    >>> from sunpy_jets.datasets import read_subject_calibration, read_subject_render
    >>> subjects = read_subject_calibration("subjects.csv")                   # doctest: +SKIP
    >>> seq = read_subject_render("70439342.gif", subjects[2])                # doctest: +SKIP
    >>> len(seq), seq[0].date.isot, seq[0].scale.axis1                        # doctest: +SKIP
    (15, '2011-04-08T11:21:44.000', <Quantity 0.8662 arcsec / pix>)
    """
    if not isinstance(calibration, SubjectCalibration):
        raise InputTypeError(
            f"calibration must be a SubjectCalibration (a row of read_subject_calibration), not {type(calibration).__name__}"
        )
    check_render_options(fill, stretch, a, peak, exposure, tolerance, line_fraction)
    paths = [Path(p) for p in path] if isinstance(path, (list, tuple)) else [Path(path)]
    if not paths:
        raise InputError("no frame files given: give an animated GIF or a list of frame images")
    frames = [f for p in paths for f in read_render_frames(p)]
    r0, r1, c0, c1 = calibration.box
    shapes = {f.shape[:2] for f in frames}
    if len(shapes) != 1:
        raise InputError(f"the frames have different sizes {sorted(shapes)}; every frame of a subject must be the same size")
    height, width = frames[0].shape[:2]
    if r1 >= height or c1 >= width:
        raise InputError(
            f"the plot box rows {r0}–{r1}, columns {c0}–{c1} of {calibration.name} does not fit the "
            f"{width}×{height} image {paths[0].name}: is this the right calibration row?"
        )
    positions, masks = [], []
    for f in frames:
        box = f[r0 : r1 + 1, c0 : c1 + 1][::-1]  # FITS order: row 0 at the bottom (south)
        position, distance = invert_colormap(box[..., :3], cmap=cmap)
        mask = overlay_mask(distance, tolerance=tolerance, line_fraction=line_fraction) | (box[..., 3] < 255)
        positions.append(position)
        masks.append(mask)
    times = calibration.frame_times(len(frames))
    scale = u.Quantity([calibration.x_scale, -calibration.y_scale]) / u.pix
    x_ref = calibration.x_offset + calibration.x_scale * c0
    y_ref = calibration.y_offset + calibration.y_scale * r1

    def wcs_for(i, data, time):
        return aia_header(data, time, SkyCoord(x_ref, y_ref, frame=_earth_frame(time)), scale)

    meta = {
        "origin": "Zooniverse Solar Jet Hunter subject render",
        "zoo_subj": calibration.name,
        "render": f"inverted {cmap if isinstance(cmap, str) else cmap.name} colormap; {stretch} stretch a={a}",
        "comment": "uncalibrated 8-bit render-domain intensity in arbitrary units",
    }
    return positions_to_maps(positions, masks, times, wcs_for, fill=fill, stretch=stretch, a=a, peak=peak,
                              exposure=exposure, meta=meta)  # fmt: skip
