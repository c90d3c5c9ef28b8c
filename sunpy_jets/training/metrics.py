"""
Classification metrics, threshold selection and evaluation of a classifier on a dataset.

All scores come from `sklearn.metrics`. Results are plain JSON-serialisable dictionaries (an
undefined score, such as a ROC AUC on a set with one class, is ``None``) so that they can be stored
in a model card.
"""

import numpy as np
import torch
from sklearn import metrics as skm
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.table import QTable

from .._validation import as_labels_scores, as_probability
from ..exceptions import InputError, InputTypeError

__all__ = [
    "LIMB_RADIUS",
    "classification_metrics",
    "threshold_scores",
    "select_threshold",
    "predict_dataset",
    "off_limb_mask",
    "evaluate",
]

#: Distance from disk centre beyond which a position counts as off limb (the solar radius seen from
#: Earth is 945″–976″; 900″ keeps limb jets, whose bases sit just inside, with the off-limb ones).
LIMB_RADIUS = 900 * u.arcsec


def _opt(value):
    return None if value is None or not np.isfinite(value) else float(value)


def classification_metrics(y_true, proba, *, threshold=0.5, beta=2.0) -> dict:
    """
    Scores of probabilities against 0/1 labels.

    Parameters
    ----------
    y_true : array-like
        Labels, 1 jet and 0 no jet.
    proba : array-like
        Predicted jet probabilities.
    threshold : float
        A sample is called a jet when its probability is at least this.
    beta : float
        The beta of the F-beta score (2 weighs recall twice as much as precision).

    Returns
    -------
    dict
        ``n``, ``n_positive``, ``threshold``, ``beta``, ``accuracy``, ``precision``, ``recall``,
        ``f1``, ``fbeta``, ``roc_auc`` and ``pr_auc`` (average precision; both ``None`` when only
        one class is present), ``confusion_matrix`` (``[[tn, fp], [fn, tp]]``).

    Examples
    --------
    >>> from sunpy_jets.training import classification_metrics
    >>> m = classification_metrics([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9], threshold=0.5)
    >>> m["accuracy"], m["f1"], m["roc_auc"], m["confusion_matrix"]
    (0.5, 0.5, 0.75, [[1, 1], [1, 1]])
    """
    y, p = as_labels_scores(y_true, proba)
    pred = (p >= threshold).astype(int)
    both = len(np.unique(y)) == 2
    return {
        "n": int(y.size),
        "n_positive": int(y.sum()),
        "threshold": float(threshold),
        "beta": float(beta),
        "accuracy": float(skm.accuracy_score(y, pred)),
        "precision": float(skm.precision_score(y, pred, zero_division=0)),
        "recall": float(skm.recall_score(y, pred, zero_division=0)),
        "f1": float(skm.f1_score(y, pred, zero_division=0)),
        "fbeta": float(skm.fbeta_score(y, pred, beta=beta, zero_division=0)),
        "roc_auc": _opt(skm.roc_auc_score(y, p)) if both else None,
        "pr_auc": _opt(skm.average_precision_score(y, p)) if both else None,
        "confusion_matrix": skm.confusion_matrix(y, pred, labels=[0, 1]).tolist(),
    }


