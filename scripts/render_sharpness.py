#!/usr/bin/env python
"""
How sharp the model's input is, for the Solar Jet Hunter subjects and for real non-jet scenes rendered like them.

Chooses the blur with which ``scripts/evaluate_real_data.py --render-blur`` pushes real non-jet scenes through
``render_sequence`` so that they are as sharp as the subjects: comparing a jet in a smooth render with a non-jet
in a sharp one (or the reverse) measures the render, not the jet. The statistic is a spectral one, the
**sharpness index**: on each standardised 166² model frame (``JetClassifier.prepare`` at the box centre, the bundled
weights' preprocessing), the mean power at 0.25–0.5 cycles per pixel over the mean power at 0.05–0.15 cycles per
pixel (Hann window, mean removed), median over frames. A ratio of two bands does not depend on the scene's contrast,
and the Gaussian blur of a frame moves it steeply (its power falls as exp(-(2πkσ)²)). Usage (2 minutes)::

    python scripts/render_sharpness.py --out scripts/results/render_sharpness.json
    python scripts/render_sharpness.py --sampler /tmp/h17_work    # also the training sampler's scenes

It reports the index of the 65 subjects (on-disk and limb apart), and of the dynamic non-jet scenes of the
real-data evaluation (the jipparchus sequence's first and eleventh 15-frame windows; the pryoung level-1 frames)
as FITS and rendered with each blur of ``--blurs``, with the blur (interpolated in log index) at which each scene
reaches the subjects' median. The subjects carry the render's own 8-bit quantisation, which ``render_sequence``
reproduces, so the two are compared with the same noise floor.
"""

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from evaluate_real_data import DYNAMIC_SCENES, LIMB_FRACTION, read_fits_sequence, solar_radius  # noqa: E402

HIGH, MID = (0.25, 0.5), (0.05, 0.15)


def sharpness_index(frames):
    """Median over frames ``(T, 1, H, W)`` of the power at `HIGH` over the power at `MID` (cycles per pixel)."""
    x = np.asarray(frames, dtype=np.float64)[:, 0]
    ny, nx = x.shape[-2:]
    k = np.hypot(*np.meshgrid(np.fft.fftfreq(ny), np.fft.fftfreq(nx), indexing="ij"))
    high, mid = (k >= HIGH[0]) & (k < HIGH[1]), (k >= MID[0]) & (k < MID[1])
    window = np.hanning(ny)[:, None] * np.hanning(nx)[None]
    power = np.abs(np.fft.fft2((x - x.mean(axis=(-2, -1), keepdims=True)) * window)) ** 2
    return float(np.median(power[:, high].mean(axis=1) / power[:, mid].mean(axis=1)))


def matching_blur(blurs, indices, target):
    """The blur at which ``indices`` (falling with ``blurs``) reaches ``target``, interpolated in log index."""
    logs = np.log(indices)
    if not logs[-1] <= np.log(target) <= logs[0]:
        return None
    return float(np.interp(-np.log(target), -logs, blurs))


