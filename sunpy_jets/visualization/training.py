"""
Plots of training: loss and validation F1 per epoch, the confusion matrix, precision-recall and ROC
curves, and F1/F-beta against the decision threshold.

Each function draws on ``axes`` (a new figure's axes when not given) and returns the axes, as
sunpy's plotting functions do.
"""

import numpy as np
from sklearn import metrics as skm

from .._validation import as_labels_scores
from ..exceptions import InputError

__all__ = [
    "plot_training_history",
    "plot_confusion_matrix",
    "plot_pr_curve",
    "plot_roc_curve",
    "plot_threshold_scores",
]


def _axes(axes):
    if axes is None:
        import matplotlib.pyplot as plt

        axes = plt.figure().add_subplot()
    return axes


def plot_training_history(history, axes=None):
    """
    Training and validation loss (left axis) and validation F1 (right axis) against the epoch.

    Parameters
    ----------
    history : `~sunpy_jets.training.TrainingHistory`, list of dict, or dict
        The history of `~sunpy_jets.training.fit`, its records, or a model card's ``training``.
    axes : `matplotlib.axes.Axes`, optional

    Returns
    -------
    `matplotlib.axes.Axes`
        The loss axes; the F1 axes is its twin (``axes.f1_axes``).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sunpy_jets.visualization import plot_training_history
    >>> records = [{"epoch": 0, "train_loss": 0.7, "val_loss": 0.69, "val_f1": 0.5},
    ...            {"epoch": 1, "train_loss": 0.5, "val_loss": 0.55, "val_f1": 0.8}]
    >>> len(plot_training_history(records).lines)
    2
    """
    best = None
    if isinstance(history, dict):
        records, best = history.get("history", []), history.get("best_epoch")
    elif hasattr(history, "records"):
        records, best = history.records, history.best_epoch
    else:
        records = list(history)
    if not records:
        raise InputError("the history has no epochs to plot")
    axes = _axes(axes)
    epoch = [r["epoch"] for r in records]
    axes.plot(epoch, [r["train_loss"] for r in records], "o-", label="training loss")
    axes.plot(epoch, [r["val_loss"] for r in records], "s-", label="validation loss")
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss (BCE)")
    f1_axes = axes.twinx()
    f1_axes.plot(epoch, [r["val_f1"] for r in records], "^-", color="C2", label="validation F1")
    f1_axes.set_ylabel("validation F1")
    f1_axes.set_ylim(0, 1.02)
    if best is not None:
        axes.axvline(best, color="0.5", linestyle=":", label=f"best epoch ({best})")
    handles = axes.get_legend_handles_labels()
    twin = f1_axes.get_legend_handles_labels()
    axes.legend(handles[0] + twin[0], handles[1] + twin[1], loc="center right")
    axes.f1_axes = f1_axes
    return axes


