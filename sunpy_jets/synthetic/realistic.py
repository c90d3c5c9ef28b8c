"""
Realistic training scenes at the model's scale, made in batches with PyTorch (CPU or GPU).

Where `~sunpy_jets.synthetic.make_sequence` renders one scene in physical coordinates as sunpy maps,
`SceneSampler` makes many at once, directly as the model sees them: 300″ fields at 1.8″/px, 30 frames at
24 s, in DN/s. Each scene is a crop of a *background image* (a real full-disk AIA 304 Å frame or cutout
reduced to the model's scale by `~sunpy_jets.synthetic.BackgroundBank`, or a procedural one), evolved in time:

* the Sun's rotation carries the field west by 0.2–0.8 of its disk-centre 0.16″ per minute and the pointing
  jitters by a few hundredths of a pixel, independently from frame to frame (sub-pixel shifts, bicubic);
* the brightness changes slowly and smoothly (one to four per cent, on two spatial scales, over 10–60
  minutes), and the whole field's brightness wanders by about 0.3 % a frame;
* each frame gets photon and read noise like AIA's (0.6 DN per photon, 1.2 DN read noise, a 2.9 s exposure,
  scaled by 0.66–1.54 for the 3×3 max-pool), and now and then residual cosmic-ray hits.

These rates are set so that consecutive frames differ about as much as in real AIA 304 Å sequences at the
model's scale (a median change of about 6.5 %) and the difference grows about as slowly with time lag (to
about 9 % after 4.4 minutes): ``scripts/realism_report.py`` measures both.

Scenes come in **pairs**: both members share the background, its evolution, the hard negatives and the
render, and one of them also holds a jet, so that nothing but the jet tells them apart.

Jets follow the Solar Jet Hunter catalogue (`JetDistribution`): maximum height, width, speed and duration are
drawn jointly from the catalogue's jets (with a little jitter). A jet is a base brightening, then a spire whose
front rises at the jet's speed to its height, with knots that move outward, then fades (some fall back); 60 %
of bases are on the limb with a near-radial outflow, as in the catalogue. Features are blurred by an AIA-like
point-spread function (a core of about 1.1 pixel FWHM at 1.8″/px and weak wide wings).

Hard negatives (in both members of a pair) are brightenings without outflow, flows along loops (siphon flows
and coronal rain), oscillating loops and flare-like brightenings (ribbons, glow and saturation).

A *render* (`RenderAugment`) then imitates what rendered images do to intensities: scaling between limits,
a linear, square-root, logarithmic or asinh stretch, 8-bit quantisation and per-frame rescaling, read back
to intensities with a possibly different stretch.

This module needs only numpy and torch (no astropy or sunpy), so that it runs where those are missing.

Examples
--------
>>> import numpy as np
>>> from sunpy_jets.synthetic.realistic import SceneSampler, procedural_images
>>> images, geometry = procedural_images(2, size=200, seed=0)
>>> sampler = SceneSampler(images, geometry, n_frames=6, size=64, seed=0)
>>> batch = sampler.sample(2)
>>> batch.frames.shape, batch.labels.tolist()
(torch.Size([4, 6, 64, 64]), [1.0, 0.0, 1.0, 0.0])
"""

import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "SceneSampler",
    "SceneBatch",
    "JetDistribution",
    "RenderAugment",
    "augment_batch",
    "procedural_images",
    "NEGATIVE_KINDS",
    "KM_PER_ARCSEC",
]

#: Plane-of-sky km per arcsec at 1 AU.
KM_PER_ARCSEC = 725.0
#: Names of the hard negatives `SceneSampler` draws.
NEGATIVE_KINDS = ("brightening", "loop_flow", "coronal_rain", "oscillating_loop", "flare")

_GAIN, _READ, _EXPOSURE = 0.6, 1.2, 2.9


class SamplerError(ValueError):
    """A bad argument to the scene sampler (a `ValueError`)."""


