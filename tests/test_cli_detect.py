"""Tests of ``sunpy-jets detect`` on generated FITS files, offline."""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest

import astropy.units as u
from astropy.table import QTable

from lxml import etree

from sunpy_jets import JetClassifier
from sunpy_jets.cli import build_parser, main
from sunpy_jets.events import JetEvents
from sunpy_jets.model import JetModelConfig
from sunpy_jets.synthetic import make_observation, write_fits

CONFIG = JetModelConfig(image_size=32, channels=(4, 8), hidden_size=8, n_frames=6, cadence_s=60)


@pytest.fixture(scope="module")
def fits_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("fits")
    obs = make_observation(duration=12 * u.min, cadence=60 * u.s, n_jets=1, n_distractors=0, shape=(64, 64),
                           scale=9.375 * u.arcsec / u.pix, bad_frame_rate=0, seed=4)
    write_fits(obs, directory)
    return directory


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return JetClassifier(CONFIG, device="cpu", seed=0).save(tmp_path_factory.mktemp("model"))


def test_detect_writes_voevents_json_windows_and_summary(fits_dir, weights, tmp_path, capsys):
    out = tmp_path / "results"
    # A tiny threshold makes every window a jet: the untrained model's output is then known.
    status = main(["detect", str(fits_dir / "*.fits"), "--output", str(out), "--weights", str(weights),
                   "--threshold", "1e-6", "--device", "cpu", "--no-progress", "--contact", "me@example.org",
                   "--test"])
    assert status == 0
    printed = capsys.readouterr().out
    assert "jet event(s)" in printed and str(out / "events.json") in printed
    events = JetEvents.read(out / "events.json")
    assert len(events) >= 1
    assert events.meta["threshold"] == pytest.approx(1e-6)
    xml_files = sorted((out / "voevents").glob("*.xml"))
    assert len(xml_files) == len(events)
    root = etree.parse(str(xml_files[0])).getroot()
    assert root.tag.endswith("VOEvent")
    assert b"me@example.org" in xml_files[0].read_bytes()
    record = json.loads((out / "events.json").read_text())["result"][0]
    assert record["frm_contact"] == "me@example.org"
    windows = QTable.read(out / "windows.ecsv")
    assert len(windows) == (12 - CONFIG.n_frames + 1) * 9  # 64 px field → 3 × 3 tiles of 32 px
    assert np.all(windows["probability"] >= 0)
    png = (out / "summary.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    # Nothing half-written is left behind.
    assert not list(out.rglob("*.tmp"))


def test_detect_without_events_still_writes_its_files(fits_dir, weights, tmp_path, capsys):
    out = tmp_path / "none"
    assert main(["detect", str(fits_dir), "-o", str(out), "--weights", str(weights), "--threshold", "1",
                 "--device", "cpu", "--no-progress", "--stride", "2"]) == 0
    assert "no jet events found" in capsys.readouterr().out
    assert len(JetEvents.read(out / "events.json")) == 0
    assert (out / "summary.png").exists()
    assert len(QTable.read(out / "windows.ecsv")) == 4 * 9


def test_detect_errors_are_one_line_with_status_2(weights, tmp_path, capsys):
    assert main(["detect", str(tmp_path / "missing_*.fits"), "-o", str(tmp_path / "x"), "--weights", str(weights),
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sunpy-jets detect: error:") and "no files match" in err
    assert not (tmp_path / "x").exists()
    not_a_dir = tmp_path / "file.txt"
    not_a_dir.write_text("x")
    assert main(["detect", "a.fits", "-o", str(not_a_dir), "--weights", str(weights)]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_detect_requires_an_output_directory():
    with pytest.raises(SystemExit):
        build_parser().parse_args(["detect", "a.fits"])
    args = build_parser().parse_args(["detect", "a.fits", "b.fits", "-o", "out", "--stride", "3", "--method", "crop"])
    assert args.command == "detect" and args.stride == 3 and args.method == "crop"
    assert args.progress is None  # the package-wide switch decides (SUNPY_JETS_PROGRESS); --no-progress is False


# ----------------------------------------------------------------------------------------------------
# Issue 20, 2 and 11: one consistent output set, output locations checked before the scan


def _detect(fits_dir, weights, out, threshold):
    return main(["detect", str(fits_dir), "-o", str(out), "--weights", str(weights), "--threshold", str(threshold),
                 "--device", "cpu", "--no-progress"])


def _assert_consistent_set(out):
    """Every file of the folder is listed in its manifest with its size and SHA-256, and nothing else is there."""
    manifest = json.loads((out / "manifest.json").read_text())["files"]
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - {"manifest.json"}
    assert on_disk == set(manifest)
    for name, entry in manifest.items():
        data = (out / name).read_bytes()
        assert len(data) == entry["size"] and hashlib.sha256(data).hexdigest() == entry["sha256"]
    events = JetEvents.read(out / "events.json")
    assert len(list((out / "voevents").glob("*.xml"))) == len(events)
    return events


def test_rerun_replaces_the_whole_set(fits_dir, weights, tmp_path, capsys):
    out = tmp_path / "results"
    assert _detect(fits_dir, weights, out, 1e-6) == 0
    assert len(_assert_consistent_set(out)) >= 1
    # A rerun that finds nothing leaves no XML of the last run beside its empty events.json.
    assert _detect(fits_dir, weights, out, 1) == 0
    assert len(_assert_consistent_set(out)) == 0
    assert not list((out / "voevents").glob("*.xml"))
    assert [p.name for p in tmp_path.iterdir()] == ["results"]  # no staging or old folder left


_KILLED_WRITING_EVENTS = """
import os, signal, sys
real_replace = os.replace
def replace(src, dst, *args, **kwargs):
    if str(dst).endswith("events.json"):
        with open(src, "r+b") as f:
            f.truncate(os.path.getsize(src) // 2)
        os.kill(os.getpid(), signal.SIGKILL)
    return real_replace(src, dst, *args, **kwargs)
os.replace = replace
from sunpy_jets.cli import main
main({argv!r})
"""


def test_detect_killed_while_writing_keeps_the_last_complete_set(fits_dir, weights, tmp_path):
    out = tmp_path / "results"
    assert _detect(fits_dir, weights, out, 1) == 0
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    argv = ["detect", str(fits_dir), "-o", str(out), "--weights", str(weights), "--threshold", "1e-6",
            "--device", "cpu", "--no-progress"]
    proc = subprocess.run([sys.executable, "-c", _KILLED_WRITING_EVENTS.format(argv=argv)], capture_output=True,
                          timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    # The reader sees the previous run's set, whole and unmixed; the killed run's files are in a hidden folder.
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    _assert_consistent_set(out)
    assert any(p.name.startswith(".results.new-") for p in tmp_path.iterdir())
    # The next run clears what the killed one left.
    assert _detect(fits_dir, weights, out, 1e-6) == 0
    assert len(_assert_consistent_set(out)) >= 1
    assert [p.name for p in tmp_path.iterdir()] == ["results"]
    assert not list(out.rglob("*.tmp"))


def test_a_switch_cut_between_its_renames_is_completed(tmp_path):
    from sunpy_jets._atomic import atomic_directory, recover_directory

    out = tmp_path / "results"
    with atomic_directory(out) as staging:
        (staging / "a.txt").write_text("old")
    with atomic_directory(out) as staging:
        (staging / "a.txt").write_text("new")
        new = staging
    # Rebuild the state after the first rename (old set moved aside, new one complete but not in place).
    old = tmp_path / new.name.replace(".new-", ".old-")
    out.rename(old)
    shutil.copytree(out if out.exists() else old, new)
    (new / "a.txt").write_text("new")
    recover_directory(out)
    assert (out / "a.txt").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["results"]


def test_folder_of_other_files_is_never_replaced(fits_dir, weights, tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    assert _detect(fits_dir, weights, mine, 1) == 2
    assert "did not write" in capsys.readouterr().err
    assert [p.name for p in mine.iterdir()] == ["thesis.tex"]


@pytest.mark.parametrize("where", ["under a file", "existing file", "read-only folder", "name too long"])
def test_bad_output_location_is_refused_before_the_scan(where, fits_dir, weights, tmp_path, capsys, monkeypatch):
    from sunpy_jets import JetClassifier as Classifier

    if where == "read-only folder" and os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    target = {"under a file": tmp_path / "file.txt" / "out", "existing file": tmp_path / "file.txt",
              "read-only folder": tmp_path / "ro" / "out", "name too long": tmp_path / ("x" * 300)}[where]
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "ro").mkdir(mode=0o500)
    monkeypatch.setattr(Classifier, "scan", lambda *a, **k: pytest.fail("scanned before checking --output"))
    assert _detect(fits_dir, weights, target, 0.5) == 2
    err = capsys.readouterr().err
    assert err.startswith("sunpy-jets detect: error: --output") and err.count("\n") == 1


def test_several_globs_and_folders_are_one_sequence(fits_dir, weights, tmp_path, capsys):
    files = sorted(fits_dir.glob("*.fits"))
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    for i, f in enumerate(files):
        shutil.copy(f, (first if i < len(files) // 2 else second) / f.name)
    assert main(["detect", str(first / "*.fits"), str(second), "-o", str(tmp_path / "out"), "--weights", str(weights),
                 "--device", "cpu", "--no-progress", "--model-card"]) == 0
    assert "Model card: sunpy_jets\n  input: AIA 304" in capsys.readouterr().out  # issue 19, 16
    windows = QTable.read(tmp_path / "out" / "windows.ecsv")
    assert len(windows) == (12 - CONFIG.n_frames + 1) * 9  # all twelve frames, from both arguments


def test_closed_output_pipe_ends_quietly(fits_dir, weights, tmp_path):
    """``sunpy-jets detect ... | head -c 0``: no BrokenPipeError traceback (issue 20, 13)."""
    read, write = os.pipe()
    os.close(read)
    argv = ["detect", str(fits_dir), "-o", str(tmp_path / "out"), "--weights", str(weights), "--device", "cpu",
            "--no-progress"]
    script = f"import sys; from sunpy_jets.cli import main; sys.exit(main({argv!r}))"
    proc = subprocess.run([sys.executable, "-c", script], stdout=write, stderr=subprocess.PIPE, timeout=300)
    os.close(write)
    assert proc.returncode == 141, proc.stderr.decode()
    assert b"Traceback" not in proc.stderr and b"BrokenPipe" not in proc.stderr


@pytest.mark.filterwarnings("ignore::sunpy_jets.exceptions.InputWarning")  # 36 s, 222″-wide real files
def test_detect_searches_fido_and_downloads_once(files_server, weights, tmp_path, capsys):
    """Issue 19, item 15: ``--search START END`` searches Fido, downloads (a cache) and scans, in one command."""
    downloads = tmp_path / "downloads"
    argv = ["detect", "--search", "2012-07-19T07:30", "2012-07-19T07:45", "--download-dir", str(downloads),
            "--center", "908", "-252", "--width", "300", "--weights", str(weights), "--no-progress"]
    assert main([*argv, "-o", str(tmp_path / "first")]) == 0
    fetched = sorted(p.name for p in downloads.glob("*.fits"))
    assert len(fetched) == len(files_server.downloads) == 25  # the files of 07:30-07:45 (one is at 07:45:07)
    windows = QTable.read(tmp_path / "first" / "windows.ecsv")
    assert len(windows) > 0 and u.isclose(windows.meta["center_tx"], 908 * u.arcsec, atol=1 * u.arcsec)
    assert main([*argv, "-o", str(tmp_path / "second")]) == 0
    assert len(files_server.downloads) == 25  # the second run found every file in the download folder


@pytest.mark.parametrize(("extra", "message"), [
    (["a.fits", "--search", "2012-07-19T07:30", "2012-07-19T07:45"], "not both"),
    ([], "or --search START END"),
    (["--search", "2012-07-19T07:45", "2012-07-19T07:30"], "must be after the start"),
    (["--search", "yesterday", "2012-07-19T07:30"], "needs two times"),
    (["a.fits", "--width", "200"], "--width needs --center"),
])
def test_detect_search_options_are_checked(extra, message, weights, tmp_path, capsys):
    assert main(["detect", *extra, "-o", str(tmp_path / "out"), "--weights", str(weights)]) == 2
    assert message in capsys.readouterr().err
