"""
Scanning many FITS files on a Dask cluster (the ``dask`` extra: ``pip install "sunpy_jets[dask]"``).

`scan_files` gives the same windows and events as a single-process `~sunpy_jets.JetClassifier.detect`
over the same files, on any `dask.distributed` cluster: a `~dask.distributed.LocalCluster` (the
default), a batch-system cluster of `dask-jobqueue <https://jobqueue.dask.org>`__ (Slurm, PBS, ...)
or a cloud cluster.

How the work is split, so that the result does not depend on it:

1. The files' headers are read on the workers (no pixel data) and the files sorted by time.
2. The observation is cut into *runs* at gaps longer than a window (where a single-process scan
   starts a new run too), and each run's model-cadence time grid is laid out exactly as
   `~sunpy_jets.scanning.scan` lays it out.
3. Each run is cut into chunks of about ``chunk_size`` window starts. A chunk holds the files its
   windows need (so consecutive chunks share the ``n_frames - 1`` model frames of one window) and
   one file before them, from which the worker picks up the time grid and the interpolation exactly
   where a single-process scan would be; every chunk keeps only the windows that start inside it, so
   no window is computed twice in the result.
4. The classifier's weights (safetensors bytes and its JSON card) are sent to every worker once
   (``client.scatter(..., broadcast=True)``) and the model is built once per worker process.
5. A file that cannot be read, or that breaks the sequence (wrong shape, wavelength, duplicated
   time), is reported in `DistributedScanResult.failed_files`; the chunks it touched are planned and
   scanned again without it, so the result is that of a single-process scan of the good files.
"""

import hashlib
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors
from tqdm.auto import tqdm

import astropy.units as u
from astropy.table import QTable, vstack
from astropy.time import Time

from sunpy import log  # sunpy's logger, as the rest of the ecosystem logs

from ..classifier import JetClassifier
from ..events.detection import events_from_windows
from ..exceptions import FileFormatError, InputError, InputTypeError, InputWarning
from ..inputs._cadence import grid_emitters
from ..inputs._checks import SequenceChecker
from ..inputs._files import expand_path_argument, header_time, read_fits
from ..inputs._notes import preprocessing_notes
from ..model.weights import ModelCard
from ..settings import show_progress
from ._engine import Scanner, check_options, in_background
from .engine import events_from_scan, scan
from .tiling import DEFAULT_MAX_RADIUS

__all__ = ["scan_files", "DistributedScanResult", "DEFAULT_CHUNK_SIZE"]


#: Window starts (model frames) per task by default: 4 h at 24 s, so the window shared with the next
#: chunk (29 frames by default) costs about 5 % more encoding.
DEFAULT_CHUNK_SIZE = 600

# Files whose headers are read per task.
_HEADER_BATCH = 256


@dataclass
class DistributedScanResult:
    """
    What `scan_files` found.

    Attributes
    ----------
    windows : `~astropy.table.QTable`
        One row per window (and tile), as `~sunpy_jets.scanning.scan` gives.
    events : `~sunpy_jets.events.JetEvents`
        The windows merged into events, as `~sunpy_jets.scanning.detect` gives.
    failed_files : `~astropy.table.QTable`
        ``path`` and ``reason`` of every file left out.
    n_chunks : int
        Tasks the scan was split into.

    Examples
    --------
    >>> from astropy.table import QTable
    >>> from sunpy_jets.scanning import DistributedScanResult
    >>> failed = QTable({"path": ["a.fits"], "reason": ["header could not be read"]})
    >>> str(DistributedScanResult(windows=QTable(), events=None, failed_files=failed).failed_files["reason"][0])
    'header could not be read'
    """

    windows: QTable
    events: object
    failed_files: QTable
    n_chunks: int = 0


# -------------------------------------------------------------------------------------------------
# Work done on the workers


