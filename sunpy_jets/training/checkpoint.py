"""
Training checkpoints: everything needed to resume an interrupted run exactly where it stopped.

A checkpoint is one file, ``checkpoint.pt``, holding only tensors and plain Python values (numbers,
strings, lists, dicts): the model, optimiser and scheduler states, the best weights so far (a copy),
the epoch, the history, and the random-number states of torch, NumPy, Python and the DataLoader's
generator. It is written with `torch.save` to memory and then atomically into place, and read back
with ``torch.load(weights_only=True)``, which refuses anything but those types: nothing is unpickled.
"""

import io
import json
import random
from pathlib import Path

import numpy as np
import torch

from .._json import parse_json
from ..exceptions import TrainingError
from .._atomic import atomic_write_bytes

__all__ = ["CHECKPOINT_NAME", "save_checkpoint", "load_checkpoint", "capture_rng_state", "restore_rng_state"]

#: File name of the checkpoint inside a checkpoint directory.
CHECKPOINT_NAME = "checkpoint.pt"
_FORMAT = "sunpy_jets-checkpoint"
_VERSION = 1


def capture_rng_state(generator=None) -> dict:
    """
    The states of the torch, NumPy and Python random generators (and ``generator``), as tensors and ints.

    Examples
    --------
    >>> import torch
    >>> from sunpy_jets.training.checkpoint import capture_rng_state, restore_rng_state
    >>> state = capture_rng_state()
    >>> a = torch.rand(1)
    >>> restore_rng_state(state)
    >>> bool(torch.rand(1) == a)
    True
    """
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "python": {"version": int(version), "internal": torch.tensor(internal, dtype=torch.int64),
                   "gauss_next": gauss_next},
    }  # fmt: skip
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    if generator is not None:
        state["generator"] = generator.get_state()
    return state


def restore_rng_state(state: dict, generator=None) -> None:
    """
    Restore the random states saved by `capture_rng_state` (and ``generator``'s, when both have one).

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from sunpy_jets.training.checkpoint import capture_rng_state, restore_rng_state
    >>> loader_rng = torch.Generator().manual_seed(0)
    >>> state = capture_rng_state(loader_rng)
    >>> first = np.random.random(), torch.randint(100, (3,), generator=loader_rng).tolist()
    >>> restore_rng_state(state, loader_rng)
    >>> (np.random.random(), torch.randint(100, (3,), generator=loader_rng).tolist()) == first
    True
    """
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    keys = n["keys"].numpy().astype(np.uint32)
    np.random.set_state((n["kind"], keys, n["pos"], n["has_gauss"], n["cached_gaussian"]))
    p = state["python"]
    random.setstate((p["version"], tuple(int(v) for v in p["internal"].tolist()), p["gauss_next"]))
    if "cuda" in state and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])
    if generator is not None and "generator" in state:
        generator.set_state(state["generator"])


def _cpu(obj):
    """A copy of a (nested) state on the CPU, so the file loads on machines without the training GPU."""
    if torch.is_tensor(obj):
        return obj.detach().to("cpu").clone()
    if isinstance(obj, dict):
        return {k: _cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_cpu(v) for v in obj)
    return obj


def save_checkpoint(directory, state: dict) -> Path:
    """
    Write a training state atomically to ``directory/checkpoint.pt``.

    Parameters
    ----------
    directory : str or `~pathlib.Path`
        The checkpoint directory (created if needed).
    state : dict
        Tensors and plain values only; ``state["meta"]`` (history, recipe, ...) is stored as JSON.

    Returns
    -------
    `~pathlib.Path`
        The checkpoint file.

    Examples
    --------
    >>> import tempfile, torch
    >>> from sunpy_jets.training.checkpoint import load_checkpoint, save_checkpoint
    >>> path = save_checkpoint(tempfile.mkdtemp(), {"model": {"w": torch.ones(2)}, "meta": {"epoch": 3}})
    >>> state = load_checkpoint(path.parent)
    >>> state["meta"]["epoch"], state["model"]["w"].tolist()
    (3, [1.0, 1.0])
    """
    state = dict(state)
    state["meta"] = json.dumps(state.get("meta", {}))
    state["format"], state["version"] = _FORMAT, _VERSION
    buffer = io.BytesIO()
    torch.save(_cpu(state), buffer)
    return atomic_write_bytes(Path(directory) / CHECKPOINT_NAME, buffer.getvalue())


def load_checkpoint(directory) -> dict | None:
    """
    Read the checkpoint in ``directory``; ``None`` when there is none.

    Raises
    ------
    `~sunpy_jets.exceptions.TrainingError`
        The file is unreadable, holds other types than tensors and plain values, or is not a
        sunpy_jets checkpoint.

    Examples
    --------
    >>> import tempfile
    >>> from sunpy_jets.training.checkpoint import load_checkpoint
    >>> load_checkpoint(tempfile.mkdtemp()) is None
    True
    """
    path = Path(directory) / CHECKPOINT_NAME
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for corrupt or unsafe files
        raise TrainingError(f"cannot read the checkpoint {path} ({exc}); delete it to start afresh") from exc
    if not isinstance(state, dict) or state.get("format") != _FORMAT:
        raise TrainingError(f"{path} is not a sunpy_jets training checkpoint; delete it or choose another directory")
    version = state.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise TrainingError(f"{path} has no valid format version ({version!r}): it was edited or damaged; delete it")
    if version > _VERSION:
        raise TrainingError(f"{path} was written by a newer sunpy_jets (version {version}); upgrade")
    meta, what = state.get("meta"), f"the metadata of the checkpoint {path}"
    if not isinstance(meta, (str, bytes, bytearray)):  # what json.loads reads
        kind = type(meta).__name__
        raise TrainingError(f"{what} is damaged (of type {kind}, not JSON text); delete it to start afresh")
    state["meta"] = parse_json(meta, error=TrainingError, what=what, advice="delete it to start afresh")
    if not isinstance(state["meta"], dict):
        raise TrainingError(f"the metadata of the checkpoint {path} is not a JSON object; delete it to start afresh")
    return state
