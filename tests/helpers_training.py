"""Tiny generated data and model settings for the training tests (importable from a subprocess too)."""

import numpy as np
import torch

from sunpy_jets.datasets import TensorJetDataset
from sunpy_jets.model import JetModelConfig

TINY = JetModelConfig(image_size=32, channels=(4, 8), hidden_size=8, head_size=16, n_frames=6, dropout=0.1)


def blob_sequences(n, *, seed=0, n_frames=6, size=32):
    """
    ``n`` sequences ``(n, T, size, size)`` and labels: half jets (a bright streak growing outward from a
    random base, frame by frame, over noise), half non-jets (noise with a static bright blob at the base).
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    x = rng.normal(0.0, 0.3, (n, n_frames, size, size)).astype(np.float32)
    labels = np.arange(n) % 2
    for i in range(n):
        y0, x0 = rng.uniform(size * 0.3, size * 0.7, 2)
        angle = rng.uniform(0, 2 * np.pi)
        for t in range(n_frames):
            # A jet adds one blob further out along its axis each frame; a non-jet keeps its one blob.
            for k in range(t + 1 if labels[i] else 1):
                cy, cx = y0 + 2.0 * k * np.sin(angle), x0 + 2.0 * k * np.cos(angle)
                x[i, t] += 2.0 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * 1.5**2))
    return torch.from_numpy(x), labels


def blob_datasets(n_train=32, n_val=16, seed=0):
    """Training (augmented) and validation datasets of `blob_sequences`."""
    x, y = blob_sequences(n_train + n_val, seed=seed)
    train = TensorJetDataset(x[:n_train], y[:n_train], augment=True, seed=seed)
    val = TensorJetDataset(x[n_train:], y[n_train:])
    return train, val
