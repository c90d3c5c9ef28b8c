"""
The training loop: `fit` trains a `~sunpy_jets.JetClassifier` with a `~sunpy_jets.training.TrainingRecipe`.

Each epoch trains on the training set, scores the validation set (its F1 at the recipe's
threshold is what "best" means), keeps a *copy* of the best weights, and writes a checkpoint from
which an interrupted run resumes bit for bit. At the end the best weights are put back in the
classifier, its threshold is chosen on the validation set (maximum F-beta), and its model card
records the recipe, the data, the history and the validation metrics.
"""

import dataclasses
import math
import random
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from astropy.table import QTable

from ..datasets import AugmentedDataset
from ..exceptions import InputError, InputTypeError, TrainingError

from .checkpoint import capture_rng_state, load_checkpoint, restore_rng_state, save_checkpoint
from .metrics import classification_metrics, select_threshold
from .recipe import TrainingRecipe
from .result import check_trainee

__all__ = ["TrainingHistory", "fit"]

# Recipe settings that may differ between an interrupted run and its resumption (they do not change results).
_RESUMABLE_CHANGES = ("num_workers",)


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


def _check_dataset(dataset, name, config):
    if not isinstance(dataset, Dataset) and not (hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__")):
        raise InputTypeError(f"{name} must be a torch Dataset of (frames, label) pairs, not {type(dataset).__name__}")
    if len(dataset) == 0:
        raise InputError(f"the {name} set is empty")
    sample = dataset[0]
    if not isinstance(sample, (tuple, list)) or len(sample) != 2:
        raise InputTypeError(
            f"{name} must be a torch Dataset of (frames, label) pairs; its first item is a {type(sample).__name__}"
        )
    x = sample[0]
    if not torch.is_tensor(x) or x.ndim != 4 or x.shape[1] != 1:
        shape = tuple(x.shape) if torch.is_tensor(x) else type(x).__name__
        raise InputError(f"{name} samples must be (frames (T, 1, H, W), label); the first one's frames are {shape}")
    if tuple(x.shape[-2:]) != (config.image_size, config.image_size):
        raise InputError(
            f"{name} frames are {x.shape[-2]}×{x.shape[-1]} but the model's grid is {config.image_size}×"
            f"{config.image_size}: prepare the sequences with this classifier's config (or change image_size)"
        )


def _make_optimizer(model, recipe):
    if recipe.optimizer == "adamw":
        return torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    return torch.optim.SGD(
        model.parameters(), lr=recipe.lr, momentum=recipe.momentum, nesterov=recipe.momentum > 0,
        weight_decay=recipe.weight_decay,
    )  # fmt: skip


def _make_scheduler(optimizer, recipe):
    if recipe.scheduler == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=recipe.epochs, eta_min=recipe.eta_min)
    if recipe.scheduler == "exponential":
        return torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=recipe.gamma)
    return None


def _autocast(device, recipe):
    if device.type != "cuda" or recipe.amp == "none":
        return torch.autocast(device_type=device.type, enabled=False)
    return torch.autocast(device_type="cuda", dtype=torch.bfloat16 if recipe.amp == "bf16" else torch.float16)


def _snapshot(model) -> dict:
    # A real copy: state_dict() returns references to the live tensors, which later steps overwrite.
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@torch.no_grad()
def _validate(model, loader, criterion, device, recipe, progress):
    model.eval()
    losses, probas, labels = [], [], []
    for x, y in tqdm(loader, desc="validating", unit="batch", disable=not progress, leave=False):
        x, y = x.to(device), y.to(device).float().reshape(-1)
        with _autocast(device, recipe):
            logits = model(x)
        logits = logits.float()
        losses.append(float(criterion(logits, y)) * len(y))
        probas.append(torch.sigmoid(logits).cpu().numpy())
        labels.append(y.cpu().numpy())
    y = np.concatenate(labels)
    return sum(losses) / len(y), np.concatenate(probas).astype(float), y


# What a resumable checkpoint of `fit` holds; anything less was edited or damaged.
_CHECKPOINT_META = ("config", "recipe", "history", "best_key", "since_best", "next_epoch", "finished")
_CHECKPOINT_STATE = ("model", "optimizer", "rng")


