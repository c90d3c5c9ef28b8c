"""
Validate jet events on the real Solar Jet Hunter subjects against the catalogue.

For every subject of ``../shared/realdata/sjh_subjects`` whose catalogue jet starts in it, the render is read
back as a `~sunpy.map.MapSequence` (`sunpy_jets.datasets.read_subject_render`: the colormap inverted; the
intensities are a render's, not calibrated DN), the whole 15-frame field is segmented
(`sunpy_jets.events.segment_jets`, the localisation ``JetClassifier.detect`` runs inside flagged windows),
and the segmented jet nearest the catalogue base point (within 60″ and starting no later than the subject's
end) is compared with the catalogue: base-point distance, relative error of the maximum height, of the
width (``avg_width``) and of the speed where the catalogue gives one. With ``--detect`` the default
classifier runs first (``JetClassifier.detect`` on the 15 frames, one window) and only its events count.

Usage::

    nice python scripts/validate_events_sjh.py [--detect] [--json results.json]
"""

import argparse
import json
import warnings
from pathlib import Path

import numpy as np

import astropy.units as u

from sunpy_jets.datasets.zooniverse import read_subject_calibration, read_subject_render
from sunpy_jets.events import cube_from_maps, segment_jets
from sunpy_jets.events._sky import sky_distance  # Tx/Ty distance: SkyCoord.separation is NaN off the limb across obstimes

ROOT = Path(__file__).resolve().parents[1] / ".." / "shared" / "realdata" / "sjh_subjects"


def _jets_found(maps, detect):
    if not detect:
        return [(jet.base, jet.height * u.arcsec, jet.width * u.arcsec, jet.speed * u.km / u.s, jet.start_time)
                for jet in segment_jets(cube_from_maps(maps))]
    from sunpy_jets import JetClassifier

    clf = JetClassifier.from_pretrained(device="cpu", progress=False)
    events = clf.detect(list(maps))
    out = []
    for row in events:
        if not bool(row["localized"]):
            continue
        k = row["outflow_length"] / row["outflow_length"]  # dimensionless 1, keeps the row's units
        mm_per_arcsec = 0.725 * u.Mm / u.arcsec
        out.append((row["event_coord"], (row["outflow_length"] / mm_per_arcsec) * k,
                    (row["outflow_width"] / mm_per_arcsec) * k, row["outflow_speed"], row["event_starttime"]))
    return out


def _fits_field(m, truth):
    """Whether the catalogue's height fits in the subject's field: some corner lies at least that far from the base."""
    corners = [(m.bottom_left_coord.Tx, m.bottom_left_coord.Ty), (m.bottom_left_coord.Tx, m.top_right_coord.Ty),
               (m.top_right_coord.Tx, m.bottom_left_coord.Ty), (m.top_right_coord.Tx, m.top_right_coord.Ty)]
    far = max(np.hypot((x - truth.base.Tx).to_value(u.arcsec), (y - truth.base.Ty).to_value(u.arcsec))
              for x, y in corners)
    return bool(truth.max_height.to_value(u.arcsec) <= far)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--root", default=str(ROOT))
    parser.add_argument("--detect", action="store_true", help="count only the classifier's events")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    root = Path(args.root)
    rows = []
    for cal in read_subject_calibration(root / "subjects.csv"):
        for truth in cal.starting_jets:
            maps = read_subject_render(root / cal.name, cal)
            found = _jets_found(maps, args.detect)
            row = {"subject": cal.name, "sjh_id": truth.sjh_id, "n_found": len(found),
                   "height_fits_field": _fits_field(maps[0], truth), "duration_min": truth.duration.to_value(u.min)}
            near = [f for f in found if sky_distance(f[0], truth.base) < 60]
            if near:
                base, height, width, speed, _ = min(near, key=lambda f: sky_distance(f[0], truth.base))
                row["base_error"] = float(sky_distance(base, truth.base))
                h, w, v = truth.max_height.to_value(u.arcsec), truth.width.to_value(u.arcsec), truth.velocity
                # signed relative errors (measured - catalogue) / catalogue; the summary takes medians of |error|
                row["height_rel_error"] = float((height.to_value(u.arcsec) - h) / h)
                row["width_rel_error"] = float((width.to_value(u.arcsec) - w) / w) if np.isfinite(w) else None
                if np.isfinite(v.value) and np.isfinite(speed.value):
                    row["speed_rel_error"] = float((speed.to_value(u.km / u.s) - v.to_value(u.km / u.s))
                                                   / v.to_value(u.km / u.s))
            rows.append(row)
            print(json.dumps(row), flush=True)

    def median(key, subset=rows):
        values = [r[key] for r in subset if r.get(key) is not None]
        if not values:
            return float("nan"), float("nan"), 0
        return float(np.median(np.abs(values))), float(np.median(values)), len(values)

    # each median: (median |error|, median signed error, count)
    summary = {"jets": len(rows), "found_within_60_arcsec": sum("base_error" in r for r in rows),
               **{f"median_{k}": median(k) for k in ("base_error", "height_rel_error", "width_rel_error",
                                                     "speed_rel_error")},
               # the catalogue's height is over the jet's whole life (often longer than the subject's 5.6
               # minutes) and may reach beyond the subject's field: those that fit it, alone
               "jets_whose_height_fits_the_field": sum(r["height_fits_field"] for r in rows),
               "median_height_rel_error_fitting_field": median(
                   "height_rel_error", [r for r in rows if r["height_fits_field"]])}
    print(json.dumps(summary, indent=1))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"summary": summary, "jets": rows}, handle, indent=1)
    return summary


if __name__ == "__main__":
    main()
