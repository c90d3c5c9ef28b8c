"""
What happened during `~sunpy_jets.training.fit`, epoch by epoch (`TrainingHistory`).
"""

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from astropy.table import QTable

__all__ = ["TrainingHistory"]


@dataclass
class TrainingHistory:
    """
    What happened during `fit`, epoch by epoch.

    Attributes
    ----------
    records : list of dict
        One per epoch: ``epoch`` (from 0), ``train_loss``, ``val_loss``, ``val_f1``,
        ``val_accuracy``, ``val_precision``, ``val_recall``, ``lr`` and ``seconds``.
    best_epoch : int or None
        The epoch whose weights the classifier holds after `fit`.
    stopped : str
        ``"completed"`` (all epochs), ``"early_stopping"`` or ``"callback"``.
    resumed_from : int or None
        The epoch the run resumed at, when it continued a checkpoint.

    Examples
    --------
    >>> from sunpy_jets.training import TrainingHistory
    >>> h = TrainingHistory([{"epoch": 0, "train_loss": 0.7, "val_loss": 0.6, "val_f1": 0.5}], best_epoch=0)
    >>> h.best["val_f1"], len(h), h.to_table()["train_loss"].tolist()
    (0.5, 1, [0.7])
    """

    records: list = field(default_factory=list)
    best_epoch: int | None = None
    stopped: str = "completed"
    resumed_from: int | None = None

    def __len__(self):
        return len(self.records)

    @property
    def best(self) -> dict | None:
        """The record of the best epoch."""
        if self.best_epoch is None:
            return None
        return next(r for r in self.records if r["epoch"] == self.best_epoch)

    def column(self, name) -> np.ndarray:
        """
        One quantity over the epochs, e.g. ``history.column("val_f1")``; NaN where an epoch lacks it.

        Examples
        --------
        >>> from sunpy_jets.training import TrainingHistory
        >>> h = TrainingHistory([{"epoch": 0, "val_f1": 0.5}, {"epoch": 1}, {"epoch": 2, "val_f1": 0.75}])
        >>> h.column("val_f1")
        array([0.5 , nan, 0.75])
        """
        return np.array([r.get(name, np.nan) for r in self.records], dtype=float)

    def to_table(self) -> QTable:
        """The records as an `~astropy.table.QTable`, one row per epoch."""
        names = list(self.records[0]) if self.records else ["epoch"]
        return QTable(rows=[[r.get(n) for n in names] for r in self.records] or None, names=names)

    def to_dict(self) -> dict:
        """
        A JSON-serialisable dictionary.

        Examples
        --------
        >>> import json
        >>> from sunpy_jets.training import TrainingHistory
        >>> h = TrainingHistory([{"epoch": 0, "train_loss": 0.7}], best_epoch=0, stopped="early_stopping")
        >>> json.dumps(h.to_dict(), sort_keys=True)
        '{"best_epoch": 0, "records": [{"epoch": 0, "train_loss": 0.7}], "resumed_from": null, "stopped": "early_stopping"}'
        """
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d) -> "TrainingHistory":
        """
        Build a history from `to_dict` output.

        Examples
        --------
        >>> from sunpy_jets.training import TrainingHistory
        >>> h = TrainingHistory([{"epoch": 0, "val_f1": 0.5}, {"epoch": 1, "val_f1": 0.8}], best_epoch=1)
        >>> again = TrainingHistory.from_dict(h.to_dict())
        >>> again == h, again.best["val_f1"], again.column("val_f1").tolist()
        (True, 0.8, [0.5, 0.8])
        """
        return cls(**d)
