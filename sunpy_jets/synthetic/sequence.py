"""
`make_sequence`: one short synthetic AIA 304 Å sequence (a model window) with its truth.
"""

from dataclasses import dataclass, field

import numpy as np

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.time import Time

from sunpy.coordinates import Helioprojective, get_earth, sun

from ..exceptions import InputError, InputTypeError
from .._validation import as_count, as_probability, as_quantity, as_rng, as_shape, as_time
from ._geometry import Field
from .backgrounds import MapBackground, ProceduralBackground
from .jets import JetEvent, JetFeature, JetParameters
from .negatives import NEGATIVES
from .noise import plan_frames
from .scene import Scene

__all__ = ["SyntheticSequence", "SyntheticFrames", "make_sequence", "KINDS"]

#: Every value ``kind`` accepts.
KINDS = ("jet", "quiet", "negative", *NEGATIVES)

_EARLIEST, _LATEST = Time("2011-01-01T00:00:00"), Time("2017-01-01T00:00:00")


@dataclass
class SyntheticSequence:
    """
    A synthetic sequence and its ground truth.

    Attributes
    ----------
    maps : `~sunpy.map.MapSequence`
        The frames, as `~sunpy.map.sources.AIAMap`.
    label : bool
        Whether a jet is visible in the sequence.
    kind : str
        ``"jet"``, ``"quiet"``, or the hard negative drawn (see `KINDS`).
    jets : list of `~sunpy_jets.synthetic.JetEvent`
        Every jet in the scene, with its base, times and box.
    distractors : list of str
        The hard negatives in the scene, by name.

    Examples
    --------
    >>> from sunpy_jets.synthetic import make_sequence
    >>> seq = make_sequence(kind="jet", seed=0, n_frames=3, shape=(32, 32))
    >>> type(seq).__name__, seq.label, seq.kind, len(seq.maps), len(seq.jets)
    ('SyntheticSequence', True, 'jet', 3, 1)
    >>> seq.maps[0].data.shape
    (32, 32)
    """

    maps: object
    label: bool
    kind: str
    jets: list = field(default_factory=list)
    distractors: list = field(default_factory=list)


@dataclass
class SyntheticFrames:
    """
    A lazily rendered synthetic sequence: frames are made when iterated or indexed.

    Use it for long or large observations; `~sunpy_jets.synthetic.write_fits` writes it frame by frame.
    Attributes are those of `SyntheticSequence`, with ``scene`` instead of ``maps``.

    Examples
    --------
    >>> import astropy.units as u
    >>> from sunpy_jets.synthetic import make_sequence
    >>> frames = make_sequence(kind="jet", seed=0, n_frames=3, shape=(32, 32), lazy=True)
    >>> type(frames).__name__, len(frames), frames.label
    ('SyntheticFrames', 3, True)
    >>> (frames.times[1] - frames.times[0]).to(u.s)
    <Quantity 24. s>
    >>> frames[-1].data.shape, frames[-1].date == frames.times[-1]
    ((32, 32), True)
    """

    scene: Scene
    label: bool
    kind: str
    jets: list = field(default_factory=list)
    distractors: list = field(default_factory=list)

    def __len__(self):
        return len(self.scene)

    def __iter__(self):
        return iter(self.scene)

    def __getitem__(self, i):
        if not -len(self) <= i < len(self):
            raise IndexError(f"frame {i} out of range for {len(self)} frames")
        return self.scene.frame(i % len(self))

    @property
    def times(self):
        """Observation time of every frame."""
        return self.scene.times

    def to_sequence(self):
        """
        Render every frame into a `SyntheticSequence`.

        Examples
        --------
        >>> import numpy as np
        >>> from sunpy_jets.synthetic import make_sequence
        >>> frames = make_sequence(kind="quiet", seed=0, n_frames=3, shape=(32, 32), lazy=True)
        >>> seq = frames.to_sequence()
        >>> type(seq).__name__, len(seq.maps), seq.label, seq.kind
        ('SyntheticSequence', 3, False, 'quiet')
        >>> np.array_equal(seq.maps[2].data, frames[2].data)
        True
        """
        import sunpy.map

        maps = sunpy.map.Map(list(self.scene), sequence=True)
        return SyntheticSequence(maps, self.label, self.kind, list(self.jets), list(self.distractors))


