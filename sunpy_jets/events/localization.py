"""
Where and when each jet is: a classical segmentation of the brightenings inside flagged windows.

The classifier says *whether* a window holds a jet; `segment_jets` says *where* and *when*, one candidate
per jet. It works on the calibrated frames of a cutout (the windows a scan flagged, with a margin):

1. **Cube.** Frames in DN/s, each scaled to the same overall brightness (median ratio to the field's
   background), binned to about 1.2″ pixels and smoothed by one pixel.
2. **Excess over background.** The background of each pixel is the lower of two running 20th percentiles
   of its values, over the 16 minutes before each frame and over the 16 minutes after it (a pixel is dark
   before a jet or after it, even when the jet lights it for most of 16 minutes); each pixel's excess is
   divided by its own temporal scatter (the MAD), so bright, noisy regions do not fire.
3. **Segmentation in space and time.** Voxels above ``low`` sigmas are joined into connected regions
   (26-connectivity in ``(t, y, x)``); regions that never reach ``high`` sigmas, last fewer than
   ``min_frames`` frames or cover too few pixels are dropped, and so are regions whose brightest voxels
   (the 90th percentile of those above ``high``) rise less than ``min_contrast`` of their background: a
   jet at least doubles its pixels' brightness, while the slow few-per-cent changes of a quiet, low-noise
   field can be many sigmas and no jet. Two jets apart in space or in time (a gap of a frame or more) are
   two regions, and so are two that touch but whose pixels light minutes apart (`split_by_onset`: a jet
   that starts beside a brightening under way; in cubes of at least 41 frames, where the background runs).
4. **Jet-likeness.** `~sunpy_jets.events.measure_jet` measures each region (base, spine, height, width,
   speed...); regions that are not elongated (height below ``min_aspect`` widths), whose front does not
   reach `MIN_HEIGHT` from the base, or whose front does not rise over three frames or more are dropped:
   flare kernels and brightening points are round, small and sudden.

Nothing here imports torch.
"""

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ..exceptions import InputTypeError
from ._cube import CubeBuilder, JetCube
from .properties import measure_jet

__all__ = ["JetCube", "cube_from_maps", "segment_jets", "split_by_onset"]

_HALF_SPAN = 20
#: Shortest jet kept (arcsec): the shortest catalogued jets are about 10.7 Mm (15″).
MIN_HEIGHT = 12.0
#: Slowest front kept (km/s): jets rise at 10–1000 km/s.
MIN_SPEED = 5.0
#: Narrowest jet kept (arcsec): catalogued jets are at least about 3 Mm (4″) wide.
MIN_WIDTH = 3.0
#: Smallest rise of a jet's brightest voxels over their background (a fraction of it). Chosen low enough for
#: the Solar Jet Hunter renders, whose colour scale compresses contrast (0.3 lost 3 of 23 of their jets).
MIN_CONTRAST = 0.15
#: Largest jump (s) between neighbouring pixels' onsets within one jet (`split_by_onset`): five frames at 24 s.
ONSET_GAP = 120.0


def cube_from_maps(maps, *, bottom_left=None, top_right=None):
    """
    Stack maps of one pointing into a `JetCube` (cut to a box, binned to about 1.2″ pixels).

    Parameters
    ----------
    maps : iterable of `~sunpy.map.GenericMap`
        At least three frames of the same field, in time order.
    bottom_left, top_right : `~astropy.coordinates.SkyCoord`, optional
        A box to cut from each frame (the whole field by default).

    Returns
    -------
    `JetCube`

    Raises
    ------
    `~sunpy_jets.exceptions.InputError`
        Fewer than three frames, or frames of different shapes.

    Examples
    --------
    >>> import astropy.units as u
    >>> from sunpy_jets.synthetic import make_sequence
    >>> seq = make_sequence(kind="jet", seed=0, n_frames=4, shape=(64, 64), scale=1.8 * u.arcsec / u.pix)
    >>> cube = cube_from_maps(seq.maps)
    >>> cube.data.shape, cube.scale
    ((4, 64, 64), 1.8)
    """
    builder = CubeBuilder(bottom_left, top_right)
    for m in maps:
        builder.add(m)
    return builder.cube()


