"""
Validate jet events against the generator's exact truth: one event per jet, base, onset, height, width, speed.

Each observation is a `~sunpy_jets.synthetic.make_observation` of a 600″ field (at the model's 1.8″ pixels)
with 1–4 jets and hard negatives; ``JetClassifier.detect`` (scan, events from windows, localisation) runs
on its maps. A jet counts as **found as exactly one event** when exactly one event has its base within
``max(20″, the jet's width)`` of the true base and overlaps the jet's life in time, and that event matches
no other jet. Errors are taken over the jets found once: base-point distance, onset (event start − true
onset), and the relative error of the height (``outflow_length`` vs the true maximum height), the width
(``outflow_width`` vs the true mean FWHM along the spire) and the speed (``outflow_speed``).

Usage::

    nice python scripts/validate_events.py --n 50 --seed 0 [--json results.json]
"""

import argparse
import json
import time
import warnings

import numpy as np

import astropy.units as u

from sunpy_jets import JetClassifier
from sunpy_jets.synthetic import make_observation


def truth_values(jet):
    p = jet.parameters
    spread = 2.5 if p.blowout else 1.4
    return {
        "height": p.height.to_value(u.Mm),
        "width": p.width.to_value(u.Mm) * (1 + (spread - 1) / 2),
        "speed": p.speed.to_value(u.km / u.s),
        "width_arcsec": p.width.to_value(u.km) / jet.km_per_arcsec,
    }


def match(observation, events):
    """Per true jet: indices of the events that match it; per event: the jets it matches."""
    table = events.table
    per_jet = []
    for jet in observation.jets:
        tol = max(20.0, truth_values(jet)["width_arcsec"])
        sep = table["event_coord"].separation(jet.base).to_value(u.arcsec) if len(table) else np.zeros(0)
        overlap = (table["event_starttime"] <= jet.end_time) & (table["event_endtime"] >= jet.start_time - 2 * u.min)
        per_jet.append(np.flatnonzero((sep <= tol) & overlap))
    return per_jet


def visible(observation, jet):
    m = observation.maps[0]
    inside = m.world_to_pixel(jet.base)
    ny, nx = m.data.shape
    times = observation.maps[0].date, observation.maps[-1].date
    return (0 <= inside.x.value < nx and 0 <= inside.y.value < ny and jet.start_time >= times[0]
            and jet.start_time <= times[1] - 3 * u.min)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--duration", type=float, default=40.0, help="minutes per observation")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    clf = JetClassifier.from_pretrained(device="cpu", progress=False)
    scale = clf.config.fov / (clf.config.image_size * u.pix)
    rng = np.random.default_rng(args.seed)
    rows, n_events, n_false, t0 = [], 0, 0, time.time()
    for i in range(args.n):
        obs = make_observation(duration=args.duration * u.min, n_jets=int(rng.integers(1, 5)), n_distractors=2,
                               shape=(332, 332), scale=scale, seed=args.seed * 1000 + i, lazy=False)
        events = clf.detect(obs.maps)
        per_jet = match(obs, events)
        used = np.concatenate(per_jet) if per_jet else np.zeros(0, int)
        n_events += len(events)
        n_false += len(set(range(len(events))) - set(used.tolist()))
        for jet, hits in zip(obs.jets, per_jet):
            if not visible(obs, jet):
                continue
            truth = truth_values(jet)
            row = {"obs": i, "n_events": len(hits), "merged": False}
            if len(hits) == 1:
                shared = sum(hits[0] in other for other in per_jet)
                row["merged"] = shared > 1
                event = events[int(hits[0])]
                row["base_error"] = float(event["event_coord"].separation(jet.base).to_value(u.arcsec))
                row["onset_error"] = float((event["event_starttime"] - jet.start_time).to_value(u.min))
                if "outflow_length" in events.table.colnames and bool(event["localized"]):
                    for key, column, unit in (("height", "outflow_length", u.Mm), ("width", "outflow_width", u.Mm),
                                              ("speed", "outflow_speed", u.km / u.s)):
                        value = event[column].to_value(unit)
                        row[f"{key}_rel_error"] = float(abs(value - truth[key]) / truth[key])
            rows.append(row)
        print(f"{i + 1}/{args.n}: {len(obs.jets)} jets, {len(events)} events ({time.time() - t0:.0f} s)", flush=True)
    once = [r for r in rows if r["n_events"] == 1 and not r["merged"]]

    def median(key):
        values = [abs(r[key]) for r in once if key in r and np.isfinite(r[key])]
        return (float(np.median(values)) if values else float("nan")), len(values)

    summary = {
        "observations": args.n,
        "jets_visible": len(rows),
        "found_once": len(once),
        "found_once_fraction": len(once) / max(len(rows), 1),
        "missed": sum(r["n_events"] == 0 for r in rows),
        "split": sum(r["n_events"] > 1 for r in rows),
        "merged": sum(r["merged"] for r in rows),
        "events": n_events,
        "events_matching_no_jet": n_false,
        **{f"median_{key}": median(key) for key in ("base_error", "onset_error", "height_rel_error",
                                                     "width_rel_error", "speed_rel_error")},
    }
    print(json.dumps(summary, indent=1))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"summary": summary, "jets": rows}, handle, indent=1)
    return summary


if __name__ == "__main__":
    main()
