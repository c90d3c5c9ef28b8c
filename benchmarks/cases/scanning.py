"""
Stride-1 scanning of a long sequence: frames per second (one new window per new frame).

sunpy_jets encodes each frame once and runs only the LSTM per window (`sunpy_jets.scanning._windows.window_logits`,
`JetClassifier.scan`); the published RCNN must run every window in full. Its cost per frame does not
depend on the sequence's length, so it is timed over a shorter stretch of the same frames (the first
``n_frames + 15`` frames: 16 windows) to keep the run short; every rate is windows per second, which
at stride 1 is frames per second.
"""

import warnings

import torch

import astropy.units as u

from cases import Measurement
from cases import _models as M
from cases.inference import in_context

__all__ = ["measurements", "LONG", "BASELINE_WINDOWS", "FRAME_BATCH", "DIFFERENCE_CHANNELS"]

#: Frames in the scanned sequence.
LONG = 300
#: Windows the baseline is timed over.
BASELINE_WINDOWS = 16
#: Frames per encoder call in the model-level scan (as `sunpy_jets.scanning` uses).
FRAME_BATCH = 32


def frames(opts, n, *, seed=1):
    """Random standardised frames ``(n, 1, H, W)``."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, opts.size, opts.size, generator=g)


def synthetic_maps(opts, n, *, lazy=False, seed=0):
    """A quiet-Sun synthetic AIA 304 sequence at the model's scale (300″ over ``opts.size`` pixels)."""
    from sunpy_jets.synthetic import make_sequence

    seq = make_sequence(kind="quiet", seed=seed, n_frames=n, shape=(opts.size, opts.size),
                        scale=300 / opts.size * u.arcsec / u.pix, bad_frame_rate=0, lazy=lazy)
    return seq if lazy else list(seq.maps)


#: Stage widths of the frame-difference encoder of the "with differences" variant (as the default weights use).
DIFFERENCE_CHANNELS = (8, 16, 24, 32, 48)


def scan_model(model, x, n, *, chunk=FRAME_BATCH):
    """Logits of every stride-1 window: each frame encoded once, then the LSTM per window."""
    if getattr(model, "difference_encoder", None) is not None:
        # Each chunk continues the one before: its first frame's difference needs the frame before it.
        parts = [model.encode_frames(x[i : i + chunk], previous=x[i - 1] if i else None) for i in range(0, len(x), chunk)]
    else:
        parts = [model.encode_frames(x[i : i + chunk]) for i in range(0, len(x), chunk)]
    from sunpy_jets.scanning._windows import window_logits

    # The wrappers of proposed.py bring their own window_logits; a JetRCNN is classified by the scanner's.
    network = getattr(model, "model", model)
    return window_logits(network, torch.cat(parts), n, 1)


def measurements(opts):
    n = opts.n_frames
    long = 3 * n if opts.quick else LONG
    k = 4 if opts.quick else BASELINE_WINDOWS
    windows = long - n + 1

    def baseline():
        model = M.baseline(opts)
        x = frames(opts, n + k - 1)[:, 0]
        batch = 8

        def call():
            out = []
            for s in range(0, k, batch):
                w = x.unfold(0, n, 1)[s : s + batch].permute(0, 3, 1, 2).contiguous()  # (b, n, H, W)
                out.append(model(w))
            return torch.cat(out)

        return call

    def jet():
        model, x = M.jet_model(opts), frames(opts, long)
        return lambda: scan_model(model, x, n)

    def differences():
        model = M.jet_model(opts, cfg=M.config(opts, difference_channels=DIFFERENCE_CHANNELS))
        x = frames(opts, long)
        return lambda: scan_model(model, x, n)

    def fast():
        model, x = M.fast_model(opts), frames(opts, long)
        return lambda: scan_model(model, x, n, chunk=len(x))  # FastEncoder chunks by itself

    def scanning(clf):
        maps = synthetic_maps(opts, long)

        def call():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return clf.scan(maps, stride=1, progress=False)

        return call

    def classifier():
        return scanning(M.classifier(opts))

    def bundled():
        from sunpy_jets import JetClassifier

        return scanning(JetClassifier.from_pretrained(device=opts.device, progress=False))

    def jet_flops():
        per_frame, per_window = M.flops_jet(opts)
        return long * per_frame + windows * per_window

    variants = {"baseline": baseline, "sunpy_jets": jet, "with differences": differences, "proposed": fast,
                "JetClassifier.scan": classifier}  # fmt: skip
    if (opts.size, n) == (166, 30):
        # The bundled weights need the default frame size and window; --quick runs tinier ones.
        variants["JetClassifier.scan, bundled weights"] = bundled
    return [
        Measurement(
            case="scanning",
            name=f"{long} frames, stride 1",
            unit="frame",
            count=windows,
            counts={"baseline": k},
            variants={k_: in_context(v, opts.device) for k_, v in variants.items()},
            flops={"baseline": lambda: k * M.flops_baseline(opts), "sunpy_jets": jet_flops, "proposed": jet_flops},
            note=f"baseline timed over {k} windows ({n + k - 1} frames); 'with differences' adds a frame-difference "
                 f"encoder {DIFFERENCE_CHANNELS}; JetClassifier.scan includes per-frame preprocessing of in-memory sunpy maps "
                 "(with the default architecture's random weights, or with the bundled weights)",
        )
    ]
