"""
A HEK stand-in: the ``https://www.lmsal.com/hek/her`` JSON search API, as sunpy's ``HEKClient`` uses it.

``GET <url>?cosec=2&cmd=search&type=column&event_type=CJ&event_starttime=...&event_endtime=...
&event_coordsys=helioprojective&x1=..&y1=..&x2=..&y2=..[&param0=..&op0=..&value0=..]&page=N[&result_limit=M]``
answers ``{"result": [...], "overmax": bool, "association": []}``: the records of the asked event types
whose time interval overlaps the asked one and whose position lies in the asked box, that pass every
``paramN opN valueN`` filter, ``result_limit`` (default `HEKStandIn.page_size`) per page; ``overmax``
is true while later pages hold more, so the client asks for the next page, as with the real HEK.

The records are the two real coronal-jet (CJ) records stored in ``../shared/realdata`` (with their
quirks: wavelengths in cm, swapped y corners of the box) and, optionally, records generated in the
same format from the Solar Jet Hunter catalogue, one per HEK event (`hek_records_from_catalogue`).

`HEKStandIn.fido` makes ``Fido.search(..., a.hek.CJ)`` ask the stand-in, through Fido's own client
registry: a ``HEKClient`` whose URL is the stand-in's is registered in place of sunpy's for the
duration of the ``with`` block.
"""

import contextlib
import copy
import json
import re
from pathlib import Path

import numpy as np

import astropy.units as u
from astropy.time import Time

from ._http import StandInServer, fido_client_in_place_of

__all__ = ["HEKStandIn", "real_cj_records", "hek_records_from_catalogue"]

_REAL = Path("somusset_solar_jets_analysis") / "hek_CJ_SOL2011-01-20T09_00_09L289C165.json"
_TIME_FIELDS = ("event_starttime", "event_endtime", "event_peaktime", "kb_archivdate", "frm_daterun")


def _hek_time(value):
    """A time as the HEK writes it (``2011-01-20T09:00:09``), from what astropy rendered."""
    if not value:
        return value
    return Time(str(value).replace(" ", "T")).isot[:19]


def real_cj_records(realdata):
    """
    The stored real HEK CJ records, as the HEK's JSON API returns them.

    The stored file is a rendering of a sunpy ``HEKTable``; the times are put back in the HEK's own
    format (``YYYY-MM-DDThh:mm:ss``) and numbers rendered as text back into numbers. Nothing else is
    changed: the records keep their quirks (wavelengths in cm, swapped y corners of the box).
    """
    # The rendering also turned some numbers of a column holding None into strings ("event_importance": "1");
    # the HEK sends numbers for the attributes sunpy types as numbers (sunpy's own, private, attribute list).
    try:
        from sunpy.net.hek import utils

        numeric = {a["name"].lower() for a in utils._get_unit_attributes() + utils._get_coord_attributes()
                   if a.get("type") in ("float", "integer", "long")}  # fmt: skip
    except (ImportError, AttributeError):
        numeric = {"event_importance"}
    stored = json.loads((Path(realdata) / _REAL).read_text())
    records = []
    for record in stored["result"]:
        record = dict(record)
        for key in _TIME_FIELDS:
            if key in record and record[key]:
                record[key] = _hek_time(record[key])
        for key, value in record.items():
            if key.lower() in numeric and isinstance(value, str) and value.strip():
                try:
                    record[key] = float(value)
                except ValueError:
                    pass
        records.append(record)
    return records


def hek_records_from_catalogue(catalogue, template, *, skip=()):
    """
    One generated HEK CJ record per HEK event of a Solar Jet Hunter catalogue, in the HEK JSON format.

    Parameters
    ----------
    catalogue : `~sunpy_jets.datasets.SolarJetHunterCatalogue`
        The jets; each ``sol_event`` becomes one record.
    template : dict
        A real CJ record (from `real_cj_records`) whose fields the generated ones copy.
    skip : iterable of str
        SOL events not to generate (those with real records).

    Returns
    -------
    list of dict
        Start at the SOL time, end at the end of the event's last jet (at least an hour later), position
        the mean base point of its jets, a box 180″ × 232″ around it (the real record's size, corners in
        the right order), ``frm_name`` ``sunpy_jets-stand-in`` and an ``ivo://`` id of its own.
    """
    skip = set(skip)
    records = []
    events = np.asarray(catalogue["sol_event"], dtype=str)
    for sol in np.unique(events):
        if sol in skip:
            continue
        rows = catalogue[events == sol]
        start = Time(re.match(r"SOL(.{19})", sol).group(1))
        ends = rows["start_time"] + rows["duration"]
        end = max(Time(ends.max()), start + 1 * u.h)
        x = float(np.mean(rows["base"].Tx.to_value(u.arcsec)))
        y = float(np.mean(rows["base"].Ty.to_value(u.arcsec)))
        record = copy.deepcopy(template)
        stamp = start.isot[:19].replace("-", "").replace(":", "")
        record.update({
            "SOL_standard": sol, "event_type": "CJ", "event_starttime": start.isot[:19],
            "event_endtime": end.isot[:19], "event_peaktime": "",
            "event_coord1": round(x, 1), "event_coord2": round(y, 1), "event_coord3": None,
            "hpc_x": round(x, 1), "hpc_y": round(y, 1), "hpc_coord": f"POINT({x:.0f} {y:.0f})",
            "boundbox_c1ll": round(x - 90, 1), "boundbox_c1ur": round(x + 90, 1),
            "boundbox_c2ll": round(y - 116, 1), "boundbox_c2ur": round(y + 116, 1),
            "hpc_bbox": f"POLYGON(({x - 90:.0f} {y - 116:.0f},{x + 90:.0f} {y - 116:.0f},{x + 90:.0f} {y + 116:.0f},"
                        f"{x - 90:.0f} {y + 116:.0f},{x - 90:.0f} {y - 116:.0f}))",
            "frm_name": "sunpy_jets-stand-in", "frm_contact": "", "frm_institute": "sunpy_jets tests",
            "frm_daterun": "2026-01-01T00:00:00", "kb_archivdate": "2026-01-01T00:00:00",
            "kb_archivid": f"ivo://helio-informatics.org/CJ304_sunpy_jets_stand_in_{stamp}_{len(records)}",
            "event_description": f"Generated by the sunpy_jets HEK stand-in from {len(rows)} Solar Jet Hunter jet(s)",
            "obs_channelid": "304", "obs_meanwavel": 3.04e-06, "obs_wavelunit": "cm",
            "gs_thumburl": "", "gs_imageurl": "", "gs_movieurl": "", "hpc_geom": "",
        })  # fmt: skip
        records.append(record)
    return records