def _check_resume(state, classifier, recipe, checkpoint_dir):
    meta = state["meta"]
    missing = [k for k in _CHECKPOINT_META if k not in meta] + [k for k in _CHECKPOINT_STATE if k not in state]
    if missing:
        raise TrainingError(
            f"the checkpoint in {checkpoint_dir} lacks {', '.join(missing)}: it was edited or damaged; delete it, "
            "or pass resume=False to start afresh there"
        )
    if meta["config"] != classifier.config.to_dict():
        raise TrainingError(
            f"the checkpoint in {checkpoint_dir} was written for another model configuration; use another "
            "checkpoint_dir, or resume=False to start afresh there"
        )
    theirs = {k: v for k, v in meta["recipe"].items() if k not in _RESUMABLE_CHANGES}
    ours = {k: v for k, v in recipe.to_dict().items() if k not in _RESUMABLE_CHANGES}
    changed = sorted(k for k in ours if theirs.get(k) != ours[k])
    if changed:
        raise TrainingError(
            f"the checkpoint in {checkpoint_dir} was written with another recipe (differs in {', '.join(changed)}); "
            "use another checkpoint_dir, or resume=False to start afresh there"
        )


def _describe(dataset, name):
    targets = getattr(dataset, "targets", None)
    d = {f"n_{name}": len(dataset)}
    if targets is not None:
        d[f"n_{name}_positive"] = int(np.sum(np.asarray(targets) == 1))
    return d


