"""
`Watcher`: jets as they happen, from a folder where AIA files arrive.

Each poll lists the folder, reads the headers of new files, and holds them until the files around them
have had time to arrive (``lateness`` of observation time, or ``max_wait`` of waiting); then it reads
them in time order, pushes them through the one scanning engine (`~sunpy_jets.scanning`: each frame is
read and encoded once, windows are classified as they complete), writes every event that can no longer
change (see `sunpy_jets.watch`), saves its state, and runs the hook.
"""

import fcntl
import json
import os
import signal
import threading
import time
from pathlib import Path

import astropy.units as u
from astropy.time import Time

from sunpy import log

from .._atomic import atomic_write_text
from .._validation import as_quantity
from ..classifier import JetClassifier
from ..events import JetEvents
from ..exceptions import InputError, InputTypeError
from ._coverage import Coverage
from ._files import QUARANTINE_FOLDER, header_time, list_candidates, quarantine
from ._products import check_hook, run_hook, write_event
from ._stream import Stream
from .state import WatchState

__all__ = ["Watcher"]

# Files read and scanned per step at most, so that a backlog is worked through in saved steps.
_STEP_FILES = 64


def _jd(time):
    return [float(time.jd1), float(time.jd2)]


def _time(pair):
    return Time(pair[0], pair[1], format="jd", scale="utc")


