#!/usr/bin/env bash
# Server peak memory under N concurrent failed logins (issue 14: < 300 MB for 100). Starts
# `kyso serve --demo` in a fresh directory (trusting 127.0.0.1 as a proxy, so that each request can
# name its own client address), fires N wrong-password logins at once from N threads, each for
# another ID number from another address (none is throttled: the worst case for memory, every one
# reaches Argon2), and reads the server's peak RSS (VmHWM in /proc/PID/status) before and after.
#
# Usage: scripts/bench-login-memory.sh [N] [extra env for the server, e.g. KYSO_ARGON2_MEMORY_MIB=100000]
# The binary: KYSO_BIN (default: the release build, built here). Files under KYSO_BENCH_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100}
shift || true
W=${KYSO_BENCH_DIR:-/tmp/kyso-bench-login}
if [ -z "${KYSO_BIN:-}" ]; then
  cargo build --release -q -p kyso
  KYSO_BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/kyso
fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
rm -rf "$W" && mkdir -p "$W"
echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); binary $KYSO_BIN; server env: ${*:-(defaults)}"
env KYSO_DATA_DIR="$W/data" KYSO_LOG=warn KYSO_TRUSTED_PROXIES=127.0.0.1 "$@" \
  "$KYSO_BIN" serve --demo --listen "127.0.0.1:$PORT" >"$W/out.txt" 2>"$W/err.txt" &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.5; done
mem() { grep -E "^(VmRSS|VmHWM)" /proc/$PID/status | tr -s ' \t' ' ' | tr '\n' ' '; }
echo "== after start:   $(mem)"
python3 - "$PORT" "$N" <<'EOF'
import http.client, re, sys, threading, time, collections
port, n = int(sys.argv[1]), int(sys.argv[2])
c = http.client.HTTPConnection("127.0.0.1", port); c.request("GET", "/login"); r = c.getresponse()
cookie = re.search(r"kyso_pre=[^;]+", r.getheader("Set-Cookie")).group(0)
csrf = re.search(r'name="csrf" value="([^"]+)"', r.read().decode()).group(1)
barrier, statuses, lock = threading.Barrier(n), collections.Counter(), threading.Lock()
def one(i):
    body = f"csrf={csrf}&id_number=0192040{i:05d}&password=wrong-password-{i}"
    h = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded",
         "X-Forwarded-For": f"10.{i // 250}.{i % 250}.7"}
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    barrier.wait()
    try:
        c.request("POST", "/login", body, h); s = c.getresponse().status
    except OSError as e:
        s = type(e).__name__
    with lock: statuses[s] += 1
t0 = time.time()
ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
[t.start() for t in ts]; [t.join() for t in ts]
print(f"== {n} concurrent failed logins in {time.time() - t0:.1f} s: " + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items(), key=str)))
EOF
echo "== after the burst: $(mem)"
