#!/usr/bin/env python
"""
Train the default weights bundled with sunpy_jets (``sunpy_jets/data/default``).

The model is `~sunpy_jets.model.JetModelConfig` with its defaults (the published architecture), or
with a frame-difference encoder (``--difference-channels``, which with ``--init`` expands a previous stage),
trained by `sunpy_jets.training.fit` on synthetic AIA 304 Å sequences from `sunpy_jets.synthetic`,
generated directly at the model's 1.8″/px and 166×166 pixels. Half the sequences hold a jet; the
other half are quiet Sun or one of the hard negatives (``kind="negative"``). A fifth of the jet
sequences also hold a hard negative beside the jet, so that "something moves" is not "a jet".

Seeds never overlap between the splits: training sequence ``i`` has seed ``TRAIN_SEED_BASE + i``,
validation sequence ``i`` has ``VAL_SEED_BASE + i`` (and the evaluation script uses
``TEST_SEED_BASE + i``). Even indices are jets, odd ones non-jets.

Generated sequences are cached (float16, one ``.npy`` memory map per split) in ``--workdir``, so
an interrupted run generates only what is missing. Run from the repository root::

    python scripts/train_default_weights.py --workdir /tmp/sunpy_jets_default --output sunpy_jets/data/default

then ``python scripts/evaluate_default_weights.py --update-card`` to add the test metrics to the card.
"""

import argparse
import hashlib
import json
import multiprocessing
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

import astropy.units as u

__all__ = ["TRAIN_SEED_BASE", "VAL_SEED_BASE", "TEST_SEED_BASE", "generate_split", "sequence_spec"]

TRAIN_SEED_BASE = 1_000_000
VAL_SEED_BASE = 2_000_000
TEST_SEED_BASE = 3_000_000
#: Fraction of jet sequences that also hold a hard negative (training and validation only).
DISTRACTOR_FRACTION = 0.2
SCALE = 1.8 * u.arcsec / u.pix


def sequence_spec(base, i, *, distractors=True):
    """The ``make_sequence`` arguments of sequence ``i`` of the split whose seeds start at ``base``."""
    seed = base + i
    jet = i % 2 == 0
    # A separate stream decides the distractor, so the scene itself is make_sequence's seed alone.
    extra = distractors and jet and np.random.default_rng([seed, 7]).random() < DISTRACTOR_FRACTION
    return {"kind": "jet" if jet else "negative", "seed": seed, "n_distractors": int(extra)}


