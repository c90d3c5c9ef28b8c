"""
An independent jet injector, for evaluation only.

It shares no code and no design with ``sunpy_jets.synthetic`` (the generator the default weights are trained
on), so that a model's score on jets injected here measures whether it learned "a jet", not the generator's
own jet. Its jet is a **tapered Gaussian spire that grows at constant speed from a base brightening**:

- a base brightening: a round Gaussian (FWHM ``base_fwhm``) that brightens linearly over ``rise`` and then
  fades exponentially (e-folding ``fade``);
- a spire along a straight axis at angle ``angle`` from the base: its length grows at ``speed`` (plane of sky)
  from the start time until it reaches ``height``, then stays while it fades with the base. Across the
  axis the profile is Gaussian with a FWHM that narrows from ``width`` at the base to 40 % of it at
  ``height``; along the axis the brightness falls as ``exp(-s / (0.8 * height))`` and the leading edge is a
  soft logistic step 2 px wide;
- the added signal is ``contrast`` times the median of the background frame at the base's neighbourhood,
  with shot noise (Gaussian, variance = added DN) on top, in the data's own units.

Everything is drawn from one `numpy.random.Generator`, so a seed gives the same jets. The functions work on
plain arrays (``(T, H, W)`` in DN, with frame times in seconds and a pixel scale), so they apply equally to
calibrated FITS cutouts and to full-disk crops.

Examples
--------
>>> import numpy as np
>>> from independent_injector import draw_jet, inject
>>> rng = np.random.default_rng(0)
>>> stack = np.full((15, 100, 100), 50.0)
>>> jet = draw_jet(rng, base=(50.0, 50.0), pixel_scale=0.6, duration=336.0)
>>> out = inject(stack, np.arange(15) * 24.0, jet, rng=rng)
>>> bool((out[-1] - stack[-1]).max() > 20), bool(np.allclose(out[0], stack[0], atol=60))
(True, True)
"""

from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["InjectedJet", "draw_jet", "inject", "KM_PER_ARCSEC"]

#: Plane-of-sky kilometres per arcsec at 1 AU (for drawing speeds in km/s).
KM_PER_ARCSEC = 725.27


@dataclass(frozen=True)
class InjectedJet:
    """
    One injected jet, in pixel and second units of the array it goes into.

    Attributes
    ----------
    base_row, base_col : float
        Base point (array row and column).
    angle : float
        Direction of the spire (radians, counter-clockwise from +column).
    start : float
        Time (s from the first frame) when the jet starts.
    rise, fade : float
        Rise time of the base brightening and e-folding time of the fade (s).
    speed : float
        Growth speed of the spire (px/s).
    height, width, base_fwhm : float
        Maximum length of the spire, its FWHM at the base, and the base brightening's FWHM (px).
    contrast : float
        Peak added brightness as a multiple of the local background median.
    speed_km_s, height_arcsec, width_arcsec : float
        The same in physical units (for reports).
    """

    base_row: float
    base_col: float
    angle: float
    start: float
    rise: float
    fade: float
    speed: float
    height: float
    width: float
    base_fwhm: float
    contrast: float
    speed_km_s: float
    height_arcsec: float
    width_arcsec: float

    def to_dict(self) -> dict:
        """The parameters as a JSON-ready dict."""
        return {k: round(float(v), 4) for k, v in asdict(self).items()}


def draw_jet(rng, *, base, pixel_scale, duration, outward=None, contrast=(2.0, 6.0), speed_km_s=(100.0, 450.0),
             height_arcsec=(20.0, 110.0), width_arcsec=(5.0, 25.0)) -> InjectedJet:  # fmt: skip
    """
    Draw one jet's parameters.

    Parameters
    ----------
    rng : `numpy.random.Generator`
    base : (float, float)
        Base point (row, column) in the array.
    pixel_scale : float
        Arcsec per pixel of the array.
    duration : float
        Length of the sequence in seconds; the jet starts in its first quarter, so that it grows in view.
    outward : float, optional
        Direction away from disk centre at the base (radians, counter-clockwise from +column): the spire
        leans within ±40° of it. None: any direction.
    contrast, speed_km_s, height_arcsec, width_arcsec : (float, float)
        Ranges drawn from (log-uniform for contrast and speed, uniform otherwise).

    Returns
    -------
    `InjectedJet`
    """
    loguni = lambda lo, hi: float(np.exp(rng.uniform(np.log(lo), np.log(hi))))  # noqa: E731
    angle = rng.uniform(0, 2 * np.pi) if outward is None else outward + rng.uniform(-0.7, 0.7)
    v_km = loguni(*speed_km_s)
    h = rng.uniform(*height_arcsec)
    w = rng.uniform(*width_arcsec)
    return InjectedJet(
        base_row=float(base[0]),
        base_col=float(base[1]),
        angle=float(angle),
        start=float(rng.uniform(0.0, 0.25 * duration)),
        rise=float(rng.uniform(30.0, 120.0)),
        fade=float(rng.uniform(240.0, 900.0)),
        speed=float(v_km / KM_PER_ARCSEC / pixel_scale),
        height=float(h / pixel_scale),
        width=float(w / pixel_scale),
        base_fwhm=float(rng.uniform(4.0, 10.0) / pixel_scale),
        contrast=loguni(*contrast),
        speed_km_s=v_km,
        height_arcsec=h,
        width_arcsec=w,
    )


