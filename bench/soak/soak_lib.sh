# Shared by soak.sh and freeze.sh (sourced, not run): start the soak's lab and an mpicd configured for it, and stop
# them by PID. The caller sets: repo, work, lab_bin, mpicd_bin, reactors, and me (the prefix of its messages).
# soak_start_lab sets lab_pid; soak_start_mpicd sets token, mpicd_pid and target.

# SIGTERM each PID (mpicd drains, the lab stops its servers), SIGKILL what is left after 10 s.
soak_stop() {
    for pid in "$@"; do
        if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    wait 2>/dev/null || true
}

# The lab prints one JSON line (to $work/lab.json) once every server answered its readiness probe.
soak_start_lab() {
    "$lab_bin" up "$repo/bench/soak/soak.toml" >"$work/lab.json" 2>"$work/lab.err" &
    lab_pid=$!
    for _ in $(seq 1 300); do [[ -s "$work/lab.json" ]] && break; kill -0 $lab_pid 2>/dev/null || break; sleep 0.1; done
    [[ -s "$work/lab.json" ]] || { echo "$me: the lab did not start:" >&2; tail -5 "$work/lab.err" >&2; exit 1; }
}

# soak_start_mpicd <audit-options>: six perspectives on the lab, limits out of the way, the audit log in $work with
# the given extra [audit] lines (e.g. rotation).
soak_start_mpicd() {
    token="$me-token-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
    {
        printf '[engine]\nreactors = %s\n[policy]\ndevelopment_override = true\n' "$reactors"
        printf '[api]\nlisten = "127.0.0.1:0"\n'
        printf '[auth]\ntokens = [{ name = "%s", token = "%s" }]\n' "$me" "$token"
        printf '[limits]\nrequests_per_second_per_client = 1000000\nburst_per_client = 1000000\n'
        printf 'concurrent_requests_per_client = 100000\n'
        printf '[audit]\npath = "%s/audit.jsonl"\n%s' "$work" "$1"
        printf '[log]\nlevel = "warn"\nfile = "%s/mpicd.log"\n' "$work"
        for p in "us-east ARIN 39.04 -77.49" "us-west ARIN 45.60 -121.18" "eu-west RIPE 53.35 -6.26" \
            "eu-central RIPE 50.11 8.68" "ap-northeast APNIC 35.68 139.69" "ap-southeast APNIC 1.35 103.82"; do
            read -r code rir lat lon <<<"$p"
            printf '[[perspective]]\ncode = "%s"\nrir = "%s"\nlocation = [%s, %s]\nresolvers = ["127.0.0.1"]\n' \
                "$code" "$rir" "$lat" "$lon"
        done
    } >"$work/mpicd.toml"
    "$mpicd_bin" --config "$work/mpicd.toml" --lab "$work/lab.json" --port-file "$work/port" \
        >"$work/mpicd.out" 2>"$work/mpicd.err" &
    mpicd_pid=$!
    for _ in $(seq 1 300); do [[ -s "$work/port" ]] && break; kill -0 $mpicd_pid 2>/dev/null || break; sleep 0.1; done
    [[ -s "$work/port" ]] || { echo "$me: mpicd did not start:" >&2; tail -5 "$work/mpicd.err" >&2; exit 1; }
    target="127.0.0.1:$(tr -d '[:space:]' <"$work/port")"
}
