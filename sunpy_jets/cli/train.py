"""
``sunpy-jets train``: train a jet classifier, on generated sequences or on the published data set.

``--synthetic`` trains on sequences from `sunpy_jets.synthetic` (offline). ``--preset cs433``
reproduces the published experiment: it reads the Solar Jet Hunter catalogue, downloads the AIA
cutouts from JSOC, builds the preprocessed cache, splits 70/15/15 by HEK event, trains with the
published recipe, evaluates on the test split and prints the results beside the published ones.
"""

import argparse
import contextlib
import json
import os
from pathlib import Path

from .._atomic import atomic_write_text

__all__ = ["add_parser", "run", "PUBLISHED"]

#: The published results of the CS-433 experiment on its test split.
PUBLISHED = {"accuracy": 0.9231, "f1": 0.9286, "n": 260, "threshold": 0.1}


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``train`` subcommand."""
    parser = subparsers.add_parser(
        "train",
        help="train a jet classifier (on generated data, or reproduce the published experiment)",
        description=(
            "Train a jet classifier and save it (weights and model card) into --output. Use --synthetic to train on "
            "generated sequences, or --preset cs433 --catalogue CSV to reproduce the published experiment (needs "
            "network access to JSOC and a registered JSOC e-mail)."
        ),
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--synthetic", action="store_true", help="train on sequences from sunpy_jets.synthetic")
    source.add_argument("--preset", choices=["cs433"], help="reproduce a published experiment")
    parser.add_argument("--output", required=True, help="directory for the trained model")
    data = parser.add_argument_group("synthetic data")
    data.add_argument("--n-train", type=int, default=256, help="training sequences (default 256)")
    data.add_argument("--n-val", type=int, default=64, help="validation sequences (default 64)")
    data.add_argument("--n-test", type=int, default=0, help="test sequences (default 0)")
    data.add_argument("--cache-dir", help="keep preprocessed sequences in this on-disk cache (default: in memory)")
    real = parser.add_argument_group("published experiment (--preset cs433)")
    real.add_argument("--catalogue", help="the Solar Jet Hunter catalogue CSV (Jet_clusters_3.0_2.0_paperID.csv)")
    real.add_argument("--nonjets", help="the non-jet positions CSV (default: No_jet_df.csv beside the catalogue)")
    real.add_argument("--email", help="JSOC e-mail (default: the JSOC_EMAIL environment variable)")
    real.add_argument("--download-dir", help="where FITS cutouts go (default: OUTPUT/downloads)")
    real.add_argument("--limit", type=int, metavar="N",
                      help="a quick trial of the whole path: one jet from each of the first N HEK events, and the "
                      "first N non-jet positions")
    real.add_argument("--jsoc-url", metavar="URL", help="base URL of the JSOC server (default: the "
                      "SUNPY_JETS_JSOC_URL environment variable, else jsoc.stanford.edu)")
    real.add_argument("--jsoc-timeout", type=float, default=30.0, metavar="MINUTES",
                      help="how long to wait for JSOC to prepare one label's export (default 30)")
    model = parser.add_argument_group("model")
    model.add_argument("--image-size", type=int, help="model grid side in pixels (default 166)")
    model.add_argument("--n-frames", type=int, help="frames per sequence (default 30)")
    model.add_argument("--channels", type=int, nargs="+", help="encoder channels per stage")
    model.add_argument("--hidden-size", type=int, help="LSTM hidden size")
    recipe = parser.add_argument_group("recipe (defaults: the published recipe)")
    recipe.add_argument("--epochs", type=int, help="maximum epochs (default 100)")
    recipe.add_argument("--lr", type=float, help="learning rate (default 1e-4)")
    recipe.add_argument("--batch-size", type=int, help="batch size (default 2)")
    recipe.add_argument("--optimizer", choices=["adamw", "sgd"])
    recipe.add_argument("--scheduler", choices=["cosine", "exponential", "none"])
    recipe.add_argument("--patience", type=int, help="early-stopping patience in epochs (default 10)")
    recipe.add_argument("--amp", choices=["none", "bf16", "fp16"], help="mixed precision on CUDA")
    recipe.add_argument("--num-workers", type=int, help="DataLoader workers")
    parser.add_argument("--seed", type=int, default=0, help="seed of data, split, weights and training (default 0)")
    parser.add_argument("--device", default="auto", help='"auto" (default), "cpu", "cuda" or "mps"')
    parser.add_argument("--checkpoint-dir", help="checkpoint directory (default: OUTPUT/checkpoint); a rerun resumes")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    return parser


def _config(args):
    from ..model.config import JetModelConfig

    changes = {
        "image_size": args.image_size, "n_frames": args.n_frames, "hidden_size": args.hidden_size,
        "channels": tuple(args.channels) if args.channels else None,
    }  # fmt: skip
    return JetModelConfig().replace(**{k: v for k, v in changes.items() if v is not None})


def _recipe(args):
    from ..training import TrainingRecipe

    changes = {
        "epochs": args.epochs, "lr": args.lr, "batch_size": args.batch_size, "optimizer": args.optimizer,
        "scheduler": args.scheduler, "patience": args.patience, "amp": args.amp, "num_workers": args.num_workers,
    }  # fmt: skip
    return TrainingRecipe(seed=args.seed).replace(**{k: v for k, v in changes.items() if v is not None})


def _print_scores(title, scores, published=None):
    keys = ("n", "threshold", "accuracy", "precision", "recall", "f1", "fbeta", "roc_auc", "pr_auc")
    print(title)
    print(f"  {'metric':<10} {'this run':>10}" + (f" {'published':>10}" if published else ""))
    for key in keys:
        value = scores.get(key)
        shown = "-" if value is None else (f"{value:d}" if isinstance(value, int) else f"{value:.4f}")
        line = f"  {key:<10} {shown:>10}"
        if published:
            ref = published.get(key)
            line += f" {'-' if ref is None else (f'{ref:d}' if isinstance(ref, int) else f'{ref:.4f}'):>10}"
        print(line)
    for part in ("on_disk", "off_limb"):
        if scores.get(part):
            s = scores[part]
            print(f"  {part}: n={s['n']} accuracy={s['accuracy']:.4f} f1={s['f1']:.4f} recall={s['recall']:.4f}")


def _train(args, config, train, val, data_description, val_positions=None):
    from .. import JetClassifier
    from ..training import evaluate, fit

    output = Path(args.output)
    checkpoint_dir = Path(args.checkpoint_dir) if args.checkpoint_dir else output / "checkpoint"
    ctx = getattr(args, "distributed", None)
    device = args.device if ctx is None else ctx.device
    clf = JetClassifier(config, device=device, seed=args.seed, progress=not args.no_progress)
    recipe = _recipe(args)
    history = fit(clf, train, val, recipe=recipe, checkpoint_dir=checkpoint_dir, data_description=data_description,
                  distributed=ctx)  # fmt: skip
    if val_positions is not None:
        clf.card.metrics["validation"] = evaluate(clf, val, positions=val_positions, beta=recipe.beta)
    print(f"trained {len(history)} epochs ({history.stopped}); best epoch {history.best_epoch}, "
          f"threshold {clf.threshold:.4f} (max F{recipe.beta:g} on validation)")  # fmt: skip
    _print_scores("validation", clf.card.metrics["validation"])
    return clf, recipe


def _run_synthetic(args):
    from ..exceptions import InputError
    from ..training import evaluate
    from ..training.synthetic_data import synthetic_dataset

    for name in ("n_train", "n_val"):
        if getattr(args, name) < 2:
            raise InputError(f"--{name.replace('_', '-')} must be at least 2 (jets and non-jets alternate)")
    if args.n_test < 0:
        raise InputError("--n-test must be 0 or more")
    config = _config(args)
    progress = not args.no_progress
    common = {"config": config, "seed": args.seed, "cache_dir": args.cache_dir, "progress": progress}
    train, _ = synthetic_dataset(args.n_train, split="train", augment=True, **common)
    val, val_pos = synthetic_dataset(args.n_val, split="validation", **common)
    description = {
        "source": "synthetic", "generator": "sunpy_jets.synthetic.make_sequence", "seed": args.seed,
        "n_train": args.n_train, "n_val": args.n_val, "n_test": args.n_test,
        "kinds": "jets and 'negative' (quiet or hard negatives) alternating; label = jet visible",
        "pixel_scale_arcsec": float(config.pixel_scale.value), "train_kinds": _count(train.kinds),
    }  # fmt: skip
    clf, recipe = _train(args, config, train, val, description, val_pos)
    if args.n_test:
        test, test_pos = synthetic_dataset(args.n_test, split="test", **common)
        clf.card.metrics["test"] = evaluate(clf, test, positions=test_pos, beta=recipe.beta)
        _print_scores("test", clf.card.metrics["test"])
    if _is_main(args):
        clf.save(args.output)
        print(f"model saved to {args.output}")
    return 0


def _count(kinds):
    out = {}
    for k in kinds:
        out[k] = out.get(k, 0) + 1
    return out


def _run_cs433(args):
    import numpy as np

    import astropy.units as u

    from ..datasets import (
        JetSequenceDataset,
        SolarJetHunterCatalogue,
        build_cache,
        build_manifest,
        download,
        grouped_split,
        read_cache_index,
        read_nonjet_positions,
        resolve_jsoc_email,
    )
    from ..exceptions import DownloadError, InputError
    from ..training import evaluate

    if not args.catalogue:
        raise InputError(
            "--preset cs433 needs --catalogue: the Solar Jet Hunter CSV (Jet_clusters_3.0_2.0_paperID.csv)"
        )
    # The e-mail is checked before any slow work, so a missing one fails at once.
    email = resolve_jsoc_email(args.email)
    catalogue_path = Path(args.catalogue)
    nonjets_path = Path(args.nonjets) if args.nonjets else catalogue_path.parent / "No_jet_df.csv"
    if not nonjets_path.is_file():
        raise InputError(f"no non-jet positions at {nonjets_path}: give --nonjets No_jet_df.csv")
    config = _config(args)
    output = Path(args.output)
    progress = not args.no_progress
    if args.limit is not None and args.limit < 1:
        raise InputError(f"--limit must be at least 1, not {args.limit}")
    if args.jsoc_timeout <= 0:
        raise InputError(f"--jsoc-timeout must be a positive number of minutes, not {args.jsoc_timeout}")
    catalogue = SolarJetHunterCatalogue.read(catalogue_path)
    nonjets = read_nonjet_positions(nonjets_path)
    if args.limit is not None:  # one jet per HEK event, so that a grouped split can put jets in every set
        _, first = np.unique(np.asarray(catalogue["sol_event"]), return_index=True)
        catalogue, nonjets = catalogue[np.sort(first)[: args.limit]], nonjets[: args.limit]
    manifest = build_manifest(catalogue, nonjets, config=config)
    n_events = len(np.unique(catalogue["sol_event"]))
    print(f"{len(catalogue)} jets from {n_events} HEK events and {len(nonjets)} non-jets: {len(manifest)} JSOC queries")
    download_dir = Path(args.download_dir) if args.download_dir else output / "downloads"
    cache_dir = Path(args.cache_dir) if args.cache_dir else output / "cache"
    if _is_main(args):  # under torchrun rank 0 downloads and caches, the others wait for it
        report = download(manifest, download_dir, email=email, progress=progress, jsoc_url=args.jsoc_url,
                          timeout=args.jsoc_timeout * u.min)  # fmt: skip
        status = np.asarray(report["status"])
        ok = np.isin(status, ["cached", "downloaded"])
        print(f"JSOC: {(status == 'downloaded').sum()} sequences downloaded, {(status == 'cached').sum()} already "
              f"there, {(~ok).sum()} failed")  # fmt: skip
        for row in report[~ok][:10]:
            print(f"  {row['label_id']}: {row['error']}")
        if not ok.any():
            first = report["error"][0] if len(report) else ""
            raise DownloadError(f"no sequence could be downloaded from JSOC (first error: {first})")
        if not ok.all():
            print(f"  training goes on with the {ok.sum()} others; run the same command again to retry the failed "
                  "ones (nothing already downloaded is downloaded again)")  # fmt: skip
        build_cache(manifest, cache_dir, config=config, download_dir=download_dir, progress=progress)
    if getattr(args, "distributed", None) is not None:
        args.distributed.barrier()
    index = read_cache_index(cache_dir, config=config)
    train_idx, val_idx, test_idx = grouped_split(index["group"], labels=index["target"], seed=args.seed)
    train = JetSequenceDataset(index, train_idx, augment=True, seed=args.seed)
    val = JetSequenceDataset(index, val_idx)
    test = JetSequenceDataset(index, test_idx)
    description = {
        "source": "Solar Jet Hunter catalogue + HEK non-jets (CS-433 preset)", "catalogue": catalogue_path.name,
        "nonjets": nonjets_path.name, "limit": args.limit, "n_labels": len(manifest), "n_cached": len(index),
        "split": "grouped by HEK event, 70/15/15", "split_seed": args.seed,
        "n_train": len(train_idx), "n_val": len(val_idx), "n_test": len(test_idx),
    }  # fmt: skip
    clf, recipe = _train(args, config, train, val, description, index["center"][val_idx])
    clf.card.metrics["test"] = evaluate(clf, test, positions=index["center"][test_idx], beta=recipe.beta)
    _print_scores("test split", clf.card.metrics["test"], PUBLISHED)
    if _is_main(args):
        clf.save(output)
        atomic_write_text(output / "test_metrics.json", json.dumps(clf.card.metrics["test"], indent=2))
        print(f"model saved to {output}")
    return 0


def _is_main(args):
    ctx = getattr(args, "distributed", None)
    return ctx is None or ctx.is_main


def run(args) -> int:
    """Run ``train`` (one process per GPU with DistributedDataParallel when started by ``torchrun``)."""
    from ..training.ddp import cleanup_distributed, launched_by_torchrun, setup_distributed

    args.distributed = setup_distributed() if launched_by_torchrun() else None
    with contextlib.ExitStack() as stack:
        stack.callback(cleanup_distributed, args.distributed)
        if not _is_main(args):
            # The other ranks train their shards silently: rank 0 reports, saves and writes checkpoints.
            args.no_progress = True
            stack.enter_context(contextlib.redirect_stdout(stack.enter_context(open(os.devnull, "w"))))
        if args.synthetic:
            return _run_synthetic(args)
        return _run_cs433(args)
