"""
A JSOC stand-in: the part of the JSOC protocol that sunpy's ``JSOCClient`` and ``drms`` use for
``aia.lev1_euv_12s`` cutout exports, served from real AIA 304 Å data.

Endpoints (under ``<url>cgi-bin/ajax/``, as on jsoc.stanford.edu):

``jsoc_info?op=series_struct&ds=SERIES``
    The series' keywords, prime keys (``T_REC``, ``WAVELNTH``) and segments (``image``).
``jsoc_info?op=rs_list&ds=RECORDSET&key=...&seg=...``
    The records of a record set such as ``aia.lev1_euv_12s[2011.01.20_09:16:18_TAI-2011.01.20_09:27:54_TAI@24s][304]{image}``:
    one record per ``T_REC`` slot (12 s from ``TRECEPOC``), every ``@`` seconds.
``checkAddress.sh?address=...&checkonly=1``
    Status 2 for a registered e-mail, 4 otherwise (what JSOC answers for an address it does not know).
``jsoc_fetch?op=exp_request&ds=...&notify=...&method=url&protocol=fits&process=n=0|im_patch,...``
    Starts an export (status 2, queued, with a request id); refuses an unregistered ``notify`` address
    and exports without an ``im_patch`` cutout (status 4 with an error message).
``jsoc_fetch?op=exp_status&requestid=...``
    Status 1 (processing) ``pending`` times, then 0 with ``dir`` and ``data`` (record, filename), or 4
    with an error when the export fails.

and the files themselves, ``<url><dir>/<filename>``, which parfive downloads (``HEAD`` then ``GET``).
Each file is one real frame cut to the requested box with the requested ``T_REC`` (see
`servers.aia_data`).

Misbehaviour on request: set the fields of `JSOCStandIn.misbehave` (a `Misbehaviour`).
"""

import re
import threading
from dataclasses import dataclass, field
from urllib.parse import unquote_plus

import astropy.units as u
from astropy.time import Time

from ._http import StandInServer
from .aia_data import FrameLibrary, slot_times

__all__ = ["JSOCStandIn", "Misbehaviour", "REGISTERED_EMAIL", "SERIES", "expected_records"]

REGISTERED_EMAIL = "jets-tests@example.org"
"""The e-mail address the stand-in knows as registered (add others to `JSOCStandIn.registered`)."""
SERIES = "aia.lev1_euv_12s"

_KEYWORDS = [
    # name, type, units, note (a subset of the real series' keywords, with their real types)
    ("T_REC", "time", "TAI", "[ISO] Slotted observation time"),
    ("WAVELNTH", "int", "angstrom", "[angstrom] Wavelength"),
    ("TELESCOP", "string", "none", "For AIA: SDO/AIA"),
    ("INSTRUME", "string", "none", "For AIA: AIA_ATA1, AIA_ATA2, AIA_ATA3 or AIA_ATA4"),
    ("CAR_ROT", "int", "none", "Carrington rotation number of CRLN_OBS"),
    ("T_OBS", "time", "UTC", "[ISO] Observation time"),
    ("DATE__OBS", "string", "none", "[ISO] Date when observation started"),
    ("EXPTIME", "double", "sec", "[sec] Exposure duration: mean shutter open time"),
    ("QUALITY", "int", "none", "Level 1 Quality word"),
    ("FSN", "int", "none", "FSN Filtergram Sequence Number"),
    ("CDELT1", "float", "arcsec/pixel", "[arcsec/pixel] image scale in the x direction"),
    ("CDELT2", "float", "arcsec/pixel", "[arcsec/pixel] image scale in the y direction"),
    ("CROTA2", "float", "degree", "[degree] CROTA2: INST_ROT + SAT_ROT"),
    ("DSUN_OBS", "double", "m", "[m] Distance from SDO to Sun center"),
    ("RSUN_OBS", "double", "arcsec", "[arcsec] Apparent radius of the Sun seen by SDO"),
]
_RECORDSET = re.compile(
    r"^(?P<series>[\w.]+)\[(?P<t0>[^\]\-@]+)-(?P<t1>[^\]@]+)(?:@(?P<sample>\d+(?:\.\d+)?)s)?\]"
    r"(?:\[(?P<wave>\d*)\])?(?:\{(?P<segment>[^}]*)\})?$"
)


