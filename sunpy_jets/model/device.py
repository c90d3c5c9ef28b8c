"""
Where a model runs: the one place a user's device choice becomes a `torch.device`, and the precision it runs at.
"""

import torch

from ..exceptions import InputError

__all__ = ["resolve_device", "check_precision", "autocast", "PRECISIONS"]


def resolve_device(device="auto") -> torch.device:
    """
    Turn a device choice into a `torch.device`: ``"auto"`` picks CUDA, then Apple MPS, then the CPU.

    Examples
    --------
    >>> from sunpy_jets.model import resolve_device
    >>> resolve_device("cpu")
    device(type='cpu')
    >>> resolve_device("abacus")
    Traceback (most recent call last):
    ...
    sunpy_jets.exceptions.InputError: unknown device 'abacus': use "auto", "cpu", "cuda", "cuda:N" or "mps"
    """
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise InputError(f'unknown device {device!r}: use "auto", "cpu", "cuda", "cuda:N" or "mps"') from e
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device {device!r} was asked for but CUDA is not available here; use device='auto' or 'cpu'")
    return resolved


#: Inference precisions: full (the default, in which the model cards' figures were measured) or autocast.
PRECISIONS = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def check_precision(precision, device) -> str:
    """
    Check an inference precision for ``device``; return its name.

    ``"bfloat16"`` and ``"float16"`` run the network's convolutions and LSTM under `torch.autocast`;
    ``"float16"`` needs a GPU (CUDA or MPS).

    Examples
    --------
    >>> import torch
    >>> from sunpy_jets.model.device import check_precision
    >>> check_precision(torch.bfloat16, torch.device("cpu"))
    'bfloat16'
    >>> check_precision("float16", torch.device("cpu"))
    Traceback (most recent call last):
    ...
    sunpy_jets.exceptions.InputError: precision 'float16' needs a GPU (CUDA or MPS); on the CPU use "bfloat16" or "float32"
    """
    names = {dtype: name for name, dtype in PRECISIONS.items()}
    name = names.get(precision, precision) if isinstance(precision, torch.dtype) else precision
    if name not in PRECISIONS:
        raise InputError(f"precision must be one of {', '.join(map(repr, PRECISIONS))}, not {precision!r}")
    if name == "float16" and torch.device(device).type == "cpu":
        raise InputError('precision \'float16\' needs a GPU (CUDA or MPS); on the CPU use "bfloat16" or "float32"')
    return name


def autocast(device, precision: str):
    """
    The context the network runs in at ``precision`` (a name from `PRECISIONS`) on ``device``.

    Examples
    --------
    >>> import torch
    >>> from sunpy_jets.model.device import autocast
    >>> with autocast(torch.device("cpu"), "bfloat16"):
    ...     (torch.ones(2, 2) @ torch.ones(2, 2)).dtype
    torch.bfloat16
    """
    device = torch.device(device)
    if precision == "float32":
        return torch.autocast(device_type=device.type, enabled=False)
    return torch.autocast(device_type=device.type, dtype=PRECISIONS[precision])
