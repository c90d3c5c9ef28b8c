"""
pytest fixtures that start the JSOC and HEK stand-ins (imported into ``tests/conftest.py``).

``jsoc_server``
    The `~servers.jsoc.JSOCStandIn`, behaving, with ``SUNPY_JETS_JSOC_URL`` pointing at it and
    ``JSOC_EMAIL`` set to its registered address, for this test (subprocesses inherit both). One server
    runs per session; each test gets it reset (no misbehaviour, empty logs).
``hek_server``
    The `~servers.hek.HEKStandIn` with the real CJ records and one generated record per HEK event of
    the Solar Jet Hunter catalogue; within the test ``Fido.search(..., a.hek.CJ)`` asks it.
"""

import pytest

from conftest import realdata_path

from .hek import HEKStandIn, hek_records_from_catalogue, real_cj_records
from .jsoc import REGISTERED_EMAIL, JSOCStandIn

__all__ = ["jsoc_server", "hek_server", "files_server", "REGISTERED_EMAIL"]


@pytest.fixture(scope="session")
def _jsoc_session():
    server = JSOCStandIn(realdata_path(), pending=2)
    with server:
        yield server


@pytest.fixture
def jsoc_server(_jsoc_session, monkeypatch):
    """The JSOC stand-in, reset, with ``SUNPY_JETS_JSOC_URL`` and ``JSOC_EMAIL`` set for this test."""
    _jsoc_session.reset()
    monkeypatch.setenv("SUNPY_JETS_JSOC_URL", _jsoc_session.url)
    monkeypatch.setenv("JSOC_EMAIL", REGISTERED_EMAIL)
    yield _jsoc_session
    _jsoc_session.release.set()  # never leave a stalled download waiting
    _jsoc_session.reset()


@pytest.fixture(scope="session")
def _hek_session():
    from sunpy_jets.datasets import SolarJetHunterCatalogue

    real = real_cj_records(realdata_path())
    catalogue = SolarJetHunterCatalogue.read(realdata_path("sjh_catalogue", "Jet_clusters_3.0_2.0_paperID.csv"))
    generated = hek_records_from_catalogue(catalogue, real[0], skip={r["SOL_standard"] for r in real})
    with HEKStandIn(real + generated, page_size=100) as server:
        yield server


@pytest.fixture
def hek_server(_hek_session):
    """The HEK stand-in; ``Fido.search(..., a.hek.CJ)`` asks it during the test."""
    _hek_session.requests.clear()
    _hek_session.delay, _hek_session.page_size = 0.0, 100
    with _hek_session.fido():
        yield _hek_session
    _hek_session.page_size = 100


@pytest.fixture(scope="session")
def _files_session():
    from .files import FilesStandIn

    files = sorted(realdata_path("jipparchus_sun_data_visualisation", "aia304").glob("*.fits"))
    with FilesStandIn(files) as server:
        yield server


@pytest.fixture
def files_server(_files_session):
    """A Fido data provider serving the 26 real AIA 304 files of 2012-07-19; ``Fido.search`` asks it in the test."""
    _files_session.requests.clear()
    _files_session.downloads.clear()
    _files_session.missing.clear()
    with _files_session.fido():
        yield _files_session