def _generate(args):
    from sunpy_jets.model import JetModelConfig
    from sunpy_jets.inputs import prepare_sequence
    from sunpy_jets.synthetic import make_sequence

    base, i, distractors = args
    config = JetModelConfig()
    spec = sequence_spec(base, i, distractors=distractors)
    seq = make_sequence(**spec, n_frames=config.n_frames, shape=(config.image_size,) * 2, scale=SCALE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frames = prepare_sequence(seq.maps, config).frames[:, 0].numpy()
    return i, frames.astype(np.float16), float(seq.label), seq.kind


def generator_digest():
    """SHA-256 of the generator's source files: a cache made by another version of the generator is remade."""
    import sunpy_jets.synthetic

    digest = hashlib.sha256()
    for path in sorted(Path(sunpy_jets.synthetic.__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def generate_split(workdir, name, base, n, *, jobs=2, distractors=True, progress=True):
    """
    Generate (or finish generating) ``n`` prepared sequences into ``workdir/name``.

    Returns ``(frames memmap (n, T, H, W) float16, labels (n,), kinds list)``.
    """
    from tqdm.auto import tqdm

    from sunpy_jets._atomic import atomic_write_text
    from sunpy_jets.model import JetModelConfig

    config = JetModelConfig()
    directory = Path(workdir) / name
    directory.mkdir(parents=True, exist_ok=True)
    shape = (n, config.n_frames, config.image_size, config.image_size)
    frames_path, meta_path = directory / "frames.npy", directory / "meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    key = {"shape": list(shape), "base": base, "distractors": distractors, "generator": generator_digest()}
    if any(meta.get(k) != v for k, v in key.items()):
        meta = {**key, "labels": {}, "kinds": {}}
        frames = np.lib.format.open_memmap(frames_path, mode="w+", dtype=np.float16, shape=shape)
    else:
        frames = np.lib.format.open_memmap(frames_path, mode="r+")
    todo = [i for i in range(n) if str(i) not in meta["labels"]]
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(jobs) as pool, tqdm(
        total=n, initial=n - len(todo), desc=f"generating {name}", disable=not progress
    ) as bar:
        for k, (i, x, label, kind) in enumerate(
            pool.imap_unordered(_generate, [(base, i, distractors) for i in todo], chunksize=4)
        ):
            frames[i] = x
            meta["labels"][str(i)], meta["kinds"][str(i)] = label, kind
            bar.update()
            if k % 50 == 49:
                frames.flush()
                meta["seconds"] = meta.get("seconds", 0.0) + time.perf_counter() - started
                started = time.perf_counter()
                atomic_write_text(meta_path, json.dumps(meta))
    frames.flush()
    meta["seconds"] = meta.get("seconds", 0.0) + time.perf_counter() - started
    atomic_write_text(meta_path, json.dumps(meta))
    labels = np.array([meta["labels"][str(i)] for i in range(n)], dtype=np.float32)
    kinds = [meta["kinds"][str(i)] for i in range(n)]
    return np.lib.format.open_memmap(frames_path, mode="r"), labels, kinds


class MemmapJetDataset(Dataset):
    """
    (frames (T, 1, H, W) float32, label) pairs from a float16 memory map.

    With ``chunks`` > 1, each epoch is one of ``chunks`` contiguous blocks of the data (epoch ``e``
    sees block ``e % chunks``; each block holds as many jets as non-jets, since they alternate), so
    the learning-rate schedule, which steps once per epoch, anneals while every sequence is still
    seen only once.
    """

    def __init__(self, frames, labels, chunks=1):
        self.frames, self.labels, self.chunks, self.epoch = frames, labels, int(chunks), 0

    def set_epoch(self, epoch):
        self.epoch = int(epoch)

    def __len__(self):
        return len(self.labels) // self.chunks

    def __getitem__(self, i):
        i = (self.epoch % self.chunks) * len(self) + int(i)
        x = torch.from_numpy(np.asarray(self.frames[i], dtype=np.float32)).unsqueeze(1)
        return x, torch.tensor(self.labels[i])


def with_difference_encoder(clf, channels, *, seed):
    """
    A classifier like ``clf`` with a frame-difference encoder added, keeping every trained weight.

    The LSTM's input weights for the new features start at a tenth of their random initialisation, so
    the expanded model begins close to the trained one and learns how far to use the differences.
    """
    from sunpy_jets import JetClassifier

    expanded = JetClassifier(clf.config.replace(difference_channels=tuple(channels)), device="cpu", seed=seed)
    state, n = expanded.model.state_dict(), clf.model.encoder.out_features
    for name, value in clf.model.state_dict().items():
        if name == "lstm.weight_ih_l0":
            state[name][:, n:] *= 0.1
            state[name][:, :n] = value
        else:
            state[name] = value
    expanded.model.load_state_dict(state)
    expanded.threshold = clf.threshold
    return expanded


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", default="/tmp/sunpy_jets_default", help="cache of generated sequences")
    parser.add_argument("--output", default="sunpy_jets/data/default", help="model directory to write")
    parser.add_argument("--n-train", type=int, default=1200)
    parser.add_argument("--n-val", type=int, default=300)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument(
        "--chunks", type=int, default=2, help="epochs per pass over the training set (each sees 1/chunks of it)"
    )
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights, shuffling and augmentation")
    parser.add_argument("--jobs", type=int, default=2, help="generator processes")
    parser.add_argument("--init", help="continue training from this model directory (a previous stage)")
    parser.add_argument(
        "--difference-channels",
        help="comma-separated stage widths of a frame-difference encoder to add (e.g. 8,16,24,32,48); with --init, "
        "the previous stage's weights are kept and the new encoder starts with a small say in the LSTM",
    )
    parser.add_argument("--generate-only", action="store_true")
    args = parser.parse_args(argv)

    from sunpy_jets import JetClassifier
    from sunpy_jets.model import JetModelConfig
    from sunpy_jets.training import TrainingRecipe, fit

    started = time.perf_counter()
    train_x, train_y, train_kinds = generate_split(args.workdir, "train", TRAIN_SEED_BASE, args.n_train, jobs=args.jobs)
    val_x, val_y, val_kinds = generate_split(args.workdir, "validation", VAL_SEED_BASE, args.n_val, jobs=args.jobs)
    generated = time.perf_counter() - started
    print(f"generated in {generated:.0f} s: train {int(train_y.sum())}/{len(train_y)} jets, "
          f"validation {int(val_y.sum())}/{len(val_y)} jets")  # fmt: skip
    if args.generate_only:
        return 0

    recipe = TrainingRecipe(
        optimizer="adamw", lr=args.lr, weight_decay=1e-4, scheduler="cosine", eta_min=1e-5, batch_size=args.batch_size,
        epochs=args.epochs, patience=None, beta=1.0, augment=True, seed=args.seed, grad_clip=5.0,
    )  # fmt: skip
    difference = tuple(int(c) for c in args.difference_channels.split(",")) if args.difference_channels else None
    if args.init:
        clf = JetClassifier.load(args.init, device="cpu")
        previous = {"card_sha256": clf.card.sha256, **{k: clf.card.training.get(k) for k in ("recipe", "history", "data")}}
        if difference is not None and clf.config.difference_channels != difference:
            clf = with_difference_encoder(clf, difference, seed=args.seed)
    else:
        config = JetModelConfig(difference_channels=difference or ())
        clf, previous = JetClassifier(config, device="cpu", seed=args.seed), None
    data = {
        "source": "sunpy_jets.synthetic.make_sequence (procedural backgrounds), generated at 1.8 arcsec/pix, 166x166",
        "generator_call": "make_sequence(kind=..., seed=..., n_distractors=..., n_frames=30, shape=(166, 166), "
        "scale=1.8 arcsec/pix); other options default",
        "generator_sha256": generator_digest(),
        "train_seeds": f"{TRAIN_SEED_BASE} + i for i in range({args.n_train}); even i jet, odd i kind='negative'",
        "validation_seeds": f"{VAL_SEED_BASE} + i for i in range({args.n_val}); even i jet, odd i kind='negative'",
        "distractor_fraction_of_jets": DISTRACTOR_FRACTION,
        "train_kinds": {k: train_kinds.count(k) for k in sorted(set(train_kinds))},
        "validation_kinds": {k: val_kinds.count(k) for k in sorted(set(val_kinds))},
        "train_positives": int(train_y.sum()),
        "epoch_chunks": f"each epoch sees 1/{args.chunks} of the training set (a contiguous block), so every sequence is seen "
        f"{args.epochs / args.chunks:g} times",
        "validation_positives": int(val_y.sum()),
        "command": "python scripts/train_default_weights.py " + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()
            if k not in ("workdir", "output", "generate_only", "jobs", "init") and v is not None
        ),
        "continued_from": previous,
        "generation_seconds": round(sum(
            json.loads((Path(args.workdir) / name / "meta.json").read_text()).get("seconds", 0) for name in ("train", "validation")
        )),
    }  # fmt: skip
    history = fit(
        clf,
        MemmapJetDataset(train_x, train_y, chunks=args.chunks),
        MemmapJetDataset(val_x, val_y),
        recipe=recipe,
        # One checkpoint folder per starting point, so that each stage resumes only its own run.
        checkpoint_dir=Path(args.workdir)
        / ("checkpoint" if not args.init else f"checkpoint-{previous['card_sha256'][:16]}"),
        data_description=data,
    )
    clf.card.training["wall_seconds"] = round(time.perf_counter() - started)
    clf.card.training["cpu_threads"] = torch.get_num_threads()
    import dataclasses

    clf.card = dataclasses.replace(
        clf.card,
        name="sunpy_jets default (synthetic)",
        description=(
            "A JetRCNN trained only on synthetic AIA 304 A sequences from sunpy_jets.synthetic "
            f"({args.n_train} training, {args.n_val} validation; half jets). Demonstration weights: for science, "
            "train on the Solar Jet Hunter labels (sunpy-jets train --preset cs433). "
            + clf.card.description
        ),
    )
    clf.save(args.output)
    print(history.to_table())
    print(f"threshold {clf.threshold:.4f}; saved to {args.output} after {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
