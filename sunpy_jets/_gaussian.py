"""
A separable Gaussian blur of torch tensors, once.

The network's own smoothing of its input (`sunpy_jets.model.JetRCNN.smooth`) and the training scenes' point-spread
function and render blur (`sunpy_jets.synthetic.realistic`) use it. Needs nothing but torch, so the network module
and the bare training path can import it.
"""

import math

import torch
import torch.nn.functional as F

__all__ = ["gaussian_blur", "gaussian_taps"]


def gaussian_taps(sigma, device=None):
    """
    The normalised taps of a sampled Gaussian of standard deviation ``sigma`` pixels, out to ±3 sigma (float32).

    Examples
    --------
    >>> from sunpy_jets._gaussian import gaussian_taps
    >>> taps = gaussian_taps(1.0)
    >>> len(taps), round(float(taps.sum()), 6)
    (7, 1.0)
    """
    radius = max(1, int(math.ceil(3 * sigma)))
    t = torch.arange(-radius, radius + 1, dtype=torch.float32, device=device)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    return k / k.sum()


def gaussian_blur(x, taps):
    """
    ``x`` (``(..., H, W)``) convolved with ``taps`` along each of its last two axes, edges replicated.

    Examples
    --------
    >>> import torch
    >>> from sunpy_jets._gaussian import gaussian_blur, gaussian_taps
    >>> gaussian_blur(torch.full((2, 5, 8, 8), 3.0), gaussian_taps(1.0)).unique()  # a constant stays constant
    tensor([3.])
    """
    taps = taps.to(x.dtype)
    r = len(taps) // 2
    y = x.reshape(-1, 1, *x.shape[-2:])
    y = F.conv2d(F.pad(y, (r, r, 0, 0), mode="replicate"), taps.view(1, 1, 1, -1))
    return F.conv2d(F.pad(y, (0, 0, r, r), mode="replicate"), taps.view(1, 1, -1, 1)).reshape(x.shape)
