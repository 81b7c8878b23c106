#!/usr/bin/env bash
# The README's second command, and what CI runs: installs what is missing, checks formatting,
# builds with warnings as errors, and runs every test (unit, real captures, real peers).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/check-format.sh
MALFIX_BUILD_DIR=${MALFIX_BUILD_DIR:-build} scripts/build.sh -DMALFIX_WERROR=ON
ctest --test-dir "${MALFIX_BUILD_DIR:-build}" --output-on-failure -j "$(nproc)" --timeout 300
