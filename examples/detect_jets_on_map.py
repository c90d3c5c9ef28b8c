"""
===========================================
Detecting jets and drawing them on a map
===========================================

`~sunpy_jets.JetClassifier.detect` scans an observation and merges the windows above the threshold
into jet events: a `~sunpy_jets.events.JetEvents` table with start, end and peak times, a probability,
a position and a bounding box, under the HEK's column names. Fields larger than the model's 300″ are
cut into overlapping tiles, all encoded in one pass of the CNN over each frame.
"""

import matplotlib.pyplot as plt
import numpy as np

import astropy.units as u

from sunpy_jets import JetClassifier
from sunpy_jets.scanning import events_from_scan
from sunpy_jets.synthetic import make_observation
from sunpy_jets.visualization import plot_events_on_map, plot_probability

###############################################################################
# A 30-minute synthetic observation of a 600″ × 600″ field (twice the model's field on a side) at the
# model's 1.8″ pixels, with three jets and two hard negatives.

clf = JetClassifier.from_pretrained(device="cpu", progress=False)
scale = clf.config.fov / (clf.config.image_size * u.pix)
observation = make_observation(
    duration=30 * u.min,
    n_jets=3,
    n_distractors=2,
    shape=(332, 332),
    scale=scale,
    seed=21,
    lazy=False,
)
maps = observation.maps
print(f"{len(maps)} frames of {maps[0].data.shape}; hard negatives: {observation.distractors}")

###############################################################################
# Detection is a scan followed by merging. The scan tiles the field (tiles overlap by half) and gives
# every window of every tile a probability; windows above the threshold, in time and in neighbouring
# tiles, are then merged into events. ``clf.detect(maps)`` does both; here we keep the scan to plot
# it. ``min_windows`` drops events seen in a single window only.

windows = clf.scan(maps)
print(f"{len(windows)} rows (windows × tiles); columns: {windows.colnames}")
events = events_from_scan(clf, windows, min_windows=2)
print(f"{len(events)} event(s)")
print(events.table["event_starttime", "event_endtime", "event_probability", "event_coord"])

###############################################################################
# The frame at the peak of the most probable event (or the middle frame when nothing was found), with
# the events live at that time drawn as boxes, and the true jet bases marked.

if len(events):
    peak = events.table["event_peaktime"][int(np.argmax(events.table["event_probability"]))]
else:
    peak = maps[len(maps) // 2].date
frame = min(maps, key=lambda m: abs((m.date - peak).to_value(u.s)))
live = (events.table["event_starttime"] <= frame.date) & (events.table["event_endtime"] >= frame.date)

fig = plt.figure(figsize=(6.5, 6), layout="constrained")
ax_map = fig.add_subplot(projection=frame)
frame.plot(axes=ax_map, clip_interval=(1, 99.8) * u.percent)
plot_events_on_map(frame, events[live], axes=ax_map, color="cyan")
for jet in observation.jets:
    ax_map.plot_coord(jet.base, "+", color="white", ms=12, mew=2)
ax_map.set_title(f"{frame.date.isot[:19]}: detections (boxes), true jet bases (+)")

###############################################################################
# The probability of every window (the highest over the tiles) against time, with the events shaded.

fig, ax_p = plt.subplots(figsize=(9, 3.8), layout="constrained")
plot_probability(windows, events=events, threshold=clf.threshold, axes=ax_p)
for jet in observation.jets:
    ax_p.axvline(jet.start_time.datetime, color="orange", ls=":", lw=1.5)
ax_p.set_title("Window probability; true jet onsets dotted")

plt.show()
