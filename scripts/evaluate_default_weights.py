#!/usr/bin/env python
"""
Evaluate the bundled default weights (or any model directory) on held-out synthetic sequences and real non-jet data.

1. **Synthetic test set:** ``--n-test`` (500) sequences from `sunpy_jets.synthetic.make_sequence` with seeds
   ``TEST_SEED_BASE + i`` (never used in training or validation; see ``train_default_weights.py``), even ``i``
   a jet, odd ``i`` ``kind="negative"`` (a hard negative or quiet Sun). F1 at the model's threshold and
   ROC AUC come from `sklearn.metrics`.
2. **Real non-jet data:** every sliding window of the AIA 304 Å sequence in
   ``realdata/jipparchus_sun_data_visualisation/aia304`` (post-flare loops and coronal rain, no jet) is
   scored with `JetClassifier.scan`; the false-positive rate is the fraction of windows at or above the
   threshold.

With ``--update-card`` the figures are written into the model's ``config.json`` (``metrics``) and its
``MODEL_CARD.rst`` is regenerated. Run from the repository root::

    python scripts/evaluate_default_weights.py --update-card
"""

import argparse
import dataclasses
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn import metrics as skm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_default_weights import TEST_SEED_BASE, MemmapJetDataset, generate_split  # noqa: E402

REALDATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "realdata"
REAL_NONJET = "jipparchus_sun_data_visualisation/aia304"


@torch.inference_mode()
def predict(clf, dataset, batch_size=8):
    model = clf.model.eval()
    out = []
    for start in range(0, len(dataset), batch_size):
        x = torch.stack([dataset[i][0] for i in range(start, min(start + batch_size, len(dataset)))])
        out.append(torch.sigmoid(model(x.to(clf.device))).cpu().numpy())
    return np.concatenate(out).astype(float)


def synthetic_metrics(clf, workdir, n_test, jobs):
    frames, labels, kinds = generate_split(workdir, "test", TEST_SEED_BASE, n_test, jobs=jobs, distractors=False)
    proba = predict(clf, MemmapJetDataset(frames, labels))
    pred = proba >= clf.threshold
    kinds = np.array(kinds)
    per_kind = {
        k: {"n": int((kinds == k).sum()), "called_jet": float(pred[kinds == k].mean())} for k in sorted(set(kinds))
    }
    return {
        "test_set": f"make_sequence seeds {TEST_SEED_BASE} + i, i < {n_test}; even i kind='jet', odd i kind='negative'"
        "; 166x166 at 1.8 arcsec/pix, 30 frames at 24 s",
        "n": int(len(labels)),
        "n_positive": int(labels.sum()),
        "threshold": clf.threshold,
        "f1": float(skm.f1_score(labels, pred)),
        "roc_auc": float(skm.roc_auc_score(labels, proba)),
        "accuracy": float(skm.accuracy_score(labels, pred)),
        "precision": float(skm.precision_score(labels, pred, zero_division=0)),
        "recall": float(skm.recall_score(labels, pred)),
        "confusion_matrix": skm.confusion_matrix(labels, pred, labels=[0, 1]).tolist(),
        "fraction_called_jet_by_kind": per_kind,
    }


def real_nonjet_metrics(clf, realdata):
    folder = Path(realdata) / REAL_NONJET
    if not folder.is_dir():
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the 300"x222" cutout is padded to the model's field: expected
        table = clf.scan(sorted(folder.glob("*.fits")), progress=False)
    proba = np.asarray(table["probability"], dtype=float)
    return {
        "data": f"realdata/{REAL_NONJET}: AIA 304 A, 2012-07-19 07:30-07:45, post-flare loops and coronal rain, no jet",
        "windows": int(len(proba)),
        "false_positive_windows": int((proba >= clf.threshold).sum()),
        "false_positive_rate": float((proba >= clf.threshold).mean()),
        "max_probability": float(proba.max()),
        "median_probability": float(np.median(proba)),
    }


def _architecture(config) -> str:
    """The network in words, with the architecture fields that differ from `JetModelConfig`'s defaults."""
    from sunpy_jets.model import JetModelConfig, JetRCNN

    fields = ("channels", "difference_channels", "hidden_size", "lstm_layers", "head_size", "dropout")
    default, ours = JetModelConfig().to_dict(), config.to_dict()
    changed = ", ".join(f"{k}={tuple(ours[k]) if isinstance(ours[k], list) else ours[k]}" for k in fields if ours[k] != default[k])
    parts = "CNN per frame" + (" and a CNN per frame difference" if config.difference_channels else "") + " + LSTM"
    return f"``JetModelConfig({changed})`` ({parts}; {JetRCNN(config).n_parameters:,} parameters)"