def _root_seed(seed):
    """The `numpy.random.SeedSequence` every random draw of a sequence derives from (frames spawn from it)."""
    rng = as_rng(seed)  # the package's one seed check
    if rng is seed:
        # A caller's generator: draw the root from it, so that threading one generator gives distinct sequences.
        return np.random.SeedSequence(int(seed.integers(2**63)))
    return rng.bit_generator.seed_seq  # SeedSequence(seed) for an int, fresh entropy for None


def _random_center(rng, rsun):
    """Half the fields straddle the limb, half lie on the disk."""
    r = rsun * (rng.uniform(0.93, 1.05) if rng.random() < 0.5 else np.sqrt(rng.uniform(0, 0.85**2)))
    angle = rng.uniform(0, 2 * np.pi)
    return r * np.cos(angle), r * np.sin(angle)


def build_scene(
    *, seed, n_frames, cadence, shape, scale, center, start_time, background, exposure, bad_frame_rate, noise
):
    """
    Validate the common arguments and return ``(scene, rng, observer_frame)`` with no features yet.

    Shared by `make_sequence` and `~sunpy_jets.synthetic.make_observation`.
    """
    root = _root_seed(seed)
    rng = np.random.default_rng(root)
    n_frames = as_count(n_frames, "n_frames")
    cadence_s = as_quantity(cadence, u.s, "cadence")
    bad_frame_rate = as_probability(bad_frame_rate, "bad_frame_rate")
    if isinstance(background, str):
        if background != "procedural":
            raise InputError(f'background must be "procedural" or a MapSequence of real frames, got {background!r}')
        shape = as_shape((500, 500) if shape is None else shape)
        scale_as = as_quantity(0.6 * u.arcsec / u.pix if scale is None else scale, u.arcsec / u.pix, "scale")
        exposure_s = as_quantity(exposure, u.s, "exposure")
        if start_time is None:
            start = _EARLIEST + rng.uniform(0, (_LATEST - _EARLIEST).to_value(u.s)) * u.s
            start = Time(start.isot[:19])
        else:
            start = as_time(start_time, "start_time")
        earth = get_earth(start)
        rsun = float(sun.angular_radius(start).to_value(u.arcsec))
        if center is None:
            cx, cy = _random_center(rng, rsun)
        else:
            if not isinstance(center, SkyCoord):
                raise InputTypeError(f"center must be a helioprojective SkyCoord, got {type(center).__name__}")
            try:
                hpc = center.transform_to(Helioprojective(observer=earth, obstime=start))
            except Exception as exc:  # astropy raises several types for impossible transforms
                raise InputError(f"center could not be expressed in Helioprojective from Earth: {exc}") from None
            cx, cy = float(hpc.Tx.to_value(u.arcsec)), float(hpc.Ty.to_value(u.arcsec))
        fld = Field.regular(shape, (cx, cy), scale_as, rsun, float(earth.radius.to_value(u.km)))
        times = start + np.arange(n_frames) * cadence_s * u.s
        bg = ProceduralBackground(fld, rng, duration=n_frames * cadence_s)
        reference = None
        frame = Helioprojective(observer=earth, obstime=start)
    else:
        maps = _real_maps(background)
        if shape is not None or scale is not None or center is not None:
            raise InputError("shape, scale and center come from the real background maps: leave them as None")
        bg = MapBackground(maps)
        reference = maps[0]
        fld = Field.from_map(reference)
        exposure_s = float(reference.exposure_time.to_value(u.s))
        start = bg.start if start_time is None else as_time(start_time, "start_time")
        times = start + np.arange(n_frames) * cadence_s * u.s
        frame = Helioprojective(observer=reference.observer_coordinate, obstime=start)
    plans = plan_frames(rng, n_frames, fld.shape, exposure=exposure_s, bad_frame_rate=bad_frame_rate)
    scene = Scene(
        field=fld,
        background=bg,
        features=[],
        times=times,
        plans=plans,
        seed_sequence=root,
        reference=reference,
        noise=bool(noise),
    )
    return scene, rng, frame


