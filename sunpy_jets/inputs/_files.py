"""
Reading FITS files and expanding path arguments (files, folders, glob patterns), for every input path.
"""

import glob
import warnings
from pathlib import Path

import numpy as np

import sunpy.map

from ..exceptions import FileFormatError, InputError

__all__ = ["read_fits", "expand_path_argument"]


def read_fits(path: Path):
    if not path.is_file():
        raise InputError(f"{path} does not exist or is not a file")
    try:
        with warnings.catch_warnings():
            # astropy/sunpy warn about non-standard but harmless AIA header cards; they are not the user's problem.
            warnings.filterwarnings("ignore", category=Warning, module=r"astropy\.io\.fits.*")
            m = sunpy.map.Map(str(path))
            # Decode now so that a truncated file fails here, with its name, not deep inside numpy later.
            np.asarray(m.data)
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
