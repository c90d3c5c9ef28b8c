"""
`TrainingRecipe`: every setting of a training run, JSON-serialisable so that it is stored in the model card.

The defaults are the published recipe (CS-433): binary cross-entropy on logits, AdamW with learning
rate 1e-4 and weight decay 1e-4, cosine annealing over the epochs down to 1e-10, batch size 2, up to
100 epochs, and random flips and 90° rotations of the training sequences.
"""

import dataclasses
import json
import math
from dataclasses import dataclass

from ..exceptions import InputError

__all__ = ["TrainingRecipe", "OPTIMIZERS", "SCHEDULERS", "AMP_MODES"]

#: Optimisers `TrainingRecipe.optimizer` accepts.
OPTIMIZERS = ("adamw", "sgd")
#: Learning-rate schedules `TrainingRecipe.scheduler` accepts.
SCHEDULERS = ("cosine", "exponential", "none")
#: Mixed-precision modes `TrainingRecipe.amp` accepts (used on CUDA only).
AMP_MODES = ("none", "bf16", "fp16")


@dataclass(frozen=True)
class TrainingRecipe:
    """
    How to train a `~sunpy_jets.JetClassifier`.

    Parameters
    ----------
    optimizer : {"adamw", "sgd"}
        AdamW, or SGD with Nesterov momentum ``momentum``.
    lr : float
        Initial learning rate.
    weight_decay : float
        Decoupled (AdamW) or L2 (SGD) weight decay.
    momentum : float
        Momentum of SGD (Nesterov).
    scheduler : {"cosine", "exponential", "none"}
        Cosine annealing over ``epochs`` down to ``eta_min``, exponential decay by ``gamma`` per
        epoch, or a constant learning rate.
    eta_min : float
        Final learning rate of the cosine schedule.
    gamma : float
        Decay per epoch of the exponential schedule.
    batch_size : int
        Sequences per training batch.
    epochs : int
        Maximum number of epochs.
    patience : int or None
        Stop after this many epochs without a better validation F1 (``None``: never stop early).
    threshold : float
        Decision threshold of the validation F1 monitored during training (the final threshold is
        chosen afterwards on the validation set, see ``beta``).
    beta : float
        The F-beta whose maximum on the validation set picks the final threshold (2 favours recall).
    augment : bool
        Random flips and 90° rotations of the training sequences (for datasets of
        `sunpy_jets.datasets`, which take their own ``augment`` option, this is recorded only).
    pos_weight : float or None
        Weight of the positive class in the loss (``None``: 1).
    seed : int
        Seed of the weights, shuffling, dropout and augmentation.
    num_workers : int
        `~torch.utils.data.DataLoader` worker processes.
    amp : {"none", "bf16", "fp16"}
        Mixed precision (autocast) on CUDA; ignored on other devices.
    grad_clip : float or None
        Clip the gradient norm to this value.

    Examples
    --------
    >>> from sunpy_jets.training import TrainingRecipe
    >>> recipe = TrainingRecipe()
    >>> recipe.optimizer, recipe.lr, recipe.scheduler, recipe.batch_size, recipe.epochs
    ('adamw', 0.0001, 'cosine', 2, 100)
    >>> TrainingRecipe.from_dict(recipe.replace(lr=1e-3).to_dict()).lr
    0.001
    >>> TrainingRecipe(optimizer="adam")
    Traceback (most recent call last):
    ...
    sunpy_jets.exceptions.InputError: invalid TrainingRecipe: optimizer must be one of adamw, sgd, not 'adam'
    """

    optimizer: str = "adamw"
    lr: float = 1e-4
    weight_decay: float = 1e-4
    momentum: float = 0.9
    scheduler: str = "cosine"
    eta_min: float = 1e-10
    gamma: float = 0.9
    batch_size: int = 2
    epochs: int = 100
    patience: int | None = 10
    threshold: float = 0.5
    beta: float = 2.0
    augment: bool = True
    pos_weight: float | None = None
    seed: int = 0
    num_workers: int = 0
    amp: str = "none"
    grad_clip: float | None = None

    def __post_init__(self):
        def count(v, low):
            return isinstance(v, int) and not isinstance(v, bool) and v >= low

        def positive_int(v):
            return count(v, 1)

        def finite(v, low=0.0):
            return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= low

        checks = [
            (self.optimizer in OPTIMIZERS, f"optimizer must be one of {', '.join(OPTIMIZERS)}, not {self.optimizer!r}"),
            (self.scheduler in SCHEDULERS, f"scheduler must be one of {', '.join(SCHEDULERS)}, not {self.scheduler!r}"),
            (self.amp in AMP_MODES, f"amp must be one of {', '.join(AMP_MODES)}, not {self.amp!r}"),
            (finite(self.lr) and self.lr > 0, f"lr must be a positive number, not {self.lr!r}"),
            (finite(self.weight_decay), f"weight_decay must be a non-negative number, not {self.weight_decay!r}"),
            (finite(self.momentum) and self.momentum < 1, f"momentum must be in [0, 1), not {self.momentum!r}"),
            (finite(self.eta_min), f"eta_min must be a non-negative number, not {self.eta_min!r}"),
            (finite(self.gamma) and 0 < self.gamma <= 1, f"gamma must be in (0, 1], not {self.gamma!r}"),
            (positive_int(self.batch_size), f"batch_size must be a positive integer, not {self.batch_size!r}"),
            (positive_int(self.epochs), f"epochs must be a positive integer, not {self.epochs!r}"),
            (self.patience is None or positive_int(self.patience),
             f"patience must be None or a positive integer, not {self.patience!r}"),
            (finite(self.threshold) and self.threshold <= 1, f"threshold must be in [0, 1], not {self.threshold!r}"),
            (finite(self.beta) and self.beta > 0, f"beta must be a positive number, not {self.beta!r}"),
            (isinstance(self.augment, bool), f"augment must be True or False, not {self.augment!r}"),
            (self.pos_weight is None or (finite(self.pos_weight) and self.pos_weight > 0),
             f"pos_weight must be None or a positive number, not {self.pos_weight!r}"),
            (count(self.seed, 0), f"seed must be a non-negative integer, not {self.seed!r}"),
            (count(self.num_workers, 0), f"num_workers must be a non-negative integer, not {self.num_workers!r}"),
            (self.grad_clip is None or (finite(self.grad_clip) and self.grad_clip > 0),
             f"grad_clip must be None or a positive number, not {self.grad_clip!r}"),
        ]  # fmt: skip
        for ok, message in checks:
            if not ok:
                raise InputError(f"invalid TrainingRecipe: {message}")

    def replace(self, **changes) -> "TrainingRecipe":
        """
        A copy with some settings changed.

        Examples
        --------
        >>> from sunpy_jets.training import TrainingRecipe
        >>> TrainingRecipe().replace(optimizer="sgd", lr=0.01).optimizer
        'sgd'
        """
        names = {f.name for f in dataclasses.fields(self)}
        unknown = set(changes) - names
        if unknown:
            raise InputError(f"unknown TrainingRecipe settings {sorted(unknown)}; known ones are {sorted(names)}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """
        The recipe as a JSON-serialisable dictionary.

        Examples
        --------
        >>> from sunpy_jets.training import TrainingRecipe
        >>> TrainingRecipe().to_dict()["weight_decay"]
        0.0001
        """
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainingRecipe":
        """
        Build a recipe from `to_dict` output (e.g. a model card's ``training["recipe"]``).

        Examples
        --------
        >>> from sunpy_jets.training import TrainingRecipe
        >>> TrainingRecipe.from_dict({"epochs": 5}).epochs
        5
        """
        if not isinstance(d, dict):
            raise InputError(f"a training recipe must be a dict, not {type(d).__name__}")
        return cls().replace(**d)

    def to_json(self) -> str:
        """
        The recipe as a JSON string.

        Examples
        --------
        >>> from sunpy_jets.training import TrainingRecipe
        >>> '"optimizer": "adamw"' in TrainingRecipe().to_json()
        True
        """
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)
