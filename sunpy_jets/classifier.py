"""
`JetClassifier`: the user-facing estimator, from image sequences to jet probabilities.

It follows scikit-learn's habits (settings in ``__init__``, ``predict_proba`` / ``predict``) and
torchvision's (weights carry their own configuration and preprocessing constants, so `JetClassifier.load` gives a
classifier that prepares its input exactly as it was trained).
"""

import dataclasses
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

import sunpy.map
from ndcube import NDCube, NDCubeSequence

from ._validation import as_count, as_probability, as_seed
from .settings import show_progress
from .exceptions import InputError, InputTypeError, InputWarning
from .model import JetModelConfig, build_network, resolve_device
from .model.device import autocast, check_precision
from .inputs.maps import resolve_search
from .inputs.preprocessing import PreparedSequence, prepare_sequence
from .model.pretrained import pretrained_directory
from .model.weights import ModelCard, load_weights, save_weights
from .scanning._windows import encode_in_chunks, window_logits
from .scanning.engine import detect, scan  # what the methods scan and detect call

__all__ = ["JetClassifier"]

_SEQUENCE_TYPES = (sunpy.map.MapSequence, NDCube, NDCubeSequence, PreparedSequence)


def _is_many(data) -> bool:
    """True when ``data`` is a collection of sequences rather than one sequence."""
    if isinstance(data, (str, Path, *_SEQUENCE_TYPES)) or not isinstance(data, Sequence):
        return False
    return len(data) > 0 and isinstance(data[0], (*_SEQUENCE_TYPES, list, tuple))