def model_card_rst(card) -> str:
    """The human-readable model card of a model directory's card."""
    t, m = card.training, card.metrics
    data, recipe = t.get("data", {}), t.get("recipe", {})
    test, real, val = m.get("test", {}), m.get("real_nonjet"), m.get("validation", {})
    history = t.get("history", [])
    lines = [
        f"{card.name}",
        "=" * len(card.name),
        "",
        ".. warning::",
        "",
        "   These weights were trained **only on synthetic data** made by ``sunpy_jets.synthetic``. They show that",
        "   the package works end to end (``sunpy-jets demo``) and are a starting point for fine-tuning; they are",
        "   **not** a validated detector of real coronal jets. For science, train on the Solar Jet Hunter labels",
        "   (``sunpy-jets train --preset cs433``) and evaluate on real data.",
        "",
        "Model",
        "-----",
        "",
        f"- Architecture: {_architecture(card.config)}, {card.config.n_frames} frames of "
        f"{card.config.image_size}x{card.config.image_size} px (300 arcsec at 1.8 arcsec/px), AIA 304 A at 24 s.",
        f"- Weights file: ``{card.weights_file}``, SHA-256 ``{card.sha256}``.",
        f"- Decision threshold: **{card.threshold:.4f}** (maximum F1 on the validation set).",
        f"- Written by sunpy_jets {card.package_version} on {card.created}.",
        "",
        "Training data",
        "-------------",
        "",
        f"- Source: {data.get('source', '?')}.",
        f"- Call: ``{data.get('generator_call', '?')}``.",
        *([f"- Generator code: SHA-256 ``{data['generator_sha256']}`` of ``sunpy_jets/synthetic/*.py`` "
           "(``generator_digest`` in ``scripts/train_default_weights.py``)."] if "generator_sha256" in data else []),
        f"- Training: {sum(data.get('train_kinds', {}).values())} sequences ({data.get('train_positives', '?')} with a jet), seeds "
        f"{data.get('train_seeds', '?')}; kinds {data.get('train_kinds', '?')}.",
        f"- Validation: {data.get('n_validation', '?')} sequences ({data.get('validation_positives', '?')} with a jet), "
        f"seeds {data.get('validation_seeds', '?')}; kinds {data.get('validation_kinds', '?')}.",
        f"- A fraction {data.get('distractor_fraction_of_jets', '?')} of the jet sequences also hold one hard negative.",
        "",
        "Training recipe",
        "---------------",
        "",
        f"- Command: ``{data.get('command', '?')}`` (``scripts/train_default_weights.py``), "
        f"on {t.get('device', '?')} with {t.get('cpu_threads', '?')} threads, torch {t.get('torch_version', '?')}; "
        f"wall time of the training run {t.get('wall_seconds', '?')} s; generating its data (two processes, cached and "
        f"reused) took {data.get('generation_seconds', '?')} s.",
        f"- AdamW, lr {recipe.get('lr')}, weight decay {recipe.get('weight_decay')}, cosine schedule to "
        f"{recipe.get('eta_min')}, batch size {recipe.get('batch_size')}, {recipe.get('epochs')} epochs, gradient "
        f"clipping {recipe.get('grad_clip')}, random flips and 90 degree rotations, seed {recipe.get('seed')}. "
        "(The published recipe, lr 1e-4 with batch size 2 for up to 100 epochs, is too slow on CPU.)",
        *_stages(data),
        f"- Best epoch: {t.get('best_epoch')} of {t.get('epochs_run')}; per epoch: "
        + "; ".join(f"train loss {r['train_loss']:.3f}, val loss {r['val_loss']:.3f}, val F1 {r['val_f1']:.3f}" for r in history)
        + ".",
        "",
        "Evaluation",
        "----------",
        "",
        "Run ``python scripts/evaluate_default_weights.py`` to reproduce these figures.",
        "",
    ]
    if val:
        lines += [f"- Validation set ({val.get('n')} sequences): F1 {val.get('f1', float('nan')):.3f}, "
                  f"ROC AUC {val.get('roc_auc') or float('nan'):.3f} at the chosen threshold.", ""]  # fmt: skip
    if test:
        kinds = ", ".join(f"{k} {v['called_jet']:.2f} (n={v['n']})" for k, v in test["fraction_called_jet_by_kind"].items())
        lines += [
            f"- Held-out synthetic test set ({test['n']} sequences, {test['n_positive']} with a jet; {test['test_set']}):",
            f"  **F1 {test['f1']:.3f}**, **ROC AUC {test['roc_auc']:.3f}**, accuracy {test['accuracy']:.3f}, precision "
            f"{test['precision']:.3f}, recall {test['recall']:.3f}; confusion matrix [[tn, fp], [fn, tp]] "
            f"{test['confusion_matrix']}.",
            f"- Fraction of test sequences called a jet, by kind: {kinds}.",
            "",
        ]
    if test:
        met = test["f1"] >= 0.95 and test["roc_auc"] >= 0.98
        lines += [
            f"- Target of issue 7 (F1 >= 0.95 and ROC AUC >= 0.98 on this test set): **{'met' if met else 'NOT met'}**."
            + ("" if met else " The fractions by kind above show which scenes the network, trained on CPUs only, "
               "still confuses with jets; training longer (on a GPU) is the next step."),
            "",
        ]
    if real:
        lines += [
            f"- Real non-jet data ({real['data']}): {real['false_positive_windows']} of {real['windows']} sliding windows "
            f"at or above the threshold, a **false-positive rate of {real['false_positive_rate']:.2f}** (window "
            f"probabilities: median {real['median_probability']:.3f}, max {real['max_probability']:.3f}). One real "
            "scene is a small sample: expect false positives on real dynamic scenes, which the synthetic training set "
            "only imitates.",
            "",
        ]
    return "\n".join(lines)


