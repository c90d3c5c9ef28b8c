"""
The real-data training path, end to end and offline.

With the JSOC and HEK stand-ins up (tests/servers), ``sunpy-jets train --preset cs433 --limit 5`` reads (a
part of) the Solar Jet Hunter catalogue, builds the manifest, downloads real AIA 304 Å cutouts through sunpy's
Fido/JSOCClient, drms and parfive, caches them, splits by HEK event, trains, evaluates and saves weights and
a model card. The first run is SIGKILLed in the middle of a file; the rerun resumes, uses nothing partial and
leaves downloads and cache identical to an uninterrupted run's. ``sunpy-jets detect`` then runs with the
trained weights on downloaded files, and its events are matched with the HEK stand-in's of the same time,
fetched with ``Fido.search(..., a.hek.CJ)``. Only the servers differ from a user's run against JSOC and the HEK.
"""

import collections
import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

import astropy.units as u
from astropy.time import Time

from sunpy_jets import JetClassifier
from sunpy_jets.cli import main
from sunpy_jets.datasets import (
    SolarJetHunterCatalogue,
    build_cache,
    build_manifest,
    completed_files,
    download,
    read_nonjet_positions,
)
from sunpy_jets.model import JetModelConfig

from conftest import realdata_path

LIMIT = 5  # jets (one per HEK event) and non-jets: 10 labels, 6 frames each
# Real catalogue rows: on-disk jets of five HEK events (and, second, one more jet of the first event, which
# --limit leaves out), and six non-jet positions (--limit keeps the first five). They give every set of the
# grouped split jets and non-jets. (Jets above the limb are left out: the preprocessing cannot yet place a label
# centre above the limb on frames whose observer or time differ from the label's -- a problem of its own.)
JET_ROWS = [1, 2, 49, 50, 70, 89]
NONJET_ROWS = [0, 3, 5, 6, 7, 8]
N_FILES = 2 * LIMIT * 6
MODEL = ["--n-frames", "6", "--image-size", "32", "--channels", "4", "8", "--hidden-size", "8"]
RECIPE = ["--epochs", "2", "--batch-size", "2", "--lr", "0.01", "--patience", "5", "--device", "cpu"]
CONFIG = JetModelConfig(n_frames=6, image_size=32, channels=(4, 8), hidden_size=8)
STALL_AT = 33  # the 33rd of 60 file downloads (the sixth label's third frame) is cut by SIGKILL


@pytest.fixture
def labels(tmp_path):
    """A small catalogue and non-jet file: real rows of the published ones."""
    lines = realdata_path("sjh_catalogue", "Jet_clusters_3.0_2.0_paperID.csv").read_text().splitlines()
    catalogue = tmp_path / "catalogue.csv"
    catalogue.write_text("\n".join([lines[0]] + [lines[1 + i] for i in JET_ROWS]) + "\n")
    lines = realdata_path("sjh_catalogue", "No_jet_df.csv").read_text().splitlines()
    nonjets = tmp_path / "No_jet_df.csv"
    nonjets.write_text("\n".join([lines[0]] + [lines[1 + i] for i in NONJET_ROWS]) + "\n")
    return catalogue, nonjets


def _train_args(output, labels):
    return ["train", "--preset", "cs433", "--catalogue", str(labels[0]), "--nonjets", str(labels[1]),
            "--limit", str(LIMIT), "--output", str(output), "--no-progress", *MODEL, *RECIPE]  # fmt: skip


def _folder_state(download_dir):
    """{label: {file name: bytes}} of every complete label, and the complete.json file lists."""
    state = {}
    for folder in sorted(p for p in Path(download_dir).iterdir() if p.is_dir()):
        files = completed_files(download_dir, folder.name)
        assert files is not None, f"{folder.name} is not complete"
        listing = json.loads((folder / "complete.json").read_text())["files"]
        state[folder.name] = ({f.name: f.read_bytes() for f in files}, listing)
    return state


def _cache_state(cache_dir):
    """{file name: bytes} of a cache folder (arrays and sidecars, with their checksums)."""
    return {p.name: p.read_bytes() for p in sorted(Path(cache_dir).iterdir())}


