"""
Training jet classifiers: the published recipe, the training loop with resumable checkpoints,
metrics and threshold selection, and a grid search.

Examples
--------
>>> from sunpy_jets.training import TrainingRecipe
>>> TrainingRecipe().lr
0.0001
"""

from .checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from .history import TrainingHistory
from .loop import fit
from .metrics import (
    LIMB_RADIUS,
    classification_metrics,
    evaluate,
    off_limb_mask,
    predict_dataset,
    select_threshold,
    threshold_scores,
)
from .recipe import AMP_MODES, OPTIMIZERS, SCHEDULERS, TrainingRecipe
from .result import TrainedModel
from .search import grid_search
from .synthetic_data import synthetic_dataset

__all__ = [
    "TrainingRecipe",
    "OPTIMIZERS",
    "SCHEDULERS",
    "AMP_MODES",
    "TrainingHistory",
    "TrainedModel",
    "fit",
    "CHECKPOINT_NAME",
    "save_checkpoint",
    "load_checkpoint",
    "LIMB_RADIUS",
    "classification_metrics",
    "threshold_scores",
    "select_threshold",
    "predict_dataset",
    "off_limb_mask",
    "evaluate",
    "grid_search",
    "synthetic_dataset",
]
