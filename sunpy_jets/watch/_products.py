"""
What the watcher writes for each ended event, and the user's hook.

Each event gets a folder ``events/<event id>/`` holding its VOEvent XML (`JetEvents.to_voevent`), its
HEK JSON (``event.json``, `JetEvents.write`), a PNG figure (``event.png``: the probability around the
event and its box on the frame nearest its peak) and ``watch.json`` (which file closed it, and when).
The folder is built under a hidden name and renamed into place in one step, so a reader (or the hook)
sees a complete folder or none, and an event written before a crash is recognised, not written again.
"""

import json
import os
import shlex
import shutil
import subprocess
import time
from pathlib import Path

from astropy.coordinates import SkyCoord
from astropy.table import QTable, vstack

from sunpy.coordinates import Helioprojective

from .._atomic import atomic_path, atomic_write_text
from ..events import JetEvents
from ..exceptions import InputTypeError

__all__ = ["write_event", "read_emitted", "run_hook", "check_hook", "EVENTS_FOLDER"]

#: Sub-folder of the output that holds one folder per event.
EVENTS_FOLDER = "events"


def _figure(event, windows, frame_map):
    from matplotlib.figure import Figure

    from ..visualization import plot_events_on_map, plot_probability  # matplotlib only when figures are drawn

    figure = Figure(figsize=(11, 4.5), layout="constrained")
    plot_probability(windows, events=event, axes=figure.add_subplot(1, 2, 1))
    if frame_map is not None:
        ax = figure.add_subplot(1, 2, 2, projection=frame_map)
        frame_map.plot(axes=ax)
        plot_events_on_map(frame_map, event, axes=ax)
        ax.set_title(f"{frame_map.date.isot[:19]}")
    return figure


def write_event(output, name, event, *, windows=None, frame_map=None, provenance=None, hek_options=None):
    """
    Write the products of one event into ``output/events/<name>/`` atomically; return the folder.

    Returns `None` (and writes nothing) when the folder already exists: the event was written before.
    """
    root = Path(output) / EVENTS_FOLDER
    final = root / name
    if final.exists():
        return None
    partial = root / f".{name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    event.to_voevent(partial, **(hek_options or {}))
    event.write(partial / "event.json")
    if windows is not None:
        figure = _figure(event, windows, frame_map)
        with atomic_path(partial / "event.png") as tmp:
            figure.savefig(tmp, format="png", dpi=90)
    atomic_write_text(partial / "watch.json", json.dumps({"id": name, **(provenance or {})}, indent=1))
    os.replace(partial, final)
    return final


def read_emitted(output) -> JetEvents:
    """
    Every event a watcher has written into ``output``, sorted by start time.

    Parameters
    ----------
    output : str or `~pathlib.Path`
        The watcher's output folder.

    Returns
    -------
    `~sunpy_jets.events.JetEvents`
        With an ``event_id`` column (the event's folder name).

    Examples
    --------
    >>> import tempfile
    >>> from sunpy_jets.watch import read_emitted
    >>> len(read_emitted(tempfile.mkdtemp()))
    0
    """
    folders = sorted(p for p in (Path(output) / EVENTS_FOLDER).glob("*/event.json") if not p.parent.name.startswith("."))
    if not folders:
        return JetEvents()
    parts = []
    for path in folders:
        table = QTable(JetEvents.read(path).table)
        table["event_id"] = [path.parent.name] * len(table)
        # Each event's coordinate frame has its own time; JetEvents gives them back after stacking.
        coord = table["event_coord"]
        table["event_coord"] = SkyCoord(coord.Tx, coord.Ty, frame=Helioprojective)
        parts.append(table)
    table = vstack(parts, metadata_conflicts="silent")
    table.sort("event_starttime")
    return JetEvents(table, meta=parts[0].meta)


def check_hook(hook):
    """A hook must be `None`, a callable or a command (a string or a list of arguments)."""
    if hook is None or callable(hook) or isinstance(hook, (str, list, tuple)):
        return hook
    raise InputTypeError(
        f"hook must be a command (a string such as 'notify.sh') or a Python callable (event, folder), "
        f"not {type(hook).__name__}"
    )


def run_hook(hook, event, folder, *, timeout=60.0):
    """
    Run the hook on one written event; return an error message, or `None` when it succeeded.

    A callable gets ``(event, folder)`` (a one-row `JetEvents` and the event's folder); a command gets the
    folder as its last argument and the environment variables ``SUNPY_JETS_EVENT_ID`` and
    ``SUNPY_JETS_EVENT_DIR``.
    """
    started = time.monotonic()
    try:
        if callable(hook):
            hook(event, Path(folder))
            return None
        command = shlex.split(hook) if isinstance(hook, str) else [str(part) for part in hook]
        env = {**os.environ, "SUNPY_JETS_EVENT_ID": Path(folder).name, "SUNPY_JETS_EVENT_DIR": str(folder)}
        done = subprocess.run([*command, str(folder)], env=env, timeout=timeout, capture_output=True, text=True,
                              check=False)
        if done.returncode:
            return f"exited with status {done.returncode}: {done.stderr.strip()[-500:]}"
        return None
    except subprocess.TimeoutExpired:
        return f"did not finish within {timeout:.0f} s"
    except Exception as exc:  # noqa: BLE001 - a failing hook is reported, and never stops the watcher
        return f"failed after {time.monotonic() - started:.1f} s: {type(exc).__name__}: {exc}"
