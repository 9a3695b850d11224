#!/usr/bin/env bash
# The nation partitioned and federated, measured at scale (issue 20 item 4; docs/BENCHMARKS.md,
# "The nation, partitioned and federated"). Usage:
#   scripts/bench-federation.sh [RESIDENTS] [LIST_ROWS] [CLUSTERS]   (default 30000000 12000000 3)
#   scripts/bench-federation.sh stop | clean
#
# Builds the layout of docs/DEPLOYMENT.md's nation on one machine: CLUSTERS PostgreSQL clusters
# holding the 34 provinces' own kyso databases (fedscale_pNN, province i on cluster i mod
# CLUSTERS) and a coordinator cluster (fedscale_nation) with every province attached by
# `kyso federation attach` as a postgres_fdw foreign partition. Setup, reported but not the
# measurement: `kyso bench campaign-data` makes a national register and provider list,
# `kyso bench federation-split` cuts them per province, and each province's kyso imports its
# units, hamlets, register and provider list (that day's adoption computed by the import) — kyso's
# own import paths (COPY on PostgreSQL), two provinces at a time. Measured: `kyso bench
# federation` — the national roll-up and ranking through the coordinator (N runs: p50, p99),
# people found by ID number across the nation, the register per province, and one commune's
# worklists through its province's database; once with the provinces asked one after the other
# and once concurrently (async_capable, the default).
#
# The clusters are initdb'd under $KYSO_BENCH_DIR/clusters (default /tmp/fedscale-bench), run as
# `postgres`, listen on 127.0.0.1 ports KYSO_BENCH_PORT (default 5460: the coordinator) to
# KYSO_BENCH_PORT+CLUSTERS, with fsync off (setup speed: the measurement reads). They are stopped
# at the end unless KYSO_BENCH_KEEP=1; a second run reuses the loaded data (delete
# $W/loaded-* or run `clean` to reload). ~6 GB of disk per 10 M residents.
set -euo pipefail
cd "$(dirname "$0")/.."
W=${KYSO_BENCH_DIR:-/tmp/fedscale-bench}
PORT0=${KYSO_BENCH_PORT:-5460}
PGBIN=${KYSO_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
clusters() { ls -d "$W"/clusters/* 2>/dev/null || true; }
stop_all() {
  for c in $(clusters); do
    [ -f "$c/data/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$c/data" -m fast -w stop >/dev/null || true
  done
}
case "${1:-}" in
  stop) stop_all; exit 0 ;;
  clean) stop_all; rm -rf "$W"; exit 0 ;;
esac
R=${1:-30000000}
L=${2:-12000000}
N=${3:-3}
DATE=2026-11-20
COMMUNE=${KYSO_BENCH_COMMUNE:-01960}
RUNS=${KYSO_BENCH_RUNS:-500}
cargo build --release -q -p kyso
K=${CARGO_TARGET_DIR:-$PWD/target}/release/kyso
D=$W/data-$R-$L
S=$W/split-$R-$L
mkdir -p "$W/clusters" "$W/kyso"
[ "$(id -u)" = 0 ] && chown postgres:postgres "$W/clusters"
exec 3>&1
timed() {
  /usr/bin/time -f "  %e s wall, %U s user, %S s sys, max RSS %M KiB" -o "$W/time.txt" "$@"
  cat "$W/time.txt" >&3
}
psql_at() { PGOPTIONS="-c client_min_messages=warning" as_pg "$PGBIN/psql" -h 127.0.0.1 -p "$1" -U postgres -XAtq -v ON_ERROR_STOP=1 -d "$2" -c "$3"; }

# A cluster: made once, started if it is not running.
cluster() {
  local name=$1 port=$2 dir=$W/clusters/$1
  if [ ! -d "$dir/data" ]; then
    as_pg mkdir -p "$dir"
    as_pg "$PGBIN/initdb" -D "$dir/data" -A trust -U postgres --no-sync -E UTF8 >/dev/null
  fi
  if ! as_pg "$PGBIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 120 start -o \
      "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
       -c max_wal_size=8GB -c shared_buffers=512MB -c work_mem=64MB -c maintenance_work_mem=512MB -c max_connections=200" >/dev/null
  fi
}

echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}')"
cluster fedscale-nation "$PORT0"
for i in $(seq 1 "$N"); do cluster "fedscale-c$i" $((PORT0 + i)); done

if [ ! -f "$D/provider-list.csv" ]; then
  echo "== generating $R residents, $L provider-list rows in $D (setup)"
  timed "$K" bench campaign-data --residents "$R" --list "$L" --out "$D"
fi
if [ ! -f "$S/done" ]; then
  echo "== splitting per province into $S (setup)"
  rm -rf "$S"
  timed "$K" bench federation-split --data "$D" --out "$S"
  touch "$S/done"
fi
PROVINCES=$(ls "$S" | grep -E '^[0-9]{2}$')
port_of() { local i; i=$(echo "$PROVINCES" | grep -n "^$1\$" | cut -d: -f1); echo $((PORT0 + 1 + (i - 1) % N)); }

# One province's kyso database, filled by kyso's own imports.
import_province() {
  local p=$1 port url dir
  port=$(port_of "$p")
  url=postgres://postgres@127.0.0.1:$port/fedscale_p$p
  dir=$W/kyso/$p
  psql_at "$port" postgres "DROP DATABASE IF EXISTS fedscale_p$p" >/dev/null
  psql_at "$port" postgres "CREATE DATABASE fedscale_p$p" >/dev/null
  rm -rf "$dir"
  export KYSO_DATA_DIR=$dir KYSO_DATABASE_URL=$url KYSO_LOG=warn
  "$K" init >/dev/null
  "$K" campaign import-units "$S/$p/admin-units.csv" >/dev/null
  "$K" campaign import-hamlets "$S/$p/hamlets.csv" >/dev/null
  "$K" --json campaign import-register "$S/$p/register.csv" >"$dir/register.json" 2>"$dir/register.err"
  "$K" --json campaign import-provider-list "$S/$p/provider-list.csv" --as-of "$DATE" >"$dir/list.json" 2>"$dir/list.err"
  echo "  province $p (port $port): $(wc -l <"$S/$p/register.csv") register lines, \
$(wc -l <"$S/$p/provider-list.csv") list lines"
}
export -f import_province port_of psql_at as_pg
export W S K N PORT0 PGBIN DATE PROVINCES

if [ ! -f "$W/loaded-$R-$L-$N" ]; then
  echo "== importing the 34 provinces with kyso, two at a time (setup; load $(cut -d' ' -f1 /proc/loadavg))"
  rm -f "$W"/loaded-*
  timed bash -c 'echo "$PROVINCES" | xargs -P 2 -I{} bash -c "import_province {}"'
  echo "== attaching them to the coordinator"
  psql_at "$PORT0" postgres "DROP DATABASE IF EXISTS fedscale_nation" >/dev/null
  psql_at "$PORT0" postgres "CREATE DATABASE fedscale_nation" >/dev/null
  for p in $PROVINCES; do
    "$K" federation attach --coordinator-url "postgres://postgres@127.0.0.1:$PORT0/fedscale_nation" --province "$p" \
      --host 127.0.0.1 --port "$(port_of "$p")" --dbname "fedscale_p$p" --user postgres >/dev/null
  done
  for i in $(seq 1 "$N"); do psql_at $((PORT0 + i)) postgres "CHECKPOINT" >/dev/null; done
  touch "$W/loaded-$R-$L-$N"
fi
for i in $(seq 1 "$N"); do
  echo "  cluster c$i (port $((PORT0 + i))): $(psql_at $((PORT0 + i)) postgres \
    "SELECT pg_size_pretty(sum(pg_database_size(datname))) FROM pg_database WHERE datname LIKE 'fedscale_p%'")"
done

C=postgres://postgres@127.0.0.1:$PORT0/fedscale_nation
P=$(cut -d, -f1,3 "$S"/*/admin-units.csv | grep ",$COMMUNE\$" | cut -d, -f1)
PU=postgres://postgres@127.0.0.1:$(port_of "$P")/fedscale_p$P
echo "== the national roll-up's plan (coordinator)"
psql_at "$PORT0" fedscale_nation "SET enable_partitionwise_aggregate = on; EXPLAIN (VERBOSE, COSTS OFF)
  SELECT province_code, count(*), sum(holders)::BIGINT, sum(adults)::BIGINT FROM nation_adoption
  WHERE date = '$DATE' GROUP BY province_code" | head -12
for mode in sequential concurrent; do  # concurrent last: async_capable stays on
  flag=""; [ $mode = sequential ] && flag=--sequential
  echo "== kyso bench federation, provinces asked $mode (load $(cut -d' ' -f1 /proc/loadavg))"
  timed "$K" --json bench federation --coordinator-url "$C" --date "$DATE" --runs "$RUNS" \
    --province-url "$PU" --commune "$COMMUNE" $flag
done
[ "${KYSO_BENCH_KEEP:-0}" = 1 ] || stop_all
