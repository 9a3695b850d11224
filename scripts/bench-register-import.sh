#!/usr/bin/env bash
# The police-register import at national scale against DuckDB loading the same CSV:
# `kyso bench campaign-data` writes N residents (default 10,000,000) over the real 3,321 communes;
# kyso imports them into a fresh store (first load), again (every row unchanged), and a copy with
# one row in a hundred changed; DuckDB loads the same CSV into a table. Each kyso run prints its
# phases (index read, rows read and checked, stored, index updated).
# Usage: scripts/bench-register-import.sh [N] [sqlite|postgres]
#   postgres: KYSO_BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/regbench), dropped and
#   created afresh. Needs /usr/bin/time, and a Python with duckdb for the anchor
#   (KYSO_DUCKDB_PY, default python3; skipped when it has none). Files under KYSO_BENCH_DIR
#   (default /tmp/kyso-bench-register-import).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000000}
BACKEND=${2:-sqlite}
W=${KYSO_BENCH_DIR:-/tmp/kyso-bench-register-import}
PY=${KYSO_DUCKDB_PY:-python3}
PG=${KYSO_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/regbench}
cargo build --release -q -p kyso
K=${CARGO_TARGET_DIR:-$PWD/target}/release/kyso
D=$W/data-$N
mkdir -p "$W"
TIME=(/usr/bin/time -f "  %e s wall, %U s user, %S s sys, max RSS %M KiB")
echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
if [ ! -f "$D/register.csv" ]; then
  "$K" bench campaign-data --residents "$N" --list 0 --out "$D" >/dev/null
  # one row in a hundred with another household
  awk -F, 'BEGIN { OFS = "," } NR > 1 && NR % 100 == 0 { $6 = $6 "b" } { print }' "$D/register.csv" >"$D/register-changed.csv"
fi
ls -l "$D"/register*.csv

export KYSO_DATA_DIR=$W/kyso-$BACKEND KYSO_LOG=warn
rm -rf "$KYSO_DATA_DIR"
if [ "$BACKEND" = postgres ]; then
  db=${PG##*/}
  psql -q "${PG%/*}/postgres" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  export KYSO_DATABASE_URL=$PG
fi
"$K" init >/dev/null
"$K" campaign import-units "$D/admin-units.csv" >/dev/null
"$K" campaign import-hamlets "$D/hamlets.csv" >/dev/null
run() {
  echo "== kyso ($BACKEND): $1 (load $(cut -d' ' -f1 /proc/loadavg))"
  "${TIME[@]}" "$K" --json campaign import-register "$2" 2>"$W/err.txt" >"$W/out.json"
  grep -E "^register: index|^  [0-9.]+ s wall" "$W/err.txt" | sed 's/^register: /  /'
  python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); print("  rows", v["rows"], "new", v["inserted"], "updated", v["updated"], "unchanged", v["unchanged"], "rejected", len(v["rejected"]))' "$W/out.json"
}
run "first load" "$D/register.csv"
run "the same file again" "$D/register.csv"
run "one row in a hundred changed" "$D/register-changed.csv"
[ "$BACKEND" = sqlite ] && ls -l "$KYSO_DATA_DIR/kyso.db"

if "$PY" -c 'import duckdb' 2>/dev/null; then
  echo "== DuckDB $("$PY" -c 'import duckdb; print(duckdb.__version__)'): the same CSV into a table (load $(cut -d' ' -f1 /proc/loadavg))"
  rm -f "$W/duck.db" "$W/duck.db.wal"
  "${TIME[@]}" "$PY" - "$W/duck.db" "$D" <<'PY'
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
t = time.perf_counter()
con.execute(f"""CREATE TABLE register AS SELECT * FROM read_csv('{sys.argv[2]}/register.csv', header = true,
  columns = {{'id_number': 'VARCHAR', 'full_name': 'VARCHAR', 'date_of_birth': 'DATE', 'sex': 'VARCHAR',
             'hamlet_code': 'VARCHAR', 'household': 'VARCHAR', 'commune_code': 'VARCHAR'}})""")
print(f"  register: {con.execute('SELECT COUNT(*) FROM register').fetchone()[0]} rows in {time.perf_counter() - t:.2f} s")
PY
fi
