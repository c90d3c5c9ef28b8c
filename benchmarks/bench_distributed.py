"""
Files per second of `sunpy_jets.scanning.scan_files` on a LocalCluster of 1, 2, ... workers.

Writes a synthetic AIA 304-like observation (RICE-compressed FITS, one file per frame, 24 s cadence), then
scans it with the default model (30-frame windows, 300″ tiles) in one process (``JetClassifier.detect``)
and with ``scan_files`` on LocalClusters of single-threaded worker processes. Cluster start-up and the
first imports are not timed (a warm-up scan runs first in each setting); the header pass, the planning,
the scans and the merge are.

Usage::

    python benchmarks/bench_distributed.py --n-files 120 --shape 1024 --workers 1 2
"""

import argparse
import tempfile
import time
import warnings

import astropy.units as u

from sunpy_jets import JetClassifier
from sunpy_jets.scanning import scan_files
from sunpy_jets.synthetic import make_observation, write_fits


def _parse():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-files", type=int, default=120, help="frames (files) to scan (default 120)")
    parser.add_argument("--shape", type=int, default=1024, help="frame side in pixels at 0.6″/px (default 1024)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts (default 1 2)")
    parser.add_argument("--chunk-size", type=int, default=None,
                        help="window starts per task (default: one task per worker, the least shared work)")
    parser.add_argument("--repeat", type=int, default=1, help="timed scans per setting; the best is kept")
    return parser.parse_args()


def main():
    from distributed import Client, LocalCluster

    args = _parse()
    warnings.simplefilter("ignore")
    directory = tempfile.mkdtemp(prefix="bench_distributed_")
    started = time.perf_counter()
    obs = make_observation(duration=args.n_files * 24 * u.s, cadence=24 * u.s, n_jets=2, shape=(args.shape,) * 2,
                           bad_frame_rate=0, seed=0)  # fmt: skip
    files = [str(p) for p in write_fits(obs, directory)]
    print(f"wrote {len(files)} files of {args.shape}×{args.shape} in {time.perf_counter() - started:.1f} s")
    clf = JetClassifier(device="cpu", seed=0, progress=False)
    n_windows = len(files) - clf.config.n_frames + 1

    rows = []
    clf.detect(files[: 2 * clf.config.n_frames], progress=False)  # warm-up
    started = time.perf_counter()
    clf.detect(files, progress=False)
    single = time.perf_counter() - started
    rows.append(("detect, 1 process", single))
    for n in args.workers:
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address="127.0.0.1:0") as cluster, Client(cluster) as client:  # fmt: skip
            scan_files(files[: 2 * clf.config.n_frames], clf, client=client, progress=False)  # warm-up
            best, chunk = float("inf"), args.chunk_size or -(-n_windows // n)
            for _ in range(args.repeat):
                started = time.perf_counter()
                scan_files(files, clf, client=client, chunk_size=chunk, progress=False)
                best = min(best, time.perf_counter() - started)
            rows.append((f"scan_files, {n} worker{'s' if n > 1 else ''} ({-(-n_windows // chunk)} tasks)", best))
    print(f"{'setting':<36} {'seconds':>8} {'files/s':>8}")
    for name, seconds in rows:
        print(f"{name:<36} {seconds:8.1f} {len(files) / seconds:8.2f}")


if __name__ == "__main__":
    main()
