"""
Run by ``torchrun`` in tests/test_ddp.py: train a tiny classifier for one epoch with DistributedDataParallel.

Usage: ``torchrun --nproc_per_node N tests/helpers_ddp.py OUTPUT_DIR``. Rank 0 saves the classifier into
``OUTPUT_DIR/model`` and the checkpoint into ``OUTPUT_DIR/checkpoint``; then, in the same processes (torch is
slow to import), ``sunpy-jets train --synthetic`` trains into ``OUTPUT_DIR/cli`` (`CLI_ARGS`).
"""

import sys
from pathlib import Path

import torch

from sunpy_jets import JetClassifier
from sunpy_jets.datasets import TensorJetDataset
from sunpy_jets.model import JetModelConfig
from sunpy_jets.training import TrainingRecipe, fit
from sunpy_jets.training.ddp import cleanup_distributed, setup_distributed

CONFIG = JetModelConfig(image_size=32, channels=(4, 8), hidden_size=8, n_frames=6, fov_arcsec=57.6, dropout=0.0)
CLI_ARGS = ["train", "--synthetic", "--n-train", "4", "--n-val", "2", "--image-size", "32", "--n-frames", "4",
            "--channels", "4", "8", "--hidden-size", "8", "--epochs", "1", "--batch-size", "2", "--no-progress"]
RECIPE = TrainingRecipe(epochs=1, batch_size=4, lr=1e-2, augment=True, seed=3, scheduler="none")


def data():
    """16 training and 8 validation sequences (the training set a multiple of the batch size: no short step)."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(24, CONFIG.n_frames, 32, 32, generator=g)
    y = torch.arange(24) % 2
    x[y == 1, CONFIG.n_frames // 2 :] += 1.0  # something to learn
    return TensorJetDataset(x[:16], y[:16]), TensorJetDataset(x[16:], y[16:])


def train(output, context):
    torch.manual_seed(0)
    clf = JetClassifier(CONFIG, device=context.device, seed=0, progress=False)
    train_set, val_set = data()
    fit(clf, train_set, val_set, recipe=RECIPE, checkpoint_dir=Path(output) / "checkpoint", distributed=context)
    if context.is_main:
        clf.save(Path(output) / "model")
    return clf


if __name__ == "__main__":
    from sunpy_jets.cli import main

    ctx = setup_distributed()
    try:
        train(sys.argv[1], ctx)
        # The command finds the process group already joined, and leaves it at the end.
        sys.exit(main([*CLI_ARGS, "--output", str(Path(sys.argv[1]) / "cli")]))
    finally:
        cleanup_distributed(ctx)
