#!/usr/bin/env bash
# /healthz latency while hostile uploads run (issue 14, "Done when": p99 < 200 ms while four
# hostile uploads run). Starts a release `kyso serve` on a fresh data directory, then for
# SECONDS (default 30): four clients POST hostile PDFs to /api/validate back to back — two with
# 100 signature dictionaries (each its own revision: validated, the heaviest accepted file), two
# with 150 (refused by the bound) — plus two 20 MiB multipart bodies to /me/sign with a 60 kB
# boundary, while one client GETs /healthz every 20 ms. Prints the /healthz p50/p99/max and the
# uploads' status counts. Usage: scripts/hostile-load.sh [SECONDS]
# Needs: cargo, curl, python3. Honours CARGO_TARGET_DIR; KYSO_HOSTILE_DIR keeps the files.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-30}
cargo build --release -q -p kyso
K=${CARGO_TARGET_DIR:-$PWD/target}/release/kyso
if [ -n "${KYSO_HOSTILE_DIR:-}" ]; then
  W=$KYSO_HOSTILE_DIR
  mkdir -p "$W" && rm -rf "$W/data"
else
  W=$(mktemp -d)
fi
PORT=${KYSO_HOSTILE_PORT:-18443}
export KYSO_DATA_DIR=$W/data KYSO_LOG=warn
# the rate limit would stop one client early: lift it for the load (it has its own test)
export KYSO_RATE_VALIDATE=100000/100000
$K init --base-url "http://127.0.0.1:$PORT" >/dev/null
$K bench validate-many --signatures 100,150 --runs 1 --out-dir "$W" >/dev/null
python3 - "$W/boundary.body" <<'PY'
import sys
b = "b" * 60000
head = f"--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n".encode()
with open(sys.argv[1], "wb") as f:
    f.write(head + b"x" * (20 * 1024 * 1024 - len(head)))
PY
$K serve --listen "127.0.0.1:$PORT" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true; [ -n "${KYSO_HOSTILE_DIR:-}" ] || rm -rf "$W"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
END=$((SECONDS + SECS))
upload() { # $1: file, $2: log
  while [ $SECONDS -lt $END ]; do
    curl -s -o /dev/null -w '%{http_code}\n' --data-binary "@$1" -H 'Content-Type: application/pdf' \
      "http://127.0.0.1:$PORT/api/validate" >>"$2" || true
  done
}
BOUNDARY=$(printf 'b%.0s' $(seq 60000))
multipart() { # 20 MiB with a 60 kB boundary (anonymous: the session check and the header check)
  while [ $SECONDS -lt $END ]; do
    curl -s -o /dev/null -w '%{http_code}\n' --data-binary "@$W/boundary.body" \
      -H "Content-Type: multipart/form-data; boundary=$BOUNDARY" \
      "http://127.0.0.1:$PORT/me/sign" >>"$W/multipart.log" || true
  done
}
LOAD=()
upload "$W/sigs-100.pdf" "$W/up1.log" & LOAD+=($!)
upload "$W/sigs-100.pdf" "$W/up2.log" & LOAD+=($!)
upload "$W/sigs-150.pdf" "$W/up3.log" & LOAD+=($!)
upload "$W/sigs-150.pdf" "$W/up4.log" & LOAD+=($!)
multipart & LOAD+=($!)
multipart & LOAD+=($!)
sleep 1
: >"$W/healthz.log"
while [ $SECONDS -lt $END ]; do
  curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "http://127.0.0.1:$PORT/healthz" >>"$W/healthz.log" || echo "000 99" >>"$W/healthz.log"
  sleep 0.02
done
wait "${LOAD[@]}" 2>/dev/null || true
python3 - "$W" <<'PY'
import sys, collections, glob
w = sys.argv[1]
rows = [l.split() for l in open(f"{w}/healthz.log") if l.strip()]
ok = sorted(float(t) * 1000 for c, t in rows if c == "200")
bad = sum(1 for c, _ in rows if c != "200")
q = lambda p: ok[min(len(ok) - 1, int(p * len(ok)))] if ok else float("nan")
print(f"/healthz: {len(rows)} requests, {bad} failed, p50 {q(0.50):.1f} ms, p99 {q(0.99):.1f} ms, max {ok[-1] if ok else float('nan'):.1f} ms")
for name, files in [("100 signatures", ["up1", "up2"]), ("150 signatures", ["up3", "up4"]), ("60 kB boundary", ["multipart"])]:
    c = collections.Counter(l.strip() for f in files for l in open(f"{w}/{f}.log"))
    print(f"  uploads, {name}: {dict(sorted(c.items()))}")
PY
