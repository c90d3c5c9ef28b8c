#!/usr/bin/env python
"""
Realism report: real AIA 304 Å frames against the generator's scenes, at the model's scale (1.8″/px, 166×166).

Compares, side by side,

* **real** frames: 300″ crops of the two Helioviewer full-disk frames (``helioviewer_jp2``), the pryoung
  level-1 cutouts (calibrated DN/s), and, for the change between frames, the jipparchus sequence (36 s) and
  the pryoung 12 s sequence (measurement only: nothing here trains on them);
* **realistic** scenes: `sunpy_jets.synthetic.realistic.SceneSampler` on real backgrounds (no jet, no hard
  negative, no render);
* **procedural** scenes: the same sampler on `procedural_images` backgrounds (what the package uses without
  real frames);
* the **previous generator**: `sunpy_jets.synthetic.make_sequence` quiet-Sun scenes at 1.8″/px.

Panels: example frames; the intensity histogram of on-disk pixels; the spatial power spectrum; the limb
profile; the frame-to-frame change against time lag. A small discriminator (logistic regression on 14
image statistics, 5-fold cross-validation) gives one figure per source: its accuracy at telling a single
real frame from a generated one (0.5 = indistinguishable). Run from the repository root::

    python scripts/realism_report.py --output docs/guide/realism_report.png
"""

import argparse
import glob
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

REALDATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "realdata"
SIZE = 166


def _crop(image, x, y, size=SIZE):
    x0, y0 = int(round(x - size / 2)), int(round(y - size / 2))
    return image[y0 : y0 + size, x0 : x0 + size]


def real_crops(bank, n, rng, *, limb=False):
    """``n`` on-disk (or limb) crops of the bank's full-disk images, with the radius map of each (r / R_sun)."""
    full = [k for k, im in enumerate(bank.images) if min(im.shape) > 2 * bank.geometry[k][2]]
    out = []
    while len(out) < n:
        k = full[rng.integers(len(full))]
        cx, cy, r = bank.geometry[k]
        rad = r * (rng.uniform(0.93, 1.05) if limb else np.sqrt(rng.uniform(0, 0.8**2)))
        ang = rng.uniform(0, 2 * np.pi)
        x, y = cx + rad * np.cos(ang), cy + rad * np.sin(ang)
        c = _crop(bank.images[k], x, y)
        if c.shape != (SIZE, SIZE) or not np.isfinite(c).all():
            continue
        yy, xx = np.mgrid[:SIZE, :SIZE]
        rr = np.hypot(xx + x - SIZE / 2 - cx, yy + y - SIZE / 2 - cy) / r
        out.append((c.astype(np.float32), rr))
    return out


