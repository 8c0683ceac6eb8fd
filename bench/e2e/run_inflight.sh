#!/usr/bin/env bash
# Scaling (performance.md target 6): bench_e2e_inflight at 0 (the idle baseline), 102, 1,002, 10,002 and 100,002
# checks in flight (CAA requests of 6 perspectives), each in its own process, pinned to CPU 0 with one reactor,
# ROUNDS times in alternating order of N. Prints one JSON line per run and a summary (median and min-max per N);
# "net CPU" subtracts the median idle baseline's CPU over the same period before dividing by N.
#   bench/e2e/run_inflight.sh [BUILD_DIR] [ROUNDS] [DELAY_MS]
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-$repo/build-bench}
rounds=${2:-3}
delay=${3:-10000}
out=$(mktemp /tmp/mpic-inflight.XXXXXX)
for r in $(seq 1 "$rounds"); do
    sizes=(0 102 1002 10002 100002)
    ((r % 2 == 0)) && sizes=(100002 10002 1002 102 0)
    for n in "${sizes[@]}"; do
        taskset -c 0 "$build/bench/e2e/bench_e2e_inflight" "$n" 1 "$delay" | tee -a "$out"
    done
done
python3 - "$out" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
idle = statistics.median(r["cpu_s"] for r in runs if r["checks"] == 0) if any(r["checks"] == 0 for r in runs) else 0
print(f"idle baseline: {idle * 1e3:.1f} ms CPU over the run")
print("checks   KiB/check median (min-max)   net CPU us/check median (min-max)   in flight reached (min)   valid/requests")
for n in sorted({r["checks"] for r in runs} - {0}):
    rs = [r for r in runs if r["checks"] == n]
    for r in rs:
        r["net"] = (r["cpu_s"] - idle) * 1e6 / n
    f = lambda k: f'{statistics.median(r[k] for r in rs):.2f} ({min(r[k] for r in rs):.2f}-{max(r[k] for r in rs):.2f})'
    print(f'{n:>7}  {f("kib_per_check"):>28}  {f("net"):>34}  '
          f'{min(r["in_flight_peak"] for r in rs):>10}  {sum(r["valid"] for r in rs)}/{sum(r["requests"] for r in rs)}')
PY
