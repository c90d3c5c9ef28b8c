import hashlib
import json
import warnings

import numpy as np
import pytest
import torch

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.time import Time

from sunpy.coordinates import Helioprojective

from sunpy_jets.datasets import (
    PREPROCESSING_FIELDS,
    build_cache,
    config_hash,
    read_cache_index,
    read_cached_sequence,
    write_cached_sequence,
)
from sunpy_jets.exceptions import FileFormatError, InputError, InputWarning
from sunpy_jets.model import JetModelConfig

from conftest import make_aia_sequence

CONFIG = JetModelConfig(n_frames=4, image_size=32, fov_arcsec=20, channels=(4, 8))


def _entry(folder, label_id="sjh_a", value=1.0, target=1, group="SOL_A", config=CONFIG, dtype="float32"):
    times = Time("2011-01-20T09:15:44") + np.arange(config.n_frames) * config.cadence
    center = SkyCoord(10 * u.arcsec, -20 * u.arcsec, frame=Helioprojective(observer="earth", obstime=times[0]))
    frames = np.full((config.n_frames, config.image_size, config.image_size), value, dtype=np.float32)
    frames[0, 0, 0] = -value
    return write_cached_sequence(folder, label_id, frames, target=target, group=group, times=times, center=center,
                                 config=config, dtype=dtype)  # fmt: skip


def test_round_trip(tmp_path):
    path = _entry(tmp_path)
    assert path.name == "sjh_a.npz" and (tmp_path / "sjh_a.json").is_file()
    frames, meta = read_cached_sequence(tmp_path, "sjh_a", config=CONFIG)
    assert frames.dtype == np.float32 and frames.shape == (4, 32, 32)
    assert frames[0, 0, 0] == -1 and frames[1, 3, 3] == 1
    assert meta["target"] == 1 and meta["group"] == "SOL_A" and meta["label"] == "jet"
    assert len(meta["times"]) == 4 and meta["times"][1] == "2011-01-20T09:16:08.000"
    assert meta["center"]["Tx"] == pytest.approx(10)
    assert meta["config_hash"] == config_hash(CONFIG)
    # no tmp files left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sjh_a.json", "sjh_a.npz"]
    # the archive holds no pickled objects
    with np.load(path, allow_pickle=False) as archive:
        assert archive.files == ["frames"]


def test_float16_and_tensor_input(tmp_path):
    times = Time("2011-01-20T09:15:44") + [0, 24] * u.s
    center = SkyCoord(0 * u.arcsec, 0 * u.arcsec, frame=Helioprojective(observer="earth", obstime=times[0]))
    write_cached_sequence(tmp_path, "x:1", torch.ones(2, 1, 8, 8), target=0, group="g", times=times, center=center,
                          dtype="float16")  # fmt: skip
    frames, meta = read_cached_sequence(tmp_path, "x:1")
    assert meta["dtype"] == "float16" and frames.dtype == np.float32 and frames.shape == (2, 8, 8)
    assert (tmp_path / "x_1.npz").is_file()


def test_config_mismatch_is_detected(tmp_path):
    _entry(tmp_path)
    other = CONFIG.replace(mean=CONFIG.mean + 1)
    with pytest.raises(InputError, match="other preprocessing constants"):
        read_cached_sequence(tmp_path, "sjh_a", config=other)
    # an architecture change does not invalidate the cache
    read_cached_sequence(tmp_path, "sjh_a", config=CONFIG.replace(hidden_size=7))
    with pytest.warns(InputWarning, match="1 cache entry"):
        index = read_cache_index(tmp_path, config=other)
    assert len(index) == 0 and "other preprocessing" in index.meta["problems"][0][1]


def test_corrupt_and_partial_entries_are_never_served(tmp_path):
    _entry(tmp_path, "good")
    _entry(tmp_path, "flipped")
    _entry(tmp_path, "truncated")
    _entry(tmp_path, "badjson")
    raw = bytearray((tmp_path / "flipped.npz").read_bytes())
    raw[-200] ^= 0xFF  # one flipped byte inside the array data
    (tmp_path / "flipped.npz").write_bytes(bytes(raw))
    (tmp_path / "truncated.npz").write_bytes((tmp_path / "truncated.npz").read_bytes()[:100])
    (tmp_path / "badjson.json").write_text("{")
    _entry(tmp_path, "orphan")
    (tmp_path / "orphan.json").unlink()  # an unfinished write: array without sidecar
    for name, match in (("flipped", "checksum"), ("truncated", "checksum"), ("badjson", "unreadable"),
                        ("orphan", "no cache entry")):  # fmt: skip
        with pytest.raises(FileFormatError, match=match):
            read_cached_sequence(tmp_path, name)
    with pytest.warns(InputWarning, match="4 cache entries"):
        index = read_cache_index(tmp_path, config=CONFIG)
    assert list(index["label_id"]) == ["good"]
    assert {p[0] for p in index.meta["problems"]} == {"flipped.json", "truncated.json", "badjson.json", "orphan.npz"}


def test_write_validates(tmp_path):
    times = Time("2011-01-20T09:15:44") + [0, 24] * u.s
    center = SkyCoord(0 * u.arcsec, 0 * u.arcsec, frame=Helioprojective(observer="earth", obstime=times[0]))
    kwargs = {"target": 1, "group": "g", "times": times, "center": center}
    with pytest.raises(InputError, match="NaN"):
        write_cached_sequence(tmp_path, "a", np.full((2, 4, 4), np.nan), **kwargs)
    with pytest.raises(InputError, match="shape"):
        write_cached_sequence(tmp_path, "a", np.zeros((4, 4)), **kwargs)
    with pytest.raises(InputError, match="one time per frame"):
        write_cached_sequence(tmp_path, "a", np.zeros((3, 4, 4)), **kwargs)
    with pytest.raises(InputError, match="target"):
        write_cached_sequence(tmp_path, "a", np.zeros((2, 4, 4)), **{**kwargs, "target": 2})
    with pytest.raises(InputError, match="cannot name"):
        write_cached_sequence(tmp_path, "..", np.zeros((2, 4, 4)), **kwargs)
    assert not list(tmp_path.iterdir())
    with pytest.raises(InputError, match="does not exist"):
        read_cache_index(tmp_path / "nope")


