#!/usr/bin/env python
"""
The measured figures of a model card, assembled from the reports that measured them.

Reads the real-data report of ``scripts/evaluate_real_data.py``, the procedural test of
``scripts/evaluate_default_weights.py`` and the threshold rule's report of ``scripts/real_validation.py``,
and writes the JSON that ``scripts/train_default_weights.py --finalize ... --metrics`` puts into the card
(``metrics``: ``real_data`` with its one-line summaries, ``test``, ``real_nonjet``). Nothing is typed by
hand, so the card says what the reports say. Run from the repository root::

    python scripts/card_metrics.py --real scripts/results/real_data_X.json \\
        --test scripts/results/synthetic_test_X.json --validation scripts/results/threshold_X.json \\
        --out scripts/results/metrics_X.json
"""

import argparse
import json
from pathlib import Path

__all__ = ["card_metrics"]


def _rate(block):
    return {"value": block["rate"], "ci95": block["wilson_95"], "n": block["n"]}


def _auc(block):
    return {"value": block["auc"], "ci95": block.get("bootstrap_95"), "n": block.get("n_pos")}


def _interval(pair):
    return f"[{pair[0]:.2f}, {pair[1]:.2f}]"


def card_metrics(real, test, validation, *, real_path="", validation_path=""):
    """The card's ``metrics`` dict from the three reports (parsed JSON)."""
    r = real["as_is"]
    threshold = real["model"]["threshold"]
    recall = r["recall"]
    starting = _rate(recall["catalogued_jet_starting_in_subject"]["center_box"])
    voted = _rate(recall["all_voted_subjects"]["center_box"])
    fpr = {f"fpr_{kind}_{domain}": _rate(r["false_positive_rate"][kind][domain]["every_window_and_box"])
           for kind in ("dynamic", "static") for domain in ("render", "fits")}  # fmt: skip
    aucs = r["roc_auc"]["catalogued_jet_starting_in_subject"]
    auc = {f"auc_vs_{kind}_{domain}": _auc(aucs[kind][f"nonjets_{domain}"]["center_box_vs_every_window_and_box"])
           for kind in ("dynamic", "static") for domain in ("render", "fits")}  # fmt: skip
    injected = {f"auc_injected_{domain}": _auc(r["injected"][domain]["all"]) for domain in ("fits", "render")}
    summary = validation["summary"]
    held = set(summary["held_out_days"])
    held_p = [s["p_center"] for s in real["subjects"] if s["t0"][:10] in held]
    held_kept = sum(p >= threshold for p in held_p)
    v = summary
    lines = [
        f"Solar Jet Hunter subjects ({voted['n']} real jets, 15-frame GIF renders read back with read_subject_render): "
        f"recall {voted['value']:.2f} {_interval(voted['ci95'])} of all voted subjects, {starting['value']:.2f} "
        f"{_interval(starting['ci95'])} of the {starting['n']} with a catalogued jet starting in them, at threshold "
        f"{threshold:.4f} (300 arcsec box at the jet base); {held_kept} of the {len(held_p)} subjects of the held-out "
        "days, which had no part in any choice.",
        f"Real dynamic non-jet windows (jipparchus post-flare loops and rain, pryoung 2022-04-02; every 15-frame window "
        f"and 300 arcsec box): false-positive rate {fpr['fpr_dynamic_render']['value']:.2f} "
        f"{_interval(fpr['fpr_dynamic_render']['ci95'])} in the render domain, {fpr['fpr_dynamic_fits']['value']:.2f} "
        f"{_interval(fpr['fpr_dynamic_fits']['ci95'])} as FITS (n={fpr['fpr_dynamic_fits']['n']} each); ROC AUC of "
        f"jets against them {auc['auc_vs_dynamic_render']['value']:.2f} {_interval(auc['auc_vs_dynamic_render']['ci95'])} "
        f"(render), {auc['auc_vs_dynamic_fits']['value']:.2f} {_interval(auc['auc_vs_dynamic_fits']['ci95'])} (FITS).",
        f"Real static non-jet scenes ({fpr['fpr_static_render']['n']} Helioviewer full-disk crops held still with "
        f"rotation and noise): false-positive rate {fpr['fpr_static_render']['value']:.2f} "
        f"{_interval(fpr['fpr_static_render']['ci95'])} rendered, {fpr['fpr_static_fits']['value']:.2f} "
        f"{_interval(fpr['fpr_static_fits']['ci95'])} as FITS; ROC AUC {auc['auc_vs_static_render']['value']:.2f} "
        "(render).",
        f"Jets injected by an independent injector (scripts/independent_injector.py) into real backgrounds: ROC AUC "
        f"{injected['auc_injected_fits']['value']:.2f} {_interval(injected['auc_injected_fits']['ci95'])} as FITS, "
        f"{injected['auc_injected_render']['value']:.2f} {_interval(injected['auc_injected_render']['ci95'])} rendered "
        f"(n={injected['auc_injected_fits']['n']} jets, each against its own background without it).",
        f"Threshold {threshold:.4f}: the rule of scripts/real_validation.py, fixed before this evaluation, on the "
        "subjects of the validation days (split by day, so by HEK event): "
        + ("the highest threshold keeping that share of them (" + v["rule"] + "); it reads no non-jet score, so "
           "every false-positive rate above is blind to it." if v["rule"].startswith("recall") else
           "Youden's J against the jipparchus windows, which are also among the dynamic non-jets above."),
        f"Held-out procedural test (make_sequence, n={test['test']['n']}): F1 {test['test']['f1']:.3f}, ROC AUC "
        f"{test['test']['roc_auc']:.3f} at the same threshold.",
        "Caveats: one day's post-flare sequence and two pryoung sets make the dynamic non-jets; windows and boxes "
        "overlap, so their intervals are too narrow; the subjects are renders, not calibrated data.",
    ]
    real_data = {
        "evaluation": f"python scripts/evaluate_real_data.py --weights <model dir> (report: {real_path}); 15-frame "
        "windows, 300 arcsec box at the catalogue base (else subject centre)",
        "threshold": threshold,
        "threshold_rule": {"rule": v["rule"], "report": validation_path, "validation_days": v["validation_days"],
                           "held_out_days": v["held_out_days"],
                           "validation_recall": v["validation_recall_at_threshold"]},  # fmt: skip
        "recall_jets_starting_in_subject": starting,
        "recall_all_voted_subjects": voted,
        "recall_held_out_days": {"value": round(held_kept / max(len(held_p), 1), 4), "n": len(held_p),
                                 "note": "days never used for the threshold rule (scripts/real_validation.py subject_days)"},  # fmt: skip
        **fpr,
        **auc,
        **injected,
        "lines": lines,
    }
    return {"real_data": real_data, "test": test["test"], "real_nonjet": test.get("real_nonjet")}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--real", required=True, help="report of scripts/evaluate_real_data.py")
    parser.add_argument("--test", required=True, help="report of scripts/evaluate_default_weights.py")
    parser.add_argument("--validation", required=True, help="report (--json) of scripts/real_validation.py")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    real, test, validation = (json.loads(Path(p).read_text()) for p in (args.real, args.test, args.validation))
    if abs(real["model"]["threshold"] - validation["summary"]["threshold"]) > 1e-6:
        parser.error("the real-data report was made at another threshold than the rule's: finalize the weights with "
                     "--threshold from the rule's report, then evaluate them")  # fmt: skip
    metrics = card_metrics(real, test, validation, real_path=args.real, validation_path=args.validation)
    Path(args.out).write_text(json.dumps(metrics, indent=1) + "\n")
    print("\n".join(metrics["real_data"]["lines"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
