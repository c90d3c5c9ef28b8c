#!/usr/bin/env python
"""
Interpolate two model directories of one architecture in weight space (WiSE-FT), and pick the mixing weight.

Fine-tuning the bundled weights on ``make_sequence``'s procedural scenes (CPU stages 3–9, ``scripts/results``)
raised the procedural figures but lowered the real Solar Jet Hunter jets' scores. Wortsman et al. (2022, "Robust
fine-tuning of zero-shot models", CVPR) found that the weights on the straight line between a model and its
fine-tuned descendant keep much of the fine-tuned gain while recovering the robustness the fine-tuning lost.
``--alpha`` gives ``(1 - alpha) * A + alpha * B`` for every tensor (batch-norm statistics included; integer
counters are B's), written as a model directory with its card and checksum.

``--select`` runs the rule fixed before any test figure was seen (``scripts/results/README.md``): for each
``alpha`` of a grid, the blind threshold of `real_validation.py` (``--rule recall``: the real subjects of the
validation days only), then the F1 at that threshold on the procedural *validation* scenes (seeds 2000000 + i,
cached in ``--workdir`` by ``train_default_weights.py``); the chosen ``alpha`` is the smallest (nearest A) whose
validation F1 reaches ``--min-f1``, else the one with the highest F1. Neither the held-out procedural test nor any
real non-jet window is read. Usage::

    python scripts/interpolate_weights.py A_DIR B_DIR --alpha 0.7 --output OUT_DIR [--threshold T]
    python scripts/interpolate_weights.py A_DIR B_DIR --select --workdir /tmp/h17_work --output OUT_DIR \
        --json scripts/results/interpolation_selection.json
"""

import argparse
import dataclasses
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
from sklearn import metrics as skm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from evaluate_default_weights import predict  # noqa: E402
from train_default_weights import VAL_SEED_BASE, MemmapJetDataset, generate_split  # noqa: E402

from sunpy_jets import JetClassifier  # noqa: E402
from sunpy_jets.exceptions import InputError  # noqa: E402

HERE = Path(__file__).resolve().parent
GRID = (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def interpolate(a: JetClassifier, b: JetClassifier, alpha: float, *, threshold: float) -> JetClassifier:
    """A classifier whose every floating-point tensor is ``(1 - alpha) * a + alpha * b``."""
    if a.config != b.config:
        raise InputError("the two models have different configurations: only one architecture can be interpolated")
    if not 0.0 <= alpha <= 1.0:
        raise InputError(f"alpha must lie in [0, 1], not {alpha}")
    sa, sb = a.model.state_dict(), b.model.state_dict()
    mixed = {k: torch.lerp(sa[k], sb[k], alpha) if sa[k].is_floating_point() else sb[k].clone() for k in sa}
    out = JetClassifier(a.config, device="cpu", threshold=threshold, progress=False)
    out.model.load_state_dict(mixed)
    out.model.eval()
    described = (f"Weight-space interpolation (WiSE-FT) of {a.card.sha256[:8]} (1 - alpha) and {b.card.sha256[:8]} "
                 f"(alpha = {alpha:g}), scripts/interpolate_weights.py. A: {a.card.description} B: {b.card.description}")
    out.card = dataclasses.replace(b.card, description=described, threshold=threshold, metrics={})
    return out


def blind_threshold(model_dir: Path, json_path: Path) -> float:
    """`real_validation.py --rule recall` on the validation days' subjects (reads no non-jet score)."""
    subprocess.run([sys.executable, str(HERE / "real_validation.py"), "--model", str(model_dir), "--rule", "recall",
                    "--json", str(json_path)], check=True, stdout=subprocess.DEVNULL)
    return float(json.loads(json_path.read_text())["summary"]["threshold"])


def validation_f1(clf: JetClassifier, workdir: Path, n: int) -> dict:
    frames, labels, kinds = generate_split(workdir, "validation", VAL_SEED_BASE, n, jobs=2, progress=False)
    proba = predict(clf, MemmapJetDataset(frames, labels))
    pred = proba >= clf.threshold
    return {"f1": float(skm.f1_score(labels, pred)), "roc_auc": float(skm.roc_auc_score(labels, proba)),
            "recall": float(skm.recall_score(labels, pred)), "n": int(len(labels))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("a", type=Path, help="model directory at alpha = 0 (the bundled weights' line)")
    parser.add_argument("b", type=Path, help="model directory at alpha = 1 (its fine-tuned descendant)")
    parser.add_argument("--alpha", type=float, help="mixing weight of B")
    parser.add_argument("--threshold", type=float, help="decision threshold of the output (default: blind rule)")
    parser.add_argument("--select", action="store_true", help="choose alpha by the rule above")
    parser.add_argument("--grid", type=float, nargs="+", default=GRID)
    parser.add_argument("--min-f1", type=float, default=0.95)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/h17_work"))
    parser.add_argument("--n-val", type=int, default=96)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.select == (args.alpha is not None):
        parser.error("give either --alpha or --select")
    a = JetClassifier.load(args.a, device="cpu", progress=False)
    b = JetClassifier.load(args.b, device="cpu", progress=False)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for alpha in args.grid if args.select else [args.alpha]:
            if args.threshold is not None:
                threshold, rule = args.threshold, None
            else:
                pre = Path(tmp) / f"alpha{alpha:g}"
                interpolate(a, b, alpha, threshold=0.5).save(pre)
                rule_json = Path(tmp) / f"alpha{alpha:g}.json"
                threshold = blind_threshold(pre, rule_json)
                rule = json.loads(rule_json.read_text())["summary"]
            clf = interpolate(a, b, alpha, threshold=threshold)
            row = {"alpha": alpha, "threshold": threshold}
            if rule is not None:
                row["validation_recall_at_threshold"] = rule["validation_recall_at_threshold"]
            if args.select:
                row["procedural_validation"] = validation_f1(clf, args.workdir, args.n_val)
            rows.append(row)
            print(json.dumps(row), flush=True)
    if args.select:
        passing = [r for r in rows if r["procedural_validation"]["f1"] >= args.min_f1]
        chosen = min(passing, key=lambda r: r["alpha"]) if passing else max(
            rows, key=lambda r: r["procedural_validation"]["f1"])
    else:
        chosen = rows[0]
    clf = interpolate(a, b, chosen["alpha"], threshold=chosen["threshold"])
    clf.save(args.output)
    print(f"alpha {chosen['alpha']:g}, threshold {chosen['threshold']:.4f}: {args.output} ({clf.card.sha256[:8]})")
    if args.json:
        args.json.write_text(json.dumps({
            "command": " ".join(["python scripts/interpolate_weights.py", *(sys.argv[1:] if argv is None else argv)]),
            "a": a.card.sha256, "b": b.card.sha256, "rows": rows, "chosen": chosen, "output_sha256": clf.card.sha256,
        }, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
