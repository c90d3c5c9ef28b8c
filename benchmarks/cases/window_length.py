"""
The issue-6 scan benchmark: cost per frame against window length, and memory against sequence length.

* ``JetClassifier.scan`` (stride 1) over the same sequence with models of ``n_frames`` 10, 30 and 60:
  each frame is encoded once whatever the window, so frames per second should barely move (the
  LSTM's share grows with the window, but it is small next to the encoder's);
* peak memory of a scan over 200 and over 2,000 frames streamed from a lazy generator of sunpy maps
  (never a list in memory): it must stay within twice the 200-frame figure.
"""

import warnings

import sunpy.map

from cases import Measurement
from cases import _models as M
from cases.scanning import synthetic_maps

__all__ = ["measurements", "stream"]

WINDOWS = (10, 30, 60)
LENGTHS = (200, 2000)


def stream(base, n, cadence=24.0):
    """Yield ``n`` maps cycling through ``base`` with times ``cadence`` apart, each made on demand."""
    from astropy.time import Time
    import astropy.units as u

    t0 = Time(base[0].meta["date-obs"])
    for i in range(n):
        b = base[i % len(base)]
        meta = dict(b.meta)
        meta["date-obs"] = (t0 + i * cadence * u.s).isot
        yield sunpy.map.Map(b.data, meta)


def _scan(clf, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return clf.scan(data, stride=1, progress=False)


def measurements(opts):
    windows = (4, 8, 16) if opts.quick else WINDOWS
    lengths = (20, 60) if opts.quick else LENGTHS
    n_long = 3 * max(windows) if opts.quick else 300
    out = []

    def by_window(n):
        def build():
            clf = M.classifier(opts, cfg=M.config(opts, n_frames=n))
            maps = synthetic_maps(opts, n_long)
            return lambda: _scan(clf, maps)
        return build

    first = f"n_frames {windows[0]}"
    out.append(Measurement(
        case="window_length",
        name=f"scan {n_long} frames",
        unit="frame",
        count=n_long,
        variants={f"n_frames {n}": by_window(n) for n in windows},
        probe=False,
        reference=first,
        note=f"× column: relative to {first}; a scan encodes each frame once, whatever the window",
    ))

    def by_length(n):
        def build():
            clf = M.classifier(opts)
            base = synthetic_maps(opts, 8)
            return lambda: _scan(clf, stream(base, n))
        return build

    out.append(Measurement(
        case="window_length",
        name="streamed scan",
        unit="frame",
        count=lengths[0],
        counts={f"{n} frames": n for n in lengths},
        variants={f"{n} frames": by_length(n) for n in lengths},
        reference=f"{lengths[0]} frames",
        # Thousands of frames take a while: one timed pass each, no warm-up (the first frames warm up).
        warmup=0,
        max_repeats=1,
        note="maps made on demand by a generator; peak memory must stay within 2× from the shorter to the longer scan",
    ))
    return out
