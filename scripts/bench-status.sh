#!/usr/bin/env bash
# OCSP and RFC 3161 time-stamping at national traffic (issue 19), one command: the real server on
# loopback under load at c=1,8,64 with and without keep-alive, beside `openssl ocsp -multi 2`
# over an OpenSSL-made CA and `openssl ts -reply`, same machine, same run.
# Usage: scripts/bench-status.sh [seconds per row]   (default 5)
# Needs: cargo, openssl. Honours CARGO_TARGET_DIR. Measure on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-5}
cargo build --release -q -p kyso
K=${CARGO_TARGET_DIR:-$PWD/target}/release/kyso
export KYSO_LOG=warn
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
"$K" bench ocsp --secs "$SECS"
"$K" bench tsa --secs "$SECS"
