import json

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
from sunpy_jets.datasets import jsoc as jsoc_module
from sunpy_jets.exceptions import DownloadError, InputError, InputTypeError
from sunpy_jets.model import JetModelConfig

from conftest import realdata_path


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


class _FakeResults(list):
    errors = []


class _FakeFido:
    """Stands in for sunpy's Fido: 'downloads' three files, the second attempt of one label fails."""

    def __init__(self, fail=()):
        self.fail = set(fail)
        self.searched = []

    def search(self, query):
        self.searched.append(query)
        return type("R", (), {"file_num": 3, "query": query})()

    def fetch(self, result, path, max_conn, progress):
        cutout = _attrs(result.query)["Cutout"].value
        if (cutout["x"], cutout["y"]) in self.fail:
            raise DownloadError("export failed")
        out = _FakeResults()
        for i in range(3):
            p = path.replace("{file}", f"frame{i}.fits")
            with open(p, "wb") as f:
                f.write(b"x" * (100 + i))
            out.append(p)
        return out


def test_download_caches_and_reports(monkeypatch, catalogue, tmp_path):
    import sunpy.net

    manifest = build_manifest(catalogue[:3])
    bad = catalogue[1]["base"]
    fake = _FakeFido(fail={(bad.Tx.arcsec, bad.Ty.arcsec)})
    monkeypatch.setattr(jsoc_module, "_check_network", lambda: None)
    monkeypatch.setattr(sunpy.net, "Fido", fake)
    report = download(manifest, tmp_path, email="me@example.org", progress=False)
    status = dict(zip(report["label_id"], report["status"]))
    assert status[catalogue["sjh_id"][0]] == "downloaded"
    assert status[catalogue["sjh_id"][1]] == "failed"
    assert "export failed" in report["error"][1]
    assert _attrs(fake.searched[0])["Notify"].value == "me@example.org"
    files = completed_files(tmp_path, catalogue["sjh_id"][0])
    assert [f.name for f in files] == ["frame0.fits", "frame1.fits", "frame2.fits"]
    assert completed_files(tmp_path, catalogue["sjh_id"][1]) is None
    assert not (tmp_path / catalogue["sjh_id"][0] / ".partial").exists()
    # second run: the complete labels come from the cache, only the failed one is searched again
    fake.fail.clear()
    fake.searched.clear()
    report = download(manifest, tmp_path, email="me@example.org", progress=False)
    assert len(fake.searched) == 1
    assert sorted(report["status"]) == ["cached", "cached", "downloaded"]
    # a truncated file makes its label incomplete again
    files[0].write_bytes(b"x")
    assert completed_files(tmp_path, catalogue["sjh_id"][0]) is None
    record = json.loads((tmp_path / catalogue["sjh_id"][0] / "complete.json").read_text())
    assert record["files"][0]["size"] == 100


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
