"""
Which of the realistic training generator's jets a model finds: scores by jet property (issue 17 diagnostic).

Samples pairs of realistic scenes (`sunpy_jets.synthetic.realistic.SceneSampler`: one member with a jet, its
twin without, same background, negatives and render) from the background bank that
``train_default_weights.py --prepare-only`` writes, scores both members with a model, and reports, for all
pairs and for groups of them (rendered or not, limb or disk, hard negatives present, onset inside the window
or before it, spire contrast, height, duration, brightness gain), the ROC AUC of jets against twins, the
fraction of pairs where the jet scores higher, and the recall and false-positive rate at the model's
threshold. This measures the generator against the model, not the model against real jets: it is a
diagnostic for the next training stage, not a result.

Example (about 2 minutes on 2 CPU cores)::

    python scripts/diagnose_realistic.py --workdir /tmp/h17_work --pairs 200 \\
        --json scripts/results/diagnose_realistic_088a3d33.json
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_default_weights import _standardize, make_sampler  # noqa: E402

__all__ = ["score_pairs", "summarize"]


def score_pairs(clf, workdir, *, pairs, render_p, seed, batch=8):
    """One row per pair: the two scores and the jet's parameters."""
    from sunpy_jets.synthetic.realistic import augment_batch

    model, config = clf.model.eval(), clf.config
    sampler = make_sampler(workdir, seed=seed, device=torch.device("cpu"), render_p=render_p,
                           size=config.image_size, n_frames=config.n_frames)  # fmt: skip
    generator = torch.Generator().manual_seed(seed)
    rows = []
    for _ in range(-(-pairs // batch)):
        scenes = sampler.sample(batch)
        x = _standardize(augment_batch(scenes.frames, generator, flip=False), config)
        with torch.no_grad():
            p = torch.sigmoid(model(x[:, :, None])).numpy()
        for i, info in enumerate(scenes.info):
            jet = {k: v for k, v in info["jet"].items() if isinstance(v, (int, float, bool))}
            rows.append({"render_p": render_p, "p_jet": float(p[2 * i]), "p_twin": float(p[2 * i + 1]),
                         "limb": bool(info["limb"]), "negatives": list(info["negatives"]),
                         "gain": float(info["gain"]), **jet})  # fmt: skip
    return rows[:pairs]


def _figures(rows, threshold):
    if len(rows) < 10:
        return {"n": len(rows)}
    jets, twins = np.array([r["p_jet"] for r in rows]), np.array([r["p_twin"] for r in rows])
    labels = np.r_[np.ones(len(rows)), np.zeros(len(rows))]
    return {
        "n": len(rows),
        "roc_auc": round(float(roc_auc_score(labels, np.r_[jets, twins])), 3),
        "pair_win": round(float(np.mean(jets > twins)), 3),
        "recall": round(float(np.mean(jets >= threshold)), 3),
        "false_positive_rate": round(float(np.mean(twins >= threshold)), 3),
    }


def summarize(rows, threshold):
    """The figures for all pairs and for each group (terciles for the continuous parameters)."""
    groups = {
        "all": lambda r: True,
        "not rendered": lambda r: r["render_p"] == 0,
        "rendered": lambda r: r["render_p"] == 1,
        "limb": lambda r: r["limb"],
        "disk": lambda r: not r["limb"],
        "no hard negative": lambda r: not r["negatives"],
        "with hard negatives": lambda r: bool(r["negatives"]),
        "onset in the window": lambda r: r["onset_s"] >= 0,
        "onset before the window": lambda r: r["onset_s"] < 0,
        "blowout": lambda r: r["blowout"],
        "standard": lambda r: not r["blowout"],
    }
    for key, unit in (("height_arcsec", "″"), ("duration_s", " s"), ("contrast_spire", ""), ("gain", "")):
        edges = np.quantile([r[key] for r in rows], [0, 1 / 3, 2 / 3, 1])
        for lo, hi in zip(edges[:-1], edges[1:]):
            groups[f"{key} {lo:.3g}–{hi:.3g}{unit}"] = lambda r, lo=lo, hi=hi, key=key: lo <= r[key] <= hi
    return {name: _figures([r for r in rows if keep(r)], threshold) for name, keep in groups.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", required=True, help="the training workdir holding bank.npz and jets.npy")
    parser.add_argument("--weights", default=None, help="a model directory (default: the bundled weights)")
    parser.add_argument("--pairs", type=int, default=200, help="pairs per render setting (none, always)")
    parser.add_argument("--seed", type=int, default=777)
    parser.add_argument("--json", default=None, help="write the rows and the summary here")
    args = parser.parse_args(argv)

    from sunpy_jets import JetClassifier

    clf = JetClassifier.from_pretrained(args.weights, progress=False)  # None: the bundled weights
    rows = []
    for k, render_p in enumerate((0.0, 1.0)):
        rows += score_pairs(clf, args.workdir, pairs=args.pairs, render_p=render_p, seed=args.seed + k)
    summary = summarize(rows, clf.threshold)
    width = max(map(len, summary))
    for name, figures in summary.items():
        print(f"{name:<{width}}  " + "  ".join(f"{k} {v}" for k, v in figures.items()))
    if args.json:
        report = {"model_sha256": clf.card.sha256, "threshold": clf.threshold, "args": vars(args),
                  "summary": summary, "rows": rows}  # fmt: skip
        Path(args.json).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
