import json
import pickle
import warnings

import numpy as np
import pytest
import torch

import astropy.units as u
from astropy.time import Time
from astropy.wcs import WCS

import sunpy.map
from ndcube import NDCube, NDCubeSequence

from sunpy_jets import JetClassifier
from sunpy_jets.model import resolve_device
from sunpy_jets.exceptions import InputError, InputTypeError, InputWarning, WeightsError
from sunpy_jets.model import JetModelConfig
from sunpy_jets.model import CARD_NAME

from conftest import make_aia_sequence

SMALL = JetModelConfig(image_size=64, fov_arcsec=64 * 1.8, n_frames=8, channels=(8, 16, 16), hidden_size=16)


@pytest.fixture(scope="module")
def clf():
    return JetClassifier(seed=0, device="cpu", progress=False)


@pytest.fixture(scope="module")
def real_maps(aia304_files):
    return sunpy.map.Map(aia304_files, sequence=True)


def _ndcube_from_maps(maps):
    """A 3-D NDCube (time, y, x) with a TIME axis in its WCS, as an ndcube user would build it."""
    times = Time([m.date for m in maps])
    w2 = maps[0].wcs
    w3 = WCS(naxis=3)
    w3.wcs.ctype = [*w2.wcs.ctype, "TIME"]
    w3.wcs.cunit = [*w2.wcs.cunit, "s"]
    w3.wcs.crpix = [*w2.wcs.crpix, 1]
    w3.wcs.crval = [*w2.wcs.crval, 0]
    w3.wcs.cdelt = [*w2.wcs.cdelt, np.median(np.diff((times - times[0]).to_value(u.s)))]
    pc = np.eye(3)
    pc[:2, :2] = w2.wcs.get_pc()
    w3.wcs.pc = pc
    w3.wcs.mjdref = [times[0].mjd, 0]
    w3.wcs.timesys = "UTC"
    w3.wcs.dateobs = times[0].isot
    for key in ("hgln_obs", "hglt_obs", "dsun_obs", "rsun_ref"):
        setattr(w3.wcs.aux, key, getattr(w2.wcs.aux, key))
    data = np.stack([m.data for m in maps])
    return NDCube(data, wcs=w3, meta=dict(maps[0].meta), unit=maps[0].unit)


def _ndcube_sequence_from_maps(maps):
    cubes = []
    for m in maps:
        cube = NDCube(m.data, wcs=m.wcs, meta=dict(m.meta), unit=m.unit)
        cube.global_coords.add("time", "time", m.date)
        cubes.append(cube)
    return NDCubeSequence(cubes)


def _proba(clf, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)  # padding and 36 s -> 24 s resampling
        return clf.predict_proba(data)


def test_real_sequence_in_every_form_gives_the_same_probability(clf, real_maps, aia304_files):
    p_seq = _proba(clf, real_maps)
    assert isinstance(p_seq, float)
    assert 0.0 <= p_seq <= 1.0
    assert _proba(clf, aia304_files) == pytest.approx(p_seq, abs=1e-7)
    assert _proba(clf, str(aia304_files[0].parent / "*.304.image.fits")) == pytest.approx(p_seq, abs=1e-7)
    assert _proba(clf, _ndcube_sequence_from_maps(real_maps.maps)) == pytest.approx(p_seq, abs=1e-7)
    # The cube's linear TIME axis rounds the real (jittered) frame times by milliseconds.
    assert _proba(clf, _ndcube_from_maps(real_maps.maps)) == pytest.approx(p_seq, abs=1e-4)


def test_long_sequence_warns_and_takes_the_best_window(clf, real_maps):
    with pytest.warns(InputWarning) as record:
        clf.predict_proba(real_maps)
    assert any("highest probability of its windows" in str(w.message) for w in record)


