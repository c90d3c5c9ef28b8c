#!/usr/bin/env python
"""
Print the results of a ``run.py`` JSON file as a reStructuredText table (for ``docs/performance.rst``).

Usage::

    python benchmarks/report.py benchmarks/results/2026-11-25-myhost.json
"""

import argparse
import json


def _fmt(v, spec):
    return format(v, spec) if isinstance(v, (int, float)) else "–"


def rst_table(payload) -> str:
    """The rows of a results payload as an RST ``list-table`` body with a header."""
    head = ["Case", "Measurement", "Variant", "Rate", "× baseline", "GFLOP/s", "% of matmul peak", "Peak MiB"]
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for i, h in enumerate(head):
        lines.append(("   * - " if i == 0 else "     - ") + h)
    for r in payload["rows"]:
        cells = [
            r["case"], r["measurement"], r["variant"] + (" (derived)" if "derived" in r else ""),
            f"{_fmt(r['rate'], '.3g')} {r['unit']}/s",
            _fmt(r.get("vs_baseline", r.get("vs_reference")), ".2f") + ("" if "vs_baseline" in r or "vs_reference" not in r else " (vs ref)"),
            _fmt(r.get("gflops_per_s"), ".1f"),
            _fmt(100 * r["fraction_of_matmul_peak"], ".0f") if "fraction_of_matmul_peak" in r else "–",
            _fmt(r.get("peak_rss_mib"), ".0f"),
        ]
        for i, c in enumerate(cells):
            lines.append(("   * - " if i == 0 else "     - ") + c)
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description="Print run.py results as an RST table.")
    p.add_argument("json", help="a results file written by benchmarks/run.py")
    p.add_argument("--cases", default=None, help="comma-separated cases to keep (default: all)")
    args = p.parse_args(argv)
    with open(args.json) as f:
        payload = json.load(f)
    if args.cases:
        keep = set(args.cases.split(","))
        payload["rows"] = [r for r in payload["rows"] if r["case"] in keep]
    m = payload["machine"]
    peak = m.get("matmul_fp32_gflops", m.get("matmul_fp32_2048_gflops", 0))
    print(f"Measured {payload['date']} on {m['cpu']} ({m['cores']} cores, {m['threads']} threads), torch {m['torch']}, "
          f"device {m['device']}; fp32 matmul peak {peak:.1f} GFLOP/s; "
          f"1-minute load average {m.get('load_average_1min') or 0:.1f} at the start; command ``python benchmarks/{payload['command']}``.\n")
    print(rst_table(payload))


if __name__ == "__main__":
    main()
