"""
Latency of ``sunpy-jets watch``: from a file's arrival in the watched folder to the event it closes being written.

Writes a synthetic AIA 304 observation with jets (300″ cutouts of 500×500 pixels at 0.6″, RICE-compressed
like JSOC's files, AIA's 12 s cadence) into a staging folder, then moves the files one by one into a watched
folder at a compressed cadence (``--speedup`` times real time), while a `~sunpy_jets.watch.Watcher` with the
bundled weights (30-frame windows at 24 s, 12 minutes) follows the folder in another thread. For each event
written it reports:

``after closing frame``
    Wall time from the arrival of the last frame scanned before the event was written (the frame whose
    window closed it) to the event's folder appearing. It includes the watcher's hold for late files
    (``--lateness`` of observation time, i.e. ``lateness / speedup`` of wall time here), the poll interval,
    reading, scanning and writing the VOEvent, HEK JSON and PNG.
``processing``
    Wall time from the arrival of the newest file present when the event was written (whose arrival let the
    closing frame be scanned) to the folder appearing: the poll interval and the work.

At real cadence the hold is ``lateness`` itself, so the latency from a closing frame's arrival is
``lateness + poll + processing``: the figure to compare with the target of one window (12 min) plus 10 s.

Usage::

    python benchmarks/bench_watch.py --minutes 60 --speedup 40
"""

import argparse
import json
import os
import shutil
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np

import astropy.units as u
from astropy.time import Time

from sunpy_jets import JetClassifier
from sunpy_jets.synthetic import make_observation, write_fits
from sunpy_jets.watch import Watcher, read_emitted


def _parse():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60, help="observation length (default 60)")
    parser.add_argument("--speedup", type=float, default=40, help="arrival speed over real time (default 40)")
    parser.add_argument("--n-jets", type=int, default=3, help="jets in the observation (default 3)")
    parser.add_argument("--lateness", type=float, default=60, help="watcher's --lateness in seconds (default 60)")
    parser.add_argument("--poll", type=float, default=0.5, help="watcher's poll interval in seconds (default 0.5)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


def _arrive(files, inbox, interval, arrivals):
    for path in files:
        tmp = inbox / f".{path.name}.part"
        shutil.copyfile(path, tmp)
        os.replace(tmp, inbox / path.name)
        arrivals[path.name] = time.time()
        time.sleep(interval)


def _follow(output, seen, stop):
    events = output / "events"
    while not stop.is_set():
        if events.is_dir():
            for folder in events.iterdir():
                if not folder.name.startswith(".") and folder.name not in seen:
                    seen[folder.name] = time.time()
        time.sleep(0.02)


def main():
    import torch

    args = _parse()
    if args.threads:
        torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")
    root = Path(tempfile.mkdtemp(prefix="bench_watch_"))
    staging, inbox, output = root / "staging", root / "inbox", root / "out"
    inbox.mkdir()
    started = time.perf_counter()
    obs = make_observation(duration=args.minutes * u.min, cadence=12 * u.s, n_jets=args.n_jets, n_distractors=1,
                           shape=(500, 500), bad_frame_rate=0, seed=args.seed)  # fmt: skip
    files = write_fits(obs, staging)
    print(f"wrote {len(files)} files of 500×500 in {time.perf_counter() - started:.1f} s; jets at "
          + ", ".join(Time(j.start_time).isot[11:19] for j in obs.jets))  # fmt: skip
    clf = JetClassifier.from_pretrained(device="cpu", progress=False)
    arrivals, seen, stop = {}, {}, threading.Event()
    watcher = Watcher(inbox, output, clf, lateness=args.lateness * u.s, settle=0.1 * u.s, max_wait=1e6 * u.s)
    runner = threading.Thread(target=watcher.run, kwargs={"poll": args.poll * u.s})
    follower = threading.Thread(target=_follow, args=(output, seen, stop))
    runner.start()
    follower.start()
    interval = 12.0 / args.speedup
    writer = threading.Thread(target=_arrive, args=(files, inbox, interval, arrivals))
    t0 = time.perf_counter()
    writer.start()
    writer.join()
    time.sleep(max(3 * args.poll, 2.0))
    watcher.stop()
    runner.join()
    stop.set()
    follower.join()
    watcher.close()
    wall = time.perf_counter() - t0
    status = watcher.status()
    print(f"{len(files)} files arrived every {interval:.2f} s ({args.speedup:g}× real time) over {wall:.1f} s; "
          f"{status['frames_scanned']} scanned, lag at the end {status['lag_s']} s of observation")

    names_by_time = {}
    for name in arrivals:
        stamp = name.split(".")[2]  # aia.lev1_euv_12s.2012-07-19T073001Z.304.image.fits
        names_by_time[Time.strptime(stamp, "%Y-%m-%dT%H%M%SZ").isot] = name
    rows = []
    for event in read_emitted(output):
        info = json.loads((output / "events" / event["event_id"] / "watch.json").read_text())
        written = seen.get(event["event_id"])
        closing = arrivals.get(info["closed_by"])
        newest = names_by_time.get(Time(info["newest_file_time"]).isot)
        rows.append((event["event_id"], written - closing, written - arrivals[newest] if newest else np.nan))
    if not rows:
        print("no event was written: no jet found (or none ended) in this observation")
        return
    print(f"\n{'event':<36} {'after closing frame (s)':>24} {'processing (s)':>15}")
    for name, after_closing, processing in rows:
        print(f"{name:<36} {after_closing:>24.2f} {processing:>15.2f}")
    worst = max(r[2] for r in rows)
    bound = args.lateness + args.poll + worst
    print(f"\nat real cadence: latency from a closing frame's arrival <= lateness {args.lateness:g} s + poll "
          f"{args.poll:g} s + processing {worst:.2f} s = {bound:.1f} s (target: one window, 720 s, + 10 s)")
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