@pytest.mark.slow
def test_training_from_the_catalogue_end_to_end(jsoc_server, hek_server, labels, tmp_path, capsys):
    start = time.perf_counter()
    out = tmp_path / "model"
    # 1. The first run is SIGKILLed while a file is half-way down.
    jsoc_server.misbehave.stall_at = STALL_AT
    env = {**os.environ, "PARFIVE_HIDE_PROGRESS": "True", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "sunpy_jets", *_train_args(out, labels)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 150
        while not jsoc_server.stalled.wait(timeout=0.5):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the first run never reached download {STALL_AT}: {proc.stdout.read().decode()[-3000:]}")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        jsoc_server.release.set()
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    downloads = out / "downloads"
    killed_label = sorted(p for p in downloads.iterdir() if (p / ".partial").is_dir() and any((p / ".partial").iterdir()))
    assert len(killed_label) == 1, "the killed run leaves exactly one label with a half file"
    folder = killed_label[0]
    (half,) = list((folder / ".partial").iterdir())
    assert half.name == jsoc_server.downloads[STALL_AT - 1]
    assert not (folder / "complete.json").exists() and completed_files(downloads, folder.name) is None
    assert len(list(folder.glob("*.fits"))) == 2  # the two whole files of that label are kept
    assert sum(completed_files(downloads, p.name) is not None for p in downloads.iterdir()) == 5
    assert not (out / "cache").exists() and not list(out.glob("*.safetensors"))
    first_downloads = list(jsoc_server.downloads)
    jsoc_server.reset()

    # 2. The same command again: it resumes, downloads only what is missing, and trains.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the run's own InputWarnings (padding, a label left out) are printed
        assert main(_train_args(out, labels)) == 0
    printed = capsys.readouterr().out
    assert "5 jets from 5 HEK events and 5 non-jets: 10 JSOC queries" in printed
    assert "JSOC: 5 sequences downloaded, 5 already there, 0 failed" in printed
    assert "model saved" in printed
    resumed_downloads = first_downloads + jsoc_server.downloads

    # 3. Nothing partial was used: downloads and cache are those of an uninterrupted run.
    reference = tmp_path / "reference"
    catalogue, nonjets = SolarJetHunterCatalogue.read(labels[0]), read_nonjet_positions(labels[1])
    catalogue.remove_row(1)  # the second jet of the first HEK event
    manifest = build_manifest(catalogue, nonjets[:LIMIT], config=CONFIG)
    jsoc_server.reset()
    assert set(download(manifest, reference / "downloads", progress=False)["status"]) == {"downloaded"}
    # The interrupted and resumed runs downloaded what one run does, and again only the file that was cut.
    extra = collections.Counter(resumed_downloads) - collections.Counter(jsoc_server.downloads)
    assert len(jsoc_server.downloads) == N_FILES and extra == {half.name: 1}
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        report = build_cache(manifest, reference / "cache", config=CONFIG, download_dir=reference / "downloads",
                             progress=False)  # fmt: skip
    assert list(report["status"]) == ["built"] * len(manifest), list(report["message"])
    ours, theirs = _folder_state(downloads), _folder_state(reference / "downloads")
    assert ours.keys() == theirs.keys() and all(ours[k] == theirs[k] for k in ours)
    ours, theirs = _cache_state(out / "cache"), _cache_state(reference / "cache")
    assert ours.keys() == theirs.keys() and ours == theirs  # byte for byte

    # 4. A saved, loadable model with its card.
    clf = JetClassifier.load(out, device="cpu")
    data = clf.card.training["data"]
    assert (data["limit"], data["n_labels"], data["n_cached"]) == (LIMIT, 2 * LIMIT, 2 * LIMIT)
    assert len(ours) == 2 * 2 * LIMIT  # an array and a sidecar per label
    assert data["split"].startswith("grouped by HEK event")
    assert {"validation", "test"} <= set(clf.card.metrics)
    assert json.loads((out / "test_metrics.json").read_text())["n"] == data["n_test"]
    assert clf.config.image_size == 32 and clf.config.n_frames == 6

    # 5. detect with those weights on one label's downloaded files ...
    label = str(manifest["label_id"][0])  # a jet of SOL2011-01-20T22:00:09L353C074
    files = [str(f) for f in completed_files(downloads, label)]
    detected = tmp_path / "detected"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["detect", *files, "--weights", str(out), "--output", str(detected), "--device", "cpu",
                     "--no-progress"]) == 0  # fmt: skip
    assert (detected / "windows.ecsv").is_file() and (detected / "events.json").is_file()
    from sunpy_jets.events import JetEvents

    events = JetEvents.read(detected / "events.json")

    # ... and the HEK's coronal-jet events of the same time, through Fido (the HEK stand-in).
    from sunpy.net import Fido
    from sunpy.net import attrs as a

    t0 = Time(manifest["start_time"][0])
    result = Fido.search(a.Time(t0 - 1 * u.h, t0 + 1 * u.h), a.hek.CJ)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # HEKFormatWarning: wavelengths in cm are normalised
        hek = JetEvents.from_hek(result["hek"])
    assert str(manifest["group"][0]) in [str(s) for s in hek["SOL_standard"]]
    from sunpy_jets.events import match_events

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        match = match_events(events, result["hek"])
    assert len(match.matched) + len(match.unmatched_detected) == len(events)
    assert len(match.matched) + len(match.unmatched_reference) == len(hek)
    print(f"{len(events)} detected event(s), {len(hek)} HEK CJ event(s), {len(match.matched)} matched")
    assert time.perf_counter() - start < 240


