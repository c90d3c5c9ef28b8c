"""
The on-disk cache of preprocessed sequences, so that training never re-reads FITS files.

Format (version 2; version 1 lacked ``sidecar_sha256`` and is rebuilt). A cache is a folder with two files per sequence, named after its label id
(characters other than letters, digits, ``.``, ``_`` and ``-`` replaced by ``_``):

``<id>.npz``
    A NumPy archive (no pickled objects; read with ``allow_pickle=False``) holding one array,
    ``frames``: the standardised frames, shape ``(T, H, W)``, float32 (or float16 when asked).
``<id>.json``
    The sidecar: ``format`` (``"sunpy_jets.sequence"``), ``version``, ``label_id``, ``label``,
    ``target`` (1 jet, 0 no jet), ``group`` (the HEK SOL event), ``times`` (ISO UTC, one per frame),
    ``center`` (``Tx``/``Ty`` arcsec and ``obstime`` of the helioprojective centre, Earth observer),
    ``extent`` (arcsec), ``shape``, ``dtype``, ``sha256`` of the ``.npz`` file, ``config_hash``,
    ``config`` (the preprocessing constants of the `~sunpy_jets.model.JetModelConfig` used) and
    ``sidecar_sha256``, the SHA-256 of all the other fields (canonical JSON), so that an edited
    ``target``, time or centre is noticed like an edited array.

Both files are written atomically (a temporary file in the same folder, then `os.replace`), the
array first and the sidecar last, so an entry without a sidecar is unfinished. An entry is served
only when its sidecar parses, its own and its array's checksums match and its ``config_hash`` matches the
configuration asked for: a cache built with other preprocessing constants is never mixed in.
"""

import json
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.table import QTable
from astropy.time import Time

from .._atomic import atomic_path, atomic_write_text
from ..settings import show_progress
from .._paths import check_output_dir
from ..exceptions import FileFormatError, InputError, InputTypeError, InputWarning
from ._cache_entry import (
    CACHE_FORMAT,
    CACHE_VERSION,
    PREPROCESSING_FIELDS,
    check_config,
    config_hash,
    entry_paths,
    file_sha256,
    load_frames,
    read_sidecar,
    sidecar_digest,
)
from .jsoc import completed_files

__all__ = [
    "CACHE_FORMAT",
    "CACHE_VERSION",
    "PREPROCESSING_FIELDS",
    "config_hash",
    "write_cached_sequence",
    "read_cached_sequence",
    "read_cache_index",
    "build_cache",
]


