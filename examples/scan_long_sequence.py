"""
==================================================
Scanning a long sequence for jets
==================================================

A jet lasts minutes; an observation lasts hours. `~sunpy_jets.JetClassifier.scan` slides the model's
12-minute window along a sequence of any length and gives the jet probability of every window. Each
frame is encoded by the CNN once and reused by every window that contains it, so a stride-1 scan costs
little more than reading the frames.
"""

import matplotlib.pyplot as plt

import astropy.units as u

from sunpy_jets import JetClassifier
from sunpy_jets.synthetic import make_observation
from sunpy_jets.visualization import plot_probability

###############################################################################
# A 40-minute synthetic observation of a 300″ field at the model's resolution, with two jets at
# random times and places, and one hard negative (a dynamic scene that is not a jet). The generator
# records the truth: when and where each jet happens.

clf = JetClassifier.from_pretrained(device="cpu", progress=False)
scale = clf.config.fov / (clf.config.image_size * u.pix)
observation = make_observation(
    duration=40 * u.min,
    n_jets=2,
    n_distractors=1,
    shape=(clf.config.image_size, clf.config.image_size),
    scale=scale,
    seed=5,
    lazy=False,
)
maps = observation.maps
print(f"{len(maps)} frames from {maps[0].date.isot} to {maps[-1].date.isot}")
for jet in observation.jets:
    print(f"jet from {jet.start_time.isot[11:19]} to {jet.end_time.isot[11:19]} at {jet.base.Tx:.0f}, {jet.base.Ty:.0f}")
print("hard negatives:", observation.distractors)

###############################################################################
# Scan with a stride of one frame: one row per window, with its first and last frame times, its jet
# probability, and the centroid of the brightness change within it.

windows = clf.scan(maps, stride=1)
print(windows["start_time", "end_time", "probability"][:5])
print(f"{len(windows)} windows; highest probability {windows['probability'].max():.2f}")

###############################################################################
# The probability of each window, drawn at the window's centre, against time, with the true jet
# intervals shaded.

fig, ax = plt.subplots(figsize=(10, 4), layout="constrained")
plot_probability(windows, threshold=clf.threshold, axes=ax, label="window probability")
for i, jet in enumerate(observation.jets):
    ax.axvspan(
        jet.start_time.datetime,
        jet.end_time.datetime,
        color="orange",
        alpha=0.25,
        label="jet (truth)" if i == 0 else None,
    )
ax.legend(loc="lower right")
ax.set_title("Sliding-window jet probability over a 40-minute observation")

plt.show()
