"""
===================================================
Downloading Solar Jet Hunter sequences from JSOC
===================================================

The Solar Jet Hunter catalogue (Musset et al. 2024) lists 883 coronal jets with their start time and
base point. This example turns a few of its rows into JSOC cutout queries, downloads the AIA 304 Å
sequences, preprocesses them into the training cache, and shows one.

It needs the network and a JSOC e-mail address registered at
http://jsoc.stanford.edu/ajax/register_email.html, given in the ``JSOC_EMAIL`` environment variable.
It is not run when the documentation is built.
"""

import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import parfive

import astropy.units as u

import sunpy.map

from sunpy_jets.datasets import SolarJetHunterCatalogue, build_cache, build_manifest, download, read_cache_index

###############################################################################
# The catalogue: a copy of the published CSV kept in the CS-433 project's repository, at a fixed
# commit so that the file cannot change under us (the original is at
# https://conservancy.umn.edu/handle/11299/257209).

CATALOGUE_URL = (
    "https://raw.githubusercontent.com/CS-433/ml-project-2-jac/"
    "6efcd366998b4e804c712c00d0d18f60d27b98c8/data/events/Jet_clusters_3.0_2.0_paperID.csv"
)
work = Path(os.environ.get("SUNPY_JETS_EXAMPLE_DIR", tempfile.mkdtemp(prefix="sjh_")))
downloader = parfive.Downloader(max_conn=1)
downloader.enqueue_file(CATALOGUE_URL, path=work)
result = downloader.download()
if result.errors:
    raise RuntimeError(f"could not download the catalogue: {result.errors}")
catalogue = SolarJetHunterCatalogue.read(result[0])
print(f"{len(catalogue)} jets")

###############################################################################
# One JSOC query per label, written into a manifest table. This step needs no network: it only
# describes what to download (12 minutes of AIA 304 Å at 24 s, 300″ around the jet base).

manifest = build_manifest(catalogue[:2])
print(manifest["label_id", "start_time", "n_frames", "width"])

###############################################################################
# The download itself. ``email`` defaults to the ``JSOC_EMAIL`` environment variable. Each label's
# files go to their own folder, marked complete only when every file has arrived: running the same
# call again skips what is already there.

status = download(manifest, work / "downloads")
print(status)

###############################################################################
# Preprocess the downloaded sequences with the model's recipe into the training cache, and read its
# index back. `sunpy_jets.datasets.grouped_split` would then split the index by HEK event.

build_cache(manifest, work / "cache", download_dir=work / "downloads")
index = read_cache_index(work / "cache")
print(index)

###############################################################################
# The first frame of the first sequence, as downloaded.

first = sorted((work / "downloads" / manifest["label_id"][0]).glob("*.fits"))[0]
aia = sunpy.map.Map(first)
fig = plt.figure()
ax = fig.add_subplot(projection=aia)
aia.plot(axes=ax, clip_interval=(1, 99.9) * u.percent)
ax.set_title(f"{manifest['label_id'][0]}: {aia.date.isot}")

plt.show()
