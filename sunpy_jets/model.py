"""
The jet classification network: a per-frame CNN encoder, an LSTM over time, and a logit head.

Every frame of a sequence goes through the same small convolutional encoder, which turns it into a
feature vector. An LSTM then reads the feature vectors in time order (input ``(B, T, F)``,
``batch_first=True``) and a small head turns its last hidden state into one logit per sequence.
Because the encoder sees one frame at a time, a frame's features can be computed once and reused by
every sliding window that contains it, and a sample's output never depends on the other samples of
its batch (the published CS-433 model fed a 2-D tensor to its LSTM, which then ran across the batch).

The network definition lives here; weights live in files (see `sunpy_jets.weights`). The
configuration, `JetModelConfig`, also holds the preprocessing constants the weights were trained with,
so a model always sees its input the way it was trained.

This module depends on nothing else in the package but its exception classes.
"""

import dataclasses
import json
import math
from dataclasses import dataclass, field

import torch
from torch import nn

import astropy.units as u

from .exceptions import InputError

__all__ = ["JetModelConfig", "FrameEncoder", "JetRCNN"]

# Frames per encoder call at CPU inference: a chunk's activations stay in cache. 240 frames in one call ran
# 3-4x slower than chunks of 8-32 on a 2-core CPU (benchmarks/, docs/performance.rst).
_CPU_FRAME_CHUNK = 16

# The published recipe standardised raw DN of AIA 304 with these constants (CS-433, clip at 1000 DN).
# We normalise by exposure time first (DN -> DN/s), so the defaults are the published ones divided by
# the nominal AIA 304 exposure of 2.9 s.
_AIA304_NOMINAL_EXPOSURE_S = 2.9
_PUBLISHED_MEAN_DN = 50.564544677734375
_PUBLISHED_STD_DN = 49.94772720336914
_PUBLISHED_CLIP_DN = 1000.0


