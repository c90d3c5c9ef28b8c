"""
Events: the `JetEvents` table, window probabilities → events, HEK records and VOEvent.

The last stages of the pipeline. Nothing here imports torch, so event tables and HEK records can be
read, compared and exported on a machine without PyTorch.
"""

from .detection import events_from_windows
from .hek import (
    ARCHIVIST_FIELDS,
    format_hek_time,
    hek_event_fields,
    load_hek_records,
    normalize_hek_record,
    validate_hek_record,
)
from .localization import JetCube, cube_from_maps, segment_jets, split_by_onset
from .properties import JetMeasurement, measure_jet
from .refine import jets_table, localize_events
from .matching import EventMatch, match_events
from .provenance import hek_provenance, set_hek_provenance
from .table import JetEvents
from .voevent import read_voevent, voevent_bytes, write_voevent

__all__ = [
    "JetEvents",
    "events_from_windows",
    "localize_events",
    "match_events",
    "EventMatch",
    "set_hek_provenance",
    "hek_provenance",
    "jets_table",
    "segment_jets",
    "split_by_onset",
    "cube_from_maps",
    "JetCube",
    "JetMeasurement",
    "measure_jet",
    "ARCHIVIST_FIELDS",
    "hek_event_fields",
    "format_hek_time",
    "load_hek_records",
    "normalize_hek_record",
    "validate_hek_record",
    "write_voevent",
    "read_voevent",
    "voevent_bytes",
]
