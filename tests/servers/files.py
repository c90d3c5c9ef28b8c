"""
A stand-in for a ``Fido`` data provider (the VSO, for AIA files): it serves real AIA FITS files on 127.0.0.1.

`FilesStandIn.fido` registers, for the block, a Fido client that answers
``a.Time(...) & a.Instrument.aia [& a.Wavelength(...)] [& a.Sample(...)]`` with the served files whose
``DATE-OBS`` is in the time range (in place of the VSO client, which cannot be reached offline);
``Fido.fetch`` then downloads them with parfive over HTTP, as from a real provider.
"""

import contextlib
from pathlib import Path

import astropy.units as u
from astropy.io import fits
from astropy.time import Time

from ._http import StandInServer, fido_client_in_place_of

__all__ = ["FilesStandIn"]


class FilesStandIn(StandInServer):
    """Serve ``files`` (AIA FITS) as ``<url>aia/<name>``; count the downloads of each file."""

    def __init__(self, files):
        super().__init__()
        self.files = {Path(f).name: Path(f) for f in files}
        self.times = {}
        for name, path in self.files.items():
            with fits.open(path) as hdus:
                header = hdus[-1].header  # a RICE-compressed image is the last HDU, a plain one the only
            self.times[name] = (Time(header["DATE-OBS"]), float(header["WAVELNTH"]))
        self.downloads = []
        self.missing = set()
        """Names answered with 404 (a provider that lost a file)."""

    def handle(self, handler, method, path, query):
        self.record(method, path, query)
        name = path.rpartition("/")[2]
        if name not in self.files or name in self.missing:
            return self.send_error_page(handler, 404, f"{path} not found")
        data = self.files[name].read_bytes()
        handler.send_response(200)
        handler.send_header("Content-Type", "image/fits")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        if method == "GET":
            self.downloads.append(name)
            handler.wfile.write(data)
        return None

    def rows(self, start, end, wavelength=None):
        """The files observed between ``start`` and ``end`` (and at ``wavelength``), as Fido rows."""
        rows = []
        for name, (time, wavel) in sorted(self.times.items(), key=lambda item: item[1][0]):
            if start <= time <= end and (wavelength is None or abs(wavelength.to_value(u.AA) - wavel) < 0.5):
                rows.append({"Start Time": time, "End Time": time, "Instrument": "AIA",
                             "Wavelength": wavel * u.AA, "Provider": "STANDIN", "url": f"{self.url}aia/{name}"})
        return rows

    @contextlib.contextmanager
    def fido(self):
        """Within the block, ``Fido.search(a.Time(...) & a.Instrument.aia ...)`` finds this server's files."""
        from sunpy.net.vso import VSOClient

        client = _stand_in_client()
        client.server = self
        with fido_client_in_place_of(client, VSOClient):
            yield self


_CLIENT = []


def _stand_in_client():
    if not _CLIENT:
        from sunpy.net import Fido
        from sunpy.net import attrs as a
        from sunpy.net.dataretriever import GenericClient, QueryResponse

        class StandInAIAClient(GenericClient):
            """Answers AIA searches with the files of `FilesStandIn`."""

            server = None

            @classmethod
            def register_values(cls):
                return {a.Instrument: [("AIA", "AIA files of the test stand-in")],
                        a.Provider: [("STANDIN", "the test stand-in")]}

            @classmethod
            def _can_handle_query(cls, *query):
                kinds = (a.Time, a.Instrument, a.Wavelength, a.Sample)
                return (all(isinstance(q, kinds) for q in query) and any(isinstance(q, a.Time) for q in query)
                        and any(isinstance(q, a.Instrument) and str(q.value).lower() == "aia" for q in query))

            def search(self, *query, **kwargs):
                time = next(q for q in query if isinstance(q, a.Time))
                wavelength = next((q.min for q in query if isinstance(q, a.Wavelength)), None)
                return QueryResponse(self.server.rows(time.start, time.end, wavelength), client=self)

        Fido.unregister(StandInAIAClient)  # defining a client registers it; only `fido` adds it
        _CLIENT.append(StandInAIAClient)
    return _CLIENT[0]
