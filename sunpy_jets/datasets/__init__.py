"""
Training data: label catalogues, JSOC sequence downloads, the preprocessed cache, grouped splits and
torch datasets.

The path from citizen-science labels to a training set is::

    catalogue = SolarJetHunterCatalogue.read("Jet_clusters_3.0_2.0_paperID.csv")
    nonjets = read_nonjet_positions("No_jet_df.csv")
    manifest = build_manifest(catalogue, nonjets)          # one JSOC query per label, offline
    download(manifest, "downloads", email="me@example.org")  # Fido/parfive, resumable
    build_cache(manifest, "cache", config=config, download_dir="downloads")
    index = read_cache_index("cache", config=config)
    train, val, test = grouped_split(index["group"], labels=index["target"])  # no HEK event spans two sets
    dataset = JetSequenceDataset(index, train, augment=True, seed=0)
"""

from .. import _lazy
from .catalogues import SolarJetHunterCatalogue, bad_rows_table, read_nonjet_positions
from .hek_jets import read_hek_jets
from .cache import (
    CACHE_FORMAT,
    CACHE_VERSION,
    PREPROCESSING_FIELDS,
    build_cache,
    config_hash,
    read_cache_index,
    read_cached_sequence,
    write_cached_sequence,
)
from .splits import grouped_split
from .zooniverse import (
    SJH_SUBJECT_CADENCE,
    SubjectCalibration,
    SubjectJet,
    read_subject_calibration,
    read_subject_render,
    subjects_table,
)
from ._render import colormap_lut, invert_colormap, render_sequence, stretch_forward, stretch_inverse
from .jsoc import (
    AIA_SERIES,
    JSOC_EMAIL_ENV,
    build_manifest,
    completed_files,
    jsoc_query,
    manifest_query,
    resolve_jsoc_email,
    sequence_directory,
)
from .downloads import JSOC_URL_ENV, download

__all__ = [
    "SolarJetHunterCatalogue",
    "bad_rows_table",
    "read_nonjet_positions",
    "read_hek_jets",
    "AIA_SERIES",
    "JSOC_EMAIL_ENV",
    "build_manifest",
    "completed_files",
    "download",
    "JSOC_URL_ENV",
    "jsoc_query",
    "manifest_query",
    "resolve_jsoc_email",
    "sequence_directory",
    "grouped_split",
    "CACHE_FORMAT",
    "CACHE_VERSION",
    "PREPROCESSING_FIELDS",
    "build_cache",
    "config_hash",
    "read_cache_index",
    "read_cached_sequence",
    "write_cached_sequence",
    "JetSequenceDataset",
    "TensorJetDataset",
    "augment_sequence",
    "AugmentedDataset",
    "SJH_SUBJECT_CADENCE",
    "SubjectCalibration",
    "SubjectJet",
    "colormap_lut",
    "invert_colormap",
    "read_subject_calibration",
    "read_subject_render",
    "render_sequence",
    "stretch_forward",
    "stretch_inverse",
    "subjects_table",
]

# The torch datasets need torch: imported on first use (PEP 562), so that catalogues, splits and JSOC
# manifests work without it.
_LAZY = {
    "AugmentedDataset": "torch_dataset",
    "JetSequenceDataset": "torch_dataset",
    "TensorJetDataset": "torch_dataset",
    "augment_sequence": "torch_dataset",
}
__getattr__, __dir__ = _lazy.lazy_attributes(__name__, _LAZY)
