"""
The inference engine behind `~sunpy_jets.scanning.scan`, ``JetClassifier.predict_proba`` and the Dask path.

`Scanner` takes frames on the model's cadence grid (`~sunpy_jets.inputs._cadence.CadenceGrid`), encodes
each frame once in batches, and classifies every window of ``config.n_frames`` frame features, per tile
for fields larger than the model's. `in_background` reads and preprocesses files in a thread ahead of
the model's work.
"""

import queue
import threading
from collections import deque

import numpy as np
import torch

import astropy.units as u
from astropy.coordinates import SkyCoord

from ..exceptions import InputError, InputTypeError, InputWarning
from ..settings import warn_user
from ..inputs import FramePreprocessor, standardize
from ..inputs._cadence import FOV_TOLERANCE, CadenceGrid
from ..inputs._checks import observation_time
from ..model.device import autocast
from ._geometry import GridGeometry
from ._windows import classify_windows, window_inputs
from .table import ScanTable
from .tiling import TileGrid, crop_tiles, make_tile_grid, pool_tiles

__all__ = ["METHODS", "Scanner", "in_background", "check_options", "single_tile", "warn", "check_int"]

#: Ways to encode tiles: pool features of the whole frame (fast), or crop and encode each tile (exact).
METHODS = ("pool", "crop")

# Frames of the model's size encoded per batch; larger frames get proportionally fewer.
_FRAME_BATCH = 32
# Sequences per LSTM batch.
_WINDOW_BATCH = 1024
# Frames read and preprocessed ahead of the model, in a reader thread.
_READ_AHEAD = 4
# Thumbnails used for the brightness-change centroid are at most this many pixels on a side.
_THUMB_SIZE = 512
# Pixels (at least) from which `tile_centroids` takes each window's noise level.
_NOISE_SAMPLE = 8192


def warn(message):
    """An `InputWarning` at the user's line (the Scanner's default ``report``)."""
    warn_user(message, InputWarning)


