"""
Interruptions: a process killed at the worst moment loses nothing that was finished, and never leaves
a half-written file where a reader would take it for a whole one.

`tests/test_training.py` kills a training run *between* checkpoints; here it is killed *while writing*
one. Downloads (JSOC sequences, pretrained weights) and cache entries are cut half-way.
"""

import hashlib
import io
import os
import signal
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.table import QTable
from astropy.time import Time

from sunpy_jets import JetClassifier
from sunpy_jets.model import pretrained
from sunpy_jets._atomic import atomic_path, atomic_write_bytes
from sunpy_jets.datasets import build_cache, completed_files, download
from sunpy_jets.datasets.cache import read_cache_index, read_cached_sequence, write_cached_sequence
from sunpy_jets.datasets import TensorJetDataset
from sunpy_jets.exceptions import DownloadError, FileFormatError, InputError, InputWarning, TrainingError
from sunpy_jets.training import TrainingRecipe, fit, load_checkpoint
from sunpy_jets.training.checkpoint import CHECKPOINT_NAME

sys.path.insert(0, str(Path(__file__).parent))
from helpers_training import TINY, blob_datasets  # noqa: E402

RECIPE = TrainingRecipe(epochs=2, lr=1e-2, batch_size=4, patience=None, seed=11)

# A training run whose second checkpoint write is cut: half the temporary file is on disk when the
# process is SIGKILLed, before the rename. Patching os.replace catches whatever helper does the write.
_KILLED_WHILE_WRITING = """
import os, signal, sys
sys.path.insert(0, {tests!r})
import torch
torch.set_num_threads({threads})
from helpers_training import blob_datasets, TINY
from sunpy_jets import JetClassifier
from sunpy_jets.training import TrainingRecipe, fit

real_replace, writes = os.replace, []
def replace(src, dst, *args, **kwargs):
    if str(dst).endswith({name!r}):
        writes.append(dst)
        if len(writes) == 2:
            size = os.path.getsize(src)
            with open(src, "r+b") as f:
                f.truncate(size // 2)
            os.kill(os.getpid(), signal.SIGKILL)
    return real_replace(src, dst, *args, **kwargs)
os.replace = replace
train, val = blob_datasets(n_train=8, n_val=4, seed=0)
fit(JetClassifier(TINY, device="cpu", seed=0, progress=False), train, val,
    recipe=TrainingRecipe(**{recipe!r}), checkpoint_dir={ckpt!r}, progress=False)
"""


def _same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_training_killed_while_writing_a_checkpoint_resumes_bit_identically(tmp_path):
    script = _KILLED_WHILE_WRITING.format(tests=str(Path(__file__).parent), threads=torch.get_num_threads(),
                                          name=CHECKPOINT_NAME, recipe=RECIPE.to_dict(), ckpt=str(tmp_path))  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, timeout=150)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    # The half-written temporary file is left behind, under a name no reader takes for a checkpoint ...
    leftovers = [p for p in tmp_path.iterdir() if p.name != CHECKPOINT_NAME]
    assert leftovers and all(p.name.startswith(".") and p.name.endswith(".tmp") for p in leftovers), leftovers
    # ... and the checkpoint is the whole one of the epoch before.
    state = load_checkpoint(tmp_path)
    assert state["meta"]["next_epoch"] == 1
    train, val = blob_datasets(n_train=8, n_val=4, seed=0)
    resumed = JetClassifier(TINY, device="cpu", seed=42, progress=False)
    history = fit(resumed, train, val, recipe=RECIPE, checkpoint_dir=tmp_path, progress=False)
    assert history.resumed_from == 1 and len(history) == RECIPE.epochs
    full = JetClassifier(TINY, device="cpu", seed=0, progress=False)
    fit(full, train, val, recipe=RECIPE, progress=False)
    assert _same_weights(full.model, resumed.model)
    assert full.threshold == resumed.threshold


def test_atomic_write_interrupted_in_python_keeps_the_old_file(tmp_path):
    target = atomic_write_bytes(tmp_path / "weights.bin", b"old and whole")
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"new but ha")
            raise KeyboardInterrupt
    assert target.read_bytes() == b"old and whole"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["weights.bin"]  # the temporary file is gone


def test_classifier_save_interrupted_keeps_the_previous_model(tmp_path, monkeypatch):
    first = JetClassifier(TINY, device="cpu", seed=0, progress=False)
    first.save(tmp_path)
    second = JetClassifier(TINY, device="cpu", seed=1, progress=False)
    real_replace = os.replace

    def crash_on_card(src, dst, *args, **kwargs):
        if str(dst).endswith("config.json"):
            raise KeyboardInterrupt  # the new weights are in place; the new card is not
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", crash_on_card)
    with pytest.raises(KeyboardInterrupt):
        second.save(tmp_path)
    monkeypatch.setattr(os, "replace", real_replace)
    loaded = JetClassifier.load(tmp_path, device="cpu")  # checks the checksum in the card
    assert _same_weights(loaded.model, first.model)