def _real_maps(background):
    from sunpy.map import GenericMap, MapSequence

    if isinstance(background, MapSequence):
        maps = list(background.maps)
    elif isinstance(background, (list, tuple)):
        maps = list(background)
    else:
        raise InputTypeError(
            f'background must be "procedural" or a MapSequence / list of maps, got {type(background).__name__}'
        )
    if not maps or not all(isinstance(m, GenericMap) for m in maps):
        raise InputError("background must hold at least one sunpy map, and only maps")
    if len({m.data.shape for m in maps}) != 1:
        raise InputError("background maps must all have the same shape")
    maps.sort(key=lambda m: m.date)
    if any(m.exposure_time is None or m.exposure_time <= 0 * u.s for m in maps):
        raise InputError("background maps need a positive exposure time (EXPTIME)")
    return maps


def place_jet(rng, scene, frame, jet=None, *, anywhere=False):
    """
    Turn ``jet`` (`None`, `JetParameters` or `JetEvent`) into a `JetEvent` visible in ``scene``.

    A random base is on the limb (radial outflow within ±25°) when the limb crosses the field,
    otherwise on the disk; the onset is drawn so the rise is seen. With ``anywhere`` the base may
    lie anywhere in the field and the onset anywhere in the window.
    """
    if isinstance(jet, JetEvent):
        return jet
    if jet is not None and not isinstance(jet, JetParameters):
        raise InputTypeError(f"jet must be None, a JetParameters or a JetEvent, got {type(jet).__name__}")
    fld = scene.field
    margin = 0.02 if anywhere else 0.2
    r = np.hypot(fld.tx, fld.ty).ravel()
    xmin, xmax, ymin, ymax = fld.bounds
    mx, my = margin * (xmax - xmin), margin * (ymax - ymin)
    inner = (
        (fld.tx.ravel() > xmin + mx) & (fld.tx.ravel() < xmax - mx) & (fld.ty.ravel() > ymin + my) & (fld.ty.ravel() < ymax - my)
    )
    limb = np.flatnonzero(inner & (np.abs(r - 0.99 * fld.rsun) < fld.scale))
    disk = np.flatnonzero(inner & (r < 0.97 * fld.rsun))
    if limb.size and (rng.random() < 0.7 or not disk.size):
        i = limb[rng.integers(limb.size)]
        pa = np.degrees(np.arctan2(-fld.tx.ravel()[i], fld.ty.ravel()[i])) + rng.uniform(-25, 25)
    else:
        pool = disk if disk.size else np.flatnonzero(inner)
        i = pool[rng.integers(pool.size)]
        pa = rng.uniform(0, 360)
    bx, by = float(fld.tx.ravel()[i]), float(fld.ty.ravel()[i])
    params = JetParameters.random(rng, position_angle=pa * u.deg) if jet is None else jet
    t0 = scene.times[0]
    window = (scene.times[-1] - t0).to_value(u.s) + (scene.times[1] - t0).to_value(u.s) if len(scene) > 1 else 0.0
    rise = params.rise_time.to_value(u.s)
    if anywhere:
        low, high = -0.5 * rise, window
    else:
        low, high = -0.3 * rise, window - min(rise, 180.0) - 60.0
    onset = rng.uniform(low, high) if high > low else low
    base = SkyCoord(bx * u.arcsec, by * u.arcsec, frame=frame)
    return JetEvent(params, base, t0 + onset * u.s)


def add_features(scene, rng, jets, negatives):
    """Add jet events and hard-negative names to the scene (in place)."""
    for event in jets:
        scene.features.append(JetFeature(event, scene.times[0], rng))
    duration = float(scene._offsets[-1]) + 1.0
    for name in negatives:
        scene.features.append(NEGATIVES[name].random(rng, scene.field, duration))


def visible(event, scene):
    """Whether a jet is alive during the window and its box meets the field."""
    t0, t1 = scene.times[0], scene.times[-1]
    if event.end_time < t0 or event.start_time > t1:
        return False
    return scene.field.window(event._box) is not None


