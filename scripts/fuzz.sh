#!/usr/bin/env bash
# Fuzz the parsers that read untrusted input, each for a bounded time (default 60 s per target):
#   scripts/fuzz.sh [SECONDS] [TARGET…]
# Targets: pdf_signatures cms validate_pdf xlsx_read csv_records ocsp_request tsa_request csc_json
# multipart pdf_differential (fuzz/fuzz_targets/). Installs cargo-fuzz when it is missing. Runs on the stable toolchain without a sanitizer
# (`-s none`): libFuzzer's coverage guidance still works, and a panic is still a crash. Crashes
# land in fuzz/artifacts/<target>/ and the script exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(pdf_signatures cms validate_pdf xlsx_read csv_records ocsp_request tsa_request csc_json multipart pdf_differential)
fi
if ! command -v cargo-fuzz >/dev/null; then
  echo "== installing cargo-fuzz (cargo install --locked cargo-fuzz)"
  cargo install --locked cargo-fuzz
fi
status=0
for t in "${targets[@]}"; do
  corpus="fuzz/corpus/$t"
  mkdir -p "$corpus"
  # Seed the PDF and CMS targets with real files (a plain PDF, a kyso B-T signature, OpenSSL's
  # streamed BER CMS, pyHanko's CMS with a repeated certificate).
  case "$t" in
    pdf_signatures|validate_pdf|pdf_differential) cp -n fuzz/seeds/*.pdf "$corpus/" 2>/dev/null || true ;;
    ocsp_request) cp -n fuzz/seeds/ocsp-request*.der "$corpus/" 2>/dev/null || true ;;
    tsa_request) cp -n fuzz/seeds/*.tsq "$corpus/" 2>/dev/null || true ;;
    csc_json) cp -n fuzz/seeds/csc-*.json "$corpus/" 2>/dev/null || true ;;
    multipart) cp -n fuzz/seeds/multipart-*.bin "$corpus/" 2>/dev/null || true ;;
    cms) cp -n fuzz/seeds/cms-*.p7s "$corpus/" 2>/dev/null || true ;;
  esac
  echo "== $t for ${secs}s"
  # The status is cargo-fuzz's own (a crash, or a target that does not build), not grep's.
  if ! (cd fuzz && cargo fuzz run -s none "$t" "../$corpus" -- -max_total_time="$secs" -rss_limit_mb=2048 2>&1 | { grep -E "^(Done|INFO: Seed|==[0-9]+== ERROR|SUMMARY|thread .* panicked)|Test unit written|deadly signal|^error" || true; }); then
    echo "!! $t found a crash: see fuzz/artifacts/$t/" >&2
    status=1
  fi
done
exit $status
