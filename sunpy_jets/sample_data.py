"""
Small real AIA files shipped with the package, for examples and tests that must run offline.

Only files whose licence allows redistribution are shipped; their sources and licences are in the
repository's ``licenses/`` folder. SDO/AIA data are NASA open data.

=================  ==========================================================================================
Name               File
=================  ==========================================================================================
``"aia304_limb"``  One AIA 304 Å level-1 frame, 2022-04-02 13:20:11 UT, 400×450 pixels at 0.6″ across the
                   west limb near (924″, 240″), RICE-compressed, 2.9 s exposure. From pryoung/papers (MIT).
=================  ==========================================================================================
"""

import importlib.resources
from pathlib import Path

from .exceptions import InputError

__all__ = ["SAMPLE_FILES", "sample_file"]

#: Name → file name (inside ``sunpy_jets/data/sample``) of every shipped sample file.
SAMPLE_FILES = {"aia304_limb": "aia.lev1_euv_12s.2022-04-02T132011Z.304.image.fits"}


def sample_file(name="aia304_limb"):
    """
    The path of a sample file shipped with the package.

    Parameters
    ----------
    name : str, optional
        One of `SAMPLE_FILES`.

    Returns
    -------
    `pathlib.Path`

    Raises
    ------
    `~sunpy_jets.exceptions.InputError`
        For an unknown name.

    Examples
    --------
    >>> import sunpy.map
    >>> from sunpy_jets.sample_data import sample_file
    >>> m = sunpy.map.Map(sample_file("aia304_limb"))
    >>> m.instrument, m.wavelength, m.data.shape
    ('AIA 4', <Quantity 304. Angstrom>, (400, 450))
    """
    if name not in SAMPLE_FILES:
        raise InputError(f"unknown sample file {name!r}; choose one of {', '.join(map(repr, SAMPLE_FILES))}")
    # The package is installed as files (setuptools package data), so the resource is a real path.
    return Path(str(importlib.resources.files("sunpy_jets").joinpath("data", "sample", SAMPLE_FILES[name])))