def excess_sigma(data):
    """
    Brightening of every voxel over its pixel's background, in units of the pixel's temporal scatter.

    Parameters
    ----------
    data : `numpy.ndarray`
        ``(n_frames, ny, nx)`` brightness.

    Returns
    -------
    excess, z, background : `numpy.ndarray`
        The excess (input units), its significance, and the background it is taken over (input units, each
        frame scaled to the field's overall level).
    """
    # A three-frame running median drops single-frame spikes (cosmic rays) and keeps rises and falls.
    smooth = ndimage.median_filter(data, size=(3, 1, 1), mode="nearest") if len(data) >= 3 else data
    smooth = ndimage.gaussian_filter(smooth, (0, 1, 1))
    level = np.median(smooth)
    # Frames scaled to one level (a wrong exposure time changes the whole frame).
    ratio = np.median(smooth.reshape(len(smooth), -1), axis=1) / max(level, 1e-12)
    ratio = np.where(np.isfinite(ratio) & (ratio > 0), ratio, 1.0)
    smooth = smooth / ratio[:, None, None]
    # Running low percentiles (about 16 minutes at 24 s), so slow changes of the scene are background.
    span = min(len(smooth), 2 * _HALF_SPAN + 1)
    short = len(smooth) < 2 * _HALF_SPAN + 1
    if short:
        background = ndimage.percentile_filter(smooth, 10, size=(span, 1, 1), mode="nearest")
    else:
        # The lower of a trailing and a leading window: a long or slow jet lights a pixel for most of a centred
        # window (it took the jet for background, and slow jets' speeds came out low), but the pixel is dark
        # before the jet or after it.
        before = ndimage.percentile_filter(smooth, 20, size=(span, 1, 1), origin=(_HALF_SPAN, 0, 0), mode="nearest")
        after = ndimage.percentile_filter(smooth, 20, size=(span, 1, 1), origin=(-_HALF_SPAN, 0, 0), mode="nearest")
        background = np.minimum(before, after)
    excess = smooth - background
    centre = np.median(excess, axis=0)
    scatter = 1.4826 * np.median(np.abs(excess - centre), axis=0)
    scatter = np.maximum(scatter, 0.5 * max(float(np.median(scatter)), 1e-6))
    if short:
        # In a short cutout a jet may light a pixel for most frames: its median would be the jet. Take the
        # field's typical offset instead of each pixel's.
        return excess, (excess - float(np.median(centre))) / scatter, background
    return excess, (excess - centre) / scatter, background


def segment_jets(cube, *, low=3.0, high=6.0, min_frames=3, min_pixels=12, min_aspect=1.2,
                 min_contrast=MIN_CONTRAST):
    """
    One `~sunpy_jets.events.JetMeasurement` per jet-like brightening of a cube.

    See the module documentation for the steps.

    Parameters
    ----------
    cube : `JetCube`
        The frames (`cube_from_maps`).
    low, high : `float`
        Significance (sigmas) a voxel needs to belong to a region; that a region must reach somewhere.
    min_frames : `int`
        Fewest frames a region spans.
    min_pixels : `int`
        Fewest pixels a region covers over its life.
    min_aspect : `float`
        Smallest ratio of the region's extent from the base to its mean width for a jet. Wide jets are not
        rare: 16 % of the Solar Jet Hunter catalogue's jets are less than 1.5 times as high as wide, 10 %
        less than 1.23 times.
    min_contrast : `float`
        Smallest rise over the background of a region's brightest voxels (the 90th percentile, over those
        above ``high``, of excess / background).

    Returns
    -------
    `list` of `~sunpy_jets.events.JetMeasurement`
        Sorted by onset.

    Examples
    --------
    >>> import astropy.units as u
    >>> from sunpy_jets.synthetic import JetEvent, JetParameters, make_observation
    >>> p = JetParameters(speed=150 * u.km / u.s, width=6 * u.Mm, height=60 * u.Mm,
    ...                   duration=8 * u.min, position_angle=0 * u.deg)
    >>> options = dict(duration=24 * u.min, n_distractors=0, shape=(160, 160), scale=1.2 * u.arcsec / u.pix,
    ...                bad_frame_rate=0, seed=2)
    >>> empty = make_observation(jets=[], **options)
    >>> jet = JetEvent(p, empty[0].center, empty.times[3])
    >>> obs = make_observation(jets=[jet], lazy=False, **options)
    >>> jets = segment_jets(cube_from_maps(obs.maps))
    >>> jet = jets[0]  # the first to start (a fainter brightening follows it in this scene)
    >>> bool(jet.base.separation(obs.jets[0].base) < 10 * u.arcsec), round(jet.speed / 10) * 10
    (True, 150)
    """
    if not isinstance(cube, JetCube):
        raise InputTypeError(f"cube must be a JetCube (cube_from_maps), not {type(cube).__name__}")
    excess, z, background = excess_sigma(cube.data)
    # a floor under the background: over the limb's dark sky any jet is many times its background
    floor = 0.01 * max(float(np.median(background)), 1e-12)
    labels, count = ndimage.label(z > low, structure=np.ones((3, 3, 3), dtype=bool))
    if count == 0:
        return []
    peaks = ndimage.maximum(z, labels, index=np.arange(1, count + 1))
    # Pixels' onsets mean something only over a running background: in a cube shorter than its window, a pixel
    # lit for most frames is background and its onset is the noise's.
    cadence = float(np.median(np.diff(cube.times.unix))) if len(cube.times) > 1 else 24.0
    gap = ONSET_GAP / max(cadence, 1.0) if len(cube.times) >= 2 * _HALF_SPAN + 1 else np.inf
    found = []
    for index, box in enumerate(ndimage.find_objects(labels), start=1):
        if peaks[index - 1] < high or box[0].stop - box[0].start < min_frames:
            continue
        box = (box[0], *(slice(max(r.start - 4, 0), r.stop + 4) for r in box[1:]))
        mask = labels[box] == index
        pieces = [mask]  # unsplit (an infinite gap links every pixel): _measure_region tests its size
        if np.isfinite(gap):
            parts, count = split_by_onset(mask, gap)
            if count > 1:  # specks cut off by a pixel that noise lit early drop out
                sizes = np.bincount(parts[parts >= 0], minlength=count)
                pieces = [mask & (parts == g)[None] for g in np.flatnonzero(sizes >= min_pixels)]
        for part in pieces:
            frames = np.flatnonzero(part.any(axis=(1, 2)))
            if frames[-1] - frames[0] + 1 < min_frames:
                continue
            window = slice(box[0].start + frames[0], box[0].start + frames[-1] + 1)
            jet = _measure_region(cube, excess, z, background, floor, (window, *box[1:]),
                                  part[frames[0]:frames[-1] + 1], high, min_pixels, min_aspect, min_contrast)
            if jet is not None:
                found.append(jet)
    return sorted(found, key=lambda jet: jet.start_time.mjd)


