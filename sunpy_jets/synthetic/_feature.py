"""The common interface of everything drawn on top of a background (jets and hard negatives)."""

import numpy as np

__all__ = ["Feature", "sigmoid"]


def sigmoid(x):
    """A float32 logistic step."""
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


class Feature:
    """
    Something that adds count rate (DN/s) inside a bounded box during a time span.

    Subclasses set ``t_start`` and ``t_end`` (seconds from the scene start) and ``_box`` (arcsec
    ``(xmin, xmax, ymin, ymax)`` over the whole lifetime, returned by `box`), implement `rate` (on the
    local coordinates of that box), and `add_to` does the windowing so that cost scales with the
    feature's size rather than the frame's.
    """

    t_start = 0.0
    t_end = 0.0
    label = False

    def box(self):
        return self._box

    def rate(self, tx, ty, t):
        raise NotImplementedError

    def add_to(self, image, field, t):
        """Add this feature's rate at time ``t`` (s) into ``image`` (in place)."""
        if not self.t_start <= t <= self.t_end:
            return
        window = field.window(self.box())
        if window is None:
            return
        image[window] += self.rate(field.tx[window], field.ty[window], t).astype(np.float32, copy=False)