def test_list_of_sequences_gives_an_array_independent_of_batching():
    clf = JetClassifier(SMALL, seed=1, device="cpu", batch_size=2, progress=False)
    sequences = [make_aia_sequence(n_frames=8, shape=(192, 192), seed=s, blob=(96, 90, 400.0 * s)) for s in range(5)]
    together = clf.predict_proba(sequences)
    assert together.shape == (5,)
    singles = np.array([clf.predict_proba(s) for s in sequences])
    np.testing.assert_allclose(together, singles, rtol=1e-5, atol=1e-7)
    clf.threshold = float(np.median(together))
    assert clf.predict(sequences).tolist() == (together >= clf.threshold).tolist()
    assert isinstance(clf.predict(sequences[0]), bool)


def test_bfloat16_precision_moves_probabilities_little_and_is_one_setting(tmp_path):
    clf = JetClassifier(SMALL, seed=1, device="cpu", progress=False)
    sequences = [make_aia_sequence(n_frames=8, shape=(192, 192), seed=s, blob=(96, 90, 400.0 * s)) for s in range(4)]
    full = clf.predict_proba(sequences)
    clf.save(tmp_path / "model")
    half = JetClassifier.load(tmp_path / "model", device="cpu", progress=False, precision=torch.bfloat16)
    assert half.precision == "bfloat16" and "precision='bfloat16'" in repr(half)
    low = half.predict_proba(sequences)
    # autocast ran (bfloat16 keeps 8 bits of mantissa), and moved the probabilities by little
    assert not np.array_equal(low, full)
    np.testing.assert_allclose(low, full, atol=0.02)
    # scan runs at the classifier's precision too: its one window is predict_proba's, to bfloat16's rounding
    # (its LSTM takes the frames' input projections, computed once per frame)
    low_scan = half.scan(sequences[1], progress=False)["probability"]
    assert len(low_scan) == 1 and low_scan[0] == pytest.approx(low[1], abs=2e-3)
    half.precision = "float32"
    np.testing.assert_allclose(half.predict_proba(sequences), full, rtol=1e-6)
    assert half.scan(sequences[1], progress=False)["probability"][0] == pytest.approx(full[1], abs=1e-6)
    assert not np.array_equal(low_scan, [full[1]])


def test_save_and_load_give_identical_outputs(tmp_path):
    clf = JetClassifier(SMALL, threshold=0.3, seed=2, device="cpu", progress=False)
    seq = make_aia_sequence(n_frames=8, shape=(192, 192), blob=(50, 60, 800.0))
    before = clf.predict_proba(seq)
    clf.save(tmp_path / "model")
    card = json.loads((tmp_path / "model" / CARD_NAME).read_text())
    assert card["threshold"] == 0.3
    assert card["config"]["image_size"] == 64
    assert len(card["sha256"]) == 64
    loaded = JetClassifier.load(tmp_path / "model", device="cpu", progress=False)
    assert loaded.threshold == 0.3
    assert loaded.config == SMALL
    assert loaded.predict_proba(seq) == before
    for name, tensor in clf.model.state_dict().items():
        torch.testing.assert_close(loaded.model.state_dict()[name], tensor, rtol=0, atol=0)


def test_resaving_replaces_weights_atomically(tmp_path):
    a = JetClassifier(SMALL, seed=3, device="cpu")
    b = JetClassifier(SMALL, seed=4, device="cpu")
    a.save(tmp_path)
    b.save(tmp_path)
    assert len(list(tmp_path.glob("weights-*.safetensors"))) == 1
    loaded = JetClassifier.load(tmp_path, device="cpu")
    torch.testing.assert_close(loaded.model.state_dict(), b.model.state_dict())


def test_weights_that_do_not_match_their_config_are_refused(tmp_path):
    JetClassifier(SMALL, seed=0, device="cpu").save(tmp_path)
    card_path = tmp_path / CARD_NAME
    card = json.loads(card_path.read_text())
    card["config"]["hidden_size"] = 32
    card_path.write_text(json.dumps(card))
    with pytest.raises(WeightsError, match="do not match their configuration"):
        JetClassifier.load(tmp_path)


