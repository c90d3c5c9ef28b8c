"""
Per-stage wall time of one public call: which part of the package its time goes to.

`stage_times` wraps the package's stage functions for the duration of one call (nothing is changed
outside it) and sums the wall time spent in each, over all threads: the reader thread overlaps the
model's work, so the stages may add up to more than the call. A stage called inside another one
(in the same thread) counts for the outer one only.
"""

import functools
import threading
import time
import warnings
from contextlib import contextmanager

__all__ = ["stage_times", "STAGES"]

#: Stage names, in pipeline order.
STAGES = ("read", "check", "preprocess", "encode", "windows", "events")


class _Clock:
    """Wall seconds per stage, summed over threads; nested stages are not counted twice."""

    def __init__(self):
        self.total = dict.fromkeys(STAGES, 0.0)
        self.local = threading.local()

    def wrap(self, stage, f):
        @functools.wraps(f)
        def timed(*args, **kwargs):
            if getattr(self.local, "busy", False):
                return f(*args, **kwargs)
            self.local.busy = True
            t = time.perf_counter()
            try:
                return f(*args, **kwargs)
            finally:
                self.total[stage] += time.perf_counter() - t
                self.local.busy = False

        return timed


@contextmanager
def _patched(targets):
    """Replace ``(owner, name) -> wrapper(original)`` for the duration."""
    saved = []
    try:
        for (owner, name), make in targets.items():
            original = getattr(owner, name)
            saved.append((owner, name, original))
            setattr(owner, name, make(original))
        yield
    finally:
        for owner, name, original in reversed(saved):
            setattr(owner, name, original)


def stage_times(call):
    """Run ``call()`` once with the package's stages timed; return ``{stage: seconds}`` and the total."""
    import sunpy_jets.inputs.maps as maps_module
    import sunpy_jets.inputs.preprocessing as pre_module
    import sunpy_jets.scanning._engine as engine_module
    import sunpy_jets.scanning.engine as scan_module
    from sunpy_jets.inputs._checks import SequenceChecker
    from sunpy_jets.inputs.preprocessing import FramePreprocessor
    from sunpy_jets.model import JetRCNN
    from sunpy_jets.scanning._engine import Scanner

    clock = _Clock()
    wrap = clock.wrap
    targets = {
        # File reading, where it is looked up (module globals bound by name at import).
        (maps_module, "read_fits"): lambda f: wrap("read", f),
        (maps_module, "header_time"): lambda f: wrap("read", f),
        (SequenceChecker, "__call__"): lambda f: wrap("check", f),
        (FramePreprocessor, "__call__"): lambda f: wrap("preprocess", f),
        (pre_module, "resample_time"): lambda f: wrap("preprocess", f),
        (pre_module, "standardize"): lambda f: wrap("preprocess", f),
        (engine_module, "standardize"): lambda f: wrap("preprocess", f),
        (engine_module, "thumbnail"): lambda f: wrap("windows", f),
        (JetRCNN, "encode_frames"): lambda f: wrap("encode", f),
        (Scanner, "_encode"): lambda f: wrap("encode", f),
        (JetRCNN, "classify_features"): lambda f: wrap("windows", f),
        (Scanner, "_windows"): lambda f: wrap("windows", f),
        (scan_module, "events_from_scan"): lambda f: wrap("events", f),
        (scan_module, "localize_events"): lambda f: wrap("events", f),
    }
    with _patched(targets), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        call()
        total = time.perf_counter() - t
    return {k: v for k, v in clock.total.items() if v > 0}, total
