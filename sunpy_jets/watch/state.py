"""
The watcher's persisted state: what it has read, where its scan stands, and what it still owes.

A state is one JSON file (``state.json``: positions, file names, counters, options) and one
safetensors file of arrays (the scan's feature buffer, thumbnails and open windows), named after the
generation that wrote it. Saving writes the arrays under a new name, then replaces ``state.json``
atomically, then removes the older arrays: a reader (a restarted watcher) always finds a complete
pair, whenever the writer was killed. No pickle is involved.
"""

import json
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

from .._atomic import atomic_path, atomic_write_text
from ..exceptions import InputError

__all__ = ["WatchState", "STATE_VERSION"]

#: Format version of ``state.json``; a state of another version is refused with what to do.
STATE_VERSION = 1

_JSON = "state.json"


class WatchState:
    """
    A watcher's state: ``data`` (JSON-serialisable) and ``arrays`` (numpy arrays), saved atomically together.

    Parameters
    ----------
    directory : str or `~pathlib.Path`
        Folder of the state (created on the first `save`).

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from sunpy_jets.watch import WatchState
    >>> state = WatchState(tempfile.mkdtemp())
    >>> state.exists
    False
    >>> state.data["frames_scanned"] = 3
    >>> state.arrays["features"] = np.ones((2, 4), dtype=np.float32)
    >>> state.save()
    >>> again = WatchState(state.directory).load()
    >>> again.data["frames_scanned"], again.arrays["features"].shape, again.generation
    (3, (2, 4), 1)
    """

    def __init__(self, directory):
        self.directory = Path(directory)
        self.data = {}
        self.arrays = {}
        self.generation = 0

    @property
    def path(self) -> Path:
        """The JSON file of the state."""
        return self.directory / _JSON

    @property
    def exists(self) -> bool:
        """Whether a saved state is there to resume from."""
        return self.path.is_file()

    def load(self) -> "WatchState":
        """
        Read the saved state (JSON and arrays) and return ``self``.

        Raises
        ------
        `~sunpy_jets.exceptions.InputError`
            If the state is unreadable, of another format version, or its arrays are missing.
        """
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(
                f"the watch state {self.path} cannot be read ({exc}); remove the folder {self.directory} to start "
                "afresh (the files already scanned will be scanned again)"
            ) from exc
        if document.get("version") != STATE_VERSION:
            raise InputError(
                f"the watch state {self.path} has format version {document.get('version')!r}, this sunpy_jets "
                f"writes {STATE_VERSION}; remove {self.directory} to start afresh"
            )
        self.generation = int(document["generation"])
        self.data = document["data"]
        arrays_file = document.get("arrays")
        self.arrays = {}
        if arrays_file:
            try:
                self.arrays = load_file(self.directory / arrays_file)
            except (OSError, ValueError) as exc:
                raise InputError(
                    f"the arrays of the watch state ({self.directory / arrays_file}) cannot be read ({exc}); "
                    f"remove {self.directory} to start afresh"
                ) from exc
        return self

    def save(self):
        """Write the state atomically: new arrays first, then the JSON that names them, then drop the old arrays."""
        self.directory.mkdir(parents=True, exist_ok=True)
        generation = self.generation + 1
        arrays_file = None
        if self.arrays:
            arrays_file = f"arrays-{generation:09d}.safetensors"
            arrays = {name: np.ascontiguousarray(value) for name, value in self.arrays.items()}
            with atomic_path(self.directory / arrays_file) as tmp:
                save_file(arrays, str(tmp))
        document = {"version": STATE_VERSION, "generation": generation, "arrays": arrays_file, "data": self.data}
        atomic_write_text(self.path, json.dumps(document, indent=1, sort_keys=True))
        self.generation = generation
        for old in self.directory.glob("arrays-*.safetensors"):
            if old.name != arrays_file:
                old.unlink(missing_ok=True)
        # Temporary files of a writer killed half-way.
        for stale in self.directory.glob(".*.tmp"):
            stale.unlink(missing_ok=True)