def fit(
    classifier,
    train,
    validation,
    *,
    recipe=None,
    checkpoint_dir=None,
    resume=True,
    progress=None,
    callbacks=None,
    data_description=None,
    distributed=None,
) -> TrainingHistory:
    """
    Train a classifier and keep the weights of its best validation epoch.

    Parameters
    ----------
    classifier : `~sunpy_jets.JetClassifier`
        Trained in place, on its ``device``, from its current weights.
    train, validation : `torch.utils.data.Dataset`
        Yield ``(frames, label)``: float tensors ``(T, 1, H, W)`` and 0/1 labels, e.g.
        `~sunpy_jets.datasets.JetSequenceDataset` or `~sunpy_jets.datasets.TensorJetDataset`.
    recipe : `~sunpy_jets.training.TrainingRecipe`, optional
        The settings; the published recipe by default. With ``recipe.augment``, a training set that
        does not augment itself (no true ``augment`` attribute) gets random flips and 90° rotations.
    checkpoint_dir : str or `~pathlib.Path`, optional
        Where a checkpoint is written (atomically) after every epoch.
    resume : bool
        Continue from the checkpoint in ``checkpoint_dir`` when there is one (it must have been
        written with the same configuration and recipe); ``False`` starts afresh and overwrites it.
    progress : bool, optional
        Show progress bars (default: the classifier's ``progress``).
    callbacks : list of callable, optional
        Each is called after every epoch (after the checkpoint is written) as
        ``callback(record, classifier)`` with the epoch's record; returning ``True`` stops training.
    data_description : dict, optional
        JSON-serialisable description of the data (source, split, seeds), stored in the model card.
    distributed : `~sunpy_jets.training.ddp.DistributedContext`, optional
        This process's place in a DistributedDataParallel run (from
        `~sunpy_jets.training.ddp.setup_distributed` under ``torchrun``): each rank trains on its
        shard of every step, gradients are averaged, and only rank 0 shows progress and writes
        checkpoints. See `sunpy_jets.training.ddp`.

    Returns
    -------
    `TrainingHistory`

    Raises
    ------
    `~sunpy_jets.exceptions.InputError`, `~sunpy_jets.exceptions.InputTypeError`
        Unusable datasets or settings.
    `~sunpy_jets.exceptions.TrainingError`
        The checkpoint does not belong to this run, or the loss became NaN.

    Notes
    -----
    A fresh run seeds torch, NumPy and Python's global generators with ``recipe.seed`` (as
    Lightning's ``seed_everything`` does); the DataLoader shuffles with its own generator. With the
    same seed on the same machine, an interrupted and resumed run gives the same weights as an
    uninterrupted one. After training, ``classifier.threshold`` is the threshold maximising the
    validation F-beta (``recipe.beta``), and ``classifier.card`` holds ``training`` (recipe, data,
    history) and ``metrics["validation"]`` (see `~sunpy_jets.training.classification_metrics`).

    Examples
    --------
    >>> import torch
    >>> from sunpy_jets import JetClassifier
    >>> from sunpy_jets.datasets import TensorJetDataset
    >>> from sunpy_jets.model import JetModelConfig
    >>> from sunpy_jets.training import TrainingRecipe, fit
    >>> clf = JetClassifier(JetModelConfig(image_size=16, channels=(4,), hidden_size=4), device="cpu", seed=0)
    >>> data = TensorJetDataset(torch.randn(4, 3, 16, 16), [0, 1, 0, 1])
    >>> history = fit(clf, data, data, recipe=TrainingRecipe(epochs=2), progress=False)
    >>> len(history), clf.card.training["recipe"]["epochs"], "f1" in clf.card.metrics["validation"]
    (2, 2, True)
    """
    check_trainee(classifier)
    recipe = TrainingRecipe() if recipe is None else recipe
    if not isinstance(recipe, TrainingRecipe):
        raise InputTypeError(f"recipe must be a TrainingRecipe, not {type(recipe).__name__}")
    _check_dataset(train, "train", classifier.config)
    _check_dataset(validation, "validation", classifier.config)
    callbacks = list(callbacks or [])
    if not all(callable(c) for c in callbacks):
        raise InputTypeError("callbacks must be callables taking (record, classifier)")
    progress = getattr(classifier, "progress", False) if progress is None else bool(progress)
    device, model = classifier.device, classifier.model
    # Under DDP only rank 0 reports and writes; every rank steps on its shard with the wrapped model.
    main = distributed is None or distributed.is_main
    progress = progress and main

    train_set = train
    if recipe.augment and not getattr(train, "augment", False):
        train_set = AugmentedDataset(train, recipe.seed)
    generator = torch.Generator()
    sampler, batch_size = None, recipe.batch_size
    if distributed is not None:
        sampler, batch_size = distributed.sampler(train_set, seed=recipe.seed), distributed.shard_batch_size(batch_size)
    train_loader = DataLoader(
        train_set, batch_size=batch_size, shuffle=sampler is None, sampler=sampler, generator=generator,
        num_workers=recipe.num_workers,
        pin_memory=device.type == "cuda",
    )  # fmt: skip
    train_model = model if distributed is None else distributed.wrap(model)
    val_loader = DataLoader(validation, batch_size=max(recipe.batch_size, getattr(classifier, "batch_size", 1)), shuffle=False)
    pos_weight = None if recipe.pos_weight is None else torch.tensor(float(recipe.pos_weight), device=device)
    criterion = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    optimizer = _make_optimizer(model, recipe)
    scheduler = _make_scheduler(optimizer, recipe)
    scaler = torch.amp.GradScaler("cuda", enabled=device.type == "cuda" and recipe.amp == "fp16")

    history = TrainingHistory()
    best_state, best_key, since_best, start, finished = None, None, 0, 0, False
    state = load_checkpoint(checkpoint_dir) if checkpoint_dir is not None and resume else None
    if state is not None:
        meta = state["meta"]
        _check_resume(state, classifier, recipe, checkpoint_dir)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(state["scheduler"])
        if "scaler" in state:
            scaler.load_state_dict(state["scaler"])
        best_state = {k: v.to(device) for k, v in state["best_model"].items()} if "best_model" in state else None
        history = TrainingHistory.from_dict(meta["history"])
        best_key, since_best = meta["best_key"], meta["since_best"]
        start, finished = meta["next_epoch"], meta["finished"]
        history.resumed_from = start
        restore_rng_state(state["rng"], generator)
    else:
        torch.manual_seed(recipe.seed)
        np.random.seed(recipe.seed)
        random.seed(recipe.seed)
        generator.manual_seed(recipe.seed)

    def write_checkpoint(next_epoch, done):
        if checkpoint_dir is None or not main:
            return
        payload = {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "rng": capture_rng_state(generator),
            "meta": {
                "config": classifier.config.to_dict(), "recipe": recipe.to_dict(), "history": history.to_dict(),
                "best_key": best_key, "since_best": since_best, "next_epoch": next_epoch, "finished": done,
            },
        }  # fmt: skip
        if scheduler is not None:
            payload["scheduler"] = scheduler.state_dict()
        if scaler.is_enabled():
            payload["scaler"] = scaler.state_dict()
        if best_state is not None:
            payload["best_model"] = best_state
        save_checkpoint(checkpoint_dir, payload)

    epochs = range(start, recipe.epochs) if not finished else range(0)
    bar = tqdm(epochs, desc="training", unit="epoch", disable=not progress)
    for epoch in bar:
        started = time.perf_counter()
        if hasattr(train_set, "set_epoch"):
            train_set.set_epoch(epoch)
        if sampler is not None:
            sampler.set_epoch(epoch)
        model.train()
        total, count = 0.0, 0
        for x, y in tqdm(train_loader, desc=f"epoch {epoch}", unit="batch", disable=not progress, leave=False):
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True).float().reshape(-1)
            optimizer.zero_grad(set_to_none=True)
            with _autocast(device, recipe):
                logits = train_model(x)
            loss = criterion(logits.float(), y)
            if not torch.isfinite(loss):
                raise TrainingError(
                    f"the training loss became {float(loss)} in epoch {epoch}: lower the learning rate "
                    "(or use amp='bf16' instead of 'fp16')"
                )
            scaler.scale(loss).backward()
            if recipe.grad_clip is not None:
                scaler.unscale_(optimizer)
                nn.utils.clip_grad_norm_(model.parameters(), recipe.grad_clip)
            scaler.step(optimizer)
            scaler.update()
            total += float(loss.detach()) * len(y)
            count += len(y)
        if distributed is not None:
            total, count = distributed.sum(total, count)
        lr = optimizer.param_groups[0]["lr"]
        if scheduler is not None:
            scheduler.step()
        val_loss, proba, labels = _validate(model, val_loader, criterion, device, recipe, progress)
        scores = classification_metrics(labels, proba, threshold=recipe.threshold, beta=recipe.beta)
        record = {
            "epoch": epoch, "train_loss": total / count, "val_loss": val_loss, "val_f1": scores["f1"],
            "val_accuracy": scores["accuracy"], "val_precision": scores["precision"], "val_recall": scores["recall"],
            "lr": lr, "seconds": time.perf_counter() - started,
        }  # fmt: skip
        history.records.append(record)
        # Best = highest validation F1; ties go to the lower validation loss.
        key = [scores["f1"], -val_loss if math.isfinite(val_loss) else -math.inf]
        if best_key is None or key > best_key:
            best_key, best_state, since_best, history.best_epoch = key, _snapshot(model), 0, epoch
        else:
            since_best += 1
        bar.set_postfix(loss=f"{record['train_loss']:.4f}", val_f1=f"{scores['f1']:.3f}", best=history.best_epoch)
        stop = recipe.patience is not None and since_best >= recipe.patience
        if stop:
            history.stopped = "early_stopping"
        write_checkpoint(epoch + 1, stop or epoch + 1 == recipe.epochs)
        if any(callback(dict(record), classifier) is True for callback in callbacks) and not stop:
            history.stopped, stop = "callback", True
            write_checkpoint(epoch + 1, True)
        if stop:
            break
    bar.close()
    if distributed is not None:
        distributed.unwrap(model)
    if best_state is None:
        raise TrainingError("no epoch was trained: recipe.epochs must be at least 1")
    model.load_state_dict(best_state)
    model.eval()
    _finish(classifier, history, recipe, validation, val_loader, criterion, train, data_description, progress)
    return history


