"""Tests of DistributedDataParallel training (`sunpy_jets.training.ddp`) on CPU with the gloo backend."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from sunpy_jets import JetClassifier
from sunpy_jets.exceptions import InputError, TrainingError
from sunpy_jets.training import load_checkpoint
from sunpy_jets.training.ddp import DistributedContext, GlobalBatchNorm2d, setup_distributed

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
import helpers_ddp  # noqa: E402


def torchrun(args, tmp_path, nproc=2):
    """Run ``args`` under torchrun with ``nproc`` CPU processes on a free local port."""
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(nproc), "--master_addr",
               "127.0.0.1", "--master_port", str(port), *args]  # fmt: skip
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    """One torchrun of two gloo processes: `helpers_ddp.train`, then ``sunpy-jets train --synthetic``."""
    out = tmp_path_factory.mktemp("ddp")
    done = torchrun([str(HERE / "helpers_ddp.py"), str(out)], out)
    return out, done.stdout


def test_two_process_gloo_training_equals_one_process(two_processes, tmp_path):
    out, _ = two_processes
    # The checkpoint and the saved model of rank 0 load.
    ddp = JetClassifier.load(out / "model", device="cpu")
    state = load_checkpoint(out / "checkpoint")
    assert state["meta"]["next_epoch"] == 1 and state["meta"]["finished"]
    # One process walking the same sampler order with the whole batch at each step gives the same weights.
    single = helpers_ddp.train(tmp_path, DistributedContext())
    fresh = JetClassifier(helpers_ddp.CONFIG, device="cpu", seed=0)
    moved = False
    for name, value in single.model.state_dict().items():
        got = ddp.model.state_dict()[name]
        if value.is_floating_point():
            torch.testing.assert_close(got, value, rtol=1e-4, atol=1e-5, msg=name)
            moved |= not torch.equal(value, fresh.model.state_dict()[name])
        else:
            assert torch.equal(got, value), name
    assert moved  # training did change the weights
    assert ddp.threshold == pytest.approx(single.threshold)
    # Batch-norm layers are plain again after training (nothing of DDP is saved).
    assert not any(isinstance(m, GlobalBatchNorm2d) for m in single.model.modules())


def test_cli_train_under_torchrun(two_processes):
    out, stdout = two_processes
    assert stdout.count("model saved to") == 1  # rank 0 only
    clf = JetClassifier.load(out / "cli", device="cpu")
    assert clf.card.training["epochs_run"] == 1
    assert (out / "cli" / "checkpoint" / "checkpoint.pt").is_file()


def test_single_process_context():
    ctx = setup_distributed()
    assert (ctx.rank, ctx.world_size, ctx.is_main) == (0, 1, True)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2))
    assert ctx.wrap(model) is model
    assert ctx.sum(1.5, 2) == (1.5, 2.0)
    sampler = ctx.sampler(range(6), seed=1)
    sampler.set_epoch(0)
    first = list(sampler)
    sampler.set_epoch(1)
    assert sorted(first) == list(range(6)) and list(sampler) != first


def test_shards_cover_each_step():
    # Two ranks' shards of a step are exactly one process's batch of that step.
    single = list(DistributedContext().sampler(range(8), seed=4))
    ranks = [list(DistributedContext(rank=r, world_size=2).sampler(range(8), seed=4)) for r in range(2)]
    for step in range(2):
        union = ranks[0][2 * step : 2 * step + 2] + ranks[1][2 * step : 2 * step + 2]
        assert sorted(union) == sorted(single[4 * step : 4 * step + 4])
    with pytest.raises(InputError, match="multiple of the number of processes"):
        DistributedContext(world_size=3).shard_batch_size(4)


def test_global_batchnorm_without_process_group_is_batchnorm():
    torch.manual_seed(0)
    x = torch.randn(4, 3, 5, 5)
    ours, plain = GlobalBatchNorm2d(3), torch.nn.BatchNorm2d(3)
    np.testing.assert_allclose(ours(x).detach(), plain(x).detach())
    np.testing.assert_allclose(ours.running_var, plain.running_var)


@pytest.mark.parametrize(
    "env, match",
    [({"WORLD_SIZE": "2", "RANK": "0"}, "LOCAL_RANK"), ({"WORLD_SIZE": "2", "RANK": "5", "LOCAL_RANK": "0"}, "RANK=5")],
)
def test_bad_torchrun_environment(monkeypatch, env, match):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(TrainingError, match=match):
        setup_distributed()
