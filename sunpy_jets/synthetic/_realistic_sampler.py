"""
``SceneSampler``: pairs of realistic scenes, one with a jet and one without (see ``sunpy_jets.synthetic.realistic``).

Private: re-exported by ``sunpy_jets.synthetic.realistic``. Needs only numpy and torch.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F

from ._realistic_parts import (
    _EXPOSURE,
    _GAIN,
    _READ,
    KM_PER_ARCSEC,
    NEGATIVE_KINDS,
    JetDistribution,
    SamplerError,
    SceneBatch,
    psf,
)

__all__ = ["SceneSampler"]


class SceneSampler:
    """
    Pairs of realistic scenes (one with a jet, one without) on real or procedural backgrounds.

    Parameters
    ----------
    images : list of array-like
        Background images at the model's pixel scale, in DN/s (NaN where there is no data).
    geometry : array-like
        ``(n_images, 3)``: the Sun's centre (x, y; pixels, may lie outside the image) and radius (pixels).
    jets : `JetDistribution`, optional
        Where jet parameters come from; `JetDistribution.fallback` by default.
    n_frames, size : int
        Frames per scene and pixels per side.
    cadence, scale : float
        Seconds between frames; arcsec per pixel.
    negative_rate : float
        Fraction of pairs that hold one or two hard negatives.
    render : `RenderAugment` or None
        The render augmentation (``None``: none).
    weights : array-like, optional
        Relative probability of drawing each image.
    limb_fraction : float
        Fraction of scenes centred near the limb when an image holds it.
    device : str or `torch.device`
    seed : int

    Examples
    --------
    >>> from sunpy_jets.synthetic.realistic import SceneSampler, procedural_images
    >>> images, geometry = procedural_images(2, size=128, seed=1)
    >>> batch = SceneSampler(images, geometry, n_frames=4, size=48, seed=1).sample(1)
    >>> batch.frames.shape, batch.info[0]["jet"]["height_arcsec"] > 0
    (torch.Size([2, 4, 48, 48]), True)
    """

    def __init__(
        self,
        images,
        geometry,
        *,
        jets=None,
        n_frames=30,
        size=166,
        cadence=24.0,
        scale=1.8,
        negative_rate=0.6,
        render=None,
        weights=None,
        limb_fraction=0.6,
        device="cpu",
        seed=0,
    ):
        if len(images) == 0:
            raise SamplerError("give at least one background image")
        self.device = torch.device(device)
        self.images = [torch.as_tensor(np.asarray(im, dtype=np.float32), device=self.device) for im in images]
        self.geometry = np.asarray(geometry, dtype=np.float64).reshape(len(self.images), 3)
        self.jets = jets if jets is not None else JetDistribution.fallback()
        self.n_frames, self.size = int(n_frames), int(size)
        self.cadence, self.scale = float(cadence), float(scale)
        self.negative_rate = float(negative_rate)
        self.render = render
        self.limb_fraction = float(limb_fraction)
        w = np.ones(len(self.images)) if weights is None else np.asarray(weights, dtype=float)
        self.weights = w / w.sum()
        self.rng = np.random.default_rng(seed)
        self.generator = torch.Generator(device="cpu").manual_seed(int(seed))
        # Bulk noise is drawn where the scenes are made (drawing it on the CPU dominated the cost on a GPU).
        self.device_generator = torch.Generator(device=self.device).manual_seed(int(seed))
        # The quiet-Sun level of each image: the median of its on-disk pixels.
        self.levels = []
        for im, (cx, cy, r) in zip(self.images, self.geometry):
            h, w_ = im.shape
            yy, xx = torch.meshgrid(torch.arange(h, device=self.device), torch.arange(w_, device=self.device), indexing="ij")
            disk = (torch.hypot(xx - cx, yy - cy) < 0.95 * r) & torch.isfinite(im)
            sample = im[disk] if int(disk.sum()) > 100 else im[torch.isfinite(im)]
            self.levels.append(float(sample[:: max(1, sample.numel() // 100000)].median()))
        t = torch.arange(self.size, dtype=torch.float32, device=self.device)
        self._yy, self._xx = torch.meshgrid(t, t, indexing="ij")
        self._set_frames(self.n_frames)

    def _set_frames(self, n_frames):
        self.n_frames = int(n_frames)
        self._times = torch.arange(self.n_frames, dtype=torch.float32, device=self.device) * self.cadence

    # -- backgrounds -------------------------------------------------------------------------------
    def _centre(self, k):
        """A crop centre (pixels) in image ``k`` and whether it is near the limb."""
        h, w = self.images[k].shape
        cx, cy, r = self.geometry[k]
        half = self.size / 2
        for _ in range(200):
            if self.rng.random() < self.limb_fraction:
                rad, limb = r * self.rng.uniform(0.9, 1.06), True
            else:
                rad, limb = r * math.sqrt(self.rng.uniform(0, 0.88**2)), False
            ang = self.rng.uniform(0, 2 * math.pi)
            x, y = cx + rad * math.cos(ang), cy + rad * math.sin(ang)
            if half + 4 <= x <= w - half - 4 and half + 4 <= y <= h - half - 4:
                return x, y, limb
        # A small image (a cutout): its centre, with some play.
        x = w / 2 + self.rng.uniform(-1, 1) * max(0.0, w / 2 - half - 4)
        y = h / 2 + self.rng.uniform(-1, 1) * max(0.0, h / 2 - half - 4)
        return x, y, abs(math.hypot(x - cx, y - cy) - r) < half

    def _background(self, k, x, y):
        """``(T, size, size)`` evolving crop of image ``k`` centred on (x, y)."""
        im = self.images[k]
        h, w = im.shape
        n, t = self.size, self.n_frames
        # Rotation carries features west (+x) by ~0.16"/min at disk centre, less away from the central meridian
        # (0.2-0.8 of it matches the real sequences' growth of change with lag; the realism report); pointing
        # jitter of ~0.05" is independent from frame to frame (level-1.5 pointing does not wander).
        speed = 0.16 / 60 * self.cadence / self.scale * self.rng.uniform(0.2, 0.8)
        drift_x = speed * np.arange(t) + self.rng.normal(0, 0.03, t)
        drift_y = self.rng.normal(0, 0.03, t) + self.rng.normal(0, 0.003) * np.arange(t)
        xs = (x - n / 2 + 0.5) + self._xx[None] + torch.as_tensor(drift_x, dtype=torch.float32, device=self.device)[:, None, None]
        ys = (y - n / 2 + 0.5) + self._yy[None] + torch.as_tensor(drift_y, dtype=torch.float32, device=self.device)[:, None, None]
        grid = torch.stack([(xs + 0.5) / w * 2 - 1, (ys + 0.5) / h * 2 - 1], dim=-1)
        filled = torch.nan_to_num(im, nan=float("nan"))
        valid = torch.isfinite(filled)
        base = torch.where(valid, filled, torch.zeros((), device=self.device))
        out = F.grid_sample(base[None, None].expand(t, 1, h, w), grid, mode="bicubic", padding_mode="border", align_corners=False)[:, 0]
        mask = F.grid_sample(valid.float()[None, None].expand(t, 1, h, w), grid, mode="bilinear", padding_mode="zeros", align_corners=False)[:, 0]
        out = out.clamp_min(0)
        missing = mask < 0.5
        if bool(missing.any()):
            fill = out[~missing].median() if bool((~missing).any()) else torch.zeros((), device=self.device)
            out = torch.where(missing, fill, out)
        # Slow smooth brightness changes on two scales, and a global flicker.
        out = out * self._modulation(t, n)
        return out

    def _modulation(self, t, n):
        def field_(cells, amp, period):
            a, b = (torch.randn(1, 1, cells, cells, generator=self.generator).to(self.device) for _ in range(2))
            phase = 2 * math.pi * (self._times / period + float(torch.rand(1, generator=self.generator)))
            f = torch.cos(phase)[:, None, None, None] * a + torch.sin(phase)[:, None, None, None] * b
            return amp * F.interpolate(f.reshape(t, 1, cells, cells), size=(n, n), mode="bicubic", align_corners=False)[:, 0]

        # Weak and slow: real 304 A sequences change by only ~3 % more between frames 4 minutes apart than
        # between consecutive ones (the realism report's frame-to-frame change).
        amp1, amp2 = self.rng.uniform(0.004, 0.02), self.rng.uniform(0.01, 0.04)
        m = 1 + field_(6, amp1, self.rng.uniform(1200, 3600)) + field_(20, amp2, self.rng.uniform(600, 2400))
        walk = torch.cumsum(torch.randn(t, generator=self.generator).to(self.device) * 0.003, 0)
        trend = self.rng.normal(0, 0.02) * self._times / self._times[-1].clamp_min(1)
        return (m * (1 + walk + trend)[:, None, None]).clamp_min(0.5)

    # -- jets ----------------------------------------------------------------------------------------
    def _jet_direction(self, k, x0, y0, bx, by, limb):
        """Position angle of the outflow (radians, image axes): radial on the limb, any on the disk."""
        cx, cy, _ = self.geometry[k]
        if limb:
            return math.atan2((y0 + by) - cy, (x0 + bx) - cx) + self.rng.uniform(-0.5, 0.5)
        return self.rng.uniform(0, 2 * math.pi)

    def _jet(self, k, x0, y0, limb, level):
        """The jet's ``(T, size, size)`` DN/s and its parameters."""
        n = self.size
        cx, cy, r = self.geometry[k]
        height, width, velocity, duration = (float(v[0]) for v in self.jets.draw(self.rng, 1))
        hpx, vpx = height / self.scale, velocity / self.scale
        # Base: on the limb for limb crops (where the limb is in the field), else on the disk.
        for _ in range(100):
            bx, by = self.rng.uniform(0.2 * n, 0.8 * n), self.rng.uniform(0.2 * n, 0.8 * n)
            rr = math.hypot(x0 - n / 2 + bx - cx, y0 - n / 2 + by - cy) / r
            if (limb and 0.97 < rr < 1.01) or (not limb and rr < 0.97):
                break
        direction = self._jet_direction(k, x0 - n / 2, y0 - n / 2, bx, by, limb and 0.95 < rr < 1.03)
        window = self.n_frames * self.cadence
        rise = min(hpx / vpx, 0.8 * duration)
        hpx = min(hpx, vpx * rise)
        # Onset: mostly inside the window so the rise is seen; some jets already under way at the start.
        if self.rng.random() < 0.8:
            onset = self.rng.uniform(-0.3 * rise, max(-0.3 * rise + 1, window - 4 * self.cadence - min(rise, 120.0)))
        else:
            onset = self.rng.uniform(-0.6 * duration, -0.3 * rise)
        spire_w = max(3.0, width * self.rng.uniform(0.15, 0.45)) / self.scale  # FWHM, px
        blowout = self.rng.random() < 0.3
        spread = self.rng.uniform(1.6, 3.0) if blowout else self.rng.uniform(1.0, 1.5)
        bend = self.rng.normal(0, 0.4) / max(hpx, 5.0)  # curvature, 1/px
        c_spire = math.exp(self.rng.uniform(math.log(1.5), math.log(10.0)))
        c_base = math.exp(self.rng.uniform(math.log(2.0), math.log(12.0)))
        fall_back = self.rng.random() < 0.3
        knot_len = hpx * self.rng.uniform(0.3, 0.8)
        knot_amp = self.rng.uniform(0.0, 0.3)
        phase = self.rng.uniform(0, 2 * math.pi)

        tau = self._times - onset  # (T,)
        dx, dy = math.cos(direction), math.sin(direction)
        u = (self._xx - bx) * dx + (self._yy - by) * dy
        w = -(self._xx - bx) * dy + (self._yy - by) * dx
        w = w - 0.5 * bend * u.clamp_min(0) ** 2
        length = (vpx * tau).clamp(0, hpx)
        hold = rise + 0.25 * (duration - rise)
        if fall_back:
            g = 0.15 / KM_PER_ARCSEC / self.scale  # px/s^2
            fall = 0.5 * g * (tau - hold).clamp_min(0) ** 2
            length = torch.where(tau > hold, (hpx - fall).clamp_min(0.15 * hpx), length)
        fade_time = max(duration - rise, 60.0)
        env_spire = torch.where(
            tau < rise, (tau / max(rise, 1.0)).clamp(0, 1) ** 0.7,
            torch.exp(-((tau - rise) / (0.45 * fade_time)).clamp_min(0) ** 1.5),
        ) * (tau > 0)
        env_base = torch.sigmoid((tau + 40.0) / 25.0) * torch.exp(-((tau - 0.3 * rise) / (0.6 * duration)).clamp_min(0) ** 2)
        L = length[:, None, None]
        sigma_w = (spire_w / 2.355) * (1 + (spread - 1) * (u / max(hpx, 1.0)).clamp(0, 1))
        along = torch.sigmoid((L - u[None]) / 1.2) * torch.sigmoid(u[None] / 1.0)
        knots = 1 + knot_amp * torch.sin(2 * math.pi * u[None] / knot_len - 2 * math.pi * vpx * tau[:, None, None] / knot_len + phase)
        front = 1 + 0.6 * torch.exp(-0.5 * ((u[None] - L) / 2.5) ** 2)
        fading = (1 - 0.5 * (u / max(hpx, 1.0)).clamp(0, 1))
        if blowout:
            patches = 1 + 0.4 * torch.sin(w / max(spire_w / 2, 1.0) * 2.1 + phase)
        else:
            patches = torch.ones((), device=self.device)
        spire = torch.exp(-0.5 * (w / sigma_w) ** 2)[None] * along * knots * front * fading * patches
        sb_u, sb_w = max(1.2, spire_w * self.rng.uniform(0.4, 0.9) / 2.355), max(1.2, spire_w * self.rng.uniform(0.6, 1.4) / 2.355)
        base = torch.exp(-0.5 * ((u / sb_u) ** 2 + (w / sb_w) ** 2))
        if self.rng.random() < 0.5:  # a second footpoint beside the base (anemone / lambda shape)
            off = self.rng.choice([-1, 1]) * sb_w * self.rng.uniform(1.2, 2.5)
            base = base + 0.6 * torch.exp(-0.5 * ((u / sb_u) ** 2 + ((w - off) / sb_w) ** 2))
        jet = level * (c_spire * env_spire[:, None, None] * spire + c_base * env_base[:, None, None] * base[None])
        info = {
            "height_arcsec": height, "width_arcsec": width, "velocity_arcsec_s": velocity, "duration_s": duration,
            "base_px": (bx, by), "onset_s": onset, "blowout": blowout, "contrast_spire": c_spire,
            "contrast_base": c_base, "fall_back": fall_back,
        }  # fmt: skip
        return psf(jet), info

    # -- hard negatives ------------------------------------------------------------------------------
    def _arc(self, n_points=96):
        """A loop: points (x, y) along a half-ellipse between two footpoints in the field."""
        n = self.size
        sep = self.rng.uniform(15, 90)
        mx, my = self.rng.uniform(0.15 * n, 0.85 * n), self.rng.uniform(0.15 * n, 0.85 * n)
        ang = self.rng.uniform(0, 2 * math.pi)
        height = sep * self.rng.uniform(0.2, 0.8)
        th = torch.linspace(0, math.pi, n_points, device=self.device)
        a = -0.5 * sep * torch.cos(th)
        b = height * torch.sin(th)
        x = mx + a * math.cos(ang) - b * math.sin(ang)
        y = my + a * math.sin(ang) + b * math.cos(ang)
        return x, y

    def _tube(self, x, y, sigma):
        d2 = (self._xx[None] - x[:, None, None]) ** 2 + (self._yy[None] - y[:, None, None]) ** 2
        return torch.exp(-0.5 * d2.min(dim=0).values / sigma**2)

    def _blobs(self, bx, by, sigma):
        """Gaussian blobs at ``(T, K)`` positions summed per frame."""
        d2 = (self._xx[None, None] - bx[:, :, None, None]) ** 2 + (self._yy[None, None] - by[:, :, None, None]) ** 2
        return torch.exp(-0.5 * d2 / sigma**2).sum(dim=1)

    def _negative(self, kind, level):
        n, T = self.size, self.n_frames
        t = self._times
        if kind == "brightening":
            x, y = self.rng.uniform(0.1 * n, 0.9 * n), self.rng.uniform(0.1 * n, 0.9 * n)
            s0 = self.rng.uniform(1.2, 6.0)
            grow = self.rng.uniform(1.0, 1.8)
            peak = self.rng.uniform(-120, T * self.cadence)
            life = self.rng.uniform(120, 900)
            env = torch.exp(-0.5 * ((t - peak) / (0.4 * life)) ** 2)
            sig = s0 * (1 + (grow - 1) * (t / t[-1].clamp_min(1)))
            ell = self.rng.uniform(1.0, 2.5)
            ang = self.rng.uniform(0, math.pi)
            u = (self._xx - x) * math.cos(ang) + (self._yy - y) * math.sin(ang)
            v = -(self._xx - x) * math.sin(ang) + (self._yy - y) * math.cos(ang)
            amp = math.exp(self.rng.uniform(math.log(0.8), math.log(8.0)))
            img = torch.exp(-0.5 * ((u[None] / (ell * sig[:, None, None])) ** 2 + (v[None] / sig[:, None, None]) ** 2))
            return level * amp * env[:, None, None] * img
        if kind in ("loop_flow", "coronal_rain", "oscillating_loop"):
            x, y = self._arc()
            width = self.rng.uniform(0.8, 2.0)
            loop_amp = self.rng.uniform(0.2, 1.5)
            if kind == "oscillating_loop":
                amp_px, period = self.rng.uniform(0.7, 3.0), self.rng.uniform(150, 600)
                # transverse displacement: along the local normal, largest at the loop top
                nx_ = torch.gradient(y)[0]
                ny_ = -torch.gradient(x)[0]
                norm = torch.hypot(nx_, ny_).clamp_min(1e-6)
                shape = torch.sin(torch.linspace(0, math.pi, len(x), device=self.device))
                frames = []
                for tt in t.tolist():
                    d = amp_px * math.sin(2 * math.pi * tt / period) * shape
                    frames.append(self._tube(x + d * nx_ / norm, y + d * ny_ / norm, width))
                return level * loop_amp * torch.stack(frames)
            tube = self._tube(x, y, width)
            k = int(self.rng.integers(3, 9))
            speed = self.rng.uniform(20, 120) / KM_PER_ARCSEC / self.scale  # px/s
            seglen = torch.cat([torch.zeros(1, device=self.device), torch.hypot(torch.diff(x), torch.diff(y)).cumsum(0)])
            total = float(seglen[-1])
            start = torch.as_tensor(self.rng.uniform(0, total, k), dtype=torch.float32, device=self.device)
            if kind == "coronal_rain":  # from the top down one leg or the other, accelerating
                leg = torch.as_tensor(self.rng.choice([-1.0, 1.0], k), dtype=torch.float32, device=self.device)
                s = total / 2 + leg * ((start - total / 2).abs() + speed * t[:, None] + 0.5 * 0.05 / KM_PER_ARCSEC / self.scale * t[:, None] ** 2)
            else:  # siphon flow from one footpoint to the other
                s = start + speed * t[:, None] * float(self.rng.choice([-1.0, 1.0]))
            s = torch.remainder(s, total) if kind == "loop_flow" else s.clamp(0, total)
            idx = torch.searchsorted(seglen, s.contiguous()).clamp(1, len(x) - 1)
            f = ((s - seglen[idx - 1]) / (seglen[idx] - seglen[idx - 1]).clamp_min(1e-6)).clamp(0, 1)
            bx = x[idx - 1] + f * (x[idx] - x[idx - 1])
            by = y[idx - 1] + f * (y[idx] - y[idx - 1])
            blob_amp = self.rng.uniform(0.5, 3.0)
            blobs = self._blobs(bx, by, self.rng.uniform(0.8, 2.0))
            return level * (loop_amp * tube[None] + blob_amp * blobs)
        if kind == "flare":
            x, y = self.rng.uniform(0.2 * n, 0.8 * n), self.rng.uniform(0.2 * n, 0.8 * n)
            ang = self.rng.uniform(0, math.pi)
            length = self.rng.uniform(10, 50)
            sep0, speed = self.rng.uniform(2, 12), self.rng.uniform(0.0, 0.03)
            peak = self.rng.uniform(-60, T * self.cadence * 0.8)
            rise = self.rng.uniform(60, 300)
            env = torch.where(t < peak, torch.exp(-0.5 * ((t - peak) / (rise / 2)) ** 2), torch.exp(-(t - peak) / self.rng.uniform(300, 1500)))
            u = (self._xx - x) * math.cos(ang) + (self._yy - y) * math.sin(ang)
            v = -(self._xx - x) * math.sin(ang) + (self._yy - y) * math.cos(ang)
            sep = sep0 + speed * (t - peak).clamp_min(0)
            rw = self.rng.uniform(1.0, 2.5)
            along = torch.exp(-0.5 * (u / (length / 2)) ** 4)
            ribbons = along[None] * (torch.exp(-0.5 * ((v[None] - sep[:, None, None] / 2) / rw) ** 2)
                                     + torch.exp(-0.5 * ((v[None] + sep[:, None, None] / 2) / rw) ** 2))  # fmt: skip
            glow = torch.exp(-0.5 * (u**2 + v**2) / self.rng.uniform(6, 20) ** 2)
            amp = math.exp(self.rng.uniform(math.log(3.0), math.log(40.0)))
            return level * amp * env[:, None, None] * (ribbons + self.rng.uniform(0.1, 0.5) * glow[None])
        raise SamplerError(f"unknown hard negative {kind!r}; expected one of {NEGATIVE_KINDS}")

    # -- noise -----------------------------------------------------------------------------------
    def _noise(self, x, pool_factor):
        dn = x.clamp_min(0) * _EXPOSURE
        sigma = torch.sqrt(_GAIN * dn + _READ**2) / _EXPOSURE * pool_factor
        out = x + sigma * torch.randn(x.shape, generator=self.device_generator, device=self.device)
        # Residual cosmic-ray hits left by despiking: a few per scene.
        hits = int(self.rng.poisson(0.3 * x.shape[0]))
        for _ in range(hits):
            i, yy, xx = (int(self.rng.integers(0, s)) for s in x.shape)
            out[i, yy, xx] += float(self.rng.uniform(50, 800))
        return out.clamp_min(0)

    # -- public --------------------------------------------------------------------------------------
    def sample(self, n_pairs, *, n_frames=None):
        """
        ``n_pairs`` pairs of scenes: rows ``2i`` (with a jet) and ``2i + 1`` (the same scene without).

        ``n_frames`` changes the number of frames from now on (jets are placed to be seen in that window).

        Returns
        -------
        `SceneBatch`
        """
        if n_frames is not None and int(n_frames) != self.n_frames:
            if int(n_frames) < 2:
                raise SamplerError(f"n_frames must be at least 2, got {n_frames}")
            self._set_frames(n_frames)
        frames, labels, info = [], [], []
        for _ in range(int(n_pairs)):
            k = int(self.rng.choice(len(self.images), p=self.weights))
            x, y, limb = self._centre(k)
            level = self.levels[k] * math.exp(self.rng.normal(0, 0.1))
            gain = math.exp(self.rng.uniform(math.log(0.4), math.log(3.0)))
            bg = self._background(k, x, y)
            extra = torch.zeros_like(bg)
            negatives = []
            if self.rng.random() < self.negative_rate:
                for _ in range(1 + int(self.rng.random() < 0.3)):
                    kind = str(self.rng.choice(NEGATIVE_KINDS))
                    extra = extra + psf(self._negative(kind, level))
                    negatives.append(kind)
            jet, jet_info = self._jet(k, x, y, limb, level)
            # Noise per model pixel relative to one AIA pixel's: set so that consecutive frames differ as much as
            # in the real sequences at the model's scale (~6.5 % median change; the realism report).
            pool_factor = self.rng.uniform(0.66, 1.54)
            for with_jet in (True, False):
                scene = bg + extra + (jet if with_jet else 0)
                frames.append(self._noise(scene * gain, pool_factor))
                labels.append(1.0 if with_jet else 0.0)
            info.append({"image": k, "centre_px": (x, y), "limb": limb, "gain": gain, "jet": jet_info, "negatives": negatives})
        out = torch.stack(frames)
        if self.render is not None:
            groups = torch.arange(len(frames)) // 2
            out, blurred = self.render(out, self.generator, groups=groups, return_blurred=True)
            for pair, flag in zip(info, blurred[::2].tolist()):
                pair["render_blurred"] = bool(flag)
        return SceneBatch(out, torch.tensor(labels, device=self.device), info)
