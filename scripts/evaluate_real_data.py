#!/usr/bin/env python
"""
Evaluate a jet classifier on real data: the Solar Jet Hunter subjects against real non-jet AIA 304 Å scenes.

Everything goes through the public API (``JetClassifier.from_pretrained``, ``prepare``, ``predict_proba``,
``scan``, ``sunpy_jets.datasets.read_subject_render`` and ``render_sequence``), so anyone with the realdata
folder can rerun it on any weights::

    python scripts/evaluate_real_data.py                          # the bundled weights
    python scripts/evaluate_real_data.py --weights my_model/      # a model directory written by clf.save
    python scripts/evaluate_real_data.py --pad-to 30              # also hold the last frame to the model's window

It writes a JSON report (``--out``) and prints a short summary. What it measures:

1. **Real jets** (render domain): the 65 Solar Jet Hunter "Jet or Not" subjects volunteers voted to hold a
   jet, read back from their GIF renders (``read_subject_render``). Each is scored in the 300″ box centred on
   its catalogue base point (the first jet starting in the subject, else the first active one), else on the
   subject's centre, and in every 300″ box of the subject's field (a grid of ``--box-step`` arcsec from the
   field centre, boxes that cover at least 60 % of the field or of the box), the best of which is kept.
   Recall at the model's threshold for the subjects with a catalogued jet starting in them, with any
   catalogued jet, and all of them; by volunteer agreement (read from the vote line drawn above each render),
   on-disk vs limb (base or centre beyond 0.9 R_sun) and catalogue jet height.
2. **Real non-jet windows**, in the FITS domain and pushed through a render like the subjects' (``render_sequence``,
   each frame first blurred by ``--render-blur`` = 0.6″, which makes the dynamic scenes as sharp at the model's
   scale as the subjects, who were resampled before they became GIFs: ``scripts/render_sharpness.py``, ninth
   session; the reports before the eighth session rendered them sharp, as ``--render-blur 0`` does, and the
   eighth session's blurred them by 1.8″, which makes them about ten times smoother than the subjects):
   *dynamic* — every 15-frame window at 24 s (the subjects' length) and every 300″ box of the jipparchus
   2012-07-19 sequence (post-flare loops, coronal rain; 36 s frames resampled to 24 s by the package), the
   pryoung 2022-04-02 level-0.5 frames (8 frames at 12 s: one short window) and its three level-1 frames
   (2-minute spacing: one window of interpolated frames); *static* — 300″ crops on a 300″ grid over the two
   Helioviewer full-disk frames (disk and limb), held still for 15 frames at 24 s except for solar rotation
   (each crop's content shifted by the differential rotation of its centre) and shot noise. The
   Helioviewer 8-bit values are turned back into DN with Helioviewer's own AIA 304 scaling (log10 between 0.8
   and 250 DN/s), which is approximate.
3. **ROC AUC** (``sklearn.metrics.roc_auc_score``) of the jets against the dynamic and against the static
   non-jets, with bootstrap 95 % intervals; Wilson 95 % intervals on recall and false-positive rates.
   Centre-box scores are compared with every (window, box) score; best-box scores with each window's best box.
4. **Injected jets** from an independent injector (``scripts/independent_injector.py``: a tapered Gaussian
   spire growing at constant speed from a base brightening; no code shared with ``sunpy_jets.synthetic``)
   into the static crops and the jipparchus windows, against the same backgrounds without the jet, in both
   domains.

Limitations (also written into the JSON): the subjects have 15 frames at 24 s while the model's window is
30 frames; ``predict_proba`` classifies a shorter sequence as it is (with a warning), and so every non-jet
window here is cut to the same 15 frames, so that both classes have the same length (``--pad-to 30`` adds a
second evaluation with every sequence padded by holding its last frame). The non-jet windows overlap and come
from few scenes, so their intervals are narrower than independent samples would give.
"""

import argparse
import dataclasses
import json
import math
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
REALDATA = Path(os.environ.get("SUNPY_JETS_REALDATA", REPO.parent / "shared" / "realdata"))
WINDOW = 15  # frames of a Solar Jet Hunter subject (24 s apart)
BOX = 300.0  # arcsec
LIMB_FRACTION = 0.9  # a base (or centre) beyond this fraction of the solar radius counts as "limb"
HV_LOG_MIN, HV_LOG_MAX = 0.8, 250.0  # Helioviewer's AIA 304 scaling (DN/s, log10; jp2gen hvs_version5_aia)
DYNAMIC_SCENES = {
    "jipparchus_2012-07-19": "jipparchus_sun_data_visualisation/aia304",
    "pryoung_2022-04-02_lev0.5": "pryoung_papers/aia_diff",
    "pryoung_2022-04-02_lev1": "pryoung_papers/aia_bright_thread",
}
STATIC_FRAMES = "helioviewer_jp2"

sys.path.insert(0, str(Path(__file__).resolve().parent))


# --------------------------------------------------------------------------------------------------
# Statistics


def wilson(k, n, z=1.959964):
    """Wilson score 95 % interval of a proportion k/n."""
    if n == 0:
        return [None, None]
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return [round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)]


def rate(scores, threshold):
    scores = np.asarray(scores, dtype=float)
    k, n = int((scores >= threshold).sum()), int(len(scores))
    return {"n": n, "above_threshold": k, "rate": round(k / n, 4) if n else None, "wilson_95": wilson(k, n)}


def auc_with_ci(pos, neg, *, rng, n_boot):
    """
    ROC AUC of pos (label 1) against neg (label 0) by `sklearn.metrics.roc_auc_score`, with a bootstrap 95 %
    interval (each class resampled with replacement). The bootstrap uses the Mann-Whitney form of the same
    number, ``mean over pairs of [pos > neg] + 0.5 [pos == neg]``, weighted by each resample's counts.
    """
    from sklearn.metrics import roc_auc_score

    pos, neg = np.asarray(pos, dtype=float), np.asarray(neg, dtype=float)
    if len(pos) == 0 or len(neg) == 0:
        return {"auc": None, "n_pos": len(pos), "n_neg": len(neg)}
    auc = roc_auc_score(np.r_[np.ones(len(pos)), np.zeros(len(neg))], np.r_[pos, neg])
    pairs = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    assert abs(auc - pairs.mean()) < 1e-9
    w = rng.multinomial(len(pos), np.full(len(pos), 1 / len(pos)), size=n_boot)
    v = rng.multinomial(len(neg), np.full(len(neg), 1 / len(neg)), size=n_boot)
    boots = ((w @ pairs) * v).sum(axis=1) / (len(pos) * len(neg))
    lo, hi = np.percentile(boots, [2.5, 97.5])
    return {"auc": round(float(auc), 4), "bootstrap_95": [round(float(lo), 4), round(float(hi), 4)],
            "n_pos": int(len(pos)), "n_neg": int(len(neg))}  # fmt: skip