def _frame_signal(shape, jet: InjectedJet, t: float) -> np.ndarray:
    """The jet's brightness in one frame, with peak 1 at full development (before contrast scaling)."""
    dt = t - jet.start
    if dt <= 0:
        return np.zeros(shape)
    envelope = min(1.0, dt / jet.rise) * np.exp(-max(0.0, dt - jet.rise) / jet.fade)
    rows, cols = np.mgrid[: shape[0], : shape[1]].astype(float)
    dy, dx = rows - jet.base_row, cols - jet.base_col
    # base brightening
    sb = jet.base_fwhm / 2.3548
    base = np.exp(-(dx**2 + dy**2) / (2 * sb**2))
    # spire: along-axis coordinate s and across-axis distance d (rows grow downwards in the array, so the
    # angle is measured with -row as "up"; any consistent convention will do for a random angle)
    ux, uy = np.cos(jet.angle), np.sin(jet.angle)
    s = dx * ux + dy * uy
    d = -dx * uy + dy * ux
    length = min(jet.height, jet.speed * dt)
    frac = np.clip(s / max(jet.height, 1.0), 0.0, 1.0)
    sigma = (jet.width / 2.3548) * (1.0 - 0.6 * frac)
    along = np.exp(-np.clip(s, 0, None) / (0.8 * jet.height))
    edge = 1.0 / (1.0 + np.exp((s - length) / 2.0))  # soft leading edge
    start = 1.0 / (1.0 + np.exp(-s / 1.0))  # from the base onward only
    spire = np.exp(-(d**2) / (2 * sigma**2)) * along * edge * start
    return envelope * np.maximum(base, 0.8 * spire)


def inject(stack, times, jet: InjectedJet, *, rng, background_radius: float = 40.0) -> np.ndarray:
    """
    Add a jet to every frame of ``stack``.

    Parameters
    ----------
    stack : `numpy.ndarray`
        Frames ``(T, H, W)`` in data units (e.g. DN), NaN allowed (left NaN).
    times : array-like
        Frame times in seconds from the first frame.
    jet : `InjectedJet`
    rng : `numpy.random.Generator`
        For the shot noise.
    background_radius : float
        Radius (px) around the base whose median of the first frame sets the brightness scale.

    Returns
    -------
    `numpy.ndarray`
        A new array (float64): the frames with the jet and its shot noise.
    """
    stack = np.asarray(stack, dtype=float)
    if stack.ndim != 3:
        raise ValueError(f"stack must be (T, H, W), not shape {stack.shape}")
    times = np.asarray(times, dtype=float)
    if len(times) != len(stack):
        raise ValueError(f"{len(times)} times for {len(stack)} frames")
    rows, cols = np.mgrid[: stack.shape[1], : stack.shape[2]]
    near = (rows - jet.base_row) ** 2 + (cols - jet.base_col) ** 2 <= background_radius**2
    values = stack[0][near & np.isfinite(stack[0])]
    level = float(np.median(values)) if values.size else float(np.nanmedian(stack[0]))
    level = max(level, 1.0)
    out = stack.copy()
    for i, t in enumerate(times):
        added = jet.contrast * level * _frame_signal(stack.shape[1:], jet, float(t))
        noise = rng.normal(0.0, 1.0, size=added.shape) * np.sqrt(np.maximum(added, 0.0))
        out[i] = stack[i] + added + noise
    return out
