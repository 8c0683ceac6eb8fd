#!/usr/bin/env bash
# The main job, on one machine: builds mpicd and the lab, starts the lab's real servers (BIND 9 with a view per
# perspective, nginx, the TLS-ALPN responder) from tools/mpic-lab/scenarios/demo.toml, starts mpicd on its
# embedded default configuration in lab mode, and shows a corroborated validation and a caught hijack. Then it
# leaves mpicd running with ready curl commands until Ctrl-C.
#   --once   run the demonstration and exit (used by the test suite)
# Environment: MPIC_BUILD_DIR (default build-release), MPIC_SKIP_SETUP=1 to skip package installation and build.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${MPIC_BUILD_DIR:-$repo/build-release}
once=0
[[ ${1:-} == --once ]] && once=1

if [[ ${MPIC_SKIP_SETUP:-0} != 1 ]]; then
    "$repo/scripts/setup.sh"
    cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMPIC_BUILD_TESTS=OFF -DMPIC_BUILD_BENCH=OFF >/dev/null
    cmake --build "$build" -j "$(nproc)" --target mpicd mpic-lab mpic-lab-alpn mpic-lab-faultdns mpic-lab-faulthttp
fi

work=$(mktemp -d /tmp/mpic-demo.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== starting the lab (real BIND 9, nginx and a TLS-ALPN responder on loopback)"
"$build/tools/mpic-lab/mpic-lab" up "$repo/tools/mpic-lab/scenarios/demo.toml" >"$work/lab.json" 2>"$work/lab.log" &
pids+=($!)
for _ in $(seq 1 200); do
    [[ -s $work/lab.json ]] && jq -e .dns.port "$work/lab.json" >/dev/null 2>&1 && break
    sleep 0.05
done
jq -e .dns.port "$work/lab.json" >/dev/null || { cat "$work/lab.log"; echo "lab failed to start" >&2; exit 1; }
jq -r '"   DNS 127.0.0.1:\(.dns.port)  HTTP :\(.http.port)  HTTPS :\(.https.port)  TLS-ALPN :\(.tls_alpn.port)  (started in \(.startup_ms) ms)"' "$work/lab.json"

token="demo-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
echo "== starting mpicd on its embedded default (6 in-process perspectives), in lab mode"
"$build/tools/mpicd/mpicd" --lab "$work/lab.json" --listen 127.0.0.1:0 --port-file "$work/port" \
    --token "demo:$token" --audit-log "$work/audit.jsonl" >"$work/mpicd.out" 2>"$work/mpicd.err" &
pids+=($!)
for _ in $(seq 1 200); do [[ -s $work/port ]] && break; sleep 0.05; done
[[ -s $work/port ]] || { cat "$work/mpicd.err"; echo "mpicd failed to start" >&2; exit 1; }
port=$(cat "$work/port")
url="http://127.0.0.1:$port/mpic"
sed 's/^/   /' "$work/mpicd.err" | head -3

ask() { # $1 = title, $2 = request body
    echo
    echo "== $1"
    echo "   request: $2"
    curl -sS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d "$2" "$url" >"$work/answer.json"
    jq -r '"   is_valid: \(.is_valid)   quorum: \(.quorum_result // ([.results[]? | "\(.domain_or_ip_target) dcv \(.dcv.quorum_result) caa \(.caa.quorum_result)"] | join(", ")))   decided after \(.decided_after_ms) ms   lab_mode: \(.lab_mode)  compliant: \(.compliant)"' "$work/answer.json"
    jq -r '.perspectives[]? | "     \(.perspective_code) (\(.rir)): \(if .check_response.check_passed then "corroborates" elif (.check_response.errors[0].error_type // "" | endswith(":cancelled")) then "not needed: the quorum was decided before it answered" else "does not corroborate: \(.check_response.errors[0].error_type // "-")" end)"' "$work/answer.json"
}

ask "a clean domain: http-01 from every perspective (expect is_valid true)" \
    '{"check_type":"dcv","domain_or_ip_target":"good.test","dcv_check_parameters":{"validation_method":"acme-http-01","token":"tok-good","key_authorization":"tok-good.thumbprint"}}'
ask "a hijack: 3 of 6 perspectives see the attacker's http-01 answer (BR allows 2; expect is_valid false)" \
    '{"check_type":"dcv","domain_or_ip_target":"bad.test","dcv_check_parameters":{"validation_method":"acme-http-01","token":"tok-bad","key_authorization":"tok-bad.thumbprint"}}'
ask "dns-01 and CAA together, each with its own quorum (extension: dcv_with_caa)" \
    '{"check_type":"dcv_with_caa","targets":["good.test"],"dcv_check_parameters":{"validation_method":"acme-dns-01","key_authorization_hash":"good-dns01-digest"}}'
ask "CAA for the two SANs of one certificate (extension: targets)" \
    '{"check_type":"caa","targets":["good.test","bad.test"],"caa_check_parameters":{"caa_domains":["ca.example"]}}'

echo
echo "== audit log: $(wc -l <"$work/audit.jsonl") decisions recorded (fsync'd before each answer)"
if ((once)); then
    exit 0
fi
cat <<EOT

mpicd is running on 127.0.0.1:$port. Try, in another shell:
  curl -s -H 'Authorization: Bearer $token' -H 'Content-Type: application/json' \\
    -d '{"check_type":"caa","domain_or_ip_target":"good.test"}' $url | jq .
  curl -s -H 'Authorization: Bearer $token' -H 'Content-Type: application/json' \\
    -d '{"check_type":"dcv","domain_or_ip_target":"bad.test","dcv_check_parameters":{"validation_method":"acme-tls-alpn-01","key_authorization_hash":"$(printf 'tok-bad.thumbprint' | openssl dgst -sha256 -binary | basenc --base64url | tr -d '=')"}}' $url | jq .
  curl -s -H 'Authorization: Bearer $token' http://127.0.0.1:$port/metrics | head
Audit log: $work/audit.jsonl   Press Ctrl-C to stop (the lab and mpicd are stopped, nothing is left behind).
EOT
wait "${pids[1]}"
