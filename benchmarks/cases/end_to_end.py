"""
End to end: FITS files on disk → jet events, in files per second, reading and preprocessing included.

Two inputs, both generated in the scratch folder at the start of the case:

* the real AIA 304 Å cutouts of ``../shared/realdata/jipparchus_sun_data_visualisation/aia304``
  (26 RICE-compressed JSOC files, 500×370 px, 36 s cadence), repeated with shifted ``DATE-OBS``,
  ``T_OBS`` and ``T_REC`` into a longer sequence. sunpy_jets runs `JetClassifier.detect` on all
  the files; the published RCNN reads and preprocesses the first 26 files with the same code
  (`~sunpy_jets.inputs.prepare_sequence`) and runs every stride-1 window, then thresholds
  them. Over 26 files it has fewer windows per file than in a long run, so its rate is flattered;
* full-disk 4096×4096 int16 frames, RICE-compressed like JSOC's, with a limb-darkened disk and
  noise. sunpy_jets runs `JetClassifier.detect` (tiled: the encoder runs once over the whole frame
  and its features are pooled per tile). The published RCNN has no tiling: its rate is derived from
  the read-and-preprocess time measured here plus one full window per tile per frame, at its batch-8
  window rate measured in this case. ``read+preprocess`` alone shows the ceiling set by decoding.

Copies are made by rewriting the date cards of a file's bytes (same length), so no re-compression.
"""

import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import torch

from astropy.io import fits
from astropy.time import Time
import astropy.units as u

from cases import Measurement
from cases import _models as M
from cases.inference import in_context

__all__ = ["measurements", "REALDATA", "copy_with_time", "write_full_disk", "real_sequence", "full_disk_sequence"]

REALDATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "realdata" / "jipparchus_sun_data_visualisation" / "aia304"
#: Repeats of the 26 real files for sunpy_jets, and full-disk frames (full run; --quick uses fewer).
REPEATS = 3
FULL_DISK_FRAMES = 32
FULL_DISK_BASES = 4

_DATE_CARD = re.compile(rb"((?:DATE-OBS|T_OBS   |T_REC   )= ')(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})(')")


def copy_with_time(src, dst, shift_s):
    """Copy a FITS file, moving its DATE-OBS, T_OBS and T_REC cards by ``shift_s`` seconds (same byte length)."""

    def repl(m):
        t = (Time(m.group(2).decode()) + shift_s * u.s).isot
        return m.group(1) + t.encode() + m.group(3)

    raw = Path(src).read_bytes()
    new, n = _DATE_CARD.subn(repl, raw)
    if n == 0:
        raise ValueError(f"{src} has no DATE-OBS/T_OBS/T_REC cards to shift")
    Path(dst).write_bytes(new)
    return Path(dst)


def real_sequence(workdir, repeats):
    """The real AIA 304 cutouts repeated ``repeats`` times at their own cadence, as new files."""
    src = sorted(REALDATA.glob("*.fits"))
    if not src:
        raise FileNotFoundError(f"no FITS files in {REALDATA} (the shared real data are not on this machine)")
    out = Path(workdir) / f"aia304_x{repeats}"
    if out.is_dir() and len(list(out.glob("*.fits"))) == repeats * len(src):
        return sorted(out.glob("*.fits"))
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    span = (Time(fits.getval(src[-1], "DATE-OBS", 1)) - Time(fits.getval(src[0], "DATE-OBS", 1))).to_value(u.s)
    step = span / (len(src) - 1)
    paths = []
    for r in range(repeats):
        for i, s in enumerate(src):
            paths.append(copy_with_time(s, out / f"frame_{r * len(src) + i:05d}.fits", r * (span + step)))
    return paths


def write_full_disk(path, *, size=4096, seed=0, date="2012-07-19T07:30:07.131"):
    """Write a JSOC-like RICE-compressed int16 AIA 304 full-disk frame: limb-darkened disk, faint corona, noise."""
    rng = np.random.default_rng(seed)
    scale = 0.6 * 4096 / size
    y, x = np.ogrid[:size, :size]
    c = (size - 1) / 2
    r = np.hypot(x - c, y - c) * scale / 944.0  # in solar radii (RSUN_OBS below)
    disk = np.where(r < 1, 60 * np.sqrt(np.clip(1 - r**2, 0, 1)) + 20, 20 * np.exp(-(r - 1) * 8)).astype(np.float32)
    data = (disk + rng.normal(0, 4, (size, size)).astype(np.float32)).clip(0, 32000).astype(np.int16)
    header = fits.Header({
        "TELESCOP": "SDO/AIA", "INSTRUME": "AIA_4", "DETECTOR": "AIA", "WAVELNTH": 304, "WAVEUNIT": "angstrom",
        "LVL_NUM": 1.0, "BUNIT": "DN", "EXPTIME": 2.901, "QUALITY": 0,
        "T_REC": date[:-4] + ".000", "DATE-OBS": date, "T_OBS": date,
        "CTYPE1": "HPLN-TAN", "CTYPE2": "HPLT-TAN", "CUNIT1": "arcsec", "CUNIT2": "arcsec",
        "CRPIX1": (size + 1) / 2, "CRPIX2": (size + 1) / 2, "CRVAL1": 0.0, "CRVAL2": 0.0,
        "CDELT1": scale, "CDELT2": scale, "CROTA2": 0.0,
        "DSUN_OBS": 1.5205e11, "HGLN_OBS": 0.0, "HGLT_OBS": 4.8, "RSUN_OBS": 944.0, "RSUN_REF": 6.96e8,
    })
    hdul = fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(data, header, compression_type="RICE_1")])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hdul.writeto(path, overwrite=True, output_verify="silentfix")
    return Path(path)


