"""
Safe files: nothing the package reads can run code, every weights file is checked before use, and
every text the package writes parses back unchanged.
"""

import ast
import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.time import Time

import sunpy_jets
from sunpy_jets import JetClassifier
from sunpy_jets.datasets.cache import read_cache_index, read_cached_sequence, write_cached_sequence
from sunpy_jets.events import JetEvents
from sunpy_jets.datasets import JetSequenceDataset
from sunpy_jets.exceptions import FileFormatError, HEKFormatError, InputError, InputWarning, TrainingError, WeightsError
from sunpy_jets.model import JetModelConfig
from sunpy_jets.training import TrainingRecipe, load_checkpoint
from sunpy_jets.training.checkpoint import CHECKPOINT_NAME
from sunpy_jets.events import read_voevent, write_voevent

CONFIG = JetModelConfig(image_size=32, channels=(4, 8), hidden_size=8, n_frames=6, fov_arcsec=57.6)
PACKAGE = Path(sunpy_jets.__file__).parent
NASTY = 'a<b & "c" \'d\' > é ü 日本 ]]> </Who> <!-- x -->'


class _Exploit:
    """Unpickling this object creates ``marker``: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


# ----------------------------------------------------------------------------------------------------
# Every load call in the package is a safe one


def _calls(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
            yield owner, name, {k.arg: k.value for k in node.keywords}, node


def test_no_unsafe_deserialisation_in_the_package():
    sources = sorted(PACKAGE.rglob("*.py"))
    assert len(sources) > 20
    checked = {"torch.load": 0, "np.load": 0}
    for path in sources:
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) else [])
                assert not {"pickle", "cPickle", "dill", "joblib", "shelve", "marshal"} & set(names), (path, names)
        for owner, name, keywords, node in _calls(tree):
            where = f"{path.relative_to(PACKAGE)}:{node.lineno}"
            if owner == "torch" and name == "load":
                value = keywords.get("weights_only")
                assert isinstance(value, ast.Constant) and value.value is True, f"{where}: torch.load without weights_only=True"
                checked["torch.load"] += 1
            if owner in ("np", "numpy") and name == "load":
                value = keywords.get("allow_pickle")
                assert isinstance(value, ast.Constant) and value.value is False, f"{where}: np.load without allow_pickle=False"
                checked["np.load"] += 1
            assert not (owner in ("pickle", "dill", "joblib") and name in ("load", "loads")), where
            bare = isinstance(node.func, ast.Name)
            assert not (bare and name in ("eval", "exec", "__import__")), f"{where}: {name}()"
    # The checkpoint reader and the cache readers exist, so the check above saw them.
    assert checked["torch.load"] >= 1 and checked["np.load"] >= 1, checked


# ----------------------------------------------------------------------------------------------------
# Planted pickles do not run


def test_planted_pickle_checkpoint_is_refused_and_does_not_run(tmp_path):
    marker = tmp_path / "pwned"
    # What a hostile "checkpoint" would be: torch.save of an object whose unpickling runs code.
    torch.save({"format": "sunpy_jets-checkpoint", "payload": _Exploit(marker)}, tmp_path / CHECKPOINT_NAME)
    with pytest.raises(TrainingError, match="cannot read the checkpoint"):
        load_checkpoint(tmp_path)
    assert not marker.exists()
    # fit resumes from checkpoint_dir: the same refusal, before any training.
    from sunpy_jets.datasets import TensorJetDataset

    data = TensorJetDataset(torch.randn(4, 6, 32, 32), [0, 1, 0, 1])
    clf = JetClassifier(CONFIG, device="cpu", seed=0, progress=False)
    before = {k: v.clone() for k, v in clf.model.state_dict().items()}
    with pytest.raises(TrainingError, match="delete it to start afresh"):
        clf.fit(data, data, recipe=TrainingRecipe(epochs=1, batch_size=2), checkpoint_dir=tmp_path, progress=False)
    assert not marker.exists()
    assert all(torch.equal(before[k], v) for k, v in clf.model.state_dict().items())


def test_planted_pickle_as_raw_pickle_checkpoint(tmp_path):
    marker = tmp_path / "pwned"
    (tmp_path / CHECKPOINT_NAME).write_bytes(pickle.dumps(_Exploit(marker)))
    with pytest.raises(TrainingError):
        load_checkpoint(tmp_path)
    assert not marker.exists()


def _cache_entry(tmp_path):
    t = Time("2012-07-19T07:30:00") + np.arange(6) * 24 * u.s
    center = SkyCoord(600 * u.arcsec, -200 * u.arcsec, frame="helioprojective", observer="earth", obstime=t[0])
    write_cached_sequence(tmp_path, "sjh_1", np.ones((6, 32, 32), np.float32), target=1, group="g", times=t,
                          center=center, config=CONFIG)  # fmt: skip
    npz = next(tmp_path.rglob("*.npz"))
    sidecar = next(tmp_path.rglob("*.json"))
    return npz, sidecar


@pytest.mark.parametrize("checksum", ["stale", "updated"])
def test_planted_object_array_in_the_cache_is_refused_and_does_not_run(tmp_path, checksum):
    npz, sidecar = _cache_entry(tmp_path)
    marker = tmp_path / "pwned"
    frames = np.empty(6, dtype=object)
    frames[:] = [_Exploit(marker)] * 6
    with open(npz, "wb") as f:
        np.savez(f, frames=frames)  # an object array is stored as a pickle
    if checksum == "updated":
        # A careful attacker also fixes the sidecar's checksum and shape: the pickle must still not load.
        import hashlib

        meta = json.loads(sidecar.read_text())
        meta["sha256"] = hashlib.sha256(npz.read_bytes()).hexdigest()
        meta["shape"] = [6, 32, 32]
        # ... and the sidecar's own checksum, which is public (canonical JSON of the other fields).
        fields = {k: v for k, v in meta.items() if k != "sidecar_sha256"}
        meta["sidecar_sha256"] = hashlib.sha256(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
        sidecar.write_text(json.dumps(meta))
    with pytest.raises(FileFormatError):
        read_cached_sequence(tmp_path, "sjh_1", config=CONFIG)
    assert not marker.exists()
    if checksum == "stale":
        # The index leaves the entry out instead of serving it.
        with pytest.warns(InputWarning, match="does not match its recorded checksum"):
            assert len(read_cache_index(tmp_path, config=CONFIG)) == 0
    else:
        # Listed (its checksum matches), but loading it for training refuses the pickle.
        dataset = JetSequenceDataset(tmp_path, config=CONFIG)
        with pytest.raises(FileFormatError, match="cannot be read as a cached sequence"):
            dataset[0]
    assert not marker.exists()


# ----------------------------------------------------------------------------------------------------
# Weights are checked against their card before use


@pytest.fixture
def saved(tmp_path):
    clf = JetClassifier(CONFIG, device="cpu", seed=0, progress=False)
    clf.save(tmp_path)
    card = json.loads((tmp_path / "config.json").read_text())
    return tmp_path, card


def test_weights_checked_against_their_card_config(saved):
    directory, card = saved
    card["config"]["hidden_size"] = 16  # the card now describes another network
    (directory / "config.json").write_text(json.dumps(card))
    with pytest.raises(WeightsError, match="do not match their configuration"):
        JetClassifier.load(directory)


def test_weights_checked_against_an_expected_checksum(saved):
    directory, card = saved
    with pytest.raises(WeightsError, match="expected checksum"):
        JetClassifier.load(directory, expected_sha256="0" * 64)
    assert JetClassifier.load(directory, expected_sha256=card["sha256"].upper()).card.sha256 == card["sha256"]


def test_pickle_disguised_as_safetensors_with_matching_card_is_refused(saved):
    """A card whose checksum matches a pickle (someone re-wrote both) still never unpickles it."""
    directory, card = saved
    marker = directory / "pwned"
    weights = directory / card["weights_file"]
    weights.write_bytes(pickle.dumps(_Exploit(marker)))
    import hashlib

    card["sha256"] = hashlib.sha256(weights.read_bytes()).hexdigest()
    (directory / "config.json").write_text(json.dumps(card))
    with pytest.raises(WeightsError, match="pickle"):
        JetClassifier.load(directory)
    assert not marker.exists()


def test_weights_file_outside_the_model_directory_is_refused(saved, tmp_path_factory):
    directory, card = saved
    card["weights_file"] = "../elsewhere.safetensors"
    (directory / "config.json").write_text(json.dumps(card))
    with pytest.raises(WeightsError, match="missing"):
        JetClassifier.load(directory)


# ----------------------------------------------------------------------------------------------------
# Text written by the package parses back unchanged

# Every free-text field of a HEK record (structured fields, such as times and units, are checked elsewhere).
FREE_TEXT = ["event_description", "frm_name", "frm_institute", "frm_identifier", "frm_paramset", "frm_contact",
             "frm_url", "obs_observatory", "obs_instrument", "obs_channelid"]  # fmt: skip


def _events(meta=None):
    start = Time(["2011-01-20T09:00:00.5", "2011-01-20T11:00:00"])
    return JetEvents.from_columns(start=start, end=start + 12 * u.min, probability=[0.93, 0.61],
                                  tx=[-245.25, 10] * u.arcsec, ty=[-1003, 20] * u.arcsec, width=300 * u.arcsec,
                                  meta=meta)  # fmt: skip


def test_every_free_text_field_of_to_hek_is_covered():
    record = _events().to_hek()[0]
    strings = {k for k, v in record.items() if isinstance(v, str)}
    structured = {"event_type", "event_starttime", "event_endtime", "event_peaktime", "event_coordsys",
                  "event_coordunit", "event_testflag", "frm_humanflag", "frm_daterun", "obs_wavelunit",
                  "kb_archivdate", "kb_archivid", "kb_archivist", "kb_archivurl"}  # fmt: skip
    assert strings - structured == set(FREE_TEXT)


@pytest.mark.parametrize("field", FREE_TEXT)
def test_voevent_escapes_every_free_text_field(field, tmp_path):
    record = _events().to_hek()[0]
    record[field] = NASTY
    path = write_voevent(record, tmp_path)
    back = read_voevent(path)
    assert back[field] == NASTY
    for name in FREE_TEXT:
        if name != field:
            assert back[name] == record[name], name


def test_json_events_round_trip_nasty_text(tmp_path):
    meta = {"event_description": NASTY, "frm_institute": NASTY, "frm_contact": NASTY, "note": NASTY,
            NASTY: "a key with markup"}  # fmt: skip
    events = _events(meta)
    events.table["comment"] = [NASTY, NASTY[::-1]]
    path = events.write(tmp_path / "events.json")
    json.loads(path.read_text(encoding="utf-8"))  # valid JSON
    again = JetEvents.read(path)
    assert list(again["comment"]) == [NASTY, NASTY[::-1]]
    for key, value in meta.items():
        assert again.meta[key] == value
    record = again.to_hek()[0]
    assert record["event_description"] == NASTY and record["frm_institute"] == NASTY


@pytest.mark.parametrize("entity", ["external", "expansion"])
def test_voevent_reader_expands_no_entities(entity, tmp_path):
    """Hostile XML (XXE reading a local file, nested entity expansion) is neither resolved nor expanded."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    record = _events().to_hek()[0]
    record["event_description"] = "PLACEHOLDER"
    text = write_voevent(record, tmp_path / "out").read_text(encoding="utf-8")
    if entity == "external":
        doctype = f'<!DOCTYPE voe:VOEvent [<!ENTITY x SYSTEM "file://{secret}">]>'
    else:
        doctype = ('<!DOCTYPE voe:VOEvent [<!ENTITY a "TOP-SECRETTOP-SECRET">'
                   + "".join(f'<!ENTITY {c} "&{p};&{p};&{p};&{p};&{p};&{p};&{p};&{p};">'
                             for p, c in zip("abcdefg", "bcdefgh")) + "]>")  # fmt: skip
    name = "x" if entity == "external" else "h"
    head, rest = text.split("?>", 1) if text.startswith("<?xml") else ("", text)
    hostile = (head + "?>" if head else "") + doctype + rest.replace("PLACEHOLDER", f"&{name};")
    path = tmp_path / "hostile.xml"
    path.write_text(hostile, encoding="utf-8")
    try:
        back = read_voevent(path)
    except (HEKFormatError, FileFormatError):
        return  # refusing the file is as good as not expanding it
    assert "TOP-SECRET" not in json.dumps(back, default=str)


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [("weights_file", None, "weights_file must be a str"), ("weights_file", 5, "weights_file must be a str"),
     ("sha256", 5, "sha256 must be a str"), ("metrics", [1], "metrics must be a dict"),
     ("threshold", "0.5", "threshold must be a number"), ("config", None, "configuration is invalid"),
     ("evil", 1, "unknown fields")],
)  # fmt: skip
def test_edited_model_card_is_refused(saved, field, value, match):
    directory, card = saved
    card[field] = value
    (directory / "config.json").write_text(json.dumps(card))
    with pytest.raises(WeightsError, match=match):
        JetClassifier.load(directory)