def _stages(data):
    """Lines describing the earlier stages a model was trained in (``--init``), oldest first."""
    stages, previous = [], data.get("continued_from")
    while previous:
        pdata = previous.get("data") or {}
        stages.insert(0, f"- Continues an earlier stage: ``{pdata.get('command', '?')}`` (per epoch: "
                      + "; ".join(f"train loss {r['train_loss']:.3f}, val F1 {r['val_f1']:.3f}"
                                  for r in previous.get("history") or []) + ").")  # fmt: skip
        previous = pdata.get("continued_from")
    return stages


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="model directory (default: the bundled weights)")
    parser.add_argument("--workdir", default="/tmp/sunpy_jets_default", help="cache of generated sequences")
    parser.add_argument("--n-test", type=int, default=500)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--realdata", default=str(REALDATA))
    parser.add_argument("--update-card", action="store_true", help="write the figures into the model card")
    parser.add_argument("--json", help="also write the figures here, with the model and the command")
    args = parser.parse_args(argv)

    from sunpy_jets import JetClassifier
    from sunpy_jets.model.pretrained import default_weights

    started = time.perf_counter()
    with default_weights() if args.model is None else _nullpath(args.model) as directory:
        directory = Path(directory)
        clf = JetClassifier.load(directory, device="cpu", progress=False)
        metrics = {"test": synthetic_metrics(clf, args.workdir, args.n_test, args.jobs)}
        real = real_nonjet_metrics(clf, args.realdata)
        if real is not None:
            metrics["real_nonjet"] = real
        print(json.dumps(metrics, indent=1))
        print(f"evaluated in {time.perf_counter() - started:.0f} s")
        if args.json:
            given = sys.argv[1:] if argv is None else argv
            report = {**metrics, "model": {"source": str(directory), "sha256": clf.card.sha256,
                                           "threshold": clf.threshold},
                      "command": " ".join(["python scripts/evaluate_default_weights.py", *given])}  # fmt: skip
            Path(args.json).write_text(json.dumps(report, indent=1) + "\n")
        if args.update_card:
            clf.card = dataclasses.replace(clf.card, metrics={**clf.card.metrics, **metrics})
            clf.save(directory)
            (directory / "MODEL_CARD.rst").write_text(model_card_rst(clf.card))
            print(f"updated {directory / 'config.json'} and {directory / 'MODEL_CARD.rst'}")
    return 0


class _nullpath:
    def __init__(self, path):
        self.path = path

    def __enter__(self):
        return self.path

    def __exit__(self, *exc):
        return False


if __name__ == "__main__":
    raise SystemExit(main())
