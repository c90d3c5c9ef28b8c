"""
The JSOC queries that turn labels into AIA cutout sequences, and their download through ``Fido``/parfive.

The recipe (CS-433 ``helper_data_creation.py``): series ``aia.lev1_euv_12s``, 304 Å, one frame every
24 s, 30 frames from the jet start (``a.Time(start, start + 29 × 24 s)``), a 300″ × 300″ cutout
centred on the base point with no tracking, the ``image`` segment, and a registered JSOC e-mail
(``a.jsoc.Notify``). All of these come from a `~sunpy_jets.model.JetModelConfig`, so a model trained
on other settings downloads matching data.
"""

import json
import os
import shutil
import socket
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.table import QTable, Table
from astropy.time import Time

import sunpy.net.attrs as a
from sunpy.coordinates import Helioprojective, get_earth

from ..exceptions import DownloadError, InputError, InputTypeError
from ..model.config import JetModelConfig

__all__ = [
    "AIA_SERIES",
    "JSOC_EMAIL_ENV",
    "resolve_jsoc_email",
    "jsoc_query",
    "build_manifest",
    "manifest_query",
    "sequence_directory",
    "completed_files",
    "download",
    "JSOC_URL_ENV",
]

AIA_SERIES = "aia.lev1_euv_12s"
"""The JSOC series of the recipe: AIA level-1 EUV images at 12 s cadence."""

JSOC_EMAIL_ENV = "JSOC_EMAIL"
"""Environment variable read for the JSOC e-mail when none is given."""

JSOC_URL_ENV = "SUNPY_JETS_JSOC_URL"
"""Environment variable read for the JSOC server's base URL when `download` is given none (a mirror or a
test stand-in; its CGI scripts are under ``cgi-bin/ajax/``). Unset: drms's registered ``jsoc`` server."""

_COMPLETE = "complete.json"  # marker written last: a sequence folder without it is incomplete
_REQUEST = ".request.json"  # what the files of a label folder were asked for (written before the first file)
_REGISTER = "http://jsoc.stanford.edu/ajax/register_email.html"


def resolve_jsoc_email(email=None):
    """
    The JSOC e-mail to notify: the argument, else the ``JSOC_EMAIL`` environment variable.

    Parameters
    ----------
    email : str, optional
        An address registered at http://jsoc.stanford.edu/ajax/register_email.html.

    Returns
    -------
    str

    Raises
    ------
    `~sunpy_jets.exceptions.DownloadError`
        No e-mail was given or set, or it does not look like an address.

    Examples
    --------
    >>> resolve_jsoc_email("someone@example.org")
    'someone@example.org'
    """
    value = email if email is not None else os.environ.get(JSOC_EMAIL_ENV, "")
    value = str(value).strip()
    if not value:
        raise DownloadError(
            "JSOC needs a registered e-mail address to export AIA cutouts: pass email=... or set the "
            f"{JSOC_EMAIL_ENV} environment variable (register at http://jsoc.stanford.edu/ajax/register_email.html)"
        )
    if "@" not in value or value.startswith("@") or value.endswith("@"):
        raise DownloadError(f"{value!r} is not an e-mail address: give the address registered with JSOC")
    return value


def _hpc_center(center, time):
    if not isinstance(center, SkyCoord):
        raise InputTypeError(f"center must be a SkyCoord, not {type(center).__name__}")
    if not isinstance(center.frame, Helioprojective):
        center = center.transform_to(Helioprojective(observer="earth", obstime=time))
    return center


