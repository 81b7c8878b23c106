#!/usr/bin/env bash
# Configures and builds malfix into build/ (or $MALFIX_BUILD_DIR). Extra arguments go to cmake;
# $MALFIX_TARGETS (space separated) limits the build to those targets.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${MALFIX_BUILD_DIR:-build}
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [ ! -f "$dir/CMakeCache.txt" ]; then
    cmake -S . -B "$dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
elif [ "$#" -gt 0 ]; then
    cmake "$dir" "$@" >/dev/null  # options given again (e.g. by scripts/test.sh) win
fi
targets=()
for t in ${MALFIX_TARGETS:-}; do
    targets+=(--target "$t")
done
cmake --build "$dir" -j "$(nproc)" "${targets[@]}"
