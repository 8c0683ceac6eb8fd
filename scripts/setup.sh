#!/usr/bin/env bash
# Installs every package the build, the tests, the lab and the benchmarks need, from Debian's registry only.
# Idempotent: a second run changes nothing. Run as root on Debian 12 (bookworm).
set -euo pipefail

packages=(
    # toolchain
    build-essential cmake pkg-config g++ clang libclang-rt-14-dev clang-format git
    # engine libraries
    libuv1-dev libc-ares-dev libmimalloc-dev node-llhttp libssl-dev
    libtomlplusplus-dev nlohmann-json3-dev libcli11-dev libidn2-dev libpsl-dev publicsuffix
    # tests and benchmarks
    libgtest-dev libgmock-dev libbenchmark-dev
    # the lab: real servers and the standard tools that check them
    bind9 bind9-utils bind9-dnsutils unbound nginx-light openssl curl jq iproute2 iputils-ping procps psmisc
    # comparison peers for the bench suite
    wrk dnsperf
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "setup: missing packages (${missing[*]}); run this script as root" >&2
        exit 1
    fi
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
else
    echo "setup: all ${#packages[@]} packages present"
fi

# The lab's BIND asks for a 4 MiB UDP receive buffer (tools/mpic-lab/bind_config.cc: with the default ~208 KiB it
# drops the engine's bursts); the kernel caps that at net.core.rmem_max. Raise the cap when it is lower.
want_rmem=4194304
have_rmem=$(cat /proc/sys/net/core/rmem_max 2>/dev/null || echo 0)
if ((have_rmem < want_rmem)); then
    if [[ $(id -u) -eq 0 ]] && sysctl -q -w net.core.rmem_max=$want_rmem 2>/dev/null; then
        echo "setup: net.core.rmem_max raised from $have_rmem to $want_rmem (the lab's BIND receive buffer)"
    else
        echo "setup: warning: net.core.rmem_max is $have_rmem (< $want_rmem): the lab's BIND may drop query bursts" >&2
    fi
fi
