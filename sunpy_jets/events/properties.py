"""
Jet properties measured from a segmented brightening: base, spine, height, width, speed, opening angle.

`measure_jet` turns one region of `~sunpy_jets.events.segment_jets` (a mask in ``(t, y, x)`` and the excess
brightness under it) into a `JetMeasurement`:

- **base**: the excess-weighted centre of the region's first two frames (a jet starts at its base);
- **direction**: from the base towards the excess-weighted centre of the time-summed region beyond one
  width of the base; the position angle counts counter-clockwise from solar north, as the HEK's does;
- **spine**: the excess-weighted centre across the jet in bins along the direction, from the base out to
  the height: a polyline that follows a bent spire;
- **height**: the largest distance from the base, along the direction, of the front: where the excess along
  the spire falls to half its level just behind the region's tip, in any frame (the region itself reaches a
  few noise widths beyond the front of a bright jet);
- **width**: the mean, along the spine, of the full width at half maximum across it (2.355 times the
  excess-weighted standard deviation within three of them, iterated), less the one-pixel smoothing;
- **speed**: the slope of a ramp fitted to the region's extent against time (flat at the base
  brightening's extent, rising at the speed, flat at its largest extent; least squares over the frames up to
  the one after it has covered 90 % of the way), with the standard error of a straight line through the
  frames on the ramp; a fixed-significance contour moves with the front, so its offset does not bias it;
- **opening angle**: twice the arctangent of half the growth of the width along the spine;
- **times**: the region's first frame covering at least 3 pixels and 5 % of its largest extent (the
  onset, to the cadence), its last frame (the end) and its brightest frame (the peak).
"""

from dataclasses import dataclass, field

import numpy as np

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.time import Time

__all__ = ["JetMeasurement", "measure_jet"]

_N_BINS = 8


@dataclass
class JetMeasurement:
    """
    What was measured of one jet. Lengths in arcsec and km/s are floats here; `JetEvents` holds Quantities.

    Attributes
    ----------
    base : `~astropy.coordinates.SkyCoord`
        Base point (helioprojective).
    base_error : `float`
        Uncertainty of the base point (arcsec).
    spine : `numpy.ndarray`
        ``(n, 2)`` helioprojective ``(Tx, Ty)`` of the spine from the base out (arcsec).
    position_angle : `float`
        Direction of the spire, counter-clockwise from solar north (deg).
    height, height_error, width, width_error : `float`
        Largest projected height and mean width (arcsec).
    speed, speed_error : `float`
        Plane-of-sky speed of the front (km/s); NaN when fewer than three rising frames.
    opening_angle, opening_angle_error : `float`
        Full opening angle (deg).
    start_time, end_time, peak_time : `~astropy.time.Time`
        First and last frame of the jet; its brightest frame.
    km_per_arcsec : `float`
        Plane-of-sky scale at the Sun.
    front_times, front_distances : `numpy.ndarray`
        The time–distance track of the front (s after ``start_time``; arcsec), and ``fit`` its line.
    bbox : `tuple`
        ``(tx_min, tx_max, ty_min, ty_max)`` of the region over its life (arcsec).
    """

    base: SkyCoord
    base_error: float
    spine: np.ndarray
    position_angle: float
    height: float
    height_error: float
    width: float
    width_error: float
    speed: float
    speed_error: float
    opening_angle: float
    opening_angle_error: float
    start_time: Time
    end_time: Time
    peak_time: Time
    km_per_arcsec: float
    bbox: tuple
    front_times: np.ndarray = field(default_factory=lambda: np.zeros(0))
    front_distances: np.ndarray = field(default_factory=lambda: np.zeros(0))
    fit: tuple = (np.nan, np.nan)
    strength: float = 0.0


def _weighted_centre(x, y, w):
    total = w.sum()
    if total <= 0:
        return float(np.mean(x)), float(np.mean(y))
    return float((x * w).sum() / total), float((y * w).sum() / total)


