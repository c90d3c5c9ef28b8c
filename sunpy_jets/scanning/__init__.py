"""
Scanning: the inference engine that turns frames into window probabilities.

Each frame is encoded once and its features are shared by every window that holds it
(`~sunpy_jets.scanning.engine`); fields larger than the model's are tiled on the encoder's feature
grid (`~sunpy_jets.scanning.tiling`); many files are scanned in parallel with Dask
(`~sunpy_jets.scanning.dask`, which needs the optional ``dask`` dependency only when called).
"""

from .. import _lazy
from .engine import METHODS, detect, events_from_scan, provenance, scan
from .table import ScanTable
from .tiling import DEFAULT_MAX_RADIUS, POOL_TOLERANCE, TileGrid, crop_tiles, make_tile_grid, pool_tiles

# The Dask path builds classifiers, and sunpy_jets.classifier imports this package: loaded on first use.
_LAZY = {"scan_files": "dask", "DistributedScanResult": "dask", "DEFAULT_CHUNK_SIZE": "dask"}

__all__ = [
    "scan",
    "detect",
    "events_from_scan",
    "provenance",
    "METHODS",
    "ScanTable",
    "scan_files",
    "DistributedScanResult",
    "DEFAULT_CHUNK_SIZE",
    "TileGrid",
    "make_tile_grid",
    "pool_tiles",
    "crop_tiles",
    "POOL_TOLERANCE",
    "DEFAULT_MAX_RADIUS",
]

__getattr__, __dir__ = _lazy.lazy_attributes(__name__, _LAZY)
