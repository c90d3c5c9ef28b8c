"""
Where a model runs: the one place a user's device choice becomes a `torch.device`.
"""

import torch

from ..exceptions import InputError

__all__ = ["resolve_device"]


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
