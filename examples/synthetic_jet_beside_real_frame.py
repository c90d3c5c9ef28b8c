"""
=========================================
A synthetic jet beside a real AIA frame
=========================================

`sunpy_jets.synthetic` makes AIA 304 Å sequences with and without coronal jets, with known truth.
They are real `~sunpy.map.MapSequence` objects of AIA maps, with AIA metadata, exposure times, noise
and occasional bad frames, so they go through the same code as real data. This example draws a
generated jet next to a real AIA 304 Å frame of the same part of the Sun, and then puts a jet into
the real frame itself.
"""

import matplotlib.pyplot as plt
import numpy as np

import astropy.units as u
from astropy.visualization import AsinhStretch, ImageNormalize, PercentileInterval

import sunpy.map

from sunpy_jets.sample_data import sample_file
from sunpy_jets.synthetic import make_sequence

###############################################################################
# A real AIA 304 Å level-1 frame that ships with the package (`sunpy_jets.sample_data`): a 240″ × 270″
# cutout across the west limb, 2022 April 2.

real = sunpy.map.Map(sample_file("aia304_limb"))
print(real.instrument, real.wavelength, real.date.isot, real.scale.axis1, real.exposure_time)

###############################################################################
# A synthetic sequence with one jet, of the same field at the same date: the same centre, pixel size
# (0.6″, the AIA plate scale) and shape. The generator works in physical units, with the model's 24 s
# cadence.

synthetic = make_sequence(
    kind="jet",
    seed=21,
    n_frames=30,
    shape=real.data.shape,
    scale=0.6 * u.arcsec / u.pix,
    center=real.center,
    start_time=real.date,
)
jet = synthetic.jets[0]
print(synthetic.label, synthetic.kind)
print(jet.parameters)

###############################################################################
# The frame with the jet at its brightest: the generator's truth gives the jet's box and times.
# Before plotting, divide by the exposure time (DN/s), as the model does: the generator, like AIA,
# sometimes takes a short exposure.


def brightest(seq, event):
    """The frame of ``seq`` nearest the time ``event`` reaches its height, in DN/s."""
    times = np.array([(m.date - event.start_time).to_value(u.s) for m in seq.maps])
    i = int(np.argmin(np.abs(times - event.parameters.rise_time.to_value(u.s))))
    m = seq.maps[i]
    return i, sunpy.map.Map(m.data / m.exposure_time.to_value(u.s), m.meta)


peak, frame = brightest(synthetic, jet)
real_rate = sunpy.map.Map(real.data / real.exposure_time.to_value(u.s), real.meta)

###############################################################################
# The real frame beside the synthetic one, in DN/s on the same colour scale. The real frame is from
# 2022, when the 304 Å channel had lost about half of its 2012 sensitivity; the generator's levels
# follow 2012 data, so its disk is about twice as bright. The real field also holds active loops and a
# prominence, which the procedural quiet Sun does not: its hard negatives (flares, oscillating loops,
# prominences, coronal rain, bright points) are added separately.

norm = ImageNormalize(vmin=0, vmax=np.percentile(frame.data, 99.7), stretch=AsinhStretch(0.05))
fig = plt.figure(figsize=(11, 5))
ax_real = fig.add_subplot(1, 2, 1, projection=real_rate)
real_rate.plot(axes=ax_real, norm=norm, cmap="sdoaia304")
ax_real.set_title(f"Real: AIA 304 Å, {real.date.strftime('%Y-%m-%d %H:%M')}")
ax_syn = fig.add_subplot(1, 2, 2, projection=frame)
frame.plot(axes=ax_syn, norm=norm, cmap="sdoaia304")
ax_syn.plot_coord(jet.base, "x", color="cyan", ms=10, label="jet base (truth)")
ax_syn.set_title(f"Synthetic: AIA 304 Å with a jet, frame {peak}")
ax_syn.legend(loc="lower left")
fig.tight_layout()

###############################################################################
# The generator also takes real frames as its background: here a jet is drawn into the real frame (kept
# as it is away from the jet, with photon noise added only to the jet's own light).

injected = make_sequence(kind="jet", seed=3, n_frames=30, background=[real])
peak_injected, frame_injected = brightest(injected, injected.jets[0])

fig = plt.figure(figsize=(6, 5))
ax = fig.add_subplot(projection=frame_injected)
frame_injected.plot(axes=ax, norm=norm, cmap="sdoaia304")
ax.plot_coord(injected.jets[0].base, "x", color="cyan", ms=10, label="jet base (truth)")
ax.set_title(f"A synthetic jet in the real frame, frame {peak_injected}")
ax.legend(loc="lower left")
fig.tight_layout()

###############################################################################
# The same jet through time: every sixth frame of the synthetic sequence.

fig, axes = plt.subplots(1, 5, figsize=(13, 3), sharex=True, sharey=True)
for ax, i in zip(axes, range(2, 30, 6)):
    m = synthetic.maps[i]
    ax.imshow(m.data / m.exposure_time.to_value(u.s), origin="lower", cmap="sdoaia304", norm=norm)
    ax.set_title(f"t = {(m.date - synthetic.maps[0].date).to_value(u.s):.0f} s")
    ax.set_axis_off()
fig.suptitle("A synthetic jet rising and fading (every 6th frame, 24 s cadence)")
fig.tight_layout()

plt.show()
