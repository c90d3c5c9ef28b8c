"""
===========================================
Detecting jets and drawing them on a map
===========================================

`~sunpy_jets.JetClassifier.detect` scans an observation, merges the windows above the threshold, and
then finds each jet inside the flagged windows: one event per jet, a `~sunpy_jets.events.JetEvents` table
under the HEK's column names with the jet's own onset, end and peak (to the frame), its base point, a box
around base and spire, and its measured height, width, speed and opening angle. Fields larger than the
model's 300″ are cut into overlapping tiles, all encoded in one pass of the CNN over each frame.
"""

import matplotlib.pyplot as plt
import numpy as np

import astropy.units as u

from sunpy_jets import JetClassifier
from sunpy_jets.events import localize_events
from sunpy_jets.scanning import events_from_scan
from sunpy_jets.synthetic import make_observation
from sunpy_jets.visualization import plot_events_on_map, plot_jet_event, plot_probability

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
# Detection is a scan, merging, and localisation. The scan tiles the field (tiles overlap by half) and
# gives every window of every tile a probability; windows above the threshold, in time and in neighbouring
# tiles, are merged into coarse events (here one box over the whole field for the whole half hour). Inside
# each, the brightenings over every pixel's background are segmented in space and time: one event per jet,
# timed by its own frames. ``clf.detect(maps)`` does all three; here we keep the scan to plot it.

windows = clf.scan(maps)
print(f"{len(windows)} rows (windows × tiles); columns: {windows.colnames}")
coarse = events_from_scan(clf, windows, min_windows=2)
events = localize_events(coarse, maps, windows=windows)
print(f"{len(coarse)} coarse event(s) from the windows, {len(events)} jet(s) after localisation")
print(events["event_starttime", "event_coord", "outflow_length", "outflow_width", "outflow_speed"])
for jet in sorted(observation.jets, key=lambda j: j.start_time):
    p = jet.parameters
    print(f"truth: onset {jet.start_time.isot[11:19]}, base ({jet.base.Tx:.0f}, {jet.base.Ty:.0f}), "
          f"height {p.height:.0f}, speed {p.speed:.0f}")

###############################################################################
# Which events are the jets? A generated observation knows: an event is a jet when its base lies within 20″
# of a true base and it overlaps that jet in time. Anything else is a false positive, often one of the hard
# negatives (coronal rain, whose condensations brighten one after another along a loop, can look like a
# slow jet to the classifier and to the segmentation alike).


def is_jet(event):
    return any(event["event_coord"].separation(jet.base) < 20 * u.arcsec
               and event["event_starttime"] <= jet.end_time and event["event_endtime"] >= jet.start_time
               for jet in observation.jets)


found = np.array([is_jet(event) for event in events], dtype=bool)
print(f"{found.sum()} of {len(events)} events are true jets ({len(observation.jets)} jets in the observation); "
      f"{(~found).sum()} matched no jet")

###############################################################################
# The frame at the peak of the most probable event (or the middle frame when nothing was found), with
# every event's box (the jets' in cyan, false events' in dashed magenta), and the true jet bases marked.

if len(events):
    peak = events["event_peaktime"][int(np.argmax(events["event_probability"]))]
else:
    peak = maps[len(maps) // 2].date
frame = min(maps, key=lambda m: abs((m.date - peak).to_value(u.s)))

fig = plt.figure(figsize=(6.5, 6), layout="constrained")
ax_map = fig.add_subplot(projection=frame)
frame.plot(axes=ax_map, clip_interval=(1, 99.8) * u.percent)
plot_events_on_map(frame, events[found], axes=ax_map, color="cyan")
if (~found).any():
    plot_events_on_map(frame, events[~found], axes=ax_map, color="magenta", linestyle="--")
for jet in observation.jets:
    ax_map.plot_coord(jet.base, "+", color="white", ms=12, mew=2)
ax_map.set_title(f"{frame.date.isot[:19]}: {found.sum()} jet events (cyan), {(~found).sum()} false (magenta, dashed);\n"
                 "true jet bases (+)", fontsize=10)

###############################################################################
# The probability of every window (the highest over the tiles) against time, with the events shaded.

fig, ax_p = plt.subplots(figsize=(9, 3.8), layout="constrained")
plot_probability(windows, events=events, threshold=clf.threshold, axes=ax_p)
for jet in observation.jets:
    ax_p.axvline(jet.start_time.datetime, color="orange", ls=":", lw=1.5)
ax_p.set_title("Window probability; true jet onsets dotted")

###############################################################################
# One event in detail: the frame at its peak with its box, base and spine; what the segmentation found;
# and the time–distance diagram along the spine with the fitted speed.

if len(events):
    plot_jet_event(events[int(np.argmax(events["outflow_length"].value))], maps)

plt.show()
