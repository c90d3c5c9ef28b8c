"""
Spatial tiling of fields of view larger than the model's.

A large frame (up to a full-disk AIA image) is reduced once to the model's pixel scale and covered by
overlapping square tiles of the model's size (``config.image_size`` pixels, 300″ by default). The CNN
encoder is fully convolutional, so it is run **once** over the whole frame and each tile's feature
vector is pooled from the cells of the frame's feature map under that tile (``method="pool"``), instead
of cropping every tile and encoding it again (``method="crop"``, exact but ``1 / (1 - overlap)²`` times
more expensive).

Tile origins are placed on the encoder's cell grid (multiples of ``2 ** n_stages`` model pixels, 32 for
the default five stages), so a tile's cells are exactly those the encoder would compute for the cropped
tile, except at the tile's border: the cropped tile sees zero padding beyond its edges where the whole
frame sees the real neighbouring pixels (and the last cell of a 166-pixel tile covers 192 pixels of the
frame). Tile probabilities from the two methods therefore differ. ``tests/test_tiling.py`` measures the
difference (see `POOL_TOLERANCE`): at most 0.06 for untrained models; for a tiny model trained on
generated jets (4×4 cells per tile, so half its cells touch the border) the median difference is 2e-4 but
it reaches 0.99 for windows whose jet lies at a tile's edge, which the pooled tile sees a few pixels beyond
its edge and the cropped tile does not. Neighbouring tiles overlap, so such a jet is found by either
method; use ``method="crop"`` when each tile's probability must equal `~sunpy_jets.JetClassifier.predict_proba`
on the cropped tile.

Tiles are fixed in the frame of the first image (like the cutouts of the published recipe; no tracking
of solar rotation). Tiles whose nearest point lies further than ``max_radius`` solar radii from disk
centre are skipped: jets are seen on the disk and at the limb, and 1.3 R☉ keeps every tile that reaches
the low corona above the limb, where jet spires are seen.
"""

from dataclasses import dataclass

import numpy as np
import torch

import astropy.units as u
from astropy.coordinates import SkyCoord

from ..exceptions import InputError
from ._geometry import GridGeometry

__all__ = ["TileGrid", "make_tile_grid", "pool_tiles", "crop_tiles", "POOL_TOLERANCE", "DEFAULT_MAX_RADIUS"]

#: Largest difference in tile probability between ``method="pool"`` and ``method="crop"`` for untrained models
#: on generated frames (measured 0.036–0.059 over three seeds); trained models can differ more at tile edges.
POOL_TOLERANCE = 0.1

#: Tiles whose nearest point is further than this many solar radii from disk centre are skipped by default.
DEFAULT_MAX_RADIUS = 1.3


def _feature_size(size: int, n_stages: int) -> int:
    """Side of the encoder's output for an input of ``size`` pixels (3×3 kernels, stride 2, padding 1)."""
    for _ in range(n_stages):
        size = (size + 1) // 2
    return size


