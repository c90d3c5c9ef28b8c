"""
Turn what users have (maps, sequences, FITS files, ndcube objects) into checked sunpy maps.

Everything the classifier accepts goes through `iter_maps`, which yields one validated
`~sunpy.map.GenericMap` at a time, so long lists of files are read lazily, one frame at a time.
Lists of maps or files, folders, glob patterns and map sequences are put in order of observation
time first (files by their headers, read before any pixels), as `~sunpy_jets.scanning.scan_files`
does; only an iterator, read as it comes, must already be in time order.
Frames are checked on arrival (metadata, pixel values) and against the first frame (shape,
wavelength, instrument, time order), and bad input raises one of the package's exceptions before
any tensor work.
"""

import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

import astropy.units as u
from astropy.time import Time
from astropy.wcs import WCS

import sunpy.map
from ndcube import NDCube, NDCubeSequence

from ..exceptions import InputError, InputTypeError
from ..settings import show_progress
from ._checks import DATE_KEYS, SequenceChecker, check_map, observation_time
from ._files import expand_path_argument, header_time, read_fits
from .fido import fetch_frames, is_search

__all__ = ["iter_maps", "load_maps", "count_frames", "check_map", "resolve_search", "MIN_FRAMES"]

#: A jet is a change in time: a single frame cannot show one.
MIN_FRAMES = 2

_ACCEPTED = (
    "a sunpy.map.MapSequence, a list of sunpy maps, a list of FITS paths, a glob pattern or directory, "
    "a 3-D ndcube.NDCube with a time axis, an ndcube.NDCubeSequence of 2-D cubes, or a Fido search"
)


def _maps_from_ndcube(cube: NDCube) -> Iterator:
    if cube.data.ndim != 3:
        raise InputError(
            f"an NDCube input must be 3-D (time, y, x), got {cube.data.ndim} dimensions; "
            "use an NDCubeSequence for a sequence of 2-D cubes"
        )
    time_axes = [i for i, types in enumerate(cube.array_axis_physical_types) if any("time" in t for t in types)]
    if len(time_axes) != 1:
        raise InputError(
            "the NDCube has no time axis in its WCS; give it a 3-D WCS with a TIME axis or add the frame times "
            "with cube.extra_coords.add('time', 0, times)"
        )
    t_axis = time_axes[0]
    times = cube.axis_world_coords("time")[0]
    if not isinstance(times, Time):
        try:
            times = cube.axis_world_coords("time", wcs=cube.extra_coords)[0]
        except Exception as e:  # noqa: BLE001
            raise InputError(f"could not read the frame times of the NDCube: {e}") from e
    wcs = cube.wcs.low_level_wcs
    if not isinstance(wcs, WCS):
        raise InputTypeError(f"the NDCube's WCS must be a FITS WCS (astropy.wcs.WCS), not {type(wcs).__name__}")
    celestial = wcs.celestial
    if celestial.naxis != 2:
        raise InputError("the NDCube's WCS has no helioprojective longitude/latitude axes")
    data = np.moveaxis(np.asarray(cube.data), t_axis, 0)
    for i in range(data.shape[0]):
        yield _map_from_array(data[i], celestial, dict(cube.meta or {}), Time(times[i]), cube.unit)


def _maps_from_ndcube_sequence(seq: NDCubeSequence) -> Iterator:
    for i, cube in enumerate(seq.data):
        if not isinstance(cube, NDCube) or cube.data.ndim != 2:
            raise InputError(f"cube {i} of the NDCubeSequence must be a 2-D NDCube (one frame)")
        wcs = cube.wcs.low_level_wcs
        if not isinstance(wcs, WCS):
            raise InputTypeError(f"cube {i} of the NDCubeSequence must have a FITS WCS (astropy.wcs.WCS)")
        meta = dict(cube.meta or {})
        if "time" in cube.global_coords:
            time = Time(cube.global_coords["time"])
        else:
            key = next((k for k in DATE_KEYS if meta.get(k) not in (None, "")), None)
            if key is None:
                raise InputError(
                    f"cube {i} of the NDCubeSequence has no time: add cube.global_coords.add('time', 'time', t) "
                    "or a DATE-OBS entry in its meta"
                )
            time = Time(meta[key])
        yield _map_from_array(np.asarray(cube.data), wcs, meta, time, cube.unit)


