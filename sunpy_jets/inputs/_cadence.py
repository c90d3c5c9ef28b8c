"""
The one cadence grid of the package, shared by batch preprocessing, streaming scans and Dask planning.

A run of frames is put on a regular grid that starts at its first frame. Each arriving frame emits the
grid points up to its own time: a grid point within 10 % of a real frame takes that frame as it is,
any other is interpolated linearly between the two frames around it. Frames further apart than
``max_gap`` end the run; the next frame starts a new grid.
"""

import numpy as np

__all__ = ["CADENCE_TOLERANCE", "FOV_TOLERANCE", "SCALE_TOLERANCE", "CadenceGrid", "grid_emitters"]

#: Cadence deviations below this fraction are timing jitter, not gaps.
CADENCE_TOLERANCE = 0.1
#: A pooled pixel scale within this fraction of the model's is used without resampling.
SCALE_TOLERANCE = 0.02
#: A field of view up to this fraction larger than the model's is cropped silently (rounding, WCS jitter).
FOV_TOLERANCE = 0.05


class CadenceGrid:
    """
    Frames in, in time order; frames on the grid out.

    Parameters
    ----------
    step : float
        Grid step in seconds.
    max_gap : float
        The longest spacing (s) bridged by interpolation; a longer one starts a new run.
    """

    def __init__(self, step, max_gap):
        self.step = float(step)
        self.max_gap = float(max_gap)
        self.prev = None
        self.t0 = 0.0
        self.k = 0
        #: Grid frames made by interpolating between two real frames, and the longest spacing met.
        self.n_interpolated = 0
        self.longest = 0.0

    def push(self, t, frame):
        """
        Add the frame at ``t`` seconds; return ``(new_run, gap, [(grid_time, frame), ...])``.

        ``frame`` may be `None` to follow the grid's times only (the emitted values are then `None`).
        """
        gap = None
        if self.prev is not None and t - self.prev[0] > self.max_gap:
            gap = (self.prev[0], t)
            self.prev = None
        if self.prev is None:
            self.t0, self.k, self.prev = t, 1, (t, frame)
            return True, gap, [(t, frame)]
        tp, fp = self.prev
        dt = t - tp
        self.longest = max(self.longest, dt)
        tol = CADENCE_TOLERANCE * min(self.step, dt)
        out = []
        while (g := self.t0 + self.k * self.step) <= t + CADENCE_TOLERANCE * self.step:
            if abs(g - tp) <= tol:
                value = fp
            elif abs(t - g) <= tol or g >= t:
                value = frame
            else:
                value = None if frame is None else _blend(fp, frame, (g - tp) / dt)
                self.n_interpolated += 1
            out.append((g, value))
            self.k += 1
        self.prev = (t, frame)
        return False, None, out


def _blend(a, b, w):
    return ((1 - w) * a + w * b).astype(np.float32)


def grid_emitters(t, step):
    """
    For the frames of one run at times ``t`` (s), the index of the frame that emits each grid point.

    Examples
    --------
    >>> from sunpy_jets.inputs._cadence import grid_emitters
    >>> grid_emitters([0.0, 12.0, 24.0, 36.0, 48.0], 24.0).tolist()
    [0, 2, 4]
    """
    grid = CadenceGrid(step, np.inf)
    out = []
    for i, ti in enumerate(t):
        out += [i] * len(grid.push(float(ti), None)[2])
    return np.array(out)
