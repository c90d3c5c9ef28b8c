"""
Single-window inference: sequences per second at batch sizes 1, 2, 8, 32, on already-prepared input.

Variants: the published RCNN (``baseline``); sunpy_jets' `JetRCNN` forward as shipped
(``sunpy_jets``); the same model fed 16 frames per encoder call (``chunked``, the one-line change
proposed to ``JetRCNN.encode_frames``); the proposed fused, channels-last, chunked path
(``proposed``, see ``benchmarks/proposed.py``);
and `JetClassifier.predict_proba` on `PreparedSequence` input (``JetClassifier``). All run under
``torch.inference_mode`` (plus bf16 autocast and channels-last on CUDA).
"""

import warnings

import numpy as np
import torch

from _common import device_context
from cases import Measurement
from cases import _models as M

__all__ = ["measurements", "in_context"]

BATCHES = (1, 2, 8, 32)
QUICK_BATCHES = (1, 2)


def in_context(build, device):
    """Wrap a variant factory so that its callable runs in the device's inference context."""

    def wrapped():
        f = build()

        def call():
            with device_context(device):
                return f()

        return call

    return wrapped


def measurements(opts):
    out = []
    batches = QUICK_BATCHES if opts.quick else BATCHES
    for batch in batches:

        def baseline(batch=batch):
            model, x = M.baseline(opts), M.windows(opts, batch).to(opts.device)
            if opts.device.startswith("cuda"):
                x = x.contiguous(memory_format=torch.channels_last)
            return lambda: model(x)

        def jet(batch=batch):
            model, x = M.jet_model(opts), M.windows(opts, batch)[:, :, None].to(opts.device)
            return lambda: model(x)

        def fast(batch=batch):
            model, x = M.fast_model(opts), M.windows(opts, batch)[:, :, None].to(opts.device)
            return lambda: model(x)

        def chunked(batch=batch):
            model, x = M.chunked_model(opts), M.windows(opts, batch)[:, :, None].to(opts.device)
            return lambda: model(x)

        def classifier(batch=batch):
            clf, data = M.classifier(opts), M.prepared(opts, batch)

            def call():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return np.asarray(clf.predict_proba(data if batch > 1 else data[0]))

            return call

        def jet_flops(batch=batch):
            per_frame, per_window = M.flops_jet(opts)
            return batch * (opts.n_frames * per_frame + per_window)

        variants = {"baseline": baseline, "sunpy_jets": jet, "chunked": chunked, "proposed": fast,
                    "JetClassifier": classifier}
        out.append(
            Measurement(
                case="inference",
                name=f"batch {batch}",
                unit="seq",
                count=batch,
                variants={k: in_context(v, opts.device) for k, v in variants.items()},
                flops={"baseline": lambda batch=batch: batch * M.flops_baseline(opts), "sunpy_jets": jet_flops,
                       "chunked": jet_flops, "proposed": jet_flops, "JetClassifier": jet_flops},
                probe=batch == batches[-1],
            )
        )
    return out
