#!/usr/bin/env python
"""
Benchmark sunpy_jets against the published CS-433 RCNN, in the same run, on the same inputs.

Usage::

    python benchmarks/run.py                     # every case; table on stdout, JSON in benchmarks/results/
    python benchmarks/run.py --quick             # tiny sizes, < 30 s (the smoke test runs this)
    python benchmarks/run.py --cases inference,scanning --repeats 5 --json out.json

Every rate is also given as a ratio to the baseline's rate measured in the same run. Timings are
best-of-N after a warm-up, with the variants interleaved; peak memory is measured in a fresh
subprocess per variant (``ru_maxrss``). See ``benchmarks/README.rst``.
"""

import argparse
import datetime
import gc
import importlib
import json
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import torch  # noqa: E402

from _common import Options, interleaved_best, machine_info, matmul_peak, peak_rss_bytes, set_threads  # noqa: E402
from cases import CASES  # noqa: E402

MIB = 2**20


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="tiny sizes and one repeat: checks the suite runs (< 30 s)")
    p.add_argument("--cases", default=",".join(CASES), help=f"comma-separated cases to run (default: all of {', '.join(CASES)})")
    p.add_argument("--repeats", type=int, default=None, help="timed runs per variant, best kept (default 3; 1 with --quick)")
    p.add_argument("--time-budget", type=float, default=None, help="seconds of timed work per measurement before repeats stop early (default 20)")
    p.add_argument("--memory-budget", type=float, default=2.0, help="GiB of training-step memory (beyond imports) for the largest training batch (default 2)")
    p.add_argument("--device", default="cpu", help='"cpu" (default), "cuda" or "auto" (CUDA when available)')
    p.add_argument("--threads", type=int, default=0, help="torch intra-op threads (default: every core this process may use)")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    p.add_argument("--json", default=None, help="where to write the JSON results (default benchmarks/results/<date>-<host>.json)")
    p.add_argument("--workdir", default=None, help="scratch folder for generated FITS files (default: a temporary folder)")
    return p.parse_args(argv)


def make_options(args, workdir):
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return Options(
        quick=args.quick,
        repeats=args.repeats if args.repeats is not None else (1 if args.quick else 3),
        time_budget_s=args.time_budget if args.time_budget is not None else (2.0 if args.quick else 20.0),
        memory_budget_gib=args.memory_budget,
        device=device,
        threads=set_threads(args.threads),
        workdir=str(workdir),
        n_frames=8 if args.quick else 30,
        size=48 if args.quick else 166,
    )


def _case(name):
    return importlib.import_module(f"cases.{name}")


def _value(v):
    return v() if callable(v) else v


def _probe_child(case, name, variant, warmup, opts, conn):
    """In a fresh process: build one variant, run it (after a warm-up if asked), send its peak memory back."""
    try:
        set_threads(opts.threads)
        (m,) = [m for m in _case(case).measurements(opts) if m.name == name]
        f = m.variants[variant]()
        before = peak_rss_bytes()
        for _ in range(1 + min(warmup, 1)):
            f()
        conn.send({"peak_rss": peak_rss_bytes(), "before_rss": before})
    except BaseException as e:  # report, do not hang the parent
        conn.send({"error": f"{type(e).__name__}: {e}"})
    finally:
        conn.close()


class Prober:
    """
    Peak memory of one variant, measured in a fresh process forked from a clean fork server.

    The fork server has imported torch, sunpy and the cases but done no work, so a probe's
    ``ru_maxrss`` is that import footprint plus its own work, untouched by earlier cases; forking it is
    fast, where starting a new interpreter would re-import everything (seconds on a busy machine).
    """

    def __init__(self, opts, *, limit=None):
        import multiprocessing as mp

        self.ctx = mp.get_context("forkserver")
        self.ctx.set_forkserver_preload(["_common", "cases", "cases._models", *(f"cases.{c}" for c in CASES)])
        self.opts = opts
        self.left = limit

    def __call__(self, case, name, variant, warmup=1):
        if self.left is not None:
            if self.left <= 0:
                return None
            self.left -= 1
        parent, child = self.ctx.Pipe(duplex=False)
        p = self.ctx.Process(target=_probe_child, args=(case, name, variant, warmup, self.opts, child))
        p.start()
        child.close()
        try:
            result = parent.recv()
        except EOFError:
            result = {"error": "the probe process died (out of memory?)"}
        p.join()
        return result


def run_measurement(m, opts, prober, peak_flops):
    factories = {k: v for k, v in m.variants.items() if k not in m.derived}
    funcs = {k: build() for k, build in factories.items()}
    repeats = opts.repeats if m.max_repeats is None else min(opts.repeats, m.max_repeats)
    timed = interleaved_best(funcs, repeats=repeats, warmup=m.warmup, budget_s=opts.time_budget_s, device=opts.device)
    del funcs
    gc.collect()
    rows = []
    for variant in m.variants:
        row = {"case": m.case, "measurement": m.name, "variant": variant, "unit": m.unit, "count": m.count_of(variant)}
        if variant in m.derived:
            rate, how = m.derived[variant]
            row.update(rate=rate(timed) if callable(rate) else rate, derived=how)
        else:
            best = timed[variant]["best_s"]
            row.update(best_s=best, runs_s=timed[variant]["runs"], rate=m.count_of(variant) / best)
            if variant in m.flops:
                flops = _value(m.flops[variant]) * m.count_of(variant) / m.count
                row["gflops_per_s"] = flops / best / 1e9
                row["fraction_of_matmul_peak"] = flops / best / peak_flops
        mem = prober(m.case, m.name, variant, m.warmup) if m.probe and prober and variant not in m.derived else None
        if mem is not None:
            if "error" in mem:
                row["memory_error"] = mem["error"]
            else:
                row["peak_rss_mib"] = mem["peak_rss"] / MIB
                row["work_rss_mib"] = (mem["peak_rss"] - mem["before_rss"]) / MIB
        rows.append(row)
    for row in rows:
        if row["variant"] in m.stages:
            from cases._stages import stage_times

            stages, total = stage_times(m.stages[row["variant"]]())
            row["stages_s"], row["stages_call_s"] = stages, total
            gc.collect()
    ref = next((r for r in rows if r["variant"] == m.reference), None)
    for r in rows:
        if ref and ref.get("rate"):
            r["vs_baseline" if m.reference == "baseline" else "vs_reference"] = r["rate"] / ref["rate"]
        if ref and ref is not r and m.reference != "baseline" and "peak_rss_mib" in r and "peak_rss_mib" in ref:
            r["peak_rss_vs_reference"] = r["peak_rss_mib"] / ref["peak_rss_mib"]
    if m.note:
        rows[0]["note"] = m.note
    return rows


