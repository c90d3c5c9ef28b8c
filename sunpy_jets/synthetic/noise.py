"""
AIA-like exposure, noise and bad frames.

Count rates become DN with the frame's exposure time; photon noise is Poisson in photons
(``DN = gain × photons``, about 0.6 DN per 304 Å photon for AIA) and read noise is Gaussian
(about 1.2 DN). Poisson draws are exact below 20 photons and Gaussian above, where the two agree
and Gaussian draws are several times faster.

Level-1 AIA frames are despiked by the pipeline, so good frames keep only rare residual hits.
Bad frames are those a real pipeline must survive: a burst of cosmic-ray hits, or an automatic
exposure change (a shorter ``EXPTIME`` with the data scaled accordingly).
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["FramePlan", "plan_frames", "expose"]

#: Default AIA 304 Å gain in DN per photon and read noise in DN.
GAIN = 0.6
READ_NOISE = 1.2
#: Cosmic-ray hits per megapixel per second of exposure left in despiked level-1 frames.
RESIDUAL_HIT_RATE = 0.2


@dataclass(frozen=True)
class FramePlan:
    """
    What happens to one frame: its exposure time (s) and number of cosmic-ray hits.

    ``bad`` names what makes the frame bad (``"cosmic_rays"`` or ``"exposure"``), empty if nothing.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_jets.synthetic.noise import FramePlan, plan_frames
    >>> FramePlan(exposure=2.9, cosmic_rays=3)
    FramePlan(exposure=2.9, cosmic_rays=3, bad='')
    >>> plans = plan_frames(np.random.default_rng(0), 3, (32, 32), exposure=2.9, bad_frame_rate=0.0)
    >>> [(p.exposure, p.bad) for p in plans]
    [(2.9, ''), (2.9, ''), (2.9, '')]
    """

    exposure: float
    cosmic_rays: int
    bad: str = ""


def plan_frames(rng, n_frames, shape, *, exposure, bad_frame_rate):
    """
    Draw the exposure and cosmic-ray count of each frame.

    Every frame may keep a residual cosmic-ray hit that despiking missed (about 0.2 per megapixel
    per second of exposure, so one every few frames of 500×500 pixels); with
    probability ``bad_frame_rate`` a frame is bad: half of those get a burst of hits, half a
    shorter exposure (25–70 % of nominal, as AIA's automatic exposure control does in flares).

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_jets.synthetic.noise import plan_frames
    >>> plans = plan_frames(np.random.default_rng(0), 5, (100, 100), exposure=2.9, bad_frame_rate=1.0)
    >>> all(p.bad for p in plans)
    True
    """
    megapixels = shape[0] * shape[1] / 1e6
    plans = []
    for _ in range(n_frames):
        bad = ""
        exptime = exposure
        hits = int(rng.poisson(RESIDUAL_HIT_RATE * megapixels * exposure))
        if rng.random() < bad_frame_rate:
            if rng.random() < 0.5:
                bad = "cosmic_rays"
                hits += int(rng.integers(50, 400) * max(megapixels, 0.05) / 0.25)
            else:
                bad = "exposure"
                exptime = exposure * float(rng.uniform(0.25, 0.7))
        plans.append(FramePlan(exptime, hits, bad))
    return plans


def expose(rate, plan, rng, *, gain=GAIN, read_noise=READ_NOISE, noise_floor=None):
    """
    Turn a rate image (DN/s, modified in place) into a noisy DN image for one frame.

    Parameters
    ----------
    rate : `numpy.ndarray`
        float32 count rates; negative values are treated as zero signal.
    plan : `FramePlan`
        The frame's exposure and cosmic-ray count.
    rng : `numpy.random.Generator`
        The frame's own random source.
    gain, read_noise : float
        DN per photon and read noise in DN. ``gain=0`` and ``read_noise=0`` give a noiseless frame.
    noise_floor : `numpy.ndarray`, optional
        Rates (DN/s) not to add photon noise to (the real data of a map background, already noisy):
        only ``rate - noise_floor`` gets photon noise and no read noise is added.

    Returns
    -------
    `numpy.ndarray`
        float32 DN.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_jets.synthetic.noise import FramePlan, expose
    >>> dn = expose(np.full((50, 50), 20.0, dtype=np.float32), FramePlan(2.9, 0), np.random.default_rng(0))
    >>> bool(abs(dn.mean() - 58.0) < 1.0)
    True
    """
    dn = rate
    dn *= np.float32(plan.exposure)
    if gain > 0:
        signal = dn if noise_floor is None else dn - noise_floor * np.float32(plan.exposure)
        photons = np.clip(signal, 0.0, None) / np.float32(gain)
        low = photons < 20.0
        noise = np.sqrt(photons) * rng.standard_normal(photons.shape, dtype=np.float32)
        if low.any():
            noise[low] = rng.poisson(photons[low]) - photons[low]
        dn += np.float32(gain) * noise
    if read_noise > 0 and noise_floor is None:
        dn += rng.standard_normal(dn.shape, dtype=np.float32) * np.float32(read_noise)
    if plan.cosmic_rays:
        ny, nx = dn.shape
        rows = rng.integers(0, ny, plan.cosmic_rays)
        cols = rng.integers(0, nx, plan.cosmic_rays)
        # Hits are a few pixels long; their DN does not scale with exposure.
        length = rng.integers(1, 4, plan.cosmic_rays)
        energy = rng.uniform(200.0, 3000.0, plan.cosmic_rays).astype(np.float32)
        for step in range(3):
            keep = length > step
            dn[rows[keep], np.clip(cols[keep] + step, 0, nx - 1)] += energy[keep] / (1 + step)
    return dn
