"""
Reading FITS files and expanding path arguments (files, folders, glob patterns), for every input path.

Files are put in time order by their headers' observation times (`sort_by_time`) wherever they
enter: predict, scan, detect, the command line and the Dask path all read them in that order.
"""

import glob
import re
import warnings
from pathlib import Path

import numpy as np

from astropy.io import fits

import sunpy.map

from ..exceptions import FileFormatError, InputError
from ._checks import observation_time
from ._rice import decode_tiles

__all__ = ["read_fits", "expand_path_argument", "image_header", "header_time", "sort_by_time"]


def image_header(path):
    """The header of the first 2-D image HDU (HDU 1 of RICE-compressed AIA files, HDU 0 otherwise)."""
    with fits.open(path) as hdul:
        for hdu in hdul:
            if hdu.is_image and hdu.header.get("NAXIS") == 2:
                return hdu.header.copy()
    raise FileFormatError(f"{path} holds no 2-D image")


# Cards that describe a tile-compressed image's storage (a binary table), not the image: left out of the header
# read for its time, which is otherwise the image's own.
_STORAGE_CARD = re.compile(r"^(Z[A-Z0-9_-]*|T(TYPE|FORM|UNIT|SCAL|ZERO|DIM|NULL)\d+|TFIELDS|THEAP|PCOUNT|GCOUNT|XTENSION|BITPIX|"
                           r"NAXIS\d*|EXTNAME|CHECKSUM|DATASUM)$")


# Cards a map's time can depend on: the dates themselves, the time system, what picks sunpy's map source (some
# sources, EIT's, have their own date rule) and the coordinate cards a map needs. Only these are parsed: parsing
# all of a JSOC header's ~200 card values was most of the time of reading it.
_DATING_CARD = re.compile(r"^(DATE|TIME|T_OBS|T_REC|MJD|TIMESYS|TIMEUNIT|INSTRUME|TELESCOP|DETECTOR|OBSRVATR|ORIGIN|"
                          r"WAVE|EXPTIME|SOURCE|MISSION|SAT|OBS|CTYPE|CUNIT|CDELT|CRPIX|CRVAL|CROTA|PC\d|CD\d|"
                          r"RSUN|DSUN|HGL|HGS|CRLN|CRLT|HAE|HEE|HCI|BUNIT|LONPOLE|LATPOLE)")


def _dating_header(path):
    """
    The first 2-D image's header cards, read as stored, without decoding pixels.

    A tile-compressed image (JSOC's RICE files) is opened as its binary table: astropy's conversion of
    the table header into the image header reads and rewrites every card, which made reading a
    header for its time cost a third of a whole file's decoding. The image's own cards are the same in
    both; the table's storage cards are left out.
    """
    with fits.open(path, disable_image_compression=True) as hdul:
        for hdu in hdul:
            header = hdu.header
            compressed = header.get("ZIMAGE") is True and header.get("ZNAXIS") == 2
            if compressed or (hdu.is_image and header.get("NAXIS") == 2):
                return {card.keyword: card.value for card in header.cards
                        if _DATING_CARD.match(card.keyword) and not _STORAGE_CARD.match(card.keyword)}
    raise FileFormatError(f"{path} holds no 2-D image")


