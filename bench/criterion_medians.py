#!/usr/bin/env python3
"""Prints the medians of the last criterion runs as a markdown table, for bench/README.md.

Criterion's console line shows a confidence interval around its slope or mean estimate; the
median of the samples is only in its JSON files, target/criterion/<group>/<bench>/new/. This reads
them (standard library only) and prints one row per bench: its id, the median time per iteration,
and the rate that median gives with the bench's throughput (bytes or elements per iteration).

Usage: bench/criterion_medians.py [TARGET_DIR]   (default: $CARGO_TARGET_DIR or ./target)
"""

import json
import os
import sys
from pathlib import Path


def time_text(ns: float) -> str:
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}" if ns / scale < 100 else f"{ns / scale:.0f} {unit}"
    return f"{ns:.3g} ns"


def rate_text(throughput: dict, ns: float) -> str:
    per_second = 1e9 / ns
    if "Bytes" in throughput:
        return f"{throughput['Bytes'] * per_second / 2**30:.2f} GiB/s"
    if "Elements" in throughput:
        rate = throughput["Elements"] * per_second
        for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
            if rate >= scale:
                return f"{rate / scale:.3g} {unit}elem/s"
        return f"{rate:.3g} elem/s"
    return ""


def main() -> int:
    target = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CARGO_TARGET_DIR", "target"))
    root = target / "criterion"
    rows = []
    for meta_path in sorted(root.glob("**/new/benchmark.json")):
        meta = json.loads(meta_path.read_text())
        estimates = json.loads((meta_path.parent / "estimates.json").read_text())
        median = estimates["median"]["point_estimate"]
        rows.append((meta["full_id"], time_text(median), rate_text(meta.get("throughput") or {}, median)))
    if not rows:
        print(f"no criterion results under {root}", file=sys.stderr)
        return 1
    print("| bench | median time | median rate |")
    print("|---|---:|---:|")
    for full_id, time, rate in rows:
        print(f"| `{full_id}` | {time} | {rate} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
