"""Writing synthetic (or any) AIA maps as JSOC-like FITS files, atomically."""

import warnings
from pathlib import Path

import numpy as np

from astropy.io import fits
from astropy.time import Time

from .._atomic import atomic_path
from ..exceptions import InputError, InputTypeError

__all__ = ["write_fits", "aia_filename"]


def aia_filename(smap):
    """
    The JSOC-style file name of an AIA map, e.g. ``aia.lev1_euv_12s.2012-07-19T073001Z.304.image.fits``.

    Examples
    --------
    >>> import astropy.units as u
    >>> from sunpy_jets.synthetic import make_sequence, aia_filename
    >>> seq = make_sequence(kind="quiet", seed=0, n_frames=1, shape=(16, 16), start_time="2012-07-19T07:30:01")
    >>> aia_filename(seq.maps[0])
    'aia.lev1_euv_12s.2012-07-19T073001Z.304.image.fits'
    """
    stamp = Time(smap.date).strftime("%Y-%m-%dT%H%M%SZ")
    wave = int(round(smap.wavelength.to_value("angstrom")))
    return f"aia.lev1_euv_12s.{stamp}.{wave}.image.fits"


def _frames(data):
    from sunpy.map import GenericMap, MapSequence

    maps = getattr(data, "maps", None)
    if isinstance(maps, MapSequence):  # a SyntheticSequence
        return list(maps.maps)
    if isinstance(data, MapSequence):
        return list(data.maps)
    if isinstance(data, GenericMap):
        return [data]
    if hasattr(data, "__iter__"):
        return data  # a SyntheticFrames or any iterable of maps, consumed one by one
    raise InputTypeError(f"write_fits needs maps (a SyntheticSequence, MapSequence, or iterable of maps), got {data!r}")


def write_fits(data, directory, *, compress=True, overwrite=False):
    """
    Write maps as AIA-like FITS files, one per frame, atomically and frame by frame.

    Parameters
    ----------
    data : `~sunpy_jets.synthetic.SyntheticSequence`, `~sunpy_jets.synthetic.SyntheticFrames`, `~sunpy.map.MapSequence` or iterable of maps
        The frames. Lazy frames are rendered and written one at a time.
    directory : str or `~pathlib.Path`
        Output folder (created if needed).
    compress : bool, optional
        RICE-compress the image in a ``CompImageHDU`` like real JSOC files.
    overwrite : bool, optional
        Replace existing files of the same name (otherwise an `~sunpy_jets.exceptions.InputError`).

    Returns
    -------
    list of `~pathlib.Path`
        The files written, in frame order.

    Examples
    --------
    >>> import tempfile
    >>> import sunpy.map
    >>> from sunpy_jets.synthetic import make_sequence, write_fits
    >>> seq = make_sequence(kind="quiet", seed=0, n_frames=2, shape=(32, 32), bad_frame_rate=0)
    >>> paths = write_fits(seq, tempfile.mkdtemp())
    >>> sunpy.map.Map(paths[0]).exposure_time
    <Quantity 2.9 s>
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise InputError(f"{directory} exists and is not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for smap in _frames(data):
        path = directory / aia_filename(smap)
        if path.exists() and not overwrite:
            raise InputError(f"{path} exists: pass overwrite=True or choose another directory")
        header = fits.Header()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", fits.verify.VerifyWarning)
            for key, value in smap.meta.items():
                if key in ("keycomments", "comment", "history", "", "blank", "naxis", "naxis1", "naxis2", "bitpix"):
                    continue
                if isinstance(value, (np.floating, np.integer)):
                    value = value.item()
                header[key.upper()[:8] if len(key) <= 8 else f"HIERARCH {key}"] = value
        image = np.asarray(smap.data, dtype=np.float32)
        if compress:
            hdus = fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(image, header, compression_type="RICE_1")])
        else:
            hdus = fits.HDUList([fits.PrimaryHDU(image, header)])
        with atomic_path(path) as tmp:
            hdus.writeto(tmp, overwrite=True, output_verify="silentfix")
        written.append(path)
    return written
