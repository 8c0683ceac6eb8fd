#!/usr/bin/env bash
# Reproduction of soak run 2's invalid bench.test decisions (docs/reliability.md "Soak", issue #10) in about a minute
# instead of 30: the soak's lab (bench/soak/soak.toml: perspective 6's DNS stalled 3 s, attack.test hijacked for
# perspectives 1, 3, 5) and an mpicd configured as soak.sh does, under the soak's mix at a moderate open-loop rate;
# in the middle of the run the lab's BIND (the resolver of perspectives 1-5) is starved:
#   --how stop  SIGSTOP for --for seconds, then SIGCONT (the deterministic form of "descheduled for seconds");
#   --how hog   --hogs busy-looping processes for --for seconds (CPU contention alone, at normal priority).
# Then every decision in the audit log is classified by bench/soak/classify.py: each invalid one with its
# perspectives' errors, and the quorum arithmetic of every record checked (no valid decision without its quorum,
# every invalid one short of it). Exit: 0 when the arithmetic holds and every attack.test decision is invalid,
# 1 otherwise (or when a process died), 2 bad usage.
#
# Usage: bench/soak/freeze.sh [--build DIR] [--rate R] [--duration S] [--at S] [--for S] [--how stop|hog]
#                             [--hogs N] [--keep]
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
me=freeze
# shellcheck source=bench/soak/soak_lib.sh
source "$repo/bench/soak/soak_lib.sh"
build="$repo/build"
rate=100
duration=40
at=15
freeze=7 # longer than c-ares's 2 s + 4 s: the lab's BIND (4 MiB buffer) answers a shorter freeze's queries in time
how=stop
hogs=4
keep=0
reactors=2
while [[ $# -gt 0 ]]; do
    case "$1" in
    --build) build=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --at) at=$2; shift 2 ;;
    --for) freeze=$2; shift 2 ;;
    --how) how=$2; shift 2 ;;
    --hogs) hogs=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "usage: $0 [--build DIR] [--rate R] [--duration S] [--at S] [--for S] [--how stop|hog] [--hogs N] [--keep]" >&2
       exit 2 ;;
    esac
done
[[ $how == stop || $how == hog ]] || { echo "freeze: --how is stop or hog" >&2; exit 2; }
lab_bin="$build/tools/mpic-lab/mpic-lab"
mpicd_bin="$build/tools/mpicd/mpicd"
bench_bin="$build/tools/mpic-bench/mpic-bench"
for b in "$lab_bin" "$mpicd_bin" "$bench_bin"; do
    [[ -x "$b" ]] || { echo "freeze: $b is missing (build mpicd, mpic-lab, mpic-bench in $build)" >&2; exit 2; }
done
command -v jq >/dev/null || { echo "freeze: needs jq" >&2; exit 2; }
command -v python3 >/dev/null || { echo "freeze: needs python3" >&2; exit 2; }

work=$(mktemp -d /tmp/mpic-freeze.XXXXXX)
lab_pid=""
mpicd_pid=""
named_pid=""
hog_pids=()
cleanup() {
    # Never leave BIND stopped or a hog running; then stop what we started, by PID: mpicd, then the lab.
    [[ -n "$named_pid" ]] && kill -CONT "$named_pid" 2>/dev/null || true
    for pid in "${hog_pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    soak_stop "$mpicd_pid" "$lab_pid"
    if [[ $keep -eq 0 ]]; then rm -rf "$work"; else echo "freeze: kept $work"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

soak_start_lab
named_pid=$(jq -r '.servers[] | select(.name == "named") | .pid' "$work/lab.json")
[[ "$named_pid" =~ ^[0-9]+$ ]] || { echo "freeze: no named in the lab summary" >&2; exit 1; }

soak_start_mpicd "" # the soak's daemon (soak_lib.sh) without rotation: a minute's records fit in one file

attack_rate=$(awk -v r="$rate" 'BEGIN { a = r / 10; if (a < 1) a = 1; printf "%d", a }')
main_rate=$((rate - attack_rate))
bench() { # bench <json-out> <args...>
    local out=$1
    shift
    timeout $((duration + 60)) "$bench_bin" --target "$target" --token "$token" --pid "$mpicd_pid" --json \
        --no-progress -d "$duration" -w 0 --drain-timeout 20 "$@" >"$out" 2>>"$work/bench.err" || true
}
echo "freeze: $duration s at $main_rate req/s on bench.test + $attack_rate req/s on attack.test (soak mix);" \
    "BIND (pid $named_pid) starved by '$how' for $freeze s from t=$at s"
bench "$work/main.json" -r "$main_rate" -c 1024 -m "caa=3,dns-01=3,http-01=3,dcv_with_caa=1" --seed 4 &
main_pid=$!
bench "$work/attack.json" -r "$attack_rate" -c 256 -m "caa=1,dns-01=1,http-01=1" --domain attack.test --seed 4 &
attack_pid=$!

# Datagrams dropped because BIND's UDP socket buffer was full (ss's skmem "d" counter; 0 when ss is missing).
dns_port=$(jq -r '.dns.port' "$work/lab.json")
bind_drops() { ss -uamn "sport = :$dns_port" 2>/dev/null | sed -n 's/.*,d\([0-9]*\)).*/\1/p' | head -1 | grep . || echo 0; }
drops_before=$(bind_drops)
sleep "$at"
from_ms=$(date +%s%3N)
if [[ $how == stop ]]; then
    kill -STOP "$named_pid"
    sleep "$freeze"
    kill -CONT "$named_pid"
else
    for _ in $(seq 1 "$hogs"); do
        timeout "$freeze" sh -c 'while :; do :; done' &
        hog_pids+=($!)
    done
    wait "${hog_pids[@]}" 2>/dev/null || true
    hog_pids=()
fi
until_ms=$(date +%s%3N)
wait "$main_pid" "$attack_pid" || true

status=0
kill -0 "$mpicd_pid" 2>/dev/null || { echo "freeze: mpicd died"; status=1; }
kill -0 "$lab_pid" 2>/dev/null || { echo "freeze: the lab died"; status=1; }
for f in main attack; do
    jq -r --arg f "$f" '"freeze: mpic-bench \($f): \(.requests) requests, valid \(.outcomes.valid), invalid " +
        "\(.outcomes.invalid), http errors \(.outcomes.http_error), transport errors \(.outcomes.transport_error), " +
        "p50 \(.latency_ms.p50) ms, p99 \(.latency_ms.p99) ms, max \(.latency_ms.max) ms"' "$work/$f.json" \
        2>/dev/null || echo "freeze: mpic-bench $f: no report (see $work/bench.err)"
done
echo "freeze: queries dropped at BIND's full UDP receive buffer during the run: $(($(bind_drops) - drops_before))"
python3 "$repo/bench/soak/classify.py" --freeze "$from_ms" "$until_ms" "$work/audit.jsonl" || status=1
exit "$status"
