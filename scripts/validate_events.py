"""
Validate jet events against the generator's exact truth: one event per jet, base, onset, height, width, speed.

Each observation is a `~sunpy_jets.synthetic.make_observation` of a 600″ field (at the model's 1.8″ pixels)
with 1–4 jets and hard negatives; ``JetClassifier.detect`` (scan, events from windows, localisation) runs
on its maps. Backgrounds alternate (``--backgrounds both``) between the generator's procedural Sun and a
real one: a 600″ crop, on the disk or across the limb, of a real full-disk AIA 304 Å frame
(``../shared/realdata/helioviewer_jp2``, turned back into DN/s by `~sunpy_jets.synthetic.read_frame`),
max-pooled to 1.8″ as the model's preprocessing does, and carried west by the Sun's rotation over the
observation. An event **matches** a jet when its base lies within ``max(20″, the jet's width)`` of the true
base and its life overlaps the jet's, and it is **attributed** to the jet it matches whose onset is nearest its
own (`attribute`). A jet counts as **found as exactly one event** when exactly one event is attributed to it
and that event does not also match a jet left with none (a merge); ``split`` jets have several, ``missed``
ones none that matches. Until the seventh session a jet was found once only when exactly one event matched it
and that event matched no other jet, with events ending up to two minutes before the jet's onset matching
too; two jets at one base, each with its own event, were then two split jets (``found_once_any_overlap``
keeps that count). Jets that the issue does not ask to separate (bases closer than the wider one's width *and* no
gap of more than three frames between their lives: a jet recurring at its own base while the first still
runs) are also counted together, as one group each (``found_once_grouped``: the group is found once when
each of its jets is, or when exactly one event is attributed to its jets and that event is no merge with a
jet outside it); the strict per-jet count stays the headline.
Errors are taken over the jets found once: base-point distance, onset (event start − true
onset), and the relative error of the height (``outflow_length`` vs the true maximum height), the width
(``outflow_width`` vs the true mean FWHM along the spire) and the speed (``outflow_speed``).

Usage::

    nice python scripts/validate_events.py --n 50 --seed 0 [--backgrounds both] [--json results.json]
        [--weights MODEL_DIR] [--scan-cache DIR]

``--scan-cache`` keeps each observation's scan (the windows table, ECSV, named by the weights' checksum, the
seed and the observation) so that a rerun after a change to the localisation repeats only that: what
``detect`` does after its scan, `~sunpy_jets.scanning.events_from_scan` and
`~sunpy_jets.events.localize_events`, runs on the cached windows, with the same events (50 observations on
one core beside a training run: about 10 minutes with the scans, 7–8 from the cache).
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import astropy.units as u
from astropy.table import QTable

from sunpy_jets import JetClassifier
from sunpy_jets.events import localize_events
from sunpy_jets.events._sky import sky_distance  # Tx/Ty distance: SkyCoord.separation is NaN off the limb across obstimes
from sunpy_jets.scanning import events_from_scan
from sunpy_jets.synthetic import make_observation, read_frame

REAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "realdata" / "helioviewer_jp2"
#: The Sun's rotation at disk centre, seen from Earth (arcsec per minute, westward).
ROTATION = 0.16


def real_background(full_disk, rng, duration):
    """Two maps (start and end of the observation) of a random 600″ crop of a full-disk map, at 1.8″."""
    pixel = float(full_disk.scale.axis1.to_value(u.arcsec / u.pix))
    factor = int(round(1.8 / pixel))
    side = int(round(600 / pixel)) // factor * factor
    rsun = float(full_disk.rsun_obs.to_value(u.arcsec))
    # half the fields across the limb, half on the disk, as make_observation places its own
    radius = rsun * (rng.uniform(0.93, 1.05) if rng.random() < 0.5 else np.sqrt(rng.uniform(0, 0.7**2)))
    angle = rng.uniform(0, 2 * np.pi)
    centre = full_disk.wcs.world_to_pixel_values((radius * np.cos(angle) * u.arcsec).to_value(u.deg),
                                                 (radius * np.sin(angle) * u.arcsec).to_value(u.deg))
    shift = int(round(ROTATION * duration / pixel))
    maps = []
    for k, offset in enumerate((0, shift)):
        # the field stays put while the Sun turns under it: the later crop starts further east
        x0, y0 = int(centre[0]) - side // 2 - offset, int(centre[1]) - side // 2
        # crops of one size inside the frame (near its edge the whole field moves in)
        x0 = int(np.clip(x0, 0, full_disk.data.shape[1] - side))
        y0 = int(np.clip(y0, 0, full_disk.data.shape[0] - side))
        crop = full_disk.submap([x0, y0] * u.pix, top_right=[x0 + side - 1, y0 + side - 1] * u.pix)
        crop = crop.superpixel([factor, factor] * u.pix, func=np.max)
        crop.meta["date-obs"] = (full_disk.date + k * duration * u.min).isot
        maps.append(crop)
    return maps


def truth_values(jet):
    p = jet.parameters
    spread = 2.5 if p.blowout else 1.4
    return {
        "height": p.height.to_value(u.Mm),
        "width": p.width.to_value(u.Mm) * (1 + (spread - 1) / 2),
        "speed": p.speed.to_value(u.km / u.s),
        "width_arcsec": p.width.to_value(u.km) / jet.km_per_arcsec,
    }


def match(observation, events, *, slack=0.0):
    """
    Per true jet: indices of the events whose base lies within ``max(20″, the jet's width)`` of its base and
    whose life overlaps the jet's (an event may end up to ``slack`` seconds before the jet's onset: the fifth
    and sixth sessions' rule, 120 s, kept for ``found_once_any_overlap``).
    """
    table = events.table
    per_jet = []
    for jet in observation.jets:
        tol = max(20.0, truth_values(jet)["width_arcsec"])
        sep = sky_distance(table["event_coord"], jet.base) if len(table) else np.zeros(0)
        overlap = (table["event_starttime"] <= jet.end_time) & (table["event_endtime"] >= jet.start_time - slack * u.s)
        per_jet.append(np.flatnonzero((sep <= tol) & overlap))
    return per_jet


def attribute(observation, events, per_jet):
    """
    Per true jet: the events it is the nearest in onset to among the jets each event matches (`match`). Two
    jets at one base, each with an event at its own onset, then have one event each, where each event matched
    both; one event for both is attributed to one of them, and the other has none.
    """
    owner = {}
    for k, (jet, hits) in enumerate(zip(observation.jets, per_jet)):
        for e in hits.tolist():
            lag = abs((events.table["event_starttime"][e] - jet.start_time).to_value(u.s))
            if e not in owner or lag < owner[e][0]:
                owner[e] = (lag, k)
    return [[e for e, (_, k) in sorted(owner.items()) if k == j] for j in range(len(per_jet))]


def status(k, per_jet, attributed):
    """``found_once``, ``missed`` (no event matches it), ``split`` (more than one attributed to it) or ``merged`` (its
    one event matches a jet left without one, or every event matching it is another jet's)."""
    hits, mine = per_jet[k], attributed[k]
    if not len(hits):
        return "missed"
    if len(mine) > 1:
        return "split"
    if len(mine) == 1 and not any(mine[0] in per_jet[o] and not attributed[o] for o in range(len(per_jet)) if o != k):
        return "found_once"
    return "merged"


#: Largest gap between two jets' lives (s) for them to count as one group: three frames at 24 s.
GROUP_GAP = 72.0


def inseparable_groups(jets):
    """
    A group label per jet: jets join a group when their bases lie closer than the wider one's width and
    their lives overlap or are at most `GROUP_GAP` apart (what issue 18 does not ask events to separate).
    """
    label = list(range(len(jets)))

    def root(k):
        while label[k] != k:
            k = label[k]
        return k

    for a, ja in enumerate(jets):
        for b in range(a + 1, len(jets)):
            jb = jets[b]
            width = max(truth_values(ja)["width_arcsec"], truth_values(jb)["width_arcsec"])
            gap = max((jb.start_time - ja.end_time).to_value(u.s), (ja.start_time - jb.end_time).to_value(u.s))
            if sky_distance(ja.base, jb.base) <= width and gap <= GROUP_GAP:
                label[root(b)] = root(a)
    return [root(k) for k in range(len(jets))]


def visible(observation, jet):
    m = observation.maps[0]
    inside = m.world_to_pixel(jet.base)
    ny, nx = m.data.shape
    times = observation.maps[0].date, observation.maps[-1].date
    return (0 <= inside.x.value < nx and 0 <= inside.y.value < ny and jet.start_time >= times[0]
            and jet.start_time <= times[1] - 3 * u.min)


def detect(clf, maps, cache):
    """
    ``clf.detect(maps)``, with the scan read from (or written to) the file ``cache`` when one is given: then
    the steps `sunpy_jets.scanning.detect` takes after its scan, with its defaults, run on the cached windows.
    """
    if cache is None:
        return clf.detect(maps)
    if cache.exists():
        windows = QTable.read(cache, format="ascii.ecsv")
    else:
        windows = clf.scan(maps)
        cache.parent.mkdir(parents=True, exist_ok=True)
        windows.write(cache.with_suffix(".part.ecsv"), format="ascii.ecsv", overwrite=True)
        cache.with_suffix(".part.ecsv").replace(cache)
    events = events_from_scan(clf, windows)
    return localize_events(events, maps, windows=windows) if len(events) else events


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--duration", type=float, default=40.0, help="minutes per observation")
    parser.add_argument("--backgrounds", choices=("both", "procedural", "real"), default="both",
                        help="procedural, real (crops of real full-disk frames), or alternating (default)")
    parser.add_argument("--json", default=None)
    parser.add_argument("--weights", default=None, help="a model directory (the bundled weights by default)")
    parser.add_argument("--scan-cache", default=None, help="a folder for each observation's scan (reused)")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    clf = (JetClassifier.load(args.weights, device="cpu", progress=False) if args.weights
           else JetClassifier.from_pretrained(device="cpu", progress=False))
    scale = clf.config.fov / (clf.config.image_size * u.pix)
    rng = np.random.default_rng(args.seed)
    disks = [read_frame(path) for path in sorted(REAL.glob("*.jp2"))] if args.backgrounds != "procedural" else []
    rows, n_events, n_false, t0 = [], 0, 0, time.time()
    for i in range(args.n):
        n_jets = int(rng.integers(1, 5))
        real = args.backgrounds == "real" or (args.backgrounds == "both" and i % 2 == 1)
        if real:
            background = real_background(disks[i // 2 % len(disks)], rng, args.duration)
            options = {"background": background, "shape": None, "scale": None}
        else:
            options = {"shape": (332, 332), "scale": scale}
        obs = make_observation(duration=args.duration * u.min, n_jets=n_jets, n_distractors=2,
                               seed=args.seed * 1000 + i, lazy=False, **options)
        cache = (Path(args.scan_cache) / f"{clf.card.sha256[:8]}_{args.duration:g}min_{args.backgrounds}_seed{args.seed}_"
                 f"obs{i}.ecsv") if args.scan_cache else None
        events = detect(clf, obs.maps, cache)
        per_jet = match(obs, events)
        attributed = attribute(obs, events, per_jet)
        before = match(obs, events, slack=120.0)  # the earlier sessions' rule, for comparison
        used = np.concatenate(per_jet) if per_jet else np.zeros(0, int)
        n_events += len(events)
        n_false += len(set(range(len(events))) - set(used.tolist()))
        statuses = [status(k, per_jet, attributed) for k in range(len(obs.jets))]
        shown = [k for k, jet in enumerate(obs.jets) if visible(obs, jet)]
        groups = dict(zip(shown, inseparable_groups([obs.jets[k] for k in shown])))
        for k, (jet, hits) in enumerate(zip(obs.jets, per_jet)):
            if not visible(obs, jet):
                continue
            truth = truth_values(jet)
            members = [m for m in shown if groups[m] == groups[k]]
            group_hits = set().union(*(attributed[m] for m in members))
            # events of the group that also match a jet outside it left without one: a merge
            outside = set().union(*(per_jet[m].tolist() for m in range(len(obs.jets))
                                    if m not in members and not attributed[m]))
            row = {"obs": i, "background": "real" if real else "procedural",
                   "status": statuses[k], "n_events": len(attributed[k]), "n_matching": len(hits),
                   "found_once_any_overlap": len(before[k]) == 1 and sum(before[k][0] in other for other in before) == 1,
                   "group": f"{i}-{groups[k]}", "group_size": len(members),
                   "group_found_once": (len(group_hits) == 1 and not group_hits & outside)
                   or all(statuses[m] == "found_once" for m in members)}
            if row["status"] == "found_once":
                event = events[int(attributed[k][0])]
                row["base_error"] = float(sky_distance(event["event_coord"], jet.base))
                row["onset_error"] = float((event["event_starttime"] - jet.start_time).to_value(u.min))
                if "outflow_length" in events.table.colnames and bool(event["localized"]):
                    for key, column, unit in (("height", "outflow_length", u.Mm), ("width", "outflow_width", u.Mm),
                                              ("speed", "outflow_speed", u.km / u.s)):
                        value = event[column].to_value(unit)
                        # signed: (measured - truth) / truth; the summary takes the median of |error|
                        row[f"{key}_rel_error"] = float((value - truth[key]) / truth[key])
            rows.append(row)
        print(f"{i + 1}/{args.n}: {len(obs.jets)} jets, {len(events)} events ({time.time() - t0:.0f} s)", flush=True)
    print(json.dumps(summarise(rows, args.n, n_events, n_false), indent=1))
    summary = {"all": summarise(rows, args.n, n_events, n_false)}
    for kind in ("procedural", "real"):
        subset = [r for r in rows if r["background"] == kind]
        if subset and len(subset) < len(rows):
            summary[kind] = summarise(subset, None, None, None)
    if args.json:
        with open(args.json, "w") as handle:
            given = sys.argv[1:] if argv is None else argv
            json.dump({"command": " ".join(["python scripts/validate_events.py", *given]),
                       "summary": summary, "jets": rows}, handle, indent=1)
    return summary


def summarise(rows, n_obs, n_events, n_false):
    """Counts and medians over the jets of ``rows``: medians of |error| with their counts."""
    once = [r for r in rows if r["status"] == "found_once"]
    groups = {r["group"]: r["group_found_once"] for r in rows}

    def median(key):
        values = [abs(r[key]) for r in once if key in r and np.isfinite(r[key])]
        return (float(np.median(values)) if values else float("nan")), len(values)

    return {
        "observations": n_obs,
        "jets_visible": len(rows),
        "found_once": len(once),
        "found_once_fraction": len(once) / max(len(rows), 1),
        "groups": len(groups),
        "found_once_grouped": sum(groups.values()),
        "found_once_grouped_fraction": sum(groups.values()) / max(len(groups), 1),
        "missed": sum(r["status"] == "missed" for r in rows),
        "split": sum(r["status"] == "split" for r in rows),
        "merged": sum(r["status"] == "merged" for r in rows),
        "found_once_any_overlap": sum(r["found_once_any_overlap"] for r in rows),
        "events": n_events,
        "events_matching_no_jet": n_false,
        **{f"median_{key}": median(key) for key in ("base_error", "onset_error", "height_rel_error",
                                                     "width_rel_error", "speed_rel_error")},
    }


if __name__ == "__main__":
    main()
