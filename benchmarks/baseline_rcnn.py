"""
The published CS-433 (2023) jet RCNN, restated from its description as a benchmark-only reference.

This is not part of sunpy_jets: it exists so the benchmark suite can measure sunpy_jets against the
model users would otherwise pick up, in the same run, on the same inputs and machine.

The 30 frames of a window are stacked as the input channels of a VGG-style CNN (30×166×166):
Conv3×3+BatchNorm+ReLU blocks 30→64, 64→64, max-pool 2; 64→128, 128→128, pool; 128→256, 256→256,
pool; 256→512, 512→512, pool; the last 512→512 block applied twice more with shared weights, pool
→ 512×5×5 = 12,800 features; an LSTM (12,800 → 256) on that flat vector; Linear 256→128, ReLU,
Dropout 0.5, Linear 128→32, ReLU, Dropout 0.5, Linear 32→1. About 18.1 M parameters (13.4 M in the
LSTM) and about 12.8 GFLOP per 30-frame window.

Examples
--------
>>> import torch
>>> from baseline_rcnn import BaselineRCNN
>>> model = BaselineRCNN().eval()
>>> round(model.n_parameters / 1e6, 1), round(model.lstm_parameters / 1e6, 1)
(18.1, 13.4)
>>> model(torch.zeros(2, 30, 166, 166)).shape
torch.Size([2])
"""

import torch
from torch import nn

__all__ = ["BaselineRCNN", "count_flops"]


def _block(c_in, c_out):
    return nn.Sequential(nn.Conv2d(c_in, c_out, kernel_size=3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class BaselineRCNN(nn.Module):
    """
    The published RCNN: input ``(B, n_frames, 166, 166)`` (frames as channels), output ``(B,)`` logits.

    Parameters
    ----------
    n_frames : int
        Frames stacked as input channels (30 in the published recipe).
    image_size : int
        Side of the input frames (166 in the published recipe; the flattened size follows it).
    """

    def __init__(self, n_frames: int = 30, image_size: int = 166):
        super().__init__()
        self.n_frames = n_frames
        self.features = nn.Sequential(
            _block(n_frames, 64), _block(64, 64), nn.MaxPool2d(2),
            _block(64, 128), _block(128, 128), nn.MaxPool2d(2),
            _block(128, 256), _block(256, 256), nn.MaxPool2d(2),
            _block(256, 512), _block(512, 512), nn.MaxPool2d(2),
        )  # fmt: skip
        # The published network reuses its last 512→512 block twice more (same weights) before the last pool.
        self.shared = self.features[10]
        self.pool = nn.MaxPool2d(2)
        side = image_size
        for _ in range(5):
            side //= 2
        self.flat_features = 512 * side * side  # 12,800 for 166×166
        self.lstm = nn.LSTM(self.flat_features, 256)
        self.head = nn.Sequential(
            nn.Linear(256, 128), nn.ReLU(inplace=True), nn.Dropout(0.5),
            nn.Linear(128, 32), nn.ReLU(inplace=True), nn.Dropout(0.5),
            nn.Linear(32, 1),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B,)`` for windows ``(B, n_frames, H, W)``."""
        x = self.features(x)
        x = self.pool(self.shared(self.shared(x)))
        x = torch.flatten(x, 1)
        # As published: the LSTM gets the 2-D (B, 12800) tensor, which PyTorch reads as one *unbatched*
        # sequence of length B. The batch therefore becomes the time axis and each sample's output
        # depends on the samples before it in the batch (a batch-mixing bug). Kept for a faithful cost.
        x, _ = self.lstm(x)
        return self.head(x).squeeze(-1)

    @property
    def n_parameters(self) -> int:
        """Number of trainable parameters (shared weights counted once)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    @property
    def lstm_parameters(self) -> int:
        """Number of parameters of the LSTM."""
        return sum(p.numel() for p in self.lstm.parameters())


def _lstm_flops(lstm: nn.LSTM, steps: int, batch: int) -> int:
    # FlopCounterMode does not see inside CPU LSTM kernels: count the gate matmuls by hand
    # (4 gates × (input + hidden) × hidden multiply-adds per step and layer).
    total = 0
    in_size = lstm.input_size
    for _ in range(lstm.num_layers):
        total += 2 * steps * batch * 4 * lstm.hidden_size * (in_size + lstm.hidden_size)
        in_size = lstm.hidden_size
    return total


def count_flops(module: nn.Module, *args, lstm_steps: int = 0, lstm_batch: int = 1, **kwargs) -> int:
    """
    Floating-point operations (2 per multiply-add) of one forward call of ``module(*args)``.

    Convolutions and linear layers are counted by `torch.utils.flop_counter.FlopCounterMode`; the
    LSTMs of ``module``, whose CPU kernel the counter cannot see, are added by hand for
    ``lstm_steps`` steps over a batch of ``lstm_batch``.

    Examples
    --------
    >>> import torch
    >>> from baseline_rcnn import BaselineRCNN, count_flops
    >>> model = BaselineRCNN().eval()
    >>> flops = count_flops(model, torch.zeros(1, 30, 166, 166), lstm_steps=1)
    >>> round(flops / 1e9, 1)
    12.8
    """
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        module(*args, **kwargs)
    counted = counter.get_total_flops()
    # If a future torch counts the LSTM itself, do not count it twice.
    lstm_counted = sum(v for k, v in counter.get_flop_counts().get("Global", {}).items() if "lstm" in str(k))
    if lstm_steps and not lstm_counted:
        counted += sum(_lstm_flops(m, lstm_steps, lstm_batch) for m in module.modules() if isinstance(m, nn.LSTM))
    return int(counted)
