#!/usr/bin/env bash
# The campaign at national scale: a synthetic register over the real 3,321 communes and a provider
# list, imported by kyso and by an anchor from the same CSV files, one after the other on the same
# machine. Usage: scripts/bench-campaign.sh [RESIDENTS] [LIST_ROWS] [sqlite|postgres]
# (default 10000000 4000000 sqlite)
#   sqlite:   kyso on SQLite against DuckDB (a Python with duckdb: KYSO_DUCKDB_PY, default python3 —
#             a benchmark dependency, not in .ci/requirements.txt).
#   postgres: kyso on PostgreSQL against psql on the same server (`\copy` and SQL). KYSO_BENCH_PG_URL
#             (default postgres://postgres@127.0.0.1:5432/campg_bench) is dropped and created afresh
#             from a template database holding the imported register (<name>_base_<RESIDENTS>,
#             made by the first run); the anchor's tables live in <name>_psql_<RESIDENTS>.
#
# Timed for both: the provider list loaded (deduplicated, matched against the register, the
# unmatched rows listed) and every commune's holders and adults on DATE recomputed (kyso's import
# does both; the standalone recompute is timed after it). Not timed: generating the files and
# loading the register (reported as setup). Peak memory from /usr/bin/time (max RSS). On
# PostgreSQL the server's CPU is reported beside the client's (the whole cluster's, from the
# postmaster's and its children's counters, so other work on the same server shows in it).
# KYSO_BIN: a kyso binary to run instead of building this checkout's (to compare two builds).
# Needs: cargo, /usr/bin/time (apt-get install time), python3; psql for postgres.
# Files and databases go under KYSO_BENCH_DIR (default /tmp/kyso-bench-campaign): ~6 GB at full size.
set -euo pipefail
cd "$(dirname "$0")/.."
R=${1:-10000000}
L=${2:-4000000}
BACKEND=${3:-sqlite}
W=${KYSO_BENCH_DIR:-/tmp/kyso-bench-campaign}
PY=${KYSO_DUCKDB_PY:-python3}
PG=${KYSO_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/campg_bench}
DATE=2026-11-20
COMMUNE=${KYSO_BENCH_COMMUNE:-01960}
case $BACKEND in sqlite | postgres) ;; *) echo "usage: $0 [RESIDENTS] [LIST_ROWS] [sqlite|postgres]" >&2; exit 2 ;; esac
if [ -n "${KYSO_BIN:-}" ]; then K=$KYSO_BIN; else
  cargo build --release -q -p kyso
  K=${CARGO_TARGET_DIR:-$PWD/target}/release/kyso
fi
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

export KYSO_LOG=warn
if [ "$BACKEND" = postgres ]; then
  SERVER=${PG%/*} DB=${PG##*/}
  BASE=${DB}_base_$R ANCHOR=${DB}_psql_$R
  psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }
  exists() { [ -n "$(psql -Atc "SELECT 1 FROM pg_database WHERE datname = '$1'" "$SERVER/postgres")" ]; }
  # The server's CPU so far (clock ticks): the postmaster's, its live children's, and the backends
  # it has reaped (counted in its cutime/cstime).
  PM=$(head -1 "$(psql -Atc 'SHOW data_directory' "$SERVER/postgres")/postmaster.pid")
  server_ticks() {
    local t=0 p f
    for p in "$PM" $(pgrep -P "$PM"); do
      f=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null) || continue
      set -- $f
      t=$((t + ${12} + ${13}))
      [ "$p" = "$PM" ] && t=$((t + ${14} + ${15}))
    done
    echo "$t"
  }
  # `server_timed LABEL CMD…`: CMD under /usr/bin/time, then the server's CPU during it.
  server_timed() {
    local before after
    before=$(server_ticks)
    timed "$@"
    sleep 0.2
    after=$(server_ticks)
    echo "  server CPU $(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }') s" >&3
  }
  export KYSO_DATA_DIR=$W/kyso-pg
  if exists "$BASE" && [ -d "$W/kyso-pg-base-$R" ]; then
    echo "== kyso (PostgreSQL) setup: the register imported by an earlier run (database $BASE)"
  else
    echo "== kyso (PostgreSQL) setup: units, hamlets, register into $BASE (not timed in the comparison; load $(cut -d' ' -f1 /proc/loadavg))"
    rm -rf "$W/kyso-pg-base-$R" "$W/kyso-pg-base-new"
    psql "$SERVER/postgres" -c "DROP DATABASE IF EXISTS $BASE" -c "CREATE DATABASE $BASE"
    (
      export KYSO_DATA_DIR=$W/kyso-pg-base-new KYSO_DATABASE_URL=$SERVER/$BASE
      "$K" init >/dev/null
      "$K" campaign import-units "$D/admin-units.csv" | head -1
      "$K" campaign import-hamlets "$D/hamlets.csv" | head -1
      server_timed "$K" --json campaign import-register "$D/register.csv" 2>"$W/register-err.txt" >"$W/register.json"
      grep -E "^register: index" "$W/register-err.txt" | sed 's/^register: /  /' || true
      head -c 300 "$W/register.json"; echo
    )
    psql "$SERVER/$BASE" -c "VACUUM (ANALYZE)"
    mv "$W/kyso-pg-base-new" "$W/kyso-pg-base-$R"
  fi
  rm -rf "$KYSO_DATA_DIR"
  cp -a "$W/kyso-pg-base-$R" "$KYSO_DATA_DIR"
  psql "$SERVER/postgres" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB TEMPLATE $BASE STRATEGY FILE_COPY"
  export KYSO_DATABASE_URL=$PG
  echo "  $DB: $(psql -Atc "SELECT pg_size_pretty(pg_database_size('$DB'))" "$SERVER/postgres")"
  TIMED=server_timed
