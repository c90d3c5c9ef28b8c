"""
Synthetic SDO/AIA 304 Å sequences with and without coronal jets: the project's ground truth.

The generator is seeded and deterministic, works in physical units, and returns real
`~sunpy.map.MapSequence` objects of `~sunpy.map.sources.AIAMap` frames with AIA metadata, so that
its output goes through the same code paths as real data.

Examples
--------
>>> import astropy.units as u
>>> from sunpy_jets.synthetic import make_sequence
>>> seq = make_sequence(kind="jet", seed=0, n_frames=3, shape=(64, 64), scale=1.8 * u.arcsec / u.pix)
>>> seq.label, seq.maps[0].instrument, seq.maps[0].data.dtype.name
(True, 'AIA', 'float32')
"""

from .. import _lazy
from .io import aia_filename, write_fits
from .jets import RANGES, SJH_HEIGHT, JetEvent, JetParameters
from .negatives import NEGATIVES
from .observation import make_observation
from .realframes import HELIOVIEWER_304, BackgroundBank, read_frame
from .sequence import KINDS, SyntheticFrames, SyntheticSequence, make_sequence

__all__ = [
    "make_sequence",
    "make_observation",
    "write_fits",
    "aia_filename",
    "SyntheticSequence",
    "SyntheticFrames",
    "JetParameters",
    "JetEvent",
    "RANGES",
    "SJH_HEIGHT",
    "NEGATIVES",
    "KINDS",
    "BackgroundBank",
    "read_frame",
    "HELIOVIEWER_304",
    "SceneSampler",
    "SceneBatch",
    "JetDistribution",
    "RenderAugment",
]

# The batch scene sampler needs torch: imported on first use, so that importing this package does not.
_LAZY = {
    "SceneSampler": "realistic",
    "SceneBatch": "realistic",
    "JetDistribution": "realistic",
    "RenderAugment": "realistic",
}
__getattr__, __dir__ = _lazy.lazy_attributes(__name__, _LAZY)
