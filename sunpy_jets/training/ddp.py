"""
Training on several GPUs (or CPU processes) with PyTorch DistributedDataParallel, under ``torchrun``.

``torchrun --nproc_per_node 4 -m sunpy_jets train ...`` starts one process per GPU; each reads its
place from the environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``,
``MASTER_PORT``), and `setup_distributed` joins the process group (``nccl`` on CUDA, ``gloo``
otherwise). `~sunpy_jets.training.fit` then takes the returned `DistributedContext`:

- every rank trains on its shard of each epoch's shuffled order (a `~torch.utils.data.DistributedSampler`
  seeded with the recipe's seed, ``set_epoch`` every epoch) with ``recipe.batch_size / world_size``
  sequences per step, so a step sees the same ``recipe.batch_size`` sequences as one process does;
- gradients are averaged across ranks (`~torch.nn.parallel.DistributedDataParallel`), and batch
  normalisation uses the statistics of the whole step's batch (`GlobalBatchNorm2d`, which also works on
  CPU with ``gloo``, where `torch.nn.SyncBatchNorm` does not);
- only rank 0 shows progress and writes checkpoints; every rank scores the whole validation set, so
  all ranks keep the same best epoch and threshold.

A run on N ranks therefore gives the weights of one process that walks the same sampler order, up to
floating-point noise, as long as no step is short (the number of training sequences a multiple of
``recipe.batch_size``, or dropout off: dropout draws its masks per rank).
"""

import os
from dataclasses import dataclass, field
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler

from ..exceptions import InputError, TrainingError

__all__ = [
    "DistributedContext", "GlobalBatchNorm2d", "setup_distributed", "cleanup_distributed", "launched_by_torchrun",
]


def launched_by_torchrun() -> bool:
    """
    Whether this process is one of several started by ``torchrun`` (``WORLD_SIZE`` above 1).

    Examples
    --------
    >>> from sunpy_jets.training.ddp import launched_by_torchrun
    >>> isinstance(launched_by_torchrun(), bool)
    True
    """
    try:
        return int(os.environ.get("WORLD_SIZE", "1")) > 1
    except ValueError:
        return False


class _AllReduceSum(torch.autograd.Function):
    """Sum over ranks, differentiable: the gradient of each rank's input is the sum of all ranks' gradients."""

    @staticmethod
    def forward(ctx, tensor):
        out = tensor.clone()
        dist.all_reduce(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        grad = grad.clone()
        dist.all_reduce(grad)
        return grad


class GlobalBatchNorm2d(nn.BatchNorm2d):
    """
    `~torch.nn.BatchNorm2d` whose training statistics are those of the batches of all ranks together.

    The per-channel sums, sums of squares and counts are summed across ranks with a differentiable
    all-reduce, so forward and backward match one process holding the whole batch (up to rounding). It
    works with any backend, ``gloo`` on CPU included. Outside training, or without a process group, it is
    a plain `~torch.nn.BatchNorm2d`. `DistributedContext.wrap` swaps it in for the model's batch-norm
    layers during training and `DistributedContext.unwrap` swaps them back, so the saved weights do not change.

    Examples
    --------
    >>> import torch
    >>> from sunpy_jets.training.ddp import GlobalBatchNorm2d
    >>> bn = GlobalBatchNorm2d(2)
    >>> bn(torch.ones(3, 2, 4, 4)).shape  # no process group: a plain BatchNorm2d
    torch.Size([3, 2, 4, 4])
    """

    def forward(self, x):
        if not (self.training and dist.is_available() and dist.is_initialized()):
            return super().forward(x)
        c = x.shape[1]
        x32 = x.float()
        local = torch.cat([
            x32.sum(dim=(0, 2, 3)), (x32 * x32).sum(dim=(0, 2, 3)),
            torch.tensor([x.numel() / c], dtype=torch.float32, device=x.device),
        ])  # fmt: skip
        total = _AllReduceSum.apply(local)
        count = total[-1]
        mean = total[:c] / count
        var = (total[c : 2 * c] / count - mean * mean).clamp_min(0)
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                momentum = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
                unbiased = var * count / (count - 1).clamp_min(1)
                self.running_mean.mul_(1 - momentum).add_(momentum * mean.detach())
                self.running_var.mul_(1 - momentum).add_(momentum * unbiased.detach())
        y = (x32 - mean[None, :, None, None]) * torch.rsqrt(var + self.eps)[None, :, None, None]
        if self.affine:
            y = y * self.weight[None, :, None, None] + self.bias[None, :, None, None]
        return y.to(x.dtype)


@dataclass
class DistributedContext:
    """
    Where this process stands in a distributed training run, and the pieces `~sunpy_jets.training.fit` needs.

    A context with ``world_size=1`` (the default) is one process: nothing is wrapped or reduced,
    but the training order is the `~torch.utils.data.DistributedSampler`'s, which makes it the
    single-process reference of a multi-process run.

    Attributes
    ----------
    rank, world_size, local_rank : int
        This process's rank, the number of processes, and its rank on this machine.
    backend : str or None
        The process group's backend (``"nccl"`` or ``"gloo"``); None for one process.
    device : `torch.device`
        The device this rank trains on.

    Examples
    --------
    >>> from sunpy_jets.training.ddp import DistributedContext
    >>> ctx = DistributedContext()
    >>> ctx.is_main, ctx.shard_batch_size(8), len(ctx.sampler(range(10), seed=0))
    (True, 8, 10)
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def is_main(self) -> bool:
        """Whether this is rank 0, which logs, shows progress and writes files."""
        return self.rank == 0

    def shard_batch_size(self, batch_size: int) -> int:
        """Sequences per step on each rank: ``batch_size / world_size`` (which must divide evenly)."""
        if batch_size % self.world_size:
            raise InputError(
                f"the recipe's batch_size {batch_size} must be a multiple of the number of processes "
                f"{self.world_size}: each process takes an equal share of every step"
            )
        return batch_size // self.world_size

    def sampler(self, dataset, *, seed: int, shuffle: bool = True) -> DistributedSampler:
        """This rank's shard of a shuffled order that changes with `~torch.utils.data.DistributedSampler.set_epoch`."""
        return DistributedSampler(dataset, num_replicas=self.world_size, rank=self.rank, shuffle=shuffle, seed=seed)

    def wrap(self, model: nn.Module) -> nn.Module:
        """The model to train: batch norm over all ranks, in `~torch.nn.parallel.DistributedDataParallel`."""
        if self.world_size == 1:
            return model
        for module in model.modules():
            if type(module) is nn.BatchNorm2d:
                module.__class__ = GlobalBatchNorm2d
        device_ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=device_ids)

    def unwrap(self, model: nn.Module) -> nn.Module:
        """Undo `wrap` on ``model`` (the module that was wrapped): plain batch-norm layers again."""
        for module in model.modules():
            if type(module) is GlobalBatchNorm2d:
                module.__class__ = nn.BatchNorm2d
        return model

    def sum(self, *values: float) -> tuple:
        """``values`` summed over all ranks (as floats)."""
        if self.world_size == 1:
            return tuple(float(v) for v in values)
        t = torch.tensor(values, dtype=torch.float64, device=self.device if self.backend == "nccl" else "cpu")
        dist.all_reduce(t)
        return tuple(t.tolist())

    def barrier(self) -> None:
        """Wait for every rank (nothing for one process)."""
        if self.world_size > 1:
            dist.barrier()


