"""
Shared helpers of the benchmark suite: timing, machine description, memory, FLOP rates.

Timing is best-of-N after a warm-up, with the variants of a case interleaved (A, B, A, B, ...), so
that the slow drifts of a shared, noisy CPU hit every variant alike; the minimum is the least
disturbed run.
"""

import os
import platform
import resource
import socket
import sys
import time
from dataclasses import dataclass, field

import torch

__all__ = [
    "Options",
    "interleaved_best",
    "machine_info",
    "matmul_peak",
    "peak_rss_bytes",
    "set_threads",
    "device_context",
]


@dataclass
class Options:
    """Settings shared by every case (filled from the command line by ``run.py``)."""

    quick: bool = False
    repeats: int = 3
    time_budget_s: float = 20.0
    memory_budget_gib: float = 2.0
    device: str = "cpu"
    threads: int = 0
    workdir: str = ""
    #: Frames per window and side of a frame (the published 30 and 166; tiny with ``--quick``).
    n_frames: int = 30
    size: int = 166
    extra: dict = field(default_factory=dict)


def set_threads(n: int = 0) -> int:
    """Use ``n`` intra-op threads (0: every core this process may run on); return the number used."""
    if n <= 0:
        n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    torch.set_num_threads(n)
    return n


def _sync(device: str):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def interleaved_best(funcs: dict, *, repeats: int = 3, warmup: int = 1, budget_s: float = 20.0, device: str = "cpu"):
    """
    Best-of-``repeats`` wall time of each callable in ``funcs``, interleaving them round by round.

    Every callable is run ``warmup`` times first. Rounds stop early once ``budget_s`` seconds of
    timed work are spent, but every callable gets at least one timed run.

    Returns
    -------
    dict
        ``name -> {"best_s": ..., "runs": [...]}``.
    """
    for _ in range(warmup):
        for f in funcs.values():
            f()
            _sync(device)
    runs = {name: [] for name in funcs}
    start = time.perf_counter()
    for r in range(max(1, repeats)):
        for name, f in funcs.items():
            _sync(device)
            t0 = time.perf_counter()
            f()
            _sync(device)
            runs[name].append(time.perf_counter() - t0)
        if r >= 0 and time.perf_counter() - start > budget_s:
            break
    return {name: {"best_s": min(ts), "runs": ts} for name, ts in runs.items()}


def matmul_peak(device: str = "cpu", *, n: int = 2048, dtype=torch.float32, repeats: int = 5) -> float:
    """Measured FLOP/s of an ``n``×``n`` matrix multiply (the machine's practical compute peak)."""
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    best = interleaved_best({"mm": lambda: a @ b}, repeats=repeats, warmup=2, budget_s=10, device=device)
    return 2 * n**3 / best["mm"]["best_s"]


def peak_rss_bytes() -> int:
    """Peak resident memory of this process so far (``ru_maxrss``; KiB on Linux, bytes on macOS)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss if sys.platform == "darwin" else rss * 1024)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(device: str = "cpu") -> dict:
    """What the numbers were measured on: host, CPU model, cores, torch version, GPU if any."""
    info = {
        "host": socket.gethostname(),
        "cpu": _cpu_model(),
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "platform": platform.platform(),
        "device": device,
        "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }
    if device.startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


class device_context:
    """
    Inference context of a device: ``inference_mode`` everywhere, plus bf16 autocast on CUDA.

    bf16 is only used on GPUs, where tensor cores make it fast; on CPUs fp32 is kept.
    """

    def __init__(self, device: str, *, train: bool = False):
        self.device = device
        self.train = train
        self._stack = []

    def __enter__(self):
        if not self.train:
            self._stack.append(torch.inference_mode())
        if self.device.startswith("cuda"):
            self._stack.append(torch.autocast("cuda", dtype=torch.bfloat16))
        for c in self._stack:
            c.__enter__()
        return self

    def __exit__(self, *exc):
        for c in reversed(self._stack):
            c.__exit__(*exc)
        self._stack = []
        return False
