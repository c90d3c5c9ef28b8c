"""
==========================================
Comparing detections with the HEK
==========================================

The Heliophysics Event Knowledgebase (HEK) already holds coronal-jet (CJ) events reported by people
and by other methods. This example queries it with sunpy's ``Fido``, downloads 24 minutes of AIA
304 Å around the first event, runs `~sunpy_jets.JetClassifier.detect` on them, and compares the
detections with the HEK's events in the same `~sunpy.net.hek.HEKTable` form.

It needs the network and a JSOC e-mail address registered at
http://jsoc.stanford.edu/ajax/register_email.html, given in the ``JSOC_EMAIL`` environment variable.
It is not run when the documentation is built.
"""

import os
import tempfile

import matplotlib.pyplot as plt

import astropy.units as u

from sunpy.net import Fido
from sunpy.net import attrs as a

from sunpy_jets import JetClassifier
from sunpy_jets.datasets import jsoc_query
from sunpy_jets.events import JetEvents, match_events

###############################################################################
# The coronal jets the HEK holds for a morning of January 2011. ``Fido`` returns a
# `~sunpy.net.hek.HEKTable` with ``Time`` columns and a ``SkyCoord`` column ``event_coord``.

result = Fido.search(a.Time("2011-01-20 08:00", "2011-01-20 12:00"), a.hek.CJ)
hek = result["hek"]
print(hek["event_starttime", "event_endtime", "event_coord", "frm_name", "obs_channelid"])

###############################################################################
# The same records as `~sunpy_jets.events.JetEvents`: `~sunpy_jets.events.JetEvents.from_hek` checks
# them and repairs the known quirks of archived CJ records (wavelengths in cm, swapped box corners).

reported = JetEvents.from_hek(hek)
target = reported[0]
print(target["event_starttime"].isot, target["event_coord"])

###############################################################################
# 24 minutes of AIA 304 Å at 24 s cadence, in a 300″ cutout around the first event's position,
# starting 6 minutes before it. The query is the one the training data uses, made longer.

clf = JetClassifier.from_pretrained()
config = clf.config.replace(n_frames=60)
query = jsoc_query(target["event_starttime"] - 6 * u.min, target["event_coord"], config=config,
                   email=os.environ["JSOC_EMAIL"])
files = Fido.fetch(Fido.search(query), path=tempfile.mkdtemp(prefix="hek_compare_"))
print(f"{len(files)} files")

###############################################################################
# Scan every sliding 12-minute window and merge the windows above the threshold into events.

windows = clf.scan(sorted(files))
events = clf.detect(sorted(files))
ours = events.to_hektable()
print(ours["event_starttime", "event_endtime", "event_probability", "event_coord"])

###############################################################################
# Match each detection with the HEK events that overlap it in time and lie within 60″ of it
# (`~sunpy_jets.events.match_events`: closest pairs first, one-to-one).

matched, ours_only, hek_only = match_events(events, hek, max_distance=60 * u.arcsec)
print(matched)
print(f"{len(matched)} matched, {len(ours_only)} found only by sunpy_jets, {len(hek_only)} only in the HEK")

###############################################################################
# The window probabilities against time, with the HEK's reported intervals shaded.

fig, ax = plt.subplots(figsize=(9, 3.5))
middle = windows["start_time"] + (windows["end_time"] - windows["start_time"]) / 2
ax.plot(middle.datetime, windows["probability"], ".-", label="sunpy_jets window probability")
ax.axhline(clf.threshold, color="k", ls="--", lw=1, label="threshold")
for start, end in zip(hek["event_starttime"], hek["event_endtime"]):
    ax.axvspan(start.datetime, end.datetime, color="orange", alpha=0.2)
ax.set_xlim(middle[0].datetime, middle[-1].datetime)
ax.set_ylim(0, 1)
ax.set_ylabel("probability")
ax.set_title("Detections and HEK CJ events (shaded)")
ax.legend(loc="upper right")
fig.autofmt_xdate()

plt.show()
