"""
Inputs: reading and checking maps, files and ndcube objects, and preparing them for the model.

This is the first stage of the pipeline (FITS files → prepared frames → window probabilities → events
→ HEK records). `~sunpy_jets.inputs.maps` reads and checks what a user passes in
(`~sunpy_jets.inputs.fido` fetches the files of a ``Fido`` search first);
`~sunpy_jets.inputs.preprocessing` turns frames into the model's standardised input grid.
"""

from .fido import fetch_frames, is_search
from .maps import MIN_FRAMES, check_map, count_frames, iter_maps, load_maps, resolve_search
from .preprocessing import (
    FramePreprocessor,
    PreparedSequence,
    check_angle,
    check_gaps,
    prepare_sequence,
    resample_time,
    standardize,
)

__all__ = [
    "iter_maps",
    "load_maps",
    "count_frames",
    "check_map",
    "MIN_FRAMES",
    "fetch_frames",
    "is_search",
    "resolve_search",
    "PreparedSequence",
    "FramePreprocessor",
    "prepare_sequence",
    "resample_time",
    "check_gaps",
    "standardize",
    "check_angle",
]