def split_by_onset(mask, gap):
    """
    Split one region's ``(t, y, x)`` mask where its pixels' onsets jump: a jet that starts beside a brightening
    already under way touches it in space and time, but its pixels light minutes after their neighbours.

    Neighbouring pixels (8-connectivity) stay together when their first lit frames are at most ``gap`` frames
    apart. At `segment_jets`' five frames of 24 s, a front faster than about 10 km/s crosses a 1.2″ pixel (1.7″
    diagonally) within that, so one jet (they rise at 10–1000 km/s) is not cut.

    Parameters
    ----------
    mask : `numpy.ndarray`
        ``(n_frames, ny, nx)`` bool, one connected region.
    gap : `float`
        Largest jump, in frames, between neighbouring pixels' onsets within one part.

    Returns
    -------
    parts : `numpy.ndarray`
        ``(ny, nx)`` int, each pixel's part (``-1`` where the region never reaches); each pixel's voxels go
        with it.
    count : `int`
        Number of parts.

    Examples
    --------
    >>> import numpy as np
    >>> mask = np.zeros((20, 1, 8), dtype=bool)
    >>> mask[2:12, 0, :4] = True   # a brightening from frame 2
    >>> mask[10:18, 0, 4:] = True  # beside it, a second from frame 10
    >>> split_by_onset(mask, 5)
    (array([[0, 0, 0, 0, 1, 1, 1, 1]]), 2)
    >>> split_by_onset(mask, 10)[1]
    1
    """
    footprint = mask.any(axis=0)
    onset = np.argmax(mask, axis=0)
    ny, nx = footprint.shape
    index = np.full(footprint.shape, -1)
    index[footprint] = np.arange(int(footprint.sum()))
    first, second = [], []
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
        a = (slice(0, ny - dy), slice(max(0, -dx), nx - max(0, dx)))
        b = (slice(dy, ny), slice(max(0, dx), nx - max(0, -dx)))
        linked = (index[a] >= 0) & (index[b] >= 0) & (np.abs(onset[a] - onset[b]) <= gap)
        first.append(index[a][linked])
        second.append(index[b][linked])
    first, second = np.concatenate(first), np.concatenate(second)
    n = int(footprint.sum())
    graph = coo_matrix((np.ones(len(first)), (first, second)), shape=(n, n))
    count, group = connected_components(graph, directed=False)
    parts = np.full(footprint.shape, -1)
    parts[footprint] = group
    return parts, int(count)


def _measure_region(cube, excess, z, background, floor, region, mask, high, min_pixels, min_aspect, min_contrast):
    """The `JetMeasurement` of one region (``mask`` over the cube's ``region``), or `None` if it is no jet."""
    strong = mask & (z[region] > high)
    if mask.any(axis=0).sum() < min_pixels or np.count_nonzero(strong) < 5:
        return None
    if np.percentile(excess[region][strong] / np.maximum(background[region][strong], floor), 90) < min_contrast:
        return None
    sub = JetCube(
        data=excess[region] * mask,
        times=cube.times[region[0]],
        tx=cube.tx[region[1:]],
        ty=cube.ty[region[1:]],
        scale=cube.scale,
        km_per_arcsec=cube.km_per_arcsec,
        frame=cube.frame,
    )
    jet = measure_jet(sub, mask, excess=excess[region])
    if jet is None:
        return None
    # the front (at half level behind the tip) must reach MIN_HEIGHT, not only the region's contour (a flicker)
    if jet.height < MIN_HEIGHT:
        return None
    # the shape test reads the region's own extent: the height (at the front's half level) is shorter
    extent = max(jet.height, float(np.max(jet.front_distances, initial=0.0)))
    if jet.width < MIN_WIDTH or extent < max(min_aspect * jet.width, 5 * cube.scale):
        return None
    if not jet.speed > MIN_SPEED:  # no front rising over three frames: a brightening, not an outflow
        return None
    return jet
