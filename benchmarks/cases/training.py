"""
Training: sequences per second for one step (forward, backward, AdamW) with a BCE-with-logits loss.

At the recipe's batch size (2) and at the largest power-of-two batch whose estimated training memory
fits the memory budget (``--memory-budget``, GiB of work beyond the process's import footprint). The
estimate is measured, not guessed: the bytes of the tensors autograd saves for the backward pass at
batch 2 (×2 for the gradients flowing back), plus weights, gradients and AdamW's two moments. The
probe's peak memory column then shows what the step really used. The largest batch is capped at
``MAX_BATCH`` to keep the run short.
"""

import torch
from torch import nn

from cases import Measurement
from cases import _models as M

__all__ = ["measurements", "estimate_bytes", "largest_batch", "RECIPE_BATCH", "MAX_BATCH"]

RECIPE_BATCH = 2
MAX_BATCH = 64


def _inputs(opts, model_name, batch):
    x = M.windows(opts, batch)
    return x if model_name == "baseline" else x[:, :, None]


def _build(opts, model_name):
    return M.baseline(opts, train=True) if model_name == "baseline" else M.jet_model(opts, train=True)


def estimate_bytes(opts, model_name, batch):
    """Estimated training-step memory at ``batch``: saved activations ×2 plus 4 copies of the weights."""
    model = _build(opts, model_name)
    x = _inputs(opts, model_name, RECIPE_BATCH)
    saved, seen = [0], set()

    def pack(t):
        key = (t.data_ptr(), t.numel())
        if key not in seen:
            seen.add(key)
            saved[0] += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(x)
    params = sum(p.numel() * p.element_size() for p in model.parameters())
    return 2 * saved[0] / RECIPE_BATCH * batch + 4 * params


def largest_batch(opts, model_name):
    """The largest power-of-two batch (≤ MAX_BATCH) whose estimated step memory fits the budget."""
    budget = opts.memory_budget_gib * 2**30
    batch, cap = RECIPE_BATCH, 4 if opts.quick else MAX_BATCH
    while batch * 2 <= cap and estimate_bytes(opts, model_name, batch * 2) <= budget:
        batch *= 2
    return batch


def step_fn(opts, model_name, batch):
    """A closure doing one AdamW training step on fixed random windows and labels."""

    def build():
        model = _build(opts, model_name)
        x = _inputs(opts, model_name, batch).to(opts.device)
        y = (torch.arange(batch) % 2).float().to(opts.device)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
        loss_fn = nn.BCEWithLogitsLoss()
        cuda = opts.device.startswith("cuda")

        def call():
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda):
                loss = loss_fn(model(x).float(), y)
            loss.backward()
            optimizer.step()
            return loss.detach()

        return call

    return build


def measurements(opts):
    if "train_batches" not in opts.extra:  # computed once in the parent, passed on to the probes
        opts.extra["train_batches"] = {name: largest_batch(opts, name) for name in ("baseline", "sunpy_jets")}
    largest = opts.extra["train_batches"]
    per_frame, per_window = M.flops_jet(opts)
    jet_forward = opts.n_frames * per_frame + per_window
    out = []
    for label, batches in (("recipe batch", {k: RECIPE_BATCH for k in largest}), ("largest batch", largest)):
        counts = dict(batches)
        out.append(Measurement(
            case="training",
            name=f"{label} " + "/".join(str(batches[k]) for k in ("baseline", "sunpy_jets")),
            unit="seq",
            count=batches["sunpy_jets"],
            counts=counts,
            variants={k: step_fn(opts, k, b) for k, b in batches.items()},
            # A training step costs about 3 forward passes (forward, and twice that backward).
            flops={"baseline": lambda b=batches["baseline"]: 3 * b * M.flops_baseline(opts),
                   "sunpy_jets": 3 * batches["sunpy_jets"] * jet_forward},
            note=(f"largest power-of-two batch (≤ {MAX_BATCH}) whose estimated step memory fits "
                  f"{opts.memory_budget_gib:g} GiB" if label == "largest batch" else ""),
        ))
    return out
