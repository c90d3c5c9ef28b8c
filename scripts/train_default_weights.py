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
import contextlib
import hashlib
import json
import multiprocessing
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

try:
    import astropy.units as u
except ImportError:  # a bare GPU machine: only the realistic training step (train_realistic) runs there
    u = None

__all__ = ["TRAIN_SEED_BASE", "VAL_SEED_BASE", "TEST_SEED_BASE", "generate_split", "sequence_spec"]

TRAIN_SEED_BASE = 1_000_000
VAL_SEED_BASE = 2_000_000
TEST_SEED_BASE = 3_000_000
#: Fraction of jet sequences that also hold a hard negative (training and validation only).
DISTRACTOR_FRACTION = 0.2
SCALE = 1.8 * u.arcsec / u.pix if u is not None else None


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


#: Modules of sunpy_jets.synthetic that make_sequence never runs (the realistic scenes): editing them keeps the cache.
_NOT_MAKE_SEQUENCE = frozenset({"realistic.py", "_realistic_parts.py", "_realistic_sampler.py", "realframes.py"})


def generator_digest():
    """SHA-256 of the generator's source files: a cache made by another version of the generator is remade."""
    import sunpy_jets.synthetic

    digest = hashlib.sha256()
    for path in sorted(Path(sunpy_jets.synthetic.__file__).parent.glob("*.py")):
        if path.name in _NOT_MAKE_SEQUENCE:
            continue
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
    with contextlib.nullcontext(None) if not todo else multiprocessing.get_context("spawn").Pool(jobs) as pool, tqdm(
        total=n, initial=n - len(todo), desc=f"generating {name}", disable=not progress
    ) as bar:
        for k, (i, x, label, kind) in enumerate(
            pool.imap_unordered(_generate, [(base, i, distractors) for i in todo], chunksize=4) if todo else ()
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


# --------------------------------------------------------------------------------------------------
# Realistic scenes (--scenes realistic): real AIA 304 backgrounds, Solar Jet Hunter jets, render augmentation.
#
# Three steps, each a command:
#   1. --prepare-only: read the real frames under --realdata into a background bank (workdir/bank.npz,
#      float16 at 1.8"/px) and the catalogue's jet sizes/speeds/durations (workdir/jets.npy); small enough to
#      carry to a GPU machine;
#   2. --device cuda (or cpu): train from --init on scenes made on the fly from the bank, write the state
#      (safetensors) and the log (JSON) to --state-out; runs without astropy or sunpy (see _light_imports);
#   3. --finalize STATE: build the model directory (card and checksum) from the state and the log.

#: Real frames (under --realdata) that the bank reads: licensed for training (MPL / MIT, NASA data).
REAL_BACKGROUNDS = (
    "helioviewer_jp2/2021_06_01__00_01_29_132__SDO_AIA_AIA_304.jp2",
    "helioviewer_jp2/2024_04_16__11_15_41_129__SDO_AIA_AIA_304.jp2",
    "pryoung_papers/aia_bright_thread/aia.lev1_euv_12s.2022-04-02T132011Z.304.image.fits",
    "pryoung_papers/aia_bright_thread/aia.lev1_euv_12s.2022-04-02T132423Z.304.image.fits",
    "pryoung_papers/aia_diff/AIA20220402_131341_0304.fits",
)
SJH_CATALOGUE = "sjh_catalogue/Jet_clusters_3.0_2.0_paperID.csv"
#: Procedural backgrounds added to the bank so the model keeps working on the procedural scenes.
N_PROCEDURAL = 24
#: Relative weight of a full-disk frame, a small real cutout and a procedural image when drawing backgrounds.
BANK_WEIGHTS = {"full_disk": 8.0, "cutout": 1.0, "procedural": 0.5}


def build_bank(realdata, workdir):
    """Write ``workdir/bank.npz`` and ``workdir/jets.npy`` from the licensed real frames and the catalogue."""
    from sunpy_jets.synthetic import BackgroundBank
    from sunpy_jets.synthetic.realistic import JetDistribution

    realdata, workdir = Path(realdata), Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    real = BackgroundBank.from_files([realdata / p for p in REAL_BACKGROUNDS])
    proc = BackgroundBank.procedural(N_PROCEDURAL, size=200, seed=20261204)
    bank = BackgroundBank(real.images + proc.images, np.concatenate([real.geometry, proc.geometry]),
                          real.names + proc.names)  # fmt: skip
    bank.save(workdir / "bank.npz")
    jets = JetDistribution.from_catalogue(realdata / SJH_CATALOGUE)
    np.save(workdir / "jets.npy", jets.to_arrays())
    return bank, jets


def _light_imports():
    """
    Make ``sunpy_jets.model.network``, ``sunpy_jets.model.config``, ``sunpy_jets.synthetic.realistic`` and
    ``sunpy_jets.training.checkpoint`` importable where astropy and sunpy are missing (a bare GPU machine):
    the package's ``__init__`` files, which import them, are replaced by empty namespace modules, and
    ``astropy.units`` by an empty module (the configuration uses units only in properties the training does
    not call).
    """
    import importlib.util
    import sys
    import types

    import os

    forced = os.environ.get("SUNPY_JETS_LIGHT_IMPORTS") == "1"  # to test this path where astropy is installed
    if not forced and importlib.util.find_spec("astropy") is not None and importlib.util.find_spec("sunpy") is not None:
        return
    root = Path(__file__).resolve().parents[1] / "sunpy_jets"
    for name, folder in (("sunpy_jets", root), ("sunpy_jets.model", root / "model"), ("sunpy_jets.synthetic", root / "synthetic"),
                         ("sunpy_jets.training", root / "training")):  # fmt: skip
        module = types.ModuleType(name)
        module.__path__ = [str(folder)]
        sys.modules[name] = module
    exceptions = types.ModuleType("sunpy_jets.exceptions")
    exceptions.InputError = type("InputError", (ValueError,), {})
    exceptions.InputTypeError = type("InputTypeError", (TypeError,), {})
    exceptions.TrainingError = type("TrainingError", (RuntimeError,), {})  # the checkpoint's reader raises it
    sys.modules["sunpy_jets.exceptions"] = exceptions
    astropy = types.ModuleType("astropy")
    astropy.units = types.ModuleType("astropy.units")

    def _any_unit(name):  # annotations such as u.Quantity
        if name.startswith("__"):
            raise AttributeError(name)
        return object

    astropy.units.__getattr__ = _any_unit
    sys.modules["astropy"], sys.modules["astropy.units"] = astropy, astropy.units


def _bank_weights(names, geometry, shapes):
    kinds = []
    for name, (cx, cy, r), shape in zip(names, geometry, shapes):
        if name.startswith("procedural"):
            kinds.append("procedural")
        elif min(shape) > 2 * r:
            kinds.append("full_disk")
        else:
            kinds.append("cutout")
    return np.array([BANK_WEIGHTS[k] for k in kinds]), kinds


def make_sampler(workdir, *, seed, device, render_p=0.5, render_blur=0.0, render_blur_sigma=(0.6, 1.4), size=166,
                 n_frames=30):
    """The `SceneSampler` of the realistic scenes, from ``workdir/bank.npz`` and ``workdir/jets.npy``."""
    import json as _json

    from sunpy_jets.synthetic.realistic import JetDistribution, RenderAugment, SceneSampler

    with np.load(Path(workdir) / "bank.npz", allow_pickle=False) as f:
        meta = _json.loads(str(f["meta"]))
        images = [f[f"image_{k}"].astype(np.float32) for k in range(meta["n"])]
        geometry = f["geometry"]
    table = np.load(Path(workdir) / "jets.npy", allow_pickle=False)
    jets = JetDistribution(*table.T.astype(np.float64), source="Solar Jet Hunter catalogue")
    weights, _ = _bank_weights(meta["names"], geometry, [im.shape for im in images])
    return SceneSampler(images, geometry, jets=jets, weights=weights, render=RenderAugment(p=render_p, blur=render_blur,
                                                                                  blur_sigma=tuple(render_blur_sigma)),
                        device=device, seed=seed, size=size, n_frames=n_frames)  # fmt: skip


def _standardize(x, config):
    return (x.clamp(config.clip_min, config.clip_max) - config.mean) / config.std


def _batch_frames(config, generator):
    """Half the batches have the model's 30 frames, the others the 15 frames of a Solar Jet Hunter subject."""
    return config.n_frames if float(torch.rand(1, generator=generator)) < 0.5 else 15


class ProceduralMix:
    """
    Batches of cached ``make_sequence`` scenes (`generate_split`, already standardised) mixed into the realistic ones.

    Training sequence ``i`` of the cache has seed ``TRAIN_SEED_BASE + i`` (even ``i`` a jet, odd ``i`` a negative),
    the validation ones ``VAL_SEED_BASE + i``: the held-out test seeds (``TEST_SEED_BASE``) are never seen. Each
    draw takes whole (jet, non-jet) index pairs from a shuffled order, so every batch holds as many jets as not.
    """

    def __init__(self, workdir, n_train, n_val, *, seed, jobs=1):
        self.frames, self.labels, _ = generate_split(workdir, "train", TRAIN_SEED_BASE, n_train, jobs=jobs)
        self.val_frames, self.val_labels, _ = generate_split(workdir, "validation", VAL_SEED_BASE, n_val, jobs=jobs)
        self.rng = np.random.default_rng([seed, 17])
        self.order, self.position = self.rng.permutation(len(self.labels) // 2), 0

    def sample(self, n):
        """``(x (n, T, 1, H, W) float32, labels (n,))``, ``n`` even, flipped and rotated like the realistic ones."""
        pairs = []
        while len(pairs) < n // 2:
            if self.position == len(self.order):
                self.order, self.position = self.rng.permutation(len(self.labels) // 2), 0
            pairs.append(int(self.order[self.position]))
            self.position += 1
        index = sorted(2 * k + j for k in pairs for j in (0, 1))
        return torch.from_numpy(np.asarray(self.frames[index], dtype=np.float32)), torch.from_numpy(self.labels[index])

    def state(self):
        return {"order": self.order.tolist(), "position": self.position, "rng": self.rng.bit_generator.state}

    def restore(self, state):
        self.order, self.position = np.array(state["order"]), int(state["position"])
        self.rng.bit_generator.state = state["rng"]


def _procedural_pairs(batch_pairs, fraction):
    """Procedural sequences per step (even) so that they make ``fraction`` of a batch of ``batch_pairs`` realistic pairs."""
    if fraction <= 0:
        return 0
    return max(2, 2 * round(batch_pairs * fraction / (1 - fraction)))


def _auc(p, y):
    order = np.argsort(p, kind="stable")
    ranks = np.empty(len(p))
    ranks[order] = np.arange(1, len(p) + 1)
    n1, n0 = y.sum(), (1 - y).sum()
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / max(n1 * n0, 1))


def _f1(p, y, threshold):
    pred = p >= threshold
    tp = float((pred & (y == 1)).sum())
    return 2 * tp / max(float(pred.sum() + (y == 1).sum()), 1.0)


def train_realistic(args):
    """
    Step 2: train on scenes made on the fly; writes the state and a JSON log to ``args.state_out``.

    With ``--procedural-fraction`` a share of every batch is cached ``make_sequence`` scenes (`ProceduralMix`;
    needs astropy and sunpy to generate them). The optimiser, the step and every random state are saved with
    the weights after each evaluation, and ``--resume`` continues an interrupted run from them.
    """
    _light_imports()
    import json as _json
    import math as _math

    from safetensors.torch import load_file, save_file

    from sunpy_jets.model.config import JetModelConfig
    from sunpy_jets.model.network import JetRCNN
    from sunpy_jets.synthetic.realistic import augment_batch
    from sunpy_jets.training.checkpoint import load_checkpoint, save_checkpoint

    device = torch.device(args.device)
    torch.manual_seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    card = _json.loads((Path(args.init) / "config.json").read_text())
    config = JetModelConfig.from_dict(card["config"])
    if args.smoothing is not None:
        config = config.replace(smoothing_arcsec=args.smoothing)
    threshold = float(card.get("threshold", 0.5))
    model = JetRCNN(config)
    if not args.from_scratch:
        model.load_state_dict(load_file(str(Path(args.init) / card["weights_file"])))
    model.to(device)
    teacher = None
    if args.distill:
        teacher_card = _json.loads((Path(args.distill) / "config.json").read_text())
        with torch.random.fork_rng(devices=[]):  # its random initialisation must not change the run's draws
            teacher = JetRCNN(JetModelConfig.from_dict(teacher_card["config"]))
        teacher.load_state_dict(load_file(str(Path(args.distill) / teacher_card["weights_file"])))
        teacher.to(device).eval().requires_grad_(False)
    n_proc = _procedural_pairs(args.batch_pairs, args.procedural_fraction)
    mix = None
    if n_proc:
        t0 = time.perf_counter()
        mix = ProceduralMix(args.workdir, args.n_procedural, args.n_procedural_val, seed=args.seed, jobs=args.jobs)
        print(f"procedural cache ready in {time.perf_counter() - t0:.0f} s: {len(mix.labels)} training and "
              f"{len(mix.val_labels)} validation sequences; {n_proc} per step", flush=True)  # fmt: skip
    shape = {"size": config.image_size, "n_frames": config.n_frames}
    sampler = make_sampler(args.workdir, seed=args.seed, device=device, render_p=args.render_p,
                           render_blur=args.render_blur, render_blur_sigma=args.render_blur_sigma, **shape)
    val_sampler = make_sampler(args.workdir, seed=10_000, device=device, render_p=0.5, **shape)
    gen = torch.Generator().manual_seed(args.seed)
    val_gen = torch.Generator().manual_seed(args.seed + 10_000)
    started = time.perf_counter()
    val = [val_sampler.sample(args.batch_pairs, n_frames=config.n_frames if k % 2 == 0 else 15)
           for k in range(max(1, args.val_pairs // args.batch_pairs))]
    val_x = [(_standardize(augment_batch(b.frames, val_gen, flip=False), config), b.labels) for b in val]
    del val
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    amp = dict(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")
    log = {"args": {k: v for k, v in vars(args).items()}, "history": [], "device": str(device),
           "torch": torch.__version__, "val_seconds": round(time.perf_counter() - started, 1),
           "threads": torch.get_num_threads(), "procedural_per_step": n_proc}  # fmt: skip
    if device.type == "cuda":
        log["gpu"] = torch.cuda.get_device_name(0)
    out = Path(args.state_out)
    steps, step, elapsed = args.steps, 0, 0.0
    saved = load_checkpoint(out) if args.resume else None
    if saved is not None:
        # The package's checkpoint: tensors and plain values only, read with weights_only=True (no pickle).
        meta = saved["meta"]
        model.load_state_dict(load_file(str(out / "state.safetensors")))
        opt.load_state_dict(saved["optimizer"])
        # An explicit --steps wins; otherwise the count chosen from the time budget before the interruption.
        step, elapsed = meta["step"], meta["wall_seconds"]
        steps = args.steps if args.steps is not None else meta["steps"]
        log["history"], log["resumed"] = meta["history"], meta.get("resumed", []) + [step]
        log.update({k: meta[k] for k in ("steps_chosen", "seconds_per_step_first_20") if k in meta})
        gen.set_state(saved["gen"])
        sampler.rng.bit_generator.state = meta["sampler_rng"]
        sampler.generator.set_state(saved["sampler_generator"])
        if mix is not None and meta.get("mix"):
            mix.restore(meta["mix"])
        print(f"resumed from step {step} ({elapsed:.0f} s already spent)", flush=True)
    started = time.perf_counter() - elapsed

    @torch.no_grad()
    def evaluate():
        model.eval()
        probs, labels, losses = [], [], []
        with torch.autocast(**amp):
            for x, y in val_x:
                logits = model(x[:, :, None]).float()
                losses.append(float(loss_fn(logits, y)))
                probs.append(torch.sigmoid(logits).cpu())
                labels.append(y.cpu())
            p, y = torch.cat(probs).numpy(), torch.cat(labels).numpy()
            scores = {"val_loss": float(np.mean(losses)), "val_auc": _auc(p, y),
                      "val_accuracy": float(((p >= 0.5) == (y == 1)).mean())}  # fmt: skip
            if mix is not None:
                pp = []
                for start in range(0, len(mix.val_labels), 8):
                    x = torch.from_numpy(np.asarray(mix.val_frames[start : start + 8], dtype=np.float32))
                    pp.append(torch.sigmoid(model(x[:, :, None].to(device)).float()).cpu())
                pp = torch.cat(pp).numpy()
                scores.update(procedural_val_auc=_auc(pp, mix.val_labels),
                              procedural_val_f1=_f1(pp, mix.val_labels, threshold))  # fmt: skip
        model.train()
        return scores

    def save_state(step):
        """Write the state and the log (after every evaluation too, so an interrupted run leaves its last state)."""
        out.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().float().cpu().contiguous() for k, v in model.state_dict().items()}
        save_file(state, str(out / "state.safetensors"))
        log["wall_seconds"] = round(time.perf_counter() - started, 1)
        log["sequences_seen"] = step * (2 * args.batch_pairs + n_proc)
        meta = {"step": step, "steps": steps, "wall_seconds": log["wall_seconds"], "history": log["history"],
                "resumed": log.get("resumed", []), "sampler_rng": sampler.rng.bit_generator.state,
                "mix": mix.state() if mix is not None else None,
                **{k: log[k] for k in ("steps_chosen", "seconds_per_step_first_20") if k in log}}  # fmt: skip
        save_checkpoint(out, {"optimizer": opt.state_dict(), "gen": gen.get_state(),
                              "sampler_generator": sampler.generator.get_state(), "meta": meta})  # fmt: skip
        (out / "train_log.tmp").write_text(_json.dumps(log, indent=1))
        (out / "train_log.tmp").replace(out / "train_log.json")

    t_train, step0 = time.perf_counter(), step
    model.train()
    running = []
    while True:
        if steps is None and step - step0 == 20 and not args.time_schedule:
            per_step = (time.perf_counter() - t_train) / 20
            steps = max(40, int(args.time_budget / per_step))
            log["steps_chosen"] = steps
            log["seconds_per_step_first_20"] = round(per_step, 3)
            print(f"{per_step:.2f} s/step: {steps} steps in the {args.time_budget} s budget", flush=True)
        total = steps if steps is not None else 10**9
        if args.time_schedule:
            # On a shared CPU the speed changes as other jobs come and go: the schedule follows the clock.
            progress = (time.perf_counter() - started) / args.time_budget
            done = progress >= 1.0
        else:
            progress, done = step / max(total, 1), step >= total
        if done or time.perf_counter() - started > args.hard_limit:
            log["stopped_at_step"] = step
            break
        lr = args.lr_min + 0.5 * (args.lr - args.lr_min) * (1 + _math.cos(_math.pi * min(progress, 1.0)))
        if step < args.warmup:
            lr = args.lr * (step + 1) / args.warmup
        for group in opt.param_groups:
            group["lr"] = lr
        batch = sampler.sample(args.batch_pairs, n_frames=_batch_frames(config, gen))
        parts = [(_standardize(augment_batch(batch.frames, gen), config), batch.labels.to(device))]
        if teacher is not None:
            # Soft targets on the realistic scenes only: the teacher is the stage being kept, not the procedural one.
            with torch.no_grad(), torch.autocast(**amp):
                soft = torch.sigmoid(teacher(parts[0][0][:, :, None]).float())
            # Not on blurred renders: the teacher never saw one, and calls smoothed moving scenes jets.
            blurred = torch.tensor([p.get("render_blurred", False) for p in batch.info for _ in (0, 1)],
                                   device=device)
            w = args.distill_weight * (~blurred).float()
            parts[0] = (parts[0][0], (1 - w) * parts[0][1] + w * soft)
        if mix is not None:
            px, py = mix.sample(n_proc)
            parts.append((augment_batch(px.to(device), gen), py.to(device)))
        if parts[0][0].shape[1] == config.n_frames:  # one forward pass where the frame counts agree
            parts = [(torch.cat([x for x, _ in parts]), torch.cat([y for _, y in parts]))]
        n_total = sum(len(y) for _, y in parts)
        loss = 0.0
        with torch.autocast(**amp):
            for x, y in parts:
                logits = model(x[:, :, None]).float()
                # Sum over the parts, weighted by their share of the batch: every sequence counts the same.
                loss = loss + loss_fn(logits, y) * (len(y) / n_total)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        running.append(float(loss.detach()))
        step += 1
        if step % args.eval_every == 0 or step == total:  # (a time schedule ends with the save after the loop)
            entry = {"step": step, "train_loss": float(np.mean(running)), **evaluate(), "lr": lr,
                     "seconds": round(time.perf_counter() - started, 1)}  # fmt: skip
            running = []
            log["history"].append(entry)
            print(_json.dumps(entry), flush=True)
            save_state(step)
    if step and (not log["history"] or log["history"][-1]["step"] != step):
        log["history"].append({"step": step, "train_loss": float(np.mean(running)) if running else None, **evaluate(),
                               "lr": lr, "seconds": round(time.perf_counter() - started, 1)})  # fmt: skip
        print(_json.dumps(log["history"][-1]), flush=True)
    save_state(step)
    print(f"saved {out / 'state.safetensors'} after {log['wall_seconds']} s, {step} steps", flush=True)
    return 0


def finalize_realistic(args, *, threshold=None, metrics=None):
    """Step 3: the model directory ``args.output`` from ``args.finalize`` (state and log) and ``args.init``."""
    import dataclasses

    from safetensors.torch import load_file

    from sunpy_jets import JetClassifier

    folder = Path(args.finalize)
    log = json.loads((folder / "train_log.json").read_text())
    clf = JetClassifier.load(args.init, device="cpu")
    previous = {"card_sha256": clf.card.sha256, "name": clf.card.name,
                **{k: clf.card.training.get(k) for k in ("recipe", "data")}}  # fmt: skip
    a = log["args"]
    if a.get("smoothing") is not None and a["smoothing"] != clf.config.smoothing_arcsec:
        threshold_before = clf.threshold
        clf = JetClassifier(clf.config.replace(smoothing_arcsec=a["smoothing"]), device="cpu", threshold=threshold_before)
    clf.model.load_state_dict(load_file(str(folder / "state.safetensors")))
    with np.load(Path(args.workdir) / "bank.npz", allow_pickle=False) as f:
        names = json.loads(str(f["meta"]))["names"]
    data = {
        "source": "sunpy_jets.synthetic.realistic.SceneSampler: pairs of scenes (a jet and its jet-free twin) on "
        "crops of real AIA 304 A frames (Helioviewer full-disk JPEG 2000, MPL / NASA data; pryoung/papers "
        "cutouts, MIT) and a few procedural backgrounds, made on the fly at 1.8 arcsec/px, 166x166, 30 frames at 24 s",
        "backgrounds": [n for n in names if not n.startswith("procedural")],
        "procedural_backgrounds": sum(n.startswith("procedural") for n in names),
        "background_weights": BANK_WEIGHTS,
        "jets": "heights, widths, speeds and durations drawn jointly from the Solar Jet Hunter catalogue's 883 "
        "jets (Jet_clusters_3.0_2.0_paperID.csv summary columns only; no catalogue image is used)",
        "never_trained_on": "Solar Jet Hunter subject renders, the jipparchus sequence and any image without a "
        "licence that allows it",
        "generator_sha256": generator_digest(),
        "sequences_seen": log.get("sequences_seen"),
        **({"procedural_mix": f"{a['procedural_fraction']:g} of each batch ({log.get('procedural_per_step')} sequences "
            f"per step) drawn from {a['n_procedural']} cached make_sequence scenes, seeds {TRAIN_SEED_BASE} + i "
            f"(even i jet, odd i kind='negative', a fifth of the jets with a distractor); {a['n_procedural_val']} "
            f"validation scenes, seeds {VAL_SEED_BASE} + i"} if a.get("procedural_fraction") else {}),
        "command": "python scripts/train_default_weights.py --scenes realistic --prepare-only; "
        "python scripts/train_default_weights.py --scenes realistic --init <previous default> "
        + " ".join(f"--{k.replace('_', '-')} {' '.join(map(str, a[k])) if isinstance(a[k], list) else a[k]}"
                   for k in ("device", "steps", "batch_pairs", "lr", "lr_min", "warmup", "render_p", "render_blur",
                             "render_blur_sigma", "smoothing", "seed", "threads")
                   if a.get(k) is not None)
        + (f" --procedural-fraction {a['procedural_fraction']} --n-procedural {a['n_procedural']} --n-procedural-val "
           f"{a['n_procedural_val']} --jobs {a['jobs']}" if a.get("procedural_fraction") else "")
        + (" --from-scratch" if a.get("from_scratch") else "")
        + (f" --time-schedule --time-budget {a['time_budget']} (stopped at step {log.get('stopped_at_step')})"
           if a.get("time_schedule") else "")
        + (f" (steps chosen from a {a['time_budget']} s budget: {log.get('steps_chosen')})"
           if a.get("steps") is None and not a.get("time_schedule") else "")
        + " --state-out STATE; python scripts/train_default_weights.py --scenes realistic --finalize STATE",
        "continued_from": previous,
    }  # fmt: skip
    training = {
        "data": data,
        "history": log["history"],
        "device": log.get("gpu", log.get("device")),
        "torch_version": log.get("torch"),
        "wall_seconds": log.get("wall_seconds"),
        "recipe": {"optimizer": "adamw", "lr": a["lr"], "lr_min": a["lr_min"], "weight_decay": 1e-4,
                   "scheduler": "cosine over steps with linear warm-up", "warmup": a["warmup"],
                   "batch_size": 2 * a["batch_pairs"], "steps": log.get("stopped_at_step"), "grad_clip": 5.0,
                   "amp": "bf16" if "cuda" in str(log.get("device")) else "none", "seed": a["seed"],
                   "augment": "flips, 90 degree rotations, smaller fields padded with the median, half the batches "
                   f"made with 15 frames, render augmentation (RenderAugment p={a['render_p']}, blur={a.get('render_blur', 0)}"
                   + (f", blur_sigma={tuple(a['render_blur_sigma'])}" if a.get("render_blur") and a.get("render_blur_sigma") else "")
                   + ")",
                   **({"procedural_fraction": a["procedural_fraction"]} if a.get("procedural_fraction") else {})},  # fmt: skip
    }
    clf.threshold = float(threshold if threshold is not None else clf.threshold)
    clf.card = dataclasses.replace(
        clf.card,
        name="sunpy_jets default (synthetic)",  # synthetic jets on real backgrounds; the description says which
        description=(
            ("A JetRCNN trained from scratch (two GPU stages, then a CPU stage that mixes in make_sequence's procedural scenes) "
             if a.get("procedural_fraction") else "A JetRCNN trained from scratch (two GPU stages) ")
            + "on realistic synthetic scenes: real AIA 304 A backgrounds (licensed full-disk and "
            "cutout frames, evolved in time, with AIA-like noise) with and without synthetic jets whose sizes, "
            "speeds and durations follow the Solar Jet Hunter catalogue, hard negatives, and render augmentation. "
            "Never trained on Solar Jet Hunter subject images. See the card's metrics for real-data figures. For science, "
            "check events by eye or train on the Solar Jet Hunter labels (sunpy-jets train --preset cs433)."
        ),
        training=training,
        metrics=dict(metrics or {}),
    )
    clf.save(args.output)
    (Path(args.output) / "MODEL_CARD.rst").write_text(realistic_card_rst(clf.card))
    print(f"saved {args.output} (threshold {clf.threshold:.4f})")
    return 0


def realistic_card_rst(card):
    """The human-readable model card of weights trained on realistic scenes (figures from ``card.metrics``)."""
    t, m = card.training, card.metrics
    data = t.get("data", {})
    real = m.get("real_data", {})
    test = m.get("test", {})
    lines = [card.name, "=" * len(card.name), "", card.description, "",
             "Trained on", "----------", "",
             f"- {data.get('source', '?')}.",
             f"- Real backgrounds: {', '.join(data.get('backgrounds', []))}; {data.get('procedural_backgrounds', 0)} "
             "procedural backgrounds.",
             f"- Jets: {data.get('jets', '?')}.",
             f"- Never trained on: {data.get('never_trained_on', '?')}.",
             f"- {data.get('sequences_seen', '?')} sequences seen in the last stage, on {t.get('device', '?')}; "
             f"command: ``{data.get('command', '?')}``.",
             f"- Weights file ``{card.weights_file}``, SHA-256 ``{card.sha256}``; threshold **{card.threshold:.4f}**.",
             *([f"- The network smooths every standardised frame by a Gaussian of σ = {card.config.smoothing_arcsec:g}″ "
                "before its encoders (``JetModelConfig.smoothing_arcsec``), in training and at inference."]
               if card.config.smoothing_arcsec else []),
             "", "Measured on real data", "---------------------", ""]  # fmt: skip
    lines += [f"- {line}" for line in real.get("lines", [])] or ["- (not measured)"]
    if test:
        lines += ["", "Measured on the held-out procedural test set", "--------------------------------------------", "",
                  f"- F1 {test['f1']:.3f}, ROC AUC {test['roc_auc']:.3f}, recall {test['recall']:.3f}, precision "
                  f"{test['precision']:.3f} ({test['n']} sequences of ``make_sequence``; target F1 >= 0.95: "
                  f"**{'met' if test['f1'] >= 0.95 else 'NOT met'}**)."]  # fmt: skip
    return "\n".join(lines) + "\n"


def realistic_parser(parser):
    parser.add_argument("--scenes", choices=("procedural", "realistic"), default="procedural",
                        help="procedural: make_sequence scenes (the earlier weights); realistic: real backgrounds")  # fmt: skip
    parser.add_argument("--realdata", default=str(Path(__file__).resolve().parents[1] / ".." / "shared" / "realdata"))
    parser.add_argument("--prepare-only", action="store_true", help="realistic: only write the bank and jets table")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, help="realistic: optimiser steps (default: as many as --time-budget allows)")
    parser.add_argument("--time-budget", type=float, default=420.0, help="realistic: seconds of training when --steps is not given")
    parser.add_argument("--hard-limit", type=float, default=520.0, help="realistic: stop after this many seconds whatever")
    parser.add_argument("--batch-pairs", type=int, default=32, help="realistic: pairs (jet and twin) per batch")
    parser.add_argument("--val-pairs", type=int, default=256)
    parser.add_argument("--eval-every", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--lr-min", type=float, default=1e-5)
    parser.add_argument("--render-p", type=float, default=0.5, help="realistic: fraction of scenes rendered (RenderAugment)")
    parser.add_argument("--render-blur", type=float, default=0.0,
                        help="realistic: fraction of rendered training scenes blurred first (RenderAugment blur)")
    parser.add_argument("--render-blur-sigma", type=float, nargs=2, default=[0.6, 1.4], metavar=("LOW", "HIGH"),
                        help="realistic: range of the Gaussian sigma (model pixels) of --render-blur; the sampler's renders "
                        "are as sharp as the Solar Jet Hunter subjects at about 0.65 (ninth session, scripts/results/README.md)")
    parser.add_argument("--smoothing", type=float,
                        help="realistic: arcsec; the network smooths every frame by a Gaussian of this standard deviation "
                        "before its encoders (JetModelConfig.smoothing_arcsec; default: --init's)")
    parser.add_argument("--from-scratch", action="store_true", help="realistic: --init gives the architecture only")
    parser.add_argument("--state-out", help="realistic: folder for state.safetensors and train_log.json")
    parser.add_argument("--threshold", type=float, help="realistic --finalize: the decision threshold to write")
    parser.add_argument("--metrics", help="realistic --finalize: a JSON file of measured figures for the card")
    parser.add_argument("--finalize", help="realistic: folder holding state.safetensors and train_log.json to turn into --output")
    parser.add_argument("--procedural-fraction", type=float, default=0.0,
                        help="realistic: share of each batch that is cached make_sequence scenes (0 to 0.9)")
    parser.add_argument("--n-procedural", type=int, default=800, help="realistic: make_sequence training scenes to cache")
    parser.add_argument("--n-procedural-val", type=int, default=96, help="realistic: make_sequence validation scenes")
    parser.add_argument("--threads", type=int, default=0, help="realistic: torch threads (0: torch's default)")
    parser.add_argument("--time-schedule", action="store_true",
                        help="realistic: the cosine learning rate follows the clock over --time-budget (a shared CPU)")
    parser.add_argument("--resume", action="store_true", help="realistic: continue the run saved in --state-out")
    parser.add_argument("--distill", help="realistic: model directory whose probabilities on the realistic scenes "
                        "the weights also learn (learning without forgetting: keeps a stage close to earlier weights "
                        "on real backgrounds while the procedural share moves it)")  # fmt: skip
    parser.add_argument("--distill-weight", type=float, default=0.5,
                        help="realistic --distill: share of the realistic loss given to the teacher's probabilities")
    return parser


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
    realistic_parser(parser)
    args = parser.parse_args(argv)
    if args.scenes == "realistic":
        if args.prepare_only:
            bank, jets = build_bank(args.realdata, args.workdir)
            print(f"bank of {len(bank)} images ({', '.join(bank.names[:len(REAL_BACKGROUNDS)])} and "
                  f"{N_PROCEDURAL} procedural); {jets.source}; written to {args.workdir}")  # fmt: skip
            return 0
        if args.finalize:
            metrics = json.loads(Path(args.metrics).read_text()) if args.metrics else None
            return finalize_realistic(args, threshold=args.threshold, metrics=metrics)
        if not args.init or not args.state_out:
            parser.error("--scenes realistic trains from --init (a model directory) and writes --state-out")
        if not 0 <= args.procedural_fraction <= 0.9:
            parser.error("--procedural-fraction must lie between 0 and 0.9 (the rest of each batch is realistic)")
        return train_realistic(args)

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
