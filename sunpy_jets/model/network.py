"""
The jet classification network: a per-frame CNN encoder, an LSTM over time, and a logit head.

Every frame of a sequence goes through the same small convolutional encoder, which turns it into a
feature vector. An LSTM then reads the feature vectors in time order (input ``(B, T, F)``,
``batch_first=True``) and a small head turns its last hidden state into one logit per sequence.
Because the encoder sees one frame at a time, a frame's features can be computed once and reused by
every sliding window that contains it, and a sample's output never depends on the other samples of
its batch (the published CS-433 model fed a 2-D tensor to its LSTM, which then ran across the batch).

With ``difference_channels`` set, a second, smaller encoder reads each frame's change since the
previous frame (``x[t] - x[t-1]``), so that motion (a rising spire, separating flare ribbons) is a
feature of one frame rather than something the LSTM must infer from two. A window sees only its own
frames: its first frame's change features are those of no change, wherever the window starts, so a
scan, a distributed scan and training all classify a window from the same numbers.

With ``smoothing_arcsec`` set, every frame is smoothed by a fixed Gaussian before the encoders, so that
weights cannot tell inputs apart by detail finer than the smoothest inputs they must handle (the Solar Jet
Hunter renders).

The network definition lives here; weights live in files (see `sunpy_jets.model`). The
configuration, `JetModelConfig`, also holds the preprocessing constants the weights were trained with,
so a model always sees its input the way it was trained.

This module depends on nothing else in the package but its exception classes and the private Gaussian
blur (`sunpy_jets._gaussian`) it shares with the training scenes.
"""

import torch
import torch.nn.functional as F
from torch import nn

from .._gaussian import gaussian_blur, gaussian_taps
from ..exceptions import InputError
from .config import JetModelConfig

__all__ = ["FrameEncoder", "JetRCNN", "build_network"]

# Frames per encoder call at CPU inference: a chunk's activations stay in cache. 240 frames in one call ran
# 3-4x slower than chunks of 8-32 on a 2-core CPU (benchmarks/, docs/performance.rst).
_CPU_FRAME_CHUNK = 16


