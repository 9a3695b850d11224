#!/usr/bin/env bash
# The campaign at national scale: a synthetic register over the real 3,321 communes and a provider
# list, imported by kyso (SQLite) and by DuckDB from the same CSV files, one after the other on the
# same machine. Usage: scripts/bench-campaign.sh [RESIDENTS] [LIST_ROWS]   (default 10000000 4000000)
#
# Timed for both: the provider list loaded (deduplicated, matched against the register, the
# unmatched rows listed) and every commune's holders and adults on DATE recomputed (kyso's import
# does both; the standalone recompute is timed after it). Not timed:
# generating the files and loading the register (reported as setup). Peak memory from
# /usr/bin/time (max RSS). Needs: cargo, /usr/bin/time (apt-get install time), and a Python with
# duckdb (KYSO_DUCKDB_PY, default python3) — a benchmark dependency, not in .ci/requirements.txt.
# Files and databases go under KYSO_BENCH_DIR (default /tmp/kyso-bench-campaign): ~6 GB at full size.
set -euo pipefail
cd "$(dirname "$0")/.."
R=${1:-10000000}
L=${2:-4000000}
W=${KYSO_BENCH_DIR:-/tmp/kyso-bench-campaign}
PY=${KYSO_DUCKDB_PY:-python3}
DATE=2026-11-20
COMMUNE=${KYSO_BENCH_COMMUNE:-01960}
cargo build --release -q -p kyso
K=${CARGO_TARGET_DIR:-$PWD/target}/release/kyso
D=$W/data-$R-$L
mkdir -p "$W"
# Runs a command under /usr/bin/time; its report goes to stdout after the command's own output.
exec 3>&1
timed() {
  /usr/bin/time -f "  %e s wall, %U s user, %S s sys, max RSS %M KiB" -o "$W/time.txt" "$@"
  cat "$W/time.txt" >&3
}

echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
if [ ! -f "$D/provider-list.csv" ]; then
  echo "== generating $R residents, $L list rows in $D"
  timed "$K" bench campaign-data --residents "$R" --list "$L" --out "$D"
fi

export KYSO_DATA_DIR=$W/kyso KYSO_LOG=warn
rm -rf "$W/kyso"
if [ -f "$W/kyso-base-$R/kyso.db" ]; then
  echo "== kyso (SQLite) setup: the register imported by an earlier run ($W/kyso-base-$R)"
  cp -a "$W/kyso-base-$R" "$W/kyso"
else
  echo "== kyso (SQLite) setup: units, hamlets, register (not timed in the comparison)"
  "$K" init >/dev/null
  "$K" campaign import-units "$D/admin-units.csv" | head -1
  "$K" campaign import-hamlets "$D/hamlets.csv" | head -1
  timed "$K" --json campaign import-register "$D/register.csv" 2>/dev/null >"$W/register.json"
  head -c 300 "$W/register.json"; echo
  cp -a "$W/kyso" "$W/kyso-base-$R"
fi
ls -l "$W/kyso/kyso.db"
sync

echo "== kyso: provider list import, that day's adoption of every commune included (load $(cut -d' ' -f1 /proc/loadavg))"
timed "$K" --json campaign import-provider-list "$D/provider-list.csv" --as-of "$DATE" 2>"$W/provider-err.txt" \
  >"$W/provider.json"
grep "^read" "$W/provider-err.txt" | sed 's/^/  /' 
"$PY" -c 'import json,sys; v=json.load(open(sys.argv[1])); print("  rows", v["rows"], "certificates", v["certificates"], "unmatched", len(v["unmatched"]), "duplicates", len(v["duplicates"]), "rejected", len(v["rejected"]))' "$W/provider.json"
echo "== kyso: every commune's adoption recomputed on its own (what --refresh costs)"
timed "$K" --json campaign adoption --date "$DATE" --refresh >"$W/adoption.json"
"$PY" -c 'import json,sys; v=json.load(open(sys.argv[1])); print("  holders", v["holders"], "adults", v["adults"], "communes", v["communes"])' "$W/adoption.json"
ls -l "$W/kyso/kyso.db"
echo "== kyso: all-communes roll-up latency, one commune's worklists"
timed "$K" bench campaign --date "$DATE" --commune "$COMMUNE" --runs 200

