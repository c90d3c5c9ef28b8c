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

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from ..datasets import AugmentedDataset
from .._paths import check_output_dir
from ..exceptions import InputError, InputTypeError, TrainingError

from .history import TrainingHistory
from .checkpoint import capture_rng_state, load_checkpoint, restore_rng_state, save_checkpoint
from .metrics import classification_metrics, select_threshold
from .recipe import TrainingRecipe
from .result import check_trainee

__all__ = ["TrainingHistory", "fit"]

# Recipe settings that may differ between an interrupted run and its resumption (they do not change results).
_RESUMABLE_CHANGES = ("num_workers",)

#: A mean training loss per sample above this (times ``recipe.pos_weight`` when larger than 1) means the
#: run diverged: chance is 0.69, and even confident mistakes on every sample stay far below it.
DIVERGED_LOSS = 1e3


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


# How to start afresh, worded for both the Python call and the command line (which has no resume=False).
_AFRESH = (
    "use another checkpoint folder (checkpoint_dir=, or --checkpoint-dir / another --output on the command line), "
    "or delete this one (from Python, fit(..., resume=False) starts afresh in it)"
)


def _check_resume(state, classifier, recipe, checkpoint_dir):
    meta = state["meta"]
    missing = [k for k in _CHECKPOINT_META if k not in meta] + [k for k in _CHECKPOINT_STATE if k not in state]
    if missing:
        raise TrainingError(
            f"the checkpoint in {checkpoint_dir} lacks {', '.join(missing)}: it was edited or damaged; " + _AFRESH
        )
    if meta["config"] != classifier.config.to_dict():
        raise TrainingError(
            f"the checkpoint in {checkpoint_dir} was written for another model configuration; " + _AFRESH
        )
    theirs = {k: v for k, v in meta["recipe"].items() if k not in _RESUMABLE_CHANGES}
    ours = {k: v for k, v in recipe.to_dict().items() if k not in _RESUMABLE_CHANGES}
    changed = sorted(k for k in ours if theirs.get(k) != ours[k])
    if changed:
        raise TrainingError(
            f"the checkpoint in {checkpoint_dir} was written with another recipe (differs in {', '.join(changed)}); "
            + _AFRESH
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
        Where a checkpoint is written (atomically) after every epoch. It is checked before training
        (a file, a folder under a file or a read-only folder is refused at once).
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
        The checkpoint does not belong to this run; the validation set holds one class only; or the
        training diverged: a non-finite or exploding loss (above ``DIVERGED_LOSS`` per sample),
        non-finite validation probabilities, or a threshold at the edge of (0, 1) (the probabilities
        saturated, so every or no window would be a jet). The checkpoint of the last good epoch is
        kept, and the classifier keeps the weights and threshold it had before `fit`.

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
    recipe, callbacks = _check_arguments(classifier, train, validation, recipe, callbacks, checkpoint_dir)
    progress = getattr(classifier, "progress", False) if progress is None else bool(progress)
    before, threshold_before = _snapshot(classifier.model), classifier.threshold
    run = _Run(classifier, train, validation, recipe, checkpoint_dir=checkpoint_dir, distributed=distributed,
               progress=progress)  # fmt: skip
    try:
        try:
            run.begin(resume)
            run.epochs(callbacks)
        finally:
            if distributed is not None:
                distributed.unwrap(classifier.model)
        if run.best_state is None:
            raise TrainingError("no epoch was trained: recipe.epochs must be at least 1")
        classifier.model.load_state_dict(run.best_state)
        classifier.model.eval()
        _finish(classifier, run.history, recipe, validation, run.val_loader, run.criterion, train, data_description,
                run.progress)  # fmt: skip
    except TrainingError:
        # A diverged or refused run leaves nothing half-trained behind: the classifier is as it was.
        classifier.model.load_state_dict(before)
        classifier.threshold = threshold_before
        raise
    return run.history


def _check_arguments(classifier, train, validation, recipe, callbacks, checkpoint_dir):
    """Every argument of `fit`, checked before any work; returns the recipe and the callbacks."""
    check_trainee(classifier)
    recipe = TrainingRecipe() if recipe is None else recipe
    if not isinstance(recipe, TrainingRecipe):
        raise InputTypeError(f"recipe must be a TrainingRecipe, not {type(recipe).__name__}")
    _check_dataset(train, "train", classifier.config)
    _check_dataset(validation, "validation", classifier.config)
    targets = getattr(validation, "targets", None)
    if targets is not None and len(np.unique(np.asarray(targets))) < 2:
        raise TrainingError(_ONE_CLASS.format(label=int(np.asarray(targets).reshape(-1)[0])))
    callbacks = list(callbacks or [])
    if not all(callable(c) for c in callbacks):
        raise InputTypeError("callbacks must be callables taking (record, classifier)")
    if checkpoint_dir is not None:
        check_output_dir(checkpoint_dir, "checkpoint_dir")
    return recipe, callbacks


_ONE_CLASS = (
    "the validation set holds only label {label}: F1 and the threshold cannot be chosen on one class; give a "
    "validation set with jets and non-jets (grouped_split keeps both)"
)


class _Run:
    """The state of one `fit` call: loaders, optimiser, best weights, history, checkpoints."""

    def __init__(self, classifier, train, validation, recipe, *, checkpoint_dir, distributed, progress):
        self.classifier, self.recipe, self.checkpoint_dir = classifier, recipe, checkpoint_dir
        self.device, self.model = classifier.device, classifier.model
        self.distributed = distributed
        # Under DDP only rank 0 reports and writes; every rank steps on its shard with the wrapped model.
        self.main = distributed is None or distributed.is_main
        self.progress = progress and self.main
        self.generator = torch.Generator()
        self.train_set = train
        if recipe.augment and not getattr(train, "augment", False):
            self.train_set = AugmentedDataset(train, recipe.seed)
        self.sampler, batch_size = None, recipe.batch_size
        if distributed is not None:
            self.sampler = distributed.sampler(self.train_set, seed=recipe.seed)
            batch_size = distributed.shard_batch_size(batch_size)
        self.train_loader = DataLoader(
            self.train_set, batch_size=batch_size, shuffle=self.sampler is None, sampler=self.sampler,
            generator=self.generator, num_workers=recipe.num_workers, pin_memory=self.device.type == "cuda",
        )  # fmt: skip
        self.train_model = self.model if distributed is None else distributed.wrap(self.model)
        val_batch = max(recipe.batch_size, getattr(classifier, "batch_size", 1))
        self.val_loader = DataLoader(validation, batch_size=val_batch, shuffle=False)
        pos_weight = None if recipe.pos_weight is None else torch.tensor(float(recipe.pos_weight), device=self.device)
        self.criterion = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
        self.loss_limit = DIVERGED_LOSS * max(1.0, float(recipe.pos_weight or 1.0))
        self.optimizer = _make_optimizer(self.model, recipe)
        self.scheduler = _make_scheduler(self.optimizer, recipe)
        fp16 = self.device.type == "cuda" and recipe.amp == "fp16"
        self.scaler = torch.amp.GradScaler("cuda", enabled=fp16)
        self.history = TrainingHistory()
        self.best_state, self.best_key, self.since_best, self.start, self.finished = None, None, 0, 0, False

    def begin(self, resume):
        """Continue the checkpoint in ``checkpoint_dir`` (if any, and ``resume``), or seed a fresh run."""
        state = load_checkpoint(self.checkpoint_dir) if self.checkpoint_dir is not None and resume else None
        if state is None:
            for seed in (torch.manual_seed, np.random.seed, random.seed, self.generator.manual_seed):
                seed(self.recipe.seed)
            return
        meta = state["meta"]
        _check_resume(state, self.classifier, self.recipe, self.checkpoint_dir)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        if "scaler" in state:
            self.scaler.load_state_dict(state["scaler"])
        if "best_model" in state:
            self.best_state = {k: v.to(self.device) for k, v in state["best_model"].items()}
        self.history = TrainingHistory.from_dict(meta["history"])
        self.best_key, self.since_best = meta["best_key"], meta["since_best"]
        self.start, self.finished = meta["next_epoch"], meta["finished"]
        self.history.resumed_from = self.start
        restore_rng_state(state["rng"], self.generator)

    def checkpoint(self, next_epoch, done):
        """Write the resumable state (rank 0 only, when there is a ``checkpoint_dir``)."""
        if self.checkpoint_dir is None or not self.main:
            return
        payload = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "rng": capture_rng_state(self.generator),
            "meta": {
                "config": self.classifier.config.to_dict(), "recipe": self.recipe.to_dict(),
                "history": self.history.to_dict(), "best_key": self.best_key, "since_best": self.since_best,
                "next_epoch": next_epoch, "finished": done,
            },
        }  # fmt: skip
        if self.scheduler is not None:
            payload["scheduler"] = self.scheduler.state_dict()
        if self.scaler.is_enabled():
            payload["scaler"] = self.scaler.state_dict()
        if self.best_state is not None:
            payload["best_model"] = self.best_state
        save_checkpoint(self.checkpoint_dir, payload)

    def train_epoch(self, epoch) -> float:
        """One pass over the training set; returns the mean loss per sample."""
        if hasattr(self.train_set, "set_epoch"):
            self.train_set.set_epoch(epoch)
        if self.sampler is not None:
            self.sampler.set_epoch(epoch)
        self.model.train()
        total, count = 0.0, 0
        batches = tqdm(self.train_loader, desc=f"epoch {epoch}", unit="batch", disable=not self.progress, leave=False)
        for x, y in batches:
            x, y = x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True).float().reshape(-1)
            self.optimizer.zero_grad(set_to_none=True)
            with _autocast(self.device, self.recipe):
                logits = self.train_model(x)
            loss = self.criterion(logits.float(), y)
            _check_loss(float(loss.detach()), epoch, self.loss_limit)
            self.scaler.scale(loss).backward()
            if self.recipe.grad_clip is not None:
                self.scaler.unscale_(self.optimizer)
                nn.utils.clip_grad_norm_(self.model.parameters(), self.recipe.grad_clip)
            self.scaler.step(self.optimizer)
            self.scaler.update()
            total += float(loss.detach()) * len(y)
            count += len(y)
        if self.distributed is not None:
            total, count = self.distributed.sum(total, count)
        return total / count

    def evaluate(self, epoch, train_loss, started) -> dict:
        """Validate after an epoch; refuse a diverged model before its checkpoint is written."""
        lr = self.optimizer.param_groups[0]["lr"]
        if self.scheduler is not None:
            self.scheduler.step()
        val_loss, proba, labels = _validate(self.model, self.val_loader, self.criterion, self.device, self.recipe,
                                            self.progress)  # fmt: skip
        if len(np.unique(labels)) < 2:
            raise TrainingError(_ONE_CLASS.format(label=int(labels[0])))
        if not (np.all(np.isfinite(proba)) and math.isfinite(val_loss)):
            raise TrainingError(
                f"training diverged in epoch {epoch}: the validation probabilities are not finite; lower the "
                "learning rate (recipe.lr) or set recipe.grad_clip; the checkpoint of the last good epoch is kept"
            )
        scores = classification_metrics(labels, proba, threshold=self.recipe.threshold, beta=self.recipe.beta)
        return {
            "epoch": epoch, "train_loss": train_loss, "val_loss": val_loss, "val_f1": scores["f1"],
            "val_accuracy": scores["accuracy"], "val_precision": scores["precision"], "val_recall": scores["recall"],
            "lr": lr, "seconds": time.perf_counter() - started,
        }  # fmt: skip

    def epochs(self, callbacks):
        """Train the remaining epochs, keeping the best weights, stopping early or when a callback says so."""
        epochs = range(self.start, self.recipe.epochs) if not self.finished else range(0)
        bar = tqdm(epochs, desc="training", unit="epoch", disable=not self.progress)
        for epoch in bar:
            started = time.perf_counter()
            record = self.evaluate(epoch, self.train_epoch(epoch), started)
            self.history.records.append(record)
            # Best = highest validation F1; ties go to the lower validation loss.
            key = [record["val_f1"], -record["val_loss"]]
            if self.best_key is None or key > self.best_key:
                self.best_key, self.best_state, self.since_best = key, _snapshot(self.model), 0
                self.history.best_epoch = epoch
            else:
                self.since_best += 1
            bar.set_postfix(loss=f"{record['train_loss']:.4f}", val_f1=f"{record['val_f1']:.3f}",
                            best=self.history.best_epoch)  # fmt: skip
            stop = self.recipe.patience is not None and self.since_best >= self.recipe.patience
            if stop:
                self.history.stopped = "early_stopping"
            self.checkpoint(epoch + 1, stop or epoch + 1 == self.recipe.epochs)
            if any(callback(dict(record), self.classifier) is True for callback in callbacks) and not stop:
                self.history.stopped, stop = "callback", True
                self.checkpoint(epoch + 1, True)
            if stop:
                break
        bar.close()


def _check_loss(loss, epoch, limit):
    """Stop a diverging run: a non-finite loss, or one far above any a learning model gives."""
    if not math.isfinite(loss) or loss > limit:
        raise TrainingError(
            f"training diverged in epoch {epoch}: the training loss became {loss:.3g} (chance is 0.69); lower the "
            "learning rate (recipe.lr), set recipe.grad_clip, or use amp='bf16' instead of 'fp16'; the checkpoint "
            "of the last good epoch is kept"
        )


def _finish(classifier, history, recipe, validation, val_loader, criterion, train, data_description, progress):
    """Choose the threshold on the validation set and fill the model card."""
    _, proba, labels = _validate(classifier.model, val_loader, criterion, classifier.device, recipe, progress)
    threshold = select_threshold(labels, proba, beta=recipe.beta)
    if not 0.0 < threshold < 1.0:
        raise TrainingError(
            f"the threshold chosen on the validation set is {threshold:g}, at the edge of (0, 1): the model's "
            f"probabilities saturated, so {'every' if threshold <= 0 else 'no'} window would be a jet; the training "
            "diverged or overfitted: lower the learning rate (recipe.lr) or train for fewer epochs"
        )
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