# ----------------------------------------------------------------------------------------------------
# Cache entries


def _entry(cache, label_id="sjh_1", value=1.0):
    t = Time("2012-07-19T07:30:00") + np.arange(6) * 24 * u.s
    center = SkyCoord(600 * u.arcsec, -200 * u.arcsec, frame="helioprojective", observer="earth", obstime=t[0])
    return write_cached_sequence(cache, label_id, np.full((6, 32, 32), value, np.float32), target=1, group="g",
                                 times=t, center=center, config=TINY)  # fmt: skip


def test_cache_entry_cut_while_writing_is_never_served(tmp_path, monkeypatch):
    _entry(tmp_path, value=1.0)
    real_replace = os.replace

    def cut(src, dst, *args, **kwargs):
        if str(dst).endswith(".npz"):
            with open(src, "r+b") as f:
                f.truncate(100)
            real_replace(src, dst, *args, **kwargs)  # the worst case: a truncated array under the real name
            raise KeyboardInterrupt
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", cut)
    with pytest.raises(KeyboardInterrupt):
        _entry(tmp_path, value=2.0)
    monkeypatch.setattr(os, "replace", real_replace)
    with pytest.raises(FileFormatError):
        read_cached_sequence(tmp_path, "sjh_1", config=TINY)
    with pytest.warns(InputWarning, match="left out"):
        assert len(read_cache_index(tmp_path, config=TINY)) == 0
    # Building again mends it.
    _entry(tmp_path, value=3.0)
    frames, meta = read_cached_sequence(tmp_path, "sjh_1", config=TINY)
    assert np.all(frames == 3.0)


# ----------------------------------------------------------------------------------------------------
# Downloads


@pytest.fixture
def manifest():
    t = Time("2012-07-19T07:30:00")
    return QTable({
        "label_id": ["sjh_1"], "start_time": Time([t]), "target": [1], "group": ["g"], "label": ["jet"],
        "center": SkyCoord([600] * u.arcsec, [-200] * u.arcsec, frame="helioprojective", observer="earth",
                           obstime=t),
        "n_frames": [6], "sample": [24] * u.s, "width": [57.6] * u.arcsec, "wavelength": [304] * u.AA,
        "series": ["aia.lev1_euv_12s"],
    })  # fmt: skip


def test_jsoc_download_cut_halfway_resumes_and_partial_files_are_never_served(manifest, tmp_path, jsoc_server):
    """A file cut half-way by the (stand-in) JSOC server; SIGKILL half-way is in test_end_to_end_training.py."""
    from servers.jsoc import expected_records

    times = expected_records(manifest["start_time"][0], manifest["start_time"][0] + 5 * 24 * u.s)
    cut = f"aia.lev1_euv_12s.{times[1].isot[:19].replace(':', '')}Z.304.image.fits"
    jsoc_server.misbehave.cut_names = {cut}  # cut half-way, and again when retried
    report = download(manifest, tmp_path, progress=False)
    assert list(report["status"]) == ["failed"] and "did not arrive whole" in report["error"][0]
    # The whole files are kept, the cut one is nowhere, and nothing says the label is complete, so nothing serves it.
    assert completed_files(tmp_path, "sjh_1") is None
    whole = sorted(p.name for p in (tmp_path / "sjh_1").glob("*.fits"))
    assert len(whole) == 5 and cut not in whole and jsoc_server.downloads.count(cut) == 2
    with pytest.warns(InputWarning, match="not cached"):
        report = build_cache(manifest, tmp_path / "cache", download_dir=tmp_path, config=TINY, progress=False)
    assert list(report["status"]) == ["missing"]
    # The next run fetches only the missing file and completes the label.
    jsoc_server.reset()
    report = download(manifest, tmp_path, progress=False)
    assert list(report["status"]) == ["downloaded"] and jsoc_server.downloads == [cut]
    files = completed_files(tmp_path, "sjh_1")
    assert len(files) == 6 and not (tmp_path / "sjh_1" / ".partial").exists()
    # And a later run does not download it again.
    jsoc_server.reset()
    assert list(download(manifest, tmp_path, progress=False)["status"]) == ["cached"]
    assert jsoc_server.downloads == []


