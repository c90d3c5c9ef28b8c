"""
The watcher's side of the scanning engine: one `~sunpy_jets.scanning._engine.Scanner` fed frame by frame,
its windows turned into events with the batch rules, and its state saved and restored.
"""

import hashlib
import json
import warnings

import numpy as np
from safetensors.torch import save as save_safetensors

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.table import QTable
from astropy.time import Time

import sunpy.map
from sunpy import log
from sunpy.util import MetaDict

from ..events.detection import events_from_windows
from ..exceptions import InputError
from ..inputs._checks import SequenceChecker
from ..inputs._files import read_fits
from ..scanning._engine import Scanner, check_options, in_background
from ..scanning.engine import events_from_scan
from ..scanning.tiling import DEFAULT_MAX_RADIUS
from ._closing import event_id, split_final

__all__ = ["Stream"]


def _model_digest(clf):
    state = {k: v.detach().to("cpu").contiguous() for k, v in clf.model.state_dict().items()}
    digest = hashlib.sha256(save_safetensors(state))
    digest.update(json.dumps(clf.config.to_dict(), sort_keys=True, default=str).encode())
    return digest.hexdigest()[:16]


def _read(path):
    try:
        return read_fits(path)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is quarantined with its reason
        return exc


class Stream:
    """One scan fed one map at a time, with the options of `~sunpy_jets.scanning.detect`."""

    def __init__(self, clf, *, threshold=None, low_threshold=None, min_windows=1, merge_gap=0 * u.s, stride=1,
                 center=None, width=None, tiles=None, overlap=0.5, method="pool", max_radius=DEFAULT_MAX_RADIUS):  # fmt: skip
        stride = check_options(stride, method, overlap, tiles, max_radius)
        if center is not None and not isinstance(center, SkyCoord):
            raise InputError(f"center must be a SkyCoord, not {type(center).__name__}")
        self.clf = clf
        self.event_options = {
            "threshold": clf.threshold if threshold is None else threshold, "low_threshold": low_threshold,
            "min_windows": min_windows, "merge_gap": merge_gap,
        }  # fmt: skip
        empty = QTable({"start_time": Time([], format="mjd"), "end_time": Time([], format="mjd"), "probability": []})
        checked = events_from_windows(empty, **self.event_options).meta
        self.event_options["low_threshold"] = checked["low_threshold"]
        self.scan_options = {"stride": stride, "center": center, "width": width, "tiles": tiles, "overlap": overlap,
                             "method": method, "max_radius": max_radius}  # fmt: skip
        config = clf.config
        self.checker = SequenceChecker(
            need_exposure=config.exposure_normalize, instrument=config.instrument, wavelength=config.wavelength
        )
        self.merge_gap_s = float(checked["merge_gap"].to_value(u.s))
        self.margin_s = self.merge_gap_s + (int(min_windows) * stride + 1) * float(config.cadence_s)
        self.window_s = config.n_frames * float(config.cadence_s)
        self.scanner = None
        self.first = None
        self.digest = _model_digest(clf)
        self.last_name = None
        self.last_mtime = None

    # --- options and state ---------------------------------------------------------------------------------
    def options_record(self):
        center, width = self.scan_options["center"], self.scan_options["width"]
        return {
            "model": self.digest,
            "center": None if center is None else [float(center.Tx.to_value(u.arcsec)),
                                                   float(center.Ty.to_value(u.arcsec))],
            "width": None if width is None else np.atleast_1d(width.to_value(u.arcsec)).tolist(),
            **{key: self.scan_options[key] for key in ("stride", "tiles", "overlap", "method", "max_radius")},
            "threshold": float(self.event_options["threshold"]),
            "low_threshold": float(self.event_options["low_threshold"]),
            "min_windows": int(self.event_options["min_windows"]), "merge_gap_s": self.merge_gap_s,
        }  # fmt: skip

    def check_options(self, saved, where):
        mine = json.loads(json.dumps(self.options_record()))
        if saved is not None and saved != mine:
            changed = sorted(key for key in set(saved) | set(mine) if saved.get(key) != mine.get(key))
            raise InputError(
                f"the watch state in {where} was written with other settings ({', '.join(changed)}"
                f"{': another model' if 'model' in changed else ''}); give the same settings to resume, or another "
                "output/state folder to start afresh"
            )

    def _start(self, m):
        self.scanner = Scanner(self.clf, m, **self.scan_options)
        # The watcher reports gaps itself (coverage file, log); global warning filters are not thread-safe.
        self.scanner.report = lambda message, *args, **kwargs: log.debug(f"watch: {message}")
        meta = json.loads(json.dumps(dict(m.meta), default=str))
        self.first = {"meta": meta, "shape": list(m.data.shape)}

    def restore(self, data, arrays, frontier, count):
        """Rebuild the scan from a saved state (the first frame's header stands in for the first frame)."""
        if not data or not data.get("first"):
            return
        first = data["first"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = sunpy.map.Map((np.zeros(first["shape"], dtype=np.float32), MetaDict(first["meta"])))
        self._start(m)
        self.checker.first = m
        self.checker.last_time = frontier
        self.checker.count = count
        self.scanner.load_state_dict(data["scanner"], arrays)

    def state(self):
        if self.scanner is None:
            return {"first": None}, {}
        scalars, arrays = self.scanner.state_dict()
        return {"first": self.first, "scanner": scalars}, arrays

    @property
    def n_windows_kept(self):
        return 0 if self.scanner is None else int(self.scanner.n_windows)

    # --- frames ----------------------------------------------------------------------------------------------
    def read_files(self, paths):
        """Yield ``(name, checked map or the exception that makes it unusable)``, decoding in a reader thread."""
        for path, result in zip(paths, in_background(paths, _read)):
            if not isinstance(result, Exception):
                try:
                    result = self.checker(result)
                except InputError as exc:
                    result = exc
            self.last_name = path.name
            try:
                self.last_mtime = path.stat().st_mtime
            except OSError:
                self.last_mtime = None
            yield path.name, result

    def push(self, m):
        """Scan one checked map; return ``(before, after)`` times of a gap longer than a window before it, or None."""
        if self.scanner is None:
            self._start(m)
        scanner = self.scanner
        t, frame = scanner.read(m)
        prev = scanner.resampler.prev
        gap = None
        if prev is not None and t - prev[0] > scanner.resampler.max_gap:
            gap = (scanner.t_ref + prev[0] * u.s, m.date)
        scanner.push(t, frame)
        return gap

    # --- events ----------------------------------------------------------------------------------------------
    def final_events(self, *, finish, known):
        """
        The events that can no longer change: ``[(id, one-row JetEvents, windows around it, file at its peak)]``.

        Their windows, and every window no open event needs, are dropped from the scan.
        """
        scanner = self.scanner
        if scanner is None:
            return []
        scanner.flush()
        if not scanner.n_windows:
            return []
        stride = self.scan_options["stride"]
        table = scanner.table(stride=stride)
        events = events_from_scan(self.clf, table, **self.event_options)
        t_last = float(np.concatenate(scanner.rows["start"]).max())
        if finish:
            final, cut = list(range(len(events))), np.inf
        else:
            final, cut = split_final(events, t_last, scanner.t_ref, margin_s=self.margin_s,
                                     merge_gap_s=self.merge_gap_s)  # fmt: skip
        out = []
        names = list(known)
        jds = np.array([sum(known[name]) for name in names]) if names else np.zeros(0)
        for index in final:
            event = events[index : index + 1]
            row = event[0]
            near = (table["start_time"] >= row["event_starttime"] - self.window_s * u.s) & (
                table["start_time"] <= row["event_endtime"] + self.window_s * u.s
            )
            peak = row["event_peaktime"].jd1 + row["event_peaktime"].jd2
            peak_name = names[int(np.argmin(np.abs(jds - peak)))] if names else None
            out.append((event_id(row), event, table[near], peak_name))
        scanner.drop_windows(cut)
        return out

    @staticmethod
    def frame_for_figure(path):
        """The map of ``path`` for an event's figure, or None when it is gone or unreadable."""
        result = _read(path) if path.exists() else None
        return None if isinstance(result, Exception) else result
