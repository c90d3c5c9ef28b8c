"""Grid search over optimiser × learning-rate schedule × learning rate, selected by validation F1."""

import itertools
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from astropy.table import QTable

from ..exceptions import InputError, InputTypeError

from .loop import fit
from ..model import resolve_device
from .recipe import TrainingRecipe
from .result import TrainedModel

__all__ = ["grid_search"]


def _as_tuple(values, name):
    if isinstance(values, (str, float, int)):
        values = (values,)
    values = tuple(values)
    if not values:
        raise InputError(f"{name} must hold at least one value")
    return values


def grid_search(
    config,
    train,
    validation,
    *,
    optimizers=("adamw", "sgd"),
    schedulers=("cosine", "exponential"),
    learning_rates=(1e-3, 1e-4),
    recipe=None,
    device="auto",
    checkpoint_dir=None,
    progress=True,
):
    """
    Train one classifier per combination of optimiser, schedule and learning rate; keep the best.

    Every run starts from the same initial weights (``recipe.seed``) and sees the same batches, so
    the runs differ only in the searched settings. The best run has the highest validation F1 of
    its best epoch (ties: the lower validation loss).

    Parameters
    ----------
    config : `~sunpy_jets.model.JetModelConfig`
        The architecture.
    train, validation : `torch.utils.data.Dataset`
        As for `~sunpy_jets.training.fit`.
    optimizers, schedulers : sequence of str
        Values of `~sunpy_jets.training.TrainingRecipe` ``optimizer`` and ``scheduler``.
    learning_rates : sequence of float
        Initial learning rates.
    recipe : `~sunpy_jets.training.TrainingRecipe`, optional
        The other settings (epochs, batch size, patience, seed...).
    device : str or `torch.device`
        Where to train.
    checkpoint_dir : str or `~pathlib.Path`, optional
        Each run checkpoints into a sub-folder named after its settings, so an interrupted search
        resumes (finished runs are not trained again).
    progress : bool
        Show a progress bar over the runs (the runs' own bars are off).

    Returns
    -------
    results : `~astropy.table.QTable`
        One row per run: ``optimizer``, ``scheduler``, ``lr``, ``best_epoch``, ``epochs_run``,
        ``val_f1``, ``val_loss`` (of the best epoch), ``threshold`` and ``selected``, sorted best first.
    best : `~sunpy_jets.training.TrainedModel`
        The network of the best run, its card (recipe and metrics) and threshold;
        `JetClassifier.from_trained <sunpy_jets.JetClassifier.from_trained>` makes it a classifier.

    Examples
    --------
    >>> import torch
    >>> from sunpy_jets.datasets import TensorJetDataset
    >>> from sunpy_jets.model import JetModelConfig
    >>> from sunpy_jets.training import TrainingRecipe, grid_search
    >>> data = TensorJetDataset(torch.randn(4, 3, 16, 16), [0, 1, 0, 1])
    >>> config = JetModelConfig(image_size=16, channels=(4,), hidden_size=4)
    >>> table, best = grid_search(config, data, data, optimizers=["sgd"], schedulers=["none"],
    ...                           learning_rates=[1e-2, 1e-3], recipe=TrainingRecipe(epochs=1),
    ...                           device="cpu", progress=False)
    >>> len(table), int(table["selected"].sum())
    (2, 1)
    """
    recipe = TrainingRecipe() if recipe is None else recipe
    if not isinstance(recipe, TrainingRecipe):
        raise InputTypeError(f"recipe must be a TrainingRecipe, not {type(recipe).__name__}")
    grid = list(
        itertools.product(
            _as_tuple(optimizers, "optimizers"),
            _as_tuple(schedulers, "schedulers"),
            _as_tuple(learning_rates, "learning_rates"),
        )
    )
    # Check every combination before training any.
    recipes = [recipe.replace(optimizer=o, scheduler=s, lr=float(lr)) for o, s, lr in grid]
    rows, best, best_key = [], None, None
    for run in tqdm(recipes, desc="grid search", unit="run", disable=not progress):
        clf = TrainedModel.new(config, seed=run.seed, device=resolve_device(device))
        run_dir = None
        if checkpoint_dir is not None:
            run_dir = Path(checkpoint_dir) / f"{run.optimizer}-{run.scheduler}-lr{run.lr:g}"
        history = fit(clf, train, validation, recipe=run, checkpoint_dir=run_dir, progress=False)
        record = history.best
        rows.append(
            (run.optimizer, run.scheduler, run.lr, history.best_epoch, len(history), record["val_f1"],
             record["val_loss"], clf.threshold)
        )  # fmt: skip
        key = (record["val_f1"], -record["val_loss"])
        if best_key is None or key > best_key:
            best, best_key = clf, key
    table = QTable(
        rows=rows,
        names=("optimizer", "scheduler", "lr", "best_epoch", "epochs_run", "val_f1", "val_loss", "threshold"),
        dtype=(str, str, float, int, int, float, float, float),
    )
    order = np.lexsort((table["val_loss"], -table["val_f1"]))
    table = table[order]
    table["selected"] = np.arange(len(table)) == 0
    table.meta["selected_by"] = "validation F1 of the best epoch (ties: lower validation loss)"
    return table, best
