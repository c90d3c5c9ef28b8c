"""
Real AIA 304 Å frames as backgrounds for synthetic scenes, reduced to the model's scale.

`BackgroundBank` reads real frames from paths the caller gives (FITS files, or Helioviewer JPEG 2000
full-disk frames), converts them to DN/s, max-pools them to the model's pixel scale as the model's
preprocessing does, and keeps with each image the Sun's centre and radius in its pixels, so that
`~sunpy_jets.synthetic.realistic.SceneSampler` can cut on-disk and limb fields from it. No real frame ships
with the package: without paths, `BackgroundBank.procedural` gives stand-in backgrounds.

Helioviewer's JPEG 2000 frames hold 8-bit values of its own logarithmic scaling. They are turned back into
approximate DN/s by ``I = 10 ** ((p - 7.85) / 44.86)``, a fit of the quantiles of on-disk pixels of the
2021-06-01 frame against those of level-1 AIA 304 Å frames of 2022-04-02 (``pryoung/papers``); the scale
is approximate, which the sampler's random intensity scale (×0.4 to ×3) covers anyway.
"""

import json
import re
import warnings
from pathlib import Path

import numpy as np

import astropy.units as u

from ..exceptions import InputError, InputTypeError

__all__ = ["BackgroundBank", "read_frame", "HELIOVIEWER_304"]

#: ``(offset, slope)`` of Helioviewer's AIA 304 Å byte value against log10 DN/s (see the module docstring).
HELIOVIEWER_304 = (7.85, 44.86)


def _jp2_header(path):
    """The FITS header Helioviewer stores in a JPEG 2000 file's XML box, as a dict."""
    raw = Path(path).read_bytes()
    start, end = raw.find(b"<fits>"), raw.find(b"</fits>")
    if start < 0 or end < 0:
        raise InputError(f"{path} holds no FITS header in an XML box: not a Helioviewer JPEG 2000 file")
    meta = {}
    for key, value in re.findall(rb"<([A-Za-z0-9_\-]+)>([^<]*)</\1>", raw[start:end]):
        text = value.decode("utf8", "replace").strip()
        try:
            meta[key.decode().lower()] = float(text) if re.fullmatch(r"[-+0-9.eE]+", text) else text
        except ValueError:
            meta[key.decode().lower()] = text
    return meta


def _read_jp2(path):
    """Pixels and header of a JPEG 2000 file: through sunpy (glymur) if it can, else through Pillow."""
    import sunpy.map

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = sunpy.map.Map(str(path))
        return np.asarray(m.data), dict(m.meta)
    except Exception:  # noqa: BLE001 - glymur without OpenJPEG raises several types
        try:
            from PIL import Image
        except ImportError:  # pragma: no cover
            raise InputError(f"cannot read {path}: install glymur with OpenJPEG >= 2.4, or Pillow") from None
        with Image.open(path) as im:
            data = np.asarray(im)[::-1]  # JPEG 2000 rows run down; FITS rows run up
        return data, _jp2_header(path)


def read_frame(path):
    """
    One real AIA 304 Å frame as a `~sunpy.map.GenericMap` in DN/s.

    FITS data are divided by their exposure time; Helioviewer JPEG 2000 bytes are mapped back to DN/s
    with `HELIOVIEWER_304` (an approximation).

    Parameters
    ----------
    path : str or `~pathlib.Path`

    Returns
    -------
    `~sunpy.map.GenericMap`
        Data in DN/s (float32), the file's own header (``EXPTIME`` set to 1 s).
    """
    import sunpy.map

    path = Path(path)
    if not path.is_file():
        raise InputError(f"no such file: {path}")
    if path.suffix.lower() in (".jp2", ".j2k", ".jpx"):
        data, meta = _read_jp2(path)
        offset, slope = HELIOVIEWER_304
        rate = np.where(data > 0, 10.0 ** ((data.astype(np.float32) - offset) / slope), 0.0).astype(np.float32)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = sunpy.map.Map(str(path))
        if m.exposure_time is None or m.exposure_time <= 0 * u.s:
            raise InputError(f"{path} has no positive exposure time (EXPTIME)")
        rate = (np.asarray(m.data, dtype=np.float32) / np.float32(m.exposure_time.to_value(u.s))).astype(np.float32)
        meta = dict(m.meta)
    meta["exptime"] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sunpy.map.Map(rate, meta)


