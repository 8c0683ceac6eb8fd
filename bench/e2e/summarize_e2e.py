#!/usr/bin/env python3
"""Summarises a run_e2e.sh directory: median and min-max over the rounds for each figure, and the ratios the
targets of performance.md are stated in (each computed per round from runs made side by side, then summarised)."""
import glob
import json
import os
import statistics
import sys


def load(directory, prefix):
    runs = []
    for path in sorted(glob.glob(os.path.join(directory, prefix + "-*.json"))):
        with open(path) as f:
            runs.append(json.load(f))
    return runs


def spread(values):
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    return f"{statistics.median(values):.4g} ({min(values):.4g}-{max(values):.4g}, n={len(values)})"


def main():
    d = sys.argv[1]
    cpu = lambda r: r["daemon"]["cpu_us_per_request"] if r.get("daemon") else None
    lab = lambda r: r["lab"]["cpu_us_per_request"] if r.get("lab") else None
    print("figure: median (min-max, runs)")
    for kind, peer_ms in (("caa", 3.9), ("dns01", 4.7), ("http01", 10.7)):
        runs = load(d, "t3-" + kind)
        if not runs:
            continue
        print(f"T3 {kind}: mpicd CPU us/request {spread([cpu(r) for r in runs])}; lab CPU us/request "
              f"{spread([lab(r) for r in runs])}; decisions/s {spread([r['decisions_per_s'] for r in runs])}; "
              f"p99 ms {spread([r['latency_ms']['p99'] for r in runs])}")
        print(f"   ratio Open MPIC ({peer_ms} ms CPU/request, performance.md) / ours: "
              f"{spread([peer_ms * 1000 / cpu(r) for r in runs if cpu(r)])}x (target >= 50x)")
    mx, half = load(d, "t4-max"), load(d, "t4-half")
    if mx:
        print(f"T4 max decisions/s (closed loop 64): {spread([r['decisions_per_s'] for r in mx])}")
        print(f"   at half: decisions/s {spread([r['decisions_per_s'] for r in half])}; latency p99 ms "
              f"{spread([r['latency_ms']['p99'] for r in half])}")
        prof = [r["profile"] for r in half if r.get("profile")]
        print(f"   engine-added us p50 {spread([p['engine_added_us']['p50'] for p in prof])}; "
              f"p99 {spread([p['engine_added_us']['p99'] for p in prof])} (target p99 < 1000)")
        with_audit = [p for p in prof if "engine_added_without_audit_us" in p]
        if with_audit:
            print(f"   of which waiting for the durable audit record (Server-Timing) us p50 "
                  f"{spread([p['audit_us']['p50'] for p in with_audit])}; p99 "
                  f"{spread([p['audit_us']['p99'] for p in with_audit])}")
            print(f"   engine-added without the audit wait us p50 "
                  f"{spread([p['engine_added_without_audit_us']['p50'] for p in with_audit])}; p99 "
                  f"{spread([p['engine_added_without_audit_us']['p99'] for p in with_audit])} (target p99 < 1000)")
        print(f"   decided_after us p99 {spread([p['decided_after_us']['p99'] for p in prof])}; "
              f"dns phase median us {spread([p['phases']['dns']['median_us'] for p in prof])}")
        lags = [r["send_lag_us"] for r in half if r.get("send_lag_us")]
        if lags:
            print(f"   generator send lag us p50 {spread([l['p50'] for l in lags])}; p99 {spread([l['p99'] for l in lags])}")
    nosync = load(d, "t4-nosync")
    if nosync:
        prof = [r["profile"] for r in nosync if r.get("profile")]
        print(f"   same rate, audit without fdatasync: latency p99 ms {spread([r['latency_ms']['p99'] for r in nosync])}; "
              f"engine-added us p50 {spread([p['engine_added_us']['p50'] for p in prof])}; "
              f"p99 {spread([p['engine_added_us']['p99'] for p in prof])}; "
              f"mpicd CPU us/request {spread([cpu(r) for r in nosync])} (with sync {spread([cpu(r) for r in half])})")
    clean, stall = load(d, "t5-clean"), load(d, "t5-stall")
    if clean and stall:
        print(f"T5 p99 ms clean {spread([r['latency_ms']['p99'] for r in clean])}; "
              f"stalled {spread([r['latency_ms']['p99'] for r in stall])}")
        ratios = [s["latency_ms"]["p99"] / c["latency_ms"]["p99"] for c, s in zip(clean, stall)]
        print(f"   ratio stalled/clean p99 per round: {spread(ratios)} (target <= 2)")
        print(f"   p50 ms clean {spread([r['latency_ms']['p50'] for r in clean])}; stalled "
              f"{spread([r['latency_ms']['p50'] for r in stall])}; errors in stalled runs "
              f"{sum(r['outcomes']['http_error'] + r['outcomes']['transport_error'] for r in stall)}")


if __name__ == "__main__":
    main()