@dataclass
class JetDistribution:
    """
    Jet sizes, speeds and lifetimes to draw from: the Solar Jet Hunter catalogue's, or a fallback.

    Parameters
    ----------
    height : `numpy.ndarray`
        Maximum heights, arcsec.
    width : `numpy.ndarray`
        Widths (of the volunteers' boxes), arcsec.
    velocity : `numpy.ndarray`
        Front speeds, arcsec/s; NaN where unknown (drawn then from the known ones' log-normal fit).
    duration : `numpy.ndarray`
        Lifetimes, minutes.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_jets.synthetic.realistic import JetDistribution
    >>> dist = JetDistribution.fallback()
    >>> h, w, v, d = dist.draw(np.random.default_rng(0), 3)
    >>> h.shape, bool((v > 0).all())
    ((3,), True)
    """

    height: np.ndarray
    width: np.ndarray
    velocity: np.ndarray
    duration: np.ndarray
    source: str = ""

    @classmethod
    def from_catalogue(cls, path):
        """
        Read the Solar Jet Hunter catalogue CSV (``Jet_clusters_3.0_2.0_paperID.csv``).

        Only the summary columns are kept (max_height, avg_width, velocity, duration).
        """
        import csv

        with open(path, newline="") as f:
            rows = list(csv.reader(f))
        header = [c.strip().lstrip("#").strip() for c in rows[0]]
        try:
            cols = [header.index(k) for k in ("max_height", "avg_width", "velocity", "duration")]
        except ValueError:
            raise SamplerError(f"{path} is not the Solar Jet Hunter catalogue: it lacks max_height, avg_width, "
                               "velocity or duration") from None  # fmt: skip
        values = np.array([[float(r[c]) if r[c].strip() not in ("", "nan") else np.nan for c in cols] for r in rows[1:]])
        return cls(*values.T, source=f"Solar Jet Hunter catalogue ({len(values)} jets)")

    @classmethod
    def fallback(cls):
        """Log-normal stand-ins with the catalogue's medians and spreads (no file needed)."""
        rng = np.random.default_rng(883)
        n = 883
        return cls(
            height=np.exp(rng.normal(np.log(100.0), 0.6, n)),
            width=np.exp(rng.normal(np.log(39.0), 0.7, n)),
            velocity=np.exp(rng.normal(np.log(0.18), 0.7, n)),
            duration=5.6 + np.exp(rng.normal(np.log(8.0), 0.9, n)),
            source="log-normal stand-ins for the Solar Jet Hunter catalogue",
        )

    def to_arrays(self):
        """The columns as one ``(n, 4)`` float32 array (height, width, velocity, duration)."""
        return np.stack([self.height, self.width, self.velocity, self.duration], axis=1).astype(np.float32)

    def draw(self, rng, n):
        """
        ``n`` jets: heights and widths (arcsec), speeds (arcsec/s) and durations (s).

        Rows are drawn jointly from the catalogue with 15 % log-normal jitter; unknown speeds come from the
        log-normal fit of the known ones.
        """
        known = self.velocity[np.isfinite(self.velocity) & (self.velocity > 0)]
        mu, sigma = (np.log(known).mean(), np.log(known).std()) if known.size > 5 else (np.log(0.18), 0.7)
        i = rng.integers(0, len(self.height), n)
        jitter = np.exp(rng.normal(0, 0.15, (4, n)))
        v = self.velocity[i].copy()
        missing = ~(np.isfinite(v) & (v > 0))
        v[missing] = np.exp(rng.normal(mu, sigma, int(missing.sum())))
        height = np.clip(self.height[i] * jitter[0], 15.0, 400.0)
        width = np.clip(self.width[i] * jitter[1], 6.0, 150.0)
        velocity = np.clip(v * jitter[2], 0.04, 1.2)
        duration = np.clip(self.duration[i] * jitter[3], 2.0, 60.0) * 60.0
        return height, width, velocity, duration


