"""
Scanning: the inference engine that turns frames into window probabilities.

Each frame is encoded once and its features are shared by every window that holds it
(`~sunpy_jets.scanning.engine`); fields larger than the model's are tiled on the encoder's feature
grid (`~sunpy_jets.scanning.tiling`); many files are scanned in parallel with Dask
(`~sunpy_jets.scanning.dask`, which needs the optional ``dask`` dependency only when called).
"""

from .dask import DEFAULT_CHUNK_SIZE, DistributedScanResult, scan_files
from .engine import METHODS, detect, events_from_scan, provenance, scan
from .table import ScanTable
from .tiling import DEFAULT_MAX_RADIUS, POOL_TOLERANCE, TileGrid, crop_tiles, make_tile_grid, pool_tiles

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
