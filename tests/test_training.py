"""Tests of sunpy_jets.training: the loop, best-epoch copy, resumable checkpoints, the card, grid search."""

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from sunpy_jets import JetClassifier
from sunpy_jets.exceptions import InputError, InputTypeError, TrainingError
from sunpy_jets.training import CHECKPOINT_NAME, TrainingRecipe, fit, grid_search, load_checkpoint

sys.path.insert(0, str(Path(__file__).parent))
from helpers_training import TINY, blob_datasets  # noqa: E402

FAST = TrainingRecipe(epochs=4, lr=3e-2, batch_size=4, patience=None, seed=3)


@pytest.fixture(autouse=True)
def one_thread():
    # The tests run beside other work on few cores; one thread is several times faster there.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def data():
    return blob_datasets(n_train=24, n_val=12, seed=0)


def _clf(seed=0):
    return JetClassifier(TINY, device="cpu", seed=seed, progress=False)


def _assert_same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k


def _without_time(records):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in records]


def test_short_training_learns(data):
    train, val = data
    clf = _clf()
    history = fit(clf, train, val, recipe=FAST.replace(epochs=8), progress=False)
    losses = history.column("train_loss")
    assert len(history) == 8
    assert losses[-1] < 0.8 * losses[0]
    # Chance level of F1 on a balanced set is about 0.5 (or 0.67 calling everything a jet).
    assert history.best["val_f1"] >= 0.85
    assert clf.card.metrics["validation"]["f1"] >= 0.85
    assert clf.card.metrics["validation"]["roc_auc"] >= 0.9


def test_returned_model_is_best_epoch_not_last(data):
    train, val = data
    snapshots = []

    def keep(record, classifier):
        snapshots.append({k: v.detach().clone() for k, v in classifier.model.state_dict().items()})

    clf = _clf()
    # A large SGD step makes validation F1 jump around, so early stopping ends after a worse epoch.
    recipe = TrainingRecipe(optimizer="sgd", lr=0.5, scheduler="none", batch_size=4, epochs=12, patience=2, seed=1)
    history = fit(clf, train, val, recipe=recipe, progress=False, callbacks=[keep])
    assert history.stopped == "early_stopping"
    last = len(history) - 1
    assert history.best_epoch < last
    state = clf.model.state_dict()
    for k, v in snapshots[history.best_epoch].items():
        assert torch.equal(state[k], v), k
    assert any(not torch.equal(state[k], v) for k, v in snapshots[last].items())


class _Crash(Exception):
    pass


def test_resume_after_interruption_is_bit_identical(data, tmp_path):
    train, val = data
    full = _clf()
    h_full = fit(full, train, val, recipe=FAST, checkpoint_dir=tmp_path / "full", progress=False)

    def crash_after_epoch_1(record, classifier):
        if record["epoch"] == 1:
            raise _Crash

    with pytest.raises(_Crash):
        fit(_clf(), train, val, recipe=FAST, checkpoint_dir=tmp_path / "cut", progress=False,
            callbacks=[crash_after_epoch_1])  # fmt: skip
    assert load_checkpoint(tmp_path / "cut")["meta"]["next_epoch"] == 2
    # The global generators moved on meanwhile; the checkpoint must restore them.
    torch.rand(100)
    resumed = _clf(seed=99)  # other initial weights: they must come from the checkpoint
    h_resumed = fit(resumed, train, val, recipe=FAST, checkpoint_dir=tmp_path / "cut", progress=False)
    assert h_resumed.resumed_from == 2
    _assert_same_weights(full.model, resumed.model)
    assert _without_time(h_full.records) == _without_time(h_resumed.records)
    assert full.threshold == resumed.threshold
    # A finished run is not trained again.
    again = _clf(seed=5)
    assert len(fit(again, train, val, recipe=FAST, checkpoint_dir=tmp_path / "full", progress=False)) == FAST.epochs
    _assert_same_weights(full.model, again.model)


_KILLED_RUN = """
import os, signal, sys
sys.path.insert(0, {tests!r})
import torch
torch.set_num_threads({threads})
from helpers_training import TINY, blob_datasets
from sunpy_jets import JetClassifier
from sunpy_jets.training import TrainingRecipe, fit
train, val = blob_datasets(n_train=24, n_val=12, seed=0)
def die(record, classifier):
    if record["epoch"] == 1:
        os.kill(os.getpid(), signal.SIGKILL)
fit(JetClassifier(TINY, device="cpu", seed=0, progress=False), train, val,
    recipe=TrainingRecipe(**{recipe!r}), checkpoint_dir={ckpt!r}, progress=False, callbacks=[die])
"""


