"""Tests of the realistic training stage's options in ``scripts/train_default_weights.py``: resume, clock schedule, mix."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from sunpy_jets import JetClassifier
from sunpy_jets.model import JetModelConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from train_default_weights import ProceduralMix, _procedural_pairs, generator_digest, main  # noqa: E402

TINY = JetModelConfig(image_size=32, channels=(4, 8), hidden_size=8, n_frames=6)


@pytest.fixture
def workdir(tmp_path):
    from sunpy_jets.synthetic import BackgroundBank
    from sunpy_jets.synthetic.realistic import JetDistribution

    work = tmp_path / "work"
    work.mkdir()
    BackgroundBank.procedural(2, size=64, seed=0).save(work / "bank.npz")
    np.save(work / "jets.npy", JetDistribution.fallback().to_arrays())
    init = tmp_path / "init"
    JetClassifier(TINY, device="cpu", seed=0).save(init)
    return work, init


def _train(work, init, state, *extra):
    return main(["--scenes", "realistic", "--workdir", str(work), "--init", str(init), "--state-out", str(state),
                 "--batch-pairs", "1", "--val-pairs", "1", "--eval-every", "1", "--warmup", "1", "--threads", "1",
                 *extra])  # fmt: skip


def test_an_interrupted_run_resumes_where_it_stopped(workdir, tmp_path):
    work, init = workdir
    state = tmp_path / "state"
    assert _train(work, init, state, "--steps", "2") == 0
    first = json.loads((state / "train_log.json").read_text())
    assert _train(work, init, state, "--steps", "3", "--resume") == 0
    log = json.loads((state / "train_log.json").read_text())
    assert [h["step"] for h in log["history"]] == [1, 2, 3]
    assert log["history"][:2] == first["history"] and log["resumed"] == [2]
    assert log["sequences_seen"] == 6  # counted over both runs


def test_without_resume_a_run_starts_again(workdir, tmp_path):
    work, init = workdir
    state = tmp_path / "state"
    assert _train(work, init, state, "--steps", "2") == 0
    assert _train(work, init, state, "--steps", "1") == 0
    assert [h["step"] for h in json.loads((state / "train_log.json").read_text())["history"]] == [1]


def test_clock_schedule_stops_at_the_budget(workdir, tmp_path):
    work, init = workdir
    state = tmp_path / "state"
    assert _train(work, init, state, "--time-schedule", "--time-budget", "0.5", "--eval-every", "1000") == 0
    log = json.loads((state / "train_log.json").read_text())
    # Stopped by the clock (not by a step count), with a final evaluation of the last step.
    assert log["stopped_at_step"] >= 1 and log["history"][-1]["step"] == log["stopped_at_step"]
    assert "steps_chosen" not in log


@pytest.mark.parametrize(("pairs", "fraction", "expected"), [(4, 0.5, 8), (4, 0.0, 0), (32, 0.25, 22), (1, 0.1, 2)])
def test_procedural_share_of_a_batch(pairs, fraction, expected):
    assert _procedural_pairs(pairs, fraction) == expected


def test_bad_procedural_fraction_is_refused(workdir, tmp_path):
    work, init = workdir
    with pytest.raises(SystemExit):
        _train(work, init, tmp_path / "state", "--procedural-fraction", "1.0")


def test_procedural_batches_hold_as_many_jets_as_not(tmp_path, monkeypatch):
    """ProceduralMix draws whole (jet, non-jet) index pairs and goes round the cache before repeating one."""
    n, shape = 8, (3, 4, 4)

    def fake_split(workdir, name, base, count, **kwargs):
        frames = np.arange(count, dtype=np.float16)[:, None, None, None] * np.ones(shape, np.float16)
        return frames, (np.arange(count) % 2 == 0).astype(np.float32), ["jet", "negative"] * (count // 2)

    monkeypatch.setattr("train_default_weights.generate_split", fake_split)
    mix = ProceduralMix(tmp_path, n, 4, seed=0)
    seen = []
    for _ in range(2):
        x, y = mix.sample(4)
        assert x.shape == (4, *shape) and float(y.sum()) == 2
        seen += x[:, 0, 0, 0].int().tolist()
    assert sorted(seen) == list(range(n))  # one pass over the 8 cached scenes
    state = mix.state()
    after = mix.sample(4)[0]
    mix.restore(state)
    assert (mix.sample(4)[0] == after).all()


def test_cache_digest_ignores_the_realistic_scene_modules(monkeypatch, tmp_path):
    """Editing the realistic-scene modules (which make_sequence never runs) keeps the procedural cache."""
    import shutil

    import sunpy_jets.synthetic

    copy = tmp_path / "synthetic"
    shutil.copytree(Path(sunpy_jets.synthetic.__file__).parent, copy)
    monkeypatch.setattr(sunpy_jets.synthetic, "__file__", str(copy / "__init__.py"))
    before = generator_digest()
    (copy / "realistic.py").write_text("# changed\n")
    (copy / "_realistic_sampler.py").write_text("# changed\n")
    assert generator_digest() == before
    (copy / "jets.py").write_text("# changed\n")
    assert generator_digest() != before


def test_a_stage_can_add_the_networks_smoothing_and_finalize_keeps_it(workdir, tmp_path):
    work, init = workdir
    state = tmp_path / "state"
    assert _train(work, init, state, "--steps", "1", "--smoothing", "20") == 0
    out = tmp_path / "model"
    assert main(["--scenes", "realistic", "--finalize", str(state), "--init", str(init), "--workdir", str(work),
                 "--output", str(out), "--threshold", "0.4"]) == 0  # fmt: skip
    clf = JetClassifier.load(out, device="cpu")
    assert clf.config == TINY.replace(smoothing_arcsec=20.0) and clf.threshold == pytest.approx(0.4)
    assert "--smoothing 20.0" in clf.card.training["data"]["command"]
