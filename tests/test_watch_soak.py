"""
Soak test of ``sunpy-jets watch``: two hours of generated observation arrive in a folder, out of order and with
a 20-minute gap, a corrupt file and a late file, while the watcher is killed with SIGKILL and restarted again
and again. The events it writes must equal, one for one, those of a batch scan of the same files.

The default variant is sized for CI (a tiny untrained model, 64×64 frames at a compressed 60 s cadence, about a
minute on two cores); ``SUNPY_JETS_LONG_SOAK=1`` adds one with eight kills and faster arrivals (marked slow).
"""

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import pytest

import astropy.units as u

from sunpy_jets import JetClassifier
from sunpy_jets.model import JetModelConfig
from sunpy_jets.scanning import events_from_scan
from sunpy_jets.synthetic import make_observation, write_fits
from sunpy_jets.watch import read_emitted

CONFIG = JetModelConfig(image_size=32, channels=(4, 8), hidden_size=8, head_size=8, n_frames=8, cadence_s=60,
                        dropout=0.0)  # fmt: skip
SCALE = 9.375 * u.arcsec / u.pix
GAP_MINUTES = (60, 80)  # files of these minutes never arrive: a 21-minute gap between two frames
LATE_MINUTE = 30  # this file arrives at the very end, long after its time: quarantined as late
_RUN = "import sys; from sunpy_jets.cli import main; sys.exit(main())"


def clear_threshold(probability, quantile):
    """A threshold near ``quantile`` of the probabilities, in the widest gap between them around it.

    Window probabilities differ by float noise (~1e-7) between frame batches of different sizes; a threshold
    right on a window's probability would make the comparison with the batch scan a coin toss.
    """
    p = np.sort(np.asarray(probability, dtype=float))
    lo, hi = int(len(p) * (quantile - 0.05)), int(len(p) * (quantile + 0.05))
    gaps = np.diff(p[lo : hi + 1])
    k = lo + int(np.argmax(gaps))
    assert p[k + 1] - p[k] > 1e-5
    return float((p[k] + p[k + 1]) / 2)


def _observation(folder, *, shape, seed):
    obs = make_observation(duration=2 * u.hour, cadence=60 * u.s, n_jets=4, n_distractors=1, shape=shape,
                           scale=SCALE, bad_frame_rate=0, seed=seed)  # fmt: skip
    files = write_fits(obs, folder, compress=False)
    return [f for i, f in enumerate(files) if not GAP_MINUTES[0] <= i < GAP_MINUTES[1]]


def _deliver(files, inbox, *, pause, rng, corrupt_after):
    """Copy the files into ``inbox`` in blocks of four shuffled, then the late one; write a corrupt file on the way."""
    late = [f for f in files if f.name == files[LATE_MINUTE].name]
    order = [f for f in files if f not in late]
    blocks = [order[i : i + 4] for i in range(0, len(order), 4)]
    for block in blocks:
        rng.shuffle(block)
    delivered = 0
    for block in blocks:
        for f in block:
            tmp = inbox / f".{f.name}.part"
            shutil.copyfile(f, tmp)
            os.replace(tmp, inbox / f.name)
            delivered += 1
            if delivered == corrupt_after:
                (inbox / "aia.lev1_euv_12s.corrupt.304.image.fits").write_bytes(b"SIMPLE  =  T / not really\n" * 20)
            time.sleep(pause)
    # The late file arrives once the watcher has scanned past its time.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (_status(inbox.parent / "out").get("frames_scanned") or 0) < LATE_MINUTE + 10:
        time.sleep(0.05)
    for f in late:
        shutil.copyfile(f, inbox / f.name)


def _start(inbox, out, weights, threshold, hook_log, *extra):
    hook = f"{sys.executable} -c \"import sys, pathlib; open({str(hook_log)!r}, 'a').write(pathlib.Path(sys.argv[1]).name + chr(10))\""
    command = [
        sys.executable, "-c", _RUN, "watch", str(inbox), "--output", str(out), "--weights", str(weights),
        "--device", "cpu", "--threshold", f"{threshold!r}", "--low-threshold", f"{threshold!r}", "--poll", "0.05",
        "--lateness", "300", "--max-wait", "600", "--settle", "0", "--hook", hook, *extra,
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)


def _status(out):
    try:
        return json.loads((out / "status.json").read_text())
    except (OSError, ValueError):
        return {}


