"""
sunpy_jets: find coronal jets in SDO/AIA image sequences.

The main entry point is `~sunpy_jets.JetClassifier`, which works directly on
`sunpy.map.MapSequence`, `ndcube.NDCube` and `ndcube.NDCubeSequence` objects.

The package follows its pipeline: `sunpy_jets.inputs` (files and maps → prepared frames),
`sunpy_jets.model` (the network and its weights), `sunpy_jets.scanning` (frames → window
probabilities), `sunpy_jets.events` (windows → jet events → HEK records). ``JetClassifier`` is imported
on first use, so that ``import sunpy_jets.events`` or ``sunpy_jets.datasets`` needs no PyTorch.
"""

from . import _lazy, _moved
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


# The classifier needs torch: imported when first asked for.
_LAZY = {"JetClassifier": "classifier"}
__getattr__, __dir__ = _lazy.lazy_attributes(__name__, _LAZY)
