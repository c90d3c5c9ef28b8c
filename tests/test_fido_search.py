"""
From a Fido search to events in one call (issue 19, item 15), tested offline against the local stand-ins:
`files_server` (a Fido data provider serving 26 real AIA 304 files) and `hek_server` (the HEK).
"""

import warnings

import pytest

import astropy.units as u
from sunpy.net import Fido
from sunpy.net import attrs as a

from sunpy_jets import JetClassifier
from sunpy_jets.events import JetEvents
from sunpy_jets.exceptions import DownloadError, HEKFormatWarning, InputError, InputTypeError
from sunpy_jets.inputs import fetch_frames, is_search, iter_maps

QUERY = a.Time("2012-07-19 07:30", "2012-07-19 07:45") & a.Instrument.aia & a.Wavelength(304 * u.AA)


def test_fetch_frames_downloads_once_and_sorts(files_server, tmp_path):
    files = fetch_frames(QUERY, path=tmp_path, progress=False)
    assert len(files) == len(files_server.downloads) > 10
    assert all(f.parent == tmp_path and f.is_file() for f in files)
    times = [m.date for m in iter_maps(files)]
    assert times == sorted(times)
    # a second call (or a rerun after an interruption) finds the files already there
    assert fetch_frames(Fido.search(QUERY), path=tmp_path / "{file}", progress=False) == files
    assert len(files_server.downloads) == len(files)


def test_fetch_frames_leaves_no_event_loop_open(files_server, tmp_path):
    # parfive's Downloader.download leaves its new event loop open: collected later, anywhere, it warned
    import gc

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fetch_frames(QUERY, path=tmp_path, progress=False)
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


def test_fetch_frames_reports_files_that_failed(files_server, tmp_path):
    lost = sorted(files_server.times)[3]
    files_server.missing.add(lost)
    with pytest.raises(DownloadError, match=r"1 of \d+ files could not be downloaded.*call again"):
        fetch_frames(QUERY, path=tmp_path, progress=False)
    kept = sorted(p.name for p in tmp_path.glob("*.fits"))
    assert lost not in kept and kept
    files_server.missing.clear()
    before = len(files_server.downloads)
    assert len(fetch_frames(QUERY, path=tmp_path, progress=False)) == len(kept) + 1
    assert files_server.downloads[before:] == [lost]  # only the missing file is fetched again


def test_fetch_frames_refuses_what_is_not_a_search(files_server):
    assert is_search(QUERY) and not is_search(["a.fits"])
    with pytest.raises(InputTypeError, match="Fido.search result or a Fido query"):
        fetch_frames(["a.fits"])
    with pytest.raises(InputError, match="found no files"):
        fetch_frames(a.Time("2001-01-01", "2001-01-02") & a.Instrument.aia, progress=False)


def test_detect_and_predict_proba_take_a_search(files_server, tmp_path, monkeypatch):
    monkeypatch.setenv("SUNPY_DOWNLOADDIR", str(tmp_path))
    import sunpy

    monkeypatch.setitem(sunpy.config["downloads"], "download_dir", str(tmp_path))  # Fido's default folder
    clf = JetClassifier(device="cpu", progress=False)
    search = Fido.search(QUERY)
    center = next(iter_maps(sorted(files_server.files.values()))).center
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the 36 s cadence is resampled (an InputWarning about the input)
        events = clf.detect(search, center=center, width=300 * u.arcsec)
        by_files = clf.detect(sorted(str(p) for p in tmp_path.glob("*.fits")), center=center, width=300 * u.arcsec)
        p = clf.predict_proba(QUERY, center=center)
    assert len(files_server.downloads) == len(search[0])  # searched and fetched once, though read twice
    assert len(events) == len(by_files)
    assert 0.0 <= p <= 1.0


def test_from_hek_takes_the_whole_fido_result(hek_server, files_server):
    result = Fido.search(a.Time("2011-01-20", "2011-01-21"), a.hek.CJ)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        whole = JetEvents.from_hek(result)
    # the stand-in's records need repairs (swapped corners, cm): one warning for the call, at this line
    assert len(caught) == 1 and caught[0].filename == __file__
    assert f"of {len(whole)} HEK record(s) were repaired" in str(caught[0].message)
    with pytest.warns(HEKFormatWarning):
        table = JetEvents.from_hek(result["hek"])
    assert len(whole) == len(table) > 0
    assert list(whole["event_starttime"].isot) == list(table["event_starttime"].isot)
    with pytest.raises(InputError, match="no HEK table"):
        JetEvents.from_hek(Fido.search(QUERY))
