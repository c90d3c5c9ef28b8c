"""
One figure per jet event: the frame at its peak with box, base and spine; what fired (the brightening the
segmentation found); and the time–distance diagram along the spine with the fitted speed.
"""

import numpy as np

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.visualization import AsinhStretch, ImageNormalize, PercentileInterval

from ..events._columns import spine_points
from ..events.localization import cube_from_maps, excess_sigma, segment_jets
from ..exceptions import InputError, InputTypeError

__all__ = ["plot_jet_event"]

_MARGIN = 40.0  # arcsec around the event's box
_TIME_MARGIN = 8 * u.min


def _frames_near(maps, start, end):
    return [m for m in maps if start - _TIME_MARGIN <= m.date <= end + _TIME_MARGIN]


def _track(cube, z, tx, ty):
    """Excess significance along the polyline ``(tx, ty)`` (arcsec) in every frame: (distance, image)."""
    seg = np.hypot(np.diff(tx), np.diff(ty))
    length = float(seg.sum())
    step = cube.scale / 2
    along = np.arange(0, length + step, step)
    cum = np.concatenate([[0], np.cumsum(seg)])
    px, py = np.interp(along, cum, tx), np.interp(along, cum, ty)
    flat_x, flat_y = cube.tx.ravel(), cube.ty.ravel()
    nearest = np.array([np.argmin((flat_x - x) ** 2 + (flat_y - y) ** 2) for x, y in zip(px, py)])
    image = z.reshape(len(z), -1)[:, nearest]
    return along, image


def plot_jet_event(event, maps, *, fig=None):
    """
    A three-panel figure of one jet event.

    Left: the frame nearest the event's peak time, on its WCS axes, with the event's box, its base (``+``)
    and its spine. Middle: what fired, the brightening over the pixels' background summed over the event's
    frames (as `~sunpy_jets.events.segment_jets` sees it), with the base and spine. Right: the time–distance
    diagram along the spine (significance of the brightening against time and distance from the base), with
    the front's track and the straight line fitted to it, labelled with the speed.

    Parameters
    ----------
    event : `~astropy.table.Row`
        One row of `~sunpy_jets.events.JetEvents` (from ``detect`` or ``localize_events``).
    maps : iterable of `~sunpy.map.GenericMap`
        The observation's frames (those within 8 minutes of the event are used).
    fig : `matplotlib.figure.Figure`, optional
        Where to draw (default: a new 15 × 4.8 inch figure).

    Returns
    -------
    `matplotlib.figure.Figure`

    Raises
    ------
    `~sunpy_jets.exceptions.InputError`
        Fewer than three frames near the event.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import astropy.units as u
    >>> from sunpy_jets.events import JetEvents, localize_events
    >>> from sunpy_jets.synthetic import JetEvent, JetParameters, make_observation
    >>> from sunpy_jets.visualization import plot_jet_event
    >>> p = JetParameters(speed=150 * u.km / u.s, width=6 * u.Mm, height=60 * u.Mm,
    ...                   duration=8 * u.min, position_angle=0 * u.deg)
    >>> options = dict(duration=24 * u.min, n_distractors=0, shape=(160, 160), scale=1.2 * u.arcsec / u.pix,
    ...                bad_frame_rate=0, seed=2)
    >>> empty = make_observation(jets=[], **options)
    >>> obs = make_observation(jets=[JetEvent(p, empty[0].center, empty.times[3])], lazy=False, **options)
    >>> c = obs.maps[0].center
    >>> coarse = JetEvents.from_columns(start=obs.maps[0].date.reshape(1), end=obs.maps[-1].date.reshape(1),
    ...     probability=[0.9], tx=c.Tx.reshape(1), ty=c.Ty.reshape(1), width=190 * u.arcsec)
    >>> events = localize_events(coarse, obs.maps)
    >>> fig = plot_jet_event(events[0], obs.maps)
    >>> len(fig.axes) >= 3
    True
    """
    import matplotlib.pyplot as plt

    if not hasattr(event, "colnames") or "event_coord" not in event.colnames:
        raise InputTypeError("event must be one row of JetEvents (events[i])")
    start, end, peak = event["event_starttime"], event["event_endtime"], event["event_peaktime"]
    frames = _frames_near(maps, start, end)
    if len(frames) < 3:
        raise InputError(f"{len(frames)} frame(s) near the event: give the observation the event was found in")
    first = frames[0]
    x0, x1 = event["boundbox_c1ll"].to_value(u.arcsec) - _MARGIN, event["boundbox_c1ur"].to_value(u.arcsec) + _MARGIN
    y0, y1 = event["boundbox_c2ll"].to_value(u.arcsec) - _MARGIN, event["boundbox_c2ur"].to_value(u.arcsec) + _MARGIN
    frame = first.coordinate_frame
    bottom = SkyCoord(x0 * u.arcsec, y0 * u.arcsec, frame=frame)
    top = SkyCoord(x1 * u.arcsec, y1 * u.arcsec, frame=frame)
    cube = cube_from_maps(frames, bottom_left=bottom, top_right=top)
    excess, z, _ = excess_sigma(cube.data)
    base = event["event_coord"]
    bx, by = base.Tx.to_value(u.arcsec), base.Ty.to_value(u.arcsec)
    sx, sy = spine_points(event["skel_chaincode"] if "skel_chaincode" in event.colnames else "")
    if len(sx) < 2:
        sx, sy = np.array([bx, bx]), np.array([by, by + 1.0])

    fig = fig or plt.figure(figsize=(15, 4.8), layout="constrained")
    nearest = min(frames, key=lambda m: abs((m.date - peak).to_value(u.s)))
    sub = nearest.submap(bottom, top_right=top) if _on_disk_box(nearest, bottom, top) else nearest
    ax_map = fig.add_subplot(1, 3, 1, projection=sub)
    sub.plot(axes=ax_map, clip_interval=(1, 99.8) * u.percent, title=False)
    ax_map.set_title(f"{nearest.date.isot[:19]} (peak)")
    _overlay(ax_map, sub, event, sx, sy, bx, by)

    inside = (cube.times >= start) & (cube.times <= end)
    evidence = np.clip(excess[inside] if inside.any() else excess, 0, None).sum(axis=0)
    extent = [cube.tx.min(), cube.tx.max(), cube.ty.min(), cube.ty.max()]
    ax_ev = fig.add_subplot(1, 3, 2)
    norm = ImageNormalize(evidence, interval=PercentileInterval(99.5), stretch=AsinhStretch(0.05))
    ax_ev.imshow(evidence, origin="lower", extent=extent, cmap="magma", norm=norm, aspect="equal")
    ax_ev.plot(sx, sy, "-", color="cyan", lw=1.5, label="spine")
    ax_ev.plot(bx, by, "+", color="white", ms=14, mew=2, label="base")
    ax_ev.set_xlabel("Helioprojective x (arcsec)")
    ax_ev.set_ylabel("Helioprojective y (arcsec)")
    ax_ev.set_title("What fired: brightening over the background")
    ax_ev.legend(loc="upper right", fontsize=8)

    ax_td = fig.add_subplot(1, 3, 3)
    along, image = _track(cube, z, sx, sy)
    t = (cube.times - start).to_value(u.min)
    ax_td.pcolormesh(t, along, np.clip(image, 0, None).T, cmap="viridis", shading="nearest",
                     vmax=np.percentile(np.clip(image, 0, None), 99.5))
    _draw_fit(ax_td, cube, event, start, bx, by)
    ax_td.set_ylim(0, along.max())
    fig.suptitle(_summary(event))
    ax_td.set_xlabel(f"Minutes after onset ({start.isot[:19]})")
    ax_td.set_ylabel("Distance along the spine (arcsec)")
    ax_td.set_title("Time–distance along the spine")
    return fig


