"""
===========================
Classifying an NDCube
===========================

Data that come out of other pipelines are often held as an `~ndcube.NDCube`: one array with a
world coordinate system (WCS) that describes every axis, time included. `~sunpy_jets.JetClassifier`
reads a 3-D ``(time, y, x)`` cube with a ``TIME`` axis in its WCS, and an `~ndcube.NDCubeSequence` of
2-D cubes, as readily as a `~sunpy.map.MapSequence`.
"""

import matplotlib.pyplot as plt
import numpy as np

import astropy.units as u
from astropy.wcs import WCS

from ndcube import NDCube, NDCubeSequence

from sunpy_jets import JetClassifier
from sunpy_jets.synthetic import make_sequence

###############################################################################
# A synthetic AIA 304 Å sequence with a jet, at the model's resolution (1.8″ pixels over 300″).

clf = JetClassifier.from_pretrained(device="cpu", progress=False)
scale = clf.config.fov / (clf.config.image_size * u.pix)
synthetic = make_sequence(kind="jet", seed=3, shape=(166, 166), scale=scale)
maps = synthetic.maps

###############################################################################
# Build a 3-D cube from it, as another pipeline might: the pixel data stacked along a first (time)
# axis, and a WCS with the two helioprojective axes of the frames plus a ``TIME`` axis, counting
# seconds from the first frame. (A FITS cube with such a header, read with ``astropy.io.fits``, gives
# the same.)

header = maps[0].wcs.to_header()
header["WCSAXES"] = 3
header.update(
    {
        "CTYPE3": "TIME",
        "CUNIT3": "s",
        "CRPIX3": 1,
        "CRVAL3": 0.0,
        "CDELT3": (maps[1].date - maps[0].date).to_value(u.s),
        "DATEREF": maps[0].date.isot,
        "MJDREF": maps[0].date.mjd,
        "TIMESYS": "UTC",
    }
)
wcs = WCS(header)
cube = NDCube(np.stack([m.data for m in maps]), wcs=wcs, meta=dict(maps[0].meta), unit=maps[0].unit)
print(cube)
print(cube.array_axis_physical_types)

###############################################################################
# The cube goes to the classifier unchanged. Each time step becomes a frame, with its time read from
# the WCS and its geometry from the celestial axes.

p_cube = clf.predict_proba(cube)
p_maps = clf.predict_proba(maps)
print(f"P(jet) from the NDCube: {p_cube:.3f}; from the MapSequence: {p_maps:.3f}")

###############################################################################
# An `~ndcube.NDCubeSequence` of 2-D cubes, one per frame, each with its time as a global coordinate,
# works too.

cubes = []
for m in maps:
    frame = NDCube(m.data, wcs=m.wcs, meta=dict(m.meta), unit=m.unit)
    frame.global_coords.add("time", "time", m.date)
    cubes.append(frame)
sequence = NDCubeSequence(cubes)
print(f"P(jet) from the NDCubeSequence: {clf.predict_proba(sequence):.3f}")

###############################################################################
# The slice of the cube at the jet's brightest frame, drawn in its own helioprojective coordinates.
# Slicing an NDCube slices its WCS with it.

peak = synthetic.jets[0].start_time + synthetic.jets[0].parameters.rise_time
index = int(np.argmin(np.abs([(m.date - peak).to_value(u.s) for m in maps])))
frame = cube[index]
fig = plt.figure(figsize=(5.5, 5))
ax = fig.add_subplot(projection=frame.wcs)
rate = frame.data / maps[index].exposure_time.to_value(u.s)
ax.imshow(rate, origin="lower", cmap="sdoaia304", vmin=0, vmax=np.percentile(rate, 99.7))
ax.plot_coord(synthetic.jets[0].base, "x", color="cyan", ms=10)
ax.set_title(f"cube[{index}]: {maps[index].date.isot[:19]}, P(jet) = {p_cube:.2f}")
ax.coords[0].set_axislabel("Helioprojective Longitude")
ax.coords[1].set_axislabel("Helioprojective Latitude")

plt.show()