def _widths(s, n, w, height, scale):
    """FWHM across the spine in bins along it: (bin centres, widths, centre offsets)."""
    edges = np.linspace(0, height, _N_BINS + 1)
    centres, widths, offsets = [], [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (s >= lo) & (s < hi) & (w > 0)
        if inside.sum() < 3:
            continue
        nn, ww = n[inside], w[inside]
        mid = float(np.sum(nn * ww) / ww.sum())
        sigma = float(np.sqrt(np.sum(ww * (nn - mid) ** 2) / ww.sum()))
        for _ in range(2):  # a truncated moment: keep what lies within three sigmas
            near = np.abs(nn - mid) < 3 * max(sigma, scale)
            if near.sum() < 3:
                break
            mid = float(np.sum(nn[near] * ww[near]) / ww[near].sum())
            sigma = float(np.sqrt(np.sum(ww[near] * (nn[near] - mid) ** 2) / ww[near].sum()))
        fwhm = np.sqrt(max((2.355 * sigma) ** 2 - (2.355 * scale) ** 2, scale**2))
        centres.append((lo + hi) / 2)
        widths.append(fwhm)
        offsets.append(mid)
    return np.array(centres), np.array(widths), np.array(offsets)


def _front_fit(t, d, height):
    """
    Fit of the rising front; ``(slope, error, intercept, times used, distances used)``.

    The front stays at the base brightening's extent, then rises, then stops at the height: a straight line
    through all of it would be too shallow. The fit is a ramp ``clip(lo + v (t - t0), lo, height)`` (``lo``
    the first frame's extent), least squares over a grid of ``v`` and ``t0``, on the frames up to the one
    after the front covers 90 % of the way; the slope's error is that of a straight line through the
    frames on the ramp.
    """
    reached = np.flatnonzero(d >= d[0] + 0.9 * (height - d[0]))
    stop = reached[0] + 2 if len(reached) else len(t)
    t, d = t[:stop], d[:stop]
    if len(t) < 3 or height <= d[0]:
        return np.nan, np.nan, np.nan, t, d
    lo = float(d[0])
    step = float(np.median(np.diff(t)))
    speeds = np.geomspace(0.002, 3.0, 300)  # arcsec/s: about 1.5 to 2200 km/s
    onsets = np.arange(t[0] - step, t[-1] + step / 8, step / 8)
    model = np.clip(lo + speeds[:, None, None] * (t[None, None, :] - onsets[None, :, None]), lo, height)
    cost = ((model - d) ** 2).sum(axis=-1)
    i, j = np.unravel_index(np.argmin(cost), cost.shape)
    slope, onset = float(speeds[i]), float(onsets[j])
    between = np.abs(d - (lo + height) / 2) < 0.4 * (height - lo)
    if i == len(speeds) - 1 or not between.any():
        return np.nan, np.nan, np.nan, t, d  # lit at once, no frame on the way up: a brightening, not an outflow
    ramp = (t >= onset - step / 2) & (lo + slope * (t - onset) <= height + slope * step / 2)
    if ramp.sum() >= 3:
        coef, cov = np.polyfit(t[ramp], d[ramp], 1, cov=True)
        error = float(np.sqrt(max(cov[0, 0], 0.0)))
    else:  # two frames on the ramp: the grid's residual over the time it spans
        error = float(np.sqrt(cost[i, j] / max(len(t) - 2, 1)) / max(np.ptp(t[ramp]) if ramp.any() else step, step))
    return slope, error, lo - slope * onset, t, d


def _front_positions(s, n, excess, frames, mask, half_width, scale):
    """
    Distance of the front from the base along the direction in each frame: where the excess along the spire
    falls to half its level just behind the tip (the region's farthest pixels lie a few noise widths beyond
    the front of a bright jet, so the region's extent alone would be long).
    """
    band = np.abs(n) <= half_width
    fronts = []
    for i in frames:
        inside = mask[i] & band
        tip = float(np.percentile(s[inside], 99)) if inside.sum() >= 3 else float(np.percentile(s[mask[i]], 99))
        edges = np.arange(-scale / 2, max(tip, 0.0) + 6 * scale, scale)  # a tip behind the base: no empty bins
        pick = band & (s >= edges[0]) & (s < edges[-1])
        index = np.digitize(s[pick], edges) - 1
        total = np.bincount(index, weights=excess[i][pick], minlength=len(edges) - 1)
        count = np.bincount(index, minlength=len(edges) - 1)
        profile = np.where(count > 0, total / np.maximum(count, 1), 0.0)
        profile = np.convolve(profile, [0.25, 0.5, 0.25], mode="same")
        centres = (edges[:-1] + edges[1:]) / 2
        behind = (centres >= tip - max(4 * scale, 0.25 * tip)) & (centres <= tip)
        if not behind.any():
            fronts.append(tip)
            continue
        level = float(profile[behind].max())
        start = int(np.flatnonzero(behind)[np.argmax(profile[behind])])
        below = np.flatnonzero(profile[start:] < 0.5 * level)
        if level <= 0 or not len(below):
            fronts.append(tip)
            continue
        k = start + int(below[0])
        # linear interpolation between the last bin above half the level and the first below
        a, b = profile[k - 1], profile[k]
        fronts.append(float(centres[k - 1] + (a - 0.5 * level) / max(a - b, 1e-12) * scale))
    return np.array(fronts)


def measure_jet(cube, mask, *, excess=None):
    """
    Measure the jet in one segmented region.

    Parameters
    ----------
    cube : `~sunpy_jets.events.JetCube`
        The region's frames: ``data`` the masked excess, with ``times``, ``tx``, ``ty`` of the region.
    mask : `numpy.ndarray`
        ``(n_frames, ny, nx)`` bool, the region.
    excess : `numpy.ndarray`, optional
        The unmasked excess over the same voxels (for the width); ``cube.data`` by default.

    Returns
    -------
    `JetMeasurement` or `None`
        `None` when the region is too small to measure.
    """
    weights = np.where(mask, np.clip(cube.data, 0, None), 0.0)
    excess = cube.data if excess is None else excess
    tx, ty, scale = cube.tx, cube.ty, cube.scale
    area = mask.sum(axis=(1, 2))
    # the jet's frames: from the first where the region covers a few pixels (noise specks that touch it
    # before the onset do not count) to its last
    lit = np.flatnonzero(area >= max(3, 0.05 * area.max())) if area.any() else np.zeros(0, int)
    if len(lit) == 0:
        return None
    frames = np.arange(lit[0], np.flatnonzero(area)[-1] + 1)
    frames = frames[area[frames] > 0]
    first = weights[frames[0]:frames[0] + 2].sum(axis=0)
    bx, by = _weighted_centre(tx, ty, first)
    total = weights.sum(axis=0)
    dist = np.hypot(tx - bx, ty - by)
    footprint = mask.any(axis=0)
    seed_width = max(2 * scale, np.sqrt(footprint.sum() * scale**2 / np.pi) / 2)
    far = footprint & (dist > seed_width)
    if far.sum() >= 3:
        cx, cy = _weighted_centre(tx[far], ty[far], total[far])
    else:
        cx, cy = _weighted_centre(tx[footprint], ty[footprint], total[footprint])
    direction = np.array([cx - bx, cy - by])
    norm = np.hypot(*direction)
    direction = np.array([0.0, 1.0]) if norm == 0 else direction / norm
    normal = np.array([-direction[1], direction[0]])
    s = (tx - bx) * direction[0] + (ty - by) * direction[1]
    n = (tx - bx) * normal[0] + (ty - by) * normal[1]
    # the region's extent in each frame: a contour at a fixed significance, so it moves with the front (its
    # offset from the front, a few noise widths, does not change the speed fitted to it)
    track = np.array([np.percentile(dist[mask[i]], 99) for i in frames])
    extent = float(track.max())
    # widths: from the time-summed excess (positive part) near the footprint
    near = ndilate(footprint, 2)
    w_all = np.where(near, np.clip(np.where(mask, excess, 0).sum(axis=0), 0, None), 0.0)
    centres, widths, offsets = _widths(s[near], n[near], w_all[near], max(extent, scale), scale)
    if len(widths) == 0:
        return None
    half_width = max(float(np.mean(widths)), 2 * scale)
    front = _front_positions(s, n, np.where(ndilate(mask, 1), excess, 0.0), frames, mask, half_width, scale)
    front = np.maximum(front, 0.0)
    height = float(front.max())
    height_error = float(max(scale, np.percentile(front, 100) - np.percentile(front, 90)))
    width = float(np.mean(widths))
    width_error = float(np.std(widths) / np.sqrt(len(widths))) if len(widths) > 1 else width / 2
    if len(widths) >= 3:
        (slope, _), cov = np.polyfit(centres, widths, 1, cov=True)
        opening = float(np.degrees(2 * np.arctan(max(slope, 0.0) / 2)))
        opening_error = float(np.degrees(2 * np.sqrt(max(cov[0, 0], 0.0)) / 2))
    else:
        opening, opening_error = np.nan, np.nan
    spine = np.array([[bx, by]] + [[bx + c * direction[0] + o * normal[0], by + c * direction[1] + o * normal[1]]
                                   for c, o in zip(centres, offsets)])
    times = cube.times[frames]
    t_rel = (times - times[0]).to_value(u.s)
    slope, slope_error, intercept, _, _ = _front_fit(t_rel, track, extent)
    k = cube.km_per_arcsec
    brightness = weights[frames].sum(axis=(1, 2))
    early = [_weighted_centre(tx, ty, weights[i]) for i in frames[:2] if weights[i].sum() > 0]
    base_error = float(max(scale, np.std([e[0] for e in early]) + np.std([e[1] for e in early]))) if early else scale
    pa = float(np.degrees(np.arctan2(-direction[0], direction[1])) % 360)
    return JetMeasurement(
        base=SkyCoord(bx * u.arcsec, by * u.arcsec, frame=cube.frame),
        base_error=base_error,
        spine=spine,
        position_angle=pa,
        height=height,
        height_error=height_error,
        width=width,
        width_error=width_error,
        speed=slope * k,
        speed_error=slope_error * k,
        opening_angle=opening,
        opening_angle_error=opening_error,
        start_time=times[0],
        end_time=times[-1],
        peak_time=times[int(np.argmax(brightness))],
        km_per_arcsec=k,
        bbox=(float(tx[footprint].min()), float(tx[footprint].max()), float(ty[footprint].min()),
              float(ty[footprint].max())),
        front_times=t_rel,
        front_distances=track,
        fit=(slope, intercept),
        strength=float(brightness.max()),
    )


def ndilate(mask, iterations):
    """``mask`` grown by ``iterations`` pixels."""
    from scipy import ndimage

    return ndimage.binary_dilation(mask, iterations=iterations)
