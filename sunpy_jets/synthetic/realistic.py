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

from ._realistic_parts import (
    KM_PER_ARCSEC,
    NEGATIVE_KINDS,
    JetDistribution,
    RenderAugment,
    SamplerError,
    SceneBatch,
    augment_batch,
    procedural_images,
    psf,
)
from ._realistic_sampler import SceneSampler

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