def _drms_time(text):
    """A DRMS time string (``2011.01.20_09:16:18_TAI``) as a `~astropy.time.Time`."""
    text = text.strip()
    scale = "tai" if text.endswith("_TAI") else "utc"
    text = re.sub(r"_(TAI|UTC|Z)$", "", text)
    date, _, clock = text.partition("_")
    return Time(f"{date.replace('.', '-')}T{clock or '00:00:00'}", scale=scale).utc


@dataclass
class Misbehaviour:
    """What the JSOC stand-in does wrong; every field off by default."""

    export_fails: bool = False
    """The export ends in status 4 with an error (JSOC could not process it), after the pending polls."""
    never_completes: bool = False
    """``exp_status`` answers "processing" for ever."""
    cut_names: set = field(default_factory=set)
    """Files (by name) whose download is cut half-way, every time they are asked for."""
    cut_next: int = 0
    """The next this many file downloads are cut half-way (whatever their names)."""
    http_error: int | None = None
    """Answer the CGI requests in ``http_error_ops`` with this HTTP status (e.g. 500) instead."""
    http_error_ops: tuple = ("series_struct", "rs_list", "check_address", "exp_request", "exp_status")
    """Which requests get ``http_error``: CGI operations, or ``"download"`` for the data files."""
    stall_at: int | None = None
    """The file download with this 1-based number sends half its bytes, sets `JSOCStandIn.stalled` and
    waits for `JSOCStandIn.release` (to SIGKILL a client in the middle of a download)."""


@dataclass
class _Export:
    requestid: str
    records: list  # (record string, filename, T_REC Time, offset s)
    box: dict  # x, y, width, height (arcsec)
    source: str
    directory: str
    polls: int = 0