def plot_confusion_matrix(matrix, axes=None, *, normalize=False):
    """
    The confusion matrix as an annotated image.

    Parameters
    ----------
    matrix : array-like or dict
        ``[[tn, fp], [fn, tp]]``, or a metrics dict of `~sunpy_jets.training.classification_metrics`.
    axes : `matplotlib.axes.Axes`, optional
    normalize : bool
        Show the fraction of each true class instead of counts.

    Returns
    -------
    `matplotlib.axes.Axes`

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sunpy_jets.visualization import plot_confusion_matrix
    >>> ax = plot_confusion_matrix([[120, 10], [8, 122]])
    >>> [t.get_text() for t in ax.texts]
    ['120', '10', '8', '122']
    """
    if isinstance(matrix, dict):
        matrix = matrix["confusion_matrix"]
    matrix = np.asarray(matrix, dtype=float)
    if matrix.shape != (2, 2):
        raise InputError(f"the confusion matrix must be 2×2 ([[tn, fp], [fn, tp]]), not {matrix.shape}")
    shown = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1) if normalize else matrix
    axes = _axes(axes)
    axes.imshow(shown, cmap="Blues", vmin=0)
    names = ["no jet", "jet"]
    axes.set_xticks([0, 1], names)
    axes.set_yticks([0, 1], names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    threshold = shown.max() / 2
    for i in range(2):
        for j in range(2):
            text = f"{shown[i, j]:.2f}" if normalize else f"{int(matrix[i, j])}"
            axes.text(j, i, text, ha="center", va="center", color="white" if shown[i, j] > threshold else "black")
    return axes


def plot_pr_curve(y_true, proba, axes=None, *, threshold=None, label=None):
    """
    Precision against recall (`sklearn.metrics.precision_recall_curve`), with the average precision.

    Parameters
    ----------
    y_true, proba : array-like
        Labels (0/1) and jet probabilities.
    axes : `matplotlib.axes.Axes`, optional
    threshold : float, optional
        Mark the operating point of this threshold.
    label : str, optional
        Legend label of the curve.

    Returns
    -------
    `matplotlib.axes.Axes`

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sunpy_jets.visualization import plot_pr_curve
    >>> ax = plot_pr_curve([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9], threshold=0.4)
    >>> len(ax.lines)
    2
    """

    y, p = as_labels_scores(y_true, proba)
    precision, recall, _ = skm.precision_recall_curve(y, p)
    ap = skm.average_precision_score(y, p)
    axes = _axes(axes)
    axes.plot(recall, precision, drawstyle="steps-post", label=f"{label or 'PR curve'} (AP {ap:.3f})")
    if threshold is not None:
        pred = p >= threshold
        r = skm.recall_score(y, pred, zero_division=0)
        pr = skm.precision_score(y, pred, zero_division=0)
        axes.plot([r], [pr], "o", color="C3", label=f"threshold {threshold:.3g}")
    axes.set_xlabel("recall")
    axes.set_ylabel("precision")
    axes.set_xlim(0, 1.02)
    axes.set_ylim(0, 1.02)
    axes.legend(loc="lower left")
    return axes


def plot_roc_curve(y_true, proba, axes=None, *, threshold=None, label=None):
    """
    True-positive rate against false-positive rate (`sklearn.metrics.roc_curve`), with the AUC.

    Parameters
    ----------
    y_true, proba : array-like
        Labels (0/1, both classes present) and jet probabilities.
    axes : `matplotlib.axes.Axes`, optional
    threshold : float, optional
        Mark the operating point of this threshold.
    label : str, optional
        Legend label of the curve.

    Returns
    -------
    `matplotlib.axes.Axes`

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sunpy_jets.visualization import plot_roc_curve
    >>> len(plot_roc_curve([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9]).lines)
    2
    """
    y, p = as_labels_scores(y_true, proba)
    if len(np.unique(y)) < 2:
        raise InputError("a ROC curve needs both jets and non-jets among the labels")
    fpr, tpr, _ = skm.roc_curve(y, p)
    auc = skm.roc_auc_score(y, p)
    axes = _axes(axes)
    axes.plot(fpr, tpr, label=f"{label or 'ROC curve'} (AUC {auc:.3f})")
    axes.plot([0, 1], [0, 1], color="0.6", linestyle="--", label="chance")
    if threshold is not None:
        pred = p >= threshold
        axes.plot([pred[y == 0].mean()], [pred[y == 1].mean()], "o", color="C3", label=f"threshold {threshold:.3g}")
    axes.set_xlabel("false-positive rate")
    axes.set_ylabel("true-positive rate (recall)")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.02)
    axes.legend(loc="lower right")
    return axes


def plot_threshold_scores(y_true, proba, axes=None, *, beta=2.0, threshold=None):
    """
    Precision, recall, F1 and F-beta against the decision threshold (see `~sunpy_jets.training.threshold_scores`).

    Parameters
    ----------
    y_true, proba : array-like
        Labels (0/1) and jet probabilities, e.g. of the validation set.
    axes : `matplotlib.axes.Axes`, optional
    beta : float
        The beta of the F-beta curve.
    threshold : float, optional
        Mark a chosen threshold (e.g. the classifier's).

    Returns
    -------
    `matplotlib.axes.Axes`

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sunpy_jets.visualization import plot_threshold_scores
    >>> len(plot_threshold_scores([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9], threshold=0.4).lines)
    5
    """
    # torch only for this plot: sunpy_jets.training imports torch, the other plots need none
    from ..training import threshold_scores

    table = threshold_scores(y_true, proba, beta=beta)
    axes = _axes(axes)
    t = table["threshold"]
    for name, style in (("precision", ":"), ("recall", "--"), ("f1", "-")):
        axes.plot(t, table[name], style, drawstyle="steps-post", label=name if name != "f1" else "F1")
    axes.plot(t, table["fbeta"], "-", linewidth=2, drawstyle="steps-post", label=f"F{beta:g}")
    if threshold is not None:
        axes.axvline(threshold, color="0.3", linestyle="-.", label=f"threshold {threshold:.3g}")
    axes.set_xlabel("threshold (jet probability)")
    axes.set_ylabel("score")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.02)
    axes.legend(loc="lower left")
    return axes
