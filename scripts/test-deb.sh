#!/usr/bin/env bash
# Builds the malfix .deb with CPack, installs it with apt-get on a fresh Debian 12 root
# (mmdebstrap --variant=minbase bookworm, then chroot) and runs malfix there: --version, the
# shipped configuration through --print-config, and the README sample, whose detections must
# equal those of the same build run outside the root.
# Usage: scripts/test-deb.sh [BUILD_DIR]   (default build-deb; needs root, mmdebstrap and
# Debian's mirror as apt is configured; several minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)
build=${1:-build-deb}
started=$(date +%s)

if [ "$(id -u)" -ne 0 ]; then
    echo "FAIL: scripts/test-deb.sh needs root (mmdebstrap into a directory, chroot)"
    exit 1
fi
for tool in mmdebstrap dpkg-deb cpack; do
    command -v "$tool" >/dev/null ||
        { echo "FAIL: $tool is missing (scripts/install-deps.sh)"; exit 1; }
done

# 1. The package: a Release build of the programs only.
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMALFIX_BUILD_TESTS=OFF \
    -DMALFIX_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j2
(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls -t "$build"/malfix_*.deb | head -1)
echo "package: $deb ($(du -h "$deb" | cut -f1))"
dpkg-deb --field "$deb" Package Version Depends
contents=$(dpkg-deb --contents "$deb")
for path in ./usr/bin/malfix ./usr/bin/malfix-loadgen ./usr/bin/malfix-kafka-broker \
    ./lib/systemd/system/malfix.service ./etc/malfix/malfix.toml \
    ./usr/share/man/man1/malfix.1 ./usr/share/malfix/sample/softflowd_sample.ipfix; do
    grep -q " $path\$" <<<"$contents" || { echo "FAIL: $deb lacks $path"; exit 1; }
done
dpkg-deb --field "$deb" Depends | grep -q librdkafka ||
    { echo "FAIL: Depends lacks the shared libraries (CPACK_DEBIAN_PACKAGE_SHLIBDEPS)"; exit 1; }

# 2. A fresh Debian 12 root, and the package installed into it as an operator would.
root=$(mktemp -d /tmp/malfix-deb-root.XXXXXX)
cleanup() {
    umount "$root/proc" 2>/dev/null || true
    rm -rf "$root"
}
trap cleanup EXIT
mmdebstrap --quiet --variant=minbase bookworm "$root"
cp "$deb" "$root/tmp/malfix.deb"
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
chroot "$root" apt-get update -qq
chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /tmp/malfix.deb \
    >/dev/null

# 3. malfix runs there.
version=$(chroot "$root" malfix --version)
echo "installed: $version"
[ "$version" = "malfix $(dpkg-deb --field "$deb" Version)" ] ||
    { echo "FAIL: --version says '$version'"; exit 1; }
chroot "$root" malfix --config /etc/malfix/malfix.toml --print-config >/dev/null ||
    { echo "FAIL: the shipped /etc/malfix/malfix.toml is refused"; exit 1; }
sample=/usr/share/malfix/sample
inside=$(chroot "$root" malfix --read $sample/yaf_mixed_v4v6_dpi.yaf \
    --read $sample/softflowd_sample.ipfix --intel $sample/trails --output json:- \
    --log-level warn)
outside=$("$build/apps/malfix" --read tests/data/sample/yaf_mixed_v4v6_dpi.yaf \
    --read tests/data/sample/softflowd_sample.ipfix --intel tests/data/sample/trails \
    --output json:- --log-level warn)
hits() { python3 -c 'import json,sys
print("\n".join(sorted("%s %s %s" % (h["trail"], h["type"], h["field"])
      for line in sys.stdin if line.strip() for h in json.loads(line)["hits"])))'; }
inside_hits=$(hits <<<"$inside")
outside_hits=$(hits <<<"$outside")
[ -n "$inside_hits" ] || { echo "FAIL: the sample gave no detections in the root"; exit 1; }
[ "$inside_hits" = "$outside_hits" ] ||
    {
        echo "FAIL: detections differ:"
        diff <(echo "$outside_hits") <(echo "$inside_hits")
        exit 1
    }
echo "sample: $(wc -l <<<"$inside_hits") hits, as outside"
echo "PASS ($(($(date +%s) - started)) s)"
