import numpy as np
import pytest

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.table import QTable
from astropy.time import Time

from sunpy.coordinates import Helioprojective

from sunpy_jets.datasets import (
    SolarJetHunterCatalogue,
    build_manifest,
    completed_files,
    download,
    jsoc_query,
    manifest_query,
    read_nonjet_positions,
    resolve_jsoc_email,
)
from sunpy_jets.datasets import downloads as jsoc_module
from sunpy_jets.exceptions import DownloadError, InputError, InputTypeError
from sunpy_jets.model import JetModelConfig

from conftest import realdata_path
from servers.jsoc import REGISTERED_EMAIL, expected_records


@pytest.fixture(scope="module")
def catalogue():
    return SolarJetHunterCatalogue.read(realdata_path("sjh_catalogue", "Jet_clusters_3.0_2.0_paperID.csv"))


@pytest.fixture(scope="module")
def nonjets():
    return read_nonjet_positions(realdata_path("sjh_catalogue", "No_jet_df.csv"))


def _attrs(query):
    return {type(x).__name__: x for x in query.attrs}


def test_query_follows_recipe():
    t0 = Time("2011-01-20T09:15:44")
    center = SkyCoord(-226.6 * u.arcsec, -957 * u.arcsec, frame=Helioprojective(observer="earth", obstime=t0))
    attrs = _attrs(jsoc_query(t0, center, email="me@example.org"))
    assert attrs["Series"].value == "aia.lev1_euv_12s"
    assert attrs["Wavelength"].min == 304 * u.AA and attrs["Wavelength"].max == 304 * u.AA
    assert attrs["Sample"].value == 24  # seconds
    assert attrs["Time"].start == t0
    assert (attrs["Time"].end - t0).to_value(u.s) == pytest.approx(29 * 24)
    assert attrs["Segment"].value == "image"
    assert attrs["Notify"].value == "me@example.org"
    cut = attrs["Cutout"].value
    assert cut["x"] == pytest.approx(-226.6) and cut["y"] == pytest.approx(-957)
    assert cut["width"] == pytest.approx(300) and cut["height"] == pytest.approx(300)
    assert cut["t"] == 1  # JSOC's "t=1" means tracking off
    assert cut["t_ref"].startswith("2011-01-20T09:15:44")


def test_query_uses_config():
    config = JetModelConfig(n_frames=10, cadence_s=12, fov_arcsec=200, wavelength_angstrom=171)
    t0 = Time("2012-07-19T07:30:00")
    center = SkyCoord(900 * u.arcsec, -250 * u.arcsec, frame=Helioprojective(observer="earth", obstime=t0))
    attrs = _attrs(jsoc_query(t0, center, config=config))
    assert "Notify" not in attrs
    assert attrs["Wavelength"].min == 171 * u.AA
    assert attrs["Sample"].value == 12
    assert (attrs["Time"].end - t0).to_value(u.s) == pytest.approx(9 * 12)
    assert attrs["Cutout"].value["width"] == pytest.approx(200)


def test_query_bad_input():
    with pytest.raises(InputTypeError, match="SkyCoord"):
        jsoc_query("2011-01-01T00:00:00", (1, 2))
    frame = Helioprojective(observer="earth", obstime="2011-01-01")
    with pytest.raises(InputError, match="not a time"):
        jsoc_query("yesterday", SkyCoord(0 * u.arcsec, 0 * u.arcsec, frame=frame))


def test_email_from_argument_or_environment(monkeypatch):
    monkeypatch.delenv("JSOC_EMAIL", raising=False)
    with pytest.raises(DownloadError, match="JSOC_EMAIL"):
        resolve_jsoc_email()
    assert resolve_jsoc_email(" a@b.org ") == "a@b.org"
    monkeypatch.setenv("JSOC_EMAIL", "env@example.org")
    assert resolve_jsoc_email() == "env@example.org"
    assert resolve_jsoc_email("arg@example.org") == "arg@example.org"
    with pytest.raises(DownloadError, match="not an e-mail"):
        resolve_jsoc_email("nobody")


def test_real_manifest(catalogue, nonjets):
    manifest = build_manifest(catalogue, nonjets)
    assert len(manifest) == 883 * 2
    jets = manifest[manifest["label"] == "jet"]
    assert len(jets) == 883
    assert (jets["target"] == 1).all() and (manifest[manifest["label"] == "non-jet"]["target"] == 0).all()
    assert len(set(jets["group"])) == 229
    assert list(jets["label_id"]) == list(catalogue["sjh_id"])
    assert (manifest["series"] == "aia.lev1_euv_12s").all()
    assert np.allclose((manifest["end_time"] - manifest["start_time"]).to_value(u.s), 696)
    np.testing.assert_allclose(jets["center"].Tx.arcsec, catalogue["base"].Tx.arcsec)
    assert (manifest["width"] == 300 * u.arcsec).all()
    assert manifest.meta["config"]["n_frames"] == 30


