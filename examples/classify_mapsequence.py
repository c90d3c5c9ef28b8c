"""
=================================
Classifying a MapSequence
=================================

The most common input: AIA 304 Å frames read with sunpy into a `~sunpy.map.MapSequence`. This
example asks the bundled default model whether each of several 12-minute sequences holds a coronal
jet, and compares its answers with the truth.

The sequences here are made by `sunpy_jets.synthetic` (real AIA cutouts of catalogued jets cannot be
shipped with the package). With your own files, ``sunpy.map.Map("aia_304_*.fits", sequence=True)``
gives the same kind of object.
"""

import matplotlib.pyplot as plt
import numpy as np

import astropy.units as u

from sunpy_jets import JetClassifier
from sunpy_jets.synthetic import make_sequence

###############################################################################
# The default model, bundled with the package: it needs no download. Its model card says what it was
# trained on and the threshold chosen on its validation data.

clf = JetClassifier.from_pretrained(device="cpu", progress=False)
print(clf)
print(clf.card.description)

###############################################################################
# Four sequences, each 30 frames at 24 s cadence over the model's 300″ field (166 × 166 pixels of
# 1.8″, the model's resolution, so that this example runs fast): two with a jet, one of quiet Sun and
# one with a "hard negative", a dynamic scene that is not a jet.

kinds = ["jet", "jet", "quiet", "flare"]
scale = clf.config.fov / (clf.config.image_size * u.pix)
shape = (clf.config.image_size, clf.config.image_size)
sequences = [make_sequence(kind=kind, seed=100 + i, shape=shape, scale=scale) for i, kind in enumerate(kinds)]
seq = sequences[0].maps
print(type(seq).__name__, len(seq), seq[0].wavelength, seq[0].date.isot, seq[-1].date.isot)

###############################################################################
# ``predict_proba`` takes one `~sunpy.map.MapSequence` (or a list of them) and gives the probability
# that it holds a jet; ``predict`` compares it with the classifier's threshold.

p = clf.predict_proba(seq)
print(f"P(jet) = {p:.3f}; jet: {clf.predict(seq)}")

probabilities = clf.predict_proba([s.maps for s in sequences])
for s, prob in zip(sequences, probabilities):
    print(f"{s.kind:>6}: truth {s.label!s:5}  P(jet) = {prob:.3f}")

###############################################################################
# One frame of each sequence with the model's answer: for the jets, the frame where the generator's
# truth says the jet is brightest (the end of its rise); otherwise the middle frame. The frames are
# divided by their exposure times (DN/s), as the model sees them.


def shown_frame(s):
    if not s.jets:
        return s.maps[len(s.maps) // 2]
    peak = s.jets[0].start_time + s.jets[0].parameters.rise_time
    return min(s.maps, key=lambda m: abs((m.date - peak).to_value(u.s)))


fig, axes = plt.subplots(1, len(sequences), figsize=(13, 4), layout="constrained")
for ax, s, prob in zip(axes, sequences, probabilities):
    m = shown_frame(s)
    rate = m.data / m.exposure_time.to_value(u.s)
    ax.imshow(rate, origin="lower", cmap="sdoaia304", vmin=0, vmax=np.percentile(rate, 99.7))
    ax.set_title(f"{s.kind} (truth: {'jet' if s.label else 'no jet'})\nP(jet) = {prob:.2f}")
    ax.set_axis_off()

plt.show()
