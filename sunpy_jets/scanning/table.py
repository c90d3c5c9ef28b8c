"""
`ScanTable`: the window probabilities of a scan, a `~astropy.table.QTable` that astropy can write.

A scan's positions (``centroid``, ``tile_center`` and ``meta["center"]``) are helioprojective
`~astropy.coordinates.SkyCoord` seen from the spacecraft. Astropy cannot write a coordinate frame whose
``observer`` is itself a coordinate (sunpy/sunpy#8490), so `ScanTable.write` stores each observer as a
heliographic Stonyhurst `~astropy.coordinates.SkyCoord` in ``meta["observers"]`` and the positions
without it; `ScanTable.read` puts the observers back. Any astropy format that keeps ``meta`` (ECSV, HDF5)
round-trips; read with `~astropy.table.QTable.read` instead, the positions lack their observer but keep
``Tx`` and ``Ty``. FITS keeps the columns but not ``meta`` (astropy writes no coordinates or quantities into
a FITS header), so a cutout scan read from FITS has lost its ``center`` and ``extent``: prefer ECSV.
"""

from astropy.coordinates import SkyCoord
from astropy.table import QTable
from sunpy.coordinates import Helioprojective

from .._paths import check_output_file

__all__ = ["ScanTable"]

_OBSERVERS = "observers"  # meta key: {"column:NAME" or "meta:KEY": observer SkyCoord}


class ScanTable(QTable):
    """
    Window probabilities of `~sunpy_jets.scanning.scan`: one row per window (and tile).

    A `~astropy.table.QTable` with typed access to the scan's geometry (`center`, `extent`), whose `write`
    and `read` keep the observer of its helioprojective positions.

    Examples
    --------
    >>> import os, tempfile
    >>> import astropy.units as u
    >>> from astropy.coordinates import SkyCoord
    >>> from astropy.time import Time
    >>> from sunpy.coordinates import Helioprojective, get_earth
    >>> from sunpy_jets.scanning import ScanTable
    >>> t0 = Time("2011-01-20T09:00")
    >>> frame = Helioprojective(obstime=t0, observer=get_earth(t0))
    >>> table = ScanTable({"start_time": t0 + [0, 1] * u.min, "end_time": t0 + [12, 13] * u.min,
    ...                    "probability": [0.2, 0.9]},
    ...                   meta={"center": SkyCoord(-245 * u.arcsec, -1003 * u.arcsec, frame=frame),
    ...                         "extent": [300, 300] * u.arcsec})
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     again = ScanTable.read(table.write(os.path.join(folder, "windows.ecsv")))
    >>> again.center.Tx, again.center.observer.lon, again.extent
    (<Longitude -245. arcsec>, <Longitude 0. deg>, <Quantity [300., 300.] arcsec>)
    """

    @property
    def center(self):
        """The centre of the scanned field (`~astropy.coordinates.SkyCoord`, or `None` for a tiled scan)."""
        return self.meta.get("center")

    @property
    def extent(self):
        """Width and height of the scanned field, or of one tile (`~astropy.units.Quantity` in arcsec)."""
        return self.meta.get("extent")

    def write(self, path, *args, **kwargs):
        """
        Write the table with astropy's unified I/O (`astropy.table.Table.write`), observers kept in ``meta``.

        Parameters
        ----------
        path : path-like
            The file; its name chooses the format (``.ecsv``, ``.h5``...) unless ``format=`` is given.
        *args, **kwargs
            Passed to astropy's writer (``overwrite=False`` by default, as there).

        Returns
        -------
        `~pathlib.Path`
            The file written.
        """
        path = check_output_file(path, "the scan table file")
        plain = QTable(self, copy=False)
        plain.meta = dict(self.meta)
        observers = {}
        for name in self.colnames:
            if isinstance(self[name], SkyCoord) and _observer(self[name]) is not None:
                observers[f"column:{name}"] = _observer(self[name])
                plain[name] = _without_observer(self[name])
        for key, value in self.meta.items():
            if isinstance(value, SkyCoord) and _observer(value) is not None:
                observers[f"meta:{key}"] = _observer(value)
                plain.meta[key] = _without_observer(value)
        if observers:
            plain.meta[_OBSERVERS] = observers
        plain.write(path, *args, **kwargs)
        return path

    @classmethod
    def read(cls, *args, **kwargs):
        """
        Read a table written by `write` (any astropy format), with the observers of its positions restored.

        Parameters
        ----------
        *args, **kwargs
            Passed to `astropy.table.Table.read`.

        Returns
        -------
        `ScanTable`
        """
        table = cls(QTable.read(*args, **kwargs), copy=False)
        observers = table.meta.pop(_OBSERVERS, None) or {}
        for key, observer in observers.items():
            where, _, name = key.partition(":")
            if where == "column" and name in table.colnames:
                table[name] = _with_observer(table[name], observer)
            elif where == "meta" and name in table.meta:
                table.meta[name] = _with_observer(table.meta[name], observer)
        return table


def _observer(coord):
    observer = getattr(coord.frame, "observer", None)
    return None if observer is None or isinstance(observer, str) else SkyCoord(observer)


def _without_observer(coord):
    frame = coord.frame
    return SkyCoord(coord.Tx, coord.Ty, frame=Helioprojective(obstime=frame.obstime, rsun=frame.rsun))


def _with_observer(coord, observer):
    frame = coord.frame
    return SkyCoord(coord.Tx, coord.Ty, frame=Helioprojective(obstime=frame.obstime, rsun=frame.rsun,
                                                              observer=observer.frame))
