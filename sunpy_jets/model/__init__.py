"""
The model: its configuration, the network, weights with their model cards, and pretrained sources.

`JetModelConfig` needs no torch and is imported with the package; the network, weights and
pretrained sources need torch and are imported on first use (PEP 562), so reading a configuration,
a catalogue or an event table works on a machine without PyTorch. This subpackage imports nothing
else of the package but its exceptions, argument checks, output-path checks and atomic writes.
"""

from .. import _lazy
from .config import JetModelConfig

# public name -> the module of this subpackage that defines it (all of them need torch)
_LAZY = {
    "resolve_device": "device",
    "check_precision": "device",
    "autocast": "device",
    "PRECISIONS": "device",
    "FrameEncoder": "network",
    "JetRCNN": "network",
    "build_network": "network",
    "ModelCard": "weights",
    "save_weights": "weights",
    "load_weights": "weights",
    "check_state_dict": "weights",
    "sha256sum": "weights",
    "card_digest": "weights",
    "CARD_NAME": "weights",
    "DEFAULT_WEIGHTS": "pretrained",
    "ARCHIVE_SUFFIXES": "pretrained",
    "cache_directory": "pretrained",
    "default_weights": "pretrained",
    "fetch_weights": "pretrained",
}

__all__ = ["JetModelConfig", *_LAZY]


__getattr__, __dir__ = _lazy.lazy_attributes(__name__, _LAZY)
