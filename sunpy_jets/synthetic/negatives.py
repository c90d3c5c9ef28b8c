"""
Hard negatives: dynamic 304 Å scenes that are not jets.

A classifier that only learned "something bright changed" would fire on all of these. Each is a
small `~sunpy_jets.synthetic._feature.Feature` with a ``random`` constructor that places it in a
field and a time window:

- `FlareBrightening`: two ribbons and a kernel that brighten impulsively and decay, drifting apart;
- `OscillatingLoop`: a bright loop whose height oscillates (a decaying kink mode);
- `ProminenceMotion`: prominence threads above the limb (a dark filament on the disk) swaying and sliding;
- `CoronalRain`: condensations falling along both legs of a loop;
- `MovingBrightPoint`: a blinking bright point drifting slowly.
"""

import numpy as np

from ._feature import Feature
from .backgrounds import QUIET_SUN_RATE

__all__ = [
    "FlareBrightening",
    "OscillatingLoop",
    "ProminenceMotion",
    "CoronalRain",
    "MovingBrightPoint",
    "NEGATIVES",
]


def _place(rng, field, margin=0.2):
    """A random point (arcsec) in the inner part of the field."""
    xmin, xmax, ymin, ymax = field.bounds
    return (
        rng.uniform(xmin + margin * (xmax - xmin), xmax - margin * (xmax - xmin)),
        rng.uniform(ymin + margin * (ymax - ymin), ymax - margin * (ymax - ymin)),
    )


def _timing(rng, duration, low, high):
    """Start (s from scene start) and lifetime of a feature that is alive during the window."""
    life = rng.uniform(low, high)
    start = rng.uniform(-0.3 * life, 0.6 * duration)
    return start, life


def _limb_point(rng, field):
    """A point on the limb inside the field, or `None` when the limb misses it."""
    r = np.hypot(field.tx, field.ty)
    near = np.flatnonzero(np.abs(r.ravel() - field.rsun) < 2 * field.scale)
    if near.size == 0:
        return None
    i = near[rng.integers(near.size)]
    return float(field.tx.ravel()[i]), float(field.ty.ravel()[i])


def _gauss(dx, dy, sx, sy=None):
    sy = sx if sy is None else sy
    return np.exp(-0.5 * ((dx / sx) ** 2 + (dy / sy) ** 2))


class _Loop:
    """A semi-elliptical loop between two footpoints (arcsec), rising along ``up``."""

    def __init__(self, center, half_span, height, angle, up_sign):
        self.center = np.asarray(center, dtype=float)
        self.e1 = np.array([np.cos(angle), np.sin(angle)])
        self.e2 = up_sign * np.array([-self.e1[1], self.e1[0]])
        self.a, self.b = half_span, height

    def local(self, tx, ty):
        qx, qy = tx - self.center[0], ty - self.center[1]
        return qx * self.e1[0] + qy * self.e1[1], qx * self.e2[0] + qy * self.e2[1]

    def point(self, theta, height=None):
        b = self.b if height is None else height
        return self.center + self.a * np.cos(theta) * self.e1 + b * np.sin(theta) * self.e2

    def distance(self, tx, ty, height):
        """Approximate distance (arcsec) to the loop of the given height; infinite below the footpoints."""
        p, q = self.local(tx, ty)
        rho = np.hypot(p / self.a, q / height)
        dist = np.abs(rho - 1) * np.hypot(p, q) / np.maximum(rho, 1e-6)
        return np.where(q >= 0, dist, np.inf)

    def box(self, pad):
        theta = np.linspace(0, np.pi, 33)
        pts = np.array([self.point(t, self.b * 1.3) for t in theta])
        return (pts[:, 0].min() - pad, pts[:, 0].max() + pad, pts[:, 1].min() - pad, pts[:, 1].max() + pad)


