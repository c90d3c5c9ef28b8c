#!/usr/bin/env python
"""
Real-data validation of a model directory, for choosing the default weights' threshold and stage.

Not the evaluation (``scripts/evaluate_real_data.py`` reports the figures): this script scores

* the Solar Jet Hunter subjects (``realdata/sjh_subjects``, read with
  `sunpy_jets.datasets.read_subject_render`) of the **validation days** only (whole observing days, so
  whole HEK events, balanced by number of subjects: see `subject_days`), each on its 15 frames at the
  300″ box (or the subject's whole field where smaller) at the subject's centre;
* real non-jet windows of 15 frames: every window of the jipparchus sequence (post-flare loops and rain) in
  the render domain (`sunpy_jets.datasets.render_sequence`) and as calibrated FITS, at the box centre.

and picks a threshold from them, so that the held-out days are never used: with ``--rule youden`` the one that
maximises Youden's J (recall − false-positive rate) between the two; with ``--rule recall`` (from stage 4 on)
the highest that keeps ``--recall`` (0.9) of the validation days' subjects, which reads no non-jet score, so
that every false-positive rate the evaluation reports is blind to the choice. Run from the repository root::

    python scripts/real_validation.py --model sunpy_jets/data/default --rule recall
"""

import argparse
import glob
import json
import warnings
from pathlib import Path

import numpy as np
import torch

REALDATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "realdata"

__all__ = ["subject_days", "score_subjects", "score_nonjets", "choose_threshold", "threshold_for_recall"]


def subject_days(calibrations):
    """
    ``(validation days, held-out days)``: whole observing days, balanced by number of subjects.

    Days go, largest first (ties by date), to the group with fewer subjects so far (ties: validation).
    """
    counts = {}
    for c in calibrations:
        counts[c.t0.isot[:10]] = counts.get(c.t0.isot[:10], 0) + 1
    groups, sizes = ([], []), [0, 0]
    for day in sorted(counts, key=lambda d: (-counts[d], d)):
        k = 0 if sizes[0] <= sizes[1] else 1
        groups[k].append(day)
        sizes[k] += counts[day]
    return sorted(groups[0]), sorted(groups[1])


@torch.inference_mode()
def _score(clf, maps, center=None):
    from sunpy_jets.inputs.preprocessing import FramePreprocessor, standardize

    config = clf.config
    first = maps[0]
    if center is None:
        center = first.center
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fields smaller than 300" are padded (and said so)
        pre = FramePreprocessor(first, config, center=center)
        frames = np.stack([pre(m) for m in maps])
    x = torch.from_numpy(standardize(frames, config))[None, :, None]
    return float(torch.sigmoid(clf.model.eval()(x))[0])


def score_subjects(clf, realdata, days=None):
    """Scores of the subjects (of ``days`` only, if given): a list of dicts."""
    from sunpy_jets.datasets.zooniverse import read_subject_calibration, read_subject_render

    folder = Path(realdata) / "sjh_subjects"
    out = []
    for cal in read_subject_calibration(folder / "subjects.csv"):
        day = cal.t0.isot[:10]
        if days is not None and day not in days:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            seq = read_subject_render(folder / cal.name, cal)
        out.append({"subject": cal.name, "day": day, "p": _score(clf, list(seq.maps)), "starts": bool(cal.starting_jets)})
    return out


