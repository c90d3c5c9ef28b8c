"""
One entry of the preprocessed-sequence cache on disk: its file names, checksums and the checks its sidecar
must pass before it is served (the format is described in `sunpy_jets.datasets.cache`).
"""

import hashlib
import json
import re
from pathlib import Path

import numpy as np

from astropy.time import Time

from .._json import parse_json
from .._paths import ATOMIC_RESERVE, check_file_name
from ..exceptions import FileFormatError, InputError, InputTypeError
from ..model.config import JetModelConfig

__all__ = [
    "CACHE_FORMAT",
    "CACHE_VERSION",
    "PREPROCESSING_FIELDS",
    "check_config",
    "config_hash",
    "entry_paths",
    "file_sha256",
    "load_frames",
    "read_sidecar",
    "sidecar_digest",
]

CACHE_FORMAT = "sunpy_jets.sequence"
CACHE_VERSION = 2
PREPROCESSING_FIELDS = (
    "n_frames", "image_size", "wavelength_angstrom", "instrument", "cadence_s", "fov_arcsec",
    "exposure_normalize", "clip_min", "clip_max", "mean", "std",
)  # fmt: skip
"""The `~sunpy_jets.model.JetModelConfig` fields that change the cached arrays (architecture ones do not)."""

_SAFE = re.compile(r"[^A-Za-z0-9._-]")


def check_config(config):
    """``config``, or the published recipe for None; InputTypeError for anything but a JetModelConfig."""
    config = JetModelConfig() if config is None else config
    if not isinstance(config, JetModelConfig):
        raise InputTypeError(f"config must be a JetModelConfig, not {type(config).__name__}")
    return config


def config_hash(config=None):
    """
    A short hash of a configuration's preprocessing constants.

    Parameters
    ----------
    config : `~sunpy_jets.model.JetModelConfig`, optional
        The published recipe by default.

    Returns
    -------
    str
        16 hex digits; equal for configurations that preprocess identically.

    Examples
    --------
    >>> from sunpy_jets.model import JetModelConfig
    >>> config_hash(JetModelConfig(hidden_size=8)) == config_hash(JetModelConfig())
    True
    >>> config_hash(JetModelConfig(image_size=64)) == config_hash(JetModelConfig())
    False
    """
    values = {k: v for k, v in check_config(config).to_dict().items() if k in PREPROCESSING_FIELDS}
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]


def entry_paths(cache_dir, label_id):
    """The ``.npz`` and ``.json`` paths of ``label_id``'s entry; InputError when the id cannot name a file."""
    stem = _SAFE.sub("_", str(label_id))
    if not stem.strip("._"):
        raise InputError(f"label id {label_id!r} cannot name a cache file: give letters or digits")
    check_file_name(cache_dir, f"{stem}.json", "label_id", reserve=ATOMIC_RESERVE)
    return Path(cache_dir) / f"{stem}.npz", Path(cache_dir) / f"{stem}.json"


def sidecar_digest(meta) -> str:
    """SHA-256 of a sidecar's fields other than ``sidecar_sha256``, as canonical JSON."""
    fields = {k: v for k, v in meta.items() if k != "sidecar_sha256"}
    return hashlib.sha256(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def file_sha256(path):
    """SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_sidecar_fields(meta, json_path):
    """FileFormatError unless the fields readers use have the types `write_cached_sequence` writes."""

    def bad(field):
        return FileFormatError(f"{json_path} has an invalid {field!r} (edited or corrupt): rebuild this entry")

    for field in ("label_id", "label", "group", "sha256"):
        if not isinstance(meta.get(field), str):
            raise bad(field)
    if meta.get("target") not in (0, 1) or isinstance(meta.get("target"), bool):
        raise bad("target")
    times, shape, center = meta.get("times"), meta.get("shape"), meta.get("center")
    if not (isinstance(times, list) and times and all(isinstance(t, str) for t in times)):
        raise bad("times")
    if not (isinstance(shape, list) and len(shape) == 3 and all(isinstance(n, int) and n > 0 for n in shape)
            and shape[0] == len(times)):  # fmt: skip
        raise bad("shape")
    if not (isinstance(center, dict) and all(isinstance(center.get(k), (int, float)) for k in ("Tx", "Ty"))
            and isinstance(center.get("obstime"), (str, type(None)))):  # fmt: skip
        raise bad("center")
    try:
        Time([*times, *([center["obstime"]] if center["obstime"] else [])], format="isot", scale="utc")
    except ValueError as exc:
        raise bad("times") from exc


def read_sidecar(json_path, config, verify):
    """The sidecar dict of a valid entry; FileFormatError (or InputError on a config mismatch) otherwise."""
    npz_path = json_path.with_suffix(".npz")
    try:
        text = json_path.read_bytes()
    except OSError as exc:
        raise FileFormatError(f"cache sidecar {json_path} is unreadable ({exc}): rebuild this entry") from None
    advice = "rebuild this unreadable entry"
    meta = parse_json(text, error=FileFormatError, what=f"cache sidecar {json_path}", advice=advice)
    if not isinstance(meta, dict) or meta.get("format") != CACHE_FORMAT or meta.get("version") != CACHE_VERSION:
        raise FileFormatError(f"{json_path} is not a version-{CACHE_VERSION} sunpy_jets cache sidecar: rebuild it")
    if meta.get("sidecar_sha256") != sidecar_digest(meta):
        raise FileFormatError(
            f"{json_path} does not match its sidecar_sha256: its label, times or centre were edited; rebuild this entry"
        )
    _check_sidecar_fields(meta, json_path)
    if config is not None and meta.get("config_hash") != config_hash(config):
        raise InputError(
            f"{json_path} was built with other preprocessing constants ({meta.get('config')}): "
            "rebuild the cache for this configuration (build_cache(..., overwrite=True)) or use another folder"
        )
    if not npz_path.is_file():
        raise FileFormatError(f"{npz_path} is missing although its sidecar exists: rebuild this entry")
    if verify and file_sha256(npz_path) != meta.get("sha256"):
        raise FileFormatError(f"{npz_path} does not match its recorded checksum (corrupt or partial): rebuild it")
    return meta


def load_frames(npz_path, meta):
    """The float32 frames of an entry whose sidecar ``meta`` was read; FileFormatError when they do not match."""
    try:
        with np.load(npz_path, allow_pickle=False) as archive:
            frames = archive["frames"]
    except (OSError, ValueError, KeyError) as exc:
        raise FileFormatError(f"{npz_path} cannot be read as a cached sequence ({exc}): rebuild it") from exc
    if list(frames.shape) != list(meta["shape"]):
        raise FileFormatError(f"{npz_path} holds shape {frames.shape}, its sidecar says {meta['shape']}: rebuild it")
    return frames.astype(np.float32, copy=False)
