"""
Plots of scans and jet events: probability against time, events on a map, and a window animated with its
probability.
"""

import numpy as np

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.table import Table
from astropy.time import Time
from astropy.visualization import AsinhStretch, ImageNormalize

from ..events.table import JetEvents
from ..exceptions import InputError, InputTypeError

__all__ = ["plot_probability", "plot_events_on_map", "animate_window"]


def _outline():
    """A dark outline that keeps labels readable on bright and dark parts of an image alike."""
    from matplotlib import patheffects

    return [patheffects.withStroke(linewidth=2.5, foreground="black")]


def _as_events(events):
    if events is None or isinstance(events, JetEvents):
        return events
    if isinstance(events, Table):
        return JetEvents(events)
    raise InputTypeError(f"events must be a JetEvents (from JetClassifier.detect), not {type(events).__name__}")


def _check_scan(table):
    missing = [c for c in ("start_time", "end_time", "probability") if c not in table.colnames]
    if missing:
        raise InputError(f"the scan table lacks the column(s) {', '.join(missing)}; give JetClassifier.scan's output")
    return table


def _datetimes(times):
    return Time(times).utc.to_datetime()


#: Tick labels of `matplotlib.dates.ConciseDateFormatter` where a day, month or year begins, in ISO order
#: (its defaults spell months as words).
_ISO_ZERO_FORMATS = ["", "%Y", "%Y-%m", "%m-%d", "%H:%M", "%H:%M"]


def _concise_time_axis(ax, times):
    """
    Concise UTC tick labels on ``ax`` alone (as sunpy's TimeSeries do, nothing rotated), and the date in the
    axis label: an offset text beside the ticks would collide with a long label.
    """
    import matplotlib.dates as mdates

    # A formatter the user (or a shared axis) chose is kept; matplotlib's default one is replaced.
    if type(ax.xaxis.get_major_formatter()) is mdates.AutoDateFormatter:
        locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(
            mdates.ConciseDateFormatter(locator, zero_formats=_ISO_ZERO_FORMATS, show_offset=False)
        )
    days = sorted({t[:10] for t in Time(times).utc.isot})
    return f"on {days[0]}" if len(days) == 1 else f"from {days[0]}"


