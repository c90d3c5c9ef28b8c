"""Tests of sunpy_jets.watch: the Watcher in process, its state, the closing rule, the CLI and the NRT fetch."""

import json
import shutil
import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import pytest

import astropy.units as u
from astropy.time import Time

from sunpy_jets import JetClassifier
from sunpy_jets.events import JetEvents
from sunpy_jets.exceptions import InputError, InputTypeError
from sunpy_jets.inputs import iter_maps
from sunpy_jets.model import JetModelConfig
from sunpy_jets.scanning import events_from_scan
from sunpy_jets.scanning._engine import Scanner
from sunpy_jets.synthetic import make_observation, write_fits
from sunpy_jets.watch import Watcher, WatchState, read_emitted
from sunpy_jets.watch._closing import event_id, split_final

from test_watch_soak import clear_threshold

SCALE = 9.375 * u.arcsec / u.pix
CONFIG = JetModelConfig(image_size=32, channels=(4, 8), hidden_size=8, head_size=8, n_frames=8, cadence_s=60,
                        dropout=0.0)  # fmt: skip
QUIET = {"lateness": 0 * u.s, "settle": 0 * u.s, "figures": False}


@pytest.fixture(scope="module")
def observation(tmp_path_factory):
    """One hour at 60 s of 64×64 frames (tiled), with a gap of 15 minutes after minute 30, as FITS files."""
    folder = tmp_path_factory.mktemp("obs")
    obs = make_observation(duration=70 * u.min, cadence=60 * u.s, n_jets=3, n_distractors=0, shape=(64, 64),
                           scale=SCALE, bad_frame_rate=0, seed=4)  # fmt: skip
    files = write_fits(obs, folder, compress=False)
    for f in files[30:45]:
        f.unlink()
    return [f for f in files if f.exists()]


@pytest.fixture(scope="module")
def classifier():
    return JetClassifier(CONFIG, device="cpu", seed=1, progress=False)


@pytest.fixture(scope="module")
def reference(observation, classifier):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        windows = classifier.scan(observation, progress=False)
    threshold = clear_threshold(windows["probability"], 0.8)
    return windows, threshold, events_from_scan(classifier, windows, threshold=threshold, low_threshold=threshold)


def _copy(files, folder):
    folder.mkdir(exist_ok=True)
    for f in files:
        shutil.copyfile(f, folder / f.name)


def _same_events(got, expected):
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        assert a["event_starttime"] == b["event_starttime"] and a["event_endtime"] == b["event_endtime"]
        assert float(a["event_probability"]) == pytest.approx(float(b["event_probability"]), abs=1e-5)
        assert a["event_coord"].Tx.to_value(u.arcsec) == pytest.approx(b["event_coord"].Tx.to_value(u.arcsec), abs=1e-3)
        assert a["event_coord"].Ty.to_value(u.arcsec) == pytest.approx(b["event_coord"].Ty.to_value(u.arcsec), abs=1e-3)


# --- the engine's state ------------------------------------------------------------------------------------


