"""
Weights on disk: safetensors tensors plus a JSON model card, checked by SHA-256 before use.

A saved model is a directory holding

* ``config.json``: the model card (`ModelCard`): architecture and preprocessing constants
  (`~sunpy_jets.model.JetModelConfig`), decision threshold, what the weights were trained on, their
  metrics, the package version, and the name and SHA-256 of the weights file;
* ``weights-<sha256 prefix>.safetensors``: the tensors.

The weights file is named by its own checksum and the card is replaced last, atomically, so an
interrupted save never leaves a card pointing at the wrong tensors: the previous model stays loadable
until the new card is in place. Nothing is ever unpickled.
"""

import dataclasses
import datetime
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .._atomic import atomic_path, atomic_write_bytes
from .._json import parse_json
from .._paths import check_output_dir
from ..exceptions import InputError, WeightsError
from ..version import version as package_version
from .config import JetModelConfig
from .network import JetRCNN

__all__ = [
    "ModelCard",
    "save_weights",
    "load_weights",
    "check_state_dict",
    "sha256sum",
    "card_digest",
    "CARD_NAME",
]

#: File name of the model card inside a saved model directory.
CARD_NAME = "config.json"
_FORMAT = "sunpy_jets-weights"
_FORMAT_VERSION = 1
_PICKLE_SUFFIXES = {".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".bin"}


@dataclass
class ModelCard:
    """
    What a set of weights is: its architecture, recipe, threshold, provenance and metrics.

    Attributes
    ----------
    config : `~sunpy_jets.model.JetModelConfig`
        Architecture and preprocessing constants.
    threshold : float
        Probability above which a window is called a jet.
    name : str
        Short name of the model.
    description : str
        What the weights were trained on and what they are (not) good for.
    training : dict
        Training data and settings (free-form, JSON-serialisable).
    metrics : dict
        Evaluation metrics (free-form, JSON-serialisable).
    sha256 : str
        SHA-256 of the weights file (filled in by `save_weights`).
    weights_file : str
        Name of the weights file inside the model directory (filled in by `save_weights`).
    card_sha256 : str
        SHA-256 of what decides the model's answers besides the tensors: the configuration
        (architecture and preprocessing constants), the threshold and the weights' name and SHA-256
        (see `card_digest`; filled in by `save_weights`, checked by `load_weights`).
    created : str
        ISO time the card was written.
    package_version : str
        Version of sunpy_jets that wrote it.

    Examples
    --------
    >>> from sunpy_jets.model import ModelCard
    >>> card = ModelCard(threshold=0.3, name="demo")
    >>> ModelCard.from_dict(card.to_dict()).threshold
    0.3
    """

    config: JetModelConfig = field(default_factory=JetModelConfig)
    threshold: float = 0.5
    name: str = "sunpy_jets"
    description: str = ""
    training: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    sha256: str = ""
    weights_file: str = ""
    card_sha256: str = ""
    created: str = ""
    package_version: str = ""

    def summary(self) -> str:
        """
        A few lines on what the weights are: name, input, threshold, training data, measured figures.

        ``str(card)`` and ``print(card)`` give this; ``repr(card)`` and `to_dict` give everything.

        Examples
        --------
        >>> from sunpy_jets.model import ModelCard
        >>> print(ModelCard(threshold=0.3, name="demo", metrics={"test": {"n": 10, "f1": 0.9, "roc_auc": 0.95}}))
        Model card: demo
          input: AIA 304 Å, 30 frames at 24 s, 300″ field at 1.8″/pixel (166×166)
          threshold: 0.3
          test: F1 0.900, ROC AUC 0.950 (10 sequences)
        """
        config = self.config
        lines = [
            f"Model card: {self.name}",
            f"  input: {config.instrument} {config.wavelength_angstrom:g} Å, {config.n_frames} frames at "
            f"{config.cadence_s:g} s, {config.fov_arcsec:g}″ field at {config.pixel_scale.value:.2g}″/pixel "
            f"({config.image_size}×{config.image_size})"
            + (f", smoothed by a {config.smoothing_arcsec:g}″ Gaussian in the network" if config.smoothing_arcsec else ""),
            f"  threshold: {self.threshold:.3g}",
        ]
        data = self.training.get("data") if isinstance(self.training, dict) else None
        if isinstance(data, dict) and ("n_train" in data or "source" in data):
            source = " ".join(str(data.get("source", "")).split(",")[0].split(" (")[0].split())[:80]
            count = f"{data['n_train']} sequences" if "n_train" in data else ""
            where = ", ".join(x for x in (count, source) if x)
            lines.append(f"  trained on: {where}"
                         + (f", validated on {data['n_validation']}" if "n_validation" in data else ""))  # fmt: skip
        for name, scores in self.metrics.items():
            if not isinstance(scores, dict):
                continue
            figures = [f"{label} {scores[key]:.3f}" for key, label in (("f1", "F1"), ("roc_auc", "ROC AUC"))
                       if isinstance(scores.get(key), (int, float))]  # fmt: skip
            if isinstance(scores.get("false_positive_rate"), (int, float)):
                figures.append(f"false-positive rate {scores['false_positive_rate']:.3g}")
            if figures:
                count = f" ({scores['n']} sequences)" if isinstance(scores.get("n"), int) else ""
                lines.append(f"  {name.replace('_', ' ')}: {', '.join(figures)}{count}")
        if self.description:
            lines.append(f"  about: {self.description.split('. ')[0].rstrip('.')}.")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict:
        """
        The card as a JSON-serialisable dictionary.

        Examples
        --------
        >>> import json
        >>> from sunpy_jets.model import ModelCard
        >>> d = ModelCard(threshold=0.3, name="demo").to_dict()
        >>> d["format_version"] >= 1, d["threshold"], d["name"], isinstance(d["config"], dict)
        (True, 0.3, 'demo', True)
        >>> json.loads(json.dumps(d)) == d
        True
        """
        d = dataclasses.asdict(self)
        d["config"] = self.config.to_dict()
        return {"format": _FORMAT, "format_version": _FORMAT_VERSION, **d}

    @classmethod
    def from_dict(cls, d: dict) -> "ModelCard":
        """
        Build a card from `to_dict` output, checking its format and fields.

        Examples
        --------
        >>> from sunpy_jets.model import ModelCard
        >>> card = ModelCard.from_dict({"threshold": 0.25, "name": "demo"})  # missing fields get defaults
        >>> card.threshold, card.name, card.config == ModelCard().config
        (0.25, 'demo', True)
        >>> ModelCard.from_dict({"threshold": 2.0})
        Traceback (most recent call last):
        ...
        sunpy_jets.exceptions.WeightsError: the model card's threshold must be a number in [0, 1], not 2.0
        """
        if not isinstance(d, dict):
            raise WeightsError("a model card must be a JSON object")
        d = dict(d)
        fmt, version = d.pop("format", _FORMAT), d.pop("format_version", _FORMAT_VERSION)
        if fmt != _FORMAT or not isinstance(version, int) or version > _FORMAT_VERSION:
            raise WeightsError(
                f"this model card has format {fmt!r} version {version!r}; this sunpy_jets reads "
                f"{_FORMAT!r} up to version {_FORMAT_VERSION} (upgrade sunpy_jets?)"
            )
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise WeightsError(f"the model card has unknown fields {sorted(unknown)}")
        try:
            d["config"] = JetModelConfig.from_dict(d.get("config", {}))
        except InputError as e:
            raise WeightsError(f"the model card's configuration is invalid: {e}") from e
        threshold = d.get("threshold", 0.5)
        if not isinstance(threshold, (int, float)) or not 0.0 <= threshold <= 1.0:
            raise WeightsError(f"the model card's threshold must be a number in [0, 1], not {threshold!r}")
        for name, kind in (("name", str), ("description", str), ("sha256", str), ("weights_file", str), ("card_sha256", str),
                           ("created", str), ("package_version", str), ("training", dict), ("metrics", dict)):
            if name in d and not isinstance(d[name], kind):
                raise WeightsError(f"the model card's {name} must be a {kind.__name__}, not {d[name]!r:.60}")
        return cls(**d)


def card_digest(card: ModelCard) -> str:
    """
    SHA-256 of the parts of a card that change the model's answers: configuration, threshold, weights.

    The digest is of canonical JSON (sorted keys, no spaces), so reformatting the card file does not
    change it, but editing ``n_frames``, ``cadence_s``, ``fov_arcsec``, ``mean``/``std`` (any field of
    the configuration), the threshold or the weights' checksum does.

    Examples
    --------
    >>> from sunpy_jets.model import ModelCard, card_digest
    >>> card = ModelCard(threshold=0.3)
    >>> card_digest(card) == card_digest(ModelCard(threshold=0.3)) != card_digest(ModelCard(threshold=0.4))
    True
    """
    sealed = {"config": card.config.to_dict(), "threshold": float(card.threshold), "sha256": card.sha256,
              "weights_file": card.weights_file}  # fmt: skip
    text = json.dumps(sealed, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def sha256sum(path) -> str:
    """
    SHA-256 hex digest of a file, read in chunks.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sunpy_jets.model import sha256sum
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "empty"
    >>> _ = path.write_bytes(b"")
    >>> sha256sum(path)[:16]
    'e3b0c44298fc1c14'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_weights(directory, model: JetRCNN, card: ModelCard) -> ModelCard:
    """
    Save a model's tensors and card into ``directory`` (created if needed), atomically.

    Parameters
    ----------
    directory : str or `~pathlib.Path`
        The model directory.
    model : `~sunpy_jets.model.JetRCNN`
        The network; its configuration must be the card's.
    card : `ModelCard`
        The card; its ``sha256``, ``weights_file``, ``created`` and ``package_version`` are filled in.

    Returns
    -------
    `ModelCard`
        The card as written, with its checksum.

    Examples
    --------
    >>> import tempfile
    >>> from sunpy_jets.model import JetModelConfig, JetRCNN
    >>> from sunpy_jets.model import ModelCard, load_weights, save_weights
    >>> config = JetModelConfig(image_size=32, channels=(4, 8), hidden_size=8)
    >>> directory = tempfile.mkdtemp()
    >>> written = save_weights(directory, JetRCNN(config), ModelCard(config=config))
    >>> state, card = load_weights(directory)
    >>> card.sha256 == written.sha256 and card.config == config
    True
    """
    if model.config != card.config:
        raise WeightsError("the model's configuration differs from the card's; save the card of this model")
    directory = check_output_dir(directory, "the model directory")
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    # Named by its checksum, the new weights file never overwrites the one the current card points at.
    with atomic_path(directory / ".weights.safetensors") as tmp:
        save_file(state, tmp, metadata={"format": _FORMAT})
        digest = sha256sum(tmp)
    weights_name = f"weights-{digest[:16]}.safetensors"
    os.replace(directory / ".weights.safetensors", directory / weights_name)
    card = dataclasses.replace(
        card,
        sha256=digest,
        weights_file=weights_name,
        created=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        package_version=package_version,
    )
    card = dataclasses.replace(card, card_sha256=card_digest(card))
    atomic_write_bytes(directory / CARD_NAME, json.dumps(card.to_dict(), indent=2).encode())
    # Only now is the old weights file unreferenced.
    for old in directory.glob("weights-*.safetensors"):
        if old.name != weights_name:
            old.unlink(missing_ok=True)
    return card


def _is_safetensors(path: Path) -> bool:
    """A safetensors file is an 8-byte little-endian header length followed by a JSON header."""
    with open(path, "rb") as f:
        head = f.read(9)
    if len(head) < 9 or head[8:9] != b"{":
        return False
    return 0 < int.from_bytes(head[:8], "little") < path.stat().st_size


def _refuse_unsafe(path: Path):
    if path.suffix in _PICKLE_SUFFIXES or not _is_safetensors(path):
        raise WeightsError(
            f"{path} is not a safetensors file (a pickle or torch.save file?); sunpy_jets never unpickles files, "
            "because unpickling can run arbitrary code. Convert it where you trust it: "
            "torch.load(path, weights_only=True), then JetClassifier(config).model.load_state_dict(state) and "
            ".save(directory)"
        )


def load_weights(path, *, expected_sha256: str | None = None, unverified_card: bool = False) -> tuple[dict, ModelCard]:
    """
    Load and check a saved model's tensors and card.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        The model directory (or its ``config.json``).
    expected_sha256 : str, optional
        A checksum the weights must also match (e.g. published beside a download).
    unverified_card : bool
        Accept a card without checksums (``sha256`` and ``card_sha256`` empty or missing), such as
        one written by hand or by sunpy_jets before 0.1. The tensors are still checked against the
        configuration, but an edit of the card's preprocessing constants or threshold cannot be
        detected: use only for cards you wrote yourself. A checksum that is present is always checked.

    Returns
    -------
    state_dict : dict of `torch.Tensor`
    card : `ModelCard`

    Raises
    ------
    `~sunpy_jets.exceptions.WeightsError`
        If the directory, card or weights are missing or unreadable, a checksum is missing (see
        ``unverified_card``) or does not match, the file is a pickle, or the tensors do not fit the
        card's configuration.

    Examples
    --------
    >>> import tempfile
    >>> from sunpy_jets.model import load_weights
    >>> load_weights(tempfile.mkdtemp())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sunpy_jets.exceptions.WeightsError: no model card (config.json) in ...
    """
    path = Path(path).expanduser()
    if path.is_file():
        if path.name != CARD_NAME:
            _refuse_unsafe(path)
            raise WeightsError(f"{path} is not a model directory or its {CARD_NAME}; give the directory save() wrote")
        path = path.parent
    if not path.is_dir():
        raise WeightsError(f"{path} does not exist; give the directory that JetClassifier.save wrote")
    card_path = path / CARD_NAME
    if not card_path.is_file():
        raise WeightsError(f"no model card ({CARD_NAME}) in {path}")
    advice = "give a directory that JetClassifier.save wrote"
    content = parse_json(card_path.read_bytes(), error=WeightsError, what=f"the model card {card_path}", advice=advice)
    card = ModelCard.from_dict(content)
    weights_path = path / card.weights_file
    if not card.weights_file or "/" in card.weights_file or not weights_path.is_file():
        raise WeightsError(f"the weights file {card.weights_file!r} named by {card_path} is missing")
    _refuse_unsafe(weights_path)
    if not unverified_card and not (card.sha256 and card.card_sha256):
        missing = " and ".join(k for k in ("sha256", "card_sha256") if not getattr(card, k))
        raise WeightsError(
            f"the model card {card_path} has no {missing}: its weights and settings cannot be verified; save the model "
            "again with JetClassifier.save, or load a card you wrote yourself with unverified_card=True"
        )
    digest = sha256sum(weights_path)
    for expected, source in ((card.sha256, card_path), (expected_sha256, "the expected checksum")):
        if expected and digest != expected.lower():
            raise WeightsError(
                f"{weights_path} has SHA-256 {digest} but {source} says {expected}: the file is corrupt or not the "
                "one the card describes"
            )
    try:
        state = load_file(weights_path)
    except (SafetensorError, OSError, ValueError) as e:
        raise WeightsError(f"{weights_path} is not a readable safetensors file: {e}") from e
    check_state_dict(state, card.config)
    if card.card_sha256 and card.card_sha256 != card_digest(card):
        raise WeightsError(
            f"the model card {card_path} was edited after it was saved: its configuration, threshold or weights "
            "entry no longer match its card_sha256, and a changed preprocessing constant changes every probability; "
            "restore the card, or load the weights and save them again with the settings you want"
        )
    return state, card


def check_state_dict(state: dict, config: JetModelConfig) -> None:
    """
    Check that tensors have exactly the names and shapes of a `~sunpy_jets.model.JetRCNN` with ``config``.

    Examples
    --------
    >>> from sunpy_jets.model import JetModelConfig, JetRCNN
    >>> from sunpy_jets.model import check_state_dict
    >>> config = JetModelConfig(image_size=32, channels=(4, 8), hidden_size=8)
    >>> check_state_dict(JetRCNN(config).state_dict(), config.replace(hidden_size=16))
    Traceback (most recent call last):
    ...
    sunpy_jets.exceptions.WeightsError: the weights do not match their configuration: ...
    """
    with torch.device("meta"):
        reference = JetRCNN(config).state_dict()
    problems = [f"missing {k}" for k in reference if k not in state]
    problems += [f"unexpected {k}" for k in state if k not in reference]
    problems += [
        f"{k} has shape {tuple(state[k].shape)}, expected {tuple(v.shape)}"
        for k, v in reference.items()
        if k in state and tuple(state[k].shape) != tuple(v.shape)
    ]
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise WeightsError(f"the weights do not match their configuration: {shown}")

