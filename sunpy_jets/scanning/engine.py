"""
Scanning long observations: jet probabilities of every sliding window, and jet events.

`scan` reads the frames as a stream (one file at a time, `~sunpy_jets.inputs.iter_maps`), preprocesses
each with `~sunpy_jets.inputs.FramePreprocessor`, resamples to the model cadence on the fly
(linear interpolation between the previous and the current frame), encodes every model frame with the
CNN **once**, and runs the LSTM over each window of ``config.n_frames`` frame features. Only the
features of the current window (and a small thumbnail of its frames, for the centroid) are kept, so
memory does not grow with the length of the observation. The cost of N frames is N frame encodings and
N/stride short LSTM passes. Files are read and preprocessed a few frames ahead in a reader thread, so that
decoding overlaps with the model's work.

A gap between two frames longer than a window ends the current run of windows and starts a new one
(with an `~sunpy_jets.exceptions.InputWarning`) instead of failing the whole observation.

Fields of view larger than the model's are tiled (see `sunpy_jets.scanning`).

`detect` turns the windows into `~sunpy_jets.events.JetEvents` with
`~sunpy_jets.events.events_from_windows`, adding the provenance the HEK needs.
"""

import itertools
import queue
import threading
import warnings
from collections import deque

import numpy as np
import torch
from tqdm.auto import tqdm

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.table import QTable
from astropy.time import Time

from ..exceptions import InputError, InputTypeError, InputWarning
from ..inputs.maps import MIN_FRAMES, count_frames, iter_maps
from ..events.detection import events_from_windows
from ..inputs.preprocessing import _CADENCE_TOLERANCE, _FOV_TOLERANCE, FramePreprocessor, _preprocessing_notes, standardize
from .tiling import DEFAULT_MAX_RADIUS, _GridGeometry, TileGrid, crop_tiles, make_tile_grid, pool_tiles

__all__ = ["scan", "detect", "events_from_scan", "provenance", "METHODS"]

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


def _warn(message, stacklevel=4):
    warnings.warn(message, InputWarning, stacklevel=stacklevel)


