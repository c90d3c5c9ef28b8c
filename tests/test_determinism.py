"""
Determinism: with a seed, training on the CPU is repeatable bit for bit, and inference does not depend
on how sequences are batched or whether they are scanned or classified one window at a time.

What holds on GPUs is documented in ``docs/reliability.rst`` (not measured here: the tests run on CPUs).
"""

import warnings

import numpy as np
import pytest
import torch

from sunpy_jets import JetClassifier
from sunpy_jets.datasets import TensorJetDataset
from sunpy_jets.model import JetModelConfig
from sunpy_jets.training import TrainingRecipe, fit

from conftest import make_aia_sequence
from helpers_training import TINY, blob_sequences

CONFIG = JetModelConfig(image_size=32, channels=(4, 8), hidden_size=8, n_frames=6, fov_arcsec=57.6)
RECIPE = TrainingRecipe(epochs=2, lr=1e-2, batch_size=4, patience=None, seed=5)


def _train(*, augment=True):
    x, y = blob_sequences(12, seed=1)
    train = TensorJetDataset(x[:8], y[:8], augment=augment, seed=2)
    val = TensorJetDataset(x[8:], y[8:])
    clf = JetClassifier(TINY, device="cpu", seed=0, progress=False)
    history = fit(clf, train, val, recipe=RECIPE, progress=False)
    return clf, history


def _state(clf):
    return {k: v.detach().clone() for k, v in clf.model.state_dict().items()}


def _records(history):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in history.records]


@pytest.mark.parametrize("augment", [False, True])
def test_training_on_cpu_is_bit_for_bit_repeatable(augment):
    first, h1 = _train(augment=augment)
    # Whatever ran in between (other tests, user code) must not matter: fit seeds everything itself.
    torch.manual_seed(1234)
    np.random.seed(1234)
    torch.rand(1000)
    second, h2 = _train(augment=augment)
    s1, s2 = _state(first), _state(second)
    assert s1.keys() == s2.keys()
    for k in s1:
        assert torch.equal(s1[k], s2[k]), k
    assert _records(h1) == _records(h2)
    assert first.threshold == second.threshold
    # And training did change the weights (a run that does nothing would pass the checks above).
    untrained = _state(JetClassifier(TINY, device="cpu", seed=0, progress=False))
    assert any(not torch.equal(untrained[k], s1[k]) for k in s1)


def test_training_under_deterministic_algorithms_gives_the_same_weights():
    """``torch.use_deterministic_algorithms(True)`` (what GPU users should set) changes nothing on the CPU."""
    reference, _ = _train()
    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        strict, _ = _train()
    finally:
        torch.use_deterministic_algorithms(previous)
    a, b = _state(reference), _state(strict)
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def sequences():
    """Eight sequences of 6 frames (two of 8: they are classified window by window)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seqs = [make_aia_sequence(6, (96, 96), seed=i, blob=(48, 40, 400.0 * (i % 2))).maps for i in range(6)]
        seqs += [make_aia_sequence(8, (96, 96), seed=10 + i, blob=(40, 50, 300.0)).maps for i in range(2)]
    return seqs


def test_inference_does_not_depend_on_batch_size(sequences):
    clf = JetClassifier(CONFIG, device="cpu", seed=0, progress=False)
    prepared = [clf.prepare(s) for s in sequences]
    results = {}
    for batch_size in (1, 3, 8):
        clf.batch_size = batch_size
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the two long sequences warn that they span several windows
            results[batch_size] = clf.predict_proba(prepared)
    assert results[1].shape == (8,)
    np.testing.assert_allclose(results[3], results[1], rtol=0, atol=1e-6)
    np.testing.assert_allclose(results[8], results[1], rtol=0, atol=1e-6)
    # Repeating a call gives exactly the same numbers (eval mode: no dropout).
    np.testing.assert_array_equal(clf.predict_proba(prepared[:6]), clf.predict_proba(prepared[:6]))
    # The sequences do differ, so equal results are not a constant output.
    assert np.ptp(results[1]) > 1e-4


def test_scan_gives_predict_proba_of_each_window():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frames = make_aia_sequence(11, (96, 96), blob=(48, 30, 500.0)).maps
    clf = JetClassifier(CONFIG, device="cpu", seed=0, progress=False)
    table = clf.scan(frames, stride=1)
    n = CONFIG.n_frames
    assert len(table) == len(frames) - n + 1
    for i, row in enumerate(table):
        window = frames[i : i + n]
        assert abs((row["start_time"] - window[0].date).to_value("s")) < 1e-3
        assert abs((row["end_time"] - window[-1].date).to_value("s")) < 1e-3
        assert row["probability"] == pytest.approx(clf.predict_proba(window), abs=1e-5)
    assert np.ptp(np.asarray(table["probability"])) > 1e-5
