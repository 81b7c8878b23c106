#!/usr/bin/env bash
# Installs everything malfix needs to build, test and benchmark on Debian 12, with apt-get only.
# Usage: scripts/install-deps.sh [--image]   (--image adds buildah and mmdebstrap for the
# container image build and its test)
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
build=(build-essential cmake ninja-build pkg-config git
       libboost-dev libconcurrentqueue-dev librdkafka-dev libprotobuf-dev protobuf-compiler
       libcli11-dev catch2 libpcap-dev libbenchmark-dev clang-format help2man)
# Real peers used by the interoperability tests: exporters, decoders and plain TCP tools.
peers=(softflowd libfixbuf-tools tshark socat netcat-openbsd kcat python3 procps curl gnuplot-nox
       prometheus systemd)
if [ "${1:-}" = --image ]; then
    peers+=(buildah mmdebstrap)
fi
stamp=/var/lib/apt/periodic/malfix-updated
if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +720 2>/dev/null)" ]; then
    $SUDO apt-get update -qq
    $SUDO mkdir -p "$(dirname "$stamp")" && $SUDO touch "$stamp"
fi
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
# Some peers (prometheus) ship a daemon; the tests need only their tools. Where no policy is
# set, tell invoke-rc.d not to start services during this install (Debian's policy-rc.d).
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod +x "$policy"
    trap '$SUDO rm -f "$policy"' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends "${build[@]}" "${peers[@]}" >/dev/null
