"""
The model's configuration: its architecture and the input recipe its weights were trained with.

`JetModelConfig` imports no torch, so code that only needs the preprocessing constants (reading
files, building download manifests, event tables) works on a machine without PyTorch.
"""

import dataclasses
import json
import math
from dataclasses import dataclass

import astropy.units as u

from ..exceptions import InputError

__all__ = ["JetModelConfig"]

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
    difference_channels : tuple of int
        Output channels of the stages of a second encoder that reads frame differences
        (``x[t] - x[t-1]``); empty (the default, and the published model) for none.
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
    smoothing_arcsec : float
        Standard deviation, in arcseconds, of a Gaussian smoothing the network applies to every standardised
        frame before its encoders; 0 (the default) for none. It makes the network blind to detail finer than
        the smoothest inputs it must handle: the Solar Jet Hunter renders are smoother than level-1 FITS frames
        (``scripts/render_sharpness.py``), and the scores of weights trained on sharp frames move with how smooth
        a scene is (docs/guide/real_data.rst).

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
    difference_channels: tuple[int, ...] = ()
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
    smoothing_arcsec: float = 0.0

    def __post_init__(self):
        for name in ("channels", "difference_channels"):
            value = getattr(self, name)
            if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
                raise InputError(f"invalid JetModelConfig: {name} must be a tuple of ints, not {value!r}")
            object.__setattr__(self, name, tuple(int(c) for c in value))
        checks = [
            (self.n_frames >= 1, "n_frames must be at least 1"),
            (self.image_size >= 2 ** len(self.channels), "image_size is too small for the number of encoder stages"),
            (len(self.channels) >= 1 and min(self.channels) >= 1, "channels must be a non-empty tuple of positive ints"),
            (
                not self.difference_channels or (
                    len(self.difference_channels) == len(self.channels) and min(self.difference_channels) >= 1
                ),
                "difference_channels must be empty or have one positive int per stage of channels",
            ),
            (self.hidden_size >= 1, "hidden_size must be at least 1"),
            (self.lstm_layers >= 1, "lstm_layers must be at least 1"),
            (self.head_size >= 1, "head_size must be at least 1"),
            (0.0 <= self.dropout < 1.0, "dropout must be in [0, 1)"),
            (self.wavelength_angstrom > 0, "wavelength_angstrom must be positive"),
            (self.cadence_s > 0, "cadence_s must be positive"),
            (self.fov_arcsec > 0, "fov_arcsec must be positive"),
            (self.clip_max > self.clip_min, "clip_max must be larger than clip_min"),
            (self.std > 0 and math.isfinite(self.std) and math.isfinite(self.mean), "std must be positive and finite"),
            (math.isfinite(self.smoothing_arcsec) and self.smoothing_arcsec >= 0,
             "smoothing_arcsec must be a finite angle >= 0 (0 for none)"),
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
    def smoothing(self) -> u.Quantity:
        """Standard deviation of the Gaussian smoothing applied to every frame before the encoders."""
        return self.smoothing_arcsec * u.arcsec

    @property
    def pixel_scale(self) -> u.Quantity:
        """Angular size of a model pixel."""
        return (self.fov_arcsec / self.image_size) * u.arcsec / u.pix

    @property
    def feature_size(self) -> int:
        """Length of the per-frame feature vector (average and max pooling of each encoder's last stage)."""
        return 2 * self.channels[-1] + (2 * self.difference_channels[-1] if self.difference_channels else 0)

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
        d["difference_channels"] = list(self.difference_channels)
        # Written only when used, so that cards saved before the field existed keep their checksums (card_digest).
        if not self.smoothing_arcsec:
            del d["smoothing_arcsec"]
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
        # Cards written before 0.3 carry an "extra" mapping that nothing read; it is dropped.
        d = {k: v for k, v in d.items() if k != "extra"}
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