@u.quantity_input
def jsoc_query(start_time, center, *, config=None, series=AIA_SERIES, email=None):
    """
    The Fido query of one label's cutout sequence.

    Parameters
    ----------
    start_time : `~astropy.time.Time` or str
        Start of the sequence (the jet start).
    center : `~astropy.coordinates.SkyCoord`
        Centre of the cutout (the jet base point), helioprojective or any frame that transforms to it.
    config : `~sunpy_jets.model.JetModelConfig`, optional
        Gives the wavelength, cadence, number of frames and field of view; the published recipe by default.
    series : str
        The JSOC series.
    email : str, optional
        Adds ``a.jsoc.Notify(email)`` when given; `download` adds it otherwise.

    Returns
    -------
    `sunpy.net.attr.AttrAnd`
        ``a.Time & a.jsoc.Series & a.Wavelength & a.Sample & a.jsoc.Segment & a.jsoc.Cutout [& a.jsoc.Notify]``.

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.coordinates import SkyCoord
    >>> from sunpy.coordinates import Helioprojective, get_earth
    >>> frame = Helioprojective(observer="earth", obstime="2011-01-20T09:15:44")
    >>> q = jsoc_query("2011-01-20T09:15:44", SkyCoord(-226.6 * u.arcsec, -957 * u.arcsec, frame=frame))
    >>> [type(x).__name__ for x in q.attrs]
    ['Time', 'Series', 'Wavelength', 'Sample', 'Segment', 'Cutout']
    >>> q.attrs[0].end.isot, float(q.attrs[-1].value["width"])
    ('2011-01-20T09:27:20.000', 300.0)
    """
    config = JetModelConfig() if config is None else config
    if not isinstance(config, JetModelConfig):
        raise InputTypeError(f"config must be a JetModelConfig, not {type(config).__name__}")
    try:
        start = Time(start_time)
    except ValueError as exc:
        raise InputError(f"start_time {start_time!r} is not a time: {exc}") from exc
    if not start.isscalar:
        raise InputError(f"start_time must be one time, not {len(start.ravel())}: build one query per sequence")
    center = _hpc_center(center, start)
    end = start + (config.n_frames - 1) * config.cadence
    half = config.fov / 2
    bottom_left = SkyCoord(center.Tx - half, center.Ty - half, frame=center.frame)
    top_right = SkyCoord(center.Tx + half, center.Ty + half, frame=center.frame)
    query = (
        a.Time(start, end)
        & a.jsoc.Series(series)
        & a.Wavelength(config.wavelength)
        & a.Sample(config.cadence)
        & a.jsoc.Segment("image")
        & a.jsoc.Cutout(bottom_left, top_right=top_right, tracking=False)
    )
    if email is not None:
        query = query & a.jsoc.Notify(resolve_jsoc_email(email))
    return query


def _manifest_rows(ids, labels, targets, groups, times, centers, config, series):
    n = len(ids)
    table = QTable()
    table["label_id"] = np.asarray(ids, dtype=str)
    table["label"] = np.asarray(labels, dtype=str)
    table["target"] = np.asarray(targets, dtype=np.int8)
    table["group"] = np.asarray(groups, dtype=str)
    table["start_time"] = times
    table["end_time"] = times + (config.n_frames - 1) * config.cadence
    table["center"] = centers
    table["width"] = np.full(n, config.fov_arcsec) * u.arcsec
    table["wavelength"] = np.full(n, config.wavelength_angstrom) * u.AA
    table["sample"] = np.full(n, config.cadence_s) * u.s
    table["n_frames"] = np.full(n, config.n_frames, dtype=int)
    table["series"] = np.full(n, series)
    return table