def pryoung_frames():
    """Level-1 pryoung 304 Å cutouts at the model's scale (DN/s), with their radius maps."""
    import sunpy.map
    from sunpy.map import all_coordinates_from_map

    from sunpy_jets.synthetic.realframes import _pool_max

    out = []
    for f in sorted(glob.glob(str(REALDATA / "pryoung_papers" / "aia_bright_thread" / "*.fits"))):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = sunpy.map.Map(f)
            c = all_coordinates_from_map(m)
        r = (np.hypot(c.Tx, c.Ty) / m.rsun_obs).value
        out.append((_pool_max(m.data.astype(np.float32) / m.exposure_time.value, 3), r[1::3, 1::3][: m.data.shape[0] // 3, : m.data.shape[1] // 3]))
    return out


def real_sequences():
    """The jipparchus (36 s) and pryoung (12 s) sequences at the model's scale: ``{name: (frames, cadence)}``."""
    import sunpy.map

    from sunpy_jets.synthetic.realframes import _pool_max

    out = {}
    for name, pattern in (("jipparchus 304 (36 s)", "jipparchus_sun_data_visualisation/aia304/*.fits"),
                          ("pryoung 304 (12 s)", "pryoung_papers/aia_diff/*.fits")):  # fmt: skip
        files = sorted(glob.glob(str(REALDATA / pattern)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            maps = [sunpy.map.Map(f) for f in files]
        frames = np.array([_pool_max(m.data.astype(np.float32) / m.exposure_time.value, 3) for m in maps])
        cadence = float(np.median(np.diff([(m.date - maps[0].date).to_value("s") for m in maps])))
        out[name] = (frames, cadence)
    return out


def sampler_scenes(images, geometry, n, seed, *, limb_fraction):
    """Jet-free scenes of the sampler: ``(frames (n, T, H, W), [radius maps])``."""
    from sunpy_jets.synthetic.realistic import SceneSampler

    s = SceneSampler(images, geometry, seed=seed, negative_rate=0.0, render=None, limb_fraction=limb_fraction, n_frames=12)
    batch = s.sample(n)
    frames = batch.frames[1::2].numpy()
    radii = []
    for info in batch.info:
        k = info["image"]
        cx, cy, r = geometry[k]
        x, y = info["centre_px"]
        yy, xx = np.mgrid[:SIZE, :SIZE]
        radii.append(np.hypot(xx + x - SIZE / 2 - cx, yy + y - SIZE / 2 - cy) / r)
    return frames, radii


def old_generator(n, seed, *, limb):
    """Quiet-Sun scenes of `make_sequence` at 1.8″/px: ``(frames (n, T, H, W) DN/s, [radius maps])``."""
    import astropy.units as u
    from astropy.coordinates import SkyCoord
    from sunpy.map import all_coordinates_from_map

    from sunpy_jets.synthetic import make_sequence

    frames, radii = [], []
    rng = np.random.default_rng(seed)
    for i in range(n):
        kw = {}
        if limb is not None:
            seq0 = make_sequence(kind="quiet", seed=seed + i, n_frames=1, shape=(8, 8), scale=1.8 * u.arcsec / u.pix)
            m0 = seq0.maps[0]
            rs = m0.rsun_obs.to_value(u.arcsec)
            rad = rs * (rng.uniform(0.93, 1.05) if limb else np.sqrt(rng.uniform(0, 0.8**2)))
            ang = rng.uniform(0, 2 * np.pi)
            kw["center"] = SkyCoord(rad * np.cos(ang) * u.arcsec, rad * np.sin(ang) * u.arcsec, frame=m0.coordinate_frame)
        seq = make_sequence(kind="quiet", seed=seed + i, n_frames=12, shape=(SIZE, SIZE), scale=1.8 * u.arcsec / u.pix,
                            bad_frame_rate=0.0, **kw)  # fmt: skip
        maps = seq.maps.maps
        frames.append(np.array([m.data / m.exposure_time.to_value(u.s) for m in maps], dtype=np.float32))
        c = all_coordinates_from_map(maps[0])
        radii.append((np.hypot(c.Tx, c.Ty) / maps[0].rsun_obs).value)
    return np.array(frames), radii


def radial_power(img):
    """Azimuthally averaged power spectrum of ``img / mean - 1`` (frequencies in cycles per pixel)."""
    x = img / img.mean() - 1
    p = np.abs(np.fft.fftshift(np.fft.fft2(x * np.outer(np.hanning(x.shape[0]), np.hanning(x.shape[1]))))) ** 2
    ny, nx = x.shape
    yy, xx = np.mgrid[:ny, :nx]
    r = np.hypot(xx - nx // 2, yy - ny // 2).astype(int)
    prof = np.bincount(r.ravel(), p.ravel()) / np.maximum(np.bincount(r.ravel()), 1)
    k = np.arange(len(prof)) / nx
    return k[1 : nx // 2], prof[1 : nx // 2]


def limb_profile(pairs, bins):
    """Median intensity (relative to the on-disk median) in bins of r / R_sun."""
    vals, rs, disk = [], [], []
    for img, r in pairs:
        vals.append(img.ravel())
        rs.append(r.ravel())
    v, r = np.concatenate(vals), np.concatenate(rs)
    ref = np.median(v[r < 0.9]) if (r < 0.9).any() else np.median(v)
    idx = np.digitize(r, bins)
    return np.array([np.median(v[idx == i]) / ref if (idx == i).sum() > 50 else np.nan for i in range(1, len(bins))])


def change_vs_lag(frames, cadence, max_lag_s=300):
    """Median |x(t + lag) - x(t)| / median(x) against lag (s)."""
    lags, vals = [], []
    for lag in range(1, min(len(frames) - 1, int(max_lag_s // cadence)) + 1):
        d = np.abs(frames[lag:] - frames[:-lag])
        lags.append(lag * cadence)
        vals.append(float(np.median(d) / np.median(frames)))
    return np.array(lags), np.array(vals)


def features(img):
    """14 statistics of one frame for the discriminator (scale-free: relative to the frame's median)."""
    x = np.clip(img, 1e-3, None) / max(float(np.median(img)), 1e-3)
    lx = np.log(x)
    q = np.percentile(lx, [1, 10, 25, 75, 90, 99])
    gx, gy = np.gradient(lx)
    grad = np.hypot(gx, gy)
    lap = np.abs(4 * lx[1:-1, 1:-1] - lx[:-2, 1:-1] - lx[2:, 1:-1] - lx[1:-1, :-2] - lx[1:-1, 2:])
    k, p = radial_power(img)
    bands = [np.log(p[(k >= a) & (k < b)].mean() + 1e-12) for a, b in ((0.01, 0.05), (0.05, 0.15), (0.15, 0.3), (0.3, 0.5))]
    return np.array([*q, np.median(grad), np.percentile(grad, 90), np.median(lap), np.percentile(lap, 90), *bands])


def discriminator_accuracy(real, fake, seed=0):
    """5-fold cross-validated accuracy of a logistic regression telling real frames from generated ones."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = np.array([features(f) for f in list(real) + list(fake)])
    y = np.array([1] * len(real) + [0] * len(fake))
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    scores = cross_val_score(clf, X, y, cv=StratifiedKFold(5, shuffle=True, random_state=seed))
    return float(scores.mean()), float(scores.std())


def main(argv=None):
    global REALDATA
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--realdata", default=str(REALDATA))
    parser.add_argument("--workdir", default=".realistic", help="where train_default_weights --prepare-only wrote bank.npz")
    parser.add_argument("--n", type=int, default=80, help="scenes per source")
    parser.add_argument("--output", default="docs/guide/realism_report.png")
    parser.add_argument("--json", help="write the figures here too")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    REALDATA = Path(args.realdata)
    torch.set_num_threads(2)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sunpy_jets.synthetic import BackgroundBank
    from sunpy_jets.synthetic.realistic import procedural_images

    bank_path = Path(args.workdir) / "bank.npz"
    if not bank_path.exists():
        from train_default_weights import build_bank

        build_bank(args.realdata, args.workdir)
    bank = BackgroundBank.load(bank_path)
    real_idx = [k for k, n in enumerate(bank.names) if not n.startswith("procedural")]
    rng = np.random.default_rng(args.seed)
    n = args.n

    real_disk = real_crops(bank, n, rng)
    real_limb = real_crops(bank, n // 2, rng, limb=True)
    py = pryoung_frames()
    seqs = real_sequences()
    imgs = [bank.images[k] for k in real_idx]
    geo = bank.geometry[real_idx]
    full = [k for k, im in enumerate(imgs) if min(im.shape) > 2 * geo[k][2]]
    rl_disk, rl_disk_r = sampler_scenes([imgs[k] for k in full], geo[full], n, args.seed + 1, limb_fraction=0.0)
    rl_limb, rl_limb_r = sampler_scenes([imgs[k] for k in full], geo[full], n // 2, args.seed + 2, limb_fraction=1.0)
    pim, pgeo = procedural_images(16, size=200, seed=args.seed + 3)
    disk_k = [k for k in range(16) if k % 2 == 0]
    pr_disk, pr_disk_r = sampler_scenes([pim[k] for k in disk_k], pgeo[disk_k], n, args.seed + 4, limb_fraction=0.0)
    pr_limb, pr_limb_r = sampler_scenes(pim, pgeo, n // 2, args.seed + 5, limb_fraction=1.0)
    old_disk, old_disk_r = old_generator(n, 7_000_000, limb=False)
    old_limb, old_limb_r = old_generator(n // 2, 7_100_000, limb=True)

    sources = {
        "real (Helioviewer crops)": ([c for c, _ in real_disk], [c for c, _ in real_limb + real_disk]),
        "realistic (real backgrounds)": (list(rl_disk[:, 0]), list(rl_limb[:, 0]) + list(rl_disk[:, 0])),
        "procedural backgrounds": (list(pr_disk[:, 0]), list(pr_limb[:, 0]) + list(pr_disk[:, 0])),
        "previous generator": (list(old_disk[:, 0]), list(old_limb[:, 0]) + list(old_disk[:, 0])),
    }
    colours = {"real (Helioviewer crops)": "k", "realistic (real backgrounds)": "tab:blue",
               "procedural backgrounds": "tab:orange", "previous generator": "tab:red"}  # fmt: skip
    report = {"n_per_source": n, "discriminator": {}}
    real_frames = [c for c, _ in real_disk] + [c for c, _ in real_limb]
    for name, fake in (("realistic (real backgrounds)", list(rl_disk[:, 0]) + list(rl_limb[:, 0])),
                       ("procedural backgrounds", list(pr_disk[:, 0]) + list(pr_limb[:, 0])),
                       ("previous generator", list(old_disk[:, 0]) + list(old_limb[:, 0]))):  # fmt: skip
        report["discriminator"][name] = discriminator_accuracy(real_frames, fake, seed=args.seed)

    fig = plt.figure(figsize=(16, 10.5))
    grid = fig.add_gridspec(2, 4, height_ratios=[1, 1.05], hspace=0.32, wspace=0.28)
    examples = [("real (Helioviewer crop)", real_limb[0][0]), ("realistic (real background)", rl_limb[0, 0]),
                ("procedural background", pr_limb[1, 0]), ("previous generator", old_limb[0, 0])]  # fmt: skip
    for i, (title, img) in enumerate(examples):
        ax = fig.add_subplot(grid[0, i])
        ax.imshow(np.sqrt(np.clip(img, 0, 345)), origin="lower", cmap="sdoaia304" if "sdoaia304" in plt.colormaps() else "afmhot",
                  vmin=0, vmax=np.sqrt(min(345, np.percentile(img, 99.7))))  # fmt: skip
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    sub = grid[1, :].subgridspec(1, 4, wspace=0.3)

    ax = fig.add_subplot(sub[0])
    bins = np.logspace(-0.5, 3, 60)
    for name, (disk, _) in sources.items():
        v = np.concatenate([f.ravel() for f in disk])
        h, _ = np.histogram(np.clip(v, bins[0], bins[-1]), bins=bins, density=True)
        ax.step(bins[:-1], h * bins[:-1], where="post", color=colours[name], label=name)
    v = np.concatenate([f[r < 0.95].ravel() for f, r in py])
    h, _ = np.histogram(np.clip(v, bins[0], bins[-1]), bins=bins, density=True)
    ax.step(bins[:-1], h * bins[:-1], where="post", color="k", ls=":", label="real (pryoung level 1, DN/s)")
    ax.set_xscale("log")
    ax.set_xlabel("on-disk intensity (DN/s)")
    ax.set_ylabel("fraction per log bin")
    ax.set_title("intensity histogram (on disk)", fontsize=10)
    ax.legend(fontsize=7)

    ax = fig.add_subplot(sub[1])
    report["power_slope"] = {}
    for name, (disk, _) in sources.items():
        ps = np.array([radial_power(f)[1] for f in disk])
        k = radial_power(disk[0])[0]
        p = np.median(ps, axis=0)
        ax.loglog(k, p / p[0], color=colours[name], label=name)
        sel = (k > 0.02) & (k < 0.3)
        report["power_slope"][name] = float(np.polyfit(np.log(k[sel]), np.log(p[sel]), 1)[0])
    ax.set_xlabel("spatial frequency (cycles / 1.8″ pixel)")
    ax.set_ylabel("power (relative)")
    ax.set_title("spatial power spectrum (on disk)", fontsize=10)
    ax.legend(fontsize=7)

    ax = fig.add_subplot(sub[2])
    rb = np.linspace(0.85, 1.25, 41)
    rc = (rb[1:] + rb[:-1]) / 2
    limb_sets = {
        "real (Helioviewer crops)": real_limb + real_disk[:20],
        "realistic (real backgrounds)": list(zip(rl_limb[:, 0], rl_limb_r)) + list(zip(rl_disk[:20, 0], rl_disk_r[:20])),
        "procedural backgrounds": list(zip(pr_limb[:, 0], pr_limb_r)) + list(zip(pr_disk[:20, 0], pr_disk_r[:20])),
        "previous generator": list(zip(old_limb[:, 0], old_limb_r)) + list(zip(old_disk[:20, 0], old_disk_r[:20])),
    }
    report["limb_profile"] = {"r_over_rsun": rc.round(3).tolist()}
    for name, pairs in limb_sets.items():
        prof = limb_profile(pairs, rb)
        report["limb_profile"][name] = [None if not np.isfinite(v) else round(float(v), 4) for v in prof]
        ax.semilogy(rc, prof, color=colours[name], label=name)
    ax.axvline(1.0, color="0.7", lw=0.8)
    ax.set_xlabel("r / R_sun")
    ax.set_ylabel("median intensity / on-disk median")
    ax.set_title("limb profile", fontsize=10)
    ax.legend(fontsize=7)

    ax = fig.add_subplot(sub[3])
    report["frame_change"] = {}
    for name, (frames, cadence) in seqs.items():
        lags, vals = change_vs_lag(frames, cadence)
        report["frame_change"][name] = {"lag_s": lags.tolist(), "relative_change": vals.round(4).tolist()}
        ax.plot(lags, vals, "k" + ("o-" if "jipparchus" in name else "s:"), ms=3, label=f"real: {name}")
    for name, frames in (("realistic (real backgrounds)", rl_disk), ("procedural backgrounds", pr_disk), ("previous generator", old_disk)):
        curves = np.array([change_vs_lag(f, 24.0)[1] for f in frames[:20]])
        lags = change_vs_lag(frames[0], 24.0)[0]
        report["frame_change"][name] = {"lag_s": lags.tolist(), "relative_change": np.median(curves, 0).round(4).tolist()}
        ax.plot(lags, np.median(curves, 0), "o-", ms=3, color=colours[name], label=name)
    ax.set_xlabel("time lag (s)")
    ax.set_ylabel("median |x(t+lag) - x(t)| / median x")
    ax.set_title("frame-to-frame change", fontsize=10)
    ax.set_ylim(0, None)
    ax.legend(fontsize=7)

    d = report["discriminator"]
    fig.suptitle(
        "Real AIA 304 Å against generated scenes at the model's scale (1.8″/px, 300″ fields). Real-vs-generated "
        "discriminator accuracy (0.5 = indistinguishable): "
        + "; ".join(f"{k} {v[0]:.2f}" for k, v in d.items()),
        fontsize=10,
    )
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.output, dpi=80, bbox_inches="tight")
    print(json.dumps({k: v for k, v in report.items() if k in ("discriminator", "power_slope")}, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
