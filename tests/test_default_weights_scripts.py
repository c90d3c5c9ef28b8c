"""Tests of the helpers of ``scripts/train_default_weights.py``, ``evaluate_default_weights.py`` and ``real_validation.py``."""

import sys
from pathlib import Path

import pytest
import torch

from sunpy_jets import JetClassifier
from sunpy_jets.model import JetModelConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from evaluate_default_weights import _architecture  # noqa: E402
from card_metrics import card_metrics, main as card_metrics_main  # noqa: E402
from real_validation import threshold_for_recall  # noqa: E402
from train_default_weights import sequence_spec, with_difference_encoder  # noqa: E402

TINY = JetModelConfig(image_size=32, channels=(4, 8), hidden_size=8, n_frames=6)


def test_adding_a_difference_encoder_keeps_the_trained_weights():
    trained = JetClassifier(TINY, threshold=0.3, device="cpu", seed=1)
    expanded = with_difference_encoder(trained, (2, 4), seed=2)
    assert expanded.config == TINY.replace(difference_channels=(2, 4))
    assert expanded.threshold == 0.3
    old, new = trained.model.state_dict(), expanded.model.state_dict()
    n = trained.model.encoder.out_features
    for name, value in old.items():
        kept = new[name][:, :n] if name == "lstm.weight_ih_l0" else new[name]
        torch.testing.assert_close(kept, value, msg=name)
    # The new features start with a small say: the expanded model begins close to the trained one.
    added = new["lstm.weight_ih_l0"][:, n:]
    # A tenth of PyTorch's LSTM initialisation, uniform in ±1/sqrt(hidden_size).
    assert 0 < added.abs().max() <= 0.1 / TINY.hidden_size**0.5 + 1e-7
    x = torch.randn(3, 6, 1, 32, 32)
    with torch.inference_mode():
        before, after = torch.sigmoid(trained.model.eval()(x)), torch.sigmoid(expanded.model.eval()(x))
    assert (after - before).abs().max() < 0.05


@pytest.mark.parametrize(("recall", "kept"), [(0.9, 9), (0.5, 5), (0.95, 10), (1.0, 10), (0.05, 1)])
def test_the_recall_rule_keeps_the_asked_share_of_validation_jets(recall, kept):
    scores = [0.93, 0.81, 0.77, 0.64, 0.52, 0.45, 0.31, 0.22, 0.14, 0.07]
    threshold = threshold_for_recall([{"p": p} for p in scores], recall)
    assert sum(p >= threshold for p in scores) == kept
    assert threshold not in scores  # halfway to the next lower score, not on a validation score


def test_the_card_names_the_architecture():
    assert _architecture(JetModelConfig()).startswith("``JetModelConfig()`` (CNN per frame + LSTM; 216,529 parameters")
    text = _architecture(JetModelConfig(difference_channels=(8, 16, 24, 32, 48)))
    assert "difference_channels=(8, 16, 24, 32, 48)" in text and "frame difference" in text


@pytest.mark.parametrize("i", [0, 1, 2, 3])
def test_splits_alternate_jets_and_non_jets(i):
    spec = sequence_spec(3_000_000, i, distractors=False)
    assert spec["seed"] == 3_000_000 + i
    assert spec["kind"] == ("jet" if i % 2 == 0 else "negative")
    assert spec["n_distractors"] == 0