def _read_times(paths):
    """``[(path, Time or None, reason)]``: each file's observation time as sunpy reads it, from its header only."""
    out = []
    for path in paths:
        try:
            # The time as sunpy.map.Map(path).date reads it, refused (not replaced by "now") as every reader does.
            out.append((path, header_time(path), ""))
        except FileFormatError as e:
            out.append((path, None, f"header could not be read: {e}"))
        except InputError as e:
            out.append((path, None, str(e)))
        except Exception as e:  # noqa: BLE001 - any unreadable file is reported, whatever the reason
            out.append((path, None, f"header could not be read: {e}"))
    return out


_WORKER_MODELS = {}


def _worker_classifier(payload):
    """The classifier of ``payload`` (weights bytes, card JSON, precision), built once per worker process."""
    weights, card_dict, precision, key = payload
    clf = _WORKER_MODELS.get(key)
    if clf is None:
        if not torch.cuda.is_available():
            # One Dask thread per worker process: torch gets the worker's share of the cores, not all of them.
            try:
                from distributed import get_worker

                torch.set_num_threads(max(1, get_worker().state.nthreads))
            except ValueError:  # not on a worker (a test calling the task directly)
                pass
        card = ModelCard.from_dict(card_dict)
        clf = JetClassifier(card.config, threshold=card.threshold, device="auto", progress=False, precision=precision)
        clf.model.load_state_dict(load_safetensors(weights))
        clf.model.eval()
        clf.card = card
        _WORKER_MODELS.clear()  # a worker keeps one model: a new scan brings new weights
        _WORKER_MODELS[key] = clf
    return clf


def _scan_chunk(payload, spec):
    """Scan one chunk; return its windows, the files that failed, and the warnings raised."""
    clf = _worker_classifier(payload)
    config = clf.config
    failed = []
    checker = SequenceChecker(
        need_exposure=config.exposure_normalize, instrument=config.instrument, wavelength=config.wavelength
    )

    def checked(path):
        try:
            return checker(read_fits(Path(path)))
        except Exception as e:  # noqa: BLE001 - any file that cannot be used is reported, whatever the reason
            failed.append((path, str(e) if isinstance(e, InputError) else f"could not be read: {e}"))
            return None

    result = {"table": None, "failed": failed, "warnings": [], "n_missing": 0, "padded": False, "extent": None}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", InputWarning)
        if spec["whole"]:
            # Shorter than a window in all: scan it in one go, as detect does (files are read twice; they are few).
            good = [path for path in spec["files"] if checked(path) is not None]
            if not failed:
                result["table"] = scan(clf, good, progress=False, **spec["options"])
        else:
            reference = checked(spec["reference"])
            if reference is None:
                return result
            loaded = {spec["reference"]: reference}

            def load(path):
                m = loaded.pop(path, None)
                return m if m is not None else checked(path)

            scanner = Scanner(clf, reference, **spec["options"])
            files = list(spec["files"])
            if spec["k0"] > 0:
                prev = load(files[0])
                files = files[1:]
                if prev is not None:
                    scanner.resume(spec["run_start"], spec["k0"], prev)
            # Files are decoded in a reader thread while the model works, as in a single-process scan.
            maps = (m for m in map(load, files) if m is not None)
            for t, frame in in_background(maps, scanner.read):
                scanner.push(t, frame)
            scanner.flush()
            n_rows = spec["n_windows"] * len(scanner.grid)
            result.update(
                table=scanner.table(stride=spec["options"]["stride"])[:n_rows],
                n_missing=scanner.pre.n_missing, padded=scanner.pre.padded, extent=scanner.pre.extent,
            )  # fmt: skip
    result["warnings"] = [str(w.message) for w in caught if issubclass(w.category, InputWarning)]
    return result


# -------------------------------------------------------------------------------------------------
# Planning on the client


