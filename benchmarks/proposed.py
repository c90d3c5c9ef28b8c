"""
Proposed inference speed-ups for `sunpy_jets.model.JetRCNN`, measured by the suite before they land.

The profiler (``torch.profiler``, see ``benchmarks/README.rst``) shows where the default encoder's
time goes on a CPU when it gets a few hundred frames at once:

* the first two convolutions (1→16 at 166², 16→32 at 83²) and their batch norms are memory-bound:
  a batch of 240 frames makes 100+ MB activations that stream through RAM at every layer, so the
  encoder runs at a few GFLOP/s; in chunks of about 16 frames the activations stay in cache and
  the same work runs 3–4× faster;
* in evaluation, batch normalisation is a separate pass over every activation; folding it into the
  convolution's weights (exact up to float rounding) removes that pass;
* channels-last tensors save oneDNN a layout reorder before and after every convolution.

`FastEncoder` applies the three to a trained model without changing its weights' meaning (the
outputs agree with the model's to ~1e-6), so accuracy is unchanged. It is the reference for the
diff proposed to ``sunpy_jets/model.py`` (see the report in ``docs/performance.rst``).
"""

import copy

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from sunpy_jets.scanning._windows import window_logits

__all__ = ["FastEncoder", "ChunkedModel", "fused_encoder", "CHUNK"]

#: Frames per encoder call on a CPU; small enough that a chunk's activations stay in cache.
CHUNK = 16


def fused_encoder(features: nn.Sequential) -> nn.Sequential:
    """A copy of a Conv2d/BatchNorm2d/ReLU stack with each batch norm folded into its convolution."""
    layers, out, i = list(features), [], 0
    while i < len(layers):
        if isinstance(layers[i], nn.Conv2d) and i + 1 < len(layers) and isinstance(layers[i + 1], nn.BatchNorm2d):
            out.append(fuse_conv_bn_eval(copy.deepcopy(layers[i]).eval(), copy.deepcopy(layers[i + 1]).eval()))
            i += 2
        else:
            out.append(copy.deepcopy(layers[i]))
            i += 1
    return nn.Sequential(*out).eval()


class FastEncoder:
    """
    Inference-only fast path of a `~sunpy_jets.model.JetRCNN`: fused, channels-last, chunked encoder.

    Parameters
    ----------
    model : `~sunpy_jets.model.JetRCNN`
        A model in evaluation mode (its weights are copied, not changed).
    chunk : int
        Frames per encoder call on a CPU (on a GPU all frames go at once).
    """

    def __init__(self, model, *, chunk: int = CHUNK):
        if getattr(model, "difference_encoder", None) is not None:
            # Its features would lack the difference part the LSTM expects.
            raise ValueError("FastEncoder fuses the appearance encoder only; give it a model without difference_channels")
        self.model = model.eval()
        device = next(model.parameters()).device
        self.features = fused_encoder(model.encoder.features).to(device, memory_format=torch.channels_last)
        self.pool = model.encoder.pool
        self.chunk = chunk if device.type == "cpu" else 1 << 30

    @torch.inference_mode()
    def encode_frames(self, frames: torch.Tensor) -> torch.Tensor:
        """Features ``(N, F)`` of frames ``(N, 1, H, W)``, as `JetRCNN.encode_frames` gives them."""
        parts = []
        for start in range(0, len(frames), self.chunk):
            x = frames[start : start + self.chunk].contiguous(memory_format=torch.channels_last)
            parts.append(self.pool(self.features(x)))
        return torch.cat(parts)

    @torch.inference_mode()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B,)`` of sequences ``(B, T, 1, H, W)``, as `JetRCNN.forward` gives them."""
        b, t = x.shape[:2]
        features = self.encode_frames(x.reshape(b * t, *x.shape[2:]))
        return self.model.classify_features(features.reshape(b, t, -1))

    @torch.inference_mode()
    def window_logits(self, features: torch.Tensor, window: int, stride: int = 1) -> torch.Tensor:
        """Logits of every sliding window over frame features ``(T, F)`` (see `sunpy_jets.scanning._windows.window_logits`)."""
        return window_logits(self.model, features, window, stride)


class ChunkedModel:
    """
    The smallest proposed change alone: `JetRCNN` with its encoder fed ``chunk`` frames at a time.

    Same modules and weights, no fusion, no layout change: this is the one-line diff proposed to
    ``JetRCNN.encode_frames``.
    """

    def __init__(self, model, *, chunk: int = CHUNK):
        self.model = model.eval()
        self.chunk = chunk

    def encode_frames(self, frames: torch.Tensor) -> torch.Tensor:
        """Features ``(N, F)`` of frames ``(N, 1, H, W)``, ``chunk`` frames per encoder call."""
        return torch.cat([self.model.encoder(frames[i : i + self.chunk]) for i in range(0, len(frames), self.chunk)])

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B,)`` of sequences ``(B, T, 1, H, W)``."""
        b, t = x.shape[:2]
        return self.model.classify_features(self.encode_frames(x.reshape(b * t, *x.shape[2:])).reshape(b, t, -1))

    def window_logits(self, features: torch.Tensor, window: int, stride: int = 1) -> torch.Tensor:
        """Logits of every sliding window over frame features ``(T, F)``."""
        return window_logits(self.model, features, window, stride)
