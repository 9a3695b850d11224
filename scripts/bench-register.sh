#!/usr/bin/env bash
# The police-register import at scale: N residents (default 1,000,000) as CSV, optionally XLSX too,
# imported into a fresh SQLite store by the release binary, then imported again (every row an
# update). Usage: scripts/bench-register.sh [N] [--xlsx]. Needs /usr/bin/time (apt-get install time);
# --xlsx needs openpyxl (.ci/venv). Files go under KYSO_BENCH_DIR (default /tmp/kyso-bench-register).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
W=${KYSO_BENCH_DIR:-/tmp/kyso-bench-register}
PY=.ci/venv/bin/python3; [ -x "$PY" ] || PY=python3
cargo build --release -q -p kyso
K=${CARGO_TARGET_DIR:-$PWD/target}/release/kyso
# /usr/bin/time writes its report to a file: kyso's own stderr (progress) is not wanted here.
TIME=(/usr/bin/time -f "  %e s wall, %U s user, %S s sys, max RSS %M KiB" -o "$W/time.txt")
echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$PY" scripts/gen-register.py "$N" "$W" ${2:-}
ls -l "$W"/register.*
for f in "$W"/register.csv ${2:+"$W"/register.xlsx}; do
  rm -rf "$W/data"
  export KYSO_DATA_DIR=$W/data KYSO_LOG=warn
  "$K" init >/dev/null
  "$K" campaign import-units "$W/units.csv" >/dev/null
  "$K" campaign import-hamlets "$W/hamlets.csv" >/dev/null
  for run in first again; do
    echo "== $(basename "$f"): $run import"
    "${TIME[@]}" "$K" --json campaign import-register "$f" 2>/dev/null >"$W/out.json"
    cat "$W/time.txt"
    "$PY" -c 'import json,sys; v=json.load(open(sys.argv[1])); print("  rows", v["rows"], "imported", v["imported"], "new", v["inserted"], "updated", v["updated"], "rejected", len(v["rejected"]))' "$W/out.json"
  done
done