def make_sequence(
    *,
    kind="jet",
    seed=None,
    n_frames=30,
    cadence=24 * u.s,
    shape=None,
    scale=None,
    center=None,
    start_time=None,
    background="procedural",
    jet=None,
    n_distractors=0,
    exposure=2.9 * u.s,
    bad_frame_rate=0.05,
    noise=True,
    lazy=False,
):
    """
    Make one synthetic AIA 304 Å sequence with known truth.

    Parameters
    ----------
    kind : str, optional
        ``"jet"`` (one jet), ``"quiet"`` (background only), one of the hard negatives
        (``"flare"``, ``"oscillating_loop"``, ``"prominence"``, ``"coronal_rain"``,
        ``"bright_point"``), or ``"negative"`` (one of those or quiet, at random).
    seed : int, `numpy.random.Generator` or None, optional
        The same seed gives bit-identical data.
    n_frames : int, optional
        Number of frames.
    cadence : `~astropy.units.Quantity`, optional
        Time between frames.
    shape : tuple of int, optional
        ``(ny, nx)`` in pixels; default ``(500, 500)``. Procedural backgrounds only.
    scale : `~astropy.units.Quantity`, optional
        Pixel size (angle / pix); default 0.6″/px. Use 1.8″/px with ``shape=(166, 166)`` for the
        model's 300″ field at its input size. Procedural backgrounds only.
    center : `~astropy.coordinates.SkyCoord`, optional
        Field centre; default random, half on the disk and half across the limb.
    start_time : `~astropy.time.Time` or str, optional
        First frame time; default random in 2011–2016 (procedural) or the first real frame.
    background : ``"procedural"`` or `~sunpy.map.MapSequence`, optional
        A procedural scene, or real frames used as background (their WCS and metadata are kept;
        they are interpolated in time onto the output cadence, cycling back and forth).
    jet : `~sunpy_jets.synthetic.JetParameters` or `~sunpy_jets.synthetic.JetEvent`, optional
        The jet of ``kind="jet"``: parameters (placed at random) or a fully placed event.
    n_distractors : int, optional
        Extra random hard negatives in the scene (any kind).
    exposure : `~astropy.units.Quantity`, optional
        Nominal exposure time (procedural backgrounds).
    bad_frame_rate : float, optional
        Probability that a frame is bad (cosmic-ray burst or shortened exposure).
    noise : bool, optional
        Add photon and read noise.
    lazy : bool, optional
        Return a `SyntheticFrames` that renders frames on demand.

    Returns
    -------
    `SyntheticSequence` (or `SyntheticFrames` when ``lazy``)

    Examples
    --------
    >>> import astropy.units as u
    >>> from sunpy_jets.synthetic import make_sequence
    >>> seq = make_sequence(kind="jet", seed=42, n_frames=4, shape=(64, 64), scale=1.8 * u.arcsec / u.pix)
    >>> seq.label, seq.kind, len(seq.maps), seq.maps[0].wavelength
    (True, 'jet', 4, <Quantity 304. Angstrom>)
    >>> (seq.maps[1].date - seq.maps[0].date).to(u.s)
    <Quantity 24. s>
    """
    if not isinstance(kind, str) or kind not in KINDS:
        raise InputError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    if jet is not None and kind != "jet":
        raise InputError(f'jet was given but kind is {kind!r}: use kind="jet"')
    n_distractors = as_count(n_distractors, "n_distractors", minimum=0)
    scene, rng, frame = build_scene(
        seed=seed,
        n_frames=n_frames,
        cadence=cadence,
        shape=shape,
        scale=scale,
        center=center,
        start_time=start_time,
        background=background,
        exposure=exposure,
        bad_frame_rate=bad_frame_rate,
        noise=noise,
    )
    if kind == "negative":
        kind = str(rng.choice(["quiet", *NEGATIVES]))
    jets = [place_jet(rng, scene, frame, jet)] if kind == "jet" else []
    negatives = [kind] if kind in NEGATIVES else []
    distractors = [str(rng.choice(list(NEGATIVES))) for _ in range(n_distractors)]
    add_features(scene, rng, jets, negatives + distractors)
    label = any(visible(ev, scene) for ev in jets)
    result = SyntheticFrames(scene, label, kind, jets, negatives + distractors)
    return result if lazy else result.to_sequence()
