#!/usr/bin/env bash
# Builds the container image (scripts/build-image.sh) and checks it with buildah alone: the
# README sample run inside as the malfix user gives the same detections as the malfix built
# outside; the image's settings (user, entrypoint, volumes); the daemon that starts without
# arguments; and the size the runtime stage adds to its base.
# Usage: scripts/test-image.sh [MALFIX]   (the binary built outside; default build/apps/malfix)
set -euo pipefail
cd "$(dirname "$0")/.."
outside=${1:-build/apps/malfix}
tag=localhost/malfix:test
base=localhost/malfix-base:bookworm
started=$(date +%s)
[ -x "$outside" ] || { echo "FAIL: no malfix at $outside (build it first)"; exit 1; }

scripts/build-image.sh "$tag"
# shellcheck disable=SC2086
buildah_() { buildah ${BUILDAH_ARGS:-} "$@"; }
ctr=$(buildah_ from --pull=never "$tag")
trap 'buildah_ rm "$ctr" >/dev/null' EXIT
run() { buildah_ run --isolation chroot --user malfix "$@"; }

# The image's settings.
config=$(buildah_ inspect --type image --format \
    '{{.OCIv1.Config.User}}|{{.OCIv1.Config.Entrypoint}}|{{.OCIv1.Config.Volumes}}' "$tag")
echo "image config: $config"
[[ $config == malfix\|\[malfix\]\|* ]] || { echo "FAIL: user or entrypoint: $config"; exit 1; }
[[ $config == *"/etc/malfix"* && $config == *"/var/lib/malfix/trails"* ]] ||
    { echo "FAIL: volumes: $config"; exit 1; }
[ "$(run "$ctr" -- id -un)" = malfix ] || { echo "FAIL: not running as malfix"; exit 1; }

# The README sample, inside and outside.
hits() { python3 -c 'import json,sys
print("\n".join(sorted("%s %s %s" % (h["trail"], h["type"], h["field"])
      for line in sys.stdin if line.strip() for h in json.loads(line)["hits"])))'; }
s=/usr/share/malfix/sample
inside=$(run "$ctr" -- malfix --read $s/yaf_mixed_v4v6_dpi.yaf --read $s/softflowd_sample.ipfix \
    --intel $s/trails --output json:- --log-level warn | hits)
outside_out=$("$outside" --read tests/data/sample/yaf_mixed_v4v6_dpi.yaf \
    --read tests/data/sample/softflowd_sample.ipfix --intel tests/data/sample/trails \
    --output json:- --log-level warn | hits)
[ -n "$inside" ] || { echo "FAIL: no detections inside the image"; exit 1; }
[ "$inside" = "$outside_out" ] ||
    { echo "FAIL: detections differ"; diff <(echo "$outside_out") <(echo "$inside"); exit 1; }
echo "sample: $(wc -l <<<"$inside") hits inside, as outside"

# No arguments: the entrypoint runs the daemon with /etc/malfix/malfix.toml. Its effective
# configuration is checked with --print-config, so the test binds no port on the host (chroot
# isolation shares the host's network).
config_out=$(run "$ctr" -- malfix --config /etc/malfix/malfix.toml --print-config)
for line in 'tcp://0.0.0.0:4739' 'udp://0.0.0.0:4739' '/var/lib/malfix/trails'; do
    grep -qF "$line" <<<"$config_out" || {
        echo "FAIL: the image's configuration lacks '$line':"
        echo "$config_out"
        exit 1
    }
done
entry=$(buildah_ inspect --type image --format '{{.OCIv1.Config.Entrypoint}}' "$tag")
echo "daemon: /etc/malfix/malfix.toml listens on 4739 tcp+udp, trails from the volume ($entry)"

# Size: the image's files against its base's (both containers' root file systems, mounted).
base_ctr=$(buildah_ from --pull=never "$base")
trap 'buildah_ rm "$ctr" "$base_ctr" >/dev/null' EXIT
bytes() { du -sbx "$(buildah_ mount "$1")" | cut -f1; }
image_bytes=$(bytes "$ctr")
base_bytes=$(bytes "$base_ctr")
buildah_ umount "$ctr" "$base_ctr" >/dev/null
added=$(((image_bytes - base_bytes) / 1000000))
echo "size: image $((image_bytes / 1000000)) MB, base $((base_bytes / 1000000)) MB," \
    "runtime layers add $added MB"
[ "$added" -le 40 ] || { echo "FAIL: the runtime stage adds more than 40 MB"; exit 1; }
echo "PASS ($(($(date +%s) - started)) s)"