def score_nonjets(clf, realdata, *, length=15):
    """Scores of every ``length``-frame window of the jipparchus 304 sequence, rendered and as FITS."""
    import sunpy.map

    from sunpy_jets.datasets.zooniverse import render_sequence

    files = sorted(glob.glob(str(Path(realdata) / "jipparchus_sun_data_visualisation" / "aia304" / "*.fits")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        maps = list(sunpy.map.Map(files, sequence=True).maps)
        rendered = list(render_sequence(maps).maps)
    out = []
    for domain, seq in (("render", rendered), ("fits", maps)):
        for start in range(0, len(seq) - length + 1):
            out.append({"domain": domain, "start": start, "p": _score(clf, seq[start : start + length])})
    return out


def choose_threshold(jets, nonjets):
    """
    ``(threshold, J)``: the middle of the widest-scoring interval of thresholds for Youden's J.

    J (recall minus false-positive rate) is computed at every score; among the thresholds reaching its
    maximum, the lowest is taken, and the threshold is placed halfway between it and the next lower score
    (of either set), so that it does not sit on a validation score.
    """
    pj, pn = np.array([r["p"] for r in jets]), np.array([r["p"] for r in nonjets])
    scores = np.unique(np.concatenate([pj, pn]))
    j = np.array([(pj >= t).mean() - (pn >= t).mean() for t in scores])
    k = int(np.flatnonzero(j == j.max())[0])
    low = scores[k - 1] if k > 0 else 0.0
    return float((low + scores[k]) / 2), float(j.max())


def threshold_for_recall(jets, recall):
    """
    The highest threshold at which at least ``recall`` of ``jets`` score at or above it, placed halfway
    between the lowest score it keeps and the next lower one (so that it does not sit on a validation score).
    """
    p = np.sort(np.array([r["p"] for r in jets]))[::-1]
    k = int(np.ceil(recall * len(p))) - 1  # the lowest score kept
    low = p[k + 1] if k + 1 < len(p) else 0.0
    return float((low + p[k]) / 2)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="sunpy_jets/data/default")
    parser.add_argument("--realdata", default=str(REALDATA))
    parser.add_argument("--all-days", action="store_true", help="score every subject (diagnostic only)")
    parser.add_argument("--json", help="write the scores here")
    parser.add_argument("--rule", choices=("youden", "recall"), default="recall",
                        help="youden: Youden's J against the jipparchus windows; recall: see --recall (default)")
    parser.add_argument("--recall", type=float, default=0.9, help="--rule recall: validation recall to keep")
    args = parser.parse_args(argv)

    from sunpy_jets import JetClassifier
    from sunpy_jets.datasets.zooniverse import read_subject_calibration

    clf = JetClassifier.load(args.model, device="cpu", progress=False)
    cals = read_subject_calibration(Path(args.realdata) / "sjh_subjects" / "subjects.csv")
    val_days, held_days = subject_days(cals)
    jets = score_subjects(clf, args.realdata, None if args.all_days else val_days)
    nonjets = score_nonjets(clf, args.realdata)
    val = [r for r in jets if r["day"] in val_days]
    youden, j = choose_threshold(val, nonjets)
    threshold = youden if args.rule == "youden" else threshold_for_recall(val, args.recall)
    pj, pn = np.array([r["p"] for r in val]), np.array([r["p"] for r in nonjets])
    auc = float(((pj[:, None] > pn[None]) + 0.5 * (pj[:, None] == pn[None])).mean())
    summary = {
        "model": args.model, "validation_days": val_days, "held_out_days": held_days,
        "n_validation_subjects": len(val), "n_nonjet_windows": len(nonjets),
        "rule": args.rule if args.rule == "youden" else f"recall {args.recall:g}", "threshold": threshold,
        "threshold_youden": youden, "youden_j": j,
        "validation_recall_at_threshold": float((pj >= threshold).mean()),
        "nonjet_fpr_at_threshold": float((pn >= threshold).mean()),
        "validation_auc_vs_jipparchus": auc,
        "current_threshold": clf.threshold,
        "validation_recall_at_current": float((pj >= clf.threshold).mean()),
        "nonjet_fpr_at_current": float((pn >= clf.threshold).mean()),
        "median_p_subjects": float(np.median(pj)), "median_p_nonjets": float(np.median(pn)),
    }  # fmt: skip
    print(json.dumps(summary, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": summary, "subjects": jets, "nonjets": nonjets}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