class JetClassifier:
    """
    Classify image sequences as holding a coronal jet or not.

    A per-frame CNN encodes each frame, an LSTM reads the frames in time order, and a head gives one
    probability per window of ``config.n_frames`` frames (12 minutes of AIA 304 Å at 24 s by default).

    Parameters
    ----------
    config : `~sunpy_jets.model.JetModelConfig`, optional
        Architecture and input recipe (defaults: the published recipe).
    threshold : float
        Probability above which `predict` calls a window a jet.
    device : str or `torch.device`
        ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``.
    batch_size : int
        Sequences per batch at inference.
    progress : bool
        Show progress bars on long work.
    seed : int, optional
        Seed for the initial weights, for reproducible untrained models.
    precision : {"float32", "bfloat16", "float16"}
        Precision of inference: ``"float32"`` (the default, in which the model card's figures were measured),
        or the network under `torch.autocast` at ``"bfloat16"`` (CPU or GPU) or ``"float16"`` (GPU only).
        On a 2-core CPU with bfloat16 instructions, ``predict_proba`` of the 65 real Solar Jet Hunter subjects
        took 2.5 s instead of 3.3 s, and their probabilities moved by at most 0.01 (one decision of 65 turned, a
        subject within 0.01 of the threshold); where reading and preprocessing dominate, the gain is smaller
        (docs/performance.rst). Training is not affected (see `~sunpy_jets.training.TrainingRecipe`).

    Notes
    -----
    A new classifier has random weights: load trained ones with `load` (or train with ``fit``).

    Examples
    --------
    >>> from sunpy_jets import JetClassifier
    >>> from sunpy_jets.model import JetModelConfig
    >>> clf = JetClassifier(JetModelConfig(image_size=32, channels=(4, 8), hidden_size=8), device="cpu", seed=0)
    >>> clf
    JetClassifier(threshold=0.5, device='cpu', n_frames=30, image_size=32, parameters=1,501)
    """

    def __init__(
        self,
        config: JetModelConfig | None = None,
        *,
        threshold: float = 0.5,
        device="auto",
        batch_size: int = 8,
        progress: bool | None = None,
        seed: int | None = None,
        precision: str = "float32",
    ):
        if config is None:
            config = JetModelConfig()
        if not isinstance(config, JetModelConfig):
            raise InputTypeError(f"config must be a JetModelConfig, not {type(config).__name__}")
        self.config = config
        self.threshold = threshold
        self.batch_size = as_count(batch_size, "batch_size")
        self.progress = show_progress(progress)  # None: sunpy_jets.settings (SUNPY_JETS_PROGRESS)
        self.seed = as_seed(seed)
        self.device = resolve_device(device)
        self.precision = precision
        self.model = build_network(config, seed=self.seed).to(self.device).eval()
        self.card = ModelCard(config=config, threshold=self.threshold, description="untrained (random weights)")

    @property
    def threshold(self) -> float:
        """Probability above which `predict` calls a window a jet (a number in [0, 1])."""
        return self._threshold

    @threshold.setter
    def threshold(self, value):
        self._threshold = as_probability(value, "threshold")

    @property
    def precision(self) -> str:
        """Precision of inference: ``"float32"``, ``"bfloat16"`` or ``"float16"`` (GPU only)."""
        return self._precision

    @precision.setter
    def precision(self, value):
        self._precision = check_precision(value, self.device)

    def __repr__(self):
        precision = "" if self.precision == "float32" else f", precision='{self.precision}'"
        return (
            f"JetClassifier(threshold={self.threshold}, device='{self.device}'{precision}, "
            f"n_frames={self.config.n_frames}, image_size={self.config.image_size}, "
            f"parameters={self.model.n_parameters:,})"
        )

    def __str__(self):
        # print(clf): the repr, then the short summary of the model card (str(clf.card)).
        return f"{self!r}\n{self.card.summary()}"

    # ----------------------------------------------------------------------------------------------
    # Persistence

    def save(self, path) -> Path:
        """
        Save the weights (safetensors) and the model card (JSON) into the directory ``path``.

        The card records the configuration, preprocessing constants, threshold and the weights'
        SHA-256; the write is atomic, so an interrupted save leaves the previous model loadable.

        Returns
        -------
        `~pathlib.Path`
            The model directory.

        Examples
        --------
        >>> import tempfile
        >>> from sunpy_jets import JetClassifier
        >>> from sunpy_jets.model import JetModelConfig
        >>> clf = JetClassifier(JetModelConfig(image_size=32, channels=(4, 8), hidden_size=8), seed=0)
        >>> directory = clf.save(tempfile.mkdtemp())
        >>> JetClassifier.load(directory).threshold
        0.5
        """
        card = dataclasses.replace(self.card, config=self.config, threshold=self.threshold)
        self.card = save_weights(path, self.model, card)
        return Path(path)

    @classmethod
    def load(cls, path, *, device="auto", expected_sha256: str | None = None, unverified_card: bool = False,
             **kwargs) -> "JetClassifier":
        """
        Load a classifier saved by `save`, checking the weights against their card and checksum.

        Parameters
        ----------
        path : str or `~pathlib.Path`
            The model directory.
        device : str or `torch.device`
            Where to run the model.
        expected_sha256 : str, optional
            A checksum the weights must match as well as the card's.
        unverified_card : bool
            Accept a card without checksums (written by hand); see `~sunpy_jets.model.load_weights`.
        **kwargs
            Other `JetClassifier` settings (``batch_size``, ``progress``); ``threshold`` overrides the card's.

        Raises
        ------
        `~sunpy_jets.exceptions.WeightsError`
            If the files are missing, corrupt, pickled, or do not match their configuration.

        Examples
        --------
        >>> from sunpy_jets import JetClassifier
        >>> JetClassifier.load("no/such/model")
        Traceback (most recent call last):
        ...
        sunpy_jets.exceptions.WeightsError: no/such/model does not exist; give the directory that JetClassifier.save wrote
        """
        state, card = load_weights(path, expected_sha256=expected_sha256, unverified_card=unverified_card)
        kwargs.setdefault("threshold", card.threshold)
        clf = cls(card.config, device=device, **kwargs)
        clf.model.load_state_dict(state)
        clf.model.eval()
        clf.card = card
        return clf

    @classmethod
    def from_trained(cls, trained, *, device=None, **kwargs) -> "JetClassifier":
        """
        A classifier holding a `~sunpy_jets.training.TrainedModel` (e.g. the best run of a grid search).

        Examples
        --------
        >>> from sunpy_jets import JetClassifier
        >>> from sunpy_jets.model import JetModelConfig
        >>> from sunpy_jets.training import TrainedModel
        >>> trained = TrainedModel.new(JetModelConfig(image_size=16, channels=(4,), hidden_size=4), seed=0)
        >>> JetClassifier.from_trained(trained, progress=False).config.image_size
        16
        """
        for name in ("model", "card", "threshold", "device"):
            if not hasattr(trained, name):
                raise InputTypeError(f"trained must be a TrainedModel, not {type(trained).__name__}")
        clf = cls(trained.model.config, threshold=trained.threshold, device=device or trained.device, **kwargs)
        clf.model = trained.model.to(clf.device).eval()
        clf.card = trained.card
        return clf

    @classmethod
    def from_pretrained(
        cls, source=None, *, device="auto", sha256=None, cache_dir=None, progress=True, **kwargs
    ) -> "JetClassifier":
        """
        Load pretrained weights: the bundled default (offline), a model directory, or a model archive URL.

        Parameters
        ----------
        source : str or `~pathlib.Path`, optional
            ``None`` for the default weights shipped with the package; a directory written by `save`; or
            the ``https://`` URL of a ``.zip`` / ``.tar.gz`` archive of one, downloaded once with parfive
            into a cache. The default weights were trained on synthetic jets (Solar Jet Hunter catalogue
            sizes, speeds and durations) in real AIA 304 Å backgrounds (licensed full-disk frames and
            cutouts), never on Solar Jet Hunter images. On real data (``scripts/evaluate_real_data.py``,
            threshold 0.4496) they find 91 % [81, 96] of the 65 Solar Jet Hunter subjects, pass 12 % [7, 18]
            of rendered and 5 % [3, 11] of FITS windows of real dynamic non-jet scenes and none of the static
            ones, with ROC AUC 0.96 [0.93, 0.98] against the dynamic non-jets; but rendered as sharp as the
            subjects (``scripts/evaluate_real_data.py --render-blur 0.6``) 45 % [37, 54] of those non-jet windows
            pass (AUC 0.85 [0.78, 0.91]): the weights' scores of moving scenes rise with their smoothness, and
            they are not yet shown to tell a real jet from a real moving non-jet as well as the targets ask. See
            their model card, ``clf.card``, and check events by eye.
        device : str or `torch.device`
            Where to run the model.
        sha256 : str, optional
            SHA-256 of the archive; required for a URL.
        cache_dir : str or `~pathlib.Path`, optional
            Download cache (default: ``$SUNPY_JETS_CACHE``, else ``~/.cache/sunpy_jets``).
        progress : bool
            Show progress bars.
        **kwargs
            Other settings (``threshold``, ``batch_size``).

        See Also
        --------
        sunpy_jets.model.pretrained.pretrained_directory

        Examples
        --------
        >>> from sunpy_jets import JetClassifier
        >>> clf = JetClassifier.from_pretrained(device="cpu")
        >>> clf.card.name
        'sunpy_jets default (synthetic)'
        """
        with pretrained_directory(source, sha256=sha256, cache_dir=cache_dir, progress=progress) as (path, expected):
            return cls.load(path, expected_sha256=expected, device=device, progress=progress, **kwargs)

    # ----------------------------------------------------------------------------------------------
    # Training

    def fit(self, train, validation, *, recipe=None, checkpoint_dir=None, resume=True, progress=None, callbacks=None,
            data_description=None):  # fmt: skip
        """
        Train on ``(frames, label)`` datasets and keep the best validation epoch (see `sunpy_jets.training.fit`).

        Afterwards ``threshold`` is the one chosen on the validation set and ``card`` records the
        recipe, the data and the validation metrics, which `save` writes with the weights.

        Returns
        -------
        `~sunpy_jets.training.TrainingHistory`

        Examples
        --------
        >>> import torch
        >>> from sunpy_jets import JetClassifier
        >>> from sunpy_jets.datasets import TensorJetDataset
        >>> from sunpy_jets.model import JetModelConfig
        >>> from sunpy_jets.training import TrainingRecipe
        >>> clf = JetClassifier(JetModelConfig(image_size=16, channels=(4,), hidden_size=4), device="cpu", seed=0)
        >>> data = TensorJetDataset(torch.randn(4, 3, 16, 16), [0, 1, 0, 1])
        >>> len(clf.fit(data, data, recipe=TrainingRecipe(epochs=1), progress=False))
        1
        """
        # training loads sklearn, drms and zeep (whose import adds a root logging handler): only when fitting
        from .training import fit

        return fit(self, train, validation, recipe=recipe, checkpoint_dir=checkpoint_dir, resume=resume,
                   progress=progress, callbacks=callbacks, data_description=data_description)  # fmt: skip

    # ----------------------------------------------------------------------------------------------
    # Inference

    def _prepare_item(self, item, index, total, center, width) -> PreparedSequence:
        """`prepare` one sequence of a batch; an error names the sequence (``total`` is None for one sequence)."""
        if total is None:
            return self.prepare(item, center=center, width=width)
        try:
            return self.prepare(item, center=center, width=width)
        except (InputError, InputTypeError) as e:
            raise type(e)(f"sequence {index} of the {total} given: {e}") from e

    def prepare(self, data, *, center=None, width=None) -> PreparedSequence:
        """
        Preprocess one sequence with this classifier's recipe (see `~sunpy_jets.inputs.prepare_sequence`).

        Examples
        --------
        >>> from sunpy_jets import JetClassifier
        >>> JetClassifier().prepare("no_such_*.fits")
        Traceback (most recent call last):
        ...
        sunpy_jets.exceptions.InputError: no files match the pattern 'no_such_*.fits'
        """
        if isinstance(data, PreparedSequence):
            if tuple(data.frames.shape[-2:]) != (self.config.image_size,) * 2:
                raise InputError(
                    f"the prepared sequence is {tuple(data.frames.shape[-2:])} but the model expects "
                    f"{self.config.image_size}×{self.config.image_size}; prepare it with this classifier's config"
                )
            return data
        return prepare_sequence(data, self.config, center=center, width=width)

    @torch.inference_mode()
    def _sequence_logits(self, prepared: list[PreparedSequence]) -> np.ndarray:
        """One logit per sequence: the maximum over its windows when it is longer than one window."""
        model, n = self.model.eval(), self.config.n_frames
        features = []
        frames = [p.frames for p in prepared]
        total = sum(len(f) for f in frames)
        chunk = self.batch_size * n
        logits = np.empty(len(prepared))
        with autocast(self.device, self.precision):
            with tqdm(total=total, unit="frame", desc="encoding", disable=not self.progress or total < 4 * chunk) as bar:
                for f in frames:
                    features.append(encode_in_chunks(model, f, chunk=chunk, device=self.device))
                    bar.update(len(f))
            # Sequences of the same length up to one window are batched through the LSTM together.
            by_length = {}
            for i, feats in enumerate(features):
                if len(feats) > n:
                    logits[i] = float(window_logits(model, feats, n, 1).max())
                else:
                    by_length.setdefault(len(feats), []).append(i)
            for idx in by_length.values():
                for start in range(0, len(idx), self.batch_size):
                    batch = idx[start : start + self.batch_size]
                    out = model.classify_features(torch.stack([features[i] for i in batch]))
                    logits[batch] = out.float().cpu().numpy()
        return logits

    def predict_proba(self, data, *, center=None, width=None):
        """
        Probability that a sequence holds a jet.

        Parameters
        ----------
        data : `~sunpy.map.MapSequence`, `~ndcube.NDCube`, `~ndcube.NDCubeSequence`, list of maps or FITS paths, glob
            One sequence, or a list of sequences (a list whose items are sequences).
        center : `~astropy.coordinates.SkyCoord`, optional
            Centre of a cutout (default: the whole frame, which must fit the model's field of view).
        width : `~astropy.units.Quantity`, optional
            Side of the cutout (default: the model's field of view).

        Returns
        -------
        float or `numpy.ndarray`
            A probability in [0, 1] for one sequence; a 1-D array for a list of sequences. A sequence
            longer than one window gets the highest probability of its windows (and a warning: use
            ``scan`` for the probability of every window).

        Raises
        ------
        `~sunpy_jets.exceptions.InputError`, `~sunpy_jets.exceptions.InputTypeError`
            For unusable input, before any model work.

        Examples
        --------
        >>> import numpy as np
        >>> from sunpy_jets import JetClassifier
        >>> JetClassifier().predict_proba(np.zeros((30, 166, 166)))
        Traceback (most recent call last):
        ...
        sunpy_jets.exceptions.InputTypeError: a bare 3-D array has no times or coordinates; give a sunpy.map.MapSequence, a list of sunpy maps, a list of FITS paths, a glob pattern or directory, a 3-D ndcube.NDCube with a time axis, an ndcube.NDCubeSequence of 2-D cubes, or a Fido search (for example sunpy.map.Map(list_of_files, sequence=True))
        """
        data = resolve_search(data, progress=self.progress)
        many = _is_many(data)
        items = list(data) if many else [data]
        if many and isinstance(data, Sequence) and len(data) == 0:
            raise InputError("the list of sequences is empty")
        prepared = [self._prepare_item(item, i, len(items) if many else None, center, width)
                    for i, item in enumerate(items)]  # fmt: skip
        long = [i for i, p in enumerate(prepared) if len(p) > self.config.n_frames]
        if long:
            warnings.warn(
                f"{len(long)} sequence(s) span more than the model's window of {self.config.n_frames} frames; each gets "
                "the highest probability of its windows (JetClassifier.scan gives every window's)",
                InputWarning,
                stacklevel=2,
            )
        proba = 1.0 / (1.0 + np.exp(-self._sequence_logits(prepared)))
        return proba if many else float(proba[0])

    def predict(self, data, *, center=None, width=None):
        """
        Whether a sequence holds a jet: `predict_proba` compared with the classifier's ``threshold``.

        Returns
        -------
        bool or `numpy.ndarray` of bool

        Examples
        --------
        >>> from sunpy_jets import JetClassifier
        >>> JetClassifier().predict(42)
        Traceback (most recent call last):
        ...
        sunpy_jets.exceptions.InputTypeError: cannot use a int as an image sequence; give a sunpy.map.MapSequence, a list of sunpy maps, a list of FITS paths, a glob pattern or directory, a 3-D ndcube.NDCube with a time axis, an ndcube.NDCubeSequence of 2-D cubes, or a Fido search
        """
        proba = self.predict_proba(data, center=center, width=width)
        return proba >= self.threshold if isinstance(proba, np.ndarray) else bool(proba >= self.threshold)

    def scan(self, data, *, stride=1, center=None, width=None, tiles=None, progress=None, **kwargs):
        """
        Jet probability of every sliding window of a long observation (and of every tile of a large field).

        Frames are read and preprocessed as a stream and each is encoded once; see
        `sunpy_jets.scanning.scan` for the options (``overlap``, ``method``, ``max_radius``) and the table.

        Returns
        -------
        `~sunpy_jets.scanning.ScanTable`
            ``start_time``, ``end_time``, ``probability``, ``centroid`` and, when tiled, the tile columns; a
            `~astropy.table.QTable` that ``write("windows.ecsv")`` and ``ScanTable.read`` round-trip.

        Examples
        --------
        >>> from sunpy_jets import JetClassifier
        >>> JetClassifier().scan("no_such_*.fits")
        Traceback (most recent call last):
        ...
        sunpy_jets.exceptions.InputError: no files match the pattern 'no_such_*.fits'
        """
        return scan(self, data, stride=stride, center=center, width=width, tiles=tiles, progress=progress, **kwargs)

    def detect(self, data, *, threshold=None, stride=1, **kwargs):
        """
        Jet events in a long observation: `scan`, then windows merged into events.

        See `sunpy_jets.scanning.detect` for the options (``low_threshold``, ``min_windows``, ``merge_gap``
        and those of `scan`).

        Returns
        -------
        `~sunpy_jets.events.JetEvents`

        Examples
        --------
        >>> from sunpy_jets import JetClassifier
        >>> JetClassifier().detect("no_such_*.fits", threshold=2)
        Traceback (most recent call last):
        ...
        sunpy_jets.exceptions.InputError: threshold must be between 0 and 1, not 2.0
        """
        return detect(self, data, threshold=threshold, stride=stride, **kwargs)
