"""
The order of the gallery examples: from a first classification to training and the network examples.

sphinx-gallery imports `GalleryOrder` by name (``within_subsection_order``); files not listed here
come after the listed ones, by name.
"""

from pathlib import Path

__all__ = ["EXAMPLE_ORDER", "GalleryOrder"]

EXAMPLE_ORDER = (
    "classify_mapsequence.py",
    "classify_ndcube.py",
    "scan_long_sequence.py",
    "detect_jets_on_map.py",
    "export_voevent_hektable.py",
    "train_small_model.py",
    "synthetic_jet_beside_real_frame.py",
    "skip_download_sjh_sequences.py",
    "skip_compare_with_hek.py",
)


class GalleryOrder:
    """
    Sort key of example file names for sphinx-gallery.

    Examples
    --------
    >>> key = GalleryOrder("examples")
    >>> sorted(["train_small_model.py", "zzz.py", "classify_mapsequence.py"], key=key)
    ['classify_mapsequence.py', 'train_small_model.py', 'zzz.py']
    """

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __repr__(self):
        return "<GalleryOrder>"

    def __call__(self, filename):
        name = Path(filename).name
        rank = EXAMPLE_ORDER.index(name) if name in EXAMPLE_ORDER else len(EXAMPLE_ORDER)
        return (rank, name)
