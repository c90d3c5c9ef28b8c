"""
sunpy_jets: find coronal jets in SDO/AIA image sequences.

The main entry point is `~sunpy_jets.JetClassifier`, which works directly on
`sunpy.map.MapSequence`, `ndcube.NDCube` and `ndcube.NDCubeSequence` objects.
"""

from . import _moved
from .classifier import JetClassifier
from .exceptions import InputError, InputTypeError, InputWarning, SunpyJetsError, SunpyJetsWarning
from .model.config import JetModelConfig
from .version import version as __version__

_moved.install()

__all__ = [
    "JetClassifier",
    "JetModelConfig",
    "SunpyJetsError",
    "SunpyJetsWarning",
    "InputError",
    "InputTypeError",
    "InputWarning",
    "__version__",
]