@dataclass(frozen=True)
class TileGrid:
    """
    Square tiles of the model's size over a frame reduced to the model's pixel scale.

    Attributes
    ----------
    size : int
        Tile side in model pixels (``config.image_size``).
    step : int
        Model pixels between neighbouring tile origins (a multiple of ``cell``).
    cell : int
        Model pixels per cell of the encoder's feature map (``2 ** n_stages``).
    shape : tuple of int
        ``(ny, nx)``: tiles along y and x before skipping.
    padded_shape : tuple of int
        ``(H, W)`` of the frame once padded so that the tiles cover it exactly.
    keep : `numpy.ndarray`
        Flat indices (row-major over ``shape``) of the tiles that are scanned.
    origins : `numpy.ndarray`
        ``(n, 2)`` (row, col) model-pixel origins of the kept tiles.
    centers : `~astropy.coordinates.SkyCoord`
        Helioprojective centres of the kept tiles.
    width, height : `~astropy.units.Quantity`
        Angular size of a tile.

    Examples
    --------
    >>> import numpy as np
    >>> import astropy.units as u
    >>> from sunpy_jets.model import JetModelConfig
    >>> from sunpy_jets.inputs import FramePreprocessor
    >>> from sunpy_jets.synthetic import make_sequence
    >>> from sunpy_jets.scanning import make_tile_grid
    >>> config = JetModelConfig(image_size=32, channels=(4, 8), fov_arcsec=60)
    >>> m = make_sequence(kind="quiet", seed=1, n_frames=1, shape=(80, 120), scale=1.875 * u.arcsec / u.pix).maps[0]
    >>> grid = make_tile_grid(FramePreprocessor(m, config, full_frame=True), m, config, n_stages=2, max_radius=None)
    >>> len(grid), grid.shape, grid.padded_shape
    (28, (4, 7), (80, 128))
    >>> grid.origins[:3].tolist()
    [[0, 0], [0, 16], [0, 32]]
    >>> grid.pad(np.zeros((80, 120), dtype=np.float32)).shape
    (80, 128)
    """

    size: int
    step: int
    cell: int
    shape: tuple
    padded_shape: tuple
    keep: np.ndarray
    origins: np.ndarray
    centers: SkyCoord
    width: u.Quantity
    height: u.Quantity
    geometry: object = None

    def __len__(self):
        return len(self.keep)

    def pad(self, frame: np.ndarray) -> np.ndarray:
        """Pad a preprocessed frame with NaN (no data) to ``padded_shape``."""
        h, w = frame.shape
        ph, pw = self.padded_shape
        if (h, w) == (ph, pw):
            return frame
        out = np.full((ph, pw), np.nan, dtype=np.float32)
        out[: min(h, ph), : min(w, pw)] = frame[:ph, :pw]
        return out

    def to_world(self, col, row) -> SkyCoord:
        """
        Helioprojective coordinates of (fractional) model-pixel positions of the padded frame.

        Examples
        --------
        >>> import astropy.units as u
        >>> from sunpy_jets.model import JetModelConfig
        >>> from sunpy_jets.inputs import FramePreprocessor
        >>> from sunpy_jets.synthetic import make_sequence
        >>> from sunpy_jets.scanning import make_tile_grid
        >>> config = JetModelConfig(image_size=32, channels=(4, 8), fov_arcsec=60)
        >>> m = make_sequence(kind="quiet", seed=1, n_frames=1, shape=(80, 120), scale=1.875 * u.arcsec / u.pix).maps[0]
        >>> grid = make_tile_grid(FramePreprocessor(m, config, full_frame=True), m, config, n_stages=2, max_radius=None)
        >>> row, col = grid.origins[0] + (grid.size - 1) / 2  # the first tile's central pixel
        >>> grid.to_world(col, row).separation(grid.centers[0]).to(u.arcsec)
        <Angle 0. arcsec>
        """
        x, y = self.geometry.to_map_pixels(col, row)
        return self.geometry.wcs.pixel_to_world(x, y)


def make_tile_grid(pre, first_map, config, *, n_stages: int, overlap: float = 0.5,
                   max_radius: float | None = DEFAULT_MAX_RADIUS) -> TileGrid:
    """
    Lay overlapping tiles of the model's size over a frame preprocessed with ``full_frame=True``.

    Parameters
    ----------
    pre : `~sunpy_jets.inputs.FramePreprocessor`
        The preprocessor of the frames (its geometry places the tiles on the sky).
    first_map : `~sunpy.map.GenericMap`
        The frame that fixed ``pre``'s geometry.
    config : `~sunpy_jets.model.JetModelConfig`
        The model's recipe (tile size).
    n_stages : int
        Stride-2 stages of the encoder; tile origins are multiples of ``2 ** n_stages`` pixels.
    overlap : float
        Fraction of a tile shared with its neighbour, in [0, 1); the step is rounded to the cell grid.
    max_radius : float or None
        Skip tiles whose nearest point is further than this many solar radii from disk centre
        (None keeps every tile).

    Returns
    -------
    `TileGrid`

    Raises
    ------
    `~sunpy_jets.exceptions.InputError`
        For an overlap outside [0, 1), or when every tile is skipped.

    Examples
    --------
    >>> import astropy.units as u
    >>> from sunpy_jets.model import JetModelConfig
    >>> from sunpy_jets.inputs import FramePreprocessor
    >>> from sunpy_jets.synthetic import make_sequence
    >>> from sunpy_jets.scanning import make_tile_grid
    >>> config = JetModelConfig(image_size=32, channels=(4, 8), fov_arcsec=60)
    >>> m = make_sequence(kind="quiet", seed=1, n_frames=1, shape=(80, 120), scale=1.875 * u.arcsec / u.pix).maps[0]
    >>> grid = make_tile_grid(FramePreprocessor(m, config, full_frame=True), m, config, n_stages=2, max_radius=None)
    >>> grid.shape, grid.step, grid.width
    ((4, 7), 16, <Quantity 60. arcsec>)
    """
    if not 0 <= overlap < 1:
        raise InputError(f"overlap must be in [0, 1), not {overlap}")
    size = config.image_size
    cell = 2**n_stages
    step = max(cell, int(round(size * (1 - overlap) / cell)) * cell)
    h, w = pre.data_shape
    ny = max(1, int(np.ceil((h - size) / step)) + 1)
    nx = max(1, int(np.ceil((w - size) / step)) + 1)
    padded = ((ny - 1) * step + size, (nx - 1) * step + size)
    rows, cols = np.meshgrid(np.arange(ny) * step, np.arange(nx) * step, indexing="ij")
    origins = np.stack([rows.ravel(), cols.ravel()], axis=1)

    geometry = GridGeometry(pre)
    geometry.wcs = first_map.wcs
    centre = origins + (size - 1) / 2
    centers = geometry.wcs.pixel_to_world(*geometry.to_map_pixels(centre[:, 1], centre[:, 0]))
    scale = np.abs([first_map.scale.axis1.to_value(u.arcsec / u.pix), first_map.scale.axis2.to_value(u.arcsec / u.pix)])
    width, height = size * geometry.factor * scale * u.arcsec
    keep = np.arange(len(origins))
    if max_radius is not None:
        rsun = first_map.rsun_obs.to_value(u.arcsec)
        tx, ty = centers.Tx.to_value(u.arcsec), centers.Ty.to_value(u.arcsec)
        hw, hh = width.to_value(u.arcsec) / 2, height.to_value(u.arcsec) / 2
        # Nearest point of each tile box to disk centre.
        nearest = np.hypot(np.clip(0.0, tx - hw, tx + hw), np.clip(0.0, ty - hh, ty + hh))
        keep = np.flatnonzero(nearest <= max_radius * rsun)
        if keep.size == 0:
            raise InputError(
                f"every tile of the field lies further than {max_radius} solar radii from disk centre; "
                "pass max_radius=None to scan off-limb fields"
            )
    return TileGrid(
        size=size,
        step=step,
        cell=cell,
        shape=(ny, nx),
        padded_shape=padded,
        keep=keep,
        origins=origins[keep],
        centers=centers[keep],
        width=width,
        height=height,
        geometry=geometry,
    )


