"""
Backgrounds of synthetic AIA 304 Å frames: procedural or taken from real maps.

A background returns the count *rate* (DN/s) of the quiet scene at a time; exposure and noise
are applied later (`~sunpy_jets.synthetic.noise`), so that features and backgrounds add in
physical units and an exposure change scales everything together.

Levels follow real AIA 304 Å level-1 data (2012-07-19, 2.9 s exposures): quiet disk 35–90 DN
(median about 60), a limb band near 130 DN, off-limb falling to a few DN within 0.15 R_sun.
"""

import numpy as np
import scipy.fft

__all__ = ["ProceduralBackground", "MapBackground", "QUIET_SUN_RATE"]

#: Median quiet-Sun 304 Å count rate (DN/s): about 60 DN in a 2.9 s exposure.
QUIET_SUN_RATE = 21.0

# Synodic rotation near the equator, about 13.2 deg/day, in rad/s: rotation shifts disk features westward.
_OMEGA = np.deg2rad(13.2) / 86400.0


def _bandpass_noise(rng, shape, small, large):
    """Gaussian random field holding scales between ``small`` and ``large`` pixels, unit variance."""
    white = rng.standard_normal(shape, dtype=np.float32)
    spectrum = scipy.fft.rfft2(white, workers=2)
    ky = scipy.fft.fftfreq(shape[0]).astype(np.float32)[:, np.newaxis]
    kx = scipy.fft.rfftfreq(shape[1]).astype(np.float32)[np.newaxis, :]
    k2 = (2 * np.pi) ** 2 * (kx**2 + ky**2)
    spectrum *= np.exp(-0.5 * k2 * small**2) - np.exp(-0.5 * k2 * large**2)
    field = scipy.fft.irfft2(spectrum, s=shape, workers=2).astype(np.float32)
    field /= field.std() + 1e-12
    return field


