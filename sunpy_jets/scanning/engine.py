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
import re
from collections.abc import Iterator

from tqdm.auto import tqdm

import astropy.units as u
from astropy.table import QTable
from astropy.time import Time

from ..events.detection import events_from_windows
from ..events.refine import localize_events, single_window_table
from ..exceptions import InputError, InputWarning
from ..settings import warn_user
from ..inputs._checks import frame_coordinate
from ..inputs._notes import preprocessing_notes, summarize_notes
from ..inputs.maps import MIN_FRAMES, count_frames, iter_maps, resolve_search
from ._engine import METHODS, Scanner, check_options, in_background, warn
from .table import ScanTable
from .tiling import DEFAULT_MAX_RADIUS

__all__ = ["scan", "detect", "events_from_scan", "provenance", "METHODS"]

def scan(clf, data, *, stride=1, center=None, width=None, tiles=None, overlap=0.5, method="pool",
         max_radius=DEFAULT_MAX_RADIUS, progress=None) -> ScanTable:
    """
    Jet probability of every sliding window (and every tile) of an observation of any length.

    Parameters
    ----------
    clf : `~sunpy_jets.classifier.JetClassifier`
        The classifier (its model, recipe, device and progress setting are used).
    data : `~sunpy.map.MapSequence`, list, str, `~pathlib.Path`, `~ndcube.NDCube`, `~ndcube.NDCubeSequence` or Fido search
        The frames; see `~sunpy_jets.inputs.iter_maps`. Files are read one at a time. A ``Fido.search``
        result or query is downloaded first (`~sunpy_jets.inputs.fetch_frames`; files already in sunpy's
        download folder are not fetched again).
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
    `~sunpy_jets.scanning.ScanTable`
        One row per window (and tile): ``start_time`` and ``end_time`` (`~astropy.time.Time`, first
        and last frame of the window), ``probability``, ``centroid`` (helioprojective
        `~astropy.coordinates.SkyCoord` of the brightness change between the window's first and last
        frame, NaN where nothing changed), ``change`` (the brightness change the centroid weighs, summed
        over the tile in standardised units × model pixels; 0 where nothing changed) and, when tiled,
        ``tile`` (index in the full grid), ``tile_center``, ``tile_width``, ``tile_height``. ``meta`` holds the scan's settings and the
        cutout's ``center`` and ``extent``
        (also the table's `~sunpy_jets.scanning.ScanTable.center` and ``extent``); ``write("windows.ecsv")``
        and `~sunpy_jets.scanning.ScanTable.read` round-trip it.

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
    stride = check_options(stride, method, overlap, tiles, max_radius)
    config = clf.config
    data = resolve_search(data, progress=clf.progress if progress is None else progress)
    total = count_frames(data)
    maps = iter_maps(
        data, instrument=config.instrument, wavelength=config.wavelength, need_exposure=config.exposure_normalize
    )
    first = next(maps)
    scanner = Scanner(
        clf, first, stride=stride, center=center, width=width, tiles=tiles, overlap=overlap, method=method,
        max_radius=max_radius,
    )
    show = clf.progress if progress is None else bool(progress)
    disable = not show or (total is not None and total < 4 * config.n_frames)
    with tqdm(total=total, unit="frame", desc="scanning", disable=disable) as bar:
        n_read = 0
        for t, frame in in_background(itertools.chain([first], maps), scanner.read):
            scanner.push(t, frame)
            bar.update(1)
            n_read += 1
    if n_read < MIN_FRAMES:
        raise InputError(
            f"the input holds {n_read} frame; a jet is a change in time, so give at least {MIN_FRAMES} frames"
        )
    scanner.end_run(final=True)
    resampler = scanner.resampler
    notes = []  # what was done to the input: one warning for the call, at the user's line
    if resampler.n_interpolated:
        notes.append(
            f"{resampler.n_interpolated} frame(s) off the model's {config.cadence:.0f} cadence (longest spacing "
            f"{resampler.longest:.1f} s) were resampled by linear interpolation"
        )
    if scanner.skipped_runs:
        notes.append(
            f"{len(scanner.skipped_runs)} run(s) between gaps ({', '.join(map(str, scanner.skipped_runs))} frames) "
            f"were shorter than a window of {config.n_frames} frames and were not scanned"
        )
    pre = scanner.pre
    notes += preprocessing_notes(config, padded=pre.padded, extent=pre.extent, n_missing=pre.n_missing)
    if notes:
        warn_user(summarize_notes(notes), InputWarning)
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
    >>> table = QTable(meta={"observatory": "SDO", "instrument": "AIA 4", "wavelength": 304 * u.AA})
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
        meta["obs_instrument"] = re.split(r"[_\s]+", str(table.meta["instrument"]).strip())[0]
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
           progress=None, localize=True):
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
    localize : bool
        Find each jet inside the flagged windows (`~sunpy_jets.events.localize_events`: one event per jet,
        timed by its frames, with its base, spine, height, width, speed and opening angle). The frames are
        read a second time, only around the flagged windows. `False` gives the windows' events.

    Returns
    -------
    `~sunpy_jets.events.JetEvents`
        With ``localize``, one event per jet (``localized`` `True`), or the windows' event where no jet-like
        brightening was found (``localized`` `False`); else events with the windows' start, end and peak
        times, the brightness-change-weighted position and the union of their tiles' boxes. ``meta`` holds
        the model's name and SHA-256, the thresholds and the instrument and channel, which
        `~sunpy_jets.events.JetEvents.to_hek` writes out. A sequence shorter than the model's window (at
        least two frames) is classified as one window.

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
    data = resolve_search(data, progress=clf.progress if progress is None else progress)  # fetched once, read twice
    total = count_frames(data)
    maps = None
    if total is not None and MIN_FRAMES <= total < clf.config.n_frames:
        maps = list(iter_maps(data, instrument=clf.config.instrument, wavelength=clf.config.wavelength,
                              need_exposure=clf.config.exposure_normalize))
        if maps[-1].date - maps[0].date >= (clf.config.n_frames - 1) * clf.config.cadence:
            data, maps = maps, None  # few frames but sparse (36 s AIA): they span a window, so scan them
    if maps is not None:
        # Shorter than one window (a 15-frame Solar Jet Hunter subject): the whole sequence is one window.
        if center is None and max(abs(maps[0].dimensions.x * maps[0].scale.axis1),
                                  abs(maps[0].dimensions.y * maps[0].scale.axis2)) > clf.config.fov:
            center = maps[0].center  # one window cannot be tiled here: classify the model's field at the centre
        probability = float(clf.predict_proba(maps, center=center, width=width))
        center = None if center is None else frame_coordinate(center, maps[0])  # e.g. a Stonyhurst centre
        table = single_window_table(maps, probability, center=center, width=width)
    else:
        table = scan(
            clf, data, stride=stride, center=center, width=width, tiles=tiles, overlap=overlap, method=method,
            max_radius=max_radius, progress=progress,
        )
    events = events_from_scan(clf, table, **options)
    if not localize or len(events) == 0:
        return events
    if isinstance(data, Iterator):
        warn("the frames came from an iterator, which cannot be read twice: the events are not localised; "
             "give a list, a MapSequence or files to get one event per jet")
        return events
    maps = iter_maps(data, instrument=clf.config.instrument, wavelength=clf.config.wavelength,
                     need_exposure=clf.config.exposure_normalize)
    return localize_events(events, maps, windows=table)
