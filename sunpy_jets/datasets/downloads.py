"""
Downloading a manifest's cutout sequences from JSOC through ``Fido``/parfive, resumably.

Each label's frames go into their own folder (`~sunpy_jets.datasets.sequence_directory`); a file is moved
into place only once it has arrived whole, and `~sunpy_jets.datasets.jsoc.COMPLETE_MARKER` is written last,
so an interrupted download is resumed and never used half-done.
"""

import json
import os
import shutil
import socket
from pathlib import Path

from tqdm.auto import tqdm

import astropy.units as u
from astropy.table import QTable
from astropy.time import Time

from .._atomic import atomic_write_text
from ..exceptions import DownloadError, InputError
from .jsoc import COMPLETE_MARKER, completed_files, manifest_query, resolve_jsoc_email, sequence_directory

__all__ = ["download", "JSOC_URL_ENV"]

JSOC_URL_ENV = "SUNPY_JETS_JSOC_URL"
"""Environment variable read for the JSOC server's base URL when `download` is given none (a mirror or a
test stand-in; its CGI scripts are under ``cgi-bin/ajax/``). Unset: drms's registered ``jsoc`` server."""

_REQUEST = ".request.json"  # what the files of a label folder were asked for (written before the first file)
_REGISTER = "http://jsoc.stanford.edu/ajax/register_email.html"


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
    record = _read_json(sequence_directory(directory, row["label_id"]) / COMPLETE_MARKER)
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
    (folder / COMPLETE_MARKER).unlink(missing_ok=True)

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
    atomic_write_text(folder / COMPLETE_MARKER, json.dumps(record, indent=1))
    shutil.rmtree(partial, ignore_errors=True)
    return [folder / f["name"] for f in listed]