def test_corrupted_weights_fail_the_checksum(tmp_path):
    JetClassifier(SMALL, seed=0, device="cpu").save(tmp_path)
    weights = next(tmp_path.glob("weights-*.safetensors"))
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="SHA-256"):
        JetClassifier.load(tmp_path)
    with pytest.raises(WeightsError, match="expected checksum|SHA-256"):
        JetClassifier.load(tmp_path, expected_sha256="0" * 64)


class _Exploit:
    def __reduce__(self):
        return (exec, ("import pathlib; pathlib.Path(__import__('os').environ['PWNED']).write_text('ran')",))


def test_pickled_files_are_refused_without_running_them(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    monkeypatch.setenv("PWNED", str(marker))
    planted = tmp_path / "model.pt"
    planted.write_bytes(pickle.dumps(_Exploit()))
    with pytest.raises(WeightsError, match="never unpickles"):
        JetClassifier.load(planted)
    # A pickle hidden behind a model card is refused too.
    JetClassifier(SMALL, seed=0, device="cpu").save(tmp_path / "m")
    weights = next((tmp_path / "m").glob("weights-*.safetensors"))
    weights.write_bytes(pickle.dumps(_Exploit()))
    with pytest.raises(WeightsError):
        JetClassifier.load(tmp_path / "m")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"threshold": 1.5}, InputError, "threshold"),
        ({"threshold": "high"}, InputTypeError, "threshold"),
        ({"batch_size": 0}, InputError, "batch_size"),
        ({"device": "abacus"}, InputError, "unknown device"),
        ({"precision": "half"}, InputError, "precision must be one of"),
        ({"device": "cpu", "precision": "float16"}, InputError, "needs a GPU"),
        ({"config": {"image_size": 64}}, InputTypeError, "JetModelConfig"),
    ],
)
def test_bad_settings_are_refused(kwargs, error, match):
    with pytest.raises(error, match=match):
        JetClassifier(**kwargs)


def test_auto_device_falls_back_to_cpu_without_accelerators():
    device = resolve_device("auto")
    if not torch.cuda.is_available():
        assert device.type in {"cpu", "mps"}
    else:
        assert device.type == "cuda"


def test_bad_input_raises_before_model_work(clf, eit_files):
    with pytest.raises(InputError, match="EIT"):
        clf.predict_proba(eit_files)
    with pytest.raises(InputTypeError, match="bare 2-D array"):
        clf.predict_proba(np.ones((166, 166)))
    with pytest.raises(InputError, match="no frames"):
        clf.predict_proba([])


@pytest.mark.parametrize("head_size", [8, 16, 32])
def test_any_safetensors_header_length_loads(tmp_path, head_size):
    """Header lengths whose low byte looks like a pickle opcode (0x80) must not be mistaken for pickles."""
    config = JetModelConfig(image_size=32, channels=(4, 8), hidden_size=8, head_size=head_size)
    clf = JetClassifier(config, seed=0, device="cpu")
    clf.save(tmp_path)
    loaded = JetClassifier.load(tmp_path, device="cpu")
    torch.testing.assert_close(loaded.model.state_dict(), clf.model.state_dict())


def test_saved_files_follow_the_umask_not_private_temp_modes(tmp_path):
    """Atomic writes go through mkstemp (mode 0600); the saved model must be readable like any file the user writes."""
    import os

    mask = os.umask(0o022)
    os.umask(mask)
    JetClassifier(SMALL, seed=0, device="cpu").save(tmp_path)
    expected = 0o666 & ~mask
    for path in tmp_path.iterdir():
        assert path.stat().st_mode & 0o777 == expected, path.name


def test_print_gives_a_short_model_card_summary(capsys):
    """Issue 19, 16: print(clf) and str(clf.card) are a few lines, not the 21 kB card."""

    clf = JetClassifier.from_pretrained(device="cpu")
    text = str(clf.card)
    assert text.startswith("Model card: ") and len(text) < 1000 and text.count("\n") < 12
    assert f"threshold: {clf.threshold:.3g}" in text and "input: AIA 304" in text
    assert str(clf).startswith("JetClassifier(") and text in str(clf)
    assert repr(clf.card).startswith("ModelCard(")  # everything stays in the repr and to_dict