def build_manifest(catalogue, nonjets=None, *, config=None, series=AIA_SERIES):
    """
    The download manifest: one JSOC query per label.

    Parameters
    ----------
    catalogue : `~sunpy_jets.datasets.SolarJetHunterCatalogue`
        The jets (label ``"jet"``, target 1, group = the HEK SOL event).
    nonjets : `~astropy.table.QTable`, optional
        Non-jet positions from `~sunpy_jets.datasets.read_nonjet_positions` (label ``"non-jet"``,
        target 0, group from the table).
    config : `~sunpy_jets.model.JetModelConfig`, optional
        The sequence recipe; the published one by default.
    series : str
        The JSOC series.

    Returns
    -------
    `~astropy.table.QTable`
        Columns ``label_id``, ``label``, ``target``, ``group``, ``start_time``, ``end_time``,
        ``center`` (SkyCoord), ``width``, ``wavelength``, ``sample``, ``n_frames`` and ``series``:
        everything the JSOC query needs, in columns that can be written to ECSV. `manifest_query`
        turns a row into the Fido query (about 10 ms each, so they are built when needed). Nothing
        touches the network.

    Raises
    ------
    `~sunpy_jets.exceptions.InputError`
        A label identifier appears twice, or a table lacks a column.

    Examples
    --------
    >>> import io
    >>> from sunpy_jets.datasets import read_nonjet_positions
    >>> nj = read_nonjet_positions(io.StringIO("date,basepoint_X,basepoint_Y\\n2011-07-08T16:00:04,432,118\\n"))
    >>> m = build_manifest(None, nj)
    >>> str(m["label"][0]), m["end_time"][0].isot, m["width"][0]
    ('non-jet', '2011-07-08T16:11:40.000', <Quantity 300. arcsec>)
    """
    config = JetModelConfig() if config is None else config
    ids, labels, targets, groups, times, tx, ty = [], [], [], [], [], [], []
    for table, kind in ((catalogue, "jet"), (nonjets, "non-jet")):
        if table is None:
            continue
        id_col, group_col = ("sjh_id", "sol_event") if kind == "jet" else ("label_id", "group")
        if not isinstance(table, Table):
            raise InputTypeError(
                f"the {kind} labels must be a table read with sunpy_jets.datasets, not {type(table).__name__}"
            )
        missing = [c for c in (id_col, "start_time", group_col, "base") if c not in table.colnames]
        if missing:
            raise InputError(f"the label table lacks column(s) {', '.join(missing)}: read it with sunpy_jets.datasets")
        if len(table) == 0:
            continue
        base = _hpc_center(table["base"], table["start_time"])
        ids += list(table[id_col])
        labels += [kind] * len(table)
        targets += [1 if kind == "jet" else 0] * len(table)
        groups += list(table[group_col])
        times += list(table["start_time"].utc.isot)
        tx.append(base.Tx.to_value(u.arcsec))
        ty.append(base.Ty.to_value(u.arcsec))
    if not ids:
        raise InputError("no labels given: pass a catalogue and/or non-jet positions with at least one row")
    # One helioprojective SkyCoord for all labels, each row with its own time and Earth observer.
    times = Time(times, format="isot", scale="utc")
    frame = Helioprojective(observer=get_earth(times), obstime=times)
    centers = SkyCoord(np.concatenate(tx) * u.arcsec, np.concatenate(ty) * u.arcsec, frame=frame)
    manifest = _manifest_rows(ids, labels, targets, groups, times, centers, config, series)
    ids, counts = np.unique(np.asarray(manifest["label_id"]), return_counts=True)
    if (counts > 1).any():
        raise InputError(f"label identifiers must be unique; repeated: {', '.join(ids[counts > 1][:5])}")
    manifest.meta["config"] = config.to_dict()
    return manifest


def manifest_query(manifest, index, *, email=None):
    r"""
    The Fido query of one manifest row.

    Parameters
    ----------
    manifest : `~astropy.table.QTable`
        From `build_manifest`.
    index : int
        Row number.
    email : str, optional
        Adds ``a.jsoc.Notify(email)``.

    Returns
    -------
    `sunpy.net.attr.AttrAnd`

    Examples
    --------
    >>> import io
    >>> from sunpy_jets.datasets import read_nonjet_positions
    >>> nj = read_nonjet_positions(io.StringIO("date,basepoint_X,basepoint_Y\n2011-07-08T16:00:04,432,118\n"))
    >>> q = manifest_query(build_manifest(None, nj), 0, email="me@example.org")
    >>> q.attrs[-1].value
    'me@example.org'
    """
    row = manifest[index]
    config = JetModelConfig(
        n_frames=int(row["n_frames"]),
        cadence_s=float(row["sample"].to_value(u.s)),
        fov_arcsec=float(row["width"].to_value(u.arcsec)),
        wavelength_angstrom=float(row["wavelength"].to_value(u.AA)),
    )
    return jsoc_query(row["start_time"], row["center"], config=config, series=str(row["series"]), email=email)