def _space_to_depth_conv(x, weight, bias, padding):
    """
    A stride-2 convolution of one-channel frames as a stride-1 convolution of their 2×2 pixel blocks.

    The same sums (exact to float rounding), but four input channels instead of one: a 3×3 stride-2
    convolution of 166² frames ran in a third of the time on a 2-core CPU (docs/performance.rst). The
    kernel is embedded in an even one and split into the four phases of the blocks.
    """
    out_channels, _, k, _ = weight.shape
    half = -(-k // 2)
    even = weight.new_zeros(out_channels, 1, 2 * half, 2 * half)
    even[:, :, :k, :k] = weight
    phases = even.view(out_channels, half, 2, half, 2).permute(0, 2, 4, 1, 3).reshape(out_channels, 4, half, half)
    h, w = x.shape[-2:]
    out_h, out_w = (h + 2 * padding - k) // 2 + 1, (w + 2 * padding - k) // 2 + 1
    # pad (or crop) so that the blocks cover exactly the rows and columns the strided kernel reads
    x = F.pad(x, (padding, 2 * (out_w + half - 1) - w - padding, padding, 2 * (out_h + half - 1) - h - padding))
    blocks = F.pixel_unshuffle(x, 2).contiguous(memory_format=torch.channels_last)
    return F.conv2d(blocks, phases, bias)


class FrameEncoder(nn.Module):
    """
    The per-frame CNN: strided 3×3 convolution stages, each with batch normalisation and ReLU.

    Each stage halves the resolution, so the encoder is cheap enough to run on every frame of a
    long observation on a CPU. The last feature map is summarised by global average and global max
    pooling (the max keeps small, bright, localised features such as a jet's base).

    Parameters
    ----------
    channels : tuple of int
        Output channels of each stage.

    Examples
    --------
    >>> import torch
    >>> from sunpy_jets.model import FrameEncoder
    >>> encoder = FrameEncoder((8, 16)).eval()
    >>> encoder(torch.zeros(3, 1, 32, 32)).shape
    torch.Size([3, 32])
    """

    def __init__(self, channels):
        super().__init__()
        layers = []
        in_channels = 1
        for out_channels in channels:
            layers += [
                nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(inplace=True),
            ]
            in_channels = out_channels
        self.features = nn.Sequential(*layers)
        self.out_features = 2 * in_channels

    def feature_maps(self, x: torch.Tensor) -> torch.Tensor:
        """
        Return the last stage's feature maps, ``(N, C, h, w)``, for frames ``(N, 1, H, W)``.

        Examples
        --------
        >>> import torch
        >>> from sunpy_jets.model import FrameEncoder
        >>> encoder = FrameEncoder((8, 16)).eval()
        >>> encoder.feature_maps(torch.zeros(3, 1, 32, 32)).shape
        torch.Size([3, 16, 8, 8])
        """
        if self.training or torch.is_grad_enabled():
            return self.features(x)
        # Inference: each batch norm folded into its convolution's weights and bias, which saves a pass over
        # every activation (exact to float rounding; ~10 % faster on a CPU, docs/performance.rst).
        cpu = x.device.type == "cpu"
        for i, (conv, bn, _) in enumerate(self._stages()):
            scale = bn.weight * torch.rsqrt(bn.running_var + bn.eps)
            shift = bn.bias - bn.running_mean * scale
            if conv.bias is not None:
                shift = shift + conv.bias * scale
            weight = conv.weight * scale[:, None, None, None]
            if cpu and i == 0 and x.shape[1] == 1 and conv.stride == (2, 2):
                x = F.relu(_space_to_depth_conv(x, weight, shift, conv.padding[0]), inplace=True)
                continue
            if cpu:
                # oneDNN's strided convolutions on channels-last activations ran twice as fast on a 2-core CPU
                x = x.contiguous(memory_format=torch.channels_last)
            x = F.relu(F.conv2d(x, weight, shift, conv.stride, conv.padding), inplace=True)
        return x

    def _stages(self):
        layers = list(self.features)
        return [layers[i : i + 3] for i in range(0, len(layers), 3)]

    @staticmethod
    def pool(fmap: torch.Tensor) -> torch.Tensor:
        """
        Global average and max pooling of ``(N, C, h, w)`` feature maps into ``(N, 2C)`` vectors.

        Examples
        --------
        >>> import torch
        >>> from sunpy_jets.model import FrameEncoder
        >>> fmap = torch.arange(8.0).reshape(1, 2, 2, 2)
        >>> FrameEncoder.pool(fmap)
        tensor([[1.5000, 5.5000, 3.0000, 7.0000]])
        """
        return torch.cat([fmap.mean(dim=(-2, -1)), fmap.amax(dim=(-2, -1))], dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Encode frames ``(N, 1, H, W)`` into feature vectors ``(N, F)``."""
        # Training keeps whole batches: chunks would change the batch-norm statistics.
        if self.training or x.device.type != "cpu" or len(x) <= _CPU_FRAME_CHUNK:
            return self.pool(self.feature_maps(x))
        return torch.cat([self.pool(self.feature_maps(chunk)) for chunk in x.split(_CPU_FRAME_CHUNK)])


class JetRCNN(nn.Module):
    """
    Recurrent convolutional network giving one jet logit per sequence.

    Parameters
    ----------
    config : `JetModelConfig`, optional
        Architecture; the defaults follow the published recipe.

    Notes
    -----
    Input is ``(B, T, 1, H, W)`` for any ``T ≥ 1``; output is ``(B,)`` logits (apply a sigmoid for
    probabilities). `encode_frames` and `classify_features` split the forward pass so that callers
    scanning long observations encode each frame once; `window_gates` and `classify_gates` also share
    the LSTM's input projection between the windows that hold a frame.

    A frame's features are its appearance features followed, with ``config.difference_channels``, by
    the features of its change since the previous frame (no change for the first frame given).
    `classify_features` and `window_gates` give a window's first frame the features of no change
    (`window_start`), so a window's logit depends on its own frames only.

    Examples
    --------
    >>> import torch
    >>> from sunpy_jets.model import JetModelConfig, JetRCNN
    >>> model = JetRCNN(JetModelConfig(image_size=32, channels=(8, 16), hidden_size=16)).eval()
    >>> model(torch.zeros(2, 5, 1, 32, 32)).shape
    torch.Size([2])
    """

    def __init__(self, config: JetModelConfig | None = None):
        super().__init__()
        self.config = config if config is not None else JetModelConfig()
        c = self.config
        self.encoder = FrameEncoder(c.channels)
        # Registered only when used, so the published architecture keeps its parameter names.
        self.difference_encoder = FrameEncoder(c.difference_channels) if c.difference_channels else None
        # Fixed, not learned, and not saved: the configuration rebuilds it, so weight files keep their keys.
        sigma = c.smoothing_arcsec * c.image_size / c.fov_arcsec
        self.register_buffer("smoothing_taps", gaussian_taps(sigma) if sigma > 0 else None, persistent=False)
        self.lstm = nn.LSTM(
            input_size=c.feature_size,
            hidden_size=c.hidden_size,
            num_layers=c.lstm_layers,
            batch_first=True,
            dropout=c.dropout if c.lstm_layers > 1 else 0.0,
        )
        self.head = nn.Sequential(
            nn.Linear(c.hidden_size, c.head_size),
            nn.ReLU(inplace=True),
            nn.Dropout(c.dropout),
            nn.Linear(c.head_size, 1),
        )
        self._init_weights()

    def _init_weights(self):
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.Linear):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                nn.init.zeros_(module.bias)

    def smooth(self, frames: torch.Tensor) -> torch.Tensor:
        """
        Frames ``(..., H, W)`` smoothed by the configuration's Gaussian (``smoothing_arcsec``), edges replicated.

        Without smoothing the frames are returned as they are.

        Examples
        --------
        >>> import torch
        >>> from sunpy_jets.model import JetModelConfig, JetRCNN
        >>> model = JetRCNN(JetModelConfig(image_size=32, channels=(8, 16), fov_arcsec=57.6, smoothing_arcsec=1.8))
        >>> spike = torch.zeros(1, 1, 32, 32)
        >>> spike[..., 16, 16] = 1.0
        >>> smoothed = model.smooth(spike)
        >>> round(float(smoothed.sum()), 4), round(float(smoothed.max()), 3)  # the same total, spread over pixels
        (1.0, 0.159)
        """
        return frames if self.smoothing_taps is None else gaussian_blur(frames, self.smoothing_taps)

    @staticmethod
    def frame_differences(frames: torch.Tensor, previous: torch.Tensor | None = None) -> torch.Tensor:
        """
        Each frame minus the one before it, for consecutive frames ``(N, ...)`` (time first).

        ``previous`` (one frame, shaped like ``frames[0]``) is the frame before the first; without it
        the first frame's difference is zero.

        Examples
        --------
        >>> import torch
        >>> from sunpy_jets.model import JetRCNN
        >>> frames = torch.arange(3.0).reshape(3, 1, 1, 1)
        >>> JetRCNN.frame_differences(frames).flatten().tolist()
        [0.0, 1.0, 1.0]
        >>> JetRCNN.frame_differences(frames, previous=torch.full((1, 1, 1), -2.0)).flatten().tolist()
        [2.0, 1.0, 1.0]
        """
        before = frames[:1] if previous is None else previous[None].to(frames)
        return frames - torch.cat([before, frames[:-1]])

    def branches(self, frames: torch.Tensor, previous: torch.Tensor | None = None):
        """
        The ``(encoder, input)`` pairs whose pooled outputs, concatenated, are the features of frames ``(N, 1, H, W)``.

        The appearance encoder reads the frames (`smooth`-ed first with ``config.smoothing_arcsec``); with
        ``config.difference_channels``, the difference encoder reads their `frame_differences`. Tiled scans pool each encoder's feature maps per tile.

        Examples
        --------
        >>> import torch
        >>> from sunpy_jets.model import JetModelConfig, JetRCNN
        >>> model = JetRCNN(JetModelConfig(image_size=32, channels=(8, 16), difference_channels=(4, 8)))
        >>> [encoder.out_features for encoder, _ in model.branches(torch.zeros(2, 1, 32, 32))]
        [32, 16]
        """
        if self.smoothing_taps is not None:
            frames = self.smooth(frames)
            previous = None if previous is None else self.smooth(previous[None])[0]
        pairs = [(self.encoder, frames)]
        if self.difference_encoder is not None:
            pairs.append((self.difference_encoder, self.frame_differences(frames, previous)))
        return pairs

    def encode_frames(self, frames: torch.Tensor, previous: torch.Tensor | None = None) -> torch.Tensor:
        """
        Encode consecutive frames ``(N, 1, H, W)`` into features ``(N, F)``.

        Parameters
        ----------
        frames : `torch.Tensor`
            Frames of one sequence, in time order (without ``difference_channels``, any frames).
        previous : `torch.Tensor`, optional
            The frame ``(1, H, W)`` before the first, when the frames continue a sequence encoded in
            parts; used only with ``difference_channels``.

        Examples
        --------
        >>> import torch
        >>> from sunpy_jets.model import JetModelConfig, JetRCNN
        >>> model = JetRCNN(JetModelConfig(image_size=32, channels=(8, 16))).eval()
        >>> model.encode_frames(torch.zeros(4, 1, 32, 32)).shape
        torch.Size([4, 32])
        """
        return torch.cat([encoder(x) for encoder, x in self.branches(frames, previous)], dim=-1)

    def window_start(self, features: torch.Tensor) -> torch.Tensor:
        """
        Features ``(..., F)`` of frames as the first frame of a window sees them: with no change.

        Without ``difference_channels`` the features are returned as they are.

        Examples
        --------
        >>> import torch
        >>> from sunpy_jets.model import JetModelConfig, JetRCNN
        >>> model = JetRCNN(JetModelConfig(image_size=32, channels=(8, 16), difference_channels=(4, 8))).eval()
        >>> frames = torch.randn(3, 1, 32, 32)
        >>> still = model.encode_frames(frames[1:2])  # a frame on its own: no change
        >>> torch.allclose(model.window_start(model.encode_frames(frames))[1], still[0])
        True
        """
        if self.difference_encoder is None:
            return features
        n = self.encoder.out_features
        return torch.cat([features[..., :n], self._no_change().expand(*features.shape[:-1], -1)], dim=-1)

    def _no_change(self) -> torch.Tensor:
        """Difference features of a frame equal to the one before it (a zero difference image)."""
        size = self.config.image_size
        param = next(self.difference_encoder.parameters())
        was_training = self.difference_encoder.training
        # Evaluated with running batch-norm statistics: one constant image has no batch statistics.
        self.difference_encoder.eval()
        try:
            return self.difference_encoder(param.new_zeros(1, 1, size, size))[0]
        finally:
            self.difference_encoder.train(was_training)

    def classify_features(self, features: torch.Tensor) -> torch.Tensor:
        """
        Turn per-frame features ``(B, T, F)`` of windows into one logit per window, ``(B,)``.

        Examples
        --------
        >>> import torch
        >>> from sunpy_jets.model import JetModelConfig, JetRCNN
        >>> model = JetRCNN(JetModelConfig(image_size=32, channels=(8, 16))).eval()
        >>> model.classify_features(torch.zeros(2, 7, 32)).shape
        torch.Size([2])
        """
        if features.ndim != 3:
            raise InputError(f"features must be (B, T, F), got shape {tuple(features.shape)}")
        if self.difference_encoder is not None:
            features = torch.cat([self.window_start(features[:, :1]), features[:, 1:]], dim=1)
        _, (h_n, _) = self.lstm(features)
        return self.head(h_n[-1]).squeeze(-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B,)`` for sequences ``(B, T, 1, H, W)``."""
        if x.ndim != 5 or x.shape[2] != 1:
            raise InputError(f"input must be (B, T, 1, H, W), got shape {tuple(x.shape)}")
        b, t = x.shape[:2]
        # Time first, as frame_differences takes it: differences stay within each sequence.
        parts = [
            encoder(inputs.transpose(0, 1).reshape(b * t, *x.shape[2:]))
            for encoder, inputs in self.branches(x.transpose(0, 1))
        ]
        return self.classify_features(torch.cat(parts, dim=-1).reshape(b, t, -1))

    @property
    def n_parameters(self) -> int:
        """Number of trainable parameters."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)


def build_network(config: JetModelConfig | None = None, *, seed: int | None = None) -> JetRCNN:
    """
    A new `JetRCNN` whose initial weights are drawn from ``seed`` (the global random state is untouched).

    Examples
    --------
    >>> import torch
    >>> from sunpy_jets.model import JetModelConfig, build_network
    >>> config = JetModelConfig(image_size=16, channels=(4,), hidden_size=4)
    >>> a, b = build_network(config, seed=1), build_network(config, seed=1)
    >>> all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))
    True
    """
    if seed is None:
        return JetRCNN(config)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return JetRCNN(config)
