"""
Plots of sunpy_jets results, drawn with matplotlib on axes that can be given (``axes=None``) and returned.

Examples
--------
>>> from sunpy_jets.visualization import plot_confusion_matrix
"""

from .events import animate_window, plot_events_on_map, plot_probability
from .jet_figure import plot_jet_event
from .training import (
    plot_confusion_matrix,
    plot_pr_curve,
    plot_roc_curve,
    plot_threshold_scores,
    plot_training_history,
)

__all__ = [
    "plot_probability",
    "plot_events_on_map",
    "animate_window",
    "plot_jet_event",
    "plot_training_history",
    "plot_confusion_matrix",
    "plot_pr_curve",
    "plot_roc_curve",
    "plot_threshold_scores",
]