def _check_int(value, name, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InputError(f"{name} must be an integer of at least {minimum}, not {value!r}")
    return int(value)


class _Resampler:
    """Streaming version of `~sunpy_jets.inputs.resample_time`: frames in, frames on the grid out."""

    def __init__(self, step, max_gap):
        self.step = step
        self.max_gap = max_gap
        self.prev = None
        self.t0 = 0.0
        self.k = 0
        #: Grid frames made by interpolating between two real frames, and the longest spacing met.
        self.n_interpolated = 0
        self.longest = 0.0

    def push(self, t, frame):
        """Return ``(new_run, gap, [(grid_time, frame), ...])`` for a frame at ``t`` seconds."""
        gap = None
        if self.prev is not None and t - self.prev[0] > self.max_gap:
            gap = (self.prev[0], t)
            self.prev = None
        if self.prev is None:
            self.t0, self.k, self.prev = t, 1, (t, frame)
            return True, gap, [(t, frame)]
        tp, fp = self.prev
        dt = t - tp
        self.longest = max(self.longest, dt)
        tol = _CADENCE_TOLERANCE * min(self.step, dt)
        out = []
        while (g := self.t0 + self.k * self.step) <= t + _CADENCE_TOLERANCE * self.step:
            if abs(g - tp) <= tol:
                value = fp
            elif abs(t - g) <= tol or g >= t:
                value = frame
            else:
                w = (g - tp) / dt
                value = ((1 - w) * fp + w * frame).astype(np.float32)
                self.n_interpolated += 1
            out.append((g, value))
            self.k += 1
        self.prev = (t, frame)
        return False, None, out


def _single_tile(pre, first_map) -> TileGrid:
    """The trivial 'grid' of a field that fits the model: one tile, the model grid."""
    geometry = _GridGeometry(pre)
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


def _thumbnail(frame, k):
    if k == 1:
        return frame.astype(np.float32, copy=False)
    h, w = frame.shape
    ph, pw = -h % k, -w % k
    padded = np.pad(frame, ((0, ph), (0, pw)), mode="edge")
    return padded.reshape((h + ph) // k, k, (w + pw) // k, k).mean(axis=(1, 3), dtype=np.float32)


def _centroids(first, last, grid: TileGrid, k: int) -> tuple[np.ndarray, np.ndarray]:
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
    med = np.median(flat, axis=1)
    mad = np.median(np.abs(flat - med[:, None]), axis=1)
    w = np.clip(d - (med + 3 * 1.4826 * mad)[:, None, None], 0, None).astype(np.float64)
    h, wd = w.shape[1:]
    yy, xx = np.mgrid[:h, :wd]
    sums = []
    for q in (w, w * xx, w * yy):
        c = np.zeros((len(q), h + 1, wd + 1))
        c[:, 1:, 1:] = q.cumsum(1).cumsum(2)
        sums.append(c)
    r0 = np.clip(grid.origins[:, 0] // k, 0, h)
    c0 = np.clip(grid.origins[:, 1] // k, 0, wd)
    r1 = np.clip(-(-(grid.origins[:, 0] + grid.size) // k), 0, h)
    c1 = np.clip(-(-(grid.origins[:, 1] + grid.size) // k), 0, wd)
    total, sx, sy = (c[:, r1, c1] - c[:, r0, c1] - c[:, r1, c0] + c[:, r0, c0] for c in sums)
    with np.errstate(invalid="ignore", divide="ignore"):
        cx = np.where(total > 0, sx / total, np.nan)
        cy = np.where(total > 0, sy / total, np.nan)
    centroids = np.stack([(cx + 0.5) * k - 0.5, (cy + 0.5) * k - 0.5], axis=-1)
    return centroids, total * k * k


class _Scanner:
    """State of one scan: the preprocessing, the run's feature ring buffer, and the rows found so far."""

    def __init__(self, clf, first_map, *, stride, center, width, tiles, overlap, method, max_radius):
        config = clf.config
        self.config = config
        self.model = clf.model.eval()
        self.device = clf.device
        self.n = config.n_frames
        self.stride = stride
        self.method = method
        scale = np.abs([first_map.scale.axis1.to_value(u.arcsec / u.pix),
                        first_map.scale.axis2.to_value(u.arcsec / u.pix)])
        extent = np.array(first_map.data.shape[::-1]) * scale
        too_large = bool(np.any(extent > config.fov_arcsec * (1 + _FOV_TOLERANCE)))
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
            self.grid = _single_tile(self.pre, first_map)
        ph, pw = self.grid.padded_shape
        self.frame_batch = max(1, min(_FRAME_BATCH, (_FRAME_BATCH * config.image_size**2) // (ph * pw)))
        self.thumb_k = max(1, int(np.ceil(max(ph, pw) / _THUMB_SIZE)))
        self.resampler = _Resampler(config.cadence_s, config.n_frames * config.cadence_s)
        self.t_ref = first_map.date
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
        return float((m.date - self.t_ref).to_value(u.s)), frame

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
            _warn(
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
                _warn(
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
        if not self.tiled:
            return self.model.encode_frames(x, previous=previous)[:, None]
        parts = []
        for encoder, inputs in self.model.branches(x, previous):
            if self.method == "pool":
                parts.append(pool_tiles(encoder.feature_maps(inputs), self.grid))
            else:
                crops = crop_tiles(inputs, self.grid)
                feats = torch.cat([encoder(crops[i : i + 64]) for i in range(0, len(crops), 64)])
                parts.append(feats.reshape(len(x), len(self.grid), -1))
        return torch.cat(parts, dim=-1)

    def flush(self):
        if not self.pending:
            return
        times, frames = zip(*self.pending)
        self.pending = []
        feats = self._encode(torch.from_numpy(np.stack(frames))[:, None])
        self.features = feats if self.features is None else torch.cat([self.features, feats])
        self.thumbs.extend(_thumbnail(f, self.thumb_k) for f in frames)
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
        # A frame's LSTM input projection is shared by every window holding it: compute it once per frame.
        windows = self.model.window_inputs(sub, length, self.stride)
        # (n_windows, n_tiles, length, D) to one sequence per window and tile.
        nw, nt, _, nf = windows.shape
        seqs = windows.reshape(nw * nt, length, nf)
        classify = self.model.classify_windows
        logits = torch.cat([classify(seqs[i : i + _WINDOW_BATCH]) for i in range(0, len(seqs), _WINDOW_BATCH)])
        first = np.stack([self.thumbs[int(s) - self.buf_start] for s in starts])
        last = np.stack([self.thumbs[int(s) - self.buf_start + length - 1] for s in starts])
        self.rows["start"].append(np.array([self.times[int(s) - self.buf_start] for s in starts]))
        self.rows["end"].append(np.array([self.times[int(s) - self.buf_start + length - 1] for s in starts]))
        self.rows["logit"].append(logits.float().cpu().numpy().astype(np.float64).reshape(nw, nt))
        centroids, change = _centroids(first, last, self.grid, self.thumb_k)
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
        table = QTable({"start_time": start_time, "end_time": end_time, "probability": 1.0 / (1.0 + np.exp(-logit))})
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


def _in_background(items, function, depth=_READ_AHEAD):
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


def _check_options(stride, method, overlap, tiles, max_radius, progress):
    stride = _check_int(stride, "stride")
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


def scan(clf, data, *, stride=1, center=None, width=None, tiles=None, overlap=0.5, method="pool",
         max_radius=DEFAULT_MAX_RADIUS, progress=None) -> QTable:
    """
    Jet probability of every sliding window (and every tile) of an observation of any length.

    Parameters
    ----------
    clf : `~sunpy_jets.classifier.JetClassifier`
        The classifier (its model, recipe, device and progress setting are used).
    data : `~sunpy.map.MapSequence`, list, str, `~pathlib.Path`, `~ndcube.NDCube` or `~ndcube.NDCubeSequence`
        The frames; see `~sunpy_jets.inputs.iter_maps`. Files are read one at a time.
    stride : int
        Model frames between the starts of consecutive windows.
    center : `~astropy.coordinates.SkyCoord`, optional
        Centre of one cutout to scan (no tiling).
    width : `~astropy.units.Quantity`, optional
        Side of that cutout (default: the model's field of view).
    tiles : bool, optional
        Tile the field (`True`), never tile (`False`), or tile only when the field is larger than the
        model's (`None`, default).
    overlap : float
        Fraction of a tile shared with its neighbour (the step is rounded to the encoder's cell grid).
    method : {"pool", "crop"}
        ``"pool"`` encodes each frame once and pools features per tile; ``"crop"`` crops and encodes
        each tile (exact, slower). See `sunpy_jets.scanning`.
    max_radius : float or None
        Skip tiles further than this many solar radii from disk centre (None keeps all).
    progress : bool, optional
        Show a progress bar (default: the classifier's setting).

    Returns
    -------
    `~astropy.table.QTable`
        One row per window (and tile): ``start_time`` and ``end_time`` (`~astropy.time.Time`, first
        and last frame of the window), ``probability``, ``centroid`` (helioprojective
        `~astropy.coordinates.SkyCoord` of the brightness change between the window's first and last
        frame, NaN where nothing changed), ``change`` (the brightness change the centroid weighs, summed
        over the tile in standardised units × model pixels; 0 where nothing changed) and, when tiled,
        ``tile`` (index in the full grid), ``tile_center``, ``tile_width``, ``tile_height``. ``meta`` holds the scan's settings and the
        cutout's ``center`` and ``extent``.

    Raises
    ------
    `~sunpy_jets.exceptions.InputError`, `~sunpy_jets.exceptions.InputTypeError`
        For unusable input or options.

    Warns
    -----
    `~sunpy_jets.exceptions.InputWarning`
        At gaps longer than a window, for runs too short for a window, padded fields and missing pixels.

    Examples
    --------
    >>> import astropy.units as u
    >>> from sunpy_jets import JetClassifier
    >>> from sunpy_jets.model import JetModelConfig
    >>> from sunpy_jets.scanning import scan
    >>> from sunpy_jets.synthetic import make_sequence
    >>> seq = make_sequence(kind="quiet", seed=0, n_frames=12, shape=(32, 32), scale=9.375 * u.arcsec / u.pix,
    ...                     bad_frame_rate=0)
    >>> clf = JetClassifier(JetModelConfig(image_size=32, channels=(4, 8), hidden_size=8, n_frames=8),
    ...                     device="cpu", seed=0, progress=False)
    >>> table = scan(clf, seq.maps, stride=2)
    >>> len(table), table.colnames
    (3, ['start_time', 'end_time', 'probability', 'centroid', 'change'])
    """
    stride = _check_options(stride, method, overlap, tiles, max_radius, progress)
    config = clf.config
    total = count_frames(data)
    maps = iter_maps(
        data, instrument=config.instrument, wavelength=config.wavelength, need_exposure=config.exposure_normalize
    )
    first = next(maps)
    scanner = _Scanner(
        clf, first, stride=stride, center=center, width=width, tiles=tiles, overlap=overlap, method=method,
        max_radius=max_radius,
    )
    show = clf.progress if progress is None else bool(progress)
    disable = not show or (total is not None and total < 4 * config.n_frames)
    with tqdm(total=total, unit="frame", desc="scanning", disable=disable) as bar:
        n_read = 0
        for t, frame in _in_background(itertools.chain([first], maps), scanner.read):
            scanner.push(t, frame)
            bar.update(1)
            n_read += 1
    if n_read < MIN_FRAMES:
        raise InputError(
            f"the input holds {n_read} frame; a jet is a change in time, so give at least {MIN_FRAMES} frames"
        )
    scanner.end_run(final=True)
    resampler = scanner.resampler
    if resampler.n_interpolated:
        _warn(
            f"{resampler.n_interpolated} frame(s) off the model's {config.cadence:.0f} cadence (longest spacing "
            f"{resampler.longest:.1f} s) were resampled by linear interpolation",
            stacklevel=2,
        )
    if scanner.skipped_runs:
        _warn(
            f"{len(scanner.skipped_runs)} run(s) between gaps ({', '.join(map(str, scanner.skipped_runs))} frames) "
            f"were shorter than a window of {config.n_frames} frames and were not scanned",
            stacklevel=2,
        )
    pre = scanner.pre
    for note in _preprocessing_notes(config, padded=pre.padded, extent=pre.extent, n_missing=pre.n_missing):
        _warn(note, stacklevel=2)
    return scanner.table(stride=stride)


def provenance(clf, table) -> dict:
    """
    The `~sunpy_jets.events.JetEvents` meta of a scan: the model's name, version and SHA-256, and the
    observatory, instrument and channel of the frames (from ``table.meta``).

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.table import QTable
    >>> from sunpy_jets import JetClassifier
    >>> from sunpy_jets.scanning import provenance
    >>> table = QTable(meta={"observatory": "SDO", "instrument": "AIA_4", "wavelength": 304 * u.AA})
    >>> meta = provenance(JetClassifier(), table)
    >>> meta["obs_instrument"], meta["obs_channelid"], meta["model_name"]
    ('AIA', '304', 'sunpy_jets')
    """
    card = clf.card
    meta = {
        "model_name": card.name,
        "model_version": card.package_version or None,
        "model_sha256": card.sha256 or None,
    }
    wavelength = table.meta.get("wavelength")
    if table.meta.get("observatory"):
        meta["obs_observatory"] = table.meta["observatory"]
    if table.meta.get("instrument"):
        meta["obs_instrument"] = table.meta["instrument"].split("_")[0]
    if wavelength is not None:
        meta["obs_channelid"] = f"{wavelength.to_value(u.AA):g}"
        meta["obs_meanwavel"] = wavelength.to(u.AA)
    return {key: value for key, value in meta.items() if value is not None}


def events_from_scan(clf, table, *, threshold=None, low_threshold=None, min_windows=1, merge_gap=0 * u.s):
    """
    Jet events from a scan table: `~sunpy_jets.events.events_from_windows` with the classifier's provenance.

    Parameters
    ----------
    clf : `~sunpy_jets.classifier.JetClassifier`
        The classifier that made the scan (its threshold is the default, its model card the provenance).
    table : `~astropy.table.QTable`
        The output of `scan`.
    threshold, low_threshold, min_windows, merge_gap
        As for `detect`.

    Returns
    -------
    `~sunpy_jets.events.JetEvents`

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.table import QTable
    >>> from astropy.time import Time
    >>> from sunpy_jets import JetClassifier
    >>> from sunpy_jets.scanning import events_from_scan
    >>> start = Time("2011-01-20T09:00") + [0, 1, 2] * u.min
    >>> table = QTable({"start_time": start, "end_time": start + 12 * u.min, "probability": [0.2, 0.9, 0.3]})
    >>> from astropy.coordinates import SkyCoord
    >>> from sunpy.coordinates import Helioprojective
    >>> table.meta.update({"center": SkyCoord(-245 * u.arcsec, -1003 * u.arcsec, frame=Helioprojective),
    ...                    "extent": [300, 300] * u.arcsec})
    >>> events = events_from_scan(JetClassifier(threshold=0.5), table)
    >>> len(events), events[0]["event_peaktime"].isot, events.meta["model_name"]
    (1, '2011-01-20T09:07:00.000000', 'sunpy_jets')
    """
    threshold = clf.threshold if threshold is None else threshold
    options = {
        "threshold": threshold, "low_threshold": low_threshold, "min_windows": min_windows, "merge_gap": merge_gap
    }
    kwargs = {}
    if "tile_center" not in table.colnames:
        center_, extent = table.meta.get("center"), table.meta.get("extent")
        if extent is None:
            raise InputError(
                "the scan table has no tile columns and no meta['extent']: give JetClassifier.scan's output"
            )
        kwargs = {"tile_center": center_, "tile_width": extent[0], "tile_height": extent[1]}
    return events_from_windows(table, **options, meta=provenance(clf, table), **kwargs)


def detect(clf, data, *, threshold=None, low_threshold=None, min_windows=1, merge_gap=0 * u.s, stride=1,
           center=None, width=None, tiles=None, overlap=0.5, method="pool", max_radius=DEFAULT_MAX_RADIUS,
           progress=None):
    """
    Jet events in an observation: `scan`, then `~sunpy_jets.events.events_from_windows`.

    Parameters
    ----------
    clf : `~sunpy_jets.classifier.JetClassifier`
        The classifier.
    data
        The frames; see `scan`.
    threshold : float, optional
        Window probability that starts an event (default: the classifier's ``threshold``).
    low_threshold : float, optional
        Probability that keeps an event going (hysteresis; default ``0.6 * threshold``).
    min_windows : int
        Fewest windows in an event.
    merge_gap : `~astropy.units.Quantity`
        Largest gap in time bridged between runs of windows.
    stride, center, width, tiles, overlap, method, max_radius, progress
        As for `scan`.

    Returns
    -------
    `~sunpy_jets.events.JetEvents`
        Events with start, end and peak times, peak probability, the brightness-change-weighted position
        and the union of their tiles' boxes; ``meta`` holds the model's name and SHA-256, the thresholds
        and the instrument and channel, which `~sunpy_jets.events.JetEvents.to_hek` writes out.

    Examples
    --------
    >>> import astropy.units as u
    >>> from sunpy_jets import JetClassifier
    >>> from sunpy_jets.model import JetModelConfig
    >>> from sunpy_jets.scanning import detect
    >>> from sunpy_jets.synthetic import make_sequence
    >>> seq = make_sequence(kind="quiet", seed=0, n_frames=12, shape=(32, 32), scale=9.375 * u.arcsec / u.pix,
    ...                     bad_frame_rate=0)
    >>> clf = JetClassifier(JetModelConfig(image_size=32, channels=(4, 8), hidden_size=8, n_frames=8),
    ...                     device="cpu", seed=0, progress=False)
    >>> events = detect(clf, seq.maps, threshold=0.99)
    >>> len(events), events.meta["threshold"], events.meta["obs_channelid"]
    (0, 0.99, '304')
    """
    threshold = clf.threshold if threshold is None else threshold
    options = {
        "threshold": threshold, "low_threshold": low_threshold, "min_windows": min_windows, "merge_gap": merge_gap
    }
    # Check the merging options on no windows before hours of scanning, not after.
    empty = QTable({"start_time": Time([], format="mjd"), "end_time": Time([], format="mjd"), "probability": []})
    events_from_windows(empty, **options)
    table = scan(
        clf, data, stride=stride, center=center, width=width, tiles=tiles, overlap=overlap, method=method,
        max_radius=max_radius, progress=progress,
    )
    return events_from_scan(clf, table, **options)
