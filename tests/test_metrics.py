"""Tests of sunpy_jets.training.metrics: scores, threshold selection, evaluation on disk and off limb."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn import metrics as skm

import astropy.units as u
from astropy.coordinates import SkyCoord

from sunpy.coordinates import Helioprojective

from sunpy_jets import JetClassifier
from sunpy_jets.datasets import TensorJetDataset
from sunpy_jets.exceptions import InputError, InputTypeError
from sunpy_jets.training import (
    LIMB_RADIUS,
    classification_metrics,
    evaluate,
    off_limb_mask,
    predict_dataset,
    select_threshold,
    threshold_scores,
)

sys.path.insert(0, str(Path(__file__).parent))
from helpers_training import TINY, blob_sequences  # noqa: E402


def test_classification_metrics_match_hand_counts():
    y = [1, 1, 1, 0, 0, 0, 0, 1]
    p = [0.9, 0.8, 0.3, 0.2, 0.6, 0.1, 0.05, 0.55]
    m = classification_metrics(y, p, threshold=0.5, beta=2)
    # tp = 3 (0.9, 0.8, 0.55), fn = 1 (0.3), fp = 1 (0.6), tn = 3
    assert m["confusion_matrix"] == [[3, 1], [1, 3]]
    assert m["accuracy"] == 0.75 and m["precision"] == 0.75 and m["recall"] == 0.75 and m["f1"] == 0.75
    assert m["fbeta"] == pytest.approx(0.75)
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p))
    assert m["pr_auc"] == pytest.approx(skm.average_precision_score(y, p))
    assert (m["n"], m["n_positive"]) == (8, 4)
    # A probability equal to the threshold counts as a jet, as in JetClassifier.predict.
    assert classification_metrics([1], [0.5], threshold=0.5)["recall"] == 1.0


def test_one_class_gives_undefined_aucs_without_warning():
    m = classification_metrics([0, 0, 0], [0.1, 0.7, 0.2])
    assert m["roc_auc"] is None and m["pr_auc"] is None
    assert m["precision"] == 0.0 and m["confusion_matrix"] == [[2, 1], [0, 0]]


def test_threshold_selection_favours_recall():
    y = [0, 0, 0, 0, 1, 1, 1, 1]
    p = [0.05, 0.15, 0.2, 0.6, 0.12, 0.7, 0.8, 0.9]
    table = threshold_scores(y, p, beta=2)
    assert np.all(np.diff(table["threshold"]) > 0)
    i = int(np.argmax(table["f1"]))
    assert table["threshold"][i] == 0.7  # F1 alone keeps the missed jet at 0.12 out
    # F-beta (beta 2) goes down to the jet at 0.12, catching every jet.
    assert select_threshold(y, p, beta=2) == 0.12
    assert select_threshold(y, p, beta=1) == 0.7
    chosen = classification_metrics(y, p, threshold=0.12)
    assert chosen["recall"] == 1.0
    f2 = table["fbeta"][table["threshold"] == 0.12][0]
    assert f2 == pytest.approx(chosen["fbeta"])


def test_bad_inputs_are_refused():
    with pytest.raises(InputError, match="one probability per label"):
        classification_metrics([0, 1], [0.5])
    with pytest.raises(InputError, match="0 \\(no jet\\) or 1"):
        classification_metrics([0, 2], [0.5, 0.5])
    with pytest.raises(InputError, match="in \\[0, 1\\]"):
        classification_metrics([0, 1], [0.5, 1.5])
    with pytest.raises(InputError, match="at least one jet"):
        select_threshold([0, 0], [0.1, 0.2])
    with pytest.raises(InputTypeError, match="SkyCoord"):
        off_limb_mask([0, 1])


def _frame():
    return Helioprojective(observer="earth", obstime="2014-01-01T00:00:00")


def test_off_limb_mask_uses_900_arcsec():
    assert LIMB_RADIUS == 900 * u.arcsec
    pos = SkyCoord([0, 899, 636.4, -700, 10] * u.arcsec, [0, 0, 636.4, -700, -950] * u.arcsec, frame=_frame())
    assert off_limb_mask(pos).tolist() == [False, False, True, True, True]
    assert off_limb_mask(pos, radius=1000 * u.arcsec).tolist() == [False] * 5
    with pytest.raises(InputError, match="angle"):
        off_limb_mask(pos, radius=900 * u.km)


def test_evaluate_splits_on_disk_and_off_limb():
    x, y = blob_sequences(8, seed=1)
    clf = JetClassifier(TINY, device="cpu", seed=0, progress=False)
    ds = TensorJetDataset(x, y)
    proba, labels = predict_dataset(clf, ds)
    assert labels.tolist() == y.tolist()
    positions = SkyCoord([0, 100, 950, 0, 200, -980, 0, 300] * u.arcsec, [0] * 8 * u.arcsec, frame=_frame())
    scores = evaluate(clf, ds, positions=positions, threshold=0.5)
    off = np.array([False, False, True, False, False, True, False, False])
    assert scores["n"] == 8 and scores["off_limb"]["n"] == 2 and scores["on_disk"]["n"] == 6
    assert scores["off_limb"] == classification_metrics(labels[off], proba[off], threshold=0.5)
    assert scores["on_disk"] == classification_metrics(labels[~off], proba[~off], threshold=0.5)
    assert scores == {**classification_metrics(labels, proba, threshold=0.5), "on_disk": scores["on_disk"],
                      "off_limb": scores["off_limb"]}  # fmt: skip
    # Without positions there is no split; the threshold defaults to the classifier's.
    clf.threshold = 0.3
    plain = evaluate(clf, ds)
    assert "off_limb" not in plain and plain["threshold"] == 0.3
    with pytest.raises(InputError, match="one per sample"):
        evaluate(clf, ds, positions=positions[:3])
    with pytest.raises(InputError, match="empty"):
        evaluate(clf, torch.utils.data.Subset(ds, []))