def sampler_sharpness(workdir, sigmas, config, *, n_batches=3, pairs=4, seed=5):
    """Median index of the realistic sampler's 15-frame scenes, unrendered, rendered, and blurred by each sigma."""
    import torch

    from sunpy_jets.synthetic.realistic import RenderAugment
    from train_default_weights import _standardize, make_sampler

    out = {}
    variants = [("not rendered", 0.0, 0.0, 0.0), ("rendered", 1.0, 0.0, 0.0)]
    variants += [(f"rendered, blurred {s:g} px", 1.0, 1.0, s) for s in sigmas]
    for label, p, blur, sigma in variants:
        sampler = make_sampler(workdir, seed=seed, device=torch.device("cpu"), n_frames=15)
        sampler.render = RenderAugment(p=p, blur=blur, blur_sigma=(sigma, sigma))
        values = [sharpness_index(seq[:, None].numpy())
                  for _ in range(n_batches) for seq in _standardize(sampler.sample(pairs, n_frames=15).frames, config)]
        out[label] = float(np.median(values))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--realdata", default=str(Path(__file__).resolve().parents[1] / ".." / "shared" / "realdata"))
    parser.add_argument("--blurs", type=float, nargs="+", default=[0.0, 0.3, 0.6, 0.9, 1.2, 1.8], metavar="ARCSEC")
    parser.add_argument("--sampler", metavar="WORKDIR",
                        help="also measure the training sampler's scenes (train_default_weights.py --prepare-only's "
                        "workdir): not rendered, rendered, and rendered after each blur of --sampler-sigmas")
    parser.add_argument("--sampler-sigmas", type=float, nargs="+", default=[0.2, 0.35, 0.5, 0.8, 1.0],
                        metavar="PIXELS")
    parser.add_argument("--out", help="JSON report")
    args = parser.parse_args(argv)
    import astropy.units as u

    from sunpy_jets import JetClassifier
    from sunpy_jets.datasets import read_subject_calibration, read_subject_render, render_sequence

    realdata = Path(args.realdata)
    clf = JetClassifier.from_pretrained(device="cpu", progress=False)
    report = {"statistic": f"median over frames of the mean power at {HIGH} over that at {MID} cycles per model pixel",
              "subjects": {}, "scenes": {}}  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        groups = {"on disk": [], "limb": []}
        folder = realdata / "sjh_subjects"
        for s in read_subject_calibration(folder / "subjects.csv"):
            seq = read_subject_render(folder / s.name, s)
            m0 = seq[0]
            r = float(np.hypot(m0.center.Tx.to_value(u.arcsec), m0.center.Ty.to_value(u.arcsec))) / solar_radius(m0)
            groups["on disk" if r < LIMB_FRACTION else "limb"].append(sharpness_index(clf.prepare(seq, center=m0.center).frames))
        every = groups["on disk"] + groups["limb"]
        for name, values in {**groups, "all": every}.items():
            report["subjects"][name] = {"n": len(values), "quartiles": np.percentile(values, [25, 50, 75]).tolist()}
        target = float(np.median(every))
        jip = list(read_fits_sequence(realdata / DYNAMIC_SCENES["jipparchus_2012-07-19"]))
        scenes = {"jipparchus window 0": jip[:15], "jipparchus window 10": jip[10:25],
                  "pryoung level 1": list(read_fits_sequence(realdata / DYNAMIC_SCENES["pryoung_2022-04-02_lev1"]))}  # fmt: skip
        for name, maps in scenes.items():
            centre = maps[0].center
            fits = sharpness_index(clf.prepare(maps, center=centre).frames)
            rendered = [sharpness_index(clf.prepare(render_sequence(maps, blur=b * u.arcsec if b else None),
                                                    center=centre).frames) for b in args.blurs]  # fmt: skip
            report["scenes"][name] = {"fits": fits, "rendered": dict(zip(map(str, args.blurs), rendered)),
                                      "blur_matching_subjects_arcsec": matching_blur(args.blurs, rendered, target)}
    if args.sampler:
        report["sampler"] = sampler_sharpness(args.sampler, args.sampler_sigmas, clf.config)
        print("sampler: " + ", ".join(f"{k} {v:.4f}" for k, v in report["sampler"].items()))
    print(f"subjects (median index {target:.4f}): " + "; ".join(
        f"{k} n={v['n']} quartiles {', '.join(f'{q:.4f}' for q in v['quartiles'])}" for k, v in report["subjects"].items()))
    for name, row in report["scenes"].items():
        print(f"{name}: FITS {row['fits']:.4f}; rendered " + ", ".join(f"{b}″ {v:.4f}" for b, v in row["rendered"].items())
              + f"; the subjects' median at {row['blur_matching_subjects_arcsec']}″")  # fmt: skip
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
