"""
Sliding windows over per-frame features: how scans classify every window of a long sequence cheaply.

A frame's features (and, for a single-layer LSTM, its projection into the LSTM's gates) are the same in
every window that holds it, so they are computed once per frame and windows are views of them. This is
the scanning side of `~sunpy_jets.model.JetRCNN`, which itself only encodes frames and classifies
windows of features (``encode_frames``, ``classify_features``, ``forward``). Used by the scanner, by
``JetClassifier.predict_proba`` on sequences longer than a window, and by the benchmarks.
"""

import torch

from ..exceptions import InputError

__all__ = ["input_gates", "window_gates", "window_inputs", "classify_windows", "classify_gates", "window_logits",
           "encode_in_chunks"]


def input_gates(model, features: torch.Tensor) -> torch.Tensor:
    """
    The LSTM's input projection of per-frame features ``(..., F)`` into gate pre-activations ``(..., 4H)``.

    A frame's projection is the same in every window that contains it (but the first), so scans
    compute it once per frame (`window_gates`) and pass windows of it to `classify_gates`
    (single-layer LSTMs only).

    Examples
    --------
    >>> import torch
    >>> from sunpy_jets.model import JetModelConfig, JetRCNN
    >>> from sunpy_jets.scanning._windows import input_gates
    >>> model = JetRCNN(JetModelConfig(image_size=32, channels=(8, 16), hidden_size=8)).eval()
    >>> input_gates(model, torch.zeros(5, 32)).shape
    torch.Size([5, 32])
    """
    if model.config.lstm_layers != 1:
        raise InputError("input_gates needs a single-layer LSTM; use classify_features")
    lstm = model.lstm
    return torch.nn.functional.linear(features, lstm.weight_ih_l0, lstm.bias_ih_l0 + lstm.bias_hh_l0)

def window_gates(model, features: torch.Tensor, length: int, stride: int) -> torch.Tensor:
    """
    LSTM input gates of every sliding window over per-frame features ``(T, ..., F)``.

    Returns ``(n_windows, ..., length, 4H)`` for `classify_gates`; window ``i`` starts at frame
    ``i * stride``, and its first frame's gates are those of `window_start`.

    Examples
    --------
    >>> import torch
    >>> from sunpy_jets.model import JetModelConfig, JetRCNN
    >>> from sunpy_jets.scanning._windows import classify_gates, input_gates, window_gates
    >>> model = JetRCNN(JetModelConfig(image_size=32, channels=(8, 16), difference_channels=(4, 8),
    ...                                hidden_size=8)).eval()
    >>> features = torch.randn(10, 48)
    >>> gates = window_gates(model, features, length=4, stride=3)
    >>> gates.shape
    torch.Size([3, 4, 32])
    >>> torch.allclose(classify_gates(model, gates)[1], model.classify_features(features[3:7][None])[0], atol=1e-6)
    True
    """
    gates = input_gates(model, features)
    # unfold gives (n_windows, ..., 4H, length) views; permute puts time before the gates.
    windows = gates.unfold(0, length, stride)
    windows = windows.permute(*range(windows.ndim - 2), -1, -2)
    if model.difference_encoder is None:
        return windows
    starts = features[: (len(windows) - 1) * stride + 1 : stride]
    first = input_gates(model, model.window_start(starts))
    return torch.cat([first.unsqueeze(-2), windows[..., 1:, :]], dim=-2)

def window_inputs(model, features: torch.Tensor, length: int, stride: int) -> torch.Tensor:
    """
    Every sliding window over per-frame features ``(T, ..., F)``, ready for `classify_windows`.

    Single-layer LSTMs get `window_gates` (each frame projected once); deeper ones get the
    windows of features, ``(n_windows, ..., length, F)``.

    Examples
    --------
    >>> import torch
    >>> from sunpy_jets.model import JetModelConfig, JetRCNN
    >>> from sunpy_jets.scanning._windows import window_gates, window_inputs
    >>> model = JetRCNN(JetModelConfig(image_size=32, channels=(8, 16), hidden_size=8, lstm_layers=2)).eval()
    >>> window_inputs(model, torch.randn(10, 32), length=4, stride=3).shape
    torch.Size([3, 4, 32])
    """
    if model.config.lstm_layers == 1:
        return window_gates(model, features, length, stride)
    return features.unfold(0, length, stride).transpose(-1, -2)

