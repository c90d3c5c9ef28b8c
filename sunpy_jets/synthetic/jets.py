"""
Synthetic coronal jets: parameters drawn from published ranges, truth records, and rendering.

A jet is a base brightening plus a collimated outflow whose front rises at the jet speed to its
maximum height, then fades (and, for some, falls back). Standard jets stay narrow; blow-out jets
are wider, spread with height and are patchy (turbulent, untwisting). Ranges (see the project's
``jets-background.md``): speeds 50–500 km/s, widths 3–20 Mm, heights 10–300 Mm (the Solar Jet
Hunter catalogue spans 10.7–317 Mm), lifetimes 2–20 min. Within those ranges heights follow the
catalogue's distribution (`SJH_HEIGHT`) and spires are at least five times as bright as the quiet Sun,
as jets bright enough for volunteers to box them are.
"""

from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtr, ndtri

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.time import Time

from ..exceptions import InputError, InputTypeError
from .._validation import as_quantity, as_time
from ._feature import Feature, sigmoid

__all__ = ["JetParameters", "JetEvent", "RANGES", "SJH_HEIGHT"]

#: Published ranges ``(low, high)`` that `JetParameters.random` draws from.
RANGES = {
    "speed": (50, 500) * u.km / u.s,
    "width": (3, 20) * u.Mm,
    "height": (10, 300) * u.Mm,
    "duration": (2, 20) * u.min,
    "peak_rate": (100, 800) * u.DN / u.s,
}

#: Log-normal fit ``(median, sigma of ln)`` of the maximum heights of the 883 Solar Jet Hunter jets
#: (``Jet_clusters_3.0_2.0_paperID.csv``, max_height × 0.725 Mm/″: median 72 Mm, 5th–95th
#: percentile 23–203 Mm). `JetParameters.random` draws heights from it, truncated to the ranges.
SJH_HEIGHT = (72 * u.Mm, 0.66)

_UNITS = {
    "speed": u.km / u.s,
    "width": u.Mm,
    "height": u.Mm,
    "duration": u.s,
    "position_angle": u.deg,
    "bend": u.deg,
    "peak_rate": u.DN / u.s,
}
# Projected solar gravity acting on falling-back material (km/s²): a fraction of 0.274 km/s².
_G_EFF = 0.15
_ARCSEC_RAD = np.pi / (180 * 3600)


def _log_uniform(rng, low, high):
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def _truncated_log_normal(rng, median, sigma, low, high):
    """One draw of a log-normal truncated to ``[low, high]``, by inverting its CDF (one uniform draw)."""
    a, b = (ndtr((np.log(v) - np.log(median)) / sigma) for v in (low, high))
    return float(np.exp(np.log(median) + sigma * ndtri(rng.uniform(a, b))))