def test_resume_after_sigkill_in_subprocess(data, tmp_path):
    train, val = data
    script = _KILLED_RUN.format(
        tests=str(Path(__file__).parent), threads=torch.get_num_threads(), recipe=FAST.to_dict(), ckpt=str(tmp_path)
    )
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    assert not list(tmp_path.glob("*.tmp"))  # the atomic write left no partial file
    assert load_checkpoint(tmp_path)["meta"]["next_epoch"] == 2
    resumed = _clf(seed=7)
    fit(resumed, train, val, recipe=FAST, checkpoint_dir=tmp_path, progress=False)
    full = _clf()
    fit(full, train, val, recipe=FAST, progress=False)
    _assert_same_weights(full.model, resumed.model)


def test_checkpoint_contents_and_refusals(data, tmp_path):
    train, val = data
    fit(_clf(), train, val, recipe=FAST.replace(epochs=1), checkpoint_dir=tmp_path, progress=False)
    path = tmp_path / CHECKPOINT_NAME
    state = torch.load(path, weights_only=True)  # only tensors and plain values
    assert {"model", "optimizer", "scheduler", "best_model", "rng", "meta"} <= set(state)
    assert {"torch", "numpy", "python", "generator"} <= set(state["rng"])
    with pytest.raises(TrainingError, match="another recipe"):
        fit(_clf(), train, val, recipe=FAST.replace(epochs=1, lr=0.5), checkpoint_dir=tmp_path, progress=False)
    other = JetClassifier(TINY.replace(hidden_size=4), device="cpu", seed=0, progress=False)
    with pytest.raises(TrainingError, match="another model configuration"):
        fit(other, train, val, recipe=FAST.replace(epochs=1), checkpoint_dir=tmp_path, progress=False)
    # resume=False starts afresh and overwrites.
    fresh = FAST.replace(epochs=1, lr=0.5)
    fit(_clf(), train, val, recipe=fresh, checkpoint_dir=tmp_path, resume=False, progress=False)
    assert load_checkpoint(tmp_path)["meta"]["recipe"]["lr"] == 0.5
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(TrainingError, match="cannot read the checkpoint"):
        load_checkpoint(tmp_path)


def test_fit_fills_card_and_save_load_round_trip(data, tmp_path):
    train, val = data
    clf = _clf()
    history = clf.fit(train, val, recipe=FAST.replace(epochs=2), data_description={"source": "blobs"}, progress=False)
    assert clf.card.threshold == clf.threshold
    training = clf.card.training
    assert training["recipe"] == FAST.replace(epochs=2).to_dict()
    assert training["data"] == {"n_train": 24, "n_train_positive": 12, "n_validation": 12,
                                "n_validation_positive": 6, "source": "blobs"}  # fmt: skip
    assert training["best_epoch"] == history.best_epoch
    assert len(training["history"]) == 2
    clf.save(tmp_path / "model")
    loaded = JetClassifier.load(tmp_path / "model", device="cpu")
    assert loaded.threshold == clf.threshold
    assert loaded.card.training == training
    assert loaded.card.metrics == clf.card.metrics
    assert loaded.config == TINY
    _assert_same_weights(clf.model, loaded.model)


def test_threshold_is_the_validation_fbeta_maximum(data):
    from sunpy_jets.training import predict_dataset, select_threshold

    train, val = data
    clf = _clf()
    fit(clf, train, val, recipe=FAST.replace(epochs=2, beta=3.0), progress=False)
    proba, labels = predict_dataset(clf, val, progress=False)
    assert clf.threshold == select_threshold(labels, proba, beta=3.0)
    assert clf.card.metrics["validation"]["threshold"] == clf.threshold
    assert clf.card.metrics["validation"]["recall"] == 1.0  # the lowest jet probability is the threshold here


def test_sgd_exponential_and_recipe_options(data):
    train, val = data
    clf = _clf()
    recipe = TrainingRecipe(optimizer="sgd", scheduler="exponential", gamma=0.5, lr=1e-2, batch_size=8, epochs=2,
                            pos_weight=2.0, grad_clip=1.0, amp="bf16", augment=False)  # fmt: skip
    history = fit(clf, train, val, recipe=recipe, progress=False)  # amp is ignored off CUDA
    assert history.column("lr").tolist() == pytest.approx([1e-2, 5e-3])