def test_build_cache_from_map_sequences(tmp_path):
    config = JetModelConfig(n_frames=4, image_size=32, fov_arcsec=20, channels=(4, 8))
    jet = make_aia_sequence(n_frames=4, shape=(48, 48), blob=(24, 24, 500.0), seed=1)
    quiet = make_aia_sequence(n_frames=4, shape=(48, 48), seed=2)
    center = SkyCoord(600 * u.arcsec, -200 * u.arcsec, frame=jet[0].coordinate_frame)
    items = [
        {"label_id": "jet1", "data": jet, "target": 1, "group": "E1", "center": center},
        {"label_id": "quiet1", "data": quiet, "target": 0, "group": "E2", "center": center},
        {"label_id": "lost", "data": None, "target": 1, "group": "E3"},
    ]
    with pytest.warns(InputWarning, match="1 of 3 sequences were not cached"):
        report = build_cache(items, tmp_path, config=config, progress=False)
    assert list(report["status"]) == ["built", "built", "missing"]
    index = read_cache_index(tmp_path, config=config)
    assert list(index["label_id"]) == ["jet1", "quiet1"]
    assert list(index["target"]) == [1, 0]
    frames, meta = read_cached_sequence(tmp_path, "jet1", config=config)
    assert frames.shape == (4, 32, 32) and np.isfinite(frames).all()
    assert meta["times"][0].startswith("2012-07-19T07:30:00")
    # the bright growing blob makes the jet sequence brighter than the quiet one at the end
    quiet_frames, _ = read_cached_sequence(tmp_path, "quiet1")
    assert frames[-1].max() > quiet_frames[-1].max()
    # a second build reuses valid entries and rebuilds a corrupted one
    (tmp_path / "quiet1.npz").write_bytes(b"broken")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = build_cache(items[:2], tmp_path, config=config, progress=False)
    assert list(report["status"]) == ["cached", "built"]
    read_cached_sequence(tmp_path, "quiet1", config=config)


def test_build_cache_reports_failures_and_needs_download_dir(tmp_path):
    from astropy.table import QTable

    items = [{"label_id": "bad", "data": [], "target": 1, "group": "E"}]
    with pytest.warns(InputWarning, match="1 of 1"):
        report = build_cache(items, tmp_path, config=CONFIG, progress=False)
    assert report["status"][0] == "failed" and "Error" in report["message"][0]
    with pytest.raises(InputError, match="download_dir"):
        build_cache(QTable({"label_id": ["a"]}), tmp_path)


def test_sidecar_is_documented_json(tmp_path):
    _entry(tmp_path)
    meta = json.loads((tmp_path / "sjh_a.json").read_text())
    assert meta["format"] == "sunpy_jets.sequence" and meta["version"] == 2
    # Version 2: the sidecar's own fields are covered by a checksum (issue 20, 7).
    fields = {k: v for k, v in meta.items() if k != "sidecar_sha256"}
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    assert meta["sidecar_sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert set(meta["config"]) == set(PREPROCESSING_FIELDS)
    assert {"n_frames", "image_size", "cadence_s", "fov_arcsec", "clip_max", "mean", "std"} <= set(meta["config"])
    assert "hidden_size" not in meta["config"]


def test_build_cache_from_manifest_and_downloaded_fits(tmp_path):
    import io

    from sunpy_jets.datasets import build_manifest, completed_files, read_nonjet_positions

    config = JetModelConfig(n_frames=4, image_size=32, fov_arcsec=20, channels=(4, 8))
    text = "date,basepoint_X,basepoint_Y\n2012-07-19T07:30:00,600,-200\n2012-07-19T07:30:00,0,0\n"
    manifest = build_manifest(None, read_nonjet_positions(io.StringIO(text)), config=config)
    # what download() leaves behind: FITS files plus complete.json, for the first label only
    folder = tmp_path / "downloads" / manifest["label_id"][0]
    folder.mkdir(parents=True)
    files = []
    for i, m in enumerate(make_aia_sequence(n_frames=4, shape=(48, 48))):
        m.save(folder / f"frame{i}.fits")
        files.append({"name": f"frame{i}.fits", "size": (folder / f"frame{i}.fits").stat().st_size})
    (folder / "complete.json").write_text(json.dumps({"label_id": manifest["label_id"][0], "files": files}))
    assert len(completed_files(tmp_path / "downloads", manifest["label_id"][0])) == 4
    with pytest.warns(InputWarning, match="1 of 2"):
        report = build_cache(manifest, tmp_path / "cache", config=config, download_dir=tmp_path / "downloads",
                             progress=False)  # fmt: skip
    assert list(report["status"]) == ["built", "missing"]
    frames, meta = read_cached_sequence(tmp_path / "cache", manifest["label_id"][0], config=config)
    assert frames.shape == (4, 32, 32)
    assert meta["label"] == "non-jet" and meta["target"] == 0 and meta["group"] == "nonjet(600,-200)"
    assert meta["center"]["Tx"] == pytest.approx(600, abs=0.5)