def test_all_real_jet_queries_build(catalogue):
    manifest = build_manifest(catalogue)
    queries = [manifest_query(manifest, i) for i in range(len(manifest))]
    assert len(queries) == 883
    cutouts = np.array([[_attrs(q)["Cutout"].value[k] for k in ("x", "y")] for q in queries])
    np.testing.assert_allclose(cutouts[:, 0], catalogue["base"].Tx.arcsec)
    np.testing.assert_allclose(cutouts[:, 1], catalogue["base"].Ty.arcsec)
    starts = Time([_attrs(q)["Time"].start for q in queries])
    assert (np.abs((starts - catalogue["start_time"]).to_value(u.s)) < 1e-3).all()


def test_manifest_rejects_bad_tables(catalogue):
    with pytest.raises(InputError, match="no labels"):
        build_manifest(None)
    with pytest.raises(InputError, match="lacks column"):
        build_manifest(QTable({"sjh_id": ["a"]}))
    doubled = catalogue[:2].copy()
    doubled["sjh_id"][1] = doubled["sjh_id"][0]
    with pytest.raises(InputError, match="unique"):
        build_manifest(doubled)


def test_download_needs_email_before_network(monkeypatch, catalogue, tmp_path):
    monkeypatch.delenv("JSOC_EMAIL", raising=False)

    def no_network(*args, **kwargs):
        raise AssertionError("the network was touched")

    monkeypatch.setattr(jsoc_module, "_check_network", no_network)
    with pytest.raises(DownloadError, match="JSOC_EMAIL"):
        download(build_manifest(catalogue[:1]), tmp_path)


def test_download_fails_fast_offline(monkeypatch, catalogue, tmp_path):
    def unreachable(*args, **kwargs):
        raise OSError("Temporary failure in name resolution")

    monkeypatch.setattr(jsoc_module.socket, "create_connection", unreachable)
    with pytest.raises(DownloadError, match="cannot reach jsoc.stanford.edu"):
        download(build_manifest(catalogue[:1]), tmp_path, email="me@example.org", progress=False)


# ----------------------------------------------------------------------------------------------------
# Downloads through the JSOC stand-in (tests/servers/jsoc.py): sunpy's Fido/JSOCClient, drms and parfive
# run unchanged; only the server differs from jsoc.stanford.edu.

SMALL = JetModelConfig(n_frames=3)


@pytest.fixture
def two_labels(catalogue):
    """Two real catalogue labels whose exports hold three frames each."""
    return build_manifest(catalogue[3:5], config=SMALL)


def _fits_names(folder):
    return sorted(p.name for p in folder.glob("*.fits"))


def test_download_through_the_stand_in(jsoc_server, two_labels, tmp_path):
    import sunpy.map

    report = download(two_labels, tmp_path, progress=False)
    assert list(report["status"]) == ["downloaded", "downloaded"], list(report["error"])
    assert list(report["n_files"]) == [3, 3]
    # What JSOC was asked: the recipe's record set, an im_patch cutout at the base point, the e-mail.
    request = jsoc_server.ops("exp_request")[0]
    assert request["ds"].startswith("aia.lev1_euv_12s[") and request["ds"].endswith("@24.0s][304]{image}")
    assert request["notify"] == REGISTERED_EMAIL
    patch = dict(kv.split("=") for kv in request["process=n"].split("|")[1].split(",")[1:])
    assert float(patch["x"]) == pytest.approx(two_labels["center"][0].Tx.arcsec)
    assert float(patch["width"]) == 300 and patch["t"] == "1"
    assert len(jsoc_server.ops("exp_status")) >= 2 * 3  # "processing" twice, then ready, per label
    # The files: real AIA 304 frames cut to the box, 24 s apart from the label's start.
    files = completed_files(tmp_path, two_labels["label_id"][0])
    maps = sunpy.map.Map([str(f) for f in files], sequence=True)
    start = two_labels["start_time"][0]
    assert all(m.wavelength == 304 * u.AA and m.data.shape == (500, 500) for m in maps)
    offsets = np.array([(m.date - start).to_value(u.s) for m in maps])
    assert np.all(np.abs(offsets - (np.arange(3) * 24 + 6)) < 13)  # T_REC slots are 12 s apart
    assert maps[0].center.Tx.arcsec == pytest.approx(two_labels["center"][0].Tx.arcsec, abs=0.7)
    assert not (tmp_path / two_labels["label_id"][0] / ".partial").exists()
    # A rerun finds both complete: JSOC is not asked again.
    jsoc_server.reset()
    report = download(two_labels, tmp_path, progress=False)
    assert list(report["status"]) == ["cached", "cached"]
    assert jsoc_server.ops("exp_request") == [] and jsoc_server.downloads == []