def plot_probability(table_or_events, *, events=None, threshold=None, axes=None, label=None):
    """
    Jet probability against time, with the events shaded.

    Only ``axes`` is drawn on: the time labels are formatted on its own x axis (concise UTC times, nothing
    rotated, the date in the axis label), so it can be one panel of a larger figure.

    Parameters
    ----------
    table_or_events : `~astropy.table.Table` or `~sunpy_jets.events.JetEvents`
        A scan (`~sunpy_jets.JetClassifier.scan`: ``start_time``, ``end_time``, ``probability``, one point
        per window at its centre; for a tiled scan the highest probability over the tiles of each window),
        or events alone (their peak probabilities are marked). A scan of one window is drawn as a point at
        its centre with a bar from its start to its end.
    events : `~sunpy_jets.events.JetEvents`, optional
        Events to shade from start to end (default: the events given as first argument, if any).
    threshold : float, optional
        Draw the decision threshold (default: ``events.meta["threshold"]`` when there are events).
    axes : `matplotlib.axes.Axes`, optional
        Where to draw (default: a new figure).
    label : str, optional
        Legend label of the probability curve (default: ``"window probability"``, or ``"max over tiles"``
        for a tiled scan).

    Returns
    -------
    `matplotlib.axes.Axes`

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.table import QTable
    >>> from astropy.time import Time
    >>> from sunpy_jets.visualization import plot_probability
    >>> start = Time("2011-01-20T09:00") + [0, 1, 2, 3] * u.min
    >>> scan = QTable({"start_time": start, "end_time": start + 12 * u.min, "probability": [0.1, 0.8, 0.9, 0.2]})
    >>> ax = plot_probability(scan, threshold=0.5)
    >>> [line.get_label() for line in ax.lines]
    ['window probability', 'threshold 0.50']
    >>> ax.get_xlabel()
    'Time (UTC) on 2011-01-20; windows at their centres'
    """
    import matplotlib.pyplot as plt

    if isinstance(table_or_events, JetEvents):
        table, events = None, table_or_events if events is None else _as_events(events)
    elif isinstance(table_or_events, Table):
        table, events = _check_scan(table_or_events), _as_events(events)
    else:
        raise InputTypeError(
            f"plot_probability needs a scan table or JetEvents, not {type(table_or_events).__name__}"
        )
    ax = plt.figure().add_subplot() if axes is None else axes
    drawn = []  # times drawn, for the date in the axis label
    if table is not None and len(table):
        start, end = Time(table["start_time"]), Time(table["end_time"])
        centre = start + (end - start) / 2
        prob = np.asarray(u.Quantity(table["probability"]).value, dtype=float)
        # One point per window: the most probable tile of a tiled scan.
        keys, first, inverse = np.unique(centre.mjd, return_index=True, return_inverse=True)
        best = np.full(len(keys), -np.inf)
        np.maximum.at(best, inverse.ravel(), prob)
        tiled = len(keys) < len(prob)
        default = "max over tiles" if tiled else "window probability"
        # Markers show where the windows are while they are few enough to tell apart.
        ax.plot(_datetimes(centre[first]), best, color="C0", lw=1.2, marker="o" if len(keys) <= 60 else None,
                ms=3.5, label=label or default)
        if len(keys) == 1:
            # A lone point has no time extent: the bar shows the window it stands for (and sets the x range).
            ax.plot(_datetimes(Time([start[first[0]], end[first[0]]])), [best[0]] * 2, "-|", color="C0", lw=1,
                    ms=10, label="window start to end")
        drawn.extend([start.min(), end.max()])
    if events is not None and len(events):
        for k, row in enumerate(events):
            ax.axvspan(*_datetimes(Time([row["event_starttime"], row["event_endtime"]])), color="C1", alpha=0.25,
                       lw=0, label="jet event" if k == 0 else None)
        peaks = _datetimes(events["event_peaktime"])
        ax.plot(peaks, np.ma.filled(np.ma.asarray(events["event_probability"], dtype=float), np.nan), "v",
                color="C3", ls="none", label="event peak")
        if threshold is None:
            threshold = events.meta.get("threshold")
        drawn.extend([Time(events["event_starttime"]).min(), Time(events["event_endtime"]).max()])
    if threshold is not None:
        ax.axhline(float(threshold), color="0.4", ls="--", lw=1, label=f"threshold {float(threshold):.2f}")
    xlabel = "Time (UTC)"
    if drawn:
        xlabel += " " + _concise_time_axis(ax, Time(drawn))
    else:
        ax.text(0.5, 0.5, "no windows or events", transform=ax.transAxes, ha="center", va="center", color="0.4")
    if table is not None and len(table):
        # Said on the axis, not in the legend, so that it holds whatever label the curve is given.
        xlabel += "; windows at their centres"
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("Jet probability")
    ax.set_xlabel(xlabel)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", fontsize="small")
    return ax


