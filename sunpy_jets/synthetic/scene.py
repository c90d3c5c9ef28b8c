"""
A synthetic scene: a field, a background, features and a frame plan, rendered frame by frame.

Each frame's noise comes from its own random stream (derived from the scene seed and the frame
index), so frames are identical whether rendered in order, out of order or lazily.
"""

import warnings

import numpy as np

import astropy.units as u
from astropy.coordinates import SkyCoord

from sunpy.coordinates import Helioprojective, get_earth
from sunpy.map.header_helper import make_fitswcs_header

from .noise import GAIN, READ_NOISE, expose

__all__ = ["Scene"]


class Scene:
    """
    Everything needed to render the frames of one synthetic sequence, lazily.

    Iterating gives `~sunpy.map.sources.AIAMap` frames; ``len`` is the number of frames.
    Built by `~sunpy_jets.synthetic.make_sequence` and `~sunpy_jets.synthetic.make_observation`.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_jets.synthetic import make_sequence
    >>> scene = make_sequence(kind="quiet", seed=0, n_frames=3, shape=(32, 32), lazy=True).scene
    >>> len(scene), scene.field.shape
    (3, (32, 32))
    >>> data, exposure = scene.data(1)
    >>> data.shape, data.dtype.name, exposure
    ((32, 32), 'float32', 2.9)
    >>> np.array_equal(scene.data(1)[0], data)  # frames are rendered again identically
    True
    >>> frame = scene.frame(0)
    >>> frame.instrument, frame.wavelength
    ('AIA', <Quantity 304. Angstrom>)
    """

    def __init__(self, *, field, background, features, times, plans, seed_sequence, reference=None, noise=True):
        self.field = field
        self.background = background
        self.features = list(features)
        self.times = times
        self.plans = plans
        self._seed_sequence = seed_sequence
        self.noise = noise
        self._offsets = (times - times[0]).to_value(u.s)
        self._real = reference is not None
        if reference is not None:
            self._template = dict(reference.meta)
            for key in ("blank", "date-beg", "date-end", "date-avg", "date_obs", "keycomments"):
                self._template.pop(key, None)
            self._observer = None
            self._bg_offset = float((times[0] - background.start).to_value(u.s))
        else:
            t0 = times[0]
            ny, nx = field.shape
            xmin, xmax, ymin, ymax = field.bounds
            center = SkyCoord(
                (xmin + xmax) / 2 * u.arcsec,
                (ymin + ymax) / 2 * u.arcsec,
                frame=Helioprojective(observer=get_earth(t0), obstime=t0),
            )
            self._template = dict(
                make_fitswcs_header(
                    (ny, nx),
                    center,
                    scale=[field.scale, field.scale] * u.arcsec / u.pix,
                    telescope="SDO",
                    instrument="AIA",
                    wavelength=304 * u.AA,
                    exposure=plans[0].exposure * u.s,
                    unit=u.DN,
                )
            )
            self._template.update({"detector": "AIA", "lvl_num": 1.0, "waveunit": "angstrom"})
            # Observer position at every frame time at once (one ephemeris call, not one per frame).
            self._observer = get_earth(times)
            self._bg_offset = 0.0

    def __len__(self):
        return len(self.times)

    def rate(self, i):
        """The noiseless count rate (DN/s) of frame ``i``: background plus features."""
        t = float(self._offsets[i])
        image = self.background.rate(t + self._bg_offset)
        floor = image.copy() if self._real else None
        for feature in self.features:
            feature.add_to(image, self.field, t)
        return image, floor

    def data(self, i):
        """The float32 DN data and the exposure time (s) of frame ``i``."""
        image, floor = self.rate(i)
        plan = self.plans[i]
        rng = np.random.default_rng(self._frame_seed(i))
        gain, read = (GAIN, READ_NOISE) if self.noise else (0.0, 0.0)
        data = expose(image, plan, rng, gain=gain, read_noise=read, noise_floor=floor)
        return data.astype(np.float32, copy=False), plan.exposure

    def _frame_seed(self, i):
        return np.random.SeedSequence(self._seed_sequence.entropy, spawn_key=(*self._seed_sequence.spawn_key, 7, i))

    def header(self, i, exposure):
        """The FITS metadata of frame ``i``."""
        meta = dict(self._template)
        t = self.times[i]
        meta["date-obs"] = t.isot
        meta["exptime"] = float(exposure)
        if self._real:
            # AIA's T_OBS is the middle of the exposure; sunpy uses it as the reference date.
            meta["t_obs"] = (t + exposure / 2 * u.s).isot
            meta["date"] = t.isot
        else:
            obs = self._observer[i]
            meta["dsun_obs"] = float(obs.radius.to_value(u.m))
            meta["hgln_obs"] = float(obs.lon.to_value(u.deg))
            meta["hglt_obs"] = float(obs.lat.to_value(u.deg))
        return meta

    def frame(self, i):
        """Frame ``i`` as an `~sunpy.map.sources.AIAMap`."""
        from sunpy.map.sources import AIAMap

        data, exposure = self.data(i)
        with warnings.catch_warnings():
            # Real JSOC headers carry keywords sunpy comments on; they are kept on purpose.
            warnings.simplefilter("ignore")
            return AIAMap(data, self.header(i, exposure))

    def __iter__(self):
        for i in range(len(self)):
            yield self.frame(i)