def pool_tiles(fmap: torch.Tensor, grid: TileGrid) -> torch.Tensor:
    """
    Per-tile feature vectors pooled from whole-frame feature maps.

    Parameters
    ----------
    fmap : `torch.Tensor`
        ``(N, C, h, w)`` feature maps of padded frames (`~sunpy_jets.model.FrameEncoder.feature_maps`).
    grid : `TileGrid`

    Returns
    -------
    `torch.Tensor`
        ``(N, n_tiles, 2C)``: average and max pooling of each kept tile's cells, as
        `~sunpy_jets.model.FrameEncoder.pool` does for a cropped tile.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from sunpy_jets.scanning import TileGrid, pool_tiles
    >>> grid = TileGrid(size=32, step=16, cell=8, shape=(2, 2), padded_shape=(48, 48), keep=np.arange(4),
    ...                 origins=None, centers=None, width=None, height=None)
    >>> pool_tiles(torch.ones(3, 5, 6, 6), grid).shape
    torch.Size([3, 4, 10])
    """
    m = _feature_size(grid.size, int(np.log2(grid.cell)))
    sc = grid.step // grid.cell
    # (N, C, ny, nx, m, m) views of every tile's cells, without copying.
    cells = fmap.unfold(2, m, sc).unfold(3, m, sc)
    n, c = fmap.shape[:2]
    mean = cells.mean(dim=(-2, -1)).reshape(n, c, -1)
    peak = cells.amax(dim=(-2, -1)).reshape(n, c, -1)
    keep = torch.as_tensor(grid.keep, device=fmap.device)
    return torch.cat([mean[:, :, keep], peak[:, :, keep]], dim=1).permute(0, 2, 1)


def crop_tiles(frames: torch.Tensor, grid: TileGrid) -> torch.Tensor:
    """
    Crop the kept tiles out of padded frames ``(N, 1, H, W)`` into ``(N * n_tiles, 1, size, size)``.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from sunpy_jets.scanning import TileGrid, crop_tiles
    >>> grid = TileGrid(size=32, step=16, cell=8, shape=(1, 2), padded_shape=(32, 48), keep=np.arange(2),
    ...                 origins=np.array([[0, 0], [0, 16]]), centers=None, width=None, height=None)
    >>> crop_tiles(torch.zeros(3, 1, 32, 48), grid).shape
    torch.Size([6, 1, 32, 32])
    """
    s = grid.size
    tiles = [frames[:, :, r : r + s, c : c + s] for r, c in grid.origins]
    return torch.stack(tiles, dim=1).reshape(-1, 1, s, s)