def sequence_directory(directory, label_id):
    """
    Folder of one label's downloaded FITS files (``directory / label_id``).

    Examples
    --------
    >>> sequence_directory("downloads", "sjh_2011-01-20T09_1").as_posix()
    'downloads/sjh_2011-01-20T09_1'
    """
    return Path(directory) / str(label_id)


def completed_files(directory, label_id):
    """
    The FITS files of a completed download of one label, or `None` when it is missing or incomplete.

    A download is complete only once ``complete.json`` (written last, listing every file and its
    size) is there and every file listed has that size.

    Examples
    --------
    >>> completed_files("/nonexistent", "sjh_1") is None
    True
    """
    folder = sequence_directory(directory, label_id)
    try:
        record = json.loads((folder / _COMPLETE).read_text())
        files = [folder / f["name"] for f in record["files"]]
        if all(p.stat().st_size == f["size"] for p, f in zip(files, record["files"])):
            return files
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def _check_network(host="jsoc.stanford.edu", port=80, timeout=5):
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        raise DownloadError(
            f"cannot reach {host}:{port} ({exc}): downloading AIA cutouts needs network access to JSOC"
        ) from exc


class _jsoc_server:  # used like a function: ``with _jsoc_server(url) as fetch_url``
    """
    Point drms (and so sunpy's ``JSOCClient``) at ``jsoc_url`` for a ``with`` block; give the ``jsoc_fetch`` URL.

    drms keeps one registered configuration per server, and sunpy's JSOC client always uses the one
    named ``jsoc``; its URLs are set for the block and restored after it.
    """

    def __init__(self, jsoc_url):
        from urllib.parse import urlsplit

        self.urls, self.saved = {}, {}
        if not jsoc_url:
            return
        base = str(jsoc_url).rstrip("/") + "/"
        if urlsplit(base).scheme not in ("http", "https") or not urlsplit(base).hostname:
            raise InputError(f"the JSOC URL {jsoc_url!r} is not an http(s) URL: give the server's base URL, "
                             "e.g. http://host:port/")  # fmt: skip
        cgi = base + "cgi-bin/ajax/"
        self.urls = {
            "url_show_series": cgi + "show_series", "url_jsoc_info": cgi + "jsoc_info",
            "url_jsoc_fetch": cgi + "jsoc_fetch", "url_check_address": cgi + "checkAddress.sh",
            "http_download_baseurl": base,
        }  # fmt: skip

    def __enter__(self):
        import drms

        self.config = drms.HttpJsonClient("jsoc").server
        self.saved = {key: getattr(self.config, key) for key in self.urls}
        for key, value in self.urls.items():
            setattr(self.config, key, value)
        return self.config.url_jsoc_fetch

    def __exit__(self, *exc):
        for key, value in self.saved.items():
            if value is not None:
                setattr(self.config, key, value)


def _server_trouble(exc, what):
    """A DownloadError for an HTTP error or a connection problem (JSOC itself failing), else None."""
    from urllib.error import HTTPError, URLError

    if isinstance(exc, HTTPError):
        return DownloadError(
            f"JSOC answered HTTP {exc.code} ({exc.reason}) while {what}: the trouble is on JSOC's side. "
            "Try again later (http://jsoc.stanford.edu shows its status); labels already downloaded are kept, "
            "and a rerun continues with the others"
        )
    if isinstance(exc, (URLError, TimeoutError, ConnectionError, socket.timeout)):
        reason = getattr(exc, "reason", exc)
        return DownloadError(
            f"JSOC did not answer while {what} ({reason}): the server is down, too slow or unreachable. "
            "Check your connection and try again later; labels already downloaded are kept"
        )
    return None


