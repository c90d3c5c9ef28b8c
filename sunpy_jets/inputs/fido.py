"""
From a ``Fido`` search to frames: what `~sunpy_jets.JetClassifier.detect` does with a search.

`fetch_frames` takes a ``Fido.search`` result (or the query itself, which it searches first), downloads its
files through ``Fido.fetch`` (parfive) into sunpy's download folder, or the folder given, and returns their
paths in order of observation time. Files already there are not downloaded again, so a second call (or a
rerun after an interrupted download) is a cache hit; a download that fails for some files says how many
and why, and a rerun fetches only those. `~sunpy_jets.JetClassifier.scan`, ``detect`` and ``predict_proba``
accept a search or a query wherever they accept files.
"""

import sys
from pathlib import Path

from ..exceptions import DownloadError, InputError, InputTypeError
from ._files import sort_by_time

__all__ = ["fetch_frames", "is_search"]


def is_search(data) -> bool:
    """
    Whether ``data`` is a ``Fido.search`` result or a Fido query (``a.Time(...) & a.Instrument(...)``).

    Examples
    --------
    >>> import astropy.units as u
    >>> from sunpy.net import attrs as a
    >>> from sunpy_jets.inputs import is_search
    >>> is_search(a.Time("2012-07-19 07:30", "2012-07-19 07:40") & a.Wavelength(304 * u.AA))
    True
    >>> is_search(["frame1.fits", "frame2.fits"])
    False
    """
    # A search can only come from an imported sunpy.net: asking costs no import (whose side effects include a
    # root logging handler) on every scan of plain files.
    if "sunpy.net" not in sys.modules:
        return False
    from sunpy.net.attr import Attr
    from sunpy.net.fido_factory import UnifiedResponse

    return isinstance(data, (UnifiedResponse, Attr))


def fetch_frames(search, *, path=None, progress=True, max_conn=5) -> list[Path]:
    """
    Download the files of a ``Fido`` search (searching first when given a query) and return their paths.

    Parameters
    ----------
    search : ``sunpy.net.fido_factory.UnifiedResponse`` or ``sunpy.net.attr.Attr``
        A ``Fido.search`` result, or a query such as
        ``a.Time(start, end) & a.Instrument.aia & a.Wavelength(304 * u.AA) & a.Sample(24 * u.s)``.
        HEK tables in a result (``a.hek.CJ``) hold no files and are left out.
    path : path-like, optional
        Folder for the files, or a template with ``{file}`` as for ``Fido.fetch``; default: sunpy's download
        folder (``sunpy.config``, ``[downloads] download_dir``), shared with the user's other downloads.
    progress : bool
        Show parfive's progress bars.
    max_conn : int
        Parallel connections.

    Returns
    -------
    `list` of `~pathlib.Path`
        The files, in order of observation time (their headers' ``DATE-OBS``).

    Raises
    ------
    `~sunpy_jets.exceptions.InputTypeError`
        If ``search`` is neither a search result nor a query.
    `~sunpy_jets.exceptions.InputError`
        If the search found no files.
    `~sunpy_jets.exceptions.DownloadError`
        If some files could not be downloaded (the message says how many and the first reason; the files
        that arrived are kept, and calling again fetches only the others).

    Examples
    --------
    >>> import astropy.units as u
    >>> from sunpy.net import attrs as a
    >>> from sunpy_jets.inputs import fetch_frames
    >>> query = a.Time("2012-07-19 07:30", "2012-07-19 08:00") & a.Instrument.aia & a.Wavelength(304 * u.AA)
    >>> files = fetch_frames(query, path="~/sunpy/data/jets/{file}")  # doctest: +REMOTE_DATA +SKIP
    """
    from sunpy.net import Fido
    from sunpy.net.attr import Attr
    from sunpy.net.fido_factory import UnifiedResponse
    from sunpy.net.jsoc import JSOCClient

    if isinstance(search, Attr):
        search = Fido.search(search)
    if not isinstance(search, UnifiedResponse):
        raise InputTypeError(
            f"cannot fetch frames from a {type(search).__name__}: give a Fido.search result or a Fido query "
            "(a.Time(...) & a.Instrument.aia & a.Wavelength(304 * u.AA))"
        )
    # HEK answers are event lists, not files: fetch only the tables of data providers
    tables = [table for table in search if not _is_hek(table)]
    if not sum(len(table) for table in tables):
        raise InputError(
            "the Fido search found no files to fetch: check its time range, instrument and wavelength "
            "(a.Time(...) & a.Instrument.aia & a.Wavelength(304 * u.AA))"
        )
    if path is not None:
        path = Path(path).expanduser()
        if "{file}" not in path.name:
            path = path / "{file}"
    # As Fido.fetch would make it (JSOC serves one connection), but with a download that closes its event loop
    jsoc = all(isinstance(getattr(table, "client", None), JSOCClient) for table in tables)
    downloader = _closing_downloader(max_conn=1 if jsoc else max_conn, max_splits=1 if jsoc else 5,
                                     progress=progress, overwrite=False)
    downloaded = Fido.fetch(*tables, path=path, downloader=downloader)
    if downloaded.errors:
        first = downloaded.errors[0]
        reason = str(first.exception).strip().splitlines()[0] if str(first.exception).strip() else repr(first.exception)
        raise DownloadError(
            f"{len(downloaded.errors)} of {len(downloaded.errors) + len(downloaded)} files could not be "
            f"downloaded (first: {reason}); call again: the files that arrived are kept and are not downloaded twice"
        )
    return sort_by_time(Path(name) for name in downloaded)


def _closing_downloader(**options):
    """
    A parfive ``Downloader`` whose ``download`` closes the event loop it runs in.

    parfive's own makes a new event loop and leaves it open; its garbage collection later raises a
    ResourceWarning (an error under ``-W error``) wherever the program then is.
    """
    import asyncio

    import parfive

    class ClosingDownloader(parfive.Downloader):
        def download(self):
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                return asyncio.run(self.run_download())
            return super().download()  # inside a running loop (a notebook): parfive runs it in a thread

    return ClosingDownloader(**options)


def _is_hek(table):
    return type(table).__name__ == "HEKTable" or "event_type" in getattr(table, "colnames", ())
