"""Tests of the bundled default weights and `JetClassifier.from_pretrained` (directories and URLs)."""

import functools
import hashlib
import http.server
import io
import shutil
import tarfile
import threading
import zipfile
from pathlib import Path

import pytest

import astropy.units as u

from sunpy_jets import JetClassifier
from sunpy_jets.model import pretrained
from sunpy_jets.exceptions import DownloadError, InputError, InputTypeError, WeightsError
from sunpy_jets.model import JetModelConfig
from sunpy_jets.model.pretrained import cache_directory, default_weights, fetch_weights
from sunpy_jets.synthetic import make_sequence
from sunpy_jets.model import CARD_NAME, load_weights, sha256sum

TINY = JetModelConfig(image_size=16, channels=(4,), hidden_size=4, n_frames=4)
# Seeds of the held-out test range of scripts/evaluate_default_weights.py (never used in training).
TEST_SEED_BASE = 3_000_000


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty download cache, named by the environment variable as a user would."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("SUNPY_JETS_CACHE", str(folder))
    return folder


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A saved tiny model directory with a threshold of 0.3."""
    directory = tmp_path_factory.mktemp("tiny")
    JetClassifier(TINY, threshold=0.3, device="cpu", seed=1).save(directory)
    return directory


def _archive(model_dir, kind, *, extra=None, folder="model"):
    """Bytes of a zip / tar.gz archive of a model directory (files inside ``folder``), plus ``extra`` members."""
    files = {p.name: p.read_bytes() for p in Path(model_dir).iterdir() if p.is_file()}
    files = {f"{folder}/{name}" if folder else name: data for name, data in files.items()}
    files.update(extra or {})
    buffer = io.BytesIO()
    if kind == "zip":
        with zipfile.ZipFile(buffer, "w") as zf:
            for name, data in files.items():
                zf.writestr(name, data)
    else:
        with tarfile.open(fileobj=buffer, mode="w:gz") as tf:
            for name, data in files.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class FakeDownloader:
    """Stands in for parfive: serves bytes for URLs and counts the calls."""

    def __init__(self, payloads, fail=False):
        self.payloads, self.fail, self.calls = payloads, fail, []

    def __call__(self, url, directory, filename, *, progress=True):
        self.calls.append(url)
        path = Path(directory) / filename
        data = self.payloads[url]
        if self.fail:
            path.write_bytes(data[: len(data) // 2])  # an interrupted transfer leaves half a file
            raise DownloadError(f"could not download {url}: connection reset")
        path.write_bytes(data)
        return path


# --- The bundled default weights ---------------------------------------------------------------------------


def test_bundled_weights_match_their_card():
    with default_weights() as path:
        state, card = load_weights(path)  # checks the file's SHA-256 against the card
        weights = path / card.weights_file
        assert sha256sum(weights) == card.sha256
        assert weights.stat().st_size < 5 * 2**20
        # The published architecture plus a frame-difference encoder (scripts/train_default_weights.py).
        assert card.config == JetModelConfig(difference_channels=(8, 16, 24, 32, 48))
        text = (path / "MODEL_CARD.rst").read_text()
    assert 0 < card.threshold < 1
    assert "synthetic" in card.description and "cs433" in card.description
    assert card.metrics["test"]["n"] == 500 and "roc_auc" in card.metrics["test"]
    assert "real_nonjet" in card.metrics
    assert f"{card.threshold:.4f}" in text and card.sha256 in text and "cs433" in text


@pytest.fixture(scope="module")
def default_classifier():
    return JetClassifier.from_pretrained(device="cpu", progress=False)


# The weights of issue 17 were trained on real-background scenes; they miss some jets of the older procedural
# generator (held-out synthetic F1 0.713, docs/guide/model.rst). Strict: a retraining that finds it again must say so.
_OLD_GENERATOR_MISS = pytest.mark.xfail(strict=True, reason="issue 17: realistic-scene weights miss this procedural jet")


@pytest.mark.parametrize("seed", [TEST_SEED_BASE, pytest.param(TEST_SEED_BASE + 2, marks=_OLD_GENERATOR_MISS)])
def test_default_weights_see_a_jet(default_classifier, seed):
    seq = make_sequence(kind="jet", seed=seed, shape=(166, 166), scale=1.8 * u.arcsec / u.pix)
    assert seq.label
    assert default_classifier.predict_proba(seq.maps) > default_classifier.threshold


@pytest.mark.parametrize("seed", [TEST_SEED_BASE + 1, TEST_SEED_BASE + 3])
def test_default_weights_see_no_jet_in_quiet_sun(default_classifier, seed):
    seq = make_sequence(kind="quiet", seed=seed, shape=(166, 166), scale=1.8 * u.arcsec / u.pix)
    assert not seq.label
    assert default_classifier.predict_proba(seq.maps) < default_classifier.threshold


def test_default_weights_card_and_checksum(default_classifier):
    assert default_classifier.card.name == "sunpy_jets default (synthetic)"
    with default_weights() as path:
        digest = sha256sum(path / default_classifier.card.weights_file)
    assert JetClassifier.from_pretrained(sha256=digest, device="cpu").card.sha256 == digest
    with pytest.raises(WeightsError, match="SHA-256"):
        JetClassifier.from_pretrained(sha256="0" * 64, device="cpu")


# --- Local directories -------------------------------------------------------------------------------------


def test_from_pretrained_directory(tiny_model):
    clf = JetClassifier.from_pretrained(tiny_model, device="cpu", batch_size=3)
    assert clf.config == TINY and clf.threshold == 0.3 and clf.batch_size == 3
    assert JetClassifier.from_pretrained(str(tiny_model), device="cpu", threshold=0.7).threshold == 0.7


def test_from_pretrained_directory_checksum(tiny_model):
    digest = load_weights(tiny_model)[1].sha256
    assert JetClassifier.from_pretrained(tiny_model, sha256=digest.upper(), device="cpu").card.sha256 == digest
    with pytest.raises(WeightsError, match="expected checksum"):
        JetClassifier.from_pretrained(tiny_model, sha256="f" * 64, device="cpu")


@pytest.mark.parametrize(
    ("source", "kwargs", "error", "match"),
    [
        ("https://example.org/model.zip", {}, InputError, "needs its sha256"),
        ("https://example.org/model.zip", {"sha256": "abc"}, InputError, "64-character"),
        ("https://example.org/model.json", {"sha256": "a" * 64}, InputError, "does not name an archive"),
        ("ftp://example.org/model.zip", {}, InputError, "unsupported URL scheme"),
        (42, {}, InputTypeError, "source must be"),
        ("no/such/model", {}, WeightsError, "does not exist"),
    ],
)
def test_from_pretrained_refuses(source, kwargs, error, match):
    with pytest.raises(error, match=match):
        JetClassifier.from_pretrained(source, device="cpu", **kwargs)


def test_cache_directory_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("SUNPY_JETS_CACHE", str(tmp_path / "env"))
    assert cache_directory() == tmp_path / "env"
    assert cache_directory(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv("SUNPY_JETS_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_directory() == tmp_path / "xdg" / "sunpy_jets"
    with pytest.raises(InputTypeError):
        cache_directory(3)


# --- URLs: verification and caching (the transfer itself replaced) ----------------------------------------


@pytest.mark.parametrize(("kind", "folder"), [("zip", "model"), ("tar.gz", None)])
def test_url_downloads_once_then_uses_cache(tiny_model, cache, monkeypatch, kind, folder):
    data = _archive(tiny_model, kind, folder=folder)
    url = f"https://example.org/models/tiny.{kind}"
    fake = FakeDownloader({url: data})
    monkeypatch.setattr(pretrained, "_download", fake)
    digest = hashlib.sha256(data).hexdigest()
    clf = JetClassifier.from_pretrained(url, sha256=digest, device="cpu", progress=False)
    assert clf.threshold == 0.3 and clf.config == TINY
    assert (cache / "models" / digest / CARD_NAME).is_file()
    again = JetClassifier.from_pretrained(url, sha256=digest, device="cpu", progress=False)
    assert again.card.sha256 == clf.card.sha256
    assert fake.calls == [url]
    assert [p.name for p in (cache / "models").iterdir()] == [digest]  # no temporary leftovers


def test_url_with_wrong_checksum_is_not_cached(tiny_model, cache, monkeypatch):
    data = _archive(tiny_model, "zip")
    url = "https://example.org/tiny.zip"
    monkeypatch.setattr(pretrained, "_download", FakeDownloader({url: data}))
    with pytest.raises(WeightsError, match="nothing was kept"):
        JetClassifier.from_pretrained(url, sha256="0" * 64, device="cpu")
    assert list((cache / "models").iterdir()) == []


def test_interrupted_download_is_never_served(tiny_model, cache, monkeypatch):
    data = _archive(tiny_model, "zip")
    url = "https://example.org/tiny.zip"
    digest = hashlib.sha256(data).hexdigest()
    monkeypatch.setattr(pretrained, "_download", FakeDownloader({url: data}, fail=True))
    with pytest.raises(DownloadError, match="connection reset"):
        JetClassifier.from_pretrained(url, sha256=digest, device="cpu")
    assert list((cache / "models").iterdir()) == []
    working = FakeDownloader({url: data})
    monkeypatch.setattr(pretrained, "_download", working)
    assert JetClassifier.from_pretrained(url, sha256=digest, device="cpu").threshold == 0.3
    assert working.calls == [url]


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        ({"model/../../evil.json": b"{}"}, "at the top or in one folder"),
        ({"model/weights.pt": b"\x80\x02"}, "holds only config.json"),
        ({"a/b/c/config.json": b"{}"}, "at the top or in one folder"),
    ],
)
def test_unsafe_archives_are_refused(tiny_model, cache, monkeypatch, extra, match):
    data = _archive(tiny_model, "tar.gz", extra=extra)
    url = "https://example.org/tiny.tar.gz"
    monkeypatch.setattr(pretrained, "_download", FakeDownloader({url: data}))
    with pytest.raises(WeightsError, match=match):
        fetch_weights(url, sha256=hashlib.sha256(data).hexdigest())
    assert list((cache / "models").iterdir()) == []


def test_archive_without_a_card_is_refused(cache, monkeypatch):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("README.md", "no model here")
    url = "https://example.org/empty.zip"
    monkeypatch.setattr(pretrained, "_download", FakeDownloader({url: buffer.getvalue()}))
    with pytest.raises(WeightsError, match="no config.json"):
        fetch_weights(url, sha256=hashlib.sha256(buffer.getvalue()).hexdigest())


# --- URLs: the real parfive transfer, from a server on this machine -----------------------------------------


@pytest.fixture
def local_server(tmp_path):
    """An HTTP server on 127.0.0.1 serving ``tmp_path / "www"``."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_parfive_download_from_local_server(tiny_model, cache, local_server):
    root, base = local_server
    data = _archive(tiny_model, "zip")
    (root / "tiny.zip").write_bytes(data)
    clf = JetClassifier.from_pretrained(
        f"{base}/tiny.zip", sha256=hashlib.sha256(data).hexdigest(), device="cpu", progress=False
    )
    assert clf.threshold == 0.3
    with pytest.raises(DownloadError, match="could not download"):
        fetch_weights(f"{base}/missing.zip", sha256="1" * 64, progress=False)
    assert [p.name for p in (cache / "models").iterdir()] == [hashlib.sha256(data).hexdigest()]


@pytest.mark.remote_data
def test_remote_url_checked_against_sha256(cache):
    # A real, stable archive that is not a model: the download works and the checksum refuses it.
    with pytest.raises(WeightsError, match="has SHA-256"):
        fetch_weights("https://github.com/sunpy/sunpy/archive/refs/tags/v6.0.0.tar.gz", sha256="0" * 64, progress=False)
    assert list((cache / "models").iterdir()) == []


def test_missing_bundled_weights_message(monkeypatch, tmp_path):
    monkeypatch.setattr(pretrained, "DEFAULT_WEIGHTS", ("sunpy_jets", "data/no_such_folder"))
    with pytest.raises(WeightsError, match="no bundled weights"):
        JetClassifier.from_pretrained(device="cpu")
    shutil.rmtree(tmp_path, ignore_errors=True)