def _plan(paths, times, config, *, stride, chunk_size, options):
    """Cut the sorted files into chunk specifications and list the runs too short for a window."""
    n, step = config.n_frames, float(config.cadence_s)
    t_ref = times[0]
    t = np.array([float((ti - t_ref).to_value(u.s)) for ti in times])
    breaks = np.flatnonzero(np.diff(t) > n * step) + 1
    runs = np.split(np.arange(len(t)), breaks)
    gaps = [(t[b - 1], t[b]) for b in breaks]
    emit = [grid_emitters(t[r], step) for r in runs]
    if all(len(e) < n for e in emit):
        return [{"whole": True, "files": list(paths), "options": options, "n_windows": None}], [], gaps
    per_chunk = max(stride, chunk_size // stride * stride)
    specs, short = [], []
    for run, e in zip(runs, emit):
        n_grid = len(e)
        if n_grid < n:
            short.append(n_grid)
            continue
        starts = np.arange(0, n_grid - n + 1, stride)
        for a in range(0, len(starts), per_chunk // stride):
            chunk_starts = starts[a : a + per_chunk // stride]
            k0, last = int(chunk_starts[0]), int(chunk_starts[-1]) + n - 1
            first_file = e[k0] - 1 if k0 > 0 else 0
            files = [paths[i] for i in run[first_file : e[last] + 1]]
            specs.append({
                "whole": False, "files": files, "reference": paths[0], "k0": k0, "run_start": times[run[0]],
                "n_windows": len(chunk_starts), "options": options,
            })  # fmt: skip
    return specs, short, gaps


def _spec_key(spec):
    """What a chunk's result depends on: a chunk planned again with the same key is not scanned again."""
    start = spec.get("run_start")
    start = None if start is None else (float(start.jd1), float(start.jd2))
    return (tuple(spec["files"]), spec.get("reference"), start, spec.get("k0"), spec["n_windows"])


def _as_paths(files):
    if type(files).__name__ == "UnifiedResponse":
        raise InputTypeError(
            "a Fido search result holds no files yet: download it first, files = Fido.fetch(result), "
            "and give the downloaded files"
        )
    if isinstance(files, (str, Path)):
        return [str(p) for p in expand_path_argument(files)]
    try:
        paths = [str(Path(p).expanduser()) for p in files]
    except TypeError as e:
        raise InputTypeError(
            f"files must be a list of FITS paths, a glob pattern or a directory, not {type(files).__name__}"
        ) from e
    if not paths:
        raise InputError("the list of files is empty")
    return paths


def _default_n_workers():
    return max(1, (os.cpu_count() or 1) // 2)


def _default_client():
    from distributed import Client, LocalCluster

    # Processes, as decoding FITS holds the GIL; one per two cores, as each worker keeps two busy (its reader
    # thread decodes the next files while the model runs; benchmarks/bench_distributed.py: on 2 cores one
    # worker scans 10.3 files/s, two 8.6). On a GPU machine every worker uses the GPU; for one worker per
    # GPU, pass a client of dask-cuda's LocalCUDACluster. Bound to this machine: nothing outside needs it.
    cluster = LocalCluster(
        n_workers=_default_n_workers(), threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    )
    return Client(cluster), cluster


def _payload(clf):
    state = {k: v.detach().to("cpu").contiguous() for k, v in clf.model.state_dict().items()}
    weights = save_safetensors(state)
    card = clf.card.to_dict() | {"config": clf.config.to_dict(), "threshold": clf.threshold}
    return weights, card, clf.precision, f"{hashlib.sha256(weights).hexdigest()}-{clf.precision}"


def scan_files(
    files, classifier, *, client=None, chunk_size=DEFAULT_CHUNK_SIZE, stride=1, threshold=None, low_threshold=None,
    min_windows=1, merge_gap=0 * u.s, center=None, width=None, tiles=None, overlap=0.5, method="pool",
    max_radius=DEFAULT_MAX_RADIUS, retries=2, progress=None,
) -> DistributedScanResult:  # fmt: skip
    """
    Scan many FITS files on a Dask cluster and merge the windows into jet events.

    The result equals that of ``classifier.detect(good_files, ...)`` in one process (window
    probabilities up to floating-point noise between batch sizes), where ``good_files`` are the
    files not in ``failed_files``.

    Parameters
    ----------
    files : list of str or `~pathlib.Path`, str
        FITS files of one channel, in any order; a glob pattern or a directory. The files of a Fido
        download are ``Fido.fetch(result)``, a list of paths (a search result must be fetched first).
    classifier : `~sunpy_jets.JetClassifier`
        The classifier; its weights go to every worker once.
    client : `distributed.Client`, optional
        The cluster to use (a `~distributed.LocalCluster`, a dask-jobqueue ``SLURMCluster``, a cloud
        cluster...). By default a `~distributed.LocalCluster` with one single-threaded worker process
        per two cores (each decodes files in a reader thread while its model runs) is started and
        closed afterwards. Workers with a GPU use it.
    chunk_size : int
        Window starts (model frames) per task.
    stride : int
        Model frames between window starts.
    threshold, low_threshold, min_windows, merge_gap
        Event options, as for `~sunpy_jets.scanning.detect` (``threshold`` defaults to the classifier's).
    center, width, tiles, overlap, method, max_radius
        Scan options, as for `~sunpy_jets.scanning.scan`.
    retries : int
        Times Dask runs a task again after its worker died.
    progress : bool
        Show a progress bar over the tasks and print the dashboard's address (default: the package-wide
        switch, `sunpy_jets.settings.show_progress`).

    Returns
    -------
    `DistributedScanResult`
        ``windows``, ``events`` and ``failed_files``.

    Raises
    ------
    `~sunpy_jets.exceptions.InputError`, `~sunpy_jets.exceptions.InputTypeError`
        For unusable options, an empty list, or when no file can be read.

    Examples
    --------
    >>> from sunpy_jets import JetClassifier
    >>> from sunpy_jets.scanning import scan_files
    >>> scan_files([], JetClassifier())
    Traceback (most recent call last):
    ...
    sunpy_jets.exceptions.InputError: the list of files is empty
    """
    if not isinstance(classifier, JetClassifier):
        raise InputTypeError(f"classifier must be a JetClassifier, not {type(classifier).__name__}")
    paths = _as_paths(files)
    stride = check_options(stride, method, overlap, tiles, max_radius)
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise InputError(f"chunk_size must be a positive integer, not {chunk_size!r}")
    if isinstance(retries, bool) or not isinstance(retries, (int, np.integer)) or retries < 0:
        raise InputError(f"retries must be a non-negative integer, not {retries!r}")
    event_options = {
        "threshold": classifier.threshold if threshold is None else threshold, "low_threshold": low_threshold,
        "min_windows": min_windows, "merge_gap": merge_gap,
    }  # fmt: skip
    # Check the event options on no windows now, not after hours of scanning.
    empty = QTable({"start_time": Time([], format="mjd"), "end_time": Time([], format="mjd"), "probability": []})
    events_from_windows(empty, **event_options)
    options = {"stride": stride, "center": center, "width": width, "tiles": tiles, "overlap": overlap,
               "method": method, "max_radius": max_radius}  # fmt: skip

    cluster = None
    if client is None:
        client, cluster = _default_client()
    progress = show_progress(progress)
    try:
        if progress:
            tqdm.write(f"sunpy_jets: Dask dashboard at {client.dashboard_link}")
        log.info("Dask dashboard at %s", client.dashboard_link)
        return _run(paths, classifier, client, options, event_options, chunk_size, retries, progress)
    finally:
        if cluster is not None:
            client.close()
            cluster.close()


def _run(paths, clf, client, options, event_options, chunk_size, retries, progress):
    from distributed import as_completed

    batches = [paths[i : i + _HEADER_BATCH] for i in range(0, len(paths), _HEADER_BATCH)]
    headers = [r for batch in client.gather(client.map(_read_times, batches, retries=retries)) for r in batch]
    failed = {path: reason for path, date, reason in headers if date is None}
    good = [(date, path) for path, date, _ in headers if date is not None]
    good.sort(key=lambda item: (item[0].jd1, item[0].jd2))
    # The same time twice would stop a single-process scan; here the later file is left out and reported.
    seen, ordered = {}, []
    for date, path in good:
        key = (float(date.jd1), float(date.jd2))
        if key in seen:
            failed[path] = f"has the same observation time ({date.isot}) as {seen[key]}"
        else:
            seen[key] = path
            ordered.append((date, path))

    payload = client.scatter(_payload(clf), broadcast=True)
    results = {}
    bar = tqdm(desc="scanning", unit="chunk", disable=not progress)
    while True:
        if len(ordered) < 2:
            raise InputError(
                f"{len(ordered)} of the {len(paths)} files could be read; a jet is a change in time, so give at "
                "least 2 readable frames" + (f" ({next(iter(failed.values()))})" if failed else "")
            )
        times, chunk_paths = [d for d, _ in ordered], [p for _, p in ordered]
        specs, short, gaps = _plan(chunk_paths, times, clf.config, stride=options["stride"], chunk_size=chunk_size,
                                   options=options)  # fmt: skip
        todo = [s for s in specs if _spec_key(s) not in results]
        bar.total = len(specs)
        bar.n = len(specs) - len(todo)
        bar.refresh()
        futures = {client.submit(_scan_chunk, payload, s, retries=retries, pure=False): s for s in todo}
        newly_failed = {}
        for future in as_completed(futures):
            out = future.result()
            results[_spec_key(futures[future])] = out
            newly_failed.update(dict(out["failed"]))
            bar.update(1)
        if not newly_failed:
            break
        # Plan again without the bad files: only the chunks they touched change, the others are kept.
        failed.update(newly_failed)
        ordered = [(d, p) for d, p in ordered if p not in newly_failed]
    bar.close()

    outs = [results[_spec_key(s)] for s in specs]
    table = vstack([o["table"] for o in outs], metadata_conflicts="silent") if len(outs) > 1 else outs[0]["table"]
    table.meta = dict(outs[0]["table"].meta)
    _warn_like_scan(clf.config, outs, short, gaps, times[0])
    events = events_from_scan(clf, table, **event_options)
    failed_table = QTable({"path": list(failed), "reason": list(failed.values())}, dtype=[str, str])
    if len(failed_table):
        warnings.warn(
            f"{len(failed_table)} file(s) could not be used and were left out (see result.failed_files)",
            InputWarning, stacklevel=3,
        )  # fmt: skip
    return DistributedScanResult(windows=table, events=events, failed_files=failed_table, n_chunks=len(specs))


def _warn_like_scan(config, outs, short, gaps, t_ref):
    """The warnings a single-process scan would give, once each."""
    for t0, t1 in gaps:
        warnings.warn(
            f"the {(t1 - t0) / 60:.1f} min gap after {(t_ref + t0 * u.s).isot} is longer than a window; the scan "
            "goes on with a new run of windows after it", InputWarning, stacklevel=4,
        )  # fmt: skip
    if short:
        warnings.warn(
            f"{len(short)} run(s) between gaps ({', '.join(map(str, short))} frames) were shorter than a window "
            f"of {config.n_frames} frames and were not scanned", InputWarning, stacklevel=4,
        )  # fmt: skip
    for message in dict.fromkeys(m for o in outs for m in o["warnings"]):
        warnings.warn(message, InputWarning, stacklevel=4)
    padded = [o["extent"] for o in outs if o["padded"]]
    notes = preprocessing_notes(
        config, padded=bool(padded), extent=padded[0] if padded else None, n_missing=sum(o["n_missing"] for o in outs)
    )
    for message in notes:
        warnings.warn(message, InputWarning, stacklevel=4)