@dataclass
class RenderAugment:
    """
    What a rendered image (a colour-mapped PNG or GIF read back to intensities) does to a batch.

    With probability ``p`` a sequence is rendered as `sunpy_jets.datasets.render_sequence` and the Solar Jet
    Hunter subject reader see it: each frame (or, with probability ``1 - per_frame``, the whole sequence) is
    scaled to [0, 1] between 0 (or a low percentile) and a high percentile, stretched (sunpy's
    ``AsinhStretch(0.01)`` half the time, else asinh 0.05, square root, log or linear), quantised to 8 bits,
    and read back by inverting ``asinh(0.01)`` (the reader's default, with probability ``read_default``) or
    another stretch, with the top of the scale at ``peak`` DN in a 2.9 s exposure.

    Examples
    --------
    >>> import torch
    >>> from sunpy_jets.synthetic.realistic import RenderAugment
    >>> x = torch.rand(2, 3, 8, 8) * 100
    >>> y = RenderAugment(p=1.0)(x, torch.Generator().manual_seed(0))
    >>> y.shape, bool(torch.isfinite(y).all()), float(y.max()) <= 1000 / 2.9 + 1e-3
    (torch.Size([2, 3, 8, 8]), True, True)
    """

    p: float = 0.5
    per_frame: float = 0.7
    read_default: float = 0.85
    peak: float = 1000.0

    #: (name, parameter) of the stretches a render may use, and how often.
    stretches = (("asinh", 0.01), ("asinh", 0.05), ("sqrt", 0.0), ("log", 1000.0), ("linear", 0.0))
    stretch_weights = (0.5, 0.15, 0.15, 0.1, 0.1)

    @staticmethod
    def forward_stretch(y, name, a):
        """Values in [0, 1] to display positions (astropy's stretches)."""
        if name == "asinh":
            return torch.asinh(y / a) / math.asinh(1 / a)
        if name == "log":
            return torch.log(a * y + 1) / math.log(a + 1)
        if name == "sqrt":
            return torch.sqrt(y)
        return y

    @staticmethod
    def inverse_stretch(z, name, a):
        """Display positions back to values in [0, 1]."""
        if name == "asinh":
            return a * torch.sinh(z * math.asinh(1 / a))
        if name == "log":
            return (torch.pow(a + 1.0, z) - 1) / a
        if name == "sqrt":
            return z * z
        return z

    def __call__(self, x, generator, *, groups=None):
        """
        Render some sequences of ``x`` (``(B, T, H, W)``, DN/s); returns a new tensor in DN/s.

        ``groups`` (length ``B``) gives sequences that must share one render (the members of a pair).
        """
        b = x.shape[0]
        groups = torch.arange(b) if groups is None else torch.as_tensor(groups).cpu()
        n_groups = int(groups.max()) + 1
        u = torch.rand(n_groups, 8, generator=generator)[groups]
        out = x.clone()
        cum = np.cumsum(self.stretch_weights)
        for i in range(b):
            if u[i, 0] >= self.p:
                continue
            seq = x[i].clamp_min(0)
            per_frame = bool(u[i, 1] < self.per_frame)
            flat = seq.reshape(seq.shape[0], -1) if per_frame else seq.reshape(1, -1)
            sub = flat[:, :: max(1, flat.shape[1] // 8192)]
            q_hi = 0.99 + 0.01 * float(u[i, 3])
            hi = torch.quantile(sub, q_hi, dim=1)
            lo = torch.quantile(sub, 0.02 * float(u[i, 4]), dim=1) * float(u[i, 4] < 0.25)
            shape = (-1, 1, 1) if per_frame else (1, 1, 1)
            lo, hi = lo.reshape(shape), torch.maximum(hi.reshape(shape), lo.reshape(shape) + 1e-3)
            y = ((seq - lo) / (hi - lo)).clamp(0, 1)
            name, a = self.stretches[int(np.searchsorted(cum, float(u[i, 5]) * cum[-1]))]
            z = torch.round(self.forward_stretch(y, name, a) * 255) / 255
            if u[i, 6] < self.read_default:
                back_name, back_a = "asinh", 0.01
            else:
                back_name, back_a = self.stretches[int(u[i, 7] * len(self.stretches)) % len(self.stretches)]
            out[i] = self.inverse_stretch(z, back_name, back_a) * (self.peak / _EXPOSURE)
        return out


def augment_batch(x, generator, *, fov_rate=0.25, flip=True):
    """
    Flips, 90° rotations and a smaller field of view (padded with the frame median) of ``(B, T, H, W)``.

    Real inputs smaller than the model's 300″ field (a 120″ subject render, a 300″×222″ cutout) are padded
    by the preprocessing with each frame's median; ``fov_rate`` of the sequences get the same treatment.
    """
    b, t, h, w = x.shape
    out = x.clone()
    u = torch.rand(b, 6, generator=generator)
    for i in range(b):
        seq = out[i]
        if flip:
            if u[i, 0] < 0.5:
                seq = seq.flip(-1)
            if u[i, 1] < 0.5:
                seq = seq.flip(-2)
            seq = torch.rot90(seq, int(u[i, 2] * 4) % 4, dims=(-2, -1))
        if u[i, 3] < fov_rate:
            ch, cw = int(h * (0.35 + 0.6 * float(u[i, 4]))), int(w * (0.35 + 0.6 * float(u[i, 5])))
            y0, x0 = (h - ch) // 2, (w - cw) // 2
            keep = torch.zeros(h, w, dtype=torch.bool, device=x.device)
            keep[y0 : y0 + ch, x0 : x0 + cw] = True
            med = seq[:, keep].median(dim=1).values
            seq = torch.where(keep[None], seq, med[:, None, None])
        out[i] = seq
    return out


@dataclass
class SceneBatch:
    """
    A batch of scenes from `SceneSampler.sample`.

    Attributes
    ----------
    frames : `torch.Tensor`
        ``(2n, T, H, W)`` float32 DN/s (before the model's clipping and standardisation).
    labels : `torch.Tensor`
        ``(2n,)`` float32: 1 for the member of each pair with a jet (even rows), 0 for its twin.
    info : list of dict
        Per pair: background image, crop centre, whether on the limb, the jet's parameters, the negatives.
    """

    frames: torch.Tensor
    labels: torch.Tensor
    info: list = field(default_factory=list)


def procedural_images(n, *, size=256, seed=0):
    """
    ``n`` procedural background images at the model's scale, for use without real frames.

    A log-normal network of bright cells on a chromospheric floor, as a stand-in only: their statistics are
    compared with real frames in ``scripts/realism_report.py``. Returns ``(images, geometry)`` like
    `~sunpy_jets.synthetic.BackgroundBank.arrays`: float32 DN/s images and per image
    ``(sun centre x, sun centre y, solar radius)`` in pixels (here far away: every field is on the disk, or
    a limb when ``n`` > 1 for every other image).
    """
    rng = np.random.default_rng(seed)
    images, geometry = [], []
    yy, xx = np.mgrid[:size, :size].astype(np.float32)
    for k in range(n):
        spectrum = rng.standard_normal((size, size)) + 1j * rng.standard_normal((size, size))
        fy, fx = np.meshgrid(np.fft.fftfreq(size), np.fft.fftfreq(size), indexing="ij")
        f = np.hypot(fx, fy)
        power = np.where(f > 0, (f + 0.01) ** -1.4, 0.0) * np.exp(-((f / 0.35) ** 2))
        field_ = np.real(np.fft.ifft2(spectrum * np.sqrt(power)))
        field_ = (field_ - field_.mean()) / field_.std()
        image = 14.0 * np.exp(0.55 * field_)
        if k % 2 == 1:  # a limb: the disk fills the lower half, off-limb corona above
            radius = 530.0
            cx, cy = size / 2 + rng.uniform(-20, 20), size / 2 - radius + rng.uniform(-10, 10)
            r = np.hypot(xx - cx, yy - cy) / radius
            off = np.clip(r - 1, 0, None)
            image = np.where(r <= 1, image * (0.8 + 0.2 * np.sqrt(np.clip(1 - r * r, 0, 1)) ** 0.2),
                             image * 0.25 * np.exp(-off * radius / 12.0) + 1.5 * np.exp(-off * radius / 60.0))
        else:
            radius = 530.0
            angle = rng.uniform(0, 2 * np.pi)
            dist = rng.uniform(0, 0.8) * radius
            cx, cy = size / 2 + dist * np.cos(angle), size / 2 + dist * np.sin(angle)
        images.append(image.astype(np.float32))
        geometry.append((cx, cy, radius))
    return images, np.array(geometry, dtype=np.float32)


def _gauss_kernel(sigma, device):
    radius = max(1, int(math.ceil(3 * sigma)))
    t = torch.arange(-radius, radius + 1, dtype=torch.float32, device=device)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    return k / k.sum()


def _blur(x, sigma):
    """Separable Gaussian blur of ``(N, H, W)``."""
    k = _gauss_kernel(sigma, x.device)
    n = k.numel()
    y = F.conv2d(F.pad(x[:, None], (n // 2, n // 2, 0, 0), mode="replicate"), k.view(1, 1, 1, n))
    y = F.conv2d(F.pad(y, (0, 0, n // 2, n // 2), mode="replicate"), k.view(1, 1, n, 1))
    return y[:, 0]


def psf(x):
    """An AIA-like point-spread function at 1.8″/px on ``(N, H, W)``: a Gaussian core and 4 % in wide wings."""
    return 0.96 * _blur(x, 0.55) + 0.04 * _blur(x, 6.0)


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
            out = self.render(out, self.generator, groups=groups)
        return SceneBatch(out, torch.tensor(labels, device=self.device), info)