def _pool_max(data, factor):
    """NaN-aware ``factor``×``factor`` max-pool (the model's preprocessing), dropping ragged edges."""
    ny, nx = (s // factor * factor for s in data.shape)
    blocks = data[:ny, :nx].reshape(ny // factor, factor, nx // factor, factor)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmax(blocks, axis=(1, 3)).astype(np.float32)


class BackgroundBank:
    """
    Background images at the model's pixel scale, with the Sun's centre and radius in their pixels.

    Parameters
    ----------
    images : list of `numpy.ndarray`
        float32 DN/s, NaN where there is no data.
    geometry : array-like
        ``(n, 3)``: Sun centre x, y and radius in each image's pixels.
    names : list of str
        Where each image came from.
    scale : `~astropy.units.Quantity`
        Pixel scale of the images.

    Examples
    --------
    >>> from sunpy_jets.synthetic import BackgroundBank
    >>> bank = BackgroundBank.procedural(2, size=128, seed=0)
    >>> len(bank), bank.images[0].shape, bank.names[0]
    (2, (128, 128), 'procedural-0')
    """

    def __init__(self, images, geometry, names, *, scale=1.8 * u.arcsec / u.pix):
        self.images = [np.asarray(im, dtype=np.float32) for im in images]
        self.geometry = np.asarray(geometry, dtype=np.float32).reshape(len(self.images), 3)
        self.names = [str(n) for n in names]
        self.scale = u.Quantity(scale, u.arcsec / u.pix)
        if len(self.names) != len(self.images):
            raise InputError("give one name per image")

    def __len__(self):
        return len(self.images)

    @classmethod
    def from_files(cls, paths, *, scale=1.8 * u.arcsec / u.pix):
        """
        Read real frames (FITS or Helioviewer JPEG 2000) and reduce them to ``scale`` by max-pooling.

        Parameters
        ----------
        paths : iterable of str or `~pathlib.Path`
            The frames. A frame that cannot be read raises `~sunpy_jets.exceptions.InputError`.
        scale : `~astropy.units.Quantity`
            Target pixel scale; the pooling factor is the nearest integer ratio to the frame's scale.
        """
        from astropy.coordinates import SkyCoord

        paths = [Path(p) for p in paths]
        if not paths:
            raise InputError("give at least one frame path (or use BackgroundBank.procedural)")
        target = u.Quantity(scale, u.arcsec / u.pix).to_value(u.arcsec / u.pix)
        images, geometry, names = [], [], []
        for path in paths:
            m = read_frame(path)
            if abs(float(m.wavelength.to_value(u.AA)) - 304) > 1 if m.wavelength is not None else True:
                raise InputError(f"{path} is not an AIA 304 Å frame (wavelength {m.wavelength})")
            pixel = float(m.scale.axis1.to_value(u.arcsec / u.pix))
            factor = max(1, int(round(target / pixel)))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cx, cy = (float(v) for v in m.wcs.world_to_pixel(SkyCoord(0 * u.arcsec, 0 * u.arcsec, frame=m.coordinate_frame)))
            image = _pool_max(np.asarray(m.data, dtype=np.float32), factor)
            # A pooled pixel p covers full pixels factor*p .. factor*p + factor - 1.
            to_pooled = lambda c: (c - (factor - 1) / 2) / factor  # noqa: E731
            radius = float(m.rsun_obs.to_value(u.arcsec)) / (pixel * factor)
            images.append(image)
            geometry.append((to_pooled(cx), to_pooled(cy), radius))
            names.append(path.name)
        return cls(images, geometry, names, scale=scale)

    @classmethod
    def procedural(cls, n, *, size=256, seed=0, scale=1.8 * u.arcsec / u.pix):
        """``n`` procedural stand-in backgrounds (see `~sunpy_jets.synthetic.realistic.procedural_images`)."""
        from .realistic import procedural_images  # realistic imports this module: a load-order cycle

        if not isinstance(n, (int, np.integer)) or n < 1:
            raise InputError(f"n must be a positive integer, got {n!r}")
        images, geometry = procedural_images(int(n), size=int(size), seed=seed)
        return cls(images, geometry, [f"procedural-{k}" for k in range(n)], scale=scale)

    def arrays(self):
        """``(images, geometry)`` for `~sunpy_jets.synthetic.realistic.SceneSampler`."""
        return self.images, self.geometry

    def save(self, path):
        """
        Write the bank to one ``.npz`` file (float16 images; no pickles).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from sunpy_jets.synthetic import BackgroundBank
        >>> bank = BackgroundBank.procedural(1, size=64)
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "bank.npz"
        >>> bank.save(path)
        >>> BackgroundBank.load(path).names
        ['procedural-0']
        """
        arrays = {f"image_{k}": np.clip(im, None, 6e4).astype(np.float16) for k, im in enumerate(self.images)}
        meta = {"names": self.names, "scale_arcsec_per_pix": float(self.scale.value), "n": len(self)}
        np.savez(path, geometry=self.geometry, meta=np.array(json.dumps(meta)), **arrays)

    @classmethod
    def load(cls, path):
        """Read a bank written by `save`."""
        if not isinstance(path, (str, Path)):
            raise InputTypeError(f"path must be a str or Path, not {type(path).__name__}")
        with np.load(path, allow_pickle=False) as f:
            meta = json.loads(str(f["meta"]))
            images = [f[f"image_{k}"].astype(np.float32) for k in range(meta["n"])]
            return cls(images, f["geometry"], meta["names"], scale=meta["scale_arcsec_per_pix"] * u.arcsec / u.pix)