def test_pretrained_leftovers_of_a_killed_download_are_not_served(tmp_path, monkeypatch):
    """A SIGKILLed fetch leaves its ``.partial-*`` folder (no ``finally`` runs); the next fetch ignores it."""
    model = tmp_path / "model"
    JetClassifier(TINY, device="cpu", seed=3, progress=False).save(model)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for p in model.iterdir():
            zf.writestr(p.name, p.read_bytes())
    data = buffer.getvalue()
    sha = hashlib.sha256(data).hexdigest()
    cache = tmp_path / "cache"
    # What a killed process leaves: a half archive and a half-unpacked model in its work folder.
    work = cache / "models" / f".partial-{sha[:12]}-killed"
    (work / "model").mkdir(parents=True)
    (work / "model.zip").write_bytes(data[: len(data) // 2])
    (work / "model" / "config.json").write_text("{")

    def serve(url, directory, filename, *, progress=True):
        path = Path(directory) / filename
        path.write_bytes(data)
        return path

    monkeypatch.setattr(pretrained, "_download", serve)
    target = pretrained.fetch_weights("https://example.org/model.zip", sha256=sha, cache_dir=cache, progress=False)
    assert target == cache / "models" / sha
    loaded = JetClassifier.load(target, device="cpu")
    assert _same_weights(loaded.model, JetClassifier.load(model, device="cpu").model)

    # An interrupted transfer of the same archive is never unpacked into the cache.
    def half(url, directory, filename, *, progress=True):
        (Path(directory) / filename).write_bytes(data[: len(data) // 2])
        raise DownloadError("connection reset")

    monkeypatch.setattr(pretrained, "_download", half)
    other = hashlib.sha256(b"another model").hexdigest()
    with pytest.raises(DownloadError):
        pretrained.fetch_weights("https://example.org/other.zip", sha256=other, cache_dir=cache, progress=False)
    assert not (cache / "models" / other).exists()


# ----------------------------------------------------------------------------------------------------
# Issue 20, 6: a diverged training stops with TrainingError, keeps its last good checkpoint, and leaves the
# classifier as it was.


class _ExplodesAt:
    """A training set whose frames become NaN from epoch ``epoch`` on (a stand-in for a diverging run)."""

    def __init__(self, data, epoch):
        self.data, self.epoch, self.now, self.augment = data, epoch, 0, True

    def set_epoch(self, epoch):
        self.now = epoch

    def __len__(self):
        return len(self.data)

    def __getitem__(self, i):
        x, y = self.data[i]
        return (x * float("nan") if self.now >= self.epoch else x), y


def _weights(clf):
    return {k: v.clone() for k, v in clf.model.state_dict().items()}


def test_diverging_training_keeps_the_last_good_checkpoint(tmp_path):
    train, val = blob_datasets(n_train=8, n_val=4, seed=0)
    clf = JetClassifier(TINY, device="cpu", seed=0, progress=False)
    before = _weights(clf)
    recipe = TrainingRecipe(epochs=3, lr=1e-2, batch_size=4, patience=None, seed=11, augment=False)
    with pytest.raises(TrainingError, match="diverged in epoch 1.* last good epoch is kept"):
        fit(clf, _ExplodesAt(train, 1), val, recipe=recipe, checkpoint_dir=tmp_path, progress=False)
    assert load_checkpoint(tmp_path)["meta"]["next_epoch"] == 1  # epoch 0's checkpoint, not a diverged one
    assert all(torch.equal(v, before[k]) for k, v in clf.model.state_dict().items())


def test_huge_learning_rate_is_a_training_error_not_a_saved_model(tmp_path):
    train, val = blob_datasets(n_train=8, n_val=4, seed=0)
    clf = JetClassifier(TINY, device="cpu", seed=0, progress=False)
    with pytest.raises(TrainingError, match="diverged"):
        fit(clf, train, val, recipe=TrainingRecipe(epochs=4, lr=1e6, batch_size=4, seed=0), progress=False)


def test_one_class_validation_is_a_training_error():
    train, val = blob_datasets(n_train=8, n_val=4, seed=0)
    one_class = TensorJetDataset(torch.stack([val[i][0] for i in range(4)]).squeeze(2), [0, 0, 0, 0])
    clf = JetClassifier(TINY, device="cpu", seed=0, progress=False)
    with pytest.raises(TrainingError, match="only label 0"):
        fit(clf, train, one_class, recipe=TrainingRecipe(epochs=1, batch_size=4), progress=False)


def test_saturated_probabilities_give_no_edge_threshold():
    """A model whose every probability is 1.0 would get threshold 1.0 (no window a jet): refused."""
    train, val = blob_datasets(n_train=8, n_val=4, seed=0)
    clf = JetClassifier(TINY, device="cpu", seed=0, progress=False)
    with torch.no_grad():
        clf.model.head[-1].bias.fill_(60.0)
    threshold = clf.threshold
    with pytest.raises(TrainingError, match="at the edge of"):
        fit(clf, train, val, recipe=TrainingRecipe(epochs=1, lr=1e-9, batch_size=4, augment=False), progress=False)
    assert clf.threshold == threshold


def test_bad_checkpoint_dir_is_refused_before_the_first_epoch(tmp_path):
    train, val = blob_datasets(n_train=8, n_val=4, seed=0)
    (tmp_path / "file").write_text("x")
    clf = JetClassifier(TINY, device="cpu", seed=0, progress=False)
    for where in (tmp_path / "file", tmp_path / "file" / "ckpt"):
        with pytest.raises(InputError, match="checkpoint_dir"):
            fit(clf, train, val, recipe=RECIPE, checkpoint_dir=where, progress=False)