def _summary(event):
    base = event["event_coord"]
    text = f"Jet at ({base.Tx.to_value(u.arcsec):.0f}″, {base.Ty.to_value(u.arcsec):.0f}″), " \
           f"{event['event_starttime'].isot[:19]} – {event['event_endtime'].isot[11:19]}"
    if "event_probability" in event.colnames and not np.ma.is_masked(event["event_probability"]):
        text += f", p = {float(event['event_probability']):.2f}"
    parts = []
    for name, label, unit in (("outflow_length", "height", u.Mm), ("outflow_width", "width", u.Mm),
                              ("outflow_speed", "speed", u.km / u.s)):
        if name in event.colnames and np.isfinite(event[name].value):
            error = event[f"{name}_error"] if f"{name}_error" in event.colnames else np.nan * unit
            parts.append(f"{label} {event[name].to_value(unit):.0f} ± {error.to_value(unit):.2g} {unit:unicode}")
    return text + ("\n" + ", ".join(parts) if parts else "")


def _on_disk_box(m, bottom, top):
    try:
        m.submap(bottom, top_right=top)
    except ValueError:
        return False
    return True


def _overlay(ax, m, event, sx, sy, bx, by):
    frame = m.coordinate_frame
    ll = SkyCoord(event["boundbox_c1ll"], event["boundbox_c2ll"], frame=frame)
    width = event["boundbox_c1ur"] - event["boundbox_c1ll"]
    height = event["boundbox_c2ur"] - event["boundbox_c2ll"]
    m.draw_quadrangle(ll, axes=ax, width=width, height=height, edgecolor="cyan", lw=1.5)
    ax.plot_coord(SkyCoord(sx * u.arcsec, sy * u.arcsec, frame=frame), "-", color="white", lw=1.5)
    ax.plot_coord(SkyCoord(bx * u.arcsec, by * u.arcsec, frame=frame), "+", color="white", ms=14, mew=2)


def _draw_fit(ax, cube, event, start, bx, by):
    """The front's track and fitted line of the segmented jet nearest the event's base and onset."""
    jets = segment_jets(cube)
    if not jets:
        return
    jet = min(jets, key=lambda j: np.hypot(j.base.Tx.to_value(u.arcsec) - bx, j.base.Ty.to_value(u.arcsec) - by)
              / 10 + abs((j.start_time - start).to_value(u.min)))
    offset = (jet.start_time - start).to_value(u.min)
    t = jet.front_times / 60 + offset
    ax.plot(t, jet.front_distances, "o", color="white", ms=3, label="front")
    slope, intercept = jet.fit
    speed, error = jet.speed, jet.speed_error
    if "outflow_speed" in event.colnames and np.isfinite(event["outflow_speed"].value):
        # the event's own measurement (its cutout may differ slightly from this figure's)
        speed = event["outflow_speed"].to_value(u.km / u.s)
        error = event["outflow_speed_error"].to_value(u.km / u.s) if "outflow_speed_error" in event.colnames else error
        slope = speed / jet.km_per_arcsec
    if np.isfinite(slope) and slope > 0:
        reach = offset + (jet.height - intercept) / slope / 60  # when the fitted front reaches the height
        line = np.array([t.min(), min(t.max(), reach)])
        ax.plot(line, intercept + slope * (line - offset) * 60, "--", color="orange", lw=2,
                label=f"fit: {speed:.0f} ± {error:.0f} km/s")
    ax.legend(loc="lower right", fontsize=8)
