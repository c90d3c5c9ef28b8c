# This file is for compatibility with the SunPy package template: the version comes from
# setuptools_scm, either live from git (developer checkouts) or from the generated _version.py.
import warnings
from pathlib import Path

try:
    try:
        from ._dev.scm_version import version
    except ImportError:
        from ._version import version
except Exception:  # noqa: BLE001
    warnings.warn(
        f'could not determine {__name__.split(".")[0]} package version; this indicates a broken installation',
        stacklevel=1,
    )
    del warnings
    version = "0.0.0"

from packaging.version import parse as _parse

_version = _parse(version)
major, minor, bugfix = [*_version.release, 0][:3]
release = not _version.is_devrelease

__all__ = ["version", "major", "minor", "bugfix", "release"]
del Path