else
  export KYSO_DATA_DIR=$W/kyso
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
  TIMED=timed
fi
sync

echo "== kyso ($BACKEND): provider list import, that day's adoption of every commune included (load $(cut -d' ' -f1 /proc/loadavg))"
$TIMED "$K" --json campaign import-provider-list "$D/provider-list.csv" --as-of "$DATE" 2>"$W/provider-err.txt" \
  >"$W/provider.json"
grep "^read" "$W/provider-err.txt" | sed 's/^/  /'
python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); print("  rows", v["rows"], "certificates", v["certificates"], "unmatched", len(v["unmatched"]), "duplicates", len(v["duplicates"]), "rejected", len(v["rejected"]))' "$W/provider.json"
echo "== kyso ($BACKEND): every commune's adoption recomputed on its own (what --refresh costs; load $(cut -d' ' -f1 /proc/loadavg))"
$TIMED "$K" --json campaign adoption --date "$DATE" --refresh >"$W/adoption.json"
python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); print("  holders", v["holders"], "adults", v["adults"], "communes", v["communes"])' "$W/adoption.json"
[ "$BACKEND" = sqlite ] && ls -l "$W/kyso/kyso.db"
echo "== kyso ($BACKEND): all-communes roll-up latency, one commune's worklists (load $(cut -d' ' -f1 /proc/loadavg))"
$TIMED "$K" bench campaign --date "$DATE" --commune "$COMMUNE" --runs 200
# A deployment keeps every day's snapshots: the roll-up again with the 365 days before DATE
# stored too (copies of DATE's figures; 1.2 M rows at 3,321 communes).
HISTORY="INSERT INTO adoption_snapshots (commune_code, date, holders, adults, taken_at)
  SELECT s.commune_code, d.day, s.holders, s.adults, s.taken_at FROM adoption_snapshots s, days d
  WHERE s.date = '$DATE' ON CONFLICT (commune_code, date) DO NOTHING"
if [ "$BACKEND" = postgres ]; then
  psql "$PG" -c "WITH days AS (SELECT to_char(DATE '$DATE' - g, 'YYYY-MM-DD') AS day FROM generate_series(1, 365) g) $HISTORY" \
    -c "VACUUM (ANALYZE) adoption_snapshots"
else
  python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()' "$W/kyso/kyso.db" \
    "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 365),
       days AS (SELECT date('$DATE', '-' || n || ' days') AS day FROM g) $HISTORY"
fi
echo "== kyso ($BACKEND): the roll-up again with a year of daily snapshots stored (load $(cut -d' ' -f1 /proc/loadavg))"
$TIMED "$K" bench campaign --date "$DATE" --commune "$COMMUNE" --runs 200