def classify_windows(model, windows: torch.Tensor) -> torch.Tensor:
    """
    Logits ``(B,)`` of windows ``(B, T, ...)`` from `window_inputs`.

    Examples
    --------
    >>> import torch
    >>> from sunpy_jets.model import JetModelConfig, JetRCNN
    >>> from sunpy_jets.scanning._windows import classify_gates, classify_windows, window_inputs
    >>> model = JetRCNN(JetModelConfig(image_size=32, channels=(8, 16), hidden_size=8)).eval()
    >>> classify_windows(model, window_inputs(model, torch.randn(10, 32), length=4, stride=3)).shape
    torch.Size([3])
    """
    return classify_gates(model, windows) if model.config.lstm_layers == 1 else model.classify_features(windows)

def classify_gates(model, gates: torch.Tensor) -> torch.Tensor:
    """
    Logits ``(B,)`` from precomputed input gates ``(B, T, 4H)`` of windows (see `window_gates`).

    Equal, up to floating-point rounding, to `classify_features` on the features the gates came from.

    Examples
    --------
    >>> import torch
    >>> from sunpy_jets.model import JetModelConfig, JetRCNN
    >>> from sunpy_jets.scanning._windows import classify_gates, input_gates
    >>> model = JetRCNN(JetModelConfig(image_size=32, channels=(8, 16), hidden_size=8)).eval()
    >>> features = torch.randn(3, 6, 32)
    >>> torch.allclose(classify_gates(model, input_gates(model, features)), model.classify_features(features), atol=1e-6)
    True
    """
    w_hh = model.lstm.weight_hh_l0
    batch, steps = gates.shape[:2]
    h = gates.new_zeros(batch, model.config.hidden_size)
    c = torch.zeros_like(h)
    for t in range(steps):
        # PyTorch's gate order: input, forget, cell, output.
        i, f, g, o = (gates[:, t] + h @ w_hh.T).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
    return model.head(h).squeeze(-1)

def window_logits(model, features: torch.Tensor, window: int, stride: int = 1) -> torch.Tensor:
    """
    Logits of every sliding window over one sequence's frame features.

    Parameters
    ----------
    features : `torch.Tensor`
        Per-frame features ``(T, F)`` of one sequence, e.g. from `encode_frames`.
    window : int
        Frames per window; windows shorter than this at the end are not produced
        (a sequence shorter than ``window`` gives one window over all its frames).
    stride : int
        Frames between the starts of consecutive windows.

    Returns
    -------
    `torch.Tensor`
        Logits ``(n_windows,)``; window ``i`` starts at frame ``i * stride``.

    Examples
    --------
    >>> import torch
    >>> from sunpy_jets.model import JetModelConfig, JetRCNN
    >>> from sunpy_jets.scanning._windows import classify_windows, window_inputs, window_logits
    >>> model = JetRCNN(JetModelConfig(image_size=32, channels=(8, 16))).eval()
    >>> window_logits(model, torch.zeros(10, 32), window=4, stride=2).shape
    torch.Size([4])
    """
    if features.ndim != 2:
        raise InputError(f"features must be (T, F), got shape {tuple(features.shape)}")
    if window < 1 or stride < 1:
        raise InputError("window and stride must be at least 1")
    n = features.shape[0]
    if n <= window:
        return model.classify_features(features[None])
    return classify_windows(model, window_inputs(model, features, window, stride))


def encode_in_chunks(model, frames, *, chunk, device, previous=None):
    """
    Features ``(T, F)`` of one sequence's frames ``(T, 1, H, W)``, encoded ``chunk`` frames at a time.

    ``previous`` is the frame before the first (for models that read frame differences); each chunk
    gets the last frame of the chunk before it, so the result does not depend on ``chunk``.
    """
    parts = []
    for start in range(0, len(frames), chunk):
        before = frames[start - 1].to(device) if start else previous
        parts.append(model.encode_frames(frames[start : start + chunk].to(device), previous=before))
    return torch.cat(parts)
