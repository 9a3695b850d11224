#!/usr/bin/env bash
# kyso-xlsx and kyso-campaign's CSV reader against calamine, rust_xlsxwriter and csv-core, doing the
# same work on the same generated files (bench/compare-xlsx-csv: a standalone Cargo project, so
# the maintained crates never enter the workspace's dependency tree). Prints a Markdown table.
# Usage: scripts/bench-xlsx-csv.sh [REGISTER_ROWS] [LIST_ROWS]   (default 1000000 200000)
# Files go under KYSO_BENCH_DIR (default /tmp/kyso-bench-xlsx-csv, ~250 MB at full size);
# KYSO_BENCH_RUNS (default 3) runs of each, the best kept. Results: docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/../bench/compare-xlsx-csv"
R=${1:-1000000}
L=${2:-200000}
W=${KYSO_BENCH_DIR:-/tmp/kyso-bench-xlsx-csv}
cargo build --release -q
echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
./target/release/compare-xlsx-csv "$R" "$L" "$W"
