#!/usr/bin/env python3
"""Summarise Google Benchmark JSON files (several invocations, each possibly with repetitions) into one table:
per benchmark and per metric, the median over every individual run and the spread (min-max, and the median
absolute deviation as % of the median), as performance.md asks ("median and spread over >= 3 runs").

Usage: summarize.py run1.json run2.json run3.json [--metrics cpu_time,real_time,cpu_ns_per_msg,...]
Produce the inputs with: <bench> --benchmark_repetitions=3 --benchmark_format=json --benchmark_out=runN.json
"""
import json
import statistics
import sys


def main() -> int:
    files = [a for a in sys.argv[1:] if not a.startswith("--")]
    wanted = None
    for a in sys.argv[1:]:
        if a.startswith("--metrics="):
            wanted = a.split("=", 1)[1].split(",")
    samples: dict[tuple[str, str], list[float]] = {}
    units: dict[str, str] = {}
    order: list[str] = []
    for path in files:
        with open(path) as f:
            data = json.load(f)
        for b in data["benchmarks"]:
            if b.get("run_type") == "aggregate":
                continue
            name = b["run_name"] if "run_name" in b else b["name"]
            if name not in order:
                order.append(name)
            units[name] = b.get("time_unit", "ns")
            for key, value in b.items():
                if not isinstance(value, (int, float)) or isinstance(value, bool):
                    continue
                if key in ("iterations", "repetitions", "repetition_index", "threads", "family_index",
                           "per_family_instance_index"):
                    continue
                if wanted and key not in wanted:
                    continue
                samples.setdefault((name, key), []).append(float(value))
    print(f"{'benchmark':45} {'metric':22} {'n':>3} {'median':>12} {'min':>12} {'max':>12} {'MAD%':>6}")
    for name in order:
        for (n, key), values in sorted(samples.items()):
            if n != name:
                continue
            med = statistics.median(values)
            mad = statistics.median([abs(v - med) for v in values])
            unit = units[name] if key in ("cpu_time", "real_time") else ""
            pct = 100.0 * mad / med if med else 0.0
            print(f"{name:45} {key + (' (' + unit + ')' if unit else ''):22} {len(values):>3} "
                  f"{med:>12.4g} {min(values):>12.4g} {max(values):>12.4g} {pct:>5.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