class FlareBrightening(Feature):
    """
    Two ribbons and a kernel brightening impulsively then decaying, separating at 5–20 km/s.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_jets.synthetic._geometry import Field
    >>> from sunpy_jets.synthetic.negatives import FlareBrightening
    >>> field = Field.regular((64, 64), (0.0, 0.0), 2.0, 960.0, 1.496e8)  # on the disk
    >>> flare = FlareBrightening.random(np.random.default_rng(0), field, duration=600.0)
    >>> flare.label  # not a jet
    False
    >>> peak, later = np.zeros((2, 64, 64), dtype=np.float32)
    >>> flare.add_to(peak, field, flare.t_start + flare.rise)
    >>> flare.add_to(later, field, flare.t_start + flare.rise + 2 * flare.decay)
    >>> bool(peak.max() > later.max() > 0)  # impulsive, then decaying
    True
    """

    def __init__(self, center, angle, length, gap, speed, peak, t_start, rise, decay):
        self.center, self.angle, self.length, self.gap, self.speed = center, angle, length, gap, speed
        self.peak, self.t_start, self.rise, self.decay = peak, t_start, rise, decay
        self.t_end = t_start + rise + 5 * decay
        self._e = np.array([np.cos(angle), np.sin(angle)])
        pad = self.length + self.gap + self.speed * (self.t_end - self.t_start) + 3
        self._box = (center[0] - pad, center[0] + pad, center[1] - pad, center[1] + pad)

    @classmethod
    def random(cls, rng, field, duration):
        start, _ = _timing(rng, duration, 300, 1800)
        return cls(
            _place(rng, field),
            rng.uniform(0, np.pi),
            field.mm_to_arcsec(rng.uniform(10, 40)),
            field.mm_to_arcsec(rng.uniform(3, 12)),
            rng.uniform(5, 20) / field.km_per_arcsec,
            rng.uniform(300, 3000),
            start,
            rng.uniform(30, 150),
            rng.uniform(120, 600),
        )

    def rate(self, tx, ty, t):
        tau = t - self.t_start
        amp = tau / self.rise if tau < self.rise else np.exp(-(tau - self.rise) / self.decay)
        p = (tx - self.center[0]) * self._e[0] + (ty - self.center[1]) * self._e[1]
        q = -(tx - self.center[0]) * self._e[1] + (ty - self.center[1]) * self._e[0]
        sep = self.gap + self.speed * max(tau, 0)
        width = max(1.5, 0.08 * self.length)
        ribbons = _gauss(p, q - sep / 2, self.length / 2, width) + 0.8 * _gauss(p, q + sep / 2, self.length / 2, width)
        kernel = 1.5 * _gauss(p, q, width * 1.5)
        return (self.peak * amp) * (ribbons + kernel)


class OscillatingLoop(Feature):
    """
    A bright loop whose apex oscillates (period 2–10 min, decaying), with flowing brightness.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_jets.synthetic._geometry import Field
    >>> from sunpy_jets.synthetic.negatives import OscillatingLoop
    >>> field = Field.regular((64, 64), (0.0, 0.0), 2.0, 960.0, 1.496e8)  # on the disk
    >>> loop = OscillatingLoop.random(np.random.default_rng(0), field, duration=600.0)
    >>> loop.label  # not a jet
    False
    >>> image = np.zeros((64, 64), dtype=np.float32)
    >>> loop.add_to(image, field, loop.t_start + 60.0)
    >>> bool(image.max() > 0), bool(image.min() >= 0)
    (True, True)
    """

    def __init__(self, loop, thickness, peak, amplitude, period, damping, t_start, life):
        self.loop, self.thickness, self.peak = loop, thickness, peak
        self.amplitude, self.period, self.damping = amplitude, period, damping
        self.t_start, self.t_end = t_start, t_start + life
        self._box = loop.box(3 * thickness + amplitude)

    @classmethod
    def random(cls, rng, field, duration):
        center = _limb_point(rng, field) if rng.random() < 0.5 else None
        center = center or _place(rng, field)
        span = field.mm_to_arcsec(rng.uniform(20, 80))
        angle = np.arctan2(center[1], center[0]) + np.pi / 2 + rng.uniform(-0.4, 0.4)
        loop = _Loop(center, span / 2, span * rng.uniform(0.4, 0.9), angle, 1.0)
        start, life = _timing(rng, duration, 1200, 3600)
        return cls(
            loop,
            field.mm_to_arcsec(rng.uniform(1.5, 4)) + 0.5 * field.scale,
            rng.uniform(60, 400),
            field.mm_to_arcsec(rng.uniform(2, 8)),
            rng.uniform(120, 600),
            rng.uniform(600, 2400),
            start,
            life,
        )

    def rate(self, tx, ty, t):
        tau = t - self.t_start
        fade = np.sin(np.pi * np.clip(tau / (self.t_end - self.t_start), 0, 1)) ** 0.3
        height = self.loop.b + self.amplitude * np.sin(2 * np.pi * tau / self.period) * np.exp(-tau / self.damping)
        d = self.loop.distance(tx, ty, height)
        return (self.peak * fade) * np.exp(-0.5 * (d / self.thickness) ** 2)