def full_disk_sequence(workdir, n, *, size=4096, bases=FULL_DISK_BASES, cadence=24.0):
    """``n`` full-disk files at ``cadence`` seconds: ``bases`` generated frames and date-shifted copies."""
    out = Path(workdir) / f"fulldisk_{size}_{n}"
    if out.is_dir() and len(list(out.glob("*.fits"))) == n:
        return sorted(out.glob("*.fits"))
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    base = [write_full_disk(out / f".base_{i}.fits", size=size, seed=i) for i in range(min(bases, n))]
    paths = [copy_with_time(base[i % len(base)], out / f"frame_{i:05d}.fits", i * cadence) for i in range(n)]
    for b in base:
        b.unlink()
    return paths


def _quiet(f):
    def call():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return f()
    return call


def _baseline_windows(opts, model, frames):
    """Every stride-1 window of prepared frames ``(T, 1, H, W)`` through the published RCNN, 8 at a time."""
    x, n = frames[:, 0], opts.n_frames
    n_windows = max(1, len(x) - n + 1)
    out = []
    for s in range(0, n_windows, 8):
        w = x.unfold(0, n, 1)[s : s + 8].permute(0, 3, 1, 2).contiguous()
        out.append(model(w))
    return torch.sigmoid(torch.cat(out)) > 0.5


def measurements(opts):
    from sunpy_jets.inputs import FramePreprocessor, prepare_sequence
    from sunpy_jets.inputs import iter_maps

    work = Path(opts.workdir)
    repeats = 1 if opts.quick else REPEATS
    n_disk = 3 if opts.quick else FULL_DISK_FRAMES
    disk_size = 512 if opts.quick else 4096
    # --quick keeps its tiny model grid (48 px for 300″) on the cutouts: they stay within the field of view.
    real_base = 8 if opts.quick else 26
    out = []
    have_real = any(REALDATA.glob("*.fits"))
    if not have_real:
        print(f"# end_to_end: {REALDATA} is not here (a user's clone); the real-cutout measurement is skipped")

    def real_paths():
        return real_sequence(work, repeats)[: real_base * repeats]

    def baseline_real():
        model, paths = M.baseline(opts), real_paths()[:real_base]
        cfg = M.config(opts)
        return _quiet(lambda: _baseline_windows(opts, model, prepare_sequence(paths, cfg).frames))

    def jet_real():
        clf, paths = M.classifier(opts), real_paths()
        return _quiet(lambda: clf.detect(paths, progress=False))

    out += [] if not have_real else [Measurement(
        case="end_to_end",
        name=f"aia304 cutouts, {real_base * repeats} files",
        unit="file",
        count=real_base * repeats,
        counts={"baseline": real_base},
        variants={k: in_context(v, opts.device) for k, v in {"baseline": baseline_real, "sunpy_jets": jet_real}.items()},
        note=f"baseline over the first {real_base} files (fewer windows per file than sunpy_jets' longer run)",
    )]

    def disk_paths():
        return full_disk_sequence(work, n_disk, size=disk_size)

    def read_only():
        paths, cfg = disk_paths(), M.config(opts)

        def call():
            maps = iter_maps(paths, instrument=cfg.instrument, wavelength=cfg.wavelength)
            first = next(maps)
            pre = FramePreprocessor(first, cfg, full_frame=True)
            pre(first)
            for m in maps:
                pre(m)

        return call

    def jet_disk():
        clf, paths = M.classifier(opts), disk_paths()
        return _quiet(lambda: clf.detect(paths, progress=False))

    timing = {}

    def baseline_disk(timed):
        # One full window per tile per frame, plus the same reading and preprocessing.
        from sunpy_jets.scanning import scan

        clf = M.classifier(opts)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            n_tiles = int(scan(clf, disk_paths()[:2], progress=False).meta["n_tiles"])
        model, x = M.baseline(opts), M.windows(opts, 8)
        with torch.inference_mode():
            model(x)
            best = min(_time(lambda: model(x)) for _ in range(2))
        per_window = best / 8
        per_file = timed["read+preprocess"]["best_s"] / n_disk + n_tiles * per_window
        timing.update(n_tiles=n_tiles, baseline_window_s=per_window)
        return 1 / per_file

    out.append(Measurement(
        case="end_to_end",
        name=f"full disk {disk_size}², {n_disk} files",
        unit="file",
        count=n_disk,
        variants={"baseline": None, "read+preprocess": read_only,
                  "sunpy_jets": in_context(jet_disk, opts.device)},
        # 32 full-disk files are seconds each: one timed pass (no warm-up; the first file warms up).
        warmup=0,
        max_repeats=1,
        derived={"baseline": (baseline_disk, "derived: read+preprocess time + one full window per tile per frame "
                                             "(its batch-8 window time, measured in this case)")},
    ))
    return out


def _time(f):
    import time

    t = time.perf_counter()
    f()
    return time.perf_counter() - t