class ProceduralBackground:
    """
    A procedural 304 Å scene: disk, chromospheric network, limb spicules and off-limb falloff.

    The network is built from the zero-lines of band-passed noise at supergranular scale (cell
    boundaries), mottled at granular scale; it drifts with solar rotation and slowly changes
    between two realisations. Spicules are radial streaks above the limb whose heights oscillate
    with periods of 3–10 minutes. The whole scene flickers by about a percent.

    Parameters
    ----------
    field : `~sunpy_jets.synthetic._geometry.Field`
        Where the pixels are.
    rng : `numpy.random.Generator`
        The random source (consumed at construction only).
    duration : float
        Seconds the scene must cover, so the network texture is large enough for the rotation drift.
    level : float, optional
        Median quiet-disk rate in DN/s.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_jets.synthetic._geometry import Field
    >>> from sunpy_jets.synthetic.backgrounds import ProceduralBackground
    >>> field = Field.regular((64, 64), (900.0, 0.0), 1.8, 944.0, 1.52e8)
    >>> bg = ProceduralBackground(field, np.random.default_rng(0), duration=600.0)
    >>> rate = bg.rate(0.0)
    >>> rate.shape, rate.dtype.name
    ((64, 64), 'float32')
    """

    def __init__(self, field, rng, duration, *, level=QUIET_SUN_RATE):
        self.field = field
        self.level = float(level)
        tx, ty = field.tx, field.ty
        r = np.hypot(tx, ty)
        r /= np.float32(field.rsun)
        disk = r < 1.0
        rsun_mm = field.mm_to_arcsec(1.0)
        # Mild 304 Å limb brightening inside the disk; two exponential falloffs outside (transition region,
        # corona). Each is evaluated only where it applies: full-disk frames have 16 million pixels.
        self._disk_profile = np.zeros(field.shape, dtype=np.float32)
        mu = np.sqrt(1.0 - r[disk] ** 2)
        self._disk_profile[disk] = 0.85 + 0.45 * (1.0 - mu) ** 3
        self._offlimb = np.zeros(field.shape, dtype=np.float32)
        off = (r[~disk] - 1.0) * np.float32(field.rsun)  # arcsec above the limb
        self._offlimb[~disk] = (
            1.6 * np.exp(-off / np.float32(4.0 * rsun_mm)) + 0.35 * np.exp(-off / np.float32(35.0 * rsun_mm)) + 0.04
        )
        del mu, off
        # Network texture on a grid padded by the largest rotation drift over the scene.
        cx, cy = field.center
        z = np.sqrt(max(0.0, 1.0 - (cx * cx + cy * cy) / field.rsun**2))
        self._drift = _OMEGA * field.rsun * z / field.scale  # pixels per second, westward (+x)
        self._pad = int(np.ceil(self._drift * duration)) + 2
        ny, nx = field.shape
        padded = (ny, nx + self._pad)
        cell = field.mm_to_arcsec(25.0) / field.scale / 2.355
        grain = max(field.mm_to_arcsec(2.5) / field.scale / 2.355, 0.5)
        boundary = _bandpass_noise(rng, padded, cell / 3, cell)
        network = np.exp(-((boundary / 0.45) ** 2))
        self._textures = []
        mottle = _bandpass_noise(rng, padded, grain, 4 * grain)
        for shift in (0, padded[0] // 2):
            # The second realisation reuses the mottle, displaced by half the field: uncorrelated, one FFT fewer.
            self._textures.append(((0.45 + 1.6 * network) * np.exp(0.35 * np.roll(mottle, shift, axis=0))).astype(np.float32))
        del network, boundary, mottle
        norm = np.median(self._textures[0][:: max(1, ny // 256), :: max(1, nx // 256)])
        self._textures = [t / norm for t in self._textures]
        self._texture_period = rng.uniform(4 * 3600.0, 12 * 3600.0)
        self._texture_phase = rng.uniform(0, 2 * np.pi)

        # Spicule forest: per position-angle streaks 4–12 Mm high that sway in height.
        n_angles = max(64, int(2 * np.pi * field.rsun / max(field.mm_to_arcsec(1.2), field.scale)))
        self._spicule_height = field.mm_to_arcsec(rng.uniform(4.0, 12.0, n_angles)).astype(np.float32)
        self._spicule_amp = rng.lognormal(0.0, 0.4, n_angles).astype(np.float32)
        self._spicule_period = rng.uniform(180.0, 600.0, n_angles).astype(np.float32)
        self._spicule_phase = rng.uniform(0, 2 * np.pi, n_angles).astype(np.float32)
        height_limits = ((1.0 - 2 * field.scale / field.rsun), 1.0 + field.mm_to_arcsec(30.0) / field.rsun)
        self._limb_pixels = np.flatnonzero((r > height_limits[0]) & (r < height_limits[1]))
        self._limb_height = (r.ravel()[self._limb_pixels] - 1.0) * np.float32(field.rsun)
        angle = np.arctan2(ty.ravel()[self._limb_pixels], tx.ravel()[self._limb_pixels])
        self._limb_angles = ((angle + np.pi) / (2 * np.pi) * n_angles).astype(np.int32) % n_angles
        del r

        # About 1% flicker: a smooth random walk sampled per second on demand.
        self._flicker = rng.standard_normal(8).astype(np.float32)
        self._flicker_periods = rng.uniform(60.0, 900.0, 8).astype(np.float32)

    def _texture(self, t):
        shift = self._drift * t
        k = int(np.floor(shift))
        frac = np.float32(shift - k)
        nx = self.field.shape[1]
        start = self._pad - 1 - k
        phase = 2 * np.pi * t / self._texture_period + self._texture_phase
        a, b = np.float32(np.cos(phase) ** 2), np.float32(np.sin(phase) ** 2)
        out = None
        for weight, tex in ((a, self._textures[0]), (b, self._textures[1])):
            # Linear interpolation between the two integer shifts around the drift.
            lo = tex[:, max(start, 0) : max(start, 0) + nx]
            hi = tex[:, max(start + 1, 0) : max(start + 1, 0) + nx]
            part = weight * ((1 - frac) * hi + frac * lo)
            out = part if out is None else out + part
        return out

    def rate(self, t):
        """
        The background count rate (DN/s) at ``t`` seconds after the scene start.

        Returns
        -------
        `numpy.ndarray`
            A new ``float32`` array of the field's shape.
        """
        flicker = 1.0 + 0.01 * float(np.sum(self._flicker * np.sin(2 * np.pi * t / self._flicker_periods)) / 2.8)
        image = self._texture(t) * self._disk_profile
        image += self._offlimb
        sway = 1.0 + 0.3 * np.sin(2 * np.pi * t / self._spicule_period + self._spicule_phase)
        h = self._spicule_height * sway
        a = self._spicule_amp[self._limb_angles]
        above = np.clip(self._limb_height, 0.0, None)
        spicules = 1.2 * a * np.exp(-above / h[self._limb_angles]) * (self._limb_height > -self.field.scale)
        image.ravel()[self._limb_pixels] += spicules
        image *= np.float32(self.level * flicker)
        return image


class MapBackground:
    """
    A background taken from real maps, interpolated in time onto the output cadence.

    Frames are turned into rates (data / exposure time). Output times beyond the real sequence's
    span run it backwards and forwards (a ping-pong cycle), so there is never a jump at a wrap.

    Parameters
    ----------
    maps : list of `~sunpy.map.GenericMap`
        Real frames of one shape, sorted in time.

    Examples
    --------
    >>> import numpy as np
    >>> import astropy.units as u
    >>> from sunpy_jets.synthetic import make_sequence
    >>> from sunpy_jets.synthetic.backgrounds import MapBackground
    >>> base = make_sequence(kind="quiet", seed=1, n_frames=3, shape=(32, 32), scale=1.8 * u.arcsec / u.pix)
    >>> bg = MapBackground(list(base.maps))
    >>> bg.rate(30.0).shape
    (32, 32)
    """

    def __init__(self, maps):
        self.maps = list(maps)
        self.reference = self.maps[0]
        t0 = self.maps[0].date
        self._times = np.array([(m.date - t0).to_value("s") for m in self.maps])
        self._rates = [
            np.nan_to_num(np.asarray(m.data, dtype=np.float32) / np.float32(m.exposure_time.to_value("s")))
            for m in self.maps
        ]

    @property
    def start(self):
        """The time of the first real frame."""
        return self.maps[0].date

    def rate(self, t):
        """The interpolated rate (DN/s) at ``t`` seconds after the first real frame (a new float32 array)."""
        if len(self._rates) == 1:
            return self._rates[0].copy()
        span = self._times[-1]
        phase = np.mod(t, 2 * span)
        if phase > span:
            phase = 2 * span - phase
        j = int(np.clip(np.searchsorted(self._times, phase, side="right") - 1, 0, len(self._times) - 2))
        w = np.float32((phase - self._times[j]) / (self._times[j + 1] - self._times[j]))
        return (1 - w) * self._rates[j] + w * self._rates[j + 1]