class ProminenceMotion(Feature):
    """
    Prominence threads above the limb (or a dark filament on the disk) that sway and slide slowly.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_jets.synthetic._geometry import Field
    >>> from sunpy_jets.synthetic.negatives import ProminenceMotion
    >>> field = Field.regular((64, 64), (0.0, 0.0), 2.0, 960.0, 1.496e8)  # on the disk
    >>> limb = Field.regular((64, 64), (940.0, 0.0), 2.0, 960.0, 1.496e8)  # across the limb
    >>> on_disk = ProminenceMotion.random(np.random.default_rng(0), field, duration=600.0)
    >>> above_limb = ProminenceMotion.random(np.random.default_rng(0), limb, duration=600.0)
    >>> dark, bright = np.zeros((2, 64, 64), dtype=np.float32)
    >>> on_disk.add_to(dark, field, max(on_disk.t_start, 0.0) + 60.0)
    >>> above_limb.add_to(bright, limb, max(above_limb.t_start, 0.0) + 60.0)
    >>> bool(dark.min() < 0), bool(bright.max() > 0)  # a dark filament, a bright prominence
    (True, True)
    """

    def __init__(self, anchor, up, threads, amplitude, t_start, life):
        self.anchor, self.up, self.threads, self.amplitude = np.asarray(anchor), np.asarray(up), threads, amplitude
        self.t_start, self.t_end = t_start, t_start + life
        reach = max(th["reach"] for th in threads)
        self._box = (anchor[0] - reach, anchor[0] + reach, anchor[1] - reach, anchor[1] + reach)

    @classmethod
    def random(cls, rng, field, duration):
        limb = _limb_point(rng, field)
        anchor = limb if limb is not None else _place(rng, field)
        up = np.asarray(anchor) / max(np.hypot(*anchor), 1e-6)
        size = field.mm_to_arcsec(rng.uniform(20, 80))
        threads = []
        for _ in range(int(rng.integers(4, 10))):
            threads.append(
                {
                    "along": rng.uniform(-0.5, 0.5) * size,
                    "height": rng.uniform(0.2, 0.8) * size * 0.6,
                    "length": rng.uniform(0.1, 0.3) * size,
                    "width": field.mm_to_arcsec(rng.uniform(1.5, 4)) + 0.5 * field.scale,
                    "tilt": rng.uniform(-0.6, 0.6) + (np.pi / 2 if rng.random() < 0.5 else 0.0),
                    "speed": rng.uniform(5, 30) / field.km_per_arcsec * rng.choice([-1, 1]),
                    "sway": field.mm_to_arcsec(rng.uniform(0.5, 3)),
                    "period": rng.uniform(300, 1500),
                    "phase": rng.uniform(0, 2 * np.pi),
                    "reach": size + field.mm_to_arcsec(10),
                }
            )
        # Bright in emission above the limb; dark (absorbing) on the disk.
        amplitude = rng.uniform(60, 400) if limb is not None else -0.6 * QUIET_SUN_RATE
        start, life = _timing(rng, duration, 3600, 7200)
        return cls(anchor, up, threads, amplitude, start, life)

    def rate(self, tx, ty, t):
        tau = t - self.t_start
        e2 = self.up
        e1 = np.array([-e2[1], e2[0]])
        qx, qy = tx - self.anchor[0], ty - self.anchor[1]
        p, q = qx * e1[0] + qy * e1[1], qx * e2[0] + qy * e2[1]
        out = np.zeros(np.shape(tx), dtype=np.float32)
        for th in self.threads:
            # Slide along the thread (bounded, back and forth) and sway across it.
            slide = th["speed"] * th["period"] / (2 * np.pi) * np.sin(2 * np.pi * tau / th["period"] + th["phase"])
            sway = th["sway"] * np.sin(2 * np.pi * tau / (0.7 * th["period"]) + th["phase"])
            c, s = np.cos(th["tilt"]), np.sin(th["tilt"])
            dp, dq = p - th["along"] - sway, q - th["height"]
            a, b = dp * c + dq * s - slide, -dp * s + dq * c
            out += _gauss(a, b, th["length"], th["width"])
        return self.amplitude * out