def summary(scores):
    scores = np.asarray(scores, dtype=float)
    if not len(scores):
        return {}
    return {"median": round(float(np.median(scores)), 4), "max": round(float(scores.max()), 4),
            "min": round(float(scores.min()), 4)}  # fmt: skip


# --------------------------------------------------------------------------------------------------
# Geometry helpers


def box_centres(center, extent, step, *, min_cover=0.6):
    """
    Centres of the 300″ boxes of a field: a grid of ``step`` arcsec anchored at the field centre, kept where
    the centre lies in the field and the box covers at least ``min_cover`` of the field or of the box
    (whichever is smaller).
    """
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    w, h = (float(v) for v in extent.to_value(u.arcsec))
    cx, cy = center.Tx.to_value(u.arcsec), center.Ty.to_value(u.arcsec)
    kx, ky = int(w // step) + 1, int(h // step) + 1
    out = []
    for i in range(-kx, kx + 1):
        for j in range(-ky, ky + 1):
            ox, oy = i * step, j * step
            over_x = max(0.0, min(w / 2, ox + BOX / 2) - max(-w / 2, ox - BOX / 2))
            over_y = max(0.0, min(h / 2, oy + BOX / 2) - max(-h / 2, oy - BOX / 2))
            inside = abs(ox) <= w / 2 and abs(oy) <= h / 2  # the package cuts boxes around points of the field
            if inside and over_x * over_y >= min_cover * min(w * h, BOX * BOX):
                out.append(SkyCoord((cx + ox) * u.arcsec, (cy + oy) * u.arcsec, frame=center.frame))
    return out


def solar_radius(m):
    import astropy.units as u

    return m.rsun_obs.to_value(u.arcsec)


def radial_fraction(coord, rsun_arcsec):
    import astropy.units as u

    return float(np.hypot(coord.Tx.to_value(u.arcsec), coord.Ty.to_value(u.arcsec)) / rsun_arcsec)


# --------------------------------------------------------------------------------------------------
# Model calls (public API only)


class Scorer:
    """`JetClassifier` calls with the window conventions of this evaluation."""

    def __init__(self, clf, pad_to=None):
        from sunpy_jets import JetClassifier

        self.clf = clf
        self.pad_to = pad_to
        self.n_prepared = 0
        self.n_scored = 0
        # The same network and weights with a window of the subjects' length, so that `scan` gives every
        # 15-frame window of a long sequence with each frame encoded once (the LSTM does not depend on the
        # window length: this is exactly predict_proba on each window, checked in `check_scan_matches`).
        self.clf_window = JetClassifier(clf.config.replace(n_frames=WINDOW), threshold=clf.threshold, device="cpu",
                                        batch_size=clf.batch_size, progress=False)  # fmt: skip
        self.clf_window.model.load_state_dict(clf.model.state_dict())

    def scan_windows(self, seq, center):
        """Probabilities of every 15-frame window of ``seq`` in the box at ``center`` (None if it is shorter)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = self.clf_window.scan(seq, center=center, progress=False)
        if len(table) == 0:
            return None
        self.n_scored += len(table)
        return np.asarray(table["probability"], dtype=float)

    def check_scan_matches(self, seq, center):
        """Largest difference between `scan_windows` and predict_proba on each prepared window."""
        prepared = self.prepare(seq, center)
        starts = range(0, len(prepared.frames) - WINDOW + 1)
        direct = self.score([self.window(prepared, s) for s in starts])["as_is"]
        scanned = self.scan_windows(seq, center)
        return float(np.abs(direct - scanned).max())

    def prepare(self, seq, center):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # padding of boxes that leave the field, resampling, short sequences
            self.n_prepared += 1
            return self.clf.prepare(seq, center=center)

    @staticmethod
    def window(prepared, start, length=WINDOW):
        """Frames ``start`` to ``start + length`` of a prepared sequence (the same as preparing those frames)."""
        return dataclasses.replace(prepared, frames=prepared.frames[start : start + length],
                                   times=prepared.times[start : start + length])  # fmt: skip

    def _pad(self, prepared, n):
        """Hold the last frame until the sequence has ``n`` frames (times continue at the model's cadence)."""
        k = len(prepared.frames)
        if k >= n:
            return prepared
        import torch

        frames = torch.cat([prepared.frames, prepared.frames[-1:].expand(n - k, *prepared.frames.shape[1:])])
        times = prepared.times[0] + np.arange(n) * self.clf.config.cadence
        return dataclasses.replace(prepared, frames=frames, times=times)

    def score(self, prepared_list):
        """Probabilities of a list of prepared windows: ``{"as_is": [...], "padded": [...] or None}``."""
        if not prepared_list:
            return {"as_is": np.zeros(0), "padded": None if self.pad_to is None else np.zeros(0)}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # fewer frames than the model's window: classified as they are
            as_is = np.atleast_1d(self.clf.predict_proba(list(prepared_list)))
            padded = None
            if self.pad_to is not None:
                padded = np.atleast_1d(self.clf.predict_proba([self._pad(p, self.pad_to) for p in prepared_list]))
        self.n_scored += len(prepared_list)
        return {"as_is": as_is, "padded": padded}


# --------------------------------------------------------------------------------------------------
# Title of a subject render: "# votes: 4.0 agreement: 0.50"


def _glyphs(binary):
    """Column ranges of the glyphs of a one-line binary text image (components merged when their columns overlap)."""
    from scipy import ndimage

    labels, n = ndimage.label(binary)
    spans = sorted((s[1].start, s[1].stop) for s in ndimage.find_objects(labels))
    merged = []
    for a, b in spans:
        if merged and a < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return merged


class TitleReader:
    """Read the vote line above a subject render by matching digit glyphs against matplotlib's own font."""

    def __init__(self):
        self.templates = None

    def _make_templates(self, digit_height):
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib.figure import Figure
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        best = None
        for size in np.arange(10, 30, 0.5):
            fig = Figure(figsize=(4, 0.6), dpi=100)
            FigureCanvasAgg(fig)
            fig.text(0.01, 0.2, "0123456789", fontsize=size)
            fig.canvas.draw()
            img = np.asarray(fig.canvas.buffer_rgba())[..., 0] < 128
            rows = np.nonzero(img.any(1))[0]
            if not len(rows):
                continue
            height = rows.max() - rows.min() + 1
            if best is None or abs(height - digit_height) < abs(best[0] - digit_height):
                glyphs = _glyphs(img)
                if len(glyphs) == 10:
                    best = (height, [img[rows.min() : rows.max() + 1, a:b] for a, b in glyphs])
        self.templates = best[1] if best else None

    @staticmethod
    def _resize(glyph, shape):
        from PIL import Image

        im = Image.fromarray((glyph * 255).astype(np.uint8)).resize((shape[1], shape[0]), Image.BILINEAR)
        return np.asarray(im, dtype=float) / 255

    def read(self, path):
        """``(votes, agreement)`` or ``(None, None)`` when the line cannot be parsed."""
        from PIL import Image

        with Image.open(path) as im:
            gray = np.asarray(im.convert("L"), dtype=float)
        top = gray[:60] < 128
        rows = np.nonzero(top.any(1))[0]
        if not len(rows):
            return None, None
        line = top[rows.min() : rows.max() + 1]
        glyphs = _glyphs(line)
        # digits: the glyphs whose ink reaches the cap line and not below the baseline, and stand apart
        # from letters by matching; the line is "# votes: A[A].B agreement: C.DD"
        if len(glyphs) < 24:
            return None, None
        heights = []
        for a, b in glyphs:
            r = np.nonzero(line[:, a:b].any(1))[0]
            heights.append((r.min(), r.max()))
        # the last glyph is a digit: its rows are the digit rows
        d_top, d_bot = heights[-1]
        if self.templates is None:
            self._make_templates(d_bot - d_top + 1)
            if self.templates is None:
                return None, None

        def classify(a, b):
            g = line[d_top : d_bot + 1, a:b].astype(float)
            scores = []
            for t in self.templates:
                r = self._resize(g, t.shape)
                tt = t.astype(float)
                scores.append(-np.abs(r - tt).mean() - 0.02 * abs(g.shape[1] - t.shape[1]))
            return int(np.argmax(scores))

        def number(span):
            text = ""
            for a, b in span:
                r0, r1 = np.nonzero(line[:, a:b].any(1))[0][[0, -1]]
                if r1 - r0 < 0.4 * (d_bot - d_top):  # the decimal point
                    text += "."
                else:
                    text += str(classify(a, b))
            return float(text)

        try:
            agreement = number(glyphs[-4:])
            # votes: between "votes:" (glyph 7 is its colon) and "agreement:" (10 glyphs before the last 4)
            votes = number(glyphs[7 : len(glyphs) - 14])
        except ValueError:
            return None, None
        return votes, agreement


# --------------------------------------------------------------------------------------------------
# Data


def read_fits_sequence(folder):
    import sunpy.map

    files = sorted(Path(folder).glob("*.fits"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sunpy.map.Map(files, sequence=True)


def read_helioviewer(path):
    """A Helioviewer JPEG 2000 AIA 304 frame as a sunpy map in DN (Helioviewer's log scaling inverted)."""
    import glymur
    from PIL import Image

    import sunpy.map

    jp2 = glymur.Jp2k(str(path))
    xml = next(b for b in jp2.box if b.box_id == "xml ").xml
    root = xml.getroot() if hasattr(xml, "getroot") else xml
    fits = root if root.tag == "fits" else root.find(".//fits")
    header = {}
    for child in fits:
        text = (child.text or "").strip()
        for cast in (int, float):
            try:
                header[child.tag.lower()] = cast(text)
                break
            except ValueError:
                continue
        else:
            header[child.tag.lower()] = text
    with Image.open(path) as im:  # Pillow decodes JPEG 2000 with its own OpenJPEG
        byte = np.asarray(im, dtype=float)[::-1]  # FITS row order
    exptime = float(header.get("exptime", 2.9))
    lo, hi = np.log10(HV_LOG_MIN), np.log10(HV_LOG_MAX)
    dn = 10 ** (lo + byte / 255.0 * (hi - lo)) * exptime
    for key in [k for k in header if k.startswith("hv_") or k in ("history", "comment")]:
        header.pop(key)
    header["bunit"] = "DN"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = sunpy.map.Map(dn.astype(np.float32), header)
        # The header places the observer in Carrington coordinates, which sunpy converts (slowly) at every
        # use: give it in Stonyhurst once, so that crops with other DATE-OBS keep the same observer.
        obs = m.observer_coordinate
        for k in ("crln_obs", "crlt_obs"):
            header.pop(k, None)
        header.update(hgln_obs=obs.lon.to_value("deg"), hglt_obs=obs.lat.to_value("deg"), dsun_obs=obs.radius.to_value("m"))
        return sunpy.map.Map(dn.astype(np.float32), header)


def crop_centres(full, *, limb=1.05, margin=30.0):
    """Centres (arcsec) of 300″ crops on a 300″ grid over a full-disk map, within ``limb`` R_sun and the image."""
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    rsun = solar_radius(full)
    scale = full.scale.axis1.to_value(u.arcsec / u.pix)
    half_px = int(round((BOX / 2 + margin) / scale))
    out = []
    for cx in np.arange(-3, 4) * BOX:
        for cy in np.arange(-3, 4) * BOX:
            if np.hypot(cx, cy) > limb * rsun:
                continue
            centre = SkyCoord(cx * u.arcsec, cy * u.arcsec, frame=full.coordinate_frame)
            px, py = (int(round(float(v))) for v in full.wcs.world_to_pixel(centre))
            if px - half_px < 0 or py - half_px < 0 or px + half_px > full.data.shape[1] or py + half_px > full.data.shape[0]:
                continue
            out.append((float(cx), float(cy)))
    return out


def static_crop(full, cx, cy, *, rng, n_frames=WINDOW, cadence_s=24.0, margin=30.0):
    """
    One 300″ crop (plus a margin) of a full-disk map as ``n_frames`` maps: held still on the sky while the
    Sun's content rotates (shifted by the differential rotation of the crop centre, linear in time) and with
    shot noise (Gaussian, variance = DN).
    """
    import astropy.units as u
    from astropy.coordinates import SkyCoord
    from scipy import ndimage

    import sunpy.map
    from sunpy.physics.differential_rotation import solar_rotate_coordinate

    rsun = solar_radius(full)
    scale = full.scale.axis1.to_value(u.arcsec / u.pix)
    half_px = int(round((BOX / 2 + margin) / scale))
    centre = SkyCoord(cx * u.arcsec, cy * u.arcsec, frame=full.coordinate_frame)
    px, py = (int(round(float(v))) for v in full.wcs.world_to_pixel(centre))
    x0, y0 = px - half_px, py - half_px
    region = np.asarray(full.data[y0 : py + half_px, x0 : px + half_px], dtype=float)
    span = (n_frames - 1) * cadence_s
    vx = vy = 0.0  # pixels per second
    if np.hypot(cx, cy) < 0.98 * rsun:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            moved = solar_rotate_coordinate(centre, time=full.date + span * u.s)
        vx = (moved.Tx - centre.Tx).to_value(u.arcsec) / scale / span
        vy = (moved.Ty - centre.Ty).to_value(u.arcsec) / scale / span
        if not (np.isfinite(vx) and np.isfinite(vy)):
            vx = vy = 0.0
    maps = []
    for i in range(n_frames):
        t = full.date + i * cadence_s * u.s
        shift = (vy * i * cadence_s, vx * i * cadence_s)
        data = ndimage.shift(region, shift, order=1, mode="nearest") if i and (vx or vy) else region.copy()
        data = data + rng.normal(size=data.shape) * np.sqrt(np.clip(data, 0, None))
        header = dict(full.meta)
        header["crpix1"] = full.meta["crpix1"] - x0
        header["crpix2"] = full.meta["crpix2"] - y0
        header["naxis1"], header["naxis2"] = data.shape[1], data.shape[0]
        header["date-obs"] = t.isot
        header.pop("t_obs", None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            maps.append(sunpy.map.Map(data.astype(np.float32), header))
    # the centre in the crop's own frame: an off-limb point cannot be transformed between observers
    own = SkyCoord(cx * u.arcsec, cy * u.arcsec, frame=maps[0].coordinate_frame)
    return {"center": own, "r_over_rsun": float(np.hypot(cx, cy) / rsun), "maps": maps,
            "rotation_shift_arcsec": round(float(np.hypot(vx, vy) * span * scale), 2)}  # fmt: skip


# --------------------------------------------------------------------------------------------------
# The evaluation parts


def evaluate_subjects(scorer, realdata, indices, box_step, log):
    """Rows of per-subject scores for the subjects at ``indices`` of subjects.csv."""
    import astropy.units as u

    from sunpy_jets.datasets import read_subject_calibration, read_subject_render

    folder = Path(realdata) / "sjh_subjects"
    subjects = [read_subject_calibration(folder / "subjects.csv")[i] for i in indices]
    titles = TitleReader()
    rows = []
    for k, s in enumerate(subjects):
        seq = read_subject_render(folder / s.name, s)
        jet = (s.starting_jets or s.jets or (None,))[0]
        centre = jet.base if jet is not None else s.center
        m0 = seq[0]
        centre = centre.transform_to(m0.coordinate_frame) if jet is not None else m0.center
        base_inside = True
        if jet is not None:  # a matched catalogue base can lie outside the render: take the nearest point inside
            px, py = (float(v) for v in m0.wcs.world_to_pixel(centre))
            ny, nx = m0.data.shape
            cx, cy = min(max(px, 0.0), nx - 1.0), min(max(py, 0.0), ny - 1.0)
            if (cx, cy) != (px, py):
                base_inside = False
                centre = m0.wcs.pixel_to_world(cx, cy)
        field_centre = m0.center
        extent = u.Quantity([m0.data.shape[1] * m0.scale.axis1 * u.pix, m0.data.shape[0] * m0.scale.axis2 * u.pix])
        boxes = box_centres(field_centre, extent, box_step)
        prepared = [scorer.prepare(seq, c) for c in [centre, *boxes]]
        p = scorer.score(prepared)
        votes, agreement = titles.read(folder / s.name)
        rsun = solar_radius(m0)
        row = {
            "subject": s.name,
            "t0": s.t0.isot,
            "votes": votes,
            "agreement": agreement,
            "catalogued_jet": jet.sjh_id if jet is not None else None,
            "jet_starts_here": bool(s.starting_jets),
            "n_catalogued_jets": len(s.jets),
            "box_center_arcsec": [round(centre.Tx.to_value(u.arcsec), 1), round(centre.Ty.to_value(u.arcsec), 1)],
            "box_on": ("catalogue base point" if base_inside else "catalogue base point (outside the render: nearest point inside)")
            if jet is not None else "subject centre",
            "r_over_rsun": round(radial_fraction(centre, rsun), 3),
            "limb": radial_fraction(centre, rsun) >= LIMB_FRACTION,
            "jet_height_arcsec": None if jet is None or not np.isfinite(jet.max_height.value) else float(jet.max_height.value),
            "field_arcsec": [round(float(v), 1) for v in extent.to_value(u.arcsec)],
            "render_pixel_arcsec": round(float(m0.scale.axis1.value), 4),
            "n_boxes": len(boxes),
            "p_center": round(float(p["as_is"][0]), 5),
            "p_best": round(float(p["as_is"].max()), 5),
        }
        if p["padded"] is not None:
            row["p_center_padded"] = round(float(p["padded"][0]), 5)
            row["p_best_padded"] = round(float(p["padded"].max()), 5)
        rows.append(row)
    log(f"  subjects {indices[0]}-{indices[-1]}: done")
    return rows


def evaluate_dynamic(scorer, realdata, box_step, n_inject, seed, log):
    """
    Every 15-frame window and every box of the dynamic scenes, in the FITS and render domains; then
    ``n_inject`` independent jets injected into jipparchus windows.
    """
    from sunpy_jets.datasets import render_sequence

    samples = []  # (scene, domain, window, box, p) ...
    scenes_out, store = {}, {}
    for scene, rel in DYNAMIC_SCENES.items():
        folder = Path(realdata) / rel
        if not folder.is_dir():
            log(f"  {scene}: {folder} missing, skipped")
            continue
        fits = read_fits_sequence(folder)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rendered = render_sequence(fits, **RENDER_OPTIONS)
        m0 = fits[0]
        import astropy.units as u

        extent = u.Quantity([m0.data.shape[1] * m0.scale.axis1 * u.pix, m0.data.shape[0] * m0.scale.axis2 * u.pix])
        boxes = box_centres(m0.center, extent, box_step)
        info = {"frames": len(fits), "first": fits[0].date.isot, "last": fits[-1].date.isot, "boxes": len(boxes),
                "field_arcsec": [round(float(v), 1) for v in extent.to_value(u.arcsec)]}  # fmt: skip
        for domain, seq in (("fits", fits), ("render", rendered)):
            for b, centre in enumerate(boxes):
                as_is = scorer.scan_windows(seq, centre)
                prepared = None
                if as_is is None or scorer.pad_to is not None:
                    prepared = scorer.prepare(seq, centre)
                    n = len(prepared.frames)
                    starts = list(range(0, n - WINDOW + 1)) or [0]  # a shorter sequence is one (short) window
                    p = scorer.score([scorer.window(prepared, s) for s in starts])
                    padded = p["padded"]
                    if as_is is None:
                        as_is = p["as_is"]
                else:
                    padded = None
                span = (seq[-1].date - seq[0].date).to_value(u.s)
                frames = min(WINDOW, int(span / scorer.clf.config.cadence.to_value(u.s) + 0.1) + 1)  # the package's grid
                for w, prob in enumerate(as_is):
                    samples.append({"scene": scene, "domain": domain, "window": w, "box": b, "frames": frames,
                                    "p": float(prob), "p_padded": None if padded is None else float(padded[w])})  # fmt: skip
                info["windows"] = len(as_is)
                info["window_frames"] = frames
        if "jipparchus" in scene:
            store[scene] = {"fits": fits, "rendered": rendered}
            info["scan_vs_predict_proba_max_difference"] = scorer.check_scan_matches(fits, m0.center)
        # The model's own 30-frame windows over the whole calibrated sequence, as a user would scan it.
        if len(fits) >= 2:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    table = scorer.clf.scan(fits, center=m0.center, progress=False)
                probs = np.asarray(table["probability"], dtype=float)
                info["native_scan_fits"] = {"windows": len(probs), **rate(probs, scorer.clf.threshold), **summary(probs)}
            except Exception as e:  # noqa: BLE001  (a sequence too short for a model window)
                info["native_scan_fits"] = {"error": str(e)}
        scenes_out[scene] = info
        log(f"  {scene}: {info['windows']} windows x {len(boxes)} boxes")
    injected = []
    if n_inject and "jipparchus_2012-07-19" in store:
        injected = inject_dynamic(scorer, store["jipparchus_2012-07-19"], n_inject, np.random.default_rng(seed))
        log(f"  injected into jipparchus windows: {len(injected)}")
    return samples, scenes_out, injected


def evaluate_static(scorer, realdata, file, jobs, log):
    """
    Static crops of one Helioviewer frame: ``jobs`` is a list of ``(cx, cy, seed, inject)``; each crop is scored
    in both domains, and where ``inject`` is true an independent jet is injected into it as well.
    """
    from sunpy_jets.datasets import render_sequence

    full = read_helioviewer(Path(realdata) / STATIC_FRAMES / file)
    samples, injected = [], []
    for cx, cy, seed, do_inject in jobs:
        rng = np.random.default_rng(seed)
        c = static_crop(full, cx, cy, rng=rng)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rendered = render_sequence(c["maps"], **RENDER_OPTIONS)
        p = scorer.score([scorer.prepare(c["maps"], c["center"]), scorer.prepare(rendered, c["center"])])
        for d, domain in enumerate(("fits", "render")):
            samples.append({"scene": file, "domain": domain, "r_over_rsun": round(c["r_over_rsun"], 3),
                            "center_arcsec": [round(c["center"].Tx.value), round(c["center"].Ty.value)],
                            "rotation_shift_arcsec": c["rotation_shift_arcsec"],
                            "p": float(p["as_is"][d]),
                            "p_padded": None if p["padded"] is None else float(p["padded"][d])})  # fmt: skip
        if do_inject:
            injected.append(inject_static(scorer, c, float(p["as_is"][0]), float(p["as_is"][1]), rng,
                                          f"{file} crop at {cx:.0f},{cy:.0f}"))  # fmt: skip
    log(f"  {file}: {len(jobs)} crops ({sum(j[3] for j in jobs)} with an injected jet)")
    return samples, injected


def _maps_with(maps, stack):
    import sunpy.map

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [sunpy.map.Map(d.astype(np.float32), m.meta) for m, d in zip(maps, stack)]


def _outward(m, row, col):
    """Direction away from disk centre at an array point (radians from +column towards +row; FITS rows grow with y)."""
    import astropy.units as u

    c = m.wcs.pixel_to_world(col, row)
    return math.atan2(c.Ty.to_value(u.arcsec), c.Tx.to_value(u.arcsec))


def _base_point(m, centre, rng):
    """A random base point within the central 120″ of the box at ``centre`` (array row, column)."""
    import astropy.units as u

    px, py = (float(v) for v in m.wcs.world_to_pixel(centre))
    off = rng.uniform(-60, 60, size=2) / m.scale.axis1.to_value(u.arcsec / u.pix)
    return py + off[1], px + off[0]


def inject_static(scorer, crop, p_fits, p_render, rng, label):
    """One independent jet in a static crop, scored in both domains against the crop's own scores."""
    import astropy.units as u

    from independent_injector import draw_jet, inject
    from sunpy_jets.datasets import render_sequence

    maps = crop["maps"]
    m = maps[0]
    stack = np.stack([np.asarray(x.data, dtype=float) for x in maps])
    times = np.array([(x.date - m.date).to_value(u.s) for x in maps])
    row, col = _base_point(m, crop["center"], rng)
    jet = draw_jet(rng, base=(row, col), pixel_scale=m.scale.axis1.to_value(u.arcsec / u.pix),
                   duration=float(times[-1]), outward=_outward(m, row, col))  # fmt: skip
    injected = _maps_with(maps, inject(stack, times, jet, rng=rng))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rendered = render_sequence(injected, **RENDER_OPTIONS)
    p = scorer.score([scorer.prepare(injected, crop["center"]), scorer.prepare(rendered, crop["center"])])
    return {"background": label, "kind": "static", "jet": jet.to_dict(),
            "fits": {"with": float(p["as_is"][0]), "without": p_fits},
            "render": {"with": float(p["as_is"][1]), "without": p_render}}  # fmt: skip


def inject_dynamic(scorer, store, n, rng):
    """``n`` independent jets injected into random 15-frame windows of the jipparchus sequence, both domains."""
    import astropy.units as u

    from independent_injector import draw_jet, inject
    from sunpy_jets.datasets import render_sequence

    fits, rendered_clean = store["fits"], store["rendered"]
    m = fits[0]
    centre = m.center
    clean_f = scorer.prepare(fits, centre)
    clean_r = scorer.prepare(rendered_clean, centre)
    stack = np.stack([np.asarray(x.data, dtype=float) for x in fits])
    times = np.array([(x.date - m.date).to_value(u.s) for x in fits])
    cadence = scorer.clf.config.cadence.to_value(u.s)
    n_model = len(clean_f.frames)
    results = []
    for _ in range(n):
        start = int(rng.integers(0, max(1, n_model - WINDOW + 1)))
        row, col = _base_point(m, centre, rng)
        jet = draw_jet(rng, base=(row, col), pixel_scale=m.scale.axis1.to_value(u.arcsec / u.pix),
                       duration=(WINDOW - 1) * cadence, outward=_outward(m, row, col))  # fmt: skip
        jet = dataclasses.replace(jet, start=jet.start + start * cadence)
        injected = _maps_with(fits, inject(stack, times, jet, rng=rng))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rendered = render_sequence(injected, **RENDER_OPTIONS)
        wf = scorer.window(scorer.prepare(injected, centre), start)
        wr = scorer.window(scorer.prepare(rendered, centre), start)
        p = scorer.score([wf, wr, scorer.window(clean_f, start), scorer.window(clean_r, start)])
        results.append({"background": f"jipparchus window {start}", "kind": "dynamic", "jet": jet.to_dict(),
                        "fits": {"with": float(p["as_is"][0]), "without": float(p["as_is"][2])},
                        "render": {"with": float(p["as_is"][1]), "without": float(p["as_is"][3])}})  # fmt: skip
    return results


# --------------------------------------------------------------------------------------------------
# Tasks, run in this process or in a pool of worker processes

_WORKER = {}
#: Options of every `render_sequence` call (``--render-blur``), set in each process by `_init_worker`.
RENDER_OPTIONS = {}


def _init_worker(weights, threads, pad_to, render_blur=None):
    import torch

    if render_blur:
        import astropy.units as u

        RENDER_OPTIONS["blur"] = render_blur * u.arcsec

    torch.set_num_threads(threads)
    from sunpy_jets import JetClassifier

    clf = JetClassifier.from_pretrained(weights, device="cpu", progress=False, batch_size=4)
    _WORKER["scorer"] = Scorer(clf, pad_to=pad_to)


def _log_worker(msg):
    print(f"[pid {os.getpid()}] {msg}", flush=True)


def _run_task(task):
    kind, payload = task
    scorer = _WORKER["scorer"]
    before = scorer.n_scored
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "subjects":
            out = evaluate_subjects(scorer, *payload, _log_worker)
        elif kind == "dynamic":
            out = evaluate_dynamic(scorer, *payload, _log_worker)
        else:
            out = evaluate_static(scorer, *payload, _log_worker)
    return kind, out, scorer.n_scored - before


def plan_tasks(realdata, args):
    """The work as independent tasks (longest first), with every random draw fixed by ``--seed``."""
    from sunpy_jets.datasets import read_subject_calibration

    seeds = np.random.SeedSequence(args.seed)
    dyn_seed, static_seed = (int(x.generate_state(1)[0]) for x in seeds.spawn(2))
    rng = np.random.default_rng(static_seed)
    n_static_inject = args.n_inject // 2
    tasks = [("dynamic", (str(realdata), args.box_step, args.n_inject - n_static_inject, dyn_seed))]
    crops = []
    for f in sorted((Path(realdata) / STATIC_FRAMES).glob("*.jp2")):
        centres = crop_centres_of_file(f)
        if args.n_static and len(centres) > args.n_static:
            centres = [centres[i] for i in np.sort(rng.choice(len(centres), args.n_static, replace=False))]
        crops += [(f.name, cx, cy) for cx, cy in centres]
    inject_at = set(rng.choice(len(crops), min(n_static_inject, len(crops)), replace=False).tolist()) if crops else set()
    crop_seeds = rng.integers(0, 2**63, size=len(crops))
    per_file = {}
    for i, (name, cx, cy) in enumerate(crops):
        per_file.setdefault(name, []).append((cx, cy, int(crop_seeds[i]), i in inject_at))
    chunk = max(1, args.chunk)
    for name, jobs in per_file.items():
        for k in range(0, len(jobs), chunk):
            tasks.append(("static", (str(realdata), name, jobs[k : k + chunk])))
    n_subjects = len(read_subject_calibration(Path(realdata) / "sjh_subjects" / "subjects.csv"))
    if args.limit_subjects:
        n_subjects = min(n_subjects, args.limit_subjects)
    for k in range(0, n_subjects, 2 * chunk):
        tasks.append(("subjects", (str(realdata), list(range(k, min(n_subjects, k + 2 * chunk))), args.box_step)))
    return tasks


def crop_centres_of_file(path):
    """The crop centres of a Helioviewer file (reads only its header and a decoded frame once)."""
    return crop_centres(read_helioviewer(path))


# --------------------------------------------------------------------------------------------------
# Report


def recall_block(rows, key, threshold):
    return rate([r[key] for r in rows], threshold)


def build_report(clf, subjects, dyn, dyn_scenes, static, injected, args, rng, key="p"):
    thr = clf.threshold
    center_key, best_key = ("p_center", "p_best") if key == "p" else ("p_center_padded", "p_best_padded")
    sample_key = "p" if key == "p" else "p_padded"
    groups = {
        "catalogued_jet_starting_in_subject": [r for r in subjects if r["jet_starts_here"]],
        "any_catalogued_jet": [r for r in subjects if r["n_catalogued_jets"]],
        "all_voted_subjects": subjects,
    }
    recall = {}
    for name, rows in groups.items():
        recall[name] = {"center_box": recall_block(rows, center_key, thr), "best_box": recall_block(rows, best_key, thr)}

    def by(rows, label_of):
        out = {}
        for r in rows:
            out.setdefault(label_of(r), []).append(r)
        return {k: {"center_box": recall_block(v, center_key, thr), "best_box": recall_block(v, best_key, thr)}
                for k, v in sorted(out.items(), key=lambda kv: str(kv[0]))}  # fmt: skip

    def agreement_bin(r):
        a = r["agreement"]
        if a is None:
            return "unread"
        return "agreement >= 0.8" if a >= 0.8 - 1e-9 else ("0.6 <= agreement < 0.8" if a >= 0.6 - 1e-9 else "agreement < 0.6")

    def votes_bin(r):
        v = r["votes"]
        return "unread" if v is None else ("votes <= 3" if v <= 3 else ("votes 4-6" if v <= 6 else "votes >= 7"))

    def height_bin(r):
        h = r["jet_height_arcsec"]
        if h is None:
            return "no catalogued height"
        return "height < 30 arcsec" if h < 30 else ("30-60 arcsec" if h < 60 else "height >= 60 arcsec")

    recall["by_agreement"] = by(subjects, agreement_bin)
    recall["by_votes"] = by(subjects, votes_bin)
    recall["by_location"] = by(subjects, lambda r: "limb" if r["limb"] else "on disk")
    recall["by_jet_height"] = by(subjects, height_bin)

    def nonjet(samples, domain):
        s = [x for x in samples if x["domain"] == domain and x[sample_key] is not None]
        p = np.array([x[sample_key] for x in s])
        per_window = {}
        for x in s:
            per_window.setdefault((x["scene"], x.get("window", x.get("center_arcsec") and tuple(x["center_arcsec"]))), []).append(x[sample_key])
        best = np.array([max(v) for v in per_window.values()])
        scenes = {}
        for x in s:
            scenes.setdefault(x["scene"], []).append(x[sample_key])
        return {
            "every_window_and_box": {**rate(p, thr), **summary(p)},
            "best_box_per_window": {**rate(best, thr), **summary(best)},
            "per_scene": {k: {**rate(v, thr), **summary(v)} for k, v in scenes.items()},
        }, p, best

    fpr, neg = {}, {}
    for kind, samples in (("dynamic", dyn), ("static", static)):
        for domain in ("render", "fits"):
            block, p, best = nonjet(samples, domain)
            fpr.setdefault(kind, {})[domain] = block
            neg[(kind, domain)] = (p, best)

    jets = groups["catalogued_jet_starting_in_subject"]
    allv = groups["all_voted_subjects"]
    auc = {}
    for jname, jrows in (("catalogued_jet_starting_in_subject", jets), ("all_voted_subjects", allv)):
        pc = np.array([r[center_key] for r in jrows])
        pb = np.array([r[best_key] for r in jrows])
        for kind in ("dynamic", "static"):
            for domain in ("render", "fits"):
                p, best = neg[(kind, domain)]
                auc.setdefault(jname, {}).setdefault(kind, {})[f"nonjets_{domain}"] = {
                    "center_box_vs_every_window_and_box": auc_with_ci(pc, p, rng=rng, n_boot=args.bootstrap),
                    "best_box_vs_best_box_per_window": auc_with_ci(pb, best, rng=rng, n_boot=args.bootstrap),
                }
    inj = {}
    if injected and key == "p":
        for domain in ("fits", "render"):
            w = np.array([r[domain]["with"] for r in injected])
            wo = np.array([r[domain]["without"] for r in injected])
            kinds = np.array([r["kind"] for r in injected])
            block = {"all": auc_with_ci(w, wo, rng=rng, n_boot=args.bootstrap),
                     "recall_injected": rate(w, thr), "fpr_backgrounds": rate(wo, thr),
                     "fraction_with_higher_score_than_own_background": round(float((w > wo).mean()), 4)}  # fmt: skip
            for k in ("static", "dynamic"):
                if (kinds == k).any():
                    block[k] = auc_with_ci(w[kinds == k], wo[kinds == k], rng=rng, n_boot=args.bootstrap)
            inj[domain] = block
    return {"recall": recall, "false_positive_rate": fpr, "roc_auc": auc, **({"injected": inj} if inj else {})}


def text_summary(report, threshold):
    r = report["as_is"]
    lines = [f"threshold {threshold:.4f}"]
    rec = r["recall"]
    for g in ("catalogued_jet_starting_in_subject", "all_voted_subjects"):
        c, b = rec[g]["center_box"], rec[g]["best_box"]
        lines.append(f"recall {g}: center box {c['rate']} {c['wilson_95']} (n={c['n']}), best box {b['rate']} {b['wilson_95']}")
    for kind in ("dynamic", "static"):
        for domain in ("render", "fits"):
            e = r["false_positive_rate"][kind][domain]["every_window_and_box"]
            lines.append(f"FPR {kind} {domain}: {e['rate']} {e['wilson_95']} (n={e['n']})")
    for kind in ("dynamic", "static"):
        a = r["roc_auc"]["catalogued_jet_starting_in_subject"][kind]["nonjets_render"]
        lines.append(f"AUC jets vs {kind} (render): center {a['center_box_vs_every_window_and_box']['auc']} "
                     f"{a['center_box_vs_every_window_and_box'].get('bootstrap_95')}, best "
                     f"{a['best_box_vs_best_box_per_window']['auc']} {a['best_box_vs_best_box_per_window'].get('bootstrap_95')}")  # fmt: skip
    if "injected" in r:
        for domain in ("fits", "render"):
            a = r["injected"][domain]["all"]
            lines.append(f"AUC injected vs same backgrounds ({domain}): {a['auc']} {a.get('bootstrap_95')} (n={a['n_pos']})")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", help="model directory written by JetClassifier.save (default: the bundled weights)")
    parser.add_argument("--realdata", default=str(REALDATA), help="the shared realdata folder")
    parser.add_argument("--out", default=None,
                        help="JSON report (default: scripts/results/real_data_<weights>_<sha256[:8]>.json)")  # fmt: skip
    parser.add_argument("--box-step", type=float, default=100.0, help="grid step of the 300 arcsec boxes (arcsec)")
    parser.add_argument("--n-static", type=int, default=0, help="static crops per full-disk frame (0: all)")
    parser.add_argument("--n-inject", type=int, default=60, help="injected jets (half static crops, half jipparchus)")
    parser.add_argument("--bootstrap", type=int, default=2000, help="bootstrap resamples for AUC intervals")
    parser.add_argument("--pad-to", type=int, default=None, help="also score every sequence padded to this many frames")
    parser.add_argument("--limit-subjects", type=int, default=0, help="only the first N subjects (quick checks)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is faster for the many small operations here, and under load)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (each with --threads torch threads)")
    parser.add_argument("--chunk", type=int, default=8, help="static crops per task (twice as many subjects)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--render-blur", type=float, default=0.6, metavar="ARCSEC",
                        help="blur every frame by a Gaussian of this sigma before the render (render_sequence blur): "
                        "0.6 (the default since the ninth session) makes the dynamic non-jet scenes as sharp at the "
                        "model's scale as the subjects (scripts/render_sharpness.py); 0 renders them sharp, as the "
                        "reports before the eighth session did; 1.8 was the eighth session's default")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    from sunpy_jets import JetClassifier, __version__

    realdata = Path(args.realdata)
    if not (realdata / "sjh_subjects" / "subjects.csv").is_file():
        parser.error(f"{realdata} holds no sjh_subjects/subjects.csv: give --realdata, the shared realdata folder")
    started = time.perf_counter()

    def log(msg):
        print(f"[{time.perf_counter() - started:6.1f} s] {msg}", flush=True)

    clf = JetClassifier.from_pretrained(args.weights, device="cpu", progress=False, batch_size=4)
    log(f"model: {clf.card.name} (threshold {clf.threshold:.4f}); {args.jobs} process(es)")
    tasks = plan_tasks(realdata, args)
    log(f"{len(tasks)} tasks")
    results = []
    if args.jobs <= 1:
        _init_worker(args.weights, args.threads, args.pad_to, args.render_blur)
        for t in tasks:
            results.append(_run_task(t))
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        ctx = multiprocessing.get_context("spawn")  # no torch state inherited across fork
        with ProcessPoolExecutor(args.jobs, mp_context=ctx, initializer=_init_worker,
                                 initargs=(args.weights, args.threads, args.pad_to, args.render_blur)) as pool:  # fmt: skip
            for r in pool.map(_run_task, tasks):
                results.append(r)
    log("all tasks done")
    subjects, dyn, static, injected, dyn_scenes = [], [], [], [], {}
    counts = {}
    for kind, out, n_scored in results:
        counts[kind] = counts.get(kind, 0) + n_scored
        if kind == "subjects":
            subjects += out
        elif kind == "dynamic":
            dyn += out[0]
            dyn_scenes.update(out[1])
            injected += out[2]
        else:
            static += out[0]
            injected += out[1]
    injected.sort(key=lambda r: r["kind"] != "static")

    report_rng = np.random.default_rng(args.seed + 1)
    as_is = build_report(clf, subjects, dyn, dyn_scenes, static, injected, args, report_rng)
    weights_name = Path(args.weights).name if args.weights else "bundled"
    command = "python scripts/evaluate_real_data.py " + " ".join(argv if argv is not None else sys.argv[1:])
    report = {
        "command": command.strip(),
        "model": {"name": clf.card.name, "source": args.weights or "bundled (JetClassifier.from_pretrained())",
                  "sha256": getattr(clf.card, "sha256", None), "threshold": clf.threshold,
                  "n_frames": clf.config.n_frames, "cadence_s": clf.config.cadence.to_value("s")},  # fmt: skip
        "environment": {"sunpy_jets": __version__, "torch": torch.__version__, "threads": args.threads,
                        "python": platform.python_version(), "machine": platform.machine()},  # fmt: skip
        "settings": {k: v for k, v in vars(args).items() if k not in ("realdata", "out")},
        "definitions": {
            "window": f"{WINDOW} frames at 24 s (the subjects' length); the model's window is {clf.config.n_frames}",
            "box": f"{BOX:.0f} arcsec square (the model's field), boxes on a {args.box_step:.0f} arcsec grid from the field centre, centred inside the field and covering >= 60 % of the field or box",
            "limb": f"box centre (catalogue base or subject centre) at >= {LIMB_FRACTION} R_sun from disk centre",
            "render domain": "sdoaia304 colormap positions (8 bit) through the inverse asinh(0.01) stretch, x 1000 (read_subject_render / render_sequence defaults)",
            "fits domain": "calibrated frames as read (Helioviewer frames: 8-bit values through the inverse of Helioviewer's log10 scaling, 0.8-250 DN/s, times EXPTIME)",
            "static scenes": "300 arcsec crops on a 300 arcsec grid (centres within 1.05 R_sun) of the two Helioviewer full-disk frames, 15 frames at 24 s: content shifted by the differential rotation of the crop centre, Gaussian shot noise (variance = DN)",
        },
        "limitations": [
            "predict_proba classifies a sequence shorter than the model's window as it is (InputWarning); the subjects have 15 frames at 24 s, so every non-jet window is cut to 15 frames too (both classes have the same length). --pad-to 30 adds scores with every sequence padded by holding its last frame.",
            "The subjects are colour renders: their intensities are uncalibrated 8-bit render-domain values (per-frame display scaling unknown). Non-jet scenes are pushed through a matching render; comparisons of subjects with FITS-domain non-jets mix domains.",
            "Subjects whose field is smaller than 300 arcsec (zoomed renders, about 120 arcsec) are padded by the package's preprocessing (median fill).",
            "Non-jet windows overlap in time and come from three dynamic scenes and two full-disk frames; the intervals (Wilson, bootstrap over samples) treat them as independent and are too narrow.",
            "The pryoung level-0.5 sequence spans 84 s (4 frames at 24 s) and the level-1 one 3 frames 2 minutes apart: each gives one short window.",
            "The Helioviewer frames (2021, 2024) show AIA 304 after years of degradation: in the FITS domain they are several times dimmer than the 2011-2013 data the subjects come from; no degradation correction is applied.",
            "Votes and agreement are read from the line drawn above each render by matching matplotlib's digit glyphs; 'unread' where that failed.",
        ],
        "dynamic_scenes": dyn_scenes,
        "as_is": as_is,
    }
    if args.pad_to:
        report[f"padded_to_{args.pad_to}"] = build_report(clf, subjects, dyn, dyn_scenes, static, injected, args,
                                                          report_rng, key="padded")  # fmt: skip
    report["subjects"] = subjects
    report["nonjet_samples"] = {"dynamic": dyn, "static": static}
    report["injected_samples"] = injected
    report["counts"] = {"scored_windows": counts}
    report["wall_seconds"] = round(time.perf_counter() - started, 1)
    import resource

    cpu = sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
              for f in ("ru_utime", "ru_stime"))  # fmt: skip
    # On an otherwise idle machine the wall time is about the CPU time over the number of processes.
    report["cpu_seconds"] = round(cpu, 1)
    report["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    sha = (getattr(clf.card, "sha256", None) or "unknown")[:8]
    out = Path(args.out) if args.out else REPO / "scripts" / "results" / f"real_data_{weights_name}_{sha}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report, indent=1, default=lambda o: o.item() if hasattr(o, "item") else str(o)) + "\n")
    tmp.replace(out)
    print(text_summary(report, clf.threshold))
    log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
