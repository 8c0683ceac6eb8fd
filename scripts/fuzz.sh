#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan) and runs each for a bounded time, seeded from the corpora in
# tests/fuzz/. New inputs go to a scratch directory in the build tree; a crash fails the run and leaves its input
# there (add it to the corpus once fixed, as a regression input).
# Usage: scripts/fuzz.sh [build-dir] [seconds-per-target]
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(realpath -m "${1:-$repo/build-fuzz}")  # absolute: each target runs from its scratch directory
seconds=${2:-30}
"$repo/scripts/setup.sh" >/dev/null
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMPIC_FUZZ=ON -DMPIC_BUILD_BENCH=OFF \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >/dev/null
targets=(dns_message_fuzz http_response_fuzz caa_value_fuzz tls_alpn_cert_fuzz api_request_fuzz config_toml_fuzz)
cmake --build "$build" -j "$(nproc)" --target "${targets[@]}"
declare -A corpus=(
    [dns_message_fuzz]=tests/fuzz/corpus/dns_message
    [http_response_fuzz]=tests/fuzz/corpus/http_response
    [caa_value_fuzz]=tests/fuzz/caa_value_corpus
    [tls_alpn_cert_fuzz]=tests/fuzz/corpus/tls_alpn_cert
    [api_request_fuzz]=tests/fuzz/corpus/api_request
    [config_toml_fuzz]=tests/fuzz/corpus/config_toml
)
failed=0
for t in "${targets[@]}"; do
    scratch="$build/fuzz-scratch/$t"
    mkdir -p "$scratch"
    echo "fuzz: $t for ${seconds}s"
    if ! (cd "$scratch" && "$build/tests/fuzz/$t" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=8192 \
        -print_final_stats=1 . "$repo/${corpus[$t]}" 2>&1 | tail -4); then
        echo "fuzz: $t FAILED (crash input in $scratch)"
        failed=$((failed + 1))
    fi
done
echo "fuzz: ${#targets[@]} targets, $failed failed"
exit $failed