def _map_from_array(data, celestial_wcs: WCS, meta: dict, time: Time, unit):
    header = {k.lower(): v for k, v in meta.items()}
    # The WCS is the authority on geometry; per-frame times replace whatever date the shared meta holds.
    for key in (*DATE_KEYS, "date", "mjd-obs", "mjd-avg"):
        header.pop(key, None)
    header.update({k.lower(): v for k, v in celestial_wcs.to_header(relax=True).items() if k not in ("DATE-OBS",)})
    for key in ("date-avg", "mjd-avg", "mjd-obs", "mjdref"):
        header.pop(key, None)
    header["date-obs"] = time.utc.isot
    header["naxis"] = 2
    header["naxis1"], header["naxis2"] = data.shape[1], data.shape[0]
    if unit is not None and "bunit" not in header:
        header["bunit"] = unit.to_string()  # sunpy reads DN, which the FITS unit standard lacks
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*(rsun|observer|Missing metadata).*")
        return sunpy.map.Map(np.asarray(data), header)


def _in_time_order(items) -> Iterator:
    """
    Yield ``(map, file or None)`` for a list of maps and FITS paths, in order of observation time.

    Maps are sorted by their dates, files by their headers' (only headers are read before sorting;
    each file's pixels are read when its turn comes). A frame without a real observation time is
    refused here, by its position in the list or its file name.
    """
    keyed = []
    for i, item in enumerate(items):
        if isinstance(item, sunpy.map.GenericMap):
            keyed.append((observation_time(item, where=f"frame {i}"), i, item))
        elif isinstance(item, (str, Path)):
            path = Path(item).expanduser()
            keyed.append((header_time(path), i, path))
        else:
            raise InputTypeError(f"item {i} of the input is a {type(item).__name__}; items must be sunpy maps or FITS paths")
    keyed.sort(key=lambda entry: (float(entry[0].jd1), float(entry[0].jd2), entry[1]))
    for _, _, item in keyed:
        yield (item, None) if isinstance(item, sunpy.map.GenericMap) else (read_fits(item), item)


def _raw_maps(data) -> Iterator:
    """Yield ``(map, file or None)`` from any accepted input, reading files lazily; no validation yet."""
    if isinstance(data, np.ndarray):
        raise InputTypeError(
            f"a bare {data.ndim}-D array has no times or coordinates; give {_ACCEPTED} "
            "(for example sunpy.map.Map(list_of_files, sequence=True))"
        )
    if type(data).__module__.startswith("torch"):
        raise InputTypeError(f"a tensor has no times or coordinates; give {_ACCEPTED}")
    if isinstance(data, sunpy.map.MapSequence):
        yield from _in_time_order(data.maps)
    elif isinstance(data, sunpy.map.GenericMap):
        yield data, None
    elif isinstance(data, NDCubeSequence):
        for m in _maps_from_ndcube_sequence(data):
            yield m, None
    elif isinstance(data, NDCube):
        for m in _maps_from_ndcube(data):
            yield m, None
    elif isinstance(data, (str, Path)):
        yield from _in_time_order(expand_path_argument(data))
    elif isinstance(data, (list, tuple)):
        yield from _in_time_order(data)
    elif is_search(data):
        yield from _in_time_order(fetch_frames(data, progress=show_progress()))
    elif isinstance(data, Iterable) and not isinstance(data, (bytes, dict)):
        # An iterator is read as it comes (it may be endless): its frames must already be in time order.
        for i, item in enumerate(data):
            if isinstance(item, sunpy.map.GenericMap):
                yield item, None
            elif isinstance(item, (str, Path)):
                path = Path(item).expanduser()
                yield read_fits(path), path
            else:
                raise InputTypeError(f"item {i} of the input is a {type(item).__name__}; items must be sunpy maps or FITS paths")
    else:
        raise InputTypeError(f"cannot use a {type(data).__name__} as an image sequence; give {_ACCEPTED}")


