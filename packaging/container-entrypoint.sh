#!/bin/sh
# The image's `malfix` (first on PATH, before /usr/bin/malfix). With arguments it is plain
# malfix. Without, it runs the daemon: with /etc/malfix/malfix.toml when that file exists
# (the VOLUME may hide the shipped one), else with the same settings as flags.
if [ "$#" -gt 0 ]; then
    exec /usr/bin/malfix "$@"
fi
if [ -f /etc/malfix/malfix.toml ]; then
    exec /usr/bin/malfix --config /etc/malfix/malfix.toml
fi
exec /usr/bin/malfix --listen tcp://0.0.0.0:4739 --listen udp://0.0.0.0:4739 \
    --intel /var/lib/malfix/trails --output json:-
