#!/usr/bin/env bash
# Builds the malfix container image (Containerfile) with buildah and no image registry: a
# Debian 12 base made by mmdebstrap is imported as localhost/malfix-base and used as BASE.
# Usage: scripts/build-image.sh [TAG]   (default localhost/malfix:latest)
# Environment: MALFIX_REBUILD_BASE=1 remakes the base even when it exists; JOBS (default 2)
# build jobs; BUILDAH_ARGS extra arguments (e.g. --storage-driver vfs).
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:-localhost/malfix:latest}
base=localhost/malfix-base:bookworm
for tool in buildah mmdebstrap; do
    command -v "$tool" >/dev/null ||
        { echo "build-image: $tool is missing: apt-get install $tool" >&2; exit 1; }
done
# shellcheck disable=SC2086  # BUILDAH_ARGS is a list of words
buildah_() { buildah ${BUILDAH_ARGS:-} "$@"; }

if [ -n "${MALFIX_REBUILD_BASE:-}" ] ||
    ! buildah_ inspect --type image "$base" >/dev/null 2>&1; then
    work=$(mktemp -d /tmp/malfix-base.XXXXXX)
    trap 'rm -rf "$work"' EXIT
    mmdebstrap --quiet --variant=minbase bookworm "$work/base.tar"
    printf 'FROM scratch\nADD base.tar /\nCMD ["/bin/bash"]\n' >"$work/Containerfile"
    buildah_ bud --quiet --isolation chroot --layers=false -f "$work/Containerfile" -t "$base" \
        "$work" >/dev/null
    echo "base: $base"
fi
buildah_ bud --isolation chroot --pull=never --build-arg "BASE=$base" \
    --build-arg "JOBS=${JOBS:-2}" -f Containerfile -t "$tag" .
echo "image: $tag"
