"""
Where the preprocessed grid's pixels lie on the first map: shared by tiling and the scanner's single tile.
"""

import numpy as np

__all__ = ["GridGeometry"]


class GridGeometry:
    """Affine map from the preprocessed grid's pixels to the first map's pixels."""

    def __init__(self, pre):
        region = np.array([pre.x1 - pre.x0, pre.y1 - pre.y0])
        pooled = region // pre.pool
        if pre.resize_to is not None:
            before_crop = np.array([pre.resize_to[1], pre.resize_to[0]])
        else:
            before_crop = pooled
        self.factor = pre.pool * pooled / before_crop  # first-map pixels per grid pixel, (x, y)
        h, w = pre.data_shape
        gh, gw = pre.grid_shape
        self.offset = np.array([(gw - w) // 2, (gh - h) // 2])
        self.origin = np.array([pre.x0, pre.y0])

    def to_map_pixels(self, col, row):
        col, row = np.asarray(col, dtype=float), np.asarray(row, dtype=float)
        x = self.origin[0] + (col - self.offset[0] + 0.5) * self.factor[0] - 0.5
        y = self.origin[1] + (row - self.offset[1] + 0.5) * self.factor[1] - 0.5
        return x, y