def test_scanner_state_round_trip_continues_exactly(observation):
    """A scanner saved half-way and restored into a new one gives the windows of one uninterrupted scan."""
    config = JetModelConfig(image_size=32, channels=(4, 8), difference_channels=(4, 8), hidden_size=8, head_size=8,
                            n_frames=8, cadence_s=60, dropout=0.0)  # fmt: skip
    clf = JetClassifier(config, device="cpu", seed=0, progress=False)
    maps = list(iter_maps(observation[:28]))
    options = {"stride": 2, "center": None, "width": None, "tiles": None, "overlap": 0.5, "method": "pool",
               "max_radius": None}  # fmt: skip

    def scanner():
        return Scanner(clf, maps[0], **options)

    whole = scanner()
    for m in maps:
        whole.push(*whole.read(m))
    whole.flush()
    first = scanner()
    for m in maps[:13]:
        first.push(*first.read(m))
    scalars, arrays = first.state_dict()
    scalars = json.loads(json.dumps(scalars))
    second = scanner()
    second.load_state_dict(scalars, arrays)
    for m in maps[13:]:
        second.push(*second.read(m))
    second.flush()
    a, b = whole.table(stride=2), second.table(stride=2)
    assert len(a) == len(b) > 0 and whole.tiled
    assert np.all(a["start_time"] == b["start_time"])
    np.testing.assert_allclose(a["probability"], b["probability"], atol=1e-6)
    second.drop_windows(float((b["start_time"][len(b) // 2] - second.t_ref).to_value(u.s)))
    assert 0 < second.n_windows * len(second.grid) < len(b)


def test_split_final_waits_for_the_margin():
    t0 = Time("2012-07-19T07:00:00")
    events = JetEvents.from_columns(start=t0 + [0, 10, 40] * u.min, end=t0 + [12, 22, 52] * u.min,
                                    probability=[0.9, 0.8, 0.7], tx=[0, 0, 0] * u.arcsec, ty=[0, 0, 0] * u.arcsec,
                                    width=300 * u.arcsec)  # fmt: skip
    # The first two overlap: one cluster, ending at 22 min; final once windows start past 22 min + margin.
    final, cut = split_final(events, 22 * 60 + 100.0, t0, margin_s=120.0, merge_gap_s=0.0)
    assert final == [] and cut == -1.0
    final, cut = split_final(events, 22 * 60 + 121.0, t0, margin_s=120.0, merge_gap_s=0.0)
    assert final == [0, 1] and cut == pytest.approx(22 * 60)  # windows a margin back are kept
    assert event_id(events[0]).startswith("CJ_20120719T070000_x-150_y-150")


# --- the state file ------------------------------------------------------------------------------------------


def test_state_saves_atomically_and_refuses_other_versions(tmp_path):
    state = WatchState(tmp_path / "s")
    state.data = {"a": 1}
    state.arrays = {"x": np.arange(3.0)}
    state.save()
    state.arrays = {"x": np.arange(4.0)}
    state.save()
    assert len(list((tmp_path / "s").glob("arrays-*.safetensors"))) == 1
    again = WatchState(tmp_path / "s").load()
    assert again.generation == 2 and again.arrays["x"].tolist() == [0.0, 1.0, 2.0, 3.0]
    document = json.loads(state.path.read_text())
    document["version"] = 99
    state.path.write_text(json.dumps(document))
    with pytest.raises(InputError, match="remove"):
        WatchState(tmp_path / "s").load()


# --- the watcher in this process -----------------------------------------------------------------------------


def test_watcher_matches_batch_across_restarts(observation, classifier, reference, tmp_path):
    _, threshold, expected = reference
    inbox, out = tmp_path / "in", tmp_path / "out"
    options = {"threshold": threshold, "low_threshold": threshold, **QUIET}
    for part in (observation[:20], observation[20:33], observation[33:]):
        _copy(part, inbox)
        with Watcher(inbox, out, classifier, **options) as watcher:
            watcher.poll_once()
    with Watcher(inbox, out, classifier, **options) as watcher:
        assert watcher.status()["frames_scanned"] == len(observation)
        watcher.poll_once(finish=True)
        status = watcher.status()
    _same_events(read_emitted(out), expected)
    assert status["events_emitted"] == len(expected) and status["gaps"] == 1 and status["windows_kept"] == 0
    gap = json.loads((out / "coverage.json").read_text())["gaps"][0]
    assert gap["minutes"] == 16.0 and Time(gap["start"]) == iter_maps([observation[29]]).__next__().date


def test_late_duplicate_and_corrupt_files_are_quarantined(observation, classifier, reference, tmp_path):
    _, threshold, _ = reference
    inbox, out = tmp_path / "in", tmp_path / "out"
    _copy(observation[5:12], inbox)
    (inbox / "aia.broken.fits").write_bytes(b"not a FITS file at all" * 10)
    with Watcher(inbox, out, classifier, threshold=threshold, **QUIET) as watcher:
        watcher.poll_once()
        _copy(observation[2:3], inbox)  # older than what was scanned: too late
        shutil.copyfile(observation[11], inbox / "copy_of_last.fits")  # same time again
        watcher.poll_once()
        status = watcher.status()
    reasons = {p.name.removesuffix(".reason.txt"): p.read_text() for p in (out / "quarantine").glob("*.reason.txt")}
    assert set(reasons) == {"aia.broken.fits", observation[2].name, "copy_of_last.fits"}
    assert "could not be read" in reasons["aia.broken.fits"] and "too late" in reasons[observation[2].name]
    assert (out / "quarantine" / "aia.broken.fits").exists() and not (inbox / "aia.broken.fits").exists()
    assert status["files_quarantined"] == 3 and status["frames_scanned"] == 7


def test_files_wait_for_lateness(observation, classifier, tmp_path):
    inbox, out = tmp_path / "in", tmp_path / "out"
    _copy(observation[:10], inbox)
    with Watcher(inbox, out, classifier, lateness=180 * u.s, settle=0 * u.s, figures=False) as watcher:
        watcher.poll_once()
        status = watcher.status()
    # Frames 7..9 wait for a file at least 3 minutes newer than them.
    assert status["frames_scanned"] == 7 and status["files_pending"] == 3 and status["lag_s"] == pytest.approx(180)


def test_restart_refuses_other_settings_and_a_second_watcher(classifier, tmp_path):
    inbox, out = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    with Watcher(inbox, out, classifier, threshold=0.7, **QUIET) as watcher:
        watcher.poll_once()
        with pytest.raises(InputError, match="another watcher"):
            Watcher(inbox, out, classifier, threshold=0.7, **QUIET)
    with pytest.raises(InputError, match="threshold"):
        Watcher(inbox, out, classifier, threshold=0.8, **QUIET)
    with pytest.raises(InputError, match="is not a folder"):
        Watcher(tmp_path / "missing", out, classifier)
    with pytest.raises(InputTypeError, match="hook"):
        Watcher(inbox, tmp_path / "o2", classifier, hook=3)


def test_hooks_and_figures(observation, classifier, reference, tmp_path):
    _, threshold, expected = reference
    inbox, out = tmp_path / "in", tmp_path / "out"
    _copy(observation, inbox)
    calls = []

    def hook(event, folder):
        calls.append((len(event), folder.name))
        raise RuntimeError("a failing hook does not stop the watcher")

    with Watcher(inbox, out, classifier, threshold=threshold, low_threshold=threshold, hook=hook,
                 lateness=0 * u.s, settle=0 * u.s) as watcher:  # fmt: skip
        watcher.poll_once(finish=True)
    assert [name for _, name in calls] == list(read_emitted(out)["event_id"]) and len(calls) == len(expected)
    folder = out / "events" / calls[0][1]
    assert (folder / "event.png").stat().st_size > 1000
    assert json.loads((folder / "watch.json").read_text())["id"] == folder.name


def test_run_stops_on_request(classifier, tmp_path):
    inbox, out = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    watcher = Watcher(inbox, out, classifier, **QUIET)
    thread = threading.Thread(target=watcher.run, kwargs={"poll": 0.05 * u.s})
    thread.start()
    time.sleep(0.3)
    watcher.stop()
    thread.join(10)
    watcher.close()
    assert not thread.is_alive() and json.loads((out / "status.json").read_text())["stopped"] is True


# --- command line and NRT ------------------------------------------------------------------------------------


def test_cli_help_does_not_import_torch():
    code = ("import sys, contextlib, io\nfrom sunpy_jets.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
            "    try:\n        main(['watch', '--help'])\n    except SystemExit:\n        pass\n"
            "print('torch' in sys.modules, '--lateness' in out.getvalue())")  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert result.stdout.split() == ["False", "True"], result.stderr


def test_cli_watch_once(observation, classifier, reference, tmp_path):
    from sunpy_jets.cli import main

    _, threshold, expected = reference
    inbox, out, model = tmp_path / "in", tmp_path / "out", tmp_path / "model"
    classifier.save(model)
    _copy(observation, inbox)
    args = ["watch", str(inbox), "-o", str(out), "--weights", str(model), "--device", "cpu", "--threshold",
            repr(threshold), "--low-threshold", repr(threshold), "--lateness", "0", "--settle", "0", "--no-figures"]
    assert main([*args, "--once"]) == 0
    assert main([*args, "--once", "--finish"]) == 0
    _same_events(read_emitted(out), expected)


def test_fetch_nrt_through_the_jsoc_stand_in(jsoc_server, tmp_path):
    from conftest import realdata_path

    from sunpy_jets.datasets import SolarJetHunterCatalogue
    from sunpy_jets.watch import fetch_nrt

    row = SolarJetHunterCatalogue.read(realdata_path("sjh_catalogue", "Jet_clusters_3.0_2.0_paperID.csv"))[3]
    start, center = Time(row["start_time"]), row["base"]
    inbox = tmp_path / "in"
    moved = fetch_nrt(inbox, center, end=start + 48 * u.s, duration=48 * u.s, cadence=24 * u.s,
                      series="aia.lev1_euv_12s", progress=False)  # fmt: skip
    assert len(moved) == 3 and all(p.parent == inbox for p in moved)
    assert not list((inbox / ".nrt").glob("*/*.fits"))
    request = jsoc_server.ops("exp_request")[0]
    assert request["ds"].startswith("aia.lev1_euv_12s[")
    # A second fetch of the same interval moves nothing new.
    assert fetch_nrt(inbox, center, end=start + 48 * u.s, duration=48 * u.s, cadence=24 * u.s,
                     series="aia.lev1_euv_12s", progress=False) == []  # fmt: skip