@dataclass(frozen=True)
class JetModelConfig:
    """
    Architecture and input recipe of a `~sunpy_jets.model.JetRCNN`.

    The defaults follow the published recipe: AIA 304 Å, 30 frames at 24 s cadence, a 300″×300″
    field of view reduced to 166×166 pixels, values clipped and standardised. These constants are
    saved with the weights, so a model always preprocesses its input as it was trained.

    Parameters
    ----------
    n_frames : int
        Frames per window (the sequence length the model was trained on). The network accepts any
        length ≥ 1; this is the length the preprocessing aims for.
    image_size : int
        Side of the square model grid in pixels.
    channels : tuple of int
        Output channels of the encoder's stages; each stage halves the resolution.
    hidden_size : int
        Hidden size of the LSTM.
    lstm_layers : int
        Number of stacked LSTM layers.
    head_size : int
        Width of the hidden layer of the classification head.
    dropout : float
        Dropout probability in the head (and between LSTM layers when there are several).
    wavelength_angstrom : float
        AIA channel the model expects, in Å.
    instrument : str
        Instrument the model expects (compared case-insensitively with the start of the map's).
    cadence_s : float
        Time between model frames in seconds; inputs of another cadence are resampled to it.
    fov_arcsec : float
        Side of the field of view covered by the model grid, in arcseconds.
    exposure_normalize : bool
        Divide each frame by its exposure time (DN → DN/s) before clipping.
    clip_min, clip_max : float
        Range the (exposure-normalised) pixel values are clipped to.
    mean, std : float
        Standardisation constants applied after clipping: ``(x - mean) / std``.

    Examples
    --------
    >>> from sunpy_jets.model import JetModelConfig
    >>> config = JetModelConfig()
    >>> config.n_frames, config.image_size, config.cadence
    (30, 166, <Quantity 24. s>)
    >>> config.pixel_scale  # doctest: +FLOAT_CMP
    <Quantity 1.80722892 arcsec / pix>
    >>> JetModelConfig.from_dict(config.to_dict()) == config
    True
    """

    n_frames: int = 30
    image_size: int = 166
    channels: tuple[int, ...] = (16, 32, 48, 64, 96)
    hidden_size: int = 96
    lstm_layers: int = 1
    head_size: int = 32
    dropout: float = 0.3
    wavelength_angstrom: float = 304.0
    instrument: str = "AIA"
    cadence_s: float = 24.0
    fov_arcsec: float = 300.0
    exposure_normalize: bool = True
    clip_min: float = 0.0
    clip_max: float = _PUBLISHED_CLIP_DN / _AIA304_NOMINAL_EXPOSURE_S
    mean: float = _PUBLISHED_MEAN_DN / _AIA304_NOMINAL_EXPOSURE_S
    std: float = _PUBLISHED_STD_DN / _AIA304_NOMINAL_EXPOSURE_S
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self):
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        checks = [
            (self.n_frames >= 1, "n_frames must be at least 1"),
            (self.image_size >= 2 ** len(self.channels), "image_size is too small for the number of encoder stages"),
            (len(self.channels) >= 1 and min(self.channels) >= 1, "channels must be a non-empty tuple of positive ints"),
            (self.hidden_size >= 1, "hidden_size must be at least 1"),
            (self.lstm_layers >= 1, "lstm_layers must be at least 1"),
            (self.head_size >= 1, "head_size must be at least 1"),
            (0.0 <= self.dropout < 1.0, "dropout must be in [0, 1)"),
            (self.wavelength_angstrom > 0, "wavelength_angstrom must be positive"),
            (self.cadence_s > 0, "cadence_s must be positive"),
            (self.fov_arcsec > 0, "fov_arcsec must be positive"),
            (self.clip_max > self.clip_min, "clip_max must be larger than clip_min"),
            (self.std > 0 and math.isfinite(self.std) and math.isfinite(self.mean), "std must be positive and finite"),
        ]
        for ok, message in checks:
            if not ok:
                raise InputError(f"invalid JetModelConfig: {message}")

    # Physical views of the stored floats: JSON keeps plain numbers, users get Quantities.
    @property
    def cadence(self) -> u.Quantity:
        """Time between model frames."""
        return self.cadence_s * u.s

    @property
    def fov(self) -> u.Quantity:
        """Side of the model's field of view."""
        return self.fov_arcsec * u.arcsec

    @property
    def wavelength(self) -> u.Quantity:
        """Wavelength of the AIA channel the model expects."""
        return self.wavelength_angstrom * u.AA

    @property
    def pixel_scale(self) -> u.Quantity:
        """Angular size of a model pixel."""
        return (self.fov_arcsec / self.image_size) * u.arcsec / u.pix

    @property
    def window_duration(self) -> u.Quantity:
        """Time spanned by one window, first to last frame."""
        return (self.n_frames - 1) * self.cadence

    @property
    def feature_size(self) -> int:
        """Length of the per-frame feature vector (average and max pooling of the last stage)."""
        return 2 * self.channels[-1]

    def replace(self, **changes) -> "JetModelConfig":
        """
        Return a copy with some fields changed.

        Examples
        --------
        >>> from sunpy_jets.model import JetModelConfig
        >>> JetModelConfig().replace(image_size=32, n_frames=8).image_size
        32
        """
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """
        The configuration as a JSON-serialisable dictionary.

        Examples
        --------
        >>> from sunpy_jets.model import JetModelConfig
        >>> JetModelConfig().to_dict()["channels"]
        [16, 32, 48, 64, 96]
        """
        d = dataclasses.asdict(self)
        d["channels"] = list(self.channels)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "JetModelConfig":
        """
        Build a configuration from `to_dict` output; unknown keys are refused.

        Examples
        --------
        >>> from sunpy_jets.model import JetModelConfig
        >>> JetModelConfig.from_dict({"image_size": 64}).image_size
        64
        """
        if not isinstance(d, dict):
            raise InputError(f"a model configuration must be a dict, not {type(d).__name__}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise InputError(f"unknown model configuration keys {sorted(unknown)}; known keys are {sorted(names)}")
        try:
            return cls(**d)
        except TypeError as e:
            raise InputError(f"invalid model configuration: {e}") from e

    def to_json(self) -> str:
        """
        The configuration as a JSON string.

        Examples
        --------
        >>> from sunpy_jets.model import JetModelConfig
        >>> '"n_frames": 30' in JetModelConfig().to_json()
        True
        """
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)


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
        return self.features(x)

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
        return self.pool(self.feature_maps(x))


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
    scanning long observations encode each frame once.

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
        self.lstm = nn.LSTM(
            input_size=self.encoder.out_features,
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

    def encode_frames(self, frames: torch.Tensor) -> torch.Tensor:
        """
        Encode frames ``(N, 1, H, W)`` independently into features ``(N, F)``.

        Examples
        --------
        >>> import torch
        >>> from sunpy_jets.model import JetModelConfig, JetRCNN
        >>> model = JetRCNN(JetModelConfig(image_size=32, channels=(8, 16))).eval()
        >>> model.encode_frames(torch.zeros(4, 1, 32, 32)).shape
        torch.Size([4, 32])
        """
        # Training keeps whole batches: chunks would change the batch-norm statistics.
        if self.training or frames.device.type != "cpu" or len(frames) <= _CPU_FRAME_CHUNK:
            return self.encoder(frames)
        return torch.cat([self.encoder(chunk) for chunk in frames.split(_CPU_FRAME_CHUNK)])

    def classify_features(self, features: torch.Tensor) -> torch.Tensor:
        """
        Turn per-frame features ``(B, T, F)`` into one logit per sequence, ``(B,)``.

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
        _, (h_n, _) = self.lstm(features)
        return self.head(h_n[-1]).squeeze(-1)

    def input_gates(self, features: torch.Tensor) -> torch.Tensor:
        """
        The LSTM's input projection of per-frame features ``(..., F)`` into gate pre-activations ``(..., 4H)``.

        A frame's projection is the same in every window that contains it, so scans compute it once per
        frame and pass windows of it to `classify_gates` (single-layer LSTMs only).

        Examples
        --------
        >>> import torch
        >>> from sunpy_jets.model import JetModelConfig, JetRCNN
        >>> model = JetRCNN(JetModelConfig(image_size=32, channels=(8, 16), hidden_size=8)).eval()
        >>> model.input_gates(torch.zeros(5, 32)).shape
        torch.Size([5, 32])
        """
        if self.config.lstm_layers != 1:
            raise InputError("input_gates needs a single-layer LSTM; use classify_features")
        lstm = self.lstm
        return torch.nn.functional.linear(features, lstm.weight_ih_l0, lstm.bias_ih_l0 + lstm.bias_hh_l0)

    def classify_gates(self, gates: torch.Tensor) -> torch.Tensor:
        """
        Logits ``(B,)`` from precomputed input gates ``(B, T, 4H)`` (see `input_gates`).

        Equal, up to floating-point rounding, to `classify_features` on the features the gates came from.

        Examples
        --------
        >>> import torch
        >>> from sunpy_jets.model import JetModelConfig, JetRCNN
        >>> model = JetRCNN(JetModelConfig(image_size=32, channels=(8, 16), hidden_size=8)).eval()
        >>> features = torch.randn(3, 6, 32)
        >>> torch.allclose(model.classify_gates(model.input_gates(features)), model.classify_features(features), atol=1e-6)
        True
        """
        w_hh = self.lstm.weight_hh_l0
        batch, steps = gates.shape[:2]
        h = gates.new_zeros(batch, self.config.hidden_size)
        c = torch.zeros_like(h)
        for t in range(steps):
            # PyTorch's gate order: input, forget, cell, output.
            i, f, g, o = (gates[:, t] + h @ w_hh.T).chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        return self.head(h).squeeze(-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B,)`` for sequences ``(B, T, 1, H, W)``."""
        if x.ndim != 5 or x.shape[2] != 1:
            raise InputError(f"input must be (B, T, 1, H, W), got shape {tuple(x.shape)}")
        b, t = x.shape[:2]
        features = self.encode_frames(x.reshape(b * t, *x.shape[2:]))
        return self.classify_features(features.reshape(b, t, -1))

    def window_logits(self, features: torch.Tensor, window: int, stride: int = 1) -> torch.Tensor:
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
        >>> model = JetRCNN(JetModelConfig(image_size=32, channels=(8, 16))).eval()
        >>> model.window_logits(torch.zeros(10, 32), window=4, stride=2).shape
        torch.Size([4])
        """
        if features.ndim != 2:
            raise InputError(f"features must be (T, F), got shape {tuple(features.shape)}")
        if window < 1 or stride < 1:
            raise InputError("window and stride must be at least 1")
        n = features.shape[0]
        if n <= window:
            return self.classify_features(features[None])
        if self.config.lstm_layers == 1:
            # Project each frame into the LSTM's gates once, not once per window that holds it.
            features = self.input_gates(features)
        # unfold gives (n_windows, F, window) views without copying.
        windows = features.unfold(0, window, stride).permute(0, 2, 1)
        return self.classify_gates(windows) if self.config.lstm_layers == 1 else self.classify_features(windows)

    @property
    def n_parameters(self) -> int:
        """Number of trainable parameters."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)
