"""
Training data: label catalogues, JSOC sequence downloads, the preprocessed cache, grouped splits and
torch datasets.

The path from citizen-science labels to a training set is::

    catalogue = SolarJetHunterCatalogue.read("Jet_clusters_3.0_2.0_paperID.csv")
    nonjets = read_nonjet_positions("No_jet_df.csv")
    manifest = build_manifest(catalogue, nonjets)          # one JSOC query per label, offline
    download(manifest, "downloads", email="me@example.org")  # Fido/parfive, resumable
    build_cache(manifest, config, "cache", download_dir="downloads")
    train, val, test = grouped_split(manifest["group"])     # no HEK event spans two sets
    dataset = JetSequenceDataset("cache", train, augment=True, seed=0)
"""

from .catalogues import SolarJetHunterCatalogue, bad_rows_table, read_nonjet_positions
from .splits import grouped_split
from .jsoc import (
    AIA_SERIES,
    JSOC_EMAIL_ENV,
    build_manifest,
    completed_files,
    download,
    jsoc_query,
    manifest_query,
    resolve_jsoc_email,
    sequence_directory,
)

__all__ = [
    "SolarJetHunterCatalogue",
    "bad_rows_table",
    "read_nonjet_positions",
    "AIA_SERIES",
    "JSOC_EMAIL_ENV",
    "build_manifest",
    "completed_files",
    "download",
    "jsoc_query",
    "manifest_query",
    "resolve_jsoc_email",
    "sequence_directory",
    "grouped_split",
]