def test_unregistered_email_is_refused_before_any_export(jsoc_server, two_labels, tmp_path):
    with pytest.raises(DownloadError, match="does not know the e-mail address 'stranger@example.org'") as info:
        download(two_labels, tmp_path, email="stranger@example.org", progress=False)
    assert "register_email.html" in str(info.value) and "Nothing was downloaded" in str(info.value)
    assert jsoc_server.ops("exp_request") == []


def _first_then_both(jsoc_server, manifest, tmp_path, **kwargs):
    """Download the first label (behaving), then both with the misbehaviour set by the caller's kwargs."""
    assert list(download(manifest[:1], tmp_path, progress=False)["status"]) == ["downloaded"]
    first = {p.name: p.read_bytes() for p in (tmp_path / manifest["label_id"][0]).glob("*.fits")}
    jsoc_server.reset()
    for key, value in kwargs.items():
        setattr(jsoc_server.misbehave, key, value)
    return first


def _rerun_fetches_only_the_second(jsoc_server, manifest, tmp_path, first, expect_files):
    jsoc_server.reset()
    report = download(manifest, tmp_path, progress=False)
    assert list(report["status"]) == ["cached", "downloaded"], list(report["error"])
    assert sorted(jsoc_server.downloads) == sorted(expect_files)  # nothing is downloaded twice
    assert len(jsoc_server.ops("exp_request")) == 1
    folder = tmp_path / manifest["label_id"][0]
    assert {p.name: p.read_bytes() for p in folder.glob("*.fits")} == first  # nothing already there was lost


def test_export_that_fails(jsoc_server, two_labels, tmp_path):
    first = _first_then_both(jsoc_server, two_labels, tmp_path, export_fails=True)
    report = download(two_labels, tmp_path, progress=False)
    assert list(report["status"]) == ["cached", "failed"]
    message = report["error"][1]
    assert "JSOC could not export" in message and "im_patch could not process" in message
    assert "run again later" in message and "labels already downloaded are kept" in message
    assert completed_files(tmp_path, two_labels["label_id"][1]) is None
    jsoc_server.reset()
    download(two_labels, tmp_path, progress=False)  # (the first rerun re-exports the second label)
    assert len(jsoc_server.ops("exp_request")) == 1 and len(jsoc_server.downloads) == 3
    jsoc_server.reset()
    assert list(download(two_labels, tmp_path, progress=False)["status"]) == ["cached", "cached"]
    assert first == {p.name: p.read_bytes() for p in (tmp_path / two_labels["label_id"][0]).glob("*.fits")}


def test_export_not_ready_in_time(jsoc_server, two_labels, tmp_path):
    first = _first_then_both(jsoc_server, two_labels, tmp_path, never_completes=True)
    report = download(two_labels, tmp_path, progress=False, timeout=1.5 * u.s, poll_interval=0.5 * u.s)
    assert list(report["status"]) == ["cached", "failed"]
    message = report["error"][1]
    assert "did not finish export JSOC_" in message and "within 1.5 s" in message
    assert "longer timeout" in message and "--jsoc-timeout" in message
    assert len(jsoc_server.ops("exp_status")) >= 3  # it did poll, with growing waits
    names = [f"aia.lev1_euv_12s.{t.isot[:19].replace(':', '')}Z.304.image.fits" for t in expected_records(
        two_labels["start_time"][1], two_labels["end_time"][1])]  # fmt: skip
    _rerun_fetches_only_the_second(jsoc_server, two_labels, tmp_path, first, names)


def test_download_cut_halfway_keeps_what_arrived(jsoc_server, two_labels, tmp_path):
    times = expected_records(two_labels["start_time"][1], two_labels["end_time"][1])
    names = [f"aia.lev1_euv_12s.{t.isot[:19].replace(':', '')}Z.304.image.fits" for t in times]
    first = _first_then_both(jsoc_server, two_labels, tmp_path, cut_names={names[1]})
    report = download(two_labels, tmp_path, progress=False)
    assert list(report["status"]) == ["cached", "failed"]
    message = report["error"][1]
    assert f"1 of 3 files of {two_labels['label_id'][1]} did not arrive whole ({names[1]}" in message
    assert "The 2 that did are kept" in message and "nothing is downloaded twice" in message
    assert jsoc_server.downloads.count(names[1]) == 2  # cut, retried once, cut again
    folder = tmp_path / two_labels["label_id"][1]
    assert _fits_names(folder) == [names[0], names[2]]  # whole files only; the cut one is nowhere
    assert completed_files(tmp_path, two_labels["label_id"][1]) is None
    _rerun_fetches_only_the_second(jsoc_server, two_labels, tmp_path, first, [names[1]])


