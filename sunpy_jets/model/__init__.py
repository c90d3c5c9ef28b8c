"""
The model: its configuration, the network, weights with their model cards, and pretrained sources.

`~sunpy_jets.model.config` imports no torch; the network and weights do. This subpackage imports
nothing else of the package but its exceptions and atomic writes.
"""

from .config import JetModelConfig
from .device import resolve_device
from .network import FrameEncoder, JetRCNN, build_network
from .pretrained import ARCHIVE_SUFFIXES, DEFAULT_WEIGHTS, cache_directory, default_weights, fetch_weights
from .weights import CARD_NAME, ModelCard, check_state_dict, load_weights, save_weights, sha256sum

__all__ = [
    "JetModelConfig",
    "resolve_device",
    "FrameEncoder",
    "JetRCNN",
    "build_network",
    "ModelCard",
    "save_weights",
    "load_weights",
    "check_state_dict",
    "sha256sum",
    "CARD_NAME",
    "DEFAULT_WEIGHTS",
    "ARCHIVE_SUFFIXES",
    "cache_directory",
    "default_weights",
    "fetch_weights",
]