def test_realistic_training_runs_without_astropy_and_finalizes(tmp_path):
    """The realistic stage trains where astropy/sunpy are missing (stubbed), then --finalize writes a loadable model."""
    import json
    import os
    import subprocess

    import numpy as np

    from sunpy_jets.synthetic import BackgroundBank
    from sunpy_jets.synthetic.realistic import JetDistribution

    from train_default_weights import main as train_main

    work = tmp_path / "work"
    work.mkdir()
    BackgroundBank.procedural(2, size=64, seed=0).save(work / "bank.npz")
    np.save(work / "jets.npy", JetDistribution.fallback().to_arrays())
    init = tmp_path / "init"
    JetClassifier(TINY.replace(difference_channels=(2, 4)), device="cpu", seed=0).save(init)
    script = Path(__file__).resolve().parents[1] / "scripts" / "train_default_weights.py"
    env = {**os.environ, "SUNPY_JETS_LIGHT_IMPORTS": "1"}
    out = subprocess.run(
        [sys.executable, str(script), "--scenes", "realistic", "--workdir", str(work), "--init", str(init),
         "--state-out", str(tmp_path / "state"), "--steps", "2", "--batch-pairs", "1", "--val-pairs", "1",
         "--eval-every", "1", "--warmup", "1"],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    log = json.loads((tmp_path / "state" / "train_log.json").read_text())
    assert [h["step"] for h in log["history"]] == [1, 2] and log["sequences_seen"] == 4
    assert train_main(["--scenes", "realistic", "--workdir", str(work), "--init", str(init), "--finalize",
                       str(tmp_path / "state"), "--output", str(tmp_path / "model")]) == 0  # fmt: skip
    clf = JetClassifier.load(tmp_path / "model", device="cpu")
    assert clf.card.training["data"]["sequences_seen"] == 4
    assert "Solar Jet Hunter" in clf.card.training["data"]["jets"]
    assert clf.card.name == "sunpy_jets default (synthetic)"


def test_distillation_changes_the_realistic_targets(tmp_path):
    """--distill trains the realistic half on a mix of labels and the teacher's probabilities: same batches, other loss."""
    import json
    import os
    import subprocess

    import numpy as np

    from sunpy_jets.synthetic import BackgroundBank
    from sunpy_jets.synthetic.realistic import JetDistribution

    work = tmp_path / "work"
    work.mkdir()
    BackgroundBank.procedural(2, size=64, seed=0).save(work / "bank.npz")
    np.save(work / "jets.npy", JetDistribution.fallback().to_arrays())
    init, teacher = tmp_path / "init", tmp_path / "teacher"
    JetClassifier(TINY, device="cpu", seed=0).save(init)
    JetClassifier(TINY, device="cpu", seed=1).save(teacher)
    script = Path(__file__).resolve().parents[1] / "scripts" / "train_default_weights.py"
    env = {**os.environ, "SUNPY_JETS_LIGHT_IMPORTS": "1"}
    losses = []
    for name, extra in (("plain", []), ("distilled", ["--distill", str(teacher), "--distill-weight", "1.0"])):
        out = subprocess.run(
            [sys.executable, str(script), "--scenes", "realistic", "--workdir", str(work), "--init", str(init),
             "--state-out", str(tmp_path / name), "--steps", "1", "--batch-pairs", "2", "--val-pairs", "2",
             "--eval-every", "1", "--warmup", "1", "--seed", "3", *extra],
            capture_output=True, text=True, env=env, timeout=600,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr[-2000:]
        log = json.loads((tmp_path / name / "train_log.json").read_text())
        assert log["args"]["distill"] == (str(teacher) if extra else None)
        losses.append(log["history"][0]["train_loss"])
    # hard labels against a freshly initialised teacher's probabilities (near 0.5): the losses differ
    assert abs(losses[0] - losses[1]) > 1e-3


RESULTS = Path(__file__).resolve().parents[1] / "scripts" / "results"


def _stage3_reports(threshold):
    import json

    real = json.loads((RESULTS / "real_data_stage3_d384a91d.json").read_text())
    test = json.loads((RESULTS / "synthetic_test_stage3_d384a91d.json").read_text())
    days = sorted({s["t0"][:10] for s in real["subjects"]})
    validation = {"summary": {"rule": "recall 0.9", "threshold": threshold, "validation_days": days[::2],
                              "held_out_days": days[1::2], "validation_recall_at_threshold": 0.9}}
    return real, test, validation


def test_card_metrics_come_from_the_reports():
    real, test, validation = _stage3_reports(0.4495757222175598)
    metrics = card_metrics(real, test, validation)
    block = metrics["real_data"]
    assert block["recall_jets_starting_in_subject"] == {"value": 0.8966, "ci95": [0.7361, 0.9642], "n": 29}
    assert block["fpr_dynamic_render"]["n"] == 130
    assert block["auc_injected_fits"]["value"] == 0.8889
    held = [s for s in real["subjects"] if s["t0"][:10] in validation["summary"]["held_out_days"]]
    assert block["recall_held_out_days"]["n"] == len(held) > 0
    assert metrics["test"]["f1"] == test["test"]["f1"]
    assert any("blind to it" in line for line in block["lines"])


def test_card_metrics_refuse_a_report_made_at_another_threshold(tmp_path):
    import json

    real, test, validation = _stage3_reports(0.3)
    paths = []
    for name, report in (("real", real), ("test", test), ("validation", validation)):
        paths += [f"--{name}", str(tmp_path / f"{name}.json")]
        (tmp_path / f"{name}.json").write_text(json.dumps(report))
    with pytest.raises(SystemExit):
        card_metrics_main([*paths, "--out", str(tmp_path / "metrics.json")])
    assert not (tmp_path / "metrics.json").exists()
