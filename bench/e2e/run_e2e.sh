#!/usr/bin/env bash
# End-to-end comparisons through the API (performance.md targets 3, 4 and 5), each pair alternated A B A B in one
# invocation so that the machine's drift hits both sides alike. Every run starts its own lab and mpicd
# (mpic-bench --scenario) with mpicd pinned to CPU 0 on one reactor and mpic-bench + the lab on CPU 1.
#   bench/e2e/run_e2e.sh [BUILD_DIR] [ROUNDS]      (default build-bench, 3 rounds)
# Writes one JSON file per run into $OUT (default a new /tmp/mpic-e2e.XXXXXX) and prints the summary table
# (bench/e2e/summarize_e2e.py). Takes about 3 minutes with 3 rounds.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-$repo/build-bench}
rounds=${2:-3}
out=${OUT:-$(mktemp -d /tmp/mpic-e2e.XXXXXX)}
bench="$build/tools/mpic-bench/mpic-bench"
scen="$repo/tools/mpic-lab/scenarios"
pin=(--daemon-cpus 0 --client-cpus 1 --reactors 1 --no-progress --json)

run() { # name, args...
    local name=$1
    shift
    "$bench" "${pin[@]}" "$@" >"$out/$name.json"
    echo "  $name: $(jq -r '"\(.decisions_per_s|floor)/s  p50 \(.latency_ms.p50) ms  p99 \(.latency_ms.p99) ms  mpicd \(.daemon.cpu_us_per_request|floor) us/req  errors \(.outcomes.http_error + .outcomes.transport_error)"' "$out/$name.json")" >&2
}

echo "results in $out" >&2
for r in $(seq 1 "$rounds"); do
    echo "round $r" >&2
    # Target 3: CPU per request, 6 perspectives, saturating closed loop (16 concurrent).
    run "t3-caa-$r" --scenario "$scen/bench-clean.toml" -c 16 -w 1 -d 5 --mix caa
    run "t3-dns01-$r" --scenario "$scen/bench-clean.toml" -c 16 -w 1 -d 5 --mix dns-01
    run "t3-http01-$r" --scenario "$scen/bench-clean.toml" -c 16 -w 1 -d 5 --mix http-01
    # Target 4: the maximum (closed loop, 64 concurrent), then open loop at half of it, profiled.
    run "t4-max-$r" --scenario "$scen/bench-clean.toml" -c 64 -w 1 -d 5 --mix caa=1,dns-01=1
    half=$(jq -r '(.decisions_per_s / 2) | floor' "$out/t4-max-$r.json")
    run "t4-half-$r" --scenario "$scen/bench-clean.toml" -r "$half" -c 256 -w 1 -d 5 --mix caa=1,dns-01=1 --profile
    # The same without the audit log's fdatasync per batch: how much of the engine-added latency is the disk.
    run "t4-nosync-$r" --scenario "$scen/bench-clean.toml" -r "$half" -c 256 -w 1 -d 5 --mix caa=1,dns-01=1 --profile \
        --no-audit-sync
    # Target 5: one perspective stalled 5 s vs none, open loop at a fixed 200 requests/s.
    run "t5-clean-$r" --scenario "$scen/bench-clean.toml" -r 200 -c 512 -w 1 -d 8 --mix caa=1,dns-01=1
    run "t5-stall-$r" --scenario "$scen/bench-stall.toml" -r 200 -c 512 -w 1 -d 8 --mix caa=1,dns-01=1
done
python3 "$repo/bench/e2e/summarize_e2e.py" "$out"