echo "== DuckDB $("$PY" -c 'import duckdb; print(duckdb.__version__)') setup: register (not timed in the comparison)"
rm -f "$W/duck.db" "$W/duck.db.wal"
timed "$PY" - "$W/duck.db" "$D" <<'PY'
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
t = time.perf_counter()
con.execute(f"""CREATE TABLE register AS SELECT * FROM read_csv('{sys.argv[2]}/register.csv', header = true,
  columns = {{'id_number': 'VARCHAR', 'full_name': 'VARCHAR', 'date_of_birth': 'DATE', 'sex': 'VARCHAR',
             'hamlet_code': 'VARCHAR', 'household': 'VARCHAR', 'commune_code': 'VARCHAR'}})""")
con.execute("CREATE TABLE communes AS SELECT * FROM read_csv('%s/admin-units.csv', header = true, all_varchar = true)" % sys.argv[2])
print(f"  register: {con.execute('SELECT COUNT(*) FROM register').fetchone()[0]} rows in {time.perf_counter() - t:.2f} s")
PY
echo "== DuckDB: provider list load + adoption + unmatched (load $(cut -d' ' -f1 /proc/loadavg))"
timed "$PY" - "$W/duck.db" "$D" "$DATE" <<'PY'
import sys, time, duckdb
db, d, date = sys.argv[1:]
con = duckdb.connect(db)
t = time.perf_counter()
# One row per (ID number, provider, issue date), earliest end wins — kyso's rule.
con.execute(f"""CREATE OR REPLACE TABLE list AS SELECT id_number, provider, issue_date,
    min(expiry_date) AS expiry_date,
    min(CASE WHEN revoked_date IS NOT NULL THEN revoked_date
             WHEN status = 'revoked' OR (status = 'expired' AND expiry_date IS NULL) THEN DATE '{date}' END) AS ended
  FROM read_csv('{d}/provider-list.csv', header = true,
    columns = {{'id_number': 'VARCHAR', 'provider': 'VARCHAR', 'issue_date': 'DATE', 'expiry_date': 'DATE',
               'status': 'VARCHAR', 'revoked_date': 'DATE'}})
  GROUP BY id_number, provider, issue_date""")
t_load = time.perf_counter() - t
unmatched = con.execute("""SELECT substr(id_number, 1, 4) || '****' || substr(id_number, 9) FROM list l
  WHERE NOT EXISTS (SELECT 1 FROM register r WHERE r.id_number = l.id_number)""").fetchall()
con.execute(f"""CREATE OR REPLACE TABLE adoption AS
  WITH holders AS (SELECT r.commune_code, count(DISTINCT l.id_number) AS n FROM list l JOIN register r USING (id_number)
         WHERE l.issue_date <= DATE '{date}' AND (l.expiry_date IS NULL OR l.expiry_date > DATE '{date}')
           AND (l.ended IS NULL OR l.ended > DATE '{date}') GROUP BY r.commune_code),
       adults AS (SELECT commune_code, count(*) AS n FROM register
         WHERE date_of_birth <= DATE '{date}' - INTERVAL 15 YEAR GROUP BY commune_code)
  SELECT c.commune_code, coalesce(h.n, 0) AS holders, coalesce(a.n, 0) AS adults FROM communes c
  LEFT JOIN holders h USING (commune_code) LEFT JOIN adults a USING (commune_code)""")
total = time.perf_counter() - t
certs, = con.execute("SELECT COUNT(*) FROM list").fetchone()
h, a, n = con.execute("SELECT sum(holders), sum(adults), count(*) FROM adoption").fetchone()
print(f"  certificates {certs} unmatched {len(unmatched)}; holders {h} adults {a} communes {n}")
print(f"  list load {t_load:.2f} s, + unmatched + adoption: {total:.2f} s in all")
PY