class JSOCStandIn(StandInServer):
    """
    The JSOC stand-in server.

    Parameters
    ----------
    realdata : path-like
        The ``../shared/realdata`` folder (the source of the served frames).
    pending : int
        How many ``exp_status`` polls answer "processing" before an export completes.
    sources : sequence of str, optional
        The frame sources to serve from (see `servers.aia_data.FrameLibrary`).

    Attributes
    ----------
    misbehave : `Misbehaviour`
        Set its fields to make the server misbehave.
    registered : set of str
        The e-mail addresses JSOC "knows".
    downloads : list of str
        The file names of every ``GET`` of a data file, in order (a cut one included).
    exports : dict
        Request id -> export state.
    """

    def __init__(self, realdata, *, pending=2, sources=None):
        super().__init__()
        self.library = FrameLibrary(realdata, sources=sources)
        self.pending = int(pending)
        self.misbehave = Misbehaviour()
        self.registered = {REGISTERED_EMAIL}
        self.downloads = []
        self.exports = {}
        self.stalled = threading.Event()
        self.release = threading.Event()
        self._files = {}
        self._counter = 0
        self._gets = 0

    # --- configuration helpers ---------------------------------------------------------------------
    def server_config(self):
        """A `drms.ServerConfig` for this server (what ``SUNPY_JETS_JSOC_URL`` makes sunpy_jets use)."""
        import drms

        return drms.ServerConfig(
            name="JSOC", cgi_baseurl=self.url + "cgi-bin/ajax/", cgi_show_series="show_series",
            cgi_jsoc_info="jsoc_info", cgi_jsoc_fetch="jsoc_fetch", cgi_check_address="checkAddress.sh",
            http_download_baseurl=self.url,
        )  # fmt: skip

    def reset(self):
        """Behave again, and forget what was asked (the served files stay cached)."""
        self.misbehave = Misbehaviour()
        self.delay = 0.0
        self.downloads.clear()
        self.requests.clear()
        self.stalled.clear()
        self.release.clear()

    def ops(self, name):
        """The queries of every CGI request of operation ``name`` (``exp_request``, ``rs_list``, ...)."""
        return [q for _, p, q in self.requests if q.get("op") == name or p.endswith(name)]

    # --- dispatch ----------------------------------------------------------------------------------
    def handle(self, handler, method, path, query):
        self.record(method, path, query)
        self.pause()
        if path.startswith("/cgi-bin/ajax/"):
            cgi = path.rsplit("/", 1)[-1]
            op = {"checkAddress.sh": "check_address", "show_series": "show_series"}.get(cgi, query.get("op", ""))
            bad = self.misbehave.http_error
            if bad is not None and op in self.misbehave.http_error_ops:
                return self.send_error_page(handler, bad, "Internal Server Error")
            answer = {
                "series_struct": self._series_struct, "rs_list": self._rs_list, "check_address": self._check_address,
                "show_series": self._show_series, "exp_request": self._exp_request, "exp_status": self._exp_status,
            }.get(op)  # fmt: skip
            if answer is None:
                return self.send_json(handler, {"status": 1, "error": f"unknown operation {op!r} of {cgi}"})
            return self.send_json(handler, answer(query))
        if self.misbehave.http_error is not None and "download" in self.misbehave.http_error_ops:
            return self.send_error_page(handler, self.misbehave.http_error, "Internal Server Error")
        return self._file(handler, method, path)

    # --- jsoc_info ---------------------------------------------------------------------------------
    def _series_struct(self, query):
        if query.get("ds", "").lower() != SERIES:
            return {"status": 1, "error": f"series {query.get('ds')!r} is not served by the JSOC stand-in"}
        keywords = [
            {"name": n, "type": t, "recscope": "variable", "defval": "", "units": un, "note": note, "linkinfo": ""}
            for n, t, un, note in _KEYWORDS
        ]
        segments = [{"name": "image", "type": "int", "units": "DN", "protocol": "link via lev1", "dims": "4096x4096",
                     "note": "AIA level 1 image"}]  # fmt: skip
        return {
            "note": "AIA Level 1, 12 second cadence", "retention": 10000, "unitsize": 32, "archive": 1,
            "tapegroup": 0, "primekeys": ["T_REC", "WAVELNTH"], "dbindex": ["T_REC", "WAVELNTH"],
            "keywords": keywords, "links": [], "segments": segments, "status": 0,
        }  # fmt: skip

    def _parse_recordset(self, ds):
        match = _RECORDSET.match(ds.strip())
        if match is None or match["series"].lower() != SERIES:
            raise ValueError(f"record set {ds!r} is not a time range of {SERIES}")
        sample = float(match["sample"]) * u.s if match["sample"] else None
        times = slot_times(_drms_time(match["t0"]), _drms_time(match["t1"]), sample)
        wave = int(match["wave"]) if match["wave"] else 304
        return times, wave, match["segment"] or "image"

    def _rs_list(self, query):
        try:
            times, wave, _ = self._parse_recordset(query.get("ds", ""))
        except ValueError as exc:
            return {"status": 1, "error": str(exc)}
        names = [k[0] for k in _KEYWORDS] if query.get("key", "") in ("**ALL**", "") else query["key"].split(",")
        values = {
            "T_REC": [t.isot[:19] + "Z" for t in times], "WAVELNTH": [str(wave)] * len(times),
            "TELESCOP": ["SDO/AIA"] * len(times), "INSTRUME": ["AIA_4"] * len(times),
            "T_OBS": [(t + 7.58 * u.s).isot + "Z" for t in times],
            "DATE__OBS": [(t + 6.13 * u.s).isot + "Z" for t in times],
            "EXPTIME": ["2.902"] * len(times), "QUALITY": ["0"] * len(times),
        }  # fmt: skip
        answer = {
            "keywords": [{"name": n, "values": values.get(n, ["MISSING"] * len(times))} for n in names],
            "count": len(times), "runtime": 0.01, "status": 0,
        }  # fmt: skip
        if query.get("seg"):
            answer["segments"] = [{"name": s, "values": [f"/SUM0/D0/S00000/{s}_lev1.fits"] * len(times),
                                   "dims": ["4096x4096"] * len(times)} for s in query["seg"].split(",")]  # fmt: skip
        return answer

    def _show_series(self, query):
        return {"names": [{"name": SERIES, "primekeys": "T_REC, WAVELNTH", "note": "AIA Level 1, 12 second cadence"}],
                "n": 1, "status": 0}  # fmt: skip

    def _check_address(self, query):
        address = unquote_plus(query.get("address", ""))
        if address in self.registered:
            return {"status": 2, "msg": "Address registered"}
        return {"status": 4, "msg": f"Address {address} has not been registered or validated"}

    # --- jsoc_fetch --------------------------------------------------------------------------------
    def _exp_request(self, query):
        notify = query.get("notify", "")
        if notify not in self.registered:
            return {"status": 4, "error": f"notify address {notify!r} is not registered for JSOC exports"}
        try:
            times, wave, segment = self._parse_recordset(query.get("ds", ""))
        except ValueError as exc:
            return {"status": 4, "error": str(exc)}
        process = query.get("process=n", "")
        patch = next((p for p in process.split("|") if p.startswith("im_patch")), None)
        if patch is None:
            return {"status": 4, "error": "the JSOC stand-in serves only im_patch cutouts"}
        opts = dict(kv.split("=", 1) for kv in patch.split(",")[1:] if "=" in kv)
        if opts.get("locunits") != "arcsec" or opts.get("boxunits") != "arcsec":
            return {"status": 4, "error": "im_patch: the stand-in needs locunits=arcsec and boxunits=arcsec"}
        box = {k: float(opts[k]) for k in ("x", "y", "width", "height")}
        with self._lock:
            self._counter += 1
            number = self._counter
        requestid = f"JSOC_20260101_{number:03d}"
        fmt = query.get("filenamefmt") or f"{SERIES}.{{T_REC:A}}.{{WAVELNTH}}.{{segment}}"
        records = []
        for t in times:
            t_rec = t.isot[:19] + "Z"
            name = (fmt.replace("{T_REC:A}", t_rec.replace(":", ""))
                    .replace("{WAVELNTH}", str(wave)).replace("{segment}", segment)) + ".fits"  # fmt: skip
            offset = float((t - times[0]).to_value(u.s))
            records.append((f"{SERIES}[{t_rec}][{wave}]{{{segment}}}", name, t, offset))
        source = self.library.source_for(box["x"], box["y"], times[0])
        self.exports[requestid] = _Export(requestid, records, box, source, f"/SUM{number % 7}/D{100000 + number}/S00000")
        return {"status": 2, "requestid": requestid, "method": query.get("method", "url"),
                "protocol": query.get("protocol", "fits").upper(), "wait": 0, "rcount": len(records), "size": 0}  # fmt: skip

    def _exp_status(self, query):
        export = self.exports.get(query.get("requestid", ""))
        if export is None:
            return {"status": 6, "error": f"request {query.get('requestid')!r} not found"}
        export.polls += 1
        base = {"requestid": export.requestid, "method": "url", "protocol": "FITS", "wait": 0}
        if self.misbehave.never_completes or export.polls <= self.pending:
            return {**base, "status": 1}
        if self.misbehave.export_fails:
            return {**base, "status": 4, "error": f"export {export.requestid} failed: im_patch could not process "
                                                   f"{export.records[0][0]} (the stand-in was asked to fail)"}  # fmt: skip
        return {
            **base, "status": 0, "dir": export.directory, "count": len(export.records), "size": 1, "tarfile": "",
            "keywords": f"{export.directory}/{export.requestid}.keywords.txt",
            "data": [{"record": rec, "filename": name} for rec, name, _, _ in export.records],
        }  # fmt: skip

    # --- files -------------------------------------------------------------------------------------
    def _content(self, export, index):
        record, name, t_rec, offset = export.records[index]
        key = (export.source, t_rec.isot, tuple(sorted(export.box.items())), offset)
        with self._lock:
            data = self._files.get(key)
        if data is None:
            data = self.library.fits_bytes(source=export.source, t_rec=t_rec, offset_s=offset, record=record,
                                           **export.box)  # fmt: skip
            with self._lock:
                self._files[key] = data
        return name, data

    def _file(self, handler, method, path):
        directory, _, filename = path.rpartition("/")
        export = next((e for e in self.exports.values() if e.directory == directory), None)
        names = [] if export is None else [r[1] for r in export.records]
        if filename not in names:
            return self.send_error_page(handler, 404, f"{path} not found")
        name, data = self._content(export, names.index(filename))
        handler.send_response(200)
        handler.send_header("Content-Type", "image/fits")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        if method == "HEAD":
            return None
        with self._lock:
            self.downloads.append(name)
            self._gets += 1
            number = self._gets
            cut = name in self.misbehave.cut_names or self.misbehave.cut_next > 0
            if self.misbehave.cut_next > 0 and name not in self.misbehave.cut_names:
                self.misbehave.cut_next -= 1
        if self.misbehave.stall_at == number:
            handler.wfile.write(data[: len(data) // 2])
            handler.wfile.flush()
            self.stalled.set()
            self.release.wait(timeout=120)
            handler.close_connection = True
            return None
        if cut:
            handler.wfile.write(data[: len(data) // 2])
            handler.wfile.flush()
            handler.close_connection = True
            return None
        handler.wfile.write(data)
        return None


def expected_records(start, end, sample=24 * u.s):
    """The ``T_REC`` times the stand-in serves for a time range (its slots, every ``sample``)."""
    return slot_times(Time(start), Time(end), sample)