def threshold_scores(y_true, proba, *, beta=2.0) -> QTable:
    """
    Precision, recall, F1 and F-beta at every distinct threshold (`sklearn.metrics.precision_recall_curve`).

    Parameters
    ----------
    y_true, proba : array-like
        Labels (0/1) and jet probabilities, e.g. of the validation set.
    beta : float
        The beta of the F-beta column.

    Returns
    -------
    `~astropy.table.QTable`
        Columns ``threshold``, ``precision``, ``recall``, ``f1``, ``fbeta``, by increasing threshold;
        a sample is called a jet when its probability is at least the threshold.

    Examples
    --------
    >>> from sunpy_jets.training import threshold_scores
    >>> t = threshold_scores([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9])
    >>> t["threshold"].tolist(), t["f1"].round(3).tolist()
    ([0.1, 0.4, 0.6, 0.9], [0.667, 0.8, 0.5, 0.667])
    """
    y, p = as_labels_scores(y_true, proba)
    if y.sum() == 0:
        raise InputError("threshold selection needs at least one jet among the labels")
    precision, recall, thresholds = skm.precision_recall_curve(y, p)
    precision, recall = precision[:-1], recall[:-1]  # the last point (recall 0) has no threshold

    def f_score(b):
        with np.errstate(invalid="ignore", divide="ignore"):
            f = (1 + b**2) * precision * recall / (b**2 * precision + recall)
        return np.nan_to_num(f, nan=0.0)

    return QTable(
        {"threshold": thresholds, "precision": precision, "recall": recall, "f1": f_score(1.0), "fbeta": f_score(beta)},
        meta={"beta": float(beta)},
    )


def select_threshold(y_true, proba, *, beta=2.0) -> float:
    """
    The threshold that maximises F-beta on (validation) data; ``beta > 1`` favours recall.

    Among equally good thresholds the lowest is taken, again in favour of recall.

    Examples
    --------
    >>> from sunpy_jets.training import select_threshold
    >>> select_threshold([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9], beta=1)
    0.4
    >>> select_threshold([0, 0, 1, 1], [0.1, 0.6, 0.05, 0.9], beta=2)
    0.05
    """
    table = threshold_scores(y_true, proba, beta=beta)
    return float(table["threshold"][int(np.argmax(table["fbeta"]))])


@torch.inference_mode()
def predict_dataset(classifier, dataset, *, batch_size=None, progress=None):
    """
    Jet probabilities and labels of every sample of a dataset of ``(frames, label)`` pairs.

    Parameters
    ----------
    classifier : `~sunpy_jets.JetClassifier`
        The classifier (its model is put in evaluation mode).
    dataset : `torch.utils.data.Dataset`
        Yields ``(frames (T, 1, H, W), label)``.
    batch_size : int, optional
        Default: the classifier's.
    progress : bool, optional
        Default: the classifier's.

    Returns
    -------
    proba, labels : `numpy.ndarray`

    Examples
    --------
    >>> import torch
    >>> from sunpy_jets import JetClassifier
    >>> from sunpy_jets.datasets import TensorJetDataset
    >>> from sunpy_jets.model import JetModelConfig
    >>> clf = JetClassifier(JetModelConfig(image_size=16, channels=(4,), hidden_size=4), device="cpu", seed=0)
    >>> proba, labels = predict_dataset(clf, TensorJetDataset(torch.zeros(3, 2, 16, 16), [0, 1, 1]), progress=False)
    >>> proba.shape, labels.tolist()
    ((3,), [0.0, 1.0, 1.0])
    """
    if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
        raise InputTypeError(f"dataset must be a torch Dataset of (frames, label) pairs, not {type(dataset).__name__}")
    if len(dataset) == 0:
        raise InputError("the dataset is empty")
    batch_size = classifier.batch_size if batch_size is None else batch_size
    progress = classifier.progress if progress is None else progress
    model = classifier.model.eval()
    probas, labels = [], []
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False)
    for x, y in tqdm(loader, desc="evaluating", unit="batch", disable=not progress, leave=False):
        logits = model(x.to(classifier.device, non_blocking=True))
        probas.append(torch.sigmoid(logits.float()).cpu().numpy())
        labels.append(np.asarray(y, dtype=float).reshape(-1))
    return np.concatenate(probas).astype(float), np.concatenate(labels)


