"""Tests of ``sunpy-jets detect`` on generated FITS files, offline."""

import json

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
    assert args.command == "detect" and args.stride == 3 and args.method == "crop" and args.progress
