"""
Jets as they happen: follow a folder where AIA files arrive and write each jet event once it has ended.

`Watcher` (and ``sunpy-jets watch DIR``) scans the files incrementally with the one scanning engine
(each frame read and encoded once), writes every ended event as VOEvent XML, HEK JSON and a PNG into
``OUTPUT/events/<id>/`` (atomically), optionally runs a hook per event, reports gaps in the data
(``coverage.json``) and its progress (``status.json``), quarantines unreadable files, and persists its
state after every step (`WatchState`), so that a restart, even after ``SIGKILL``, goes on without
scanning a frame again, writing an event twice or losing one.

An event is written once no later window can change it: the events equal, one for one, those of a
batch `~sunpy_jets.scanning.detect` (without localisation) over the same files. `fetch_nrt` fills the
folder from JSOC's near-real-time series for users with network.

See :ref:`watch` for a guide and a systemd/cron recipe.
"""

from ._products import read_emitted
from .nrt import NRT_SERIES, fetch_nrt, nrt_manifest
from .state import STATE_VERSION, WatchState
from .watcher import Watcher

__all__ = ["Watcher", "WatchState", "read_emitted", "fetch_nrt", "nrt_manifest", "NRT_SERIES", "STATE_VERSION"]
