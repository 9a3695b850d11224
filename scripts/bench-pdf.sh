#!/usr/bin/env bash
# PAdES B-B signing and validation of the same 1-page PDF with the same EC P-256 key and chain,
# in kyso and in pyHanko, one core each, same run. Usage: scripts/bench-pdf.sh [N]
# Needs: cargo, openssl, and a Python with pyHanko 0.38 (KYSO_PYHANKO, default .ci/venv/bin/python,
# which .ci/run creates). Honours CARGO_TARGET_DIR; KYSO_BENCH_DIR keeps the inputs (key, chain,
# PDF) in that directory instead of a temporary one, e.g. to profile `kyso bench pdf` afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-300}
PY=${KYSO_PYHANKO:-.ci/venv/bin/python}
cargo build --release -q
K=${CARGO_TARGET_DIR:-$PWD/target}/release/kyso
if [ -n "${KYSO_BENCH_DIR:-}" ]; then
  W=$KYSO_BENCH_DIR
  mkdir -p "$W" && rm -rf "$W/data"
else
  W=$(mktemp -d)
  trap 'rm -rf "$W"' EXIT
fi
export KYSO_LOG=warn
scripts/pdf-bench-inputs.sh "$W" "$K"
echo "== kyso"
# kyso runs 20x as many operations: 300 of them take ~0.1 s, too short to time steadily.
taskset -c 0 "$K" bench pdf --pdf "$W/doc.pdf" --key "$W/k.pem" --certs "$W/c.pem" "$W/vnpt.pem" "$W/root.pem" --count "$((N * 20))"
echo "== pyHanko"
taskset -c 0 "$PY" - "$W" "$N" <<'PY'
import io, sys, time
from pyhanko.sign import signers, fields
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.keys import load_cert_from_pemder
from pyhanko_certvalidator import ValidationContext
from importlib.metadata import version
w, n = sys.argv[1], int(sys.argv[2])
signer = signers.SimpleSigner.load(f"{w}/k.pem", f"{w}/c.pem", ca_chain_files=(f"{w}/vnpt.pem", f"{w}/root.pem"))
doc = open(f"{w}/doc.pdf", "rb").read()
meta = signers.PdfSignatureMetadata(field_name="Sig1", subfilter=fields.SigSeedSubFilter.PADES)
t = time.perf_counter()
for _ in range(n):
    out = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(doc)), meta, signer=signer)
signed = out.getvalue()
s = n / (time.perf_counter() - t)
root = load_cert_from_pemder(f"{w}/root.pem")
t = time.perf_counter()
for _ in range(n):
    sig = PdfFileReader(io.BytesIO(signed)).embedded_signatures[0]
    st = validate_pdf_signature(sig, ValidationContext(trust_roots=[root], allow_fetching=False, revocation_mode="soft-fail"))
    assert st.bottom_line
v = n / (time.perf_counter() - t)
print(f"pyHanko {version('pyHanko')}, one core, {n} runs: {s:.1f} signatures/s (PAdES B-B), {v:.1f} validations/s")
PY
