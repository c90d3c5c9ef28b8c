"""
Diagnostic: how the measured speed of a lone generated jet depends on how many frames its front takes to rise.

Each of ``--n`` jets (`~sunpy_jets.synthetic.JetParameters.random`, seeds 500 + i) is put alone, without hard
negatives or bad frames, at the centre of a 360″ field at the model's 1.8″ pixels and 24 s cadence, onset at the
9th frame of 30 minutes; the field is segmented (`~sunpy_jets.events.segment_jets`, no classifier) and the
segmented jet nearest the true base (within 20″) is compared with the truth. The report breaks the relative speed
error down by the time the front takes to reach the jet's height (height / speed, in frames): it measures the
measurement against the generator, not a result on real data.

Usage::

    nice python scripts/diagnose_speed.py --n 60 --json scripts/results/diagnose_speed_n60.json
"""

import argparse
import json
import time
import warnings

import numpy as np

import astropy.units as u

from sunpy_jets.events import cube_from_maps, segment_jets
from sunpy_jets.events._sky import sky_distance  # Tx/Ty distance, as the other validation scripts
from sunpy_jets.synthetic import JetEvent, JetParameters, make_observation

CADENCE = 24.0


def one(i):
    p = JetParameters.random(np.random.default_rng(500 + i))
    options = dict(duration=30 * u.min, n_distractors=0, shape=(200, 200), scale=1.8 * u.arcsec / u.pix,
                   bad_frame_rate=0, seed=900 + i)
    empty = make_observation(jets=[], **options)
    obs = make_observation(jets=[JetEvent(p, empty[0].center, empty.times[8])], lazy=False, **options)
    truth = obs.jets[0]
    row = {"i": i, "speed": p.speed.to_value(u.km / u.s), "height_Mm": p.height.to_value(u.Mm),
           "rise_frames": p.height.to_value(u.km) / p.speed.to_value(u.km / u.s) / CADENCE,
           "blowout": bool(p.blowout), "fall_back": bool(p.fall_back)}
    near = [j for j in segment_jets(cube_from_maps(obs.maps)) if sky_distance(j.base, truth.base) < 20]
    if near:
        jet = min(near, key=lambda j: sky_distance(j.base, truth.base))
        row.update(measured_speed=float(jet.speed), track=[round(float(d), 1) for d in jet.front_distances],
                   speed_rel_error=float((jet.speed - row["speed"]) / row["speed"]))
    return row


def summary(rows, limit=5.0):
    def stats(subset):
        e = np.array([r["speed_rel_error"] for r in subset if np.isfinite(r.get("speed_rel_error", np.nan))])
        return {"n": len(e), "median_abs": float(np.median(np.abs(e))) if len(e) else None,
                "median_signed": float(np.median(e)) if len(e) else None}

    return {"jets": len(rows), "found": sum("measured_speed" in r for r in rows), "all": stats(rows),
            f"rise_within_{limit:g}_frames": stats([r for r in rows if r["rise_frames"] <= limit]),
            f"rise_over_{limit:g}_frames": stats([r for r in rows if r["rise_frames"] > limit])}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--n", type=int, default=60)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    rows, t0 = [], time.time()
    for i in range(args.n):
        rows.append(one(i))
        print(f"{i + 1}/{args.n} ({time.time() - t0:.0f} s)", flush=True)
    result = summary(rows)
    print(json.dumps(result, indent=1))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"command": f"python scripts/diagnose_speed.py --n {args.n} --json {args.json}",
                       "summary": result, "jets": rows}, handle, indent=1)
    return result


if __name__ == "__main__":
    main()