def write_cached_sequence(cache_dir, label_id, frames, *, target, group, times, center, config=None,
                          extent=None, label=None, dtype="float32"):  # fmt: skip
    """
    Write one preprocessed sequence to the cache (atomically, array first, sidecar last).

    Parameters
    ----------
    cache_dir : str or `~pathlib.Path`
        The cache folder (created if needed).
    label_id : str
        Identifier of the label (the SJH id, or the non-jet id).
    frames : array-like or `torch.Tensor`
        ``(T, H, W)`` or ``(T, 1, H, W)`` standardised frames, finite.
    target : {0, 1}
        1 for a jet, 0 for no jet.
    group : str
        The group the sequence belongs to (its HEK SOL event).
    times : `~astropy.time.Time`
        One time per frame.
    center : `~astropy.coordinates.SkyCoord`
        Helioprojective centre of the cutout.
    config : `~sunpy_jets.model.JetModelConfig`, optional
        The preprocessing used; the published recipe by default.
    extent : `~astropy.units.Quantity`, optional
        Width and height of the data in the grid (default: the config's field of view).
    label : str, optional
        ``"jet"`` or ``"non-jet"`` (default from ``target``).
    dtype : {"float32", "float16"}
        Storage type; float16 halves the size.

    Returns
    -------
    `pathlib.Path`
        The ``.npz`` file.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> import astropy.units as u
    >>> from astropy.coordinates import SkyCoord
    >>> from astropy.time import Time
    >>> from sunpy.coordinates import Helioprojective
    >>> from sunpy_jets.model import JetModelConfig
    >>> config = JetModelConfig(n_frames=2, image_size=32)
    >>> times = Time("2011-01-20T09:15:44") + [0, 24] * u.s
    >>> center = SkyCoord(-226 * u.arcsec, -957 * u.arcsec, frame=Helioprojective(observer="earth", obstime=times[0]))
    >>> folder = tempfile.mkdtemp()
    >>> path = write_cached_sequence(folder, "sjh_1", np.zeros((2, 32, 32)), target=1, group="SOL2011",
    ...                              times=times, center=center, config=config)
    >>> frames, meta = read_cached_sequence(folder, "sjh_1", config=config)
    >>> frames.shape, frames.dtype.name, meta["group"]
    ((2, 32, 32), 'float32', 'SOL2011')
    """
    config = check_config(config)
    if dtype not in ("float32", "float16"):
        raise InputError(f"dtype must be 'float32' or 'float16', not {dtype!r}")
    if hasattr(frames, "detach"):
        frames = frames.detach().cpu().numpy()
    frames = np.asarray(frames)
    if frames.ndim == 4 and frames.shape[1] == 1:
        frames = frames[:, 0]
    if frames.ndim != 3 or 0 in frames.shape:
        raise InputError(f"frames must have shape (T, H, W) or (T, 1, H, W), got {frames.shape}")
    if not np.isfinite(frames).all():
        raise InputError(f"frames of {label_id} hold NaN or Inf values: preprocess them before caching")
    if int(target) not in (0, 1):
        raise InputError(f"target must be 0 or 1, got {target!r}")
    times = Time(times)
    if times.shape != (frames.shape[0],):
        raise InputError(f"times must hold one time per frame ({frames.shape[0]}), got shape {times.shape}")
    if not isinstance(center, SkyCoord):
        raise InputTypeError(f"center must be a SkyCoord, not {type(center).__name__}")
    extent = u.Quantity([config.fov, config.fov]) if extent is None else u.Quantity(extent, u.arcsec)
    npz_path, json_path = entry_paths(cache_dir, label_id)
    npz_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.unlink(missing_ok=True)  # the entry is invalid from now until its new sidecar exists
    with atomic_path(npz_path) as tmp, open(tmp, "wb") as f:
        np.savez(f, frames=frames.astype(dtype))
    sidecar = {
        "format": CACHE_FORMAT,
        "version": CACHE_VERSION,
        "label_id": str(label_id),
        "label": label or ("jet" if int(target) == 1 else "non-jet"),
        "target": int(target),
        "group": str(group),
        "times": list(times.utc.isot),
        "center": {
            "Tx": float(center.Tx.to_value(u.arcsec)),
            "Ty": float(center.Ty.to_value(u.arcsec)),
            "obstime": Time(center.obstime).utc.isot if center.obstime is not None else None,
        },
        "extent": [float(v) for v in np.broadcast_to(extent.to_value(u.arcsec), (2,))],
        "shape": list(frames.shape),
        "dtype": dtype,
        "sha256": file_sha256(npz_path),
        "config_hash": config_hash(config),
        "config": {k: v for k, v in config.to_dict().items() if k in PREPROCESSING_FIELDS},
    }
    sidecar["sidecar_sha256"] = sidecar_digest(sidecar)
    atomic_write_text(json_path, json.dumps(sidecar, indent=1))
    return npz_path


def read_cached_sequence(cache_dir, label_id, *, config=None, verify=True):
    """
    Read one cached sequence.

    Parameters
    ----------
    cache_dir : str or `~pathlib.Path`
        The cache folder.
    label_id : str
        Identifier of the label.
    config : `~sunpy_jets.model.JetModelConfig`, optional
        When given, the entry must have been built with the same preprocessing constants.
    verify : bool
        Check the array's SHA-256 against the sidecar.

    Returns
    -------
    frames : `numpy.ndarray`
        ``(T, H, W)`` float32.
    meta : dict
        The sidecar (see the module description).

    Raises
    ------
    `~sunpy_jets.exceptions.FileFormatError`
        The entry is missing, partial or corrupt.
    `~sunpy_jets.exceptions.InputError`
        The entry was built with another configuration.

    Examples
    --------
    >>> read_cached_sequence("no_such_cache", "sjh_1")
    Traceback (most recent call last):
    ...
    sunpy_jets.exceptions.FileFormatError: no cache entry for 'sjh_1' in no_such_cache ...
    """
    npz_path, json_path = entry_paths(cache_dir, label_id)
    if not json_path.is_file():
        raise FileFormatError(f"no cache entry for {label_id!r} in {cache_dir} (no {json_path.name}): build it first")
    meta = read_sidecar(json_path, None if config is None else check_config(config), verify)
    return load_frames(npz_path, meta), meta


