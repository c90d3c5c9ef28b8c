"""
Through the public API: what a user calls on maps and files, against the published network on tensors.

Every measurement times the published RCNN's forward pass on prepared tensors (``baseline``: windows
of 8, random weights; its cost does not depend on them) in the same run, interleaved with the
public call it is compared with, so the ratio is what a user gains over running the published
network on data someone else already read, cut out, pooled and standardised:

* ``predict_proba``, on 8 `~sunpy.map.MapSequence` objects of 30 real-size AIA 304 Å cutouts
  (500×500 px at 0.6″, quiet-Sun synthetic frames already in memory) and on 8 lists of 30 real JSOC
  cutout files (``../shared/realdata``, 501×371 px, RICE-compressed, date-shifted copies at the
  model's 24 s cadence); sequences per second, preprocessing included. Every frame has its own time, and
  every call starts with the package's caches of parsed times and exposures empty (a first call);
* ``scan(stride=1)`` and ``detect`` on 240 of those files, read into a `~sunpy.map.MapSequence` first and
  as files: windows per second (the published network's rate is windows per second of its forward pass);
* ``detect`` on generated full-disk 4096² RICE-compressed files: files per second, against the
  same derived baseline as ``end_to_end`` (reading plus one full window per tile per frame).

``predict_proba`` and ``scan`` on maps in memory also run with the classifier's opt-in
``precision="bfloat16"`` (variants ``… bf16``: the same weights under `torch.autocast`).

After the timed runs, one more call of each public variant runs with its stages timed (``stages``
in the JSON, and the notes under the table): ``read`` (file headers and pixels), ``check`` (the
frame checks), ``preprocess`` (cutout, pooling, cadence, standardisation), ``encode`` (the CNN),
``windows`` (the LSTM and the centroids) and ``events``. They are wall seconds summed over threads
(the reader thread overlaps the model's work), so they may add up to more than the call.
"""

import functools
import time
import warnings
from pathlib import Path

import numpy as np

import astropy.units as u
from astropy.io import fits
from astropy.time import Time

from _common import device_context
from cases import Measurement
from cases import _models as M
from cases.end_to_end import REALDATA, _quiet, copy_with_time, full_disk_sequence
from cases.inference import in_context

__all__ = ["measurements", "cadence_sequence"]

#: Sequences per predict_proba call, files scanned, full-disk files (full run).
N_SEQUENCES = 8
N_SCAN = 240
N_DISK = 16
#: Side of the in-memory cutouts: 300″ at AIA's 0.6″ pixels.
CUTOUT = 500


def cadence_sequence(workdir, n, *, cadence=24.0):
    """``n`` copies of the real AIA 304 cutouts, cycled, with dates on a regular ``cadence`` (seconds)."""
    src = sorted(REALDATA.glob("*.fits"))
    if not src:
        raise FileNotFoundError(f"no FITS files in {REALDATA} (the shared real data are not on this machine)")
    out = Path(workdir) / f"aia304_{n}_at_{cadence:g}s"
    if out.is_dir() and len(list(out.glob("*.fits"))) == n:
        return sorted(out.glob("*.fits"))
    out.mkdir(parents=True, exist_ok=True)
    times = [Time(fits.getval(s, "DATE-OBS", 1)) for s in src]
    paths = []
    for i in range(n):
        k = i % len(src)
        shift = (times[0] + i * cadence * u.s - times[k]).to_value(u.s)
        paths.append(copy_with_time(src[k], out / f"frame_{i:05d}.fits", shift))
    return paths


