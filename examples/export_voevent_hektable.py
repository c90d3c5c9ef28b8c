"""
=====================================================
Exporting jet events to VOEvent and the HEK
=====================================================

The Heliophysics Event Knowledgebase (HEK) takes new events as VOEvent XML files, one per event.
This example detects jets in a synthetic observation, writes the events as VOEvent files, reads the
files back, and turns them into the `~sunpy.net.hek.HEKTable` that sunpy's
``Fido.search(a.Time(...), a.hek.CJ)`` returns for the events already in the HEK, so the two can be
compared and stacked.
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt

import astropy.units as u

from sunpy_jets import JetClassifier
from sunpy_jets.events import JetEvents
from sunpy_jets.events import validate_hek_record
from sunpy_jets.synthetic import make_observation
from sunpy_jets.visualization import plot_events_on_map
from sunpy_jets.events import read_voevent

###############################################################################
# Detect jets in a 20-minute synthetic observation holding one jet.

clf = JetClassifier.from_pretrained(device="cpu", progress=False)
scale = clf.config.fov / (clf.config.image_size * u.pix)
observation = make_observation(
    duration=20 * u.min,
    n_jets=1,
    n_distractors=0,
    shape=(clf.config.image_size, clf.config.image_size),
    scale=scale,
    seed=8,
    lazy=False,
)
events = clf.detect(observation.maps)
print(events.table["event_starttime", "event_endtime", "event_probability"])

###############################################################################
# One HEK coronal-jet (CJ) record per event, with every attribute the HEK requires. Before submitting
# to the HEK, give your own institute, contact and HEK user name: the defaults point at sunpy_jets.

provenance = {"frm_institute": "Example University", "frm_contact": "jets@example.org", "frm_identifier": "jdoe"}
records = events.to_hek(**provenance)
for record in records:
    validate_hek_record(record)  # raises if a required attribute is missing or malformed
for record in records[:1]:
    for key in ("event_type", "event_starttime", "event_coord1", "event_coord2", "frm_name", "frm_paramset"):
        print(f"{key:>16}: {record[key]}")

###############################################################################
# Write the VOEvent files, one per event, and read them back.

folder = Path(tempfile.mkdtemp(prefix="jets_voevent_"))
paths = events.to_voevent(folder, **provenance)
for path in paths:
    print(path.name, f"{path.stat().st_size} bytes")
for path in paths[:1]:
    print(path.read_text()[:600], "...")
back = [read_voevent(path) for path in paths]

###############################################################################
# The records read back become a `~sunpy_jets.events.JetEvents` again, and from there a sunpy
# `~sunpy.net.hek.HEKTable`: ``Time`` columns, a ``SkyCoord`` column ``event_coord`` and ``Quantity``
# columns, parsed by sunpy's own HEK code, exactly as a HEK search would give them.

from_files = JetEvents.from_hek(back)
hek = from_files.to_hektable(**provenance)
print(f"{type(hek).__name__} with {len(hek)} event(s)")
if len(hek):
    print(hek["event_starttime", "event_endtime", "event_probability", "obs_meanwavel", "frm_name"])
    print(repr(hek["event_coord"][0]))

###############################################################################
# The round trip keeps the times and positions.

for row, original in zip(hek, events.table):
    shift = row["event_coord"].separation(original["event_coord"]).to(u.arcsec)
    delay = (row["event_starttime"] - original["event_starttime"]).to(u.ms)
    print(f"position changed by {shift:.2g}, start time by {delay:.2g}")

###############################################################################
# The events read back from the VOEvent files, drawn on the frame of their peak.

maps = observation.maps
peak = from_files.table["event_peaktime"][0] if len(from_files) else maps[len(maps) // 2].date
frame = min(maps, key=lambda m: abs((m.date - peak).to_value(u.s)))
fig = plt.figure(figsize=(6, 5.5))
ax = fig.add_subplot(projection=frame)
frame.plot(axes=ax, clip_interval=(1, 99.8) * u.percent)
plot_events_on_map(frame, from_files, axes=ax, color="cyan")
ax.set_title(f"Events read back from VOEvent, on {frame.date.isot[:19]}")

plt.show()
