"""
Real AIA 304 Å frames, cut to a requested box and written as level-1-like FITS files.

The JSOC stand-in serves these. Three kinds of real data are used (all from ``../shared/realdata``):

- the 26 frames of ``jipparchus_sun_data_visualisation/aia304`` (JSOC cutouts, 36 s cadence, west limb),
- the 8 frames of ``pryoung_papers/aia_diff`` (12 s cadence, on disk),
- the two full-disk Helioviewer JPEG 2000 frames of ``helioviewer_jp2`` (decoded with Pillow's OpenJPEG;
  their 8-bit stretch is undone approximately, so the values are DN-like, not calibrated).

A cutout from a full-disk frame is the true box at the requested helioprojective position (static in
time: one observation). A cutout from a sequence keeps the sequence's real evolution, stamped with the
requested times and centred on the requested position; where the sequence's field is smaller than the
box it is mirrored outwards (``numpy.pad(mode="reflect")``), so every file has the requested size.

The header is a real JSOC export header (the first jipparchus file) with the keywords that describe
the cutout replaced: ``T_REC``, ``DATE-OBS``, ``T_OBS``, ``EXPTIME``, the WCS (``CRPIX``, ``CDELT``,
``CROTA2``), the observer (Earth at the frame's time) and the data statistics. Files are RICE-compressed
``int16`` in HDU 1, like JSOC's, and byte-for-byte the same for the same request.
"""

import functools
import io
import warnings
import zlib
from pathlib import Path

import numpy as np

import astropy.units as u
from astropy.io import fits
from astropy.time import Time

__all__ = ["FrameLibrary", "T_REC_EPOCH", "T_REC_STEP"]

T_REC_EPOCH = Time("1993-01-01T00:00:04", scale="tai")
"""Epoch of the ``T_REC`` slots of ``aia.lev1_euv_12s`` (its ``TRECEPOC``)."""
T_REC_STEP = 12 * u.s
"""Step of the ``T_REC`` slots (its ``TRECSTEP``)."""
_SCALE = 0.6  # arcsec per pixel of the served cutouts (AIA's plate scale, rounded as in im_patch output)


def slot_times(start, end, sample):
    """The ``T_REC`` slots from the one nearest ``start`` over the length of the range, every ``sample``."""
    step = T_REC_STEP.to_value(u.s)
    first = int(np.round((start.tai - T_REC_EPOCH).to_value(u.s) / step))
    last = first + int(np.round((end - start).to_value(u.s) / step))  # the range's length decides the count
    every = max(1, int(np.round(sample.to_value(u.s) / step))) if sample is not None else 1
    slots = np.arange(first, last + 1, every)
    return (T_REC_EPOCH + slots * T_REC_STEP).utc


def _jp2_xml(raw):
    """The XML box of a JPEG 2000 file (top-level boxes: 4-byte length, 4-byte type, payload)."""
    position = 0
    while position + 8 <= len(raw):
        length, kind = int.from_bytes(raw[position : position + 4], "big"), raw[position + 4 : position + 8]
        header = 8
        if length == 1:
            length, header = int.from_bytes(raw[position + 8 : position + 16], "big"), 16
        elif length == 0:
            length = len(raw) - position
        if kind == b"xml ":
            return raw[position + header : position + length]
        position += length
    raise ValueError("no XML box in this JPEG 2000 file")


@functools.lru_cache(maxsize=4)
def _fulldisk(path):
    """(data with row 0 at the bottom, FITS header) of a Helioviewer JPEG 2000 file (decoded by Pillow)."""
    from xml.etree import ElementTree

    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None
    with Image.open(path) as image:
        data = np.asarray(image)[::-1].copy()
    root = ElementTree.fromstring(_jp2_xml(Path(path).read_bytes()).decode("utf-8", errors="replace").strip("\x00"))
    fits_element = root.find("fits") if root.tag != "fits" else root
    header = {}
    for element in fits_element:
        text = (element.text or "").strip()
        try:
            header[element.tag] = float(text)
        except ValueError:
            header[element.tag] = text
    return data, header


