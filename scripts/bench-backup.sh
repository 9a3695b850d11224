#!/usr/bin/env bash
# Backup and restore of a sizable SQLite database (docs/BENCHMARKS.md, "Backup and restore"): a data
# directory with `kyso bench audit`'s log (1,000,000 audit rows, 35,000 certificates) and N register
# residents (default 1,000,000, scripts/gen-register.py), then `kyso backup` (integrity_check), `kyso backup
# --quick` (quick_check) and `kyso restore` (copy, check, migrations, the whole audit chain
# verified under the KEK, the CA keys opened), each timed. Usage: scripts/bench-backup.sh [N].
# Needs /usr/bin/time. Files go under KYSO_BENCH_DIR (default /tmp/kyso-bench-backup). K=path/to/kyso
# uses that binary instead of building the release one.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
W=${KYSO_BENCH_DIR:-/tmp/kyso-bench-backup}
PY=.ci/venv/bin/python3; [ -x "$PY" ] || PY=python3
if [ -z "${K:-}" ]; then
  cargo build --release -q -p kyso
  K=${CARGO_TARGET_DIR:-$PWD/target}/release/kyso
fi
TIME=(/usr/bin/time -f "  %e s wall, %U s user, %S s sys, max RSS %M KiB")
echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
mkdir -p "$W"
[ -f "$W/register.csv" ] && [ "$(($(wc -l <"$W/register.csv") - 1))" = "$N" ] || "$PY" scripts/gen-register.py "$N" "$W"
rm -rf "$W/data" "$W/restored" "$W"/*.bak
export KYSO_LOG=warn
# A million audit rows and 35,000 certificates (`kyso bench audit`'s log, kept), then the register.
"$K" bench audit --rows 1000000 --certificates 35000 --keep >/dev/null 2>"$W/audit.err"
mv "$(sed -n 's/^data directory kept: //p' "$W/audit.err")" "$W/data"
export KYSO_DATA_DIR=$W/data
"$K" campaign import-units "$W/units.csv" >/dev/null
"$K" campaign import-hamlets "$W/hamlets.csv" >/dev/null
"$K" campaign import-register "$W/register.csv" >/dev/null 2>&1
ls -l "$W/data/kyso.db"
echo "== kyso backup (integrity_check)"
"${TIME[@]}" "$K" --json backup "$W/full.bak" | "$PY" -c 'import json,sys; v=json.load(sys.stdin); print("  %.1f MB in %.2f s = %.0f MB/s; %d certificates, %d audit rows" % (v["bytes"]/1e6, v["seconds"], v["bytes"]/1e6/v["seconds"], v["certificates"], v["audit_rows"]))'
echo "== kyso backup --quick (quick_check)"
"${TIME[@]}" "$K" --json backup --quick "$W/quick.bak" | "$PY" -c 'import json,sys; v=json.load(sys.stdin); print("  %.1f MB in %.2f s = %.0f MB/s" % (v["bytes"]/1e6, v["seconds"], v["bytes"]/1e6/v["seconds"]))'
echo "== kyso restore (integrity_check, migrations, the whole audit chain, CA keys)"
"${TIME[@]}" env KYSO_DATA_DIR="$W/restored" "$K" --json restore "$W/full.bak" --kek "$W/data/kek" | "$PY" -c 'import json,sys; v=json.load(sys.stdin); print("  %.2f s; %d certificates, %d audit rows verified" % (v["seconds"], v["certificates"], v["audit_rows"]))'
echo "== for comparison: cp of the database file, and sqlite3 .backup"
sync; "${TIME[@]}" cp "$W/data/kyso.db" "$W/cp.bak"
command -v sqlite3 >/dev/null && "${TIME[@]}" sqlite3 "$W/data/kyso.db" ".backup '$W/sqlite3.bak'"
rm -f "$W/cp.bak" "$W/sqlite3.bak"