def test_download_cut_once_is_retried(jsoc_server, two_labels, tmp_path):
    jsoc_server.misbehave.cut_next = 1
    report = download(two_labels[:1], tmp_path, progress=False)
    assert list(report["status"]) == ["downloaded"], list(report["error"])
    assert len(jsoc_server.downloads) == 4  # three files, one of them twice


@pytest.mark.parametrize("op", ["exp_request", "series_struct"])
def test_server_error_stops_with_advice(jsoc_server, two_labels, tmp_path, op):
    first = _first_then_both(jsoc_server, two_labels, tmp_path, http_error=500, http_error_ops=(op,))
    with pytest.raises(DownloadError, match="JSOC answered HTTP 500") as info:
        download(two_labels, tmp_path, progress=False)
    message = str(info.value)
    assert message.startswith(two_labels["label_id"][1])
    assert "Try again later" in message and "labels already downloaded are kept" in message
    assert "(1 of 2 labels are complete)" in message
    names = [f"aia.lev1_euv_12s.{t.isot[:19].replace(':', '')}Z.304.image.fits" for t in expected_records(
        two_labels["start_time"][1], two_labels["end_time"][1])]  # fmt: skip
    _rerun_fetches_only_the_second(jsoc_server, two_labels, tmp_path, first, names)


def test_server_error_on_the_files(jsoc_server, two_labels, tmp_path):
    first = _first_then_both(jsoc_server, two_labels, tmp_path, http_error=500, http_error_ops=("download",))
    report = download(two_labels, tmp_path, progress=False)
    assert list(report["status"]) == ["cached", "failed"]
    message = report["error"][1]
    assert "3 of 3 files" in message and "the server answered HTTP 500 Internal Server Error" in message
    assert "Run again to fetch the rest" in message
    names = [f"aia.lev1_euv_12s.{t.isot[:19].replace(':', '')}Z.304.image.fits" for t in expected_records(
        two_labels["start_time"][1], two_labels["end_time"][1])]  # fmt: skip
    _rerun_fetches_only_the_second(jsoc_server, two_labels, tmp_path, first, names)


def test_slow_server(jsoc_server, two_labels, tmp_path):
    jsoc_server.delay = 0.25
    report = download(two_labels[:1], tmp_path, progress=False, timeout=0.5 * u.s, poll_interval=0.25 * u.s)
    assert list(report["status"]) == ["failed"] and "within 0.5 s" in report["error"][0]
    report = download(two_labels[:1], tmp_path, progress=False, timeout=60 * u.s)
    assert list(report["status"]) == ["downloaded"], list(report["error"])


def test_server_that_does_not_answer_in_time(jsoc_server, two_labels, tmp_path):
    import socket

    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(0.5)  # drms's HTTP timeout (60 s unless the socket default is set)
    jsoc_server.delay = 1.0
    try:
        with pytest.raises(DownloadError, match="JSOC did not answer while checking the JSOC e-mail") as info:
            download(two_labels, tmp_path, progress=False)
    finally:
        socket.setdefaulttimeout(previous)
    assert "try again later" in str(info.value)
    jsoc_server.delay = 0.0
    assert set(download(two_labels[:1], tmp_path, progress=False)["status"]) == {"downloaded"}


def test_changed_query_downloads_again(jsoc_server, catalogue, tmp_path):
    download(build_manifest(catalogue[3:4], config=SMALL), tmp_path, progress=False)
    longer = build_manifest(catalogue[3:4], config=JetModelConfig(n_frames=4))
    jsoc_server.reset()
    report = download(longer, tmp_path, progress=False)
    assert list(report["status"]) == ["downloaded"] and list(report["n_files"]) == [4]
    assert len(completed_files(tmp_path, longer["label_id"][0])) == 4


def test_bad_jsoc_url(two_labels, tmp_path):
    with pytest.raises(InputError, match="not an http"):
        download(two_labels, tmp_path, email="me@example.org", jsoc_url="jsoc.example.org", progress=False)


@pytest.mark.remote_data
def test_real_download(catalogue, tmp_path):
    manifest = build_manifest(catalogue[:1], config=JetModelConfig(n_frames=2))
    report = download(manifest, tmp_path, progress=False)
    assert report["status"][0] == "downloaded", report["error"][0]
    files = completed_files(tmp_path, manifest["label_id"][0])
    assert len(files) == 2
    import sunpy.map

    m = sunpy.map.Map(files[0])
    assert m.wavelength == 304 * u.AA
