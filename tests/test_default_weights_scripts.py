"""Tests of the helpers of ``scripts/train_default_weights.py`` and ``scripts/evaluate_default_weights.py``."""

import sys
from pathlib import Path

import pytest
import torch

from sunpy_jets import JetClassifier
from sunpy_jets.model import JetModelConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from evaluate_default_weights import _architecture  # noqa: E402
from train_default_weights import sequence_spec, with_difference_encoder  # noqa: E402

TINY = JetModelConfig(image_size=32, channels=(4, 8), hidden_size=8, n_frames=6)


def test_adding_a_difference_encoder_keeps_the_trained_weights():
    trained = JetClassifier(TINY, threshold=0.3, device="cpu", seed=1)
    expanded = with_difference_encoder(trained, (2, 4), seed=2)
    assert expanded.config == TINY.replace(difference_channels=(2, 4))
    assert expanded.threshold == 0.3
    old, new = trained.model.state_dict(), expanded.model.state_dict()
    n = trained.model.encoder.out_features
    for name, value in old.items():
        kept = new[name][:, :n] if name == "lstm.weight_ih_l0" else new[name]
        torch.testing.assert_close(kept, value, msg=name)
    # The new features start with a small say: the expanded model begins close to the trained one.
    added = new["lstm.weight_ih_l0"][:, n:]
    # A tenth of PyTorch's LSTM initialisation, uniform in ±1/sqrt(hidden_size).
    assert 0 < added.abs().max() <= 0.1 / TINY.hidden_size**0.5 + 1e-7
    x = torch.randn(3, 6, 1, 32, 32)
    with torch.inference_mode():
        before, after = torch.sigmoid(trained.model.eval()(x)), torch.sigmoid(expanded.model.eval()(x))
    assert (after - before).abs().max() < 0.05


def test_the_card_names_the_architecture():
    assert _architecture(JetModelConfig()).startswith("``JetModelConfig()`` (CNN per frame + LSTM; 216,529 parameters")
    text = _architecture(JetModelConfig(difference_channels=(8, 16, 24, 32, 48)))
    assert "difference_channels=(8, 16, 24, 32, 48)" in text and "frame difference" in text


@pytest.mark.parametrize("i", [0, 1, 2, 3])
def test_splits_alternate_jets_and_non_jets(i):
    spec = sequence_spec(3_000_000, i, distractors=False)
    assert spec["seed"] == 3_000_000 + i
    assert spec["kind"] == ("jet" if i % 2 == 0 else "negative")
    assert spec["n_distractors"] == 0