class CoronalRain(Feature):
    """
    Condensations falling along both legs of a (faint) loop at 30–120 km/s.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_jets.synthetic._geometry import Field
    >>> from sunpy_jets.synthetic.negatives import CoronalRain
    >>> field = Field.regular((64, 64), (0.0, 0.0), 2.0, 960.0, 1.496e8)  # on the disk
    >>> rain = CoronalRain.random(np.random.default_rng(0), field, duration=600.0)
    >>> rain.label  # not a jet
    False
    >>> image = np.zeros((64, 64), dtype=np.float32)
    >>> rain.add_to(image, field, rain.t_end + 1.0)  # nothing once it is over
    >>> bool(image.any())
    False
    >>> rain.add_to(image, field, max(rain.t_start, 0.0) + 60.0)
    >>> bool(image.max() > 0)
    True
    """

    def __init__(self, loop, blobs, size, peak, t_start, life):
        self.loop, self.blobs, self.size, self.peak = loop, blobs, size, peak
        self.t_start, self.t_end = t_start, t_start + life
        self._box = loop.box(3 * size)

    @classmethod
    def random(cls, rng, field, duration):
        center = _limb_point(rng, field) or _place(rng, field)
        span = field.mm_to_arcsec(rng.uniform(30, 100))
        angle = np.arctan2(center[1], center[0]) + np.pi / 2 + rng.uniform(-0.4, 0.4)
        loop = _Loop(center, span / 2, span * rng.uniform(0.5, 0.9), angle, 1.0)
        start, life = _timing(rng, duration, 1200, 3600)
        n = int(rng.integers(5, 16))
        arc = np.pi * (loop.a + loop.b) / 2  # quarter-ellipse-ish length of one leg, arcsec
        blobs = [
            {
                "t0": start + rng.uniform(-0.2, 1.0) * life,
                "side": rng.choice([-1.0, 1.0]),
                "speed": rng.uniform(30, 120) / field.km_per_arcsec,
                "arc": arc,
            }
            for _ in range(n)
        ]
        size = field.mm_to_arcsec(rng.uniform(1.0, 2.5)) + 0.5 * field.scale
        return cls(loop, blobs, size, rng.uniform(150, 800), start, life)

    def rate(self, tx, ty, t):
        out = 0.05 * self.peak * np.exp(-0.5 * (self.loop.distance(tx, ty, self.loop.b) / self.size) ** 2)
        for blob in self.blobs:
            fall = blob["speed"] * (t - blob["t0"])
            if not 0 <= fall <= blob["arc"]:
                continue
            # From the apex (theta = pi/2) down one leg to a footpoint.
            theta = np.pi / 2 * (1 - blob["side"] * fall / blob["arc"])
            x, y = self.loop.point(theta)
            out = out + self.peak * _gauss(tx - x, ty - y, self.size)
        return out


class MovingBrightPoint(Feature):
    """
    A small bright point drifting at 1–10 km/s and blinking with a period of 1–5 min.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_jets.synthetic._geometry import Field
    >>> from sunpy_jets.synthetic.negatives import MovingBrightPoint
    >>> field = Field.regular((64, 64), (0.0, 0.0), 2.0, 960.0, 1.496e8)  # on the disk
    >>> point = MovingBrightPoint.random(np.random.default_rng(0), field, duration=600.0)
    >>> point.label  # not a jet
    False
    >>> image = np.zeros((64, 64), dtype=np.float32)
    >>> point.add_to(image, field, 0.0)
    >>> xmin, xmax, ymin, ymax = point.box()
    >>> ty, tx = np.unravel_index(image.argmax(), image.shape)
    >>> bool(xmin <= field.tx[ty, tx] <= xmax and ymin <= field.ty[ty, tx] <= ymax)
    True
    """

    def __init__(self, start_xy, velocity, size, peak, period, t_start, life):
        self.start_xy, self.velocity, self.size, self.peak, self.period = start_xy, velocity, size, peak, period
        self.t_start, self.t_end = t_start, t_start + life
        travel = np.hypot(*velocity) * life + 4 * size
        self._box = (start_xy[0] - travel, start_xy[0] + travel, start_xy[1] - travel, start_xy[1] + travel)

    @classmethod
    def random(cls, rng, field, duration):
        start, life = _timing(rng, duration, 900, 3600)
        speed = rng.uniform(1, 10) / field.km_per_arcsec
        angle = rng.uniform(0, 2 * np.pi)
        return cls(
            _place(rng, field),
            (speed * np.cos(angle), speed * np.sin(angle)),
            field.mm_to_arcsec(rng.uniform(1.5, 4)) + 0.5 * field.scale,
            rng.uniform(40, 250),
            rng.uniform(60, 300),
            start,
            life,
        )

    def rate(self, tx, ty, t):
        tau = t - self.t_start
        x = self.start_xy[0] + self.velocity[0] * tau
        y = self.start_xy[1] + self.velocity[1] * tau
        blink = 0.6 + 0.4 * np.sin(2 * np.pi * tau / self.period)
        return (self.peak * blink) * _gauss(tx - x, ty - y, self.size)


#: Hard-negative kinds by name, as `~sunpy_jets.synthetic.make_sequence` accepts them.
NEGATIVES = {
    "flare": FlareBrightening,
    "oscillating_loop": OscillatingLoop,
    "prominence": ProminenceMotion,
    "coronal_rain": CoronalRain,
    "bright_point": MovingBrightPoint,
}