def test_hek_stand_in_pages_like_the_hek(hek_server):
    from sunpy.net import Fido
    from sunpy.net import attrs as a

    assert len(hek_server.records) == 230  # the 2 real records, and one for each of the 228 other HEK events
    hek_server.page_size = 2  # (the HEK's pages are longer; a short page keeps the test fast)
    table = Fido.search(a.Time("2011-01-20", "2011-01-23"), a.hek.CJ)["hek"]
    expected = [r for r in hek_server.records if "2011-01-20" <= r["event_starttime"][:10] <= "2011-01-22"]
    assert len(table) == len(expected) > 2
    assert [int(q["page"]) for _, _, q in hek_server.requests] == list(range(1, (len(expected) + 1) // 2 + 1))
    assert set(table["event_type"]) == {"CJ"}
    hek_server.requests.clear()
    real = Fido.search(a.Time("2011-01-20", "2011-01-21"), a.hek.CJ, a.hek.FRM.Name == "asainz")["hek"]
    assert sorted(real["obs_channelid"]) == ["211", "304"]
    assert real["event_starttime"][0].isot.startswith("2011-01-20T09:00:09")
    empty = Fido.search(a.Time("2009-01-01", "2009-01-02"), a.hek.CJ)["hek"]
    assert len(empty) == 0


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--limit", "0", "--limit must be at least 1"),
    ("--jsoc-timeout", "-1", "--jsoc-timeout must be a positive number of minutes"),
    ("--jsoc-url", "jsoc.example.org", "is not an http(s) URL"),
])  # fmt: skip
def test_train_options_are_checked(tmp_path, capsys, option, value, message):
    catalogue = realdata_path("sjh_catalogue", "Jet_clusters_3.0_2.0_paperID.csv")
    argv = ["train", "--preset", "cs433", "--catalogue", str(catalogue), "--output", str(tmp_path / "out"),
            "--email", "someone@example.org", "--no-progress", "--limit", "1", option, value]  # fmt: skip
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out" / "downloads").exists()  # refused before anything was downloaded


@pytest.mark.remote_data
def test_real_hek_answers_like_the_stand_in():
    """The same Fido query against the real HEK: the records the stand-in serves are of this kind."""
    from sunpy.net import Fido
    from sunpy.net import attrs as a

    from servers.hek import real_cj_records

    table = Fido.search(a.Time("2011-01-20T08:00", "2011-01-20T11:00"), a.hek.CJ)["hek"]
    assert "SOL2011-01-20T09:00:09L289C165" in [str(s) for s in table["SOL_standard"]]
    used = {"event_starttime", "event_endtime", "event_coordsys", "hpc_x", "hpc_y", "boundbox_c1ll", "boundbox_c2ur",
            "frm_name", "kb_archivid", "obs_channelid", "obs_meanwavel", "obs_wavelunit", "SOL_standard"}  # fmt: skip
    assert used <= set(real_cj_records(realdata_path())[0]) and used <= set(table.raw.colnames)
