"""
What training works on and produces: a network with its model card and decision threshold.

`fit` trains any object with the attributes of a `TrainedModel` (``model``, ``config``, ``device``,
``card``, ``threshold``), a `~sunpy_jets.JetClassifier` among them, so training needs nothing from the
classifier; `grid_search` returns its best run as a `TrainedModel`, which
`JetClassifier.from_trained <sunpy_jets.JetClassifier.from_trained>` turns into a classifier.
"""

from dataclasses import dataclass

import torch

from .._validation import as_count, as_probability
from ..exceptions import InputTypeError
from ..model import JetModelConfig, JetRCNN, ModelCard, build_network

__all__ = ["TrainedModel", "check_trainee"]

# What `fit` needs of the object it trains.
_TRAINEE_ATTRIBUTES = ("model", "config", "device", "card", "threshold")


@dataclass
class TrainedModel:
    """
    A network, its model card and its decision threshold.

    Parameters
    ----------
    model : `~sunpy_jets.model.JetRCNN`
        The network (on ``device``).
    card : `~sunpy_jets.model.ModelCard`
        Its model card (training recipe, data and metrics once trained).
    threshold : float
        Probability above which a window is called a jet.
    device : `torch.device`
        Where the network is.
    batch_size : int
        Sequences per batch at validation.
    progress : bool
        Show progress bars while training.

    Examples
    --------
    >>> from sunpy_jets.model import JetModelConfig
    >>> from sunpy_jets.training import TrainedModel
    >>> trained = TrainedModel.new(JetModelConfig(image_size=16, channels=(4,), hidden_size=4), seed=0)
    >>> trained.config.image_size, trained.threshold
    (16, 0.5)
    """

    model: JetRCNN
    card: ModelCard
    threshold: float = 0.5
    device: torch.device = torch.device("cpu")
    batch_size: int = 8
    progress: bool = False

    def __post_init__(self):
        if not isinstance(self.model, JetRCNN):
            raise InputTypeError(f"model must be a JetRCNN, not {type(self.model).__name__}")
        self.threshold = as_probability(self.threshold, "threshold")
        self.batch_size = as_count(self.batch_size, "batch_size")

    @property
    def config(self) -> JetModelConfig:
        """The network's configuration."""
        return self.model.config

    @classmethod
    def new(cls, config: JetModelConfig, *, seed=None, device="cpu", **kwargs) -> "TrainedModel":
        """An untrained network (initial weights from ``seed``) with a fresh card."""
        device = torch.device(device)
        model = build_network(config, seed=seed).to(device).eval()
        card = ModelCard(config=config, description="untrained (random weights)")
        return cls(model=model, card=card, device=device, **kwargs)


def check_trainee(trainee) -> None:
    """Raise `~sunpy_jets.exceptions.InputTypeError` unless ``trainee`` has what `fit` trains."""
    missing = [name for name in _TRAINEE_ATTRIBUTES if not hasattr(trainee, name)]
    if missing:
        raise InputTypeError(
            f"classifier must be a JetClassifier or a TrainedModel (with {', '.join(_TRAINEE_ATTRIBUTES)}), "
            f"not {type(trainee).__name__}"
        )
