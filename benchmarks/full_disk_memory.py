#!/usr/bin/env python
"""
Peak memory of ``JetClassifier.detect`` on full-disk days of growing length (issue 22: flat from 100 to 1,000 files).

Each size runs in a fresh Python process (so that one run's peak does not hide another's): ``detect`` with the
bundled weights on ``n`` generated JSOC-like 4096² RICE-compressed AIA 304 Å files at 24 s
(`cases.end_to_end.full_disk_sequence`: a few generated frames and date-shifted copies), reporting the
process's peak resident memory (``ru_maxrss``), the memory before the call, the wall time and the files per
second. Usage (about 4 minutes and 10 GB of disk for the default sizes on 2 cores)::

    python benchmarks/full_disk_memory.py --sizes 100 1000 --workdir /tmp/sunpy_jets_bench
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

_CHILD = r"""
import json, resource, sys, time, warnings
sys.path.insert(0, {here!r})
from cases.end_to_end import full_disk_sequence
paths = full_disk_sequence({workdir!r}, {n})
from sunpy_jets import JetClassifier
clf = JetClassifier.from_pretrained(device="cpu", progress=False)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    events = clf.detect(paths, progress=False)
seconds = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"files": {n}, "seconds": round(seconds, 1), "files_per_s": round({n} / seconds, 2),
                  "rss_before_call_mib": round(before / 1024), "peak_rss_mib": round(peak / 1024),
                  "events": len(events)}}))
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--workdir", default="/tmp/sunpy_jets_bench")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)
    rows = []
    for n in args.sizes:
        code = _CHILD.format(here=str(HERE), workdir=args.workdir, n=n)
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