def read_cache_index(cache_dir, *, config=None, verify=True):
    """
    The valid entries of a cache, as a table; bad entries are reported, never served.

    Parameters
    ----------
    cache_dir : str or `~pathlib.Path`
        The cache folder.
    config : `~sunpy_jets.model.JetModelConfig`, optional
        When given, entries built with other preprocessing constants are left out (and reported).
    verify : bool
        Check every array's SHA-256 (reads the whole cache once).

    Returns
    -------
    `~astropy.table.QTable`
        Columns ``label_id``, ``label``, ``target``, ``group``, ``start_time``, ``n_frames``,
        ``center`` (SkyCoord) and ``path``, sorted by ``label_id``; ``meta["problems"]`` lists
        ``(file, reason)`` of the entries left out.

    Raises
    ------
    `~sunpy_jets.exceptions.InputError`
        The folder does not exist.

    Warns
    -----
    `~sunpy_jets.exceptions.InputWarning`
        Some entries are partial, corrupt or built with another configuration.

    Examples
    --------
    >>> import tempfile
    >>> len(read_cache_index(tempfile.mkdtemp()))
    0
    """
    from sunpy.coordinates import Helioprojective

    cache_dir = Path(cache_dir)
    if not cache_dir.is_dir():
        raise InputError(f"cache folder {cache_dir} does not exist: build it with build_cache")
    config = None if config is None else check_config(config)
    metas, problems = [], []
    for json_path in sorted(cache_dir.glob("*.json")):
        try:
            meta = read_sidecar(json_path, config, verify)
        except (FileFormatError, InputError) as exc:
            problems.append((json_path.name, str(exc)))
            continue
        metas.append((json_path.with_suffix(".npz"), meta))
    stems = {p.with_suffix("") for p in cache_dir.glob("*.json")}
    orphans = sorted(p.with_suffix("") for p in cache_dir.glob("*.npz") if p.with_suffix("") not in stems)
    problems += [(f"{p.name}.npz", "array without a sidecar (an unfinished write): rebuild it") for p in orphans]
    table = QTable(meta={"problems": problems, "cache_dir": str(cache_dir)})
    table["label_id"] = np.array([m["label_id"] for _, m in metas], dtype=str)
    table["label"] = np.array([m["label"] for _, m in metas], dtype=str)
    table["target"] = np.array([m["target"] for _, m in metas], dtype=np.int8)
    table["group"] = np.array([m["group"] for _, m in metas], dtype=str)
    times = Time([m["times"][0] for _, m in metas] or [], format="isot", scale="utc")
    table["start_time"] = times
    table["n_frames"] = np.array([m["shape"][0] for _, m in metas], dtype=int)
    obstimes = Time([m["center"]["obstime"] or m["times"][0] for _, m in metas] or [], format="isot", scale="utc")
    table["center"] = SkyCoord(
        np.array([m["center"]["Tx"] for _, m in metas], dtype=float) * u.arcsec,
        np.array([m["center"]["Ty"] for _, m in metas], dtype=float) * u.arcsec,
        frame=Helioprojective(observer="earth" if metas else None, obstime=obstimes),
    )
    table["path"] = np.array([str(p) for p, _ in metas], dtype=str)
    if problems:
        shown = "; ".join(f"{name}: {reason}" for name, reason in problems[:3])
        warnings.warn(
            f"{len(problems)} cache entr{'y' if len(problems) == 1 else 'ies'} in {cache_dir} left out: {shown}"
            + (" ..." if len(problems) > 3 else ""),
            InputWarning,
            stacklevel=2,
        )
    return table


def _items_from_manifest(manifest, download_dir):
    for row in manifest:
        files = completed_files(download_dir, row["label_id"])
        yield {
            "label_id": str(row["label_id"]),
            "data": files,
            "target": int(row["target"]),
            "group": str(row["group"]),
            "center": row["center"],
            "width": row["width"],
            "label": str(row["label"]),
        }


