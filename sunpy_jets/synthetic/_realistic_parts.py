"""
The pieces of the realistic scenes that ``SceneSampler`` is built from: catalogue jets, renders, batches, PSF.

Private: the public names are re-exported by ``sunpy_jets.synthetic.realistic``, whose docstring describes
the scenes. Needs only numpy and torch.
"""

from dataclasses import dataclass, field

import numpy as np
import torch

from .. import _stretch
from .._gaussian import gaussian_blur, gaussian_taps

__all__ = [
    "SceneBatch",
    "JetDistribution",
    "RenderAugment",
    "SamplerError",
    "augment_batch",
    "procedural_images",
    "psf",
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

    With probability ``blur``, a rendered sequence is first blurred by a Gaussian of ``blur_sigma`` model pixels
    (drawn uniformly in that range): the Solar Jet Hunter subjects were resampled before they became GIFs, and are
    smoother at the model's scale than the sampler's scenes. How much depends on the measure: the median absolute
    Laplacian over the robust spread of on-disk frames said about six times (a blur of about one model pixel), the
    spectral sharpness index of ``scripts/render_sharpness.py`` (ninth session) says about two times for real
    level-1 frames (a blur of about 0.6″, a third of a model pixel).

    Examples
    --------
    >>> import torch
    >>> from sunpy_jets.synthetic.realistic import RenderAugment
    >>> x = torch.rand(2, 3, 8, 8) * 100
    >>> y = RenderAugment(p=1.0)(x, torch.Generator().manual_seed(0))
    >>> y.shape, bool(torch.isfinite(y).all()), float(y.max()) <= 1000 / 2.9 + 1e-3
    (torch.Size([2, 3, 8, 8]), True, True)
    >>> smooth = RenderAugment(p=1.0, blur=1.0)(x, torch.Generator().manual_seed(0))
    >>> bool(smooth.diff(dim=-1).abs().mean() < y.diff(dim=-1).abs().mean())
    True
    """

    p: float = 0.5
    per_frame: float = 0.7
    read_default: float = 0.85
    peak: float = 1000.0
    blur: float = 0.0
    blur_sigma: tuple = (0.6, 1.4)

    #: (name, parameter) of the stretches a render may use, and how often.
    stretches = (("asinh", 0.01), ("asinh", 0.05), ("sqrt", 0.0), ("log", 1000.0), ("linear", 0.0))
    stretch_weights = (0.5, 0.15, 0.15, 0.1, 0.1)

    def __call__(self, x, generator, *, groups=None, return_blurred=False):
        """
        Render some sequences of ``x`` (``(B, T, H, W)``, DN/s); returns a new tensor in DN/s.

        ``groups`` (length ``B``) gives sequences that must share one render (the members of a pair). With
        ``return_blurred``, also a ``(B,)`` boolean tensor of the sequences that were blurred.
        """
        b = x.shape[0]
        groups = torch.arange(b) if groups is None else torch.as_tensor(groups).cpu()
        n_groups = int(groups.max()) + 1
        u = torch.rand(n_groups, 8, generator=generator)[groups]
        # drawn only when blurring, so that a render without blur takes the same random numbers as before
        v = torch.rand(n_groups, 2, generator=generator)[groups] if self.blur > 0 else None
        out = x.clone()
        blurred = torch.zeros(b, dtype=torch.bool)
        cum = np.cumsum(self.stretch_weights)
        for i in range(b):
            if u[i, 0] >= self.p:
                continue
            seq = x[i].clamp_min(0)
            if v is not None and v[i, 0] < self.blur:
                low, high = self.blur_sigma
                seq = _blur(seq, low + (high - low) * float(v[i, 1]))
                blurred[i] = True
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
            z = torch.round(_stretch.forward(y, name, a, torch) * 255) / 255
            if u[i, 6] < self.read_default:
                back_name, back_a = "asinh", 0.01
            else:
                back_name, back_a = self.stretches[int(u[i, 7] * len(self.stretches)) % len(self.stretches)]
            out[i] = _stretch.inverse(z, back_name, back_a, torch) * (self.peak / _EXPOSURE)
        return (out, blurred) if return_blurred else out


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


def _blur(x, sigma):
    """Separable Gaussian blur of ``(N, H, W)``."""
    return gaussian_blur(x, gaussian_taps(sigma, x.device))


def psf(x):
    """An AIA-like point-spread function at 1.8″/px on ``(N, H, W)``: a Gaussian core and 4 % in wide wings."""
    return 0.96 * _blur(x, 0.55) + 0.04 * _blur(x, 6.0)