def _soak(tmp_path, *, shape, kills, pause, seed, quantile=0.85):
    source, inbox, out, weights = (tmp_path / name for name in ("source", "inbox", "out", "model"))
    inbox.mkdir()
    files = _observation(source, shape=shape, seed=seed)
    clf = JetClassifier(CONFIG, device="cpu", seed=seed, progress=False)
    clf.save(weights)
    good = sorted(f for f in files if f.name != files[LATE_MINUTE].name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        windows = clf.scan(good, progress=False)
    # An untrained model: a threshold that makes several events of various lengths.
    threshold = clear_threshold(windows["probability"], quantile)
    assert len(events_from_scan(clf, windows, threshold=threshold, low_threshold=threshold)) >= 3

    rng = random.Random(seed)
    hook_log = tmp_path / "hooks.txt"
    delivery = threading.Thread(target=_deliver, args=(files, inbox),
                                kwargs={"pause": pause, "rng": rng, "corrupt_after": len(files) // 3})  # fmt: skip
    delivery.start()
    logs, samples = [], []
    # Kill points: fractions of the frames scanned, each reached by the watcher started after the previous kill.
    for target in sorted(rng.uniform(0.1, 0.85) for _ in range(kills)):
        process = _start(inbox, out, weights, threshold, hook_log)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            status = _status(out)
            samples.append(status)
            if status.get("pid") == process.pid and status["frames_scanned"] >= target * len(files):
                break
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.3))  # anywhere in a step: reading, writing an event, saving the state
        process.send_signal(signal.SIGKILL)
        logs.append(process.communicate()[0])
    killed = kills
    # A last watcher sees the rest arrive, and is stopped cleanly (SIGTERM) once everything has arrived.
    process = _start(inbox, out, weights, threshold, hook_log)
    delivery.join()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and _status(out).get("pid") != process.pid:
        time.sleep(0.05)
    time.sleep(0.5)
    samples.append(_status(out))
    process.send_signal(signal.SIGTERM)
    logs.append(process.communicate(timeout=120)[0])
    assert process.returncode == 0, logs[-1]
    # The observation is over: one last run scans what is left and writes the events still open.
    final = _start(inbox, out, weights, threshold, hook_log, "--idle-exit", "0.5", "--finish")
    logs.append(final.communicate(timeout=120)[0])
    assert final.returncode == 0, logs[-1]
    # The batch scan of the same files: those left in the folder (the quarantined ones were moved out).
    scanned = sorted(inbox.glob("*.fits"))
    assert scanned == [inbox / f.name for f in good]
    # (a batch detect without localisation is exactly this: events_from_scan of the scan's windows)
    expected = events_from_scan(clf, windows, threshold=threshold, low_threshold=threshold)
    return expected, out, hook_log, logs, samples, killed



def _check(expected, out, hook_log, logs, samples, killed, kills):
    log_text = "\n".join(logs)
    assert killed >= kills
    # The corrupt and the late file are quarantined with their reasons.
    reasons = {p.name: p.read_text() for p in (out / "quarantine").glob("*.reason.txt")}
    assert len(reasons) == 2
    assert any("could not be read" in text for text in reasons.values())
    assert any("too late" in text for text in reasons.values())
    got = read_emitted(out)
    # One for one: the same events, in the same order, with the same times and values.
    assert len(got) == len(expected), (got, expected)
    for a, b in zip(got, expected):
        assert a["event_starttime"] == b["event_starttime"]
        assert a["event_endtime"] == b["event_endtime"]
        assert a["event_peaktime"] == b["event_peaktime"]
        assert float(a["event_probability"]) == pytest.approx(float(b["event_probability"]), abs=1e-5)
        for axis in ("Tx", "Ty"):
            assert getattr(a["event_coord"], axis).arcsec == pytest.approx(getattr(b["event_coord"], axis).arcsec, abs=1e-3)
        for name in ("boundbox_c1ll", "boundbox_c2ll", "boundbox_c1ur", "boundbox_c2ur"):
            assert a[name].to_value(u.arcsec) == pytest.approx(b[name].to_value(u.arcsec), abs=1e-6)
    # Nothing written twice: one folder per event, and every event folder complete.
    folders = [p for p in (out / "events").iterdir()]
    assert sorted(p.name for p in folders) == sorted(got["event_id"])
    for folder in folders:
        names = {p.name for p in folder.iterdir()}
        assert {"event.json", "event.png", "watch.json"} <= names and any(n.endswith(".xml") for n in names)
    # Hooks run at least once per event (again only if a kill hit between the hook and the state save).
    calls = hook_log.read_text().split()
    assert set(calls) == set(got["event_id"])
    assert len(calls) - len(set(calls)) <= killed
    # The gap is reported, in the coverage file and the log.
    coverage = json.loads((out / "coverage.json").read_text())
    assert [round(g["minutes"]) for g in coverage["gaps"]] == [GAP_MINUTES[1] - GAP_MINUTES[0] + 1]
    assert "no data for 21.0 min" in log_text
    # Memory flat: what the watcher keeps is bounded by a window and a step, not by the hours watched.
    samples = [s for s in samples if s]
    kept, state_bytes = [s["windows_kept"] for s in samples], [s["state_bytes"] for s in samples]
    assert samples and max(kept) <= 200 and max(state_bytes) < 2_000_000
    status = _status(out)
    assert status["files_pending"] == 0 and status["events_emitted"] == len(got) and status["stopped"]
    # Every watcher logged where it started; killed ones were killed while working.
    assert log_text.count("watch: following") == kills + 2
    return samples


def test_soak_kill_restart_gap(tmp_path):
    expected, out, hook_log, logs, samples, killed = _soak(tmp_path, shape=(64, 64), kills=3, pause=0.08, seed=2)
    _check(expected, out, hook_log, logs, samples, killed, 3)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("SUNPY_JETS_LONG_SOAK"), reason="set SUNPY_JETS_LONG_SOAK=1 to run the long soak")
def test_soak_long(tmp_path):
    expected, out, hook_log, logs, samples, killed = _soak(tmp_path, shape=(64, 64), kills=8, pause=0.04, seed=2)
    _check(expected, out, hook_log, logs, samples, killed, 8)