def _build_entry(cache_dir, label_id, item, config, overwrite, dtype):
    """Build (or keep) one entry; returns its status and message, or raises what went wrong."""
    # torch only when an entry is built (inputs.preprocessing needs it): reading a cache needs none
    from ..inputs.preprocessing import prepare_sequence

    entry_paths(cache_dir, label_id)  # a label id too long for a file name fails here, for this entry only
    if not overwrite:
        try:
            read_cached_sequence(cache_dir, label_id, config=config)
            return "cached", ""
        except (FileFormatError, InputError):
            pass  # absent, partial, corrupt or built for another config: (re)build it
    if item.get("data") is None:
        return "missing", "no complete download for this label"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prepared = prepare_sequence(item["data"], config, center=item.get("center"), width=item.get("width"))
    write_cached_sequence(
        cache_dir, label_id, prepared.frames, target=item["target"], group=item["group"],
        times=prepared.times, center=prepared.center, extent=prepared.extent, config=config,
        label=item.get("label"), dtype=dtype,
    )  # fmt: skip
    return "built", "; ".join(sorted({str(w.message) for w in caught}))


def build_cache(source, cache_dir, *, config=None, download_dir=None, overwrite=False, dtype="float32",
                progress=None):  # fmt: skip
    """
    Preprocess sequences with `~sunpy_jets.inputs.prepare_sequence` and cache them.

    Entries that are already valid for ``config`` are kept (so an interrupted build resumes);
    partial or corrupt ones are rebuilt. A sequence that fails (missing download, bad FITS, too
    short) is reported in the returned table, and the others go on.

    Parameters
    ----------
    source : `~astropy.table.QTable` or iterable of dict
        A manifest from `~sunpy_jets.datasets.build_manifest` (with ``download_dir``), or dicts with
        keys ``label_id``, ``data`` (anything `~sunpy_jets.inputs.prepare_sequence` accepts: a
        `~sunpy.map.MapSequence`, a list of files, ...), ``target``, ``group`` and optionally
        ``center``, ``width``, ``label``.
    cache_dir : str or `~pathlib.Path`
        The cache folder.
    config : `~sunpy_jets.model.JetModelConfig`, optional
        The preprocessing recipe; the published one by default.
    download_dir : str or `~pathlib.Path`, optional
        Where `~sunpy_jets.datasets.download` put the FITS files (needed with a manifest).
    overwrite : bool
        Rebuild entries that are already valid.
    dtype : {"float32", "float16"}
        Storage type of the arrays.
    progress : bool, optional
        Show a progress bar (default: the package-wide switch, `sunpy_jets.settings.show_progress`).

    Returns
    -------
    `~astropy.table.QTable`
        ``label_id``, ``status`` (``"cached"``, ``"built"``, ``"missing"`` or ``"failed"``) and ``message``.

    Warns
    -----
    `~sunpy_jets.exceptions.InputWarning`
        Once, when some sequences could not be cached.

    Examples
    --------
    >>> import tempfile
    >>> report = build_cache([], tempfile.mkdtemp(), progress=False)
    >>> len(report)
    0
    """
    config = check_config(config)
    progress = show_progress(progress)
    if isinstance(source, QTable):
        if download_dir is None:
            raise InputError("building a cache from a manifest needs download_dir= (where download() put the files)")
        items = _items_from_manifest(source, download_dir)
        total = len(source)
    elif isinstance(source, Iterable) and not isinstance(source, (str, bytes, Mapping)):
        items, total = source, (len(source) if hasattr(source, "__len__") else None)
    else:
        raise InputTypeError(
            f"source must be a manifest QTable or an iterable of dicts, not {type(source).__name__}"
        )
    cache_dir = check_output_dir(cache_dir, "cache_dir")  # before hours of preprocessing, not after
    cache_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for index, item in enumerate(tqdm(items, total=total, desc="caching sequences", disable=not progress)):
        if not isinstance(item, Mapping) or any(key not in item for key in ("label_id", "target", "group")):
            raise InputError(
                f"item {index} of source must be a dict with keys label_id, data, target and group, not {item!r:.80}"
            )
        label_id = str(item["label_id"])
        try:
            rows.append((label_id, *_build_entry(cache_dir, label_id, item, config, overwrite, dtype)))
        except Exception as exc:  # noqa: BLE001 - one bad sequence must not stop the build; it is reported
            rows.append((label_id, "failed", f"{type(exc).__name__}: {exc}"))
    report = QTable(rows=rows or None, names=("label_id", "status", "message"), dtype=(str, str, str))
    bad = [r for r in rows if r[1] in ("missing", "failed")]
    if bad:
        warnings.warn(
            f"{len(bad)} of {len(rows)} sequences were not cached (first: {bad[0][0]}: {bad[0][2]}); "
            "see the returned table",
            InputWarning,
            stacklevel=2,
        )
    return report