def header_time(path):
    """
    A file's observation time from its header only, as ``sunpy.map.Map(path).date`` reads it.

    Raises
    ------
    `~sunpy_jets.exceptions.FileFormatError`
        If the file is not a FITS image.
    `~sunpy_jets.exceptions.InputError`
        If it has no real observation time (see `~sunpy_jets.inputs._checks.observation_time`).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path} does not exist or is not a file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # non-standard but harmless header cards
            header = _dating_header(path)
            # A 1×1 stand-in for the pixels: the time comes from the header exactly as the full map's would.
            stand_in = sunpy.map.Map((np.zeros((1, 1), dtype=np.float32), header))
    except FileFormatError:
        raise
    except Exception as e:  # noqa: BLE001 - any reader failure means the same
        raise FileFormatError(f"{path} could not be read as a FITS image: {' '.join(str(e).split())}") from e
    return observation_time(stand_in, where=str(path))


def sort_by_time(paths) -> list:
    """
    ``paths`` in order of their observation times (stable: files of equal time keep their order).

    Only headers are read. A file that cannot be read, or has no real observation time, is
    refused with its name.
    """
    keyed = [(header_time(path), i, path) for i, path in enumerate(paths)]
    keyed.sort(key=lambda item: (float(item[0].jd1), float(item[0].jd2), item[1]))
    return [path for _, _, path in keyed]


def _images(hdus):
    """``(index, hdu)`` of each image HDU of ``hdus`` (opened with ``disable_image_compression=True``)."""
    for i, hdu in enumerate(hdus):
        header = hdu.header
        if isinstance(hdu, fits.BinTableHDU) and header.get("ZIMAGE") is True and header.get("ZNAXIS", 0) >= 2:
            yield i, hdu
        elif hdu.is_image and header.get("NAXIS", 0) >= 2:
            yield i, hdu


def _image(path, hdus, i, hdu):
    """The pixels and header of image HDU ``i``; tile-compressed ones decoded on several cores where possible."""
    if not isinstance(hdu, fits.BinTableHDU):
        return np.asarray(hdu.data), hdu.header.copy()
    image = fits.CompImageHDU(bintable=hdu)
    data = decode_tiles(path, hdu.header, hdus.fileinfo(i)["datLoc"])
    return (np.asarray(image.data) if data is None else data), image.header.copy()


def read_fits(path: Path):
    if not path.is_file():
        raise InputError(f"{path} does not exist or is not a file")
    try:
        with warnings.catch_warnings():
            # astropy/sunpy warn about non-standard but harmless AIA header cards; they are not the user's problem.
            warnings.filterwarnings("ignore", category=Warning, module=r"astropy\.io\.fits.*")
            # The first image HDU as (data, header): what sunpy's reader gives, without reading every HDU's
            # comments and history into the metadata (a third of the time of a small RICE cutout).
            with fits.open(path, memmap=False, disable_image_compression=True) as hdus:
                images = list(_images(hdus))
                if len(images) > 1:
                    raise FileFormatError(f"{path} holds {len(images)} images; give one image per file")
                if not images:
                    raise FileFormatError(f"{path} holds no image")
                # Decoded now so that a truncated file fails here, with its name, not deep inside numpy later.
                data, header = _image(path, hdus, *images[0])
            for key in ("COMMENT", "HISTORY"):  # sunpy's reader keeps them as text: not needed here
                header.remove(key, ignore_missing=True, remove_all=True)
            m = sunpy.map.Map(data, header)
    except FileFormatError:
        raise
    except Exception as e:  # noqa: BLE001 - any reader failure (astropy, sunpy's NoMapsInFileError, numpy) means the same
        # One line: sunpy's reader errors span several, and the CLI prints messages as one line.
        raise FileFormatError(f"{path} could not be read as a FITS image: {' '.join(str(e).split())}") from e
    if isinstance(m, list) or isinstance(m, sunpy.map.MapSequence):
        raise FileFormatError(f"{path} holds several images; give one image per file")
    return m


def expand_path_argument(arg) -> list[Path]:
    text = str(arg)
    path = Path(text).expanduser()
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in {".fits", ".fts", ".fit"} or p.name.endswith(".fits.gz"))
        if not files:
            raise InputError(f"the directory {path} holds no FITS files")
        return files
    if glob.has_magic(text):
        files = sorted(Path(p) for p in glob.glob(str(path)))
        if not files:
            raise InputError(f"no files match the pattern {text!r}")
        return files
    if path.exists():
        return [path]
    raise InputError(f"{text!r} is neither an existing file or directory nor a glob pattern that matches files")
