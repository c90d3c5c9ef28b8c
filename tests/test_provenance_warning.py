"""
Issue 19, item 5: an export with the package's placeholder provenance warns, once per call, at the user's line;
one set in the call, the events, the session or the environment does not.
"""

import warnings

import pytest

import astropy.units as u
from astropy.time import Time

from sunpy_jets.events import JetEvents, set_hek_provenance
from sunpy_jets.exceptions import ProvenanceWarning


@pytest.fixture
def events():
    return JetEvents.from_columns(start=Time(["2011-01-20T09:00", "2011-01-20T10:00"]),
                                  end=Time(["2011-01-20T09:12", "2011-01-20T10:12"]), probability=[0.9, 0.8],
                                  tx=[-245, 100] * u.arcsec, ty=[-1003, 0] * u.arcsec, width=300 * u.arcsec)


def _provenance_warnings(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [w for w in caught if issubclass(w.category, ProvenanceWarning)]


def test_placeholder_provenance_warns_once_per_export(events, tmp_path, monkeypatch):
    for name in ("SUNPY_JETS_FRM_INSTITUTE", "SUNPY_JETS_FRM_CONTACT"):
        monkeypatch.delenv(name, raising=False)
    for call in (events.to_hek, lambda: events.to_voevent(tmp_path / "voevents")):
        caught = _provenance_warnings(call)
        assert len(caught) == 1 and caught[0].filename == __file__
        assert "frm_institute and frm_contact" in str(caught[0].message)
    caught = _provenance_warnings(lambda: events.to_hek(frm_contact="me@example.org"))
    assert len(caught) == 1 and "placeholder frm_institute (" in str(caught[0].message)
    # saving the events, or a HEKTable to compare with the HEK, is not an export
    assert not _provenance_warnings(lambda: events.write(tmp_path / "events.json"))
    assert not _provenance_warnings(events.to_hektable)


@pytest.mark.parametrize("where", ["call", "meta", "session", "environment"])
def test_provenance_set_anywhere_is_quiet(events, where, monkeypatch):
    values = {"frm_institute": "Example University", "frm_contact": "jets@example.org"}
    kwargs = {}
    if where == "call":
        kwargs = values
    elif where == "meta":
        events.meta.update(values)
    elif where == "session":
        set_hek_provenance(**values)
    else:
        monkeypatch.setenv("SUNPY_JETS_FRM_INSTITUTE", values["frm_institute"])
        monkeypatch.setenv("SUNPY_JETS_FRM_CONTACT", values["frm_contact"])
    records = []
    assert not _provenance_warnings(lambda: records.extend(events.to_hek(**kwargs)))
    assert {r["frm_institute"] for r in records} == {"Example University"}
