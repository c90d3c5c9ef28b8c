"""
Coverage: the spans of time the watcher has scanned, and the gaps between them.

So that "no jet" is never confused with "no data", every gap between two frames longer than a
window (where the scan starts a new run of windows) is kept, logged, and written to
``coverage.json`` beside the events.
"""

import json

from astropy.time import Time

from .._atomic import atomic_write_text

__all__ = ["Coverage"]


def _iso(time):
    return Time(time, format="jd", scale="utc").isot if not isinstance(time, Time) else time.utc.isot


class Coverage:
    """
    Runs of scanned frames and the gaps between them, as plain JSON-ready data.

    ``runs`` are ``{"start", "end", "frames"}`` (ISO times of the first and last frame), ``gaps`` are
    ``{"start", "end", "minutes"}`` (the frames on either side of the gap).

    Examples
    --------
    >>> from astropy.time import Time
    >>> from sunpy_jets.watch._coverage import Coverage
    >>> c = Coverage()
    >>> c.add_frame(Time("2012-07-19T07:00:00"))
    >>> c.add_frame(Time("2012-07-19T07:00:24"))
    >>> gap = c.add_gap(Time("2012-07-19T07:00:24"), Time("2012-07-19T07:30:00"))
    >>> c.add_frame(Time("2012-07-19T07:30:00"))
    >>> [run["frames"] for run in c.runs], c.gaps[0]["minutes"]
    ([2, 1], 29.6)
    """

    def __init__(self, data=None):
        data = data or {}
        self.runs = list(data.get("runs", []))
        self.gaps = list(data.get("gaps", []))

    def to_dict(self):
        return {"runs": self.runs, "gaps": self.gaps}

    def add_frame(self, time):
        """Count a scanned frame at ``time`` in the current run (starting one if there is none)."""
        iso = _iso(time)
        if not self.runs or self.runs[-1].get("closed"):
            self.runs.append({"start": iso, "end": iso, "frames": 0})
        self.runs[-1]["end"] = iso
        self.runs[-1]["frames"] += 1

    def add_gap(self, before, after):
        """Record a gap between the frames at ``before`` and ``after``; the next frame starts a new run."""
        if self.runs:
            self.runs[-1]["closed"] = True
        minutes = round(float((after - before).to_value("min")), 2)
        gap = {"start": _iso(before), "end": _iso(after), "minutes": minutes}
        self.gaps.append(gap)
        return gap

    def write(self, path):
        """Write ``{"runs": [...], "gaps": [...]}`` to ``path`` atomically."""
        runs = [{key: value for key, value in run.items() if key != "closed"} for run in self.runs]
        return atomic_write_text(path, json.dumps({"runs": runs, "gaps": self.gaps}, indent=1))
