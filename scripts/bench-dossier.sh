#!/usr/bin/env bash
# A three-file dossier (PDFs a synthetic level-2 citizen signed PAdES B-LT with kyso's own CA, so
# revocation is in the DSS and kyso's store: no network) checked through kyso's dossier service
# path, and the same three PDFs validated by pyHanko in one Python process, same run, one core
# (`taskset -c 0`); prints per-dossier p50/p99, throughput and the ratio (issue 17 item 7).
# Usage: scripts/bench-dossier.sh [KYSO_DOSSIERS] [PYHANKO_DOSSIERS]
# Needs: cargo, and a Python with pyHanko 0.38 (KYSO_PYHANKO, default .ci/venv/bin/python, which
# .ci/run creates). Honours CARGO_TARGET_DIR; KYSO_BENCH_DIR keeps the three PDFs and root.pem.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
P=${2:-30}
PY=${KYSO_PYHANKO:-.ci/venv/bin/python}
cargo build --release -q -p kyso
K=${CARGO_TARGET_DIR:-$PWD/target}/release/kyso
export KYSO_LOG=warn
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min), $(nproc) cores"
taskset -c 0 "$K" bench dossier --count "$N" --pyhanko "$PY" --pyhanko-count "$P" ${KYSO_BENCH_DIR:+--out-dir "$KYSO_BENCH_DIR"}
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