def _fmt(v, spec):
    return format(v, spec) if isinstance(v, (int, float)) else "-"


def format_table(rows):
    header = ("case", "measurement", "variant", "rate", "unit", "× ref", "GFLOP/s", "% peak", "peak MiB", "work MiB")
    lines = []
    for r in rows:
        lines.append((
            r["case"], r["measurement"], r["variant"] + (" *" if "derived" in r else ""), _fmt(r.get("rate"), ".3g"),
            f"{r['unit']}/s", _fmt(r.get("vs_baseline", r.get("vs_reference")), ".2f"), _fmt(r.get("gflops_per_s"), ".1f"),
            _fmt(100 * r["fraction_of_matmul_peak"], ".0f") if "fraction_of_matmul_peak" in r else "-",
            _fmt(r.get("peak_rss_mib"), ".0f") if "memory_error" not in r else "error",
            _fmt(r.get("work_rss_mib"), ".0f"),
        ))
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths)), "  ".join("-" * w for w in widths)]
    for line in lines:
        out.append("  ".join(str(x).rjust(w) if i >= 3 else str(x).ljust(w) for i, (x, w) in enumerate(zip(line, widths))))
    notes = [f"{r['case']} / {r['measurement']}: {r['note']}" for r in rows if r.get("note")]
    notes += [f"* {r['case']} / {r['measurement']} / {r['variant']}: {r['derived']}" for r in rows if "derived" in r]
    notes += [f"stages of {r['case']} / {r['measurement']} / {r['variant']} (one call, {r['stages_call_s']:.2f} s): "
              + ", ".join(f"{k} {v:.2f} s" for k, v in r["stages_s"].items()) for r in rows if "stages_s" in r]
    return "\n".join(out + ([""] + notes if notes else []))


def _cpu_seconds():
    import resource

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def write_json(path, payload):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(payload, f, indent=2)
    os.replace(tmp, path)


def main(argv=None):
    args = parse_args(argv)
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    for case in cases:
        if case not in CASES:
            raise SystemExit(f"unknown case {case!r}; choose from {', '.join(CASES)}")
    with tempfile.TemporaryDirectory(prefix="sunpy_jets_bench_") as tmp:
        workdir = Path(args.workdir) if args.workdir else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        opts = make_options(args, workdir)
        # With --quick, one probe checks the memory path; a full run probes every marked measurement.
        prober = None if args.no_memory else Prober(opts, limit=1 if args.quick else None)
        started = time.time()
        started_date = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        n_mm = 512 if opts.quick else 2048
        peak = matmul_peak(opts.device, n=n_mm)
        info = machine_info(opts.device)
        info["matmul_size"] = n_mm
        info["matmul_fp32_gflops"] = peak / 1e9
        if opts.device.startswith("cuda"):
            info["matmul_bf16_gflops"] = matmul_peak(opts.device, n=n_mm, dtype=torch.bfloat16) / 1e9
        print(f"# {info['cpu']}, {info['cores']} cores, {info['threads']} threads, torch {info['torch']}, "
              f"device {opts.device}{' (' + info['gpu'] + ')' if 'gpu' in info else ''}; "
              f"fp32 {n_mm}² matmul {peak / 1e9:.1f} GFLOP/s", flush=True)
        rows = []
        for case in cases:
            t0 = time.time()
            for m in _case(case).measurements(opts):
                new = run_measurement(m, opts, prober, peak)
                rows += new
                print(f"#   {m.name}: " + ", ".join(f"{r['variant']} {r['rate']:.3g} {r['unit']}/s" for r in new), flush=True)
            print(f"# {case}: {time.time() - t0:.0f} s", flush=True)
        info["load_average_1min_end"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
        table = format_table(rows)
        print(table)
        payload = {
            "date": started_date,
            "command": " ".join(shlex.quote(a) for a in [Path(sys.argv[0]).name if argv is None else "run.py", *(sys.argv[1:] if argv is None else argv)]),
            "machine": info,
            "options": {k: v for k, v in vars(opts).items() if k not in ("workdir", "extra")},
            "duration_s": time.time() - started,
            # CPU seconds of this process (not its memory probes): on a busy machine, wall time overstates the cost.
            "cpu_s": _cpu_seconds(),
            "rows": rows,
        }
        out = args.json or HERE / "results" / f"{datetime.date.today().isoformat()}-{info['host']}.json"
        write_json(out, payload)
        print(f"# {payload['duration_s']:.0f} s in all ({payload['cpu_s']:.0f} CPU s); results written to {out}")
        return payload


if __name__ == "__main__":
    main()
