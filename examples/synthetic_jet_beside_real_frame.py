"""
=========================================
A synthetic jet beside a real AIA frame
=========================================

`sunpy_jets.synthetic` makes AIA 304 Å sequences with and without coronal jets, with known truth.
They are real `~sunpy.map.MapSequence` objects of AIA maps, with AIA metadata, exposure times, noise
and occasional bad frames, so they go through the same code as real data. This example draws a
generated jet next to a real AIA image to compare how they look.
"""

import matplotlib.pyplot as plt
import numpy as np

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.visualization import AsinhStretch, ImageNormalize, PercentileInterval

import sunpy.data.test
import sunpy.map
from sunpy.coordinates import Helioprojective

from sunpy_jets.synthetic import make_sequence

###############################################################################
# A real AIA frame that is available offline: sunpy's own test file, a full-disk AIA 171 Å image
# rebinned to 128 × 128 pixels. (Real 304 Å cutouts of jets cannot be shipped with the package.)

real = sunpy.map.Map(sunpy.data.test.get_test_filepath("aia_171_level1.fits"))
print(real.instrument, real.wavelength, real.date.isot, real.scale.axis1)

###############################################################################
# A synthetic sequence with one jet. Placing the field across the south-east limb, at the same date
# as the real image, lets us draw both on the same coordinate grid. The generator works in physical
# units: 0.6″ pixels (the AIA plate scale) over a 300″ field, 24 s cadence.

center = SkyCoord(
    -650 * u.arcsec,
    -700 * u.arcsec,
    frame=Helioprojective(observer="earth", obstime=real.date),
)
synthetic = make_sequence(
    kind="jet",
    seed=11,
    n_frames=30,
    shape=(500, 500),
    scale=0.6 * u.arcsec / u.pix,
    center=center,
    start_time=real.date,
)
jet = synthetic.jets[0]
print(synthetic.label, synthetic.kind)
print(jet.parameters)

###############################################################################
# The frame with the jet at its brightest: the generator's truth gives the jet's box and times.
# Before plotting, divide by the exposure time (DN/s), as the model does: the generator, like AIA,
# sometimes takes a short exposure.

times = np.array([(m.date - jet.start_time).to_value(u.s) for m in synthetic.maps])
peak = int(np.argmin(np.abs(times - jet.parameters.rise_time.to_value(u.s))))
frame = synthetic.maps[peak]
frame = sunpy.map.Map(frame.data / frame.exposure_time.to_value(u.s), frame.meta)

###############################################################################
# The real full-disk frame, with the synthetic field of view outlined, beside the synthetic frame
# with the jet's base marked.

norm = ImageNormalize(frame.data, interval=PercentileInterval(99.7), stretch=AsinhStretch(0.05))

fig = plt.figure(figsize=(11, 5))
ax_real = fig.add_subplot(1, 2, 1, projection=real)
real.plot(axes=ax_real, clip_interval=(1, 99.9) * u.percent)
ax_real.set_title(f"Real: AIA {real.wavelength.value:.0f} Å, {real.date.strftime('%Y-%m-%d %H:%M')}")
real.draw_quadrangle(
    frame.bottom_left_coord,
    top_right=frame.top_right_coord,
    axes=ax_real,
    edgecolor="cyan",
    lw=1.5,
)

ax_syn = fig.add_subplot(1, 2, 2, projection=frame)
frame.plot(axes=ax_syn, norm=norm, cmap="sdoaia304")
ax_syn.plot_coord(jet.base, "x", color="cyan", ms=10, label="jet base (truth)")
ax_syn.set_title(f"Synthetic: AIA 304 Å with a jet, frame {peak}")
ax_syn.legend(loc="lower right")
fig.tight_layout()

###############################################################################
# The same jet through time: every fifth frame of the sequence.

fig, axes = plt.subplots(1, 5, figsize=(13, 3), sharex=True, sharey=True)
for ax, i in zip(axes, range(2, 30, 6)):
    m = synthetic.maps[i]
    ax.imshow(m.data / m.exposure_time.to_value(u.s), origin="lower", cmap="sdoaia304", norm=norm)
    ax.set_title(f"t = {(m.date - synthetic.maps[0].date).to_value(u.s):.0f} s")
    ax.set_axis_off()
fig.suptitle("A synthetic jet rising and fading (every 6th frame, 24 s cadence)")
fig.tight_layout()

plt.show()