def _rss_mib():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Watcher:
    """
    Follow a folder of arriving AIA files and write each jet event once it has ended.

    Parameters
    ----------
    directory : str or `~pathlib.Path`
        The folder the files arrive in (from any downloader), in any order.
    output : str or `~pathlib.Path`
        Where the events (``events/<id>/``: VOEvent XML, HEK JSON, PNG), ``status.json``,
        ``coverage.json``, the quarantine and (by default) the state go.
    classifier : `~sunpy_jets.JetClassifier`, optional
        The classifier (default: the bundled weights).
    state : str or `~pathlib.Path`, optional
        Folder of the persisted state (default ``output/state``). A watcher started on an existing state
        resumes where it stopped.
    lateness : `~astropy.units.Quantity`
        How far (in observation time) behind the newest file a file may arrive and still be scanned: a
        file is scanned once a file this much newer has arrived, or it has waited ``max_wait``. A file
        older than what was already scanned is quarantined as late.
    max_wait : `~astropy.units.Quantity`
        The longest a file waits for later files (wall-clock time).
    settle : `~astropy.units.Quantity`
        A file is looked at once it has not changed for this long (a downloader may still be writing it).
    retention : `~astropy.units.Quantity`
        How long (observation time) the names of scanned files are remembered, to tell late files from
        old ones after a restart.
    hook : str, list or callable, optional
        Run for each written event: a command (given the event's folder as last argument, and the
        ``SUNPY_JETS_EVENT_ID``/``SUNPY_JETS_EVENT_DIR`` environment variables) or a callable
        ``hook(event, folder)``. A hook runs at least once per event (again if the watcher was killed
        while it ran): make it idempotent.
    hook_timeout : `~astropy.units.Quantity`
        Time a command hook may take.
    figures : bool
        Write a PNG per event.
    move_quarantined : bool
        Move unusable files out of ``directory`` into ``output/quarantine`` (otherwise only their reason
        is written there).
    hek_options : dict, optional
        Passed to `~sunpy_jets.events.JetEvents.to_voevent` (``frm_institute``, ``frm_contact``, ``test``).
    **options
        Detection options, as for `~sunpy_jets.scanning.detect`: ``threshold``, ``low_threshold``,
        ``min_windows``, ``merge_gap``, ``stride``, ``center``, ``width``, ``tiles``, ``overlap``,
        ``method``, ``max_radius``. They are saved with the state; resuming with others is refused.

    Examples
    --------
    >>> import tempfile
    >>> from sunpy_jets import JetClassifier
    >>> from sunpy_jets.model import JetModelConfig
    >>> from sunpy_jets.watch import Watcher
    >>> clf = JetClassifier(JetModelConfig(image_size=32, channels=(4, 8), hidden_size=8, n_frames=8),
    ...                     device="cpu", seed=0, progress=False)
    >>> watcher = Watcher(tempfile.mkdtemp(), tempfile.mkdtemp(), clf, threshold=0.9)
    >>> watcher.poll_once()
    0
    >>> watcher.status()["frames_scanned"]
    0
    >>> watcher.close()
    """

    def __init__(self, directory, output, classifier=None, *, state=None, lateness=60 * u.s, max_wait=120 * u.s,
                 settle=1 * u.s, retention=6 * u.hour, hook=None, hook_timeout=60 * u.s, figures=True,
                 move_quarantined=True, hek_options=None, **options):  # fmt: skip
        self.directory = Path(directory).expanduser()
        if not self.directory.is_dir():
            raise InputError(f"{self.directory} is not a folder: give the folder the AIA files arrive in")
        self.output = Path(output).expanduser()
        if self.output.exists() and not self.output.is_dir():
            raise InputError(f"the output {self.output} exists and is not a folder")
        if classifier is None:
            classifier = JetClassifier.from_pretrained(progress=False)
        if not isinstance(classifier, JetClassifier):
            raise InputTypeError(f"classifier must be a JetClassifier, not {type(classifier).__name__}")
        self.lateness_s = as_quantity(lateness, u.s, "lateness", allow_zero=True)
        self.max_wait_s = as_quantity(max_wait, u.s, "max_wait", allow_zero=True)
        self.settle_s = as_quantity(settle, u.s, "settle", allow_zero=True)
        self.retention_s = as_quantity(retention, u.s, "retention")
        self.hook_timeout_s = as_quantity(hook_timeout, u.s, "hook_timeout")
        self.hook = check_hook(hook)
        self.figures = bool(figures)
        self.move_quarantined = bool(move_quarantined)
        self.hek_options = dict(hek_options or {})
        self.output.mkdir(parents=True, exist_ok=True)
        self.state = WatchState(Path(state).expanduser() if state is not None else self.output / "state")
        self._lock = self._acquire_lock()
        self._stop = threading.Event()
        self.stream = Stream(classifier, **options)
        try:
            self._load()
        except BaseException:
            self.close()
            raise

    # --- state ------------------------------------------------------------------------------------------------
    def _acquire_lock(self):
        self.state.directory.mkdir(parents=True, exist_ok=True)
        handle = open(self.state.directory / "lock", "a+")  # noqa: SIM115 - held until close()
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise InputError(
                f"another watcher is running with the state in {self.state.directory}; stop it first, or give "
                "this one another output or state folder"
            ) from None
        return handle

    def _load(self):
        data = {}
        if self.state.exists:
            self.state.load()
            data = self.state.data
            self.stream.check_options(data.get("options"), self.state.directory)
            log.info(f"watch: resuming from {self.state.path} ({data['counters']['frames_scanned']} frames scanned)")
        self.known = data.get("known", {})
        self.pending = data.get("pending", {})
        self.hooks_pending = data.get("hooks_pending", [])
        self.counters = data.get("counters", {"frames_seen": 0, "frames_scanned": 0, "files_quarantined": 0,
                                              "events_emitted": 0, "gaps": 0})  # fmt: skip
        self.frontier = _time(data["frontier"]) if data.get("frontier") else None
        self.newest = _time(data["newest"]) if data.get("newest") else None
        self.last_event = data.get("last_event")
        self.coverage = Coverage(data.get("coverage"))
        self.stream.restore(data.get("stream"), self.state.arrays, self.frontier, self.counters["frames_scanned"])
        # Files of the folder already dealt with in this process (pruned from `known`, or quarantined).
        self._ignored = set()

    def _save(self):
        stream_data, arrays = self.stream.state()
        self.state.data = {
            "options": self.stream.options_record(), "known": self.known, "pending": self.pending,
            "hooks_pending": self.hooks_pending, "counters": self.counters, "last_event": self.last_event,
            "frontier": _jd(self.frontier) if self.frontier is not None else None,
            "newest": _jd(self.newest) if self.newest is not None else None,
            "coverage": self.coverage.to_dict(), "stream": stream_data,
        }  # fmt: skip
        self.state.arrays = arrays
        self.state.save()

    # --- one poll -----------------------------------------------------------------------------------------------
    def poll_once(self, *, finish=False):
        """
        List the folder, scan what is ready, write the events that have ended; return the frames scanned.

        Parameters
        ----------
        finish : bool
            The observation is over: scan every file now, however recent, and write every event,
            including those that could still grow.
        """
        now = time.time()
        self._discover(now)
        ready = self._ready(now, finish=finish)
        scanned = 0
        while True:
            batch, ready = ready[:_STEP_FILES], ready[_STEP_FILES:]
            scanned += self._scan(batch)
            last = not ready
            written = self._close_events(finish=finish and last)
            if batch or written or finish or not self.state.exists:
                self._save()
            self._run_hooks()
            if last or self._stop.is_set():
                break
        self.write_status()
        return scanned

    def _discover(self, now):
        known = self.known.keys() | self.pending.keys() | self._ignored
        for name, _ in sorted(list_candidates(self.directory, known, settle_s=self.settle_s, now=now)):
            path = self.directory / name
            self.counters["frames_seen"] += 1
            try:
                t = header_time(path)
            except (InputError, OSError) as exc:
                self._quarantine(path, str(exc))
                continue
            if self.frontier is not None and (t - self.frontier).to_value(u.s) <= 0:
                if (self.frontier - t).to_value(u.s) > self.retention_s:
                    self._ignored.add(name)  # scanned before the names were pruned, or far too late
                    log.debug(f"watch: {name} is older than the retention; left alone")
                    continue
                self._quarantine(
                    path, f"observed at {t.isot}, at or before the last frame already scanned ({self.frontier.isot}): "
                    "it arrived too late (raise --lateness to wait longer for late files) or repeats a time",
                )  # fmt: skip
                continue
            key = _jd(t)
            same = next((other for other, value in self.pending.items() if value[:2] == key), None)
            if same is not None:
                self._quarantine(path, f"has the same observation time ({t.isot}) as {same}: a duplicate")
                continue
            self.pending[name] = [*key, now]
            if self.newest is None or t > self.newest:
                self.newest = t

    def _ready(self, now, *, finish):
        """Pending names to scan now, in time order."""
        # Times as days (float): fine enough to order frames seconds apart, and no Time object per file.
        entries = sorted((v[0] + v[1], name, v[2]) for name, v in self.pending.items())
        if not entries:
            return []
        if finish:
            return [name for _, name, _ in entries]
        newest = self.newest.jd1 + self.newest.jd2
        cutoff = None
        for day, _, seen in entries:
            if (newest - day) * 86400.0 >= self.lateness_s - 1e-3 or now - seen >= self.max_wait_s:
                cutoff = day
        return [] if cutoff is None else [name for day, name, _ in entries if day <= cutoff]

    def _scan(self, names):
        """Read, check and push the files ``names`` (in time order); return how many were scanned."""
        scanned = 0
        for name, result in self.stream.read_files([self.directory / name for name in names]):
            entry = self.pending.pop(name)
            if isinstance(result, Exception):
                self._quarantine(self.directory / name, str(result))
                continue
            t = result.date
            gap = self.stream.push(result)
            if gap is not None:
                record = self.coverage.add_gap(*gap)
                self.counters["gaps"] += 1
                log.warning(
                    f"watch: no data for {record['minutes']:.1f} min ({record['start']} to {record['end']}), longer "
                    "than a window: no jet can be found there (see coverage.json)"
                )
            self.coverage.add_frame(t)
            self.known[name] = entry[:2]
            self.frontier = t
            self.counters["frames_scanned"] += 1
            scanned += 1
        self._prune()
        return scanned

    def _prune(self):
        if self.frontier is None:
            return
        oldest = self.frontier.jd1 + self.frontier.jd2 - self.retention_s / 86400.0
        for name in [n for n, value in self.known.items() if value[0] + value[1] < oldest]:
            del self.known[name]
            self._ignored.add(name)

    def _close_events(self, *, finish):
        written = 0
        for name, event, windows, peak_name in self.stream.final_events(finish=finish, known=self.known):
            frame_map = self.stream.frame_for_figure(self.directory / peak_name) if (self.figures and peak_name) else None
            provenance = {
                "closed_by": self.stream.last_name, "closed_by_mtime": self.stream.last_mtime,
                "newest_file_time": self.newest.isot if self.newest is not None else None,
                "written": time.time(), "written_iso": Time.now().isot,
            }  # fmt: skip
            folder = write_event(self.output, name, event, windows=windows if self.figures else None,
                                 frame_map=frame_map, provenance=provenance, hek_options=self.hek_options)  # fmt: skip
            if folder is None:
                log.info(f"watch: event {name} was written before the restart; not written again")
                continue
            row = event[0]
            log.info(
                f"watch: jet event {name}: {row['event_starttime'].isot[:19]} to {row['event_endtime'].isot[:19]}, "
                f"p={float(row['event_probability']):.2f} -> {folder}"
            )
            self.counters["events_emitted"] += 1
            self.last_event = name
            if self.hook is not None:
                self.hooks_pending.append(name)
            written += 1
        return written

    def _run_hooks(self):
        if not self.hooks_pending:
            return
        while self.hooks_pending:
            name = self.hooks_pending[0]
            folder = self.output / "events" / name
            if folder.is_dir():
                event = JetEvents.read(folder / "event.json")
                error = run_hook(self.hook, event, folder, timeout=self.hook_timeout_s)
                if error:
                    log.warning(f"watch: the hook for {name} {error}")
            self.hooks_pending.pop(0)
            # Only the list of hooks changed: the state's arrays are those of the last save.
            self.state.data["hooks_pending"] = list(self.hooks_pending)
            self.state.save()

    def _quarantine(self, path, reason):
        note = quarantine(path, self.output, reason, move=self.move_quarantined)
        self.counters["files_quarantined"] += 1
        self._ignored.add(Path(path).name)
        log.warning(f"watch: {Path(path).name} quarantined: {reason} ({note})")

    # --- operations ---------------------------------------------------------------------------------------------
    def status(self) -> dict:
        """
        What the watcher has done: frames seen and scanned, lag behind the newest file, events written.

        ``lag_s`` is the observation time between the newest file seen and the last frame scanned.
        """
        lag = None
        if self.newest is not None and self.frontier is not None:
            lag = float((self.newest - self.frontier).to_value(u.s))
        return {
            "updated": Time.now().isot, "pid": os.getpid(), "directory": str(self.directory),
            "frames_seen": self.counters["frames_seen"], "frames_scanned": self.counters["frames_scanned"],
            "files_pending": len(self.pending), "files_quarantined": self._n_on_disk(QUARANTINE_FOLDER, "*.reason.txt"),
            "newest_file_time": self.newest.isot if self.newest is not None else None,
            "last_scanned_time": self.frontier.isot if self.frontier is not None else None,
            "lag_s": lag, "events_emitted": self._n_on_disk("events", "*"), "last_event": self.last_event,
            "gaps": self.counters["gaps"], "windows_kept": self.stream.n_windows_kept,
            "rss_mib": round(_rss_mib(), 1), "state_generation": self.state.generation,
            "state_bytes": sum(p.stat().st_size for p in self.state.directory.glob("*") if p.is_file()),
        }  # fmt: skip

    def _n_on_disk(self, folder, pattern):
        # Counted on disk: what was written just before a kill is there, though not in the saved counters.
        return sum(1 for p in (self.output / folder).glob(pattern) if not p.name.startswith("."))

    def write_status(self, **extra):
        """Write `status` (and ``extra``) to ``output/status.json`` and the coverage to ``coverage.json``."""
        atomic_write_text(self.output / "status.json", json.dumps({**self.status(), **extra}, indent=1))
        self.coverage.write(self.output / "coverage.json")

    def stop(self):
        """Ask `run` to stop after the current step (thread-safe; SIGINT and SIGTERM do the same)."""
        self._stop.set()

    def run(self, *, poll=5 * u.s, once=False, idle_exit=None, finish=False):
        """
        Poll the folder until stopped (SIGINT, SIGTERM or `stop`), then save and write the status.

        Parameters
        ----------
        poll : `~astropy.units.Quantity`
            Time between polls.
        once : bool
            Poll once and return (for cron).
        idle_exit : `~astropy.units.Quantity`, optional
            Return after this long without a new file.
        finish : bool
            When stopping, treat the observation as over: scan every waiting file and write every event.
        """
        poll_s = as_quantity(poll, u.s, "poll")
        idle_s = None if idle_exit is None else as_quantity(idle_exit, u.s, "idle_exit")
        main = threading.current_thread() is threading.main_thread()
        previous = {}
        if main:
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous[sig] = signal.signal(sig, lambda *_: self._stop.set())
        log.info(f"watch: following {self.directory}, writing to {self.output}")
        try:
            last_new = time.monotonic()
            seen = self.counters["frames_seen"]
            while not self._stop.is_set():
                self.poll_once()
                if self.counters["frames_seen"] != seen:
                    seen, last_new = self.counters["frames_seen"], time.monotonic()
                if once or (idle_s is not None and time.monotonic() - last_new >= idle_s):
                    break
                self._stop.wait(poll_s)
            if finish:
                self.poll_once(finish=True)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.write_status(stopped=True)
            log.info(f"watch: stopped ({self.status()['events_emitted']} event(s) written in all)")

    def close(self):
        """Release the state's lock (the state itself is saved after every step)."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