def _check_email(email):
    """DownloadError unless JSOC knows ``email`` as a registered export address."""
    import drms

    try:
        known = drms.Client().check_email(email)
    except Exception as exc:
        trouble = _server_trouble(exc, "checking the JSOC e-mail")
        if trouble is None:
            raise
        raise trouble from exc
    if not known:
        raise DownloadError(
            f"JSOC does not know the e-mail address {email!r} (not registered, or not yet confirmed): register it "
            f"at {_REGISTER}, answer the confirmation e-mail JSOC sends, then run again. Nothing was downloaded"
        )


def _request_record(row):
    """What a label's files are: the query of a manifest row, as plain JSON values."""
    center = row["center"]
    return {
        "series": str(row["series"]), "start_time": Time(row["start_time"]).utc.isot,
        "n_frames": int(row["n_frames"]), "sample_s": float(row["sample"].to_value(u.s)),
        "wavelength_angstrom": float(row["wavelength"].to_value(u.AA)),
        "tx_arcsec": round(float(center.Tx.to_value(u.arcsec)), 6), "ty_arcsec": round(float(center.Ty.to_value(u.arcsec)), 6),
        "width_arcsec": float(row["width"].to_value(u.arcsec)),
    }  # fmt: skip


def _read_json(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def _is_cached(directory, row):
    """A label whose complete download answers the same query (a download for other settings is not)."""
    if completed_files(directory, row["label_id"]) is None:
        return False
    record = _read_json(sequence_directory(directory, row["label_id"]) / _COMPLETE)
    return record.get("request", _request_record(row)) == _request_record(row)


@u.quantity_input
def download(manifest, directory, *, email=None, max_conn=1, progress=True, overwrite=False, jsoc_url=None,
             timeout: u.s = 30 * u.min, poll_interval: u.s = 10 * u.s):  # fmt: skip
    """
    Download the cutout sequences of a manifest from JSOC (sunpy's ``Fido``/``JSOCClient``, then parfive).

    For each label: ``Fido.search`` finds its records; ``JSOCClient.request_data`` asks JSOC to export
    them with the ``im_patch`` cutout; the export's status is polled until it is ready (or ``timeout``);
    parfive downloads the files, with progress bars. Each label's files go to ``directory/<label_id>/``:
    a file is fetched into a ``.partial`` sub-folder and moved into place as soon as it has arrived whole,
    and ``complete.json`` (every file and its size) is written last. So:

    - a label with a complete download of the same query is skipped (the on-disk cache);
    - an interrupted run (Ctrl-C, SIGKILL, a cut connection) resumes: files that arrived whole are kept
      and not downloaded again, a file cut half-way is never taken for a whole one;
    - nothing reads a label's files before its ``complete.json`` exists.

    Parameters
    ----------
    manifest : `~astropy.table.QTable`
        From `build_manifest`.
    directory : str or `~pathlib.Path`
        Download root.
    email : str, optional
        JSOC e-mail; else ``JSOC_EMAIL``. It must be registered with JSOC (checked before anything is
        downloaded).
    max_conn : int
        Parallel downloads of parfive. JSOC asks for one connection per user (sunpy's JSOC client forces
        it), so only raise it for another server.
    progress : bool
        Show progress bars (labels, and parfive's per file).
    overwrite : bool
        Download again labels that are already complete.
    jsoc_url : str, optional
        Base URL of the JSOC server to use (a mirror, or a local stand-in in tests; its CGI scripts are
        under ``cgi-bin/ajax/``). Default: the ``SUNPY_JETS_JSOC_URL`` environment variable, else
        jsoc.stanford.edu (drms's registered ``jsoc`` server). Nothing else changes with it.
    timeout : `~astropy.units.Quantity`
        How long to wait for JSOC to prepare one label's export.
    poll_interval : `~astropy.units.Quantity`
        Longest wait between two status requests; they start a quarter of a second apart and double.

    Returns
    -------
    `~astropy.table.QTable`
        ``label_id``, ``n_files``, ``status`` (``"cached"``, ``"downloaded"`` or ``"failed"``) and
        ``error``: for a failed label, what went wrong and what to do (an export JSOC could not make, an
        export not ready within ``timeout``, files cut off). The other labels go on; a rerun retries only
        the failed ones, and within them only the files that are missing.

    Raises
    ------
    `~sunpy_jets.exceptions.DownloadError`
        No JSOC e-mail (raised before any network access), JSOC cannot be reached, the e-mail is not
        registered with JSOC, or JSOC answers with a server error (HTTP 5xx) or not at all (then the
        labels downloaded so far are kept, and a rerun continues).

    Examples
    --------
    >>> import os
    >>> os.environ.pop("JSOC_EMAIL", None) and None
    >>> download(QTable({"label_id": ["x"]}), "downloads")
    Traceback (most recent call last):
    ...
    sunpy_jets.exceptions.DownloadError: JSOC needs a registered e-mail address ...
    """
    email = resolve_jsoc_email(email)
    needed = ("label_id", "start_time", "center", "n_frames", "sample", "width", "wavelength", "series")
    if not isinstance(manifest, QTable) or any(c not in manifest.colnames for c in needed):
        raise InputError(f"manifest needs a QTable with columns {', '.join(needed)}: build it with build_manifest")
    if timeout <= 0 * u.s or poll_interval <= 0 * u.s:
        raise InputError(f"timeout and poll_interval must be positive, not {timeout} and {poll_interval}")
    directory = Path(directory)
    status, todo = {}, []
    for i, row in enumerate(manifest):
        label_id = str(row["label_id"])
        if not overwrite and _is_cached(directory, row):
            status[label_id] = ("cached", len(completed_files(directory, label_id)), "")
        else:
            status[label_id] = ("failed", 0, "not tried: the download stopped before this label")
            todo.append(i)
    if todo:
        from urllib.parse import urlsplit

        with _jsoc_server(jsoc_url or os.environ.get(JSOC_URL_ENV)) as fetch_url:
            parts = urlsplit(fetch_url)
            _check_network(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
            _check_email(email)
            waits = (timeout.to_value(u.s), poll_interval.to_value(u.s))
            for i in tqdm(todo, desc="JSOC sequences", disable=not progress):
                row = manifest[i]
                label_id = str(row["label_id"])
                try:
                    files = _fetch_one(manifest, i, directory, email, waits, max_conn, progress, overwrite)
                    status[label_id] = ("downloaded", len(files), "")
                except Exception as exc:  # one failed label must not stop the others; it is reported
                    trouble = _server_trouble(exc, f"asking for {label_id}")
                    if trouble is not None:  # but JSOC itself failing would fail every next label too
                        done = sum(s in ("cached", "downloaded") for s, _, _ in status.values())
                        raise DownloadError(f"{label_id}: {trouble} ({done} of {len(manifest)} labels are complete)") from exc
                    message = str(exc) if isinstance(exc, DownloadError) else f"{type(exc).__name__}: {exc}"
                    status[label_id] = ("failed", 0, message)
    return QTable(
        rows=[(k, n, s, e) for k, (s, n, e) in status.items()],
        names=("label_id", "n_files", "status", "error"),
        dtype=(str, int, str, str),
    )


def _wait_for_export(request, label_id, timeout_s, poll_s):
    """Poll an export until it is ready; DownloadError when it failed or is not ready in time."""
    import time

    import drms

    deadline = time.monotonic() + timeout_s
    delay = min(0.25, poll_s)
    while not request.has_finished():  # each call asks JSOC once (exp_status)
        if time.monotonic() + delay > deadline:
            raise DownloadError(
                f"JSOC did not finish export {request.id} of {label_id} within {timeout_s:g} s (status "
                f"{request.status}: still being prepared). JSOC may be busy: run again later, or with a longer "
                "timeout (download(..., timeout=...), sunpy-jets train --jsoc-timeout); finished labels are kept"
            )
        time.sleep(delay)
        delay = min(2 * delay, poll_s)
    if not request.has_succeeded(skip_update=True):
        try:
            _ = request.data  # drms raises the server's error message for a failed export
            reason = f"status {request.status}"
        except drms.DrmsExportError as exc:
            reason = str(exc)
        raise DownloadError(
            f"JSOC could not export {label_id} (request {request.id}: {reason}). This is on JSOC's side: run "
            "again later (labels already downloaded are kept); if it keeps failing, look the request up at "
            "http://jsoc.stanford.edu/ajax/exportdata.html or leave the label out"
        )


def _reason(error):
    """Why parfive could not download a file, in a few words."""
    exc = error
    for _ in range(3):  # parfive's Error holds a FailedDownload, which holds the response or the exception
        exc = getattr(exc, "exception", exc)
    status = getattr(exc, "status", None)
    if isinstance(status, int):
        return f"the server answered HTTP {status} {getattr(exc, 'reason', '') or ''}".strip()
    return f"{type(exc).__name__}: {exc}"


def _move_whole_file(folder):
    """A parfive done-callback: move a file that arrived whole from ``.partial`` into ``folder``."""

    def done(path, url, error):
        if error is None and path is not None and Path(path).is_file():
            os.replace(path, folder / Path(path).name)

    return done


def _fetch_one(manifest, index, directory, email, waits, max_conn, progress, overwrite):
    import asyncio

    import parfive
    from sunpy.net import Fido  # imported late: sunpy.net is slow to import and only needed here
    from sunpy.net.jsoc import JSOCClient

    from .._atomic import atomic_write_text

    row = manifest[index]
    label_id = str(row["label_id"])
    folder = sequence_directory(directory, label_id)
    request_record = _request_record(row)
    previous = _read_json(folder / _REQUEST)
    if overwrite or (previous is not None and previous != request_record):
        shutil.rmtree(folder, ignore_errors=True)  # files of another query (or asked to start afresh)
    partial = folder / ".partial"
    shutil.rmtree(partial, ignore_errors=True)  # whatever is there was cut off (the process was killed)
    partial.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / _REQUEST, json.dumps(request_record, indent=1))
    (folder / _COMPLETE).unlink(missing_ok=True)

    result = Fido.search(manifest_query(manifest, index, email=email))
    tables = [table for table in result if isinstance(getattr(table, "client", None), JSOCClient)]
    if not tables or len(tables[0]) == 0:
        raise DownloadError(
            f"JSOC has no {row['series']} records for {label_id} between {Time(row['start_time']).isot} and "
            f"{Time(row['end_time']).isot if 'end_time' in row.colnames else '...'}: the data may not exist; leave "
            "the label out"
        )
    request = tables[0].client.request_data(tables[0])
    _wait_for_export(request, label_id, *waits)
    listing = request.urls
    files = list(zip(listing["filename"], listing["url"]))
    errors = []
    for _ in range(2):  # a second try of the files that failed (a connection cut once)
        missing = [(name, url) for name, url in files if not (folder / name).is_file()]
        if not missing:
            break
        config = parfive.SessionConfig(done_callbacks=[_move_whole_file(folder)], file_progress=progress)
        downloader = parfive.Downloader(max_conn=max_conn, max_splits=1, progress=progress, overwrite=True,
                                        config=config)  # fmt: skip
        for name, url in missing:
            downloader.enqueue_file(url, path=partial, filename=name)
        # asyncio.run closes its event loop (Downloader.download leaves it open)
        errors = [_reason(e) for e in asyncio.run(downloader.run_download()).errors]
    absent = [name for name, _ in files if not (folder / name).is_file()]
    if absent:
        arrived = len(files) - len(absent)
        kept = f"The {arrived} that did are kept in {folder}; run" if arrived else "Run"
        raise DownloadError(
            f"{len(absent)} of {len(files)} files of {label_id} did not arrive whole ({absent[0]}: "
            f"{errors[0] if errors else 'missing'}). {kept} again to fetch the rest (nothing is downloaded twice)"
        )
    listed = [{"name": name, "size": (folder / name).stat().st_size} for name, _ in files]
    record = {"label_id": label_id, "request": request_record, "export": request.id, "files": listed}
    atomic_write_text(folder / _COMPLETE, json.dumps(record, indent=1))
    shutil.rmtree(partial, ignore_errors=True)
    return [folder / f["name"] for f in listed]