def plot_events_on_map(smap, events, *, axes=None, color="cyan", annotate=True, **kwargs):
    """
    Draw events as their bounding boxes (and positions) on a sunpy map.

    Event coordinates are helioprojective as seen by the observatory (the HEK's ``UTC-HPC-TOPO``), so they
    are drawn in the map's own coordinate frame.

    Parameters
    ----------
    smap : `~sunpy.map.GenericMap`
        The map to draw on (it is plotted first when ``axes`` is None or not yet showing it).
    events : `~sunpy_jets.events.JetEvents`
        The events.
    axes : `~astropy.visualization.wcsaxes.WCSAxes`, optional
        Axes with the map's WCS (default: a new figure).
    color : str
        Colour of the boxes.
    annotate : bool
        Label each box with its peak time and probability.
    **kwargs
        Passed to `~sunpy.map.GenericMap.draw_quadrangle`.

    Returns
    -------
    `~astropy.visualization.wcsaxes.WCSAxes`

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.time import Time
    >>> import sunpy.map, sunpy.data.test
    >>> from sunpy_jets.events import JetEvents
    >>> from sunpy_jets.visualization import plot_events_on_map
    >>> aia = sunpy.map.Map(sunpy.data.test.get_test_filepath("aia_171_level1.fits"))
    >>> events = JetEvents.from_columns(start=Time(["2011-02-15T00:00"]), end=Time(["2011-02-15T00:12"]),
    ...     probability=[0.9], tx=[-300] * u.arcsec, ty=[200] * u.arcsec, width=300 * u.arcsec)
    >>> ax = plot_events_on_map(aia, events)
    >>> len(ax.patches)
    1
    """
    import matplotlib.pyplot as plt
    from sunpy.map import GenericMap

    if not isinstance(smap, GenericMap):
        raise InputTypeError(f"smap must be a sunpy map, not {type(smap).__name__}")
    events = _as_events(events)
    if events is None:
        raise InputTypeError("events must be a JetEvents, not None")
    if axes is None:
        fig = plt.figure()
        axes = fig.add_subplot(projection=smap)
        smap.plot(axes=axes)
    elif not hasattr(axes, "wcs"):
        raise InputTypeError("axes must be WCSAxes with the map's projection: plt.subplot(projection=smap)")
    elif not axes.images:
        smap.plot(axes=axes)
    frame = smap.coordinate_frame
    limits = axes.get_xlim(), axes.get_ylim()
    ny, nx = smap.data.shape[-2:]
    for row in events:
        ll = SkyCoord(row["boundbox_c1ll"], row["boundbox_c2ll"], frame=frame)
        ur = SkyCoord(row["boundbox_c1ur"], row["boundbox_c2ur"], frame=frame)
        smap.draw_quadrangle(ll, axes=axes, top_right=ur, **{"edgecolor": color, "lw": 1.5, **kwargs})
        position = SkyCoord(row["event_coord"].Tx, row["event_coord"].Ty, frame=frame)
        axes.plot_coord(position, "+", color=color, ms=8)
        if annotate:
            probability = row["event_probability"]
            text = Time(row["event_peaktime"]).strftime("%H:%M")
            if probability is not np.ma.masked:
                text += f"  p={float(probability):.2f}"
            # Inside the box's bottom edge, held on the map (boxes may reach beyond its edges), and
            # running inwards from the box's corner nearer the map's centre so that it is not cut off.
            (x0, x1), (y0, _) = (np.clip(v, -0.5, n - 0.5) for v, n in
                                 zip(smap.wcs.world_to_pixel(SkyCoord([ll, ur])), (nx, ny)))
            right = (x0 + x1) / 2 > nx / 2
            axes.text(float(x1) - 1 if right else float(x0) + 1, float(y0) + 1, text, color=color, fontsize=9,
                      fontweight="bold", va="bottom", ha="right" if right else "left", clip_on=True,
                      path_effects=_outline())
    # Boxes reaching beyond the map would widen the axes past the image: keep the frame they had.
    axes.set_xlim(*limits[0])
    axes.set_ylim(*limits[1])
    return axes


def _frame_probabilities(probability, times):
    """Per frame: the probability to show (NaN where none) and how many windows it is the maximum of."""
    n = len(times)
    if probability is None:
        return np.full(n, np.nan), np.zeros(n, dtype=int)
    if isinstance(probability, Table):
        _check_scan(probability)
        start, end = Time(probability["start_time"]), Time(probability["end_time"])
        prob = np.asarray(u.Quantity(probability["probability"]).value, dtype=float)
        # A window's start and end are its first and last frame times; a second of slack absorbs rounding.
        inside = ((times[:, None] - start[None, :]).to_value(u.s) >= -1) & \
                 ((end[None, :] - times[:, None]).to_value(u.s) >= -1)
        values = np.where(inside, prob[None, :], -np.inf).max(axis=1, initial=-np.inf)
        windows = np.stack([start.mjd, end.mjd], axis=1)
        # Tiles of one window count once.
        counts = np.array([len(np.unique(windows[row], axis=0)) for row in inside])
        values[counts == 0] = np.nan
    else:
        values = np.asarray(probability, dtype=float)
        if values.ndim == 0:
            values = np.full(n, float(values))
        if values.shape != (n,):
            raise InputError(f"probability must be one number, one per frame ({n}) or a scan table, got shape "
                             f"{values.shape}")
        counts = np.ones(n, dtype=int)
    if np.any((values < 0) | (values > 1)):
        raise InputError("probability must be between 0 and 1")
    return values, counts


