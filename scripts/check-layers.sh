#!/usr/bin/env bash
# Enforces the layering core <- net <- validators <- quorum <- tools: a file may include only its own layer and the
# layers to its left. Prints each offending include and exits 1 if there is any.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
layers=(core net validators quorum tools)
status=0
for i in "${!layers[@]}"; do
    layer=${layers[$i]}
    [[ -d $layer ]] || continue
    forbidden=("${layers[@]:$((i + 1))}")
    ((${#forbidden[@]})) || continue
    pattern="^[[:space:]]*#[[:space:]]*include[[:space:]]+\"($(IFS='|'; echo "${forbidden[*]}"))/"
    while IFS= read -r hit; do
        echo "layer violation: $hit"
        status=1
    done < <(grep -rnE "$pattern" "$layer" --include='*.hh' --include='*.cc' --include='*.h' || true)
done
if ((status == 0)); then
    echo "layers: core <- net <- validators <- quorum <- tools hold"
fi
exit $status