def measurements(opts):
    import sunpy.map

    from sunpy_jets import JetClassifier
    from sunpy_jets.inputs._checks import clear_caches
    from sunpy_jets.synthetic import make_sequence

    quick = opts.quick
    work = Path(opts.workdir)
    n_seq = 2 if quick else N_SEQUENCES
    n_scan = opts.n_frames + 4 if quick else N_SCAN
    n_disk = 2 if quick else N_DISK
    disk_size = 512 if quick else 4096
    # --quick keeps a tiny model (48 px for 300″): its in-memory frames are 80 px for the same field.
    side = 80 if quick else CUTOUT
    full_size = (opts.size, opts.n_frames) == (166, 30)
    have_real = any(REALDATA.glob("*.fits"))

    @functools.cache
    def classifier():
        # The bundled weights (with their frame-difference encoder) are what users run; --quick's sizes differ.
        if full_size:
            return JetClassifier.from_pretrained(device=opts.device, progress=False)
        return M.classifier(opts)

    @functools.cache
    def half():
        # The same weights at the opt-in precision="bfloat16" (autocast): what JetClassifier(precision=...) gives.
        return JetClassifier.from_trained(classifier(), precision="bfloat16")

    def baseline(batch=8):
        def build():
            model, x = M.baseline(opts), M.windows(opts, batch).to(opts.device)
            return lambda: model(x)

        return build

    @functools.cache
    def map_sequences():
        out = []
        for i in range(n_seq):
            maps = make_sequence(kind="quiet", seed=i, n_frames=opts.n_frames, shape=(side, side),
                                 scale=300 / side * u.arcsec / u.pix, bad_frame_rate=0).maps
            # every frame at its own time, as in real data (times are parsed once per distinct header)
            out.append([sunpy.map.Map(m.data, {**m.meta, "date-obs": (m.date + i * u.h).isot}) for m in maps])
        return out

    def file_paths(n):
        return cadence_sequence(work, n)

    @functools.cache
    def scan_maps():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return sunpy.map.Map([str(p) for p in file_paths(n_scan)], sequence=True)

    def file_lists():
        paths = file_paths(n_seq * opts.n_frames)
        return [paths[i * opts.n_frames : (i + 1) * opts.n_frames] for i in range(n_seq)]

    def public(make):
        """A variant factory whose callable is the public call; ``make`` returns that call. Each call starts with
        the package's caches of parsed times and exposures empty: what a first call on new frames costs."""

        def build():
            call = make()

            def cold():
                clear_caches()
                return call()

            return _quiet(cold)

        return build

    windows = n_scan - opts.n_frames + 1
    out = []
    calls = {}

    def add(name, unit, count, variants, counts=None, note="", **kw):
        calls[name] = {k: v for k, v in variants.items() if k != "baseline"}
        out.append(Measurement(
            case="public_api", name=name, unit=unit, count=count, counts=counts or {"baseline": 8},
            variants={k: in_context(v, opts.device) if k == "baseline" else v for k, v in variants.items()},
            note=note, probe=False, stages=calls[name], **kw,
        ))

    add(f"predict_proba, {n_seq} MapSequences × {opts.n_frames}", "seq", n_seq, {
        "baseline": baseline(),
        "predict_proba": public(lambda: functools.partial(classifier().predict_proba, map_sequences())),
        "predict_proba bf16": public(lambda: functools.partial(half().predict_proba, map_sequences())),
    }, counts={"baseline": 8}, note=f"{side}×{side} frames in memory; baseline: the published network's forward "
                                     "pass on 8 prepared windows")
    if not have_real:
        print(f"# public_api: {REALDATA} is not here (a user's clone); the file measurements are skipped")
    else:
        add(f"predict_proba, {n_seq} file lists × {opts.n_frames}", "seq", n_seq, {
            "baseline": baseline(),
            "predict_proba": public(lambda: functools.partial(classifier().predict_proba, file_lists())),
        }, note="real JSOC 304 Å cutouts (501×371, RICE) at 24 s")
        add(f"scan/detect(stride=1), {n_scan} maps in memory", "window", windows, {
            "baseline": baseline(),
            "scan": public(lambda: functools.partial(classifier().scan, scan_maps(), stride=1, progress=False)),
            "scan bf16": public(lambda: functools.partial(half().scan, scan_maps(), stride=1, progress=False)),
            "detect": public(lambda: functools.partial(classifier().detect, scan_maps(), progress=False)),
        }, note=f"the same {n_scan} real cutouts read into a MapSequence first (issue 22's first measurement)")
        add(f"scan/detect(stride=1), {n_scan} files", "window", windows, {
            "baseline": baseline(),
            "scan": public(lambda: functools.partial(classifier().scan, file_paths(n_scan), stride=1, progress=False)),
            "detect": public(lambda: functools.partial(classifier().detect, file_paths(n_scan), progress=False)),
        }, note=f"{windows} windows of the real cutouts; baseline: windows per second of the published forward pass")

    def disk_paths():
        return full_disk_sequence(work, n_disk, size=disk_size)

    timing = {}

    def disk_baseline(timed):
        # As in end_to_end: the published network has no tiling, so one full window per tile per frame.
        from sunpy_jets.scanning import scan

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            n_tiles = int(scan(classifier(), disk_paths()[:2], progress=False).meta["n_tiles"])
        model, x = M.baseline(opts), M.windows(opts, 8).to(opts.device)
        with device_context(opts.device):
            model(x)
            best = min(_seconds(lambda: model(x)) for _ in range(2))
        timing.update(n_tiles=n_tiles, baseline_window_s=best / 8)
        return 1 / (timed["read+check"]["best_s"] / n_disk + n_tiles * best / 8)

    def read_check():
        from sunpy_jets.inputs import iter_maps

        paths, cfg = disk_paths(), classifier().config

        def call():
            for m in iter_maps(paths, instrument=cfg.instrument, wavelength=cfg.wavelength):
                np.asarray(m.data)

        return call

    name = f"detect, full disk {disk_size}², {n_disk} files"
    calls[name] = {"detect": public(lambda: functools.partial(classifier().detect, disk_paths(), progress=False))}
    out.append(Measurement(
        case="public_api", name=name, unit="file", count=n_disk,
        variants={"baseline": None, "read+check": read_check, **calls[name]},
        warmup=0 if not quick else 1, max_repeats=2, probe=False,
        derived={"baseline": (disk_baseline, "derived: read+check time + one full published window per tile per "
                                             "frame (at its batch-8 rate, measured in this case)")},
        stages=calls[name],
        note="generated JSOC-like int16 RICE files; 'read+check' is reading and checking alone",
    ))
    return out


def _seconds(f):
    t = time.perf_counter()
    f()
    return time.perf_counter() - t