def _finish(classifier, history, recipe, validation, val_loader, criterion, train, data_description, progress):
    """Choose the threshold on the validation set and fill the model card."""
    _, proba, labels = _validate(classifier.model, val_loader, criterion, classifier.device, recipe, progress)
    threshold = select_threshold(labels, proba, beta=recipe.beta) if labels.sum() > 0 else recipe.threshold
    classifier.threshold = threshold
    validation_scores = classification_metrics(labels, proba, threshold=threshold, beta=recipe.beta)
    data = {**_describe(train, "train"), **_describe(validation, "validation"), **(data_description or {})}
    training = {
        "recipe": recipe.to_dict(),
        "data": data,
        "best_epoch": history.best_epoch,
        "epochs_run": len(history),
        "stopped": history.stopped,
        "threshold_selection": {"method": "max F-beta on the validation set", "beta": recipe.beta},
        "device": str(classifier.device),
        "torch_version": torch.__version__,
        "history": history.records,
    }
    classifier.card = dataclasses.replace(
        classifier.card,
        threshold=classifier.threshold,
        training=training,
        metrics={"validation": validation_scores},  # earlier metrics described other weights
        description=(
            f"trained with sunpy_jets.training.fit for {len(history)} epochs (best epoch {history.best_epoch}) on "
            f"{len(train)} sequences; threshold {classifier.threshold:.3g} chosen on {len(validation)} validation "
            "sequences"
        ),
    )