def off_limb_mask(positions, *, radius=LIMB_RADIUS) -> np.ndarray:
    """
    Whether each position lies at least ``radius`` from disk centre (helioprojective).

    Parameters
    ----------
    positions : `~astropy.coordinates.SkyCoord`
        Base positions, in (or transformable to) a helioprojective frame.
    radius : `~astropy.units.Quantity`
        Angular distance from disk centre that separates disk from off-limb.

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.coordinates import SkyCoord
    >>> from sunpy.coordinates import Helioprojective
    >>> frame = Helioprojective(observer="earth", obstime="2014-01-01")
    >>> off_limb_mask(SkyCoord([0, 950] * u.arcsec, [0, 100] * u.arcsec, frame=frame)).tolist()
    [False, True]
    """
    from sunpy.coordinates import Helioprojective

    if not isinstance(positions, SkyCoord):
        raise InputTypeError(f"positions must be a SkyCoord, not {type(positions).__name__}")
    if not isinstance(radius, u.Quantity) or not radius.unit.is_equivalent(u.arcsec):
        raise InputError(f"radius must be an angle Quantity, such as 900 * u.arcsec, not {radius!r}")
    if not isinstance(positions.frame, Helioprojective):
        try:
            positions = positions.transform_to(Helioprojective(observer="earth", obstime=positions.obstime))
        except Exception as exc:
            raise InputError(f"positions cannot be expressed in helioprojective coordinates: {exc}") from exc
    r = np.hypot(positions.Tx.to_value(u.arcsec), positions.Ty.to_value(u.arcsec))
    return np.atleast_1d(r >= radius.to_value(u.arcsec))


def _subset_metrics(y, p, mask, threshold, beta):
    if not mask.any():
        return None
    return classification_metrics(y[mask], p[mask], threshold=threshold, beta=beta)


def evaluate(classifier, dataset, *, threshold=None, positions=None, beta=2.0, batch_size=None, progress=None) -> dict:
    """
    Score a classifier on a dataset, overall and (with positions) on disk and off limb.

    Parameters
    ----------
    classifier : `~sunpy_jets.JetClassifier`
        The classifier.
    dataset : `torch.utils.data.Dataset`
        Yields ``(frames (T, 1, H, W), label)``, e.g. one set of a grouped split.
    threshold : float, optional
        Decision threshold (default: the classifier's).
    positions : `~astropy.coordinates.SkyCoord`, optional
        The base position of each sample; adds ``on_disk`` and ``off_limb`` scores (split at
        `LIMB_RADIUS` from disk centre; ``None`` when a part is empty).
    beta : float
        The beta of the F-beta score.
    batch_size : int, optional
        Default: the classifier's.
    progress : bool, optional
        Default: the classifier's.

    Returns
    -------
    dict
        The scores of `classification_metrics`, plus ``on_disk`` and ``off_limb`` when positions are given.

    Examples
    --------
    >>> import torch
    >>> from sunpy_jets import JetClassifier
    >>> from sunpy_jets.datasets import TensorJetDataset
    >>> from sunpy_jets.model import JetModelConfig
    >>> clf = JetClassifier(JetModelConfig(image_size=16, channels=(4,), hidden_size=4), device="cpu", seed=0)
    >>> scores = evaluate(clf, TensorJetDataset(torch.zeros(4, 2, 16, 16), [0, 1, 0, 1]), progress=False)
    >>> scores["n"], scores["n_positive"], scores["threshold"]
    (4, 2, 0.5)
    """
    threshold = classifier.threshold if threshold is None else as_probability(threshold, "threshold")
    proba, y = predict_dataset(classifier, dataset, batch_size=batch_size, progress=progress)
    result = classification_metrics(y, proba, threshold=threshold, beta=beta)
    if positions is not None:
        off = off_limb_mask(positions)
        if off.shape != y.shape:
            raise InputError(f"positions has {off.size} entries but the dataset {y.size}: give one per sample")
        result["on_disk"] = _subset_metrics(y, proba, ~off, threshold, beta)
        result["off_limb"] = _subset_metrics(y, proba, off, threshold, beta)
    return result