def iter_maps(data, *, instrument: str | None = None, wavelength: u.Quantity | None = None,
              need_exposure: bool = True) -> Iterator:
    """
    Yield the frames of any accepted input as checked sunpy maps, one at a time.

    Files are opened only when their frame is reached, so a day of FITS paths never sits in memory.
    Frames are yielded in order of observation time whatever order a list, folder or pattern gives
    them in (only headers are read to sort files); an iterator must already be in time order.

    Parameters
    ----------
    data : `~sunpy.map.MapSequence`, list, str, `~pathlib.Path`, `~ndcube.NDCube`, `~ndcube.NDCubeSequence` or Fido search
        The frames: a map sequence, a list of maps or FITS paths, a glob pattern or a directory of FITS
        files, a 3-D cube with a time axis, a sequence of 2-D cubes, or a ``Fido.search`` result or query
        (its files are downloaded first, or found in sunpy's download folder: `~sunpy_jets.inputs.fetch_frames`).
    instrument : str, optional
        If given, the first frame's instrument must start with this (case-insensitive).
    wavelength : `~astropy.units.Quantity`, optional
        If given, the frames' wavelength must equal this.
    need_exposure : bool
        Require an exposure time in every frame.

    Yields
    ------
    `~sunpy.map.GenericMap`

    Raises
    ------
    `~sunpy_jets.exceptions.InputTypeError`
        For an input of the wrong type (a bare array, a number).
    `~sunpy_jets.exceptions.InputError`
        For missing metadata, unusable pixels, mixed shapes, instruments or wavelengths, unsorted or
        duplicated times.
    `~sunpy_jets.exceptions.FileFormatError`
        For a file that cannot be read as a FITS image.

    Examples
    --------
    >>> import sunpy.data.test
    >>> from sunpy_jets.inputs import iter_maps
    >>> path = sunpy.data.test.get_test_filepath("aia_171_level1.fits")
    >>> [m.wavelength for m in iter_maps([path])]
    [<Quantity 171. Angstrom>]
    """
    if wavelength is not None and not (isinstance(wavelength, u.Quantity) and wavelength.unit.physical_type == "length"):
        raise InputTypeError(f"wavelength must be a length Quantity such as 304 * u.AA, not {wavelength!r}")
    checker = SequenceChecker(need_exposure=need_exposure, instrument=instrument, wavelength=wavelength)
    for m, source in _raw_maps(data):
        try:
            checked = checker(m)
        except InputError as e:
            if source is None:
                raise
            # Name the file: "frame 3" alone does not say which of a folder's files to look at.
            raise type(e)(f"{source}: {e}") from e
        yield checked
    if checker.count == 0:
        raise InputError("the input holds no frames: give at least two")


def load_maps(data, *, min_frames: int = MIN_FRAMES, **kwargs) -> list:
    """
    Read and check all frames of an input (see `iter_maps`) into a list of maps.

    Parameters
    ----------
    data
        Any input accepted by `iter_maps`.
    min_frames : int
        The fewest frames accepted.
    **kwargs
        Passed to `iter_maps` (``instrument``, ``wavelength``, ``need_exposure``).

    Returns
    -------
    list of `~sunpy.map.GenericMap`

    Examples
    --------
    >>> import sunpy.data.test
    >>> from sunpy_jets.inputs import load_maps
    >>> path = sunpy.data.test.get_test_filepath("aia_171_level1.fits")
    >>> load_maps([path])
    Traceback (most recent call last):
    ...
    sunpy_jets.exceptions.InputError: the input holds 1 frame; a jet is a change in time, so give at least 2 frames
    """
    maps = list(iter_maps(data, **kwargs))
    if len(maps) < min_frames:
        raise InputError(
            f"the input holds {len(maps)} frame{'s' if len(maps) != 1 else ''}; a jet is a change in time, "
            f"so give at least {min_frames} frames"
        )
    return maps


def resolve_search(data, *, progress=None):
    """
    The files of a ``Fido`` search (downloaded by `~sunpy_jets.inputs.fetch_frames`), or ``data`` itself.

    Called once at the top of ``scan``, ``detect`` and ``predict_proba``, so that an observation read
    twice (``detect`` reads the frames around each event again) is searched and fetched once.

    Examples
    --------
    >>> from sunpy_jets.inputs import resolve_search
    >>> resolve_search(["a.fits", "b.fits"])
    ['a.fits', 'b.fits']
    """
    return fetch_frames(data, progress=show_progress(progress)) if is_search(data) else data


def count_frames(data) -> int | None:
    """
    Number of frames in an input without reading pixel data, or None when unknown (an iterator).

    Examples
    --------
    >>> from sunpy_jets.inputs import count_frames
    >>> count_frames(["a.fits", "b.fits"])
    2
    """
    if isinstance(data, sunpy.map.MapSequence):
        return len(data.maps)
    if isinstance(data, NDCubeSequence):
        return len(data.data)
    if isinstance(data, (str, Path)):
        try:
            return len(expand_path_argument(data))
        except InputError:
            return None
    if isinstance(data, (list, tuple)):
        return len(data)
    return None