@functools.lru_cache(maxsize=8)
def _sequence(folder):
    """(frames as float32 DN, seconds from the first frame, exposure times) of a folder of real FITS files."""
    frames, times, exposures = [], [], []
    for path in sorted(Path(folder).glob("*.fits")):
        with warnings.catch_warnings(), fits.open(path) as hdul:
            warnings.simplefilter("ignore")
            hdu = hdul[1] if len(hdul) > 1 else hdul[0]
            frames.append(np.nan_to_num(np.asarray(hdu.data, dtype=np.float32), nan=0.0))
            times.append(Time(hdu.header["DATE-OBS"]))
            exposures.append(float(hdu.header["EXPTIME"]))
    seconds = np.array([(t - times[0]).to_value(u.s) for t in times])
    return frames, seconds, exposures


@functools.lru_cache(maxsize=1)
def _template(path):
    with fits.open(path) as hdul:
        return hdul[1].header.copy()


def _fit(data, shape):
    """Centre-crop, or mirror-pad, ``data`` to ``shape``."""
    out = data
    for axis, want in enumerate(shape):
        have = out.shape[axis]
        if have > want:
            start = (have - want) // 2
            out = np.take(out, np.arange(start, start + want), axis=axis)
        elif have < want:
            before = (want - have) // 2
            pad = [(0, 0), (0, 0)]
            pad[axis] = (before, want - have - before)
            while out.shape[axis] < want:  # reflect padding can add at most have - 1 per side at once
                step = [(0, 0), (0, 0)]
                step[axis] = tuple(min(p, out.shape[axis] - 1) for p in pad[axis])
                out = np.pad(out, step, mode="reflect")
                pad[axis] = (pad[axis][0] - step[axis][0], pad[axis][1] - step[axis][1])
    return out


