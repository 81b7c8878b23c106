#!/usr/bin/env bash
# The README's first command: installs what is missing, builds malfix, and runs it on the
# sample shipped in tests/data/sample: a real yaf capture with DNS and a softflowd export,
# matched against a subset of Maltrail's trails. Detections go to stdout as JSON lines.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
MALFIX_TARGETS=malfix scripts/build.sh
sample=tests/data/sample
exec build/apps/malfix \
    --read "$sample/yaf_mixed_v4v6_dpi.yaf" \
    --read "$sample/softflowd_sample.ipfix" \
    --intel "$sample/trails" \
    --output json:- "$@"
