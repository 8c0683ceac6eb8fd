#!/usr/bin/env bash
# Sets up the machine (Debian packages), builds everything and runs the whole test suite: unit tests and the
# integration tests against the lab's real servers. Usage: scripts/test.sh [build-dir] [extra cmake args...]
# Environment: MPIC_TEST_LABELS (ctest -L regex, default: all), MPIC_JOBS (default: nproc).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$repo/build}
shift || true
jobs=${MPIC_JOBS:-$(nproc)}

"$repo/scripts/setup.sh"

cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$build" -j "$jobs"

label_args=()
if [[ -n "${MPIC_TEST_LABELS:-}" ]]; then
    label_args=(-L "$MPIC_TEST_LABELS")
fi
# Every test has its own time bound (tests/CMakeLists.txt); --timeout is the outer safety net.
ctest --test-dir "$build" -j "$jobs" --timeout 300 --output-on-failure "${label_args[@]}"