def check_int(value, name, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InputError(f"{name} must be an integer of at least {minimum}, not {value!r}")
    return int(value)


def single_tile(pre, first_map) -> TileGrid:
    """The trivial 'grid' of a field that fits the model: one tile, the model grid."""
    geometry = GridGeometry(pre)
    geometry.wcs = first_map.wcs
    n = pre.grid_shape[0]
    center = pre.center
    return TileGrid(
        size=n,
        step=n,
        cell=n,
        shape=(1, 1),
        padded_shape=tuple(pre.grid_shape),
        keep=np.array([0]),
        origins=np.array([[0, 0]]),
        centers=SkyCoord([center.Tx], [center.Ty], frame=center.frame),
        width=pre.extent[0],
        height=pre.extent[1],
        geometry=geometry,
    )


def thumbnail(frame, k):
    if k == 1:
        return frame.astype(np.float32, copy=False)
    h, w = frame.shape
    ph, pw = -h % k, -w % k
    padded = np.pad(frame, ((0, ph), (0, pw)), mode="edge")
    return padded.reshape((h + ph) // k, k, (w + pw) // k, k).mean(axis=(1, 3), dtype=np.float32)


def tile_centroids(first, last, grid: TileGrid, k: int) -> tuple[np.ndarray, np.ndarray]:
    """
    Brightness-change-weighted centroids of each tile, and the change they weigh.

    The weight of a pixel is its ``|last - first|`` change above a robust noise level of the frame
    (median + 3 scaled MAD), so that noise does not pull the centroid to the tile centre; tiles with no
    change above it get NaN. Returns the centroids (model pixels, ``(nw, n_tiles, 2)`` as col, row) and
    each tile's summed weight (``(nw, n_tiles)``, standardised units × model pixels), with which events
    weigh the centroids of their tiles.
    """
    d = np.abs(last - first)
    flat = d.reshape(len(d), -1)
    # The noise level from a regular sample of the pixels: two medians of every pixel were a quarter of a
    # single-tile scan's time, and the level of ~10,000 pixels is the same to about 1 %.
    sample = flat[:, :: max(1, flat.shape[1] // _NOISE_SAMPLE)]
    med = np.median(sample, axis=1)
    mad = np.median(np.abs(sample - med[:, None]), axis=1)
    w = np.clip(d - (med + 3 * 1.4826 * mad)[:, None, None], 0, None)
    h, wd = w.shape[1:]
    r0 = np.clip(grid.origins[:, 0] // k, 0, h)
    c0 = np.clip(grid.origins[:, 1] // k, 0, wd)
    r1 = np.clip(-(-(grid.origins[:, 0] + grid.size) // k), 0, h)
    c1 = np.clip(-(-(grid.origins[:, 1] + grid.size) // k), 0, wd)
    # Each tile's weighted sums from its row and column marginals: two passes over its pixels, where
    # summed-area tables took six over the whole frame (a third of a single-tile scan's time).
    total, sx, sy = (np.zeros((len(w), len(r0))) for _ in range(3))
    for j, (a, b, c, e) in enumerate(zip(r0, r1, c0, c1)):
        block = w[:, a:b, c:e]
        by_row = block.sum(axis=2, dtype=np.float64)
        total[:, j] = by_row.sum(axis=1)
        sy[:, j] = by_row @ np.arange(a, b, dtype=np.float64)
        sx[:, j] = block.sum(axis=1, dtype=np.float64) @ np.arange(c, e, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        cx = np.where(total > 0, sx / total, np.nan)
        cy = np.where(total > 0, sy / total, np.nan)
    centroids = np.stack([(cx + 0.5) * k - 0.5, (cy + 0.5) * k - 0.5], axis=-1)
    return centroids, total * k * k


class Scanner:
    """State of one scan: the preprocessing, the run's feature ring buffer, and the rows found so far."""

    def __init__(self, clf, first_map, *, stride, center, width, tiles, overlap, method, max_radius):
        config = clf.config
        self.config = config
        #: How the scan reports a gap or a short run: an InputWarning to the caller; a service may log instead.
        self.report = warn
        self.model = clf.model.eval()
        self.device = clf.device
        self.precision = clf.precision
        self.n = config.n_frames
        self.stride = stride
        self.method = method
        scale = np.abs([first_map.scale.axis1.to_value(u.arcsec / u.pix),
                        first_map.scale.axis2.to_value(u.arcsec / u.pix)])
        extent = np.array(first_map.data.shape[::-1]) * scale
        too_large = bool(np.any(extent > config.fov_arcsec * (1 + FOV_TOLERANCE)))
        if center is not None and tiles:
            raise InputError("give either center= (one cutout) or tiles=True, not both")
        self.tiled = bool(tiles) if tiles is not None else (center is None and too_large)
        if self.tiled:
            self.pre = FramePreprocessor(first_map, config, full_frame=True)
            self.grid = make_tile_grid(
                self.pre, first_map, config, n_stages=len(config.channels), overlap=overlap, max_radius=max_radius
            )
        else:
            self.pre = FramePreprocessor(first_map, config, center=center, width=width)
            self.grid = single_tile(self.pre, first_map)
        ph, pw = self.grid.padded_shape
        self.frame_batch = max(1, min(_FRAME_BATCH, (_FRAME_BATCH * config.image_size**2) // (ph * pw)))
        self.thumb_k = max(1, int(np.ceil(max(ph, pw) / _THUMB_SIZE)))
        self.resampler = CadenceGrid(config.cadence_s, config.n_frames * config.cadence_s)
        self.t_ref = observation_time(first_map)
        self.meta_first = first_map
        self.rows = {"start": [], "end": [], "logit": [], "centroid": [], "change": []}
        self.n_windows = 0
        self.skipped_runs = []
        self._new_run()

    def _new_run(self):
        self.pending = []  # (grid time, standardized frame) awaiting encoding
        self.features = None  # (L, n_tiles, F) features of run frames buf_start..
        self.previous = None  # the last encoded frame of the run
        self.thumbs = deque()
        self.times = deque()
        self.buf_start = 0
        self.run_count = 0
        self.next_win = 0

    # --- stream ------------------------------------------------------------------------------------------
    def read(self, m):
        """Spatial preprocessing of one map (thread-safe for one reader): ``(seconds since the first, frame)``."""
        frame = self.pre(m)
        if self.tiled:
            frame = self.grid.pad(frame)
        # the time the checks parsed (cached by the date cards): sunpy's m.date parses it again each call
        return float((observation_time(m) - self.t_ref).to_value(u.s)), frame

    def resume(self, run_start, k0, previous_map):
        """
        Put a fresh scanner where a scan of the whole run is at model frame ``k0`` (distributed chunks).

        That is the run's time origin (``run_start``, a `~astropy.time.Time`), the grid index, and the map
        before the one that emits grid point ``k0`` (the left side of its interpolation), which is state,
        not a frame the chunk pushes. The chunk's first window must start at ``k0``: a window's first
        frame sees no change (`~sunpy_jets.model.JetRCNN.window_start`), so no earlier model frame is needed.
        """
        resampler = self.resampler
        resampler.t0 = float((run_start - self.t_ref).to_value(u.s))
        resampler.k = k0
        resampler.prev = self.read(previous_map)

    def push(self, t, frame):
        new_run, gap, out = self.resampler.push(t, frame)
        if gap is not None:
            self.end_run(final=False)
            self.report(
                f"the {(gap[1] - gap[0]) / 60:.1f} min gap after {(self.t_ref + gap[0] * u.s).isot} is longer than a "
                "window; the scan goes on with a new run of windows after it"
            )
            self._new_run()
        for g, value in out:
            self.pending.append((g, standardize(value[None], self.config)[0]))
            if len(self.pending) >= self.frame_batch:
                self.flush()

    def end_run(self, *, final):
        self.flush()
        if 0 < self.run_count < self.n:
            if final and self.n_windows == 0:
                # The whole input is shorter than a window: classify it as it is, like predict_proba.
                self.report(
                    f"the sequence spans {self.run_count} frames at {self.config.cadence:.0f}, fewer than the model's "
                    f"window of {self.n}; it is classified as it is"
                )
                self._windows(np.array([0]), length=self.run_count)
            else:
                self.skipped_runs.append(self.run_count)

    # --- model work --------------------------------------------------------------------------------------
    @torch.inference_mode()
    def _encode(self, x):
        x = x.to(self.device)
        # The run's last encoded frame, for models that read frame differences.
        previous, self.previous = self.previous, x[-1]
        with autocast(self.device, self.precision):
            if not self.tiled:
                feats = self.model.encode_frames(x, previous=previous)[:, None]
            else:
                parts = []
                for encoder, inputs in self.model.branches(x, previous):
                    if self.method == "pool":
                        parts.append(pool_tiles(encoder.feature_maps(inputs), self.grid))
                    else:
                        crops = crop_tiles(inputs, self.grid)
                        tiles = torch.cat([encoder(crops[i : i + 64]) for i in range(0, len(crops), 64)])
                        parts.append(tiles.reshape(len(x), len(self.grid), -1))
                feats = torch.cat(parts, dim=-1)
        # The buffer of features (and the state a service saves) stays float32 at every precision.
        return feats.float()

    def flush(self):
        if not self.pending:
            return
        times, frames = zip(*self.pending)
        self.pending = []
        feats = self._encode(torch.from_numpy(np.stack(frames))[:, None])
        self.features = feats if self.features is None else torch.cat([self.features, feats])
        self.thumbs.extend(thumbnail(f, self.thumb_k) for f in frames)
        self.times.extend(times)
        self.run_count += len(frames)
        last_start = self.run_count - self.n
        if last_start >= self.next_win:
            starts = np.arange(self.next_win, last_start + 1, self.stride)
            self._windows(starts, length=self.n)
            self.next_win = int(starts[-1]) + self.stride
        # Drop what no future window needs: the buffer is at most a window plus a batch.
        drop = min(self.next_win, self.run_count) - self.buf_start
        if drop > 0:
            self.features = self.features[drop:]
            for _ in range(drop):
                self.thumbs.popleft()
                self.times.popleft()
            self.buf_start += drop

    @torch.inference_mode()
    def _windows(self, starts, *, length):
        """Classify the windows starting at run indices ``starts`` (all complete and in the buffer)."""
        offset = int(starts[0]) - self.buf_start
        sub = self.features[offset : offset + int(starts[-1] - starts[0]) + length]
        with autocast(self.device, self.precision):
            # A frame's LSTM input projection is shared by every window holding it: compute it once per frame.
            windows = window_inputs(self.model, sub, length, self.stride)
            # (n_windows, n_tiles, length, D) to one sequence per window and tile.
            nw, nt, _, nf = windows.shape
            seqs = windows.reshape(nw * nt, length, nf)
            logits = torch.cat(
                [classify_windows(self.model, seqs[i : i + _WINDOW_BATCH]) for i in range(0, len(seqs), _WINDOW_BATCH)]
            )
        first = np.stack([self.thumbs[int(s) - self.buf_start] for s in starts])
        last = np.stack([self.thumbs[int(s) - self.buf_start + length - 1] for s in starts])
        self.rows["start"].append(np.array([self.times[int(s) - self.buf_start] for s in starts]))
        self.rows["end"].append(np.array([self.times[int(s) - self.buf_start + length - 1] for s in starts]))
        self.rows["logit"].append(logits.float().cpu().numpy().astype(np.float64).reshape(nw, nt))
        centroids, change = tile_centroids(first, last, self.grid, self.thumb_k)
        self.rows["centroid"].append(centroids)
        self.rows["change"].append(change)
        self.n_windows += nw

    # --- result ------------------------------------------------------------------------------------------
    def table(self, *, stride):
        grid = self.grid
        nt = len(grid)
        if self.n_windows:
            start = np.concatenate(self.rows["start"])
            end = np.concatenate(self.rows["end"])
            logit = np.concatenate(self.rows["logit"]).ravel()
            cen = np.concatenate(self.rows["centroid"]).reshape(-1, 2)
            change = np.concatenate(self.rows["change"]).ravel()
        else:
            start = end = logit = change = np.zeros(0)
            cen = np.zeros((0, 2))
        start_time = self.t_ref + np.repeat(start, nt) * u.s
        end_time = self.t_ref + np.repeat(end, nt) * u.s
        table = ScanTable({"start_time": start_time, "end_time": end_time, "probability": 1.0 / (1.0 + np.exp(-logit))})
        frame = grid.centers.frame
        if self.tiled:
            index = np.tile(np.arange(nt), len(start))
            table["tile"] = grid.keep[index]
            table["tile_center"] = grid.centers[index]
            table["tile_width"] = np.full(len(index), grid.width.to_value(u.arcsec)) * u.arcsec
            table["tile_height"] = np.full(len(index), grid.height.to_value(u.arcsec)) * u.arcsec
        good = np.all(np.isfinite(cen), axis=1)
        tx = np.full(len(cen), np.nan)
        ty = np.full(len(cen), np.nan)
        if good.any():
            world = grid.to_world(cen[good, 0], cen[good, 1])
            tx[good], ty[good] = world.Tx.to_value(u.arcsec), world.Ty.to_value(u.arcsec)
        table["centroid"] = SkyCoord(tx * u.arcsec, ty * u.arcsec, frame=frame)
        table["change"] = change
        m = self.meta_first
        table.meta.update(
            {
                "n_frames": self.n,
                "stride": stride,
                "cadence": self.config.cadence,
                "tiled": self.tiled,
                "method": self.method if self.tiled else "cutout",
                "n_tiles": nt,
                "tile_grid": grid.shape,
                "center": self.pre.center,
                "extent": self.pre.extent if not self.tiled else u.Quantity([grid.width, grid.height]),
                "observatory": str(m.observatory or ""),
                "instrument": str(m.instrument or ""),
                "detector": str(m.detector or ""),
                "wavelength": m.wavelength,
            }
        )
        return table


    # --- incremental use and persistence (sunpy_jets.watch) ---------------------------------------------
    # A scan that lives across processes: the watcher keeps only the windows it may still need (drop_windows)
    # and saves the whole stream state between polls (state_dict / load_state_dict), so that a restarted
    # process goes on exactly where the saved one was, without reading or encoding a frame twice.
    def drop_windows(self, before):
        """Forget the classified windows that start before ``before`` (seconds since the first frame)."""
        if not self.n_windows:
            return
        rows = {key: np.concatenate(value) for key, value in self.rows.items()}
        keep = rows["start"] >= before
        self.rows = {key: [value[keep]] for key, value in rows.items()}
        self.n_windows = int(keep.sum())

    def state_dict(self):
        """
        The scan's stream state after classifying what is pending: ``(scalars, arrays)``.

        ``scalars`` is JSON-serialisable, ``arrays`` maps names to numpy arrays (for safetensors); with
        the first frame's map, `load_state_dict` puts a new scanner with the same options where this one is.
        """
        self.flush()
        grid = self.resampler
        rows = {key: np.concatenate(value) if value else np.zeros(0) for key, value in self.rows.items()}
        scalars = {
            "t0": grid.t0, "k": grid.k, "n_interpolated": grid.n_interpolated, "longest": grid.longest,
            "prev_t": None if grid.prev is None else grid.prev[0], "buf_start": self.buf_start,
            "run_count": self.run_count, "next_win": self.next_win, "n_windows": self.n_windows,
            "skipped_runs": list(self.skipped_runs), "n_missing": self.pre.n_missing, "has_previous": False,
        }  # fmt: skip
        arrays = {f"rows.{key}": value for key, value in rows.items()}
        arrays["times"] = np.asarray(self.times, dtype=np.float64)
        if self.thumbs:
            arrays["thumbs"] = np.stack(self.thumbs)
        if self.features is not None:
            arrays["features"] = self.features.float().cpu().numpy()
        if self.previous is not None:
            arrays["previous"] = self.previous.float().cpu().numpy()
            scalars["has_previous"] = True
        if grid.prev is not None and grid.prev[1] is not None:
            arrays["prev_frame"] = np.asarray(grid.prev[1])
        return scalars, arrays

    def load_state_dict(self, scalars, arrays):
        """Restore the state `state_dict` gave (on a scanner built from the same first frame and options)."""
        grid = self.resampler
        grid.t0, grid.k = float(scalars["t0"]), int(scalars["k"])
        grid.n_interpolated, grid.longest = int(scalars["n_interpolated"]), float(scalars["longest"])
        grid.prev = None if scalars["prev_t"] is None else (float(scalars["prev_t"]), arrays.get("prev_frame"))
        self.pending = []
        self.buf_start, self.run_count = int(scalars["buf_start"]), int(scalars["run_count"])
        self.next_win, self.n_windows = int(scalars["next_win"]), int(scalars["n_windows"])
        self.skipped_runs = [int(n) for n in scalars["skipped_runs"]]
        self.pre.n_missing = int(scalars["n_missing"])
        self.times = deque(float(t) for t in arrays["times"])
        self.thumbs = deque(arrays["thumbs"]) if "thumbs" in arrays else deque()
        features = arrays.get("features")
        self.features = None if features is None else torch.from_numpy(np.array(features)).to(self.device)
        previous = arrays.get("previous") if scalars["has_previous"] else None
        self.previous = None if previous is None else torch.from_numpy(np.array(previous)).to(self.device)
        self.rows = {key: [arrays[f"rows.{key}"]] if self.n_windows else [] for key in self.rows}


def in_background(items, function, depth=_READ_AHEAD):
    """
    Yield ``function(item)`` for each item, computed in a reader thread up to ``depth`` items ahead.

    File decoding and preprocessing (numpy, astropy and torch release the GIL) then overlap with the
    model's work on earlier frames. Exceptions of the reader are raised here, in order.
    """
    results = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry):
        while not stop.is_set():
            try:
                results.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work():
        try:
            for item in items:
                if not put((True, function(item))):
                    return
            put((False, None))
        except BaseException as e:  # noqa: BLE001 - handed over to the consumer, which raises it
            put((None, e))

    reader = threading.Thread(target=work, name="sunpy_jets-reader", daemon=True)
    reader.start()
    try:
        while True:
            ok, value = results.get()
            if ok is None:
                raise value
            if not ok:
                return
            yield value
    finally:
        stop.set()
        reader.join()


def check_options(stride, method, overlap, tiles, max_radius):
    stride = check_int(stride, "stride")
    if method not in METHODS:
        raise InputError(f"method must be one of {METHODS}, not {method!r}")
    if isinstance(overlap, bool) or not isinstance(overlap, (int, float, np.floating)) or not 0 <= overlap < 1:
        raise InputError(f"overlap must be a number in [0, 1), not {overlap!r}")
    if tiles is not None and not isinstance(tiles, (bool, np.bool_)):
        raise InputTypeError(f"tiles must be None (automatic), True or False, not {tiles!r}")
    if max_radius is not None and (
        isinstance(max_radius, bool) or not isinstance(max_radius, (int, float)) or max_radius <= 0
    ):
        raise InputError(f"max_radius must be a positive number of solar radii or None, not {max_radius!r}")
    return stride