if [ "$BACKEND" = postgres ]; then
  # The anchor: the same files into plain tables with \copy, the same work in SQL. Its register
  # (and the communes) are set up once per register size, untimed.
  if ! exists "$ANCHOR" || [ -z "$(psql -Atc "SELECT 1 FROM pg_tables WHERE tablename = 'register_loaded'" "$SERVER/$ANCHOR")" ]; then
    echo "== psql setup: register and communes into $ANCHOR (not timed in the comparison)"
    psql "$SERVER/postgres" -c "DROP DATABASE IF EXISTS $ANCHOR" -c "CREATE DATABASE $ANCHOR"
    cat >"$W/psql-setup.sql" <<SQL
\timing on
CREATE TABLE register (id_number text, full_name text, date_of_birth date, sex text, hamlet_code text,
  household text, commune_code text);
\copy register FROM '$D/register.csv' WITH (FORMAT csv, HEADER true)
ALTER TABLE register ADD PRIMARY KEY (id_number);
CREATE TABLE communes (province_code text, province_name text, commune_code text PRIMARY KEY, commune_name text,
  commune_type text, lat text, lon text, area_km2 text);
\copy communes FROM '$D/admin-units.csv' WITH (FORMAT csv, HEADER true)
VACUUM (ANALYZE) register;
VACUUM (ANALYZE) communes;
CREATE TABLE register_loaded ();
SQL
    server_timed /usr/bin/psql -X -v ON_ERROR_STOP=1 -f "$W/psql-setup.sql" "$SERVER/$ANCHOR" | grep -E "^Time|s wall|server CPU" | sed 's/^Time/  Time/'
  fi
  psql "$SERVER/$ANCHOR" -c "DROP TABLE IF EXISTS list_raw, list, adoption"
  # One row per (ID number, provider, issue date), earliest end wins — kyso's rule.
  cat >"$W/psql-anchor.sql" <<SQL
\timing on
SET work_mem = '256MB';
CREATE TABLE list_raw (id_number text, provider text, issue_date date, expiry_date date, status text,
  revoked_date date);
\copy list_raw FROM '$D/provider-list.csv' WITH (FORMAT csv, HEADER true)
CREATE TABLE list AS SELECT id_number, provider, issue_date, min(expiry_date) AS expiry_date,
    min(CASE WHEN revoked_date IS NOT NULL THEN revoked_date
             WHEN status = 'revoked' OR (status = 'expired' AND expiry_date IS NULL) THEN DATE '$DATE' END) AS ended
  FROM list_raw GROUP BY id_number, provider, issue_date;
\copy (SELECT substr(id_number, 1, 4) || '****' || substr(id_number, 9) FROM list l WHERE NOT EXISTS (SELECT 1 FROM register r WHERE r.id_number = l.id_number)) TO '$W/psql-unmatched.txt'
CREATE TABLE adoption AS
  WITH holders AS (SELECT r.commune_code, count(DISTINCT l.id_number) AS n FROM list l JOIN register r USING (id_number)
         WHERE l.issue_date <= DATE '$DATE' AND (l.expiry_date IS NULL OR l.expiry_date > DATE '$DATE')
           AND (l.ended IS NULL OR l.ended > DATE '$DATE') GROUP BY r.commune_code),
       adults AS (SELECT commune_code, count(*) AS n FROM register
         WHERE date_of_birth <= DATE '$DATE' - INTERVAL '15 years' GROUP BY commune_code)
  SELECT c.commune_code, coalesce(h.n, 0) AS holders, coalesce(a.n, 0) AS adults FROM communes c
  LEFT JOIN holders h USING (commune_code) LEFT JOIN adults a USING (commune_code);
SQL
  sync
  echo "== psql $(psql -Atc 'SHOW server_version' "$SERVER/postgres"): provider list load + dedupe + unmatched + adoption, one psql -f (load $(cut -d' ' -f1 /proc/loadavg))"
  server_timed /usr/bin/psql -X -v ON_ERROR_STOP=1 -f "$W/psql-anchor.sql" "$SERVER/$ANCHOR" >"$W/psql-anchor.out"
  grep -E "^(COPY|SELECT|Time)" "$W/psql-anchor.out" | paste -sd' ' | sed 's/^/  /'
  psql -At -F ' ' -c "SELECT 'certificates', (SELECT count(*) FROM list), 'unmatched', $(wc -l <"$W/psql-unmatched.txt"),
      'holders', sum(holders), 'adults', sum(adults), 'communes', count(*) FROM adoption" "$SERVER/$ANCHOR" | sed 's/^/  /'
  exit 0
fi

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