def test_grid_search_selects_by_validation_f1(data):
    train, val = data
    table, best = grid_search(
        TINY, train, val, optimizers=["adamw", "sgd"], schedulers=["none"], learning_rates=[1e-2],
        recipe=FAST.replace(epochs=2), device="cpu", progress=False,
    )  # fmt: skip
    assert len(table) == 2 and set(table["optimizer"]) == {"adamw", "sgd"}
    assert table["selected"].tolist() == [True, False]
    assert table["val_f1"][0] >= table["val_f1"][1]
    assert best.card.training["recipe"]["optimizer"] == table["optimizer"][0]
    assert best.card.training["best_epoch"] == table["best_epoch"][0]


def test_fit_validates_its_input(data):
    train, val = data
    with pytest.raises(InputTypeError, match="JetClassifier"):
        fit("model", train, val)
    with pytest.raises(InputTypeError, match="TrainingRecipe"):
        fit(_clf(), train, val, recipe={"lr": 1})
    with pytest.raises(InputTypeError, match="torch Dataset"):
        fit(_clf(), [1, 2], val)
    with pytest.raises(InputError, match="empty"):
        fit(_clf(), torch.utils.data.Subset(train, []), val)
    with pytest.raises(InputError, match="lr must be"):
        TrainingRecipe(lr=-1)
    with pytest.raises(InputError, match="unknown TrainingRecipe settings"):
        TrainingRecipe().replace(learning_rate=1)


def test_recipe_defaults_are_the_published_ones():
    recipe = TrainingRecipe()
    assert (recipe.optimizer, recipe.lr, recipe.weight_decay, recipe.scheduler, recipe.eta_min) == (
        "adamw", 1e-4, 1e-4, "cosine", 1e-10,
    )  # fmt: skip
    assert (recipe.batch_size, recipe.epochs, recipe.augment) == (2, 100, True)
    assert TrainingRecipe.from_dict(recipe.to_dict()) == recipe


def test_training_plots_draw(data):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sunpy_jets.training import predict_dataset
    from sunpy_jets.visualization import (
        plot_confusion_matrix,
        plot_pr_curve,
        plot_roc_curve,
        plot_threshold_scores,
        plot_training_history,
    )

    train, val = data
    clf = _clf()
    history = fit(clf, train, val, recipe=FAST.replace(epochs=2), progress=False)
    proba, labels = predict_dataset(clf, val, progress=False)
    fig, axs = plt.subplots(2, 3)
    try:
        ax = plot_training_history(history, axes=axs[0, 0])
        assert ax is axs[0, 0]
        assert ax.lines[0].get_ydata().tolist() == history.column("train_loss").tolist()
        assert ax.f1_axes.lines[0].get_ydata().tolist() == history.column("val_f1").tolist()
        # The card's training dict draws the same curves.
        assert len(plot_training_history(clf.card.training, axes=axs[1, 2]).lines) == len(ax.lines)
        ax = plot_confusion_matrix(clf.card.metrics["validation"], axes=axs[0, 1])
        assert ax is axs[0, 1] and len(ax.images) == 1
        assert [int(t.get_text()) for t in ax.texts] == sum(clf.card.metrics["validation"]["confusion_matrix"], [])
        assert [t.get_text() for t in plot_confusion_matrix([[3, 1], [0, 4]], normalize=True).texts] == [
            "0.75", "0.25", "0.00", "1.00",
        ]  # fmt: skip
        ax = plot_pr_curve(labels, proba, axes=axs[0, 2], threshold=clf.threshold)
        assert len(ax.lines) == 2 and ax.get_xlabel() == "recall"
        ax = plot_roc_curve(labels, proba, axes=axs[1, 0], threshold=clf.threshold)
        assert len(ax.lines) == 3 and "AUC" in ax.get_legend().get_texts()[0].get_text()
        ax = plot_threshold_scores(labels, proba, axes=axs[1, 1], threshold=clf.threshold)
        assert len(ax.lines) == 5
        with pytest.raises(InputError, match="2×2"):
            plot_confusion_matrix([1, 2, 3])
        with pytest.raises(InputError, match="both jets and non-jets"):
            plot_roc_curve([1, 1], [0.2, 0.3])
    finally:
        plt.close("all")