@dataclass(frozen=True)
class JetParameters:
    """
    The physical parameters of one jet.

    Parameters
    ----------
    speed : `~astropy.units.Quantity`
        Outflow speed of the front (km/s).
    width : `~astropy.units.Quantity`
        Width of the collimated spire at its base (length).
    height : `~astropy.units.Quantity`
        Maximum plane-of-sky length reached (length).
    duration : `~astropy.units.Quantity`
        Lifetime from onset to the end of fading (time).
    position_angle : `~astropy.units.Quantity`
        Direction of the outflow on the sky, counter-clockwise from solar north (angle).
    bend : `~astropy.units.Quantity`, optional
        Total change of direction along the spire; 0 is straight (angle).
    blowout : bool, optional
        A blow-out jet (wider, spreading, patchy) instead of a standard one.
    peak_rate : `~astropy.units.Quantity`, optional
        Peak brightness of the spire in DN/s (multiply by 2.9 s for DN).
    fall_back : bool, optional
        Whether the material falls back after the rise.

    Examples
    --------
    >>> import numpy as np
    >>> import astropy.units as u
    >>> from sunpy_jets.synthetic import JetParameters
    >>> p = JetParameters(speed=200 * u.km / u.s, width=8 * u.Mm, height=80 * u.Mm,
    ...                   duration=10 * u.min, position_angle=270 * u.deg)
    >>> p.rise_time
    <Quantity 400. s>
    >>> JetParameters.random(np.random.default_rng(0)).speed.unit
    Unit("km / s")
    """

    speed: u.Quantity
    width: u.Quantity
    height: u.Quantity
    duration: u.Quantity
    position_angle: u.Quantity
    bend: u.Quantity = 0 * u.deg
    blowout: bool = False
    peak_rate: u.Quantity = 250 * u.DN / u.s
    fall_back: bool = False

    def __post_init__(self):
        for name, unit in _UNITS.items():
            value = getattr(self, name)
            positive = name not in ("position_angle", "bend")
            number = as_quantity(value, unit, f"JetParameters.{name}", positive=positive)
            object.__setattr__(self, name, (number * unit).to(value.unit))
        if abs(self.bend.to_value(u.deg)) > 120:
            raise InputError(f"JetParameters.bend must be within ±120 deg, got {self.bend}")
        for name in ("blowout", "fall_back"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise InputTypeError(f"JetParameters.{name} must be a bool, got {getattr(self, name)!r}")

    @property
    def rise_time(self):
        """Time for the front to reach ``height`` at ``speed``, capped at 80 % of ``duration``."""
        rise = (self.height / self.speed).to(u.s)
        return min(rise, 0.8 * self.duration.to(u.s))

    @classmethod
    def random(cls, rng, *, blowout=None, position_angle=None, ranges=None):
        """
        Draw parameters from the published ranges, keeping them consistent.

        Speed, lifetime, width and peak brightness are log-uniform within `RANGES`. The height
        follows the Solar Jet Hunter distribution (`SJH_HEIGHT`), truncated to its range and below
        what the front can reach while rising (at most 60 % of the lifetime at the drawn speed), so
        every drawn jet reaches its height.

        Parameters
        ----------
        rng : `numpy.random.Generator`
            The random source.
        blowout : bool, optional
            Force a blow-out (True) or standard (False) jet; by default 30 % are blow-outs.
        position_angle : `~astropy.units.Quantity`, optional
            Fix the direction (otherwise uniform).
        ranges : dict, optional
            Replace entries of `RANGES` (same keys, ``(low, high)`` Quantities).

        Examples
        --------
        >>> import numpy as np
        >>> from sunpy_jets.synthetic import JetParameters
        >>> p = JetParameters.random(np.random.default_rng(3), blowout=True)
        >>> p.blowout, bool(p.height <= p.speed * p.duration)
        (True, True)
        """
        if not isinstance(rng, np.random.Generator):
            raise InputTypeError(f"rng must be a numpy Generator (numpy.random.default_rng(seed)), got {rng!r}")
        bounds = dict(RANGES)
        bounds.update(ranges or {})
        lo = {k: float(v[0].to_value(_UNITS.get(k, v.unit) if k != "duration" else u.s)) for k, v in bounds.items()}
        hi = {k: float(v[1].to_value(_UNITS.get(k, v.unit) if k != "duration" else u.s)) for k, v in bounds.items()}
        for _ in range(1000):
            speed = _log_uniform(rng, lo["speed"], hi["speed"])
            duration = _log_uniform(rng, lo["duration"], hi["duration"])
            reach = speed * 0.6 * duration / 1e3  # Mm
            if reach >= lo["height"]:
                break
        else:  # pragma: no cover - only with inconsistent custom ranges
            raise InputError("the given ranges allow no jet to reach its minimum height; widen speed or duration")
        median, sigma = SJH_HEIGHT
        height = _truncated_log_normal(rng, median.to_value(u.Mm), sigma, lo["height"], min(hi["height"], reach))
        if blowout is None:
            blowout = bool(rng.random() < 0.3)
        width = _log_uniform(rng, lo["width"], hi["width"])
        if blowout:
            width = min(hi["width"], width * 1.6)
        pa = rng.uniform(0, 360) * u.deg if position_angle is None else position_angle
        bend = rng.choice([0.0, rng.uniform(-45, 45)]) * u.deg
        return cls(
            speed=speed * u.km / u.s,
            width=width * u.Mm,
            height=height * u.Mm,
            duration=(duration * u.s).to(u.min),
            position_angle=pa,
            bend=bend,
            blowout=bool(blowout),
            peak_rate=_log_uniform(rng, lo["peak_rate"], hi["peak_rate"]) * u.DN / u.s,
            fall_back=bool(rng.random() < 0.3),
        )


@dataclass(frozen=True)
class JetEvent:
    """
    One jet placed in space and time: the generator's ground truth.

    Parameters
    ----------
    parameters : `JetParameters`
        What the jet is.
    base : `~astropy.coordinates.SkyCoord`
        Helioprojective position of the jet base.
    start_time : `~astropy.time.Time`
        Onset (the base starts to brighten; the front leaves the base).

    Attributes
    ----------
    peak_time, end_time : `~astropy.time.Time`
        When the front reaches its height; when the jet has faded.
    bottom_left, top_right : `~astropy.coordinates.SkyCoord`
        Helioprojective box holding the jet over its whole life.

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.coordinates import SkyCoord
    >>> from astropy.time import Time
    >>> from sunpy.coordinates import Helioprojective, get_earth
    >>> from sunpy_jets.synthetic import JetEvent, JetParameters
    >>> t = Time("2012-07-19T07:30:00")
    >>> base = SkyCoord(950 * u.arcsec, 0 * u.arcsec, frame=Helioprojective(observer=get_earth(t), obstime=t))
    >>> p = JetParameters(speed=200 * u.km / u.s, width=8 * u.Mm, height=80 * u.Mm,
    ...                   duration=10 * u.min, position_angle=270 * u.deg)
    >>> ev = JetEvent(p, base, t)
    >>> ev.peak_time.isot, ev.end_time.isot
    ('2012-07-19T07:36:40.000', '2012-07-19T07:40:00.000')
    >>> bool(ev.top_right.Tx > 1050 * u.arcsec)
    True
    """

    parameters: JetParameters
    base: SkyCoord
    start_time: Time
    _box: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if not isinstance(self.parameters, JetParameters):
            raise InputTypeError(f"parameters must be a JetParameters, got {type(self.parameters).__name__}")
        if not isinstance(self.base, SkyCoord) or not self.base.isscalar:
            raise InputTypeError(f"base must be a scalar helioprojective SkyCoord, got {self.base!r}")
        object.__setattr__(self, "start_time", as_time(self.start_time, "start_time"))
        try:
            tx, ty = self.base.Tx.to_value(u.arcsec), self.base.Ty.to_value(u.arcsec)
        except AttributeError:
            raise InputTypeError("base must be in the Helioprojective frame (with Tx and Ty)") from None
        object.__setattr__(self, "_box", _jet_box(self.parameters, (tx, ty), self.km_per_arcsec))

    @property
    def km_per_arcsec(self):
        """Plane-of-sky km per arcsec at the Sun, from the base's observer (1 AU without one)."""
        observer = getattr(self.base, "observer", None)
        try:
            distance = observer.radius.to_value(u.km)
        except AttributeError:
            distance = u.au.to(u.km)
        return distance * _ARCSEC_RAD

    @property
    def peak_time(self):
        return self.start_time + self.parameters.rise_time

    @property
    def end_time(self):
        return self.start_time + self.parameters.duration

    @property
    def bottom_left(self):
        return SkyCoord(self._box[0] * u.arcsec, self._box[2] * u.arcsec, frame=self.base.frame)

    @property
    def top_right(self):
        return SkyCoord(self._box[1] * u.arcsec, self._box[3] * u.arcsec, frame=self.base.frame)


def _axis(params, base, km_per_arcsec, s):
    """Plane-of-sky points (arcsec) at arc lengths ``s`` (arcsec) along the jet axis."""
    pa = np.deg2rad(params.position_angle.to_value(u.deg))
    d = np.array([-np.sin(pa), np.cos(pa)])
    nl = np.array([-d[1], d[0]])
    height = params.height.to_value(u.km) / km_per_arcsec
    bend = np.deg2rad(params.bend.to_value(u.deg))
    s = np.asarray(s, dtype=float)
    if abs(bend) < 1e-3:
        return base[0] + s * d[0], base[1] + s * d[1]
    rc = height / bend
    c = np.array(base) + rc * nl
    ang = s / rc
    px = c[0] - rc * nl[0] * np.cos(ang) + rc * d[0] * np.sin(ang)
    py = c[1] - rc * nl[1] * np.cos(ang) + rc * d[1] * np.sin(ang)
    return px, py


def _jet_box(params, base, km_per_arcsec):
    height = params.height.to_value(u.km) / km_per_arcsec
    px, py = _axis(params, base, km_per_arcsec, np.linspace(0, height, 33))
    # Three sigmas of the widest part of the spire (base brightening included).
    half = 1.3 * _spread(params) * params.width.to_value(u.km) / km_per_arcsec + 2.0
    return (px.min() - half, px.max() + half, py.min() - half, py.max() + half)


def _spread(params):
    """Width at the top relative to the base: blow-outs open up."""
    return 2.5 if params.blowout else 1.4


class JetFeature(Feature):
    """
    Render a `JetEvent` onto a field (internal: built by the scene).

    ``epoch`` is the scene start; times passed to `rate` are seconds after it.
    """

    label = True

    def __init__(self, event, epoch, rng):
        p = event.parameters
        self.event = event
        self.t_start = float((event.start_time - epoch).to_value(u.s)) - 60.0
        self.t_onset = self.t_start + 60.0
        self.t_end = self.t_onset + float(p.duration.to_value(u.s))
        k = event.km_per_arcsec
        self.base = (float(event.base.Tx.to_value(u.arcsec)), float(event.base.Ty.to_value(u.arcsec)))
        self.speed = p.speed.to_value(u.km / u.s) / k
        self.height = p.height.to_value(u.km) / k
        self.width = p.width.to_value(u.km) / k
        self.rise = float(p.rise_time.to_value(u.s))
        self.peak = float(p.peak_rate.to_value(u.DN / u.s))
        self.params = p
        self._k = k
        pa = np.deg2rad(p.position_angle.to_value(u.deg))
        self.d = np.array([-np.sin(pa), np.cos(pa)], dtype=np.float32)
        self.nl = np.array([-self.d[1], self.d[0]], dtype=np.float32)
        bend = np.deg2rad(p.bend.to_value(u.deg))
        self.rc = None if abs(bend) < 1e-3 else self.height / bend
        self.blob_wavelength = self.height * rng.uniform(0.15, 0.35)
        self.blob_phase = rng.uniform(0, 2 * np.pi)
        self.turb = rng.uniform(0, 2 * np.pi, 3)

    def box(self):
        return self.event._box

    def _front(self, tau):
        """Length of the spire (arcsec) at ``tau`` s after onset."""
        if tau <= 0:
            return 0.0
        length = min(self.height, self.speed * tau)
        duration = self.t_end - self.t_onset
        hold = self.rise + 0.2 * (duration - self.rise)
        if self.params.fall_back and tau > hold:
            fall = 0.5 * _G_EFF / self._k * (tau - hold) ** 2
            length = max(0.15 * self.height, self.height - fall)
        return length

    def _amplitude(self, tau):
        """Brightness of the spire relative to its peak at ``tau`` s after onset."""
        if tau <= 0:
            return 0.0
        duration = self.t_end - self.t_onset
        if tau < self.rise:
            return 0.35 + 0.65 * tau / self.rise
        x = (tau - self.rise) / max(duration - self.rise, 1.0)
        return float(np.exp(-1.5 * x) * np.sqrt(max(0.0, 1.0 - x)))

    def rate(self, tx, ty, t):
        tau = t - self.t_onset
        qx, qy = tx - self.base[0], ty - self.base[1]
        # Base brightening: starts a minute before the outflow, peaks early, then follows the spire.
        base_amp = 1.2 * np.exp(-0.5 * ((tau - 0.2 * self.rise) / max(45.0, 0.4 * self.rise)) ** 2)
        base_amp += 0.5 * self._amplitude(tau)
        radius = self.width / 2.355 * (1.8 if self.params.blowout else 1.2)
        out = (self.peak * base_amp) * np.exp(-(qx * qx + qy * qy) / (2 * radius * radius))
        length = self._front(tau)
        amp = self._amplitude(tau)
        if length <= 0 or amp <= 0:
            return out
        if self.rc is None:
            s = qx * self.d[0] + qy * self.d[1]
            n = qx * self.nl[0] + qy * self.nl[1]
        else:
            # Polar coordinates about the bend's centre of curvature (see ``_axis``).
            cx, cy = qx - self.rc * self.nl[0], qy - self.rc * self.nl[1]
            ux = -(cx * self.nl[0] + cy * self.nl[1])
            vx = cx * self.d[0] + cy * self.d[1]
            s = self.rc * np.arctan2(vx / self.rc, ux / self.rc)
            n = np.hypot(ux, vx) - abs(self.rc)
        sigma = self.width / 2.355 * (1 + (_spread(self.params) - 1) * np.clip(s, 0, None) / self.height)
        edge = 0.04 * self.height + 1.5
        along = sigmoid((length - s) / edge) * sigmoid(s / edge) * np.exp(-np.clip(s, 0, None) / (1.2 * self.height))
        # Plasma blobs riding outward at the jet speed.
        along *= 1 + 0.35 * np.sin(2 * np.pi * (s - self.speed * tau) / self.blob_wavelength + self.blob_phase)
        across = np.exp(-(n * n) / (2 * sigma * sigma))
        if self.params.blowout:
            # Patchy, untwisting curtain: strands that drift across the spire.
            across *= 0.6 + 0.4 * np.sin(3.0 * n / sigma + 0.02 * tau + self.turb[0]) * np.sin(
                0.15 * s / sigma + self.turb[1]
            )
        return out + (self.peak * amp) * along * across