def animate_window(maps_or_sequence, probability=None, *, axes=None, interval=200, cmap=None, **kwargs):
    """
    Animate the frames of a window with its jet probability.

    Maps are drawn as sunpy draws them (their own colour map and stretch, e.g. ``sdoaia304``), with one
    intensity scale for all frames, so that brightenings show.

    Parameters
    ----------
    maps_or_sequence : `~sunpy.map.MapSequence`, list of maps, or `~sunpy_jets.inputs.PreparedSequence`
        The frames (sunpy maps are drawn with their coordinates; a prepared sequence as the model sees it).
    probability : float, array-like or `~astropy.table.Table`, optional
        The window's jet probability, one value per frame, or a scan (`~sunpy_jets.JetClassifier.scan`,
        ``start_time``, ``end_time`` and ``probability``): each frame then shows the highest probability of
        the windows (and tiles) that contain it.
    axes : `matplotlib.axes.Axes`, optional
        Where to draw (default: a new figure; WCS axes for maps).
    interval : int
        Milliseconds between frames.
    cmap : str or `matplotlib.colors.Colormap`, optional
        Colour map (default: the map's own, or ``"gray"`` for a prepared sequence).
    **kwargs
        Passed to `matplotlib.animation.FuncAnimation`.

    Returns
    -------
    `matplotlib.animation.FuncAnimation`

    Examples
    --------
    >>> import astropy.units as u
    >>> from sunpy_jets.synthetic import make_sequence
    >>> from sunpy_jets.visualization import animate_window
    >>> seq = make_sequence(kind="jet", seed=0, n_frames=3, shape=(32, 32), scale=9.375 * u.arcsec / u.pix)
    >>> animation = animate_window(seq.maps, probability=0.93)
    >>> html = animation.to_jshtml()  # or animation.save("window.gif") / plt.show()
    >>> ax = animation._fig.axes[0]
    >>> ax.get_title()
    '...frame 3/3  P(jet) = 0.93'
    >>> ax.images[0].get_cmap().name
    'sdoaia304'
    """
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation
    from sunpy.map import GenericMap, MapSequence

    # torch only when animating: sunpy_jets.inputs.preprocessing imports torch, the other plots need none
    from ..inputs.preprocessing import PreparedSequence

    if isinstance(maps_or_sequence, PreparedSequence):
        images = [np.asarray(f[0]) for f in maps_or_sequence.frames]
        times, maps = Time(maps_or_sequence.times), None
    else:
        maps = list(maps_or_sequence.maps) if isinstance(maps_or_sequence, MapSequence) else list(maps_or_sequence)
        if not maps or not all(isinstance(m, GenericMap) for m in maps):
            raise InputTypeError("give a MapSequence, a non-empty list of sunpy maps or a PreparedSequence")
        images = [m.data for m in maps]
        times = Time([m.date for m in maps])
    n = len(images)
    values, counts = _frame_probabilities(probability, times)
    # One scale for every frame, robust to a few hot pixels.
    limits = (min(float(np.nanpercentile(im, 0.5)) for im in images),
              max(float(np.nanpercentile(im, 99.9)) for im in images))

    if maps is not None:
        if axes is None:
            axes = plt.figure().add_subplot(projection=maps[0])
        # No cmap argument unless given: sunpy would take None over the map's own colour map.
        image = maps[0].plot(axes=axes, title=False, **({} if cmap is None else {"cmap": cmap}))
        names = [m.latex_name for m in maps]
    else:
        if axes is None:
            axes = plt.figure().add_subplot()
        # An asinh stretch, as sunpy's for AIA, so that the quiet Sun shows beside a bright jet.
        norm = ImageNormalize(vmin=limits[0], vmax=limits[1], stretch=AsinhStretch(0.05))
        image = axes.imshow(images[0], origin="lower", cmap=cmap or "gray", norm=norm)
        axes.set_xlabel("x (model pixels)")
        axes.set_ylabel("y (model pixels)")
        axes.figure.colorbar(image, ax=axes, label="standardised intensity")
        names = [f"prepared {t.utc.strftime('%Y-%m-%d %H:%M:%S')}" for t in times]
    title = axes.set_title("")

    def update(i):
        image.set_data(images[i])
        image.set_clim(*limits)
        text = f"{names[i]}\nframe {i + 1}/{n}"
        if counts[i] == 0 and probability is not None:
            text += "  (in no scanned window)"
        elif not np.isnan(values[i]):
            text += f"  P(jet) = {values[i]:.2f}" + (f" (max of {counts[i]} windows)" if counts[i] > 1 else "")
        title.set_text(text)
        return image, title

    update(0)
    return FuncAnimation(axes.figure, update, frames=n, interval=interval, blit=False, **kwargs)