def test_json_events_with_missing_numbers_and_unwritable_values(tmp_path):
    """HEK records that lack a number in some records (NaN in the table) are written as null and read back."""
    record = {"event_type": "CJ", "event_starttime": "2011-01-20T09:00:09", "event_endtime": "2011-01-20T09:59:33",
              "event_coordsys": "UTC-HPC-TOPO", "event_coordunit": "arcsec", "event_coord1": -245.0,
              "event_coord2": -1003.0, "boundbox_c1ll": -335.0, "boundbox_c2ll": -1119.0, "boundbox_c1ur": -155.0,
              "boundbox_c2ur": -887.0}  # fmt: skip
    events = JetEvents.from_hek([record, {**record, "obs_meanwavel": 304.0, "obs_wavelunit": "angstrom"}])
    path = events.write(tmp_path / "events.json")
    assert json.loads(path.read_text())["result"][0]["obs_meanwavel"] is None
    again = JetEvents.read(path)
    assert np.isnan(again["obs_meanwavel"][0].value) and again["obs_meanwavel"][1] == 304 * u.AA
    # Values JSON cannot hold are refused before anything is written.
    with pytest.raises(InputError, match="cannot be written as JSON"):
        _events({"threshold": float("nan")}).write(tmp_path / "nan.json")
    with pytest.raises(InputError, match="is a folder; give a file name"):
        events.write(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.json"]


@pytest.mark.parametrize(
    "state",
    [{"format": "sunpy_jets-checkpoint", "version": 1, "meta": "{}"},
     {"format": "sunpy_jets-checkpoint", "version": 1, "meta": "{"},
     {"format": "sunpy_jets-checkpoint", "version": "1", "meta": "{}"}],
    ids=["meta without fields", "meta not JSON", "version is text"],
)  # fmt: skip
def test_edited_checkpoint_is_refused_with_training_error(state, tmp_path):
    torch.save(state, tmp_path / CHECKPOINT_NAME)
    from sunpy_jets.datasets import TensorJetDataset

    data = TensorJetDataset(torch.randn(4, 6, 32, 32), [0, 1, 0, 1])
    clf = JetClassifier(CONFIG, device="cpu", seed=0, progress=False)
    with pytest.raises(TrainingError, match="checkpoint"):
        clf.fit(data, data, recipe=TrainingRecipe(epochs=1, batch_size=2), checkpoint_dir=tmp_path, progress=False)


# Issue 20, 5: the card's configuration and threshold are covered by a checksum; a card without one is refused.


@pytest.mark.parametrize(("field", "value"), [
    ("n_frames", 20), ("cadence_s", 12.0), ("fov_arcsec", 200.0), ("mean", 0.0), ("std", 1e3), ("clip_max", 10.0),
])  # fmt: skip
def test_edited_preprocessing_in_the_card_is_refused(saved, field, value):
    directory, card = saved
    card["config"][field] = value
    (directory / "config.json").write_text(json.dumps(card))
    with pytest.raises(WeightsError, match="was edited after it was saved"):
        JetClassifier.load(directory)


def test_edited_threshold_in_the_card_is_refused(saved):
    directory, card = saved
    card["threshold"] = 0.01
    (directory / "config.json").write_text(json.dumps(card))
    with pytest.raises(WeightsError, match="edited after it was saved"):
        JetClassifier.load(directory)


def test_reformatted_card_still_loads(saved):
    directory, card = saved
    (directory / "config.json").write_text(json.dumps(card, indent=7, sort_keys=True))
    assert JetClassifier.load(directory).card.card_sha256 == card["card_sha256"]


@pytest.mark.parametrize("field", ["sha256", "card_sha256"])
@pytest.mark.parametrize("how", ["empty", "missing"])
def test_card_without_checksum_is_refused_unless_opted_out(saved, field, how):
    directory, card = saved
    weights = directory / card["weights_file"]
    data = bytearray(weights.read_bytes())
    if field == "sha256":
        data[-1] ^= 0xFF  # with no checksum, a flipped byte would load
        weights.write_bytes(bytes(data))
    # Without the weights' checksum the card's own cannot hold either: a hand-written card lacks both.
    for name in ([field, "card_sha256"] if field == "sha256" else [field]):
        if how == "empty":
            card[name] = ""
        else:
            del card[name]
    (directory / "config.json").write_text(json.dumps(card))
    with pytest.raises(WeightsError, match=f"has no {field}.*unverified_card=True"):
        JetClassifier.load(directory)
    clf = JetClassifier.load(directory, unverified_card=True)  # the documented opt-out
    assert clf.config == CONFIG


def test_bundled_card_is_sealed():
    clf = JetClassifier.from_pretrained(device="cpu")
    assert len(clf.card.card_sha256) == 64 and len(clf.card.sha256) == 64
