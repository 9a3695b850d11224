#!/usr/bin/env bash
# Two kyso binaries, one after the other on the same inputs: issuance, PDF signing and validation,
# and the campaign's import → adoption → roll-up path (SQLite). For "no slower" checks after a
# restructuring: build the old commit's binary in another worktree, then
#   scripts/bench-before-after.sh OLD/target/release/kyso target/release/kyso [RESIDENTS LIST_ROWS]
# Needs openssl. Inputs and data directories under KYSO_BENCH_DIR (default a temporary directory).
set -euo pipefail
cd "$(dirname "$0")/.."
OLD=$(realpath "$1") NEW=$(realpath "$2")
R=${3:-2000000} L=${4:-800000}
W=${KYSO_BENCH_DIR:-$(mktemp -d)}
mkdir -p "$W"
export KYSO_LOG=warn
load() { cut -d' ' -f1 /proc/loadavg; }
t() { /usr/bin/time -f "%e s wall, %U user, %S sys, %M KiB" "$@"; }

echo "== machine: $(nproc) cores, load $(load)"
echo "== issuance: bench issue --count 20000, three rounds (old, new)"
for round in 1 2 3; do
  for which in OLD NEW; do
    bin=${!which}
    rm -rf "$W/issue" && KYSO_DATA_DIR=$W/issue "$bin" init >/dev/null
    printf '%s round %s (load %s): ' "$which" "$round" "$(load)"
    KYSO_DATA_DIR=$W/issue "$bin" bench issue --count 20000 | tail -n 1
  done
done

echo "== PDF: bench pdf --count 3000 (PAdES B-B sign, then validate), one core, two rounds"
P=$W/pdf && rm -rf "$P" && mkdir -p "$P"
scripts/pdf-bench-inputs.sh "$P" "$NEW"
for round in 1 2; do
  for which in OLD NEW; do
    printf '%s round %s (load %s):\n' "$which" "$round" "$(load)"
    taskset -c 0 "${!which}" bench pdf --pdf "$P/doc.pdf" --key "$P/k.pem" --certs "$P/c.pem" "$P/vnpt.pem" \
      "$P/root.pem" --count 3000 | sed 's/^/  /'
  done
done

echo "== campaign: $R residents, $L provider-list rows (SQLite)"
D=$W/campaign-data-$R-$L
[ -f "$D/provider-list.csv" ] || "$NEW" bench campaign-data --residents "$R" --list "$L" --out "$D" >/dev/null
for which in OLD NEW; do
  bin=${!which} C=$W/campaign-$which
  rm -rf "$C" && export KYSO_DATA_DIR=$C
  "$bin" init >/dev/null
  "$bin" campaign import-units "$D/admin-units.csv" >/dev/null
  "$bin" campaign import-hamlets "$D/hamlets.csv" >/dev/null
  echo "$which (load $(load)):"
  printf '  register import:       ' && t "$bin" --json campaign import-register "$D/register.csv" 2>&1 >/dev/null | tail -n 1
  printf '  provider-list import:  ' && t "$bin" --json campaign import-provider-list "$D/provider-list.csv" \
    --as-of 2025-12-31 2>&1 >/dev/null | tail -n 1
  printf '  adoption --refresh:    ' && t "$bin" --json campaign adoption --date 2025-12-31 --refresh 2>&1 >/dev/null | tail -n 1
  printf '  roll-up and worklists: ' && "$bin" bench campaign --date 2025-12-31 --commune 01960 --runs 200 | tr '\n' ' '
  echo
done