def _matches(record, name, op, value):
    """Whether a HEK ``paramN opN valueN`` filter passes (field names are case-insensitive)."""
    fields = {k.lower(): v for k, v in record.items()}
    have = fields.get(name.lower())
    if have is None:
        return False
    try:
        a, b = float(have), float(value)
    except (TypeError, ValueError):
        a, b = str(have).lower(), str(value).lower()
        if op.lower() == "like":
            return re.fullmatch(b.replace("%", ".*").replace("_", "."), a) is not None
    return {"=": a == b, "!=": a != b, "<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}.get(op, False)


class HEKStandIn(StandInServer):
    """
    The HEK stand-in server.

    Parameters
    ----------
    records : list of dict
        The HEK records it knows (see `real_cj_records`, `hek_records_from_catalogue`).
    page_size : int
        Results per page when the request gives no ``result_limit``.
    """

    def __init__(self, records, *, page_size=100):
        super().__init__()
        self.records = list(records)
        self.page_size = int(page_size)

    def handle(self, handler, method, path, query):
        self.record(method, path, query)
        self.pause()
        if query.get("cmd") != "search" or query.get("cosec") != "2":
            return self.send_error_page(handler, 400, "the HEK stand-in answers only cmd=search with cosec=2 (JSON)")
        try:
            start, end = Time(query["event_starttime"]), Time(query["event_endtime"])
            x1, y1, x2, y2 = (float(query.get(k, d)) for k, d in (("x1", -5000), ("y1", -5000), ("x2", 5000),
                                                                   ("y2", 5000)))  # fmt: skip
            page = int(query.get("page", 1))
            limit = int(query.get("result_limit", self.page_size))
        except (KeyError, ValueError) as exc:
            return self.send_error_page(handler, 400, f"bad search: {exc}")
        types = {t.strip().upper() for t in query.get("event_type", "**").split(",")}  # sunpy sends "cj"
        filters = []
        for key in query:
            number = key[5:] if key.startswith("param") else None
            if number is not None and f"value{number}" in query:
                filters.append((query[key], query.get(f"op{number}", "="), query[f"value{number}"]))
        found = []
        for record in self.records:
            if "**" not in types and str(record.get("event_type")).upper() not in types:
                continue
            if Time(record["event_endtime"]) < start or Time(record["event_starttime"]) > end:
                continue
            if not (x1 <= float(record["hpc_x"]) <= x2 and y1 <= float(record["hpc_y"]) <= y2):
                continue
            if all(_matches(record, *f) for f in filters):
                found.append(record)
        found.sort(key=lambda r: (r["event_starttime"], r.get("kb_archivid", "")))
        chunk = found[(page - 1) * limit : page * limit]
        return self.send_json(handler, {"result": chunk, "overmax": page * limit < len(found), "association": []})

    @contextlib.contextmanager
    def fido(self):
        """Within the block, ``Fido.search(..., a.hek.XX)`` asks this server (Fido's client registry is restored after)."""
        from sunpy.net.hek import HEKClient

        client = _stand_in_client()
        client.stand_in_url = self.url + "?"
        with fido_client_in_place_of(client, HEKClient):
            yield self


_CLIENT = []


def _stand_in_client():
    """sunpy's HEKClient with the stand-in's URL as its default, kept out of Fido until `HEKStandIn.fido`."""
    if not _CLIENT:
        from sunpy.net import Fido
        from sunpy.net import hek

        # Named like sunpy's, so that results are ``result["hek"]`` as with the real client.
        class HEKClient(hek.HEKClient):
            """sunpy's ``HEKClient``, asking the HEK stand-in."""

            stand_in_url = None

            def __init__(self, url=None):
                super().__init__(url or self.stand_in_url)

        Fido.unregister(HEKClient)  # a new client class registers itself with Fido; only `fido` adds it
        _CLIENT.append(HEKClient)
    return _CLIENT[0]