class FrameLibrary:
    """
    The real AIA 304 Å data the JSOC stand-in serves.

    Parameters
    ----------
    realdata : `~pathlib.Path`
        The ``../shared/realdata`` folder.
    sources : sequence of str, optional
        Which sources to draw from (``"jipparchus"``, ``"pryoung"``, ``"helioviewer_2021"``,
        ``"helioviewer_2024"``); all by default. Each request is served from one source, chosen from a
        hash of its position and start time, so the same request always gets the same data.
    """

    ALL = ("jipparchus", "pryoung", "helioviewer_2021", "helioviewer_2024")

    def __init__(self, realdata, *, sources=None):
        self.realdata = Path(realdata)
        self.sources = tuple(self.ALL if sources is None else sources)
        unknown = set(self.sources) - set(self.ALL)
        if unknown or not self.sources:
            raise ValueError(f"unknown or no frame sources {sorted(unknown)}: choose from {self.ALL}")
        self._paths = {
            "jipparchus": self.realdata / "jipparchus_sun_data_visualisation" / "aia304",
            "pryoung": self.realdata / "pryoung_papers" / "aia_diff",
            "helioviewer_2021": self.realdata / "helioviewer_jp2" / "2021_06_01__00_01_29_132__SDO_AIA_AIA_304.jp2",
            "helioviewer_2024": self.realdata / "helioviewer_jp2" / "2024_04_16__11_15_41_129__SDO_AIA_AIA_304.jp2",
        }
        self.template_path = next(iter(sorted(self._paths["jipparchus"].glob("*.fits"))))

    def source_for(self, x, y, start):
        """The source that serves a cutout at (``x``, ``y``) arcsec starting at ``start``."""
        key = f"{float(x):.2f},{float(y):.2f},{Time(start).utc.isot[:19]}".encode()
        return self.sources[zlib.crc32(key) % len(self.sources)]

    def pixels(self, source, x, y, shape, offset_s):
        """
        One frame's data (float DN) and exposure time (s) from ``source``.

        ``offset_s`` is the frame's time from the start of the request: a sequence source gives its frame
        nearest that time (cyclically); a full-disk source gives the box at (``x``, ``y``) arcsec.
        """
        path = self._paths[source]
        if source.startswith("helioviewer"):
            data, header = _fulldisk(path)
            scale = float(header.get("CDELT1", _SCALE))
            col = float(header["CRPIX1"]) - 1 + (float(x) - float(header.get("CRVAL1", 0.0))) / scale
            row = float(header["CRPIX2"]) - 1 + (float(y) - float(header.get("CRVAL2", 0.0))) / scale
            h, w = shape
            r0, c0 = round(row - (h - 1) / 2), round(col - (w - 1) / 2)
            out = np.zeros(shape, dtype=np.float32)
            rr = slice(max(r0, 0), min(r0 + h, data.shape[0]))
            cc = slice(max(c0, 0), min(c0 + w, data.shape[1]))
            if rr.start < rr.stop and cc.start < cc.stop:
                out[rr.start - r0 : rr.stop - r0, cc.start - c0 : cc.stop - c0] = data[rr, cc]
            # Helioviewer stores a compressed 8-bit stretch; a square brings it back to a DN-like range.
            return (out / 255.0) ** 2 * 3000.0, float(header.get("EXPTIME", 2.9))
        frames, seconds, exposures = _sequence(path)
        span = seconds[-1] + (seconds[-1] / max(len(seconds) - 1, 1))
        k = int(np.argmin(np.abs(seconds - (offset_s % span))))
        return _fit(frames[k], shape), exposures[k]

    def fits_bytes(self, *, source, t_rec, x, y, width, height, offset_s=0.0, wavelength=304, record=None):
        """
        The FITS file (bytes) of one cutout frame: RICE-compressed ``int16`` with a level-1-like header.

        ``offset_s`` is the frame's time from the first frame of its request (see `pixels`).
        """
        from sunpy.coordinates import get_earth

        shape = (max(1, round(float(height) / _SCALE)), max(1, round(float(width) / _SCALE)))
        t_rec = Time(t_rec)
        data, exptime = self.pixels(source, x, y, shape, float(offset_s))
        data = np.clip(np.round(data), 0, 16383).astype(np.int16)
        header = _template(self.template_path).copy()
        date_obs = t_rec + 6.131 * u.s
        earth = get_earth(t_rec)
        distance = earth.radius.to_value(u.m)
        values = {
            "T_REC": t_rec.utc.isot[:19] + "Z",
            "WAVELNTH": int(wavelength),
            "DATE": "2026-01-01T00:00:00.000",
            "DATE-OBS": date_obs.utc.isot,
            "T_OBS": (date_obs + exptime / 2 * u.s).utc.isot,
            "EXPTIME": exptime,
            "CRPIX1": (shape[1] + 1) / 2 - float(x) / _SCALE,
            "CRPIX2": (shape[0] + 1) / 2 - float(y) / _SCALE,
            "CRVAL1": 0.0, "CRVAL2": 0.0, "CDELT1": _SCALE, "CDELT2": _SCALE, "CROTA2": 0.0,
            "DSUN_OBS": distance,
            "RSUN_OBS": float(np.degrees(np.arcsin(696e6 / distance)) * 3600),
            "HGLN_OBS": float(earth.lon.to_value(u.deg)),
            "HGLT_OBS": float(earth.lat.to_value(u.deg)),
            "CRLT_OBS": float(earth.lat.to_value(u.deg)),
            "DATAMIN": int(data.min()), "DATAMAX": int(data.max()), "DATAMEAN": float(data.mean()),
            "DATAMEDN": int(np.median(data)), "DATAVALS": int(data.size), "MISSVALS": 0, "PERCENTD": 100.0,
            "QUALITY": 0,
        }  # fmt: skip
        for key, value in values.items():
            header[key] = value
        # The template's observer (2012) in other systems would contradict HGLN/HGLT/DSUN_OBS: drop them.
        stale = [k for k in header if k[:4] in ("HAEX", "HAEY", "HAEZ", "GAEX", "GAEY", "GAEZ") or k.startswith("OBS_V")]
        for key in (*stale, "CRLN_OBS", "CAR_ROT", "REQUESTI", "HEADSUM"):
            header.remove(key, ignore_missing=True)
        header["SOURCE"] = record or f"aia.lev1_euv_12s[{values['T_REC']}][{int(wavelength)}]"
        header.remove("HISTORY", ignore_missing=True, remove_all=True)
        header.add_history(f"sunpy_jets test stand-in: real AIA 304 data from {source}, cut to the requested box")
        hdu = fits.CompImageHDU(data=data, header=header, compression_type="RICE_1")
        buffer = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(buffer)
        return buffer.getvalue()
