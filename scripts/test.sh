#!/usr/bin/env bash
# The README's second command, and what CI runs: installs what is missing, checks formatting,
# builds with warnings as errors, and runs every test (unit, real captures, real peers).
set -euo pipefail
cd "$(dirname "$0")/.."
# CI also builds the container image and runs the sample inside it (issue 5); that needs
# buildah and mmdebstrap, and a machine where buildah may mount (not a plain chroot).
image=OFF
if [ "${CI:-}" = true ] || [ "${MALFIX_IMAGE_TEST:-0}" = 1 ]; then
    image=ON
fi
if [ "$image" = ON ]; then
    scripts/install-deps.sh --image
else
    scripts/install-deps.sh
fi
scripts/check-format.sh
MALFIX_BUILD_DIR=${MALFIX_BUILD_DIR:-build} scripts/build.sh -DMALFIX_WERROR=ON \
    -DMALFIX_IMAGE_TEST=$image
ctest --test-dir "${MALFIX_BUILD_DIR:-build}" --output-on-failure -j "$(nproc)" --timeout 300