def setup_distributed(*, backend: str | None = None, timeout: timedelta = timedelta(minutes=30)) -> DistributedContext:
    """
    Join the process group that ``torchrun`` set up in the environment, or describe a single process.

    Parameters
    ----------
    backend : str, optional
        ``"nccl"`` or ``"gloo"``; by default ``nccl`` when CUDA is available, else ``gloo``.
    timeout : `datetime.timedelta`
        How long a collective waits for the other ranks.

    Returns
    -------
    `DistributedContext`
        With ``WORLD_SIZE`` unset or 1, a one-process context (no process group); otherwise this rank's,
        with ``device`` ``cuda:LOCAL_RANK`` on CUDA (made the current device) and the CPU otherwise.

    Raises
    ------
    `~sunpy_jets.exceptions.TrainingError`
        For inconsistent ``RANK``/``WORLD_SIZE``/``LOCAL_RANK`` values, or more local ranks than GPUs.

    Examples
    --------
    >>> from sunpy_jets.training.ddp import setup_distributed
    >>> setup_distributed().world_size  # not under torchrun
    1
    """
    if not launched_by_torchrun():
        return DistributedContext(device=torch.device("cuda" if torch.cuda.is_available() else "cpu"))
    try:
        rank, world, local = (int(os.environ[k]) for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK"))
    except (KeyError, ValueError) as e:
        raise TrainingError(
            f"WORLD_SIZE is set but RANK/LOCAL_RANK are missing or not integers ({e}); "
            "start the processes with torchrun"
        ) from e
    if not 0 <= rank < world:
        raise TrainingError(f"RANK={rank} is outside 0..WORLD_SIZE-1 ({world - 1})")
    cuda = torch.cuda.is_available()
    backend = backend or ("nccl" if cuda else "gloo")
    if cuda:
        if local >= torch.cuda.device_count():
            raise TrainingError(
                f"LOCAL_RANK={local} but this machine has {torch.cuda.device_count()} GPU(s): start at most that "
                "many processes per node (torchrun --nproc_per_node)"
            )
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if not dist.is_initialized():
        dist.init_process_group(backend, rank=rank, world_size=world, timeout=timeout)
    return DistributedContext(rank=rank, world_size=world, local_rank=local, backend=backend, device=device)


def cleanup_distributed(context: DistributedContext | None = None) -> None:
    """
    Leave the process group (if this process joined one).

    Examples
    --------
    >>> from sunpy_jets.training.ddp import cleanup_distributed
    >>> cleanup_distributed()  # nothing to do outside torchrun
    """
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
