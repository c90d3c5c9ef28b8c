"""
Import paths of modules that moved into the pipeline's subpackages in 0.3.

``import sunpy_jets.hek`` and ``from sunpy_jets.preprocessing import prepare_sequence`` keep working:
a meta-path finder answers each old path with the module that now holds the code (the same module
object, so attributes set on one are seen through the other) and warns once per path.
"""

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

from .exceptions import SunpyJetsDeprecationWarning

__all__ = []

#: Old module path → the module that holds its code now.
MOVED_MODULES = {
    "sunpy_jets.atomic": "sunpy_jets._atomic",
    "sunpy_jets.demo": "sunpy_jets.cli._demo",
    "sunpy_jets.distributed": "sunpy_jets.scanning.dask",
    "sunpy_jets.hek": "sunpy_jets.events.hek",
    "sunpy_jets.merging": "sunpy_jets.events.detection",
    "sunpy_jets.preprocessing": "sunpy_jets.inputs.preprocessing",
    "sunpy_jets.pretrained": "sunpy_jets.model.pretrained",
    "sunpy_jets.tiling": "sunpy_jets.scanning.tiling",
    "sunpy_jets.voevent": "sunpy_jets.events.voevent",
    "sunpy_jets.weights": "sunpy_jets.model.weights",
}


class _MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED_MODULES:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        new = MOVED_MODULES[spec.name]
        # stacklevel points past importlib's frames at the user's import statement
        warnings.warn(
            f"{spec.name} moved to {new}; import it from there",
            SunpyJetsDeprecationWarning,
            stacklevel=8,
        )
        # The module itself, not a copy: importlib keeps its own __name__ and __spec__ (they are set).
        return importlib.import_module(new)

    def exec_module(self, module):
        pass


def install():
    """Answer the old import paths (idempotent; called by ``sunpy_jets/__init__.py``)."""
    if not any(isinstance(finder, _MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.append(_MovedModuleFinder())
