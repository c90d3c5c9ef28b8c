"""Models and inputs shared by the cases: the baseline, sunpy_jets' default model, prepared windows."""

import functools

import numpy as np
import torch

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.time import Time

import sunpy.coordinates  # noqa: F401  (registers the helioprojective frame)

from sunpy_jets.classifier import JetClassifier
from sunpy_jets.model import JetModelConfig, JetRCNN
from sunpy_jets.inputs import PreparedSequence

from baseline_rcnn import BaselineRCNN, count_flops
from proposed import ChunkedModel, FastEncoder

__all__ = [
    "SEED", "config", "baseline", "jet_model", "fast_model", "chunked_model", "classifier", "windows", "prepared", "flops_baseline",
    "flops_jet",
]

SEED = 0


def config(opts, **changes):
    """sunpy_jets' default configuration at the run's window length and frame size."""
    return JetModelConfig(**{"n_frames": opts.n_frames, "image_size": opts.size, **changes})


def baseline(opts, *, train=False):
    """The published RCNN with seeded random weights (accuracy plays no part in its cost)."""
    torch.manual_seed(SEED)
    model = BaselineRCNN(opts.n_frames, opts.size).to(opts.device)
    model = model.train() if train else model.eval()
    if opts.device.startswith("cuda"):
        model = model.to(memory_format=torch.channels_last)
    return model


def jet_model(opts, *, cfg=None, train=False):
    """sunpy_jets' `JetRCNN` with its default (published) architecture; the bundled weights add a difference encoder."""
    torch.manual_seed(SEED)
    model = JetRCNN(cfg or config(opts)).to(opts.device)
    model = model.train() if train else model.eval()
    if opts.device.startswith("cuda"):
        model = model.to(memory_format=torch.channels_last)
    return model


def fast_model(opts, *, cfg=None):
    """The proposed fused, channels-last, chunked inference path over the same weights."""
    return FastEncoder(jet_model(opts, cfg=cfg))


def chunked_model(opts, *, cfg=None):
    """`JetRCNN` with only the proposed chunking of the encoder's input."""
    return ChunkedModel(jet_model(opts, cfg=cfg))


def classifier(opts, *, cfg=None):
    """A `JetClassifier` with the default architecture, no progress bars."""
    return JetClassifier(cfg or config(opts), device=opts.device, seed=SEED, progress=False)


def windows(opts, batch, *, seed=SEED):
    """Standardised-looking random windows ``(B, T, H, W)`` (the baseline's layout)."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, opts.n_frames, opts.size, opts.size, generator=g)


def prepared(opts, batch, *, seed=SEED):
    """The same windows as `PreparedSequence` objects, as `JetClassifier.prepare` returns them."""
    x = windows(opts, batch, seed=seed)
    times = Time("2012-07-19T07:30:00") + np.arange(opts.n_frames) * 24 * u.s
    center = SkyCoord(0 * u.arcsec, 0 * u.arcsec, frame="helioprojective", observer="earth", obstime=times[0])
    return [
        PreparedSequence(frames=x[i][:, None].contiguous(), times=times, center=center,
                         extent=[300, 300] * u.arcsec, pixel_scale=300 / opts.size * u.arcsec / u.pix)
        for i in range(batch)
    ]


@functools.cache
def _flops_baseline(n_frames, size):
    model = BaselineRCNN(n_frames, size).eval()
    return count_flops(model, torch.zeros(1, n_frames, size, size), lstm_steps=1)


def flops_baseline(opts):
    """FLOPs of the baseline per window."""
    return _flops_baseline(opts.n_frames, opts.size)


@functools.cache
def _flops_jet(n_frames, size):
    torch.manual_seed(SEED)
    model = JetRCNN(JetModelConfig(n_frames=n_frames, image_size=size)).eval()
    per_frame = count_flops(model.encoder, torch.zeros(1, 1, size, size))
    per_window = count_flops(model, torch.zeros(1, n_frames, 1, size, size), lstm_steps=n_frames) - n_frames * per_frame
    return per_frame, per_window


def flops_jet(opts, n_frames=None):
    """FLOPs of `JetRCNN` per frame encoding, and of one LSTM+head pass over a window."""
    return _flops_jet(n_frames or opts.n_frames, opts.size)
