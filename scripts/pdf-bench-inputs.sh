#!/usr/bin/env bash
# The inputs of the PDF benchmarks (scripts/bench-pdf.sh, scripts/bench-before-after.sh), written
# into DIR: a kyso installation (DIR/data), its CA certificates (root.pem, vnpt.pem), an EC P-256
# key made by OpenSSL (k.pem) certified by kyso's VNPT-CA from a CSR (c.pem), and a one-page PDF
# (doc.pdf). Usage: scripts/pdf-bench-inputs.sh DIR KYSO_BINARY
set -euo pipefail
W=$1 K=$2
export KYSO_DATA_DIR=$W/data KYSO_LOG=warn
"$K" init >/dev/null
"$K" ca export --out-dir "$W" >/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$W/k.pem" 2>/dev/null
openssl req -new -subj /CN=bench -key "$W/k.pem" -out "$W/r.csr"
"$K" cert issue --id 019190000999 --name "Nguyễn Văn Thử" --province "Tỉnh Thái Nguyên" --provider vnpt \
  --eid-level2 --csr "$W/r.csr" --out "$W/c.der" >/dev/null
openssl x509 -inform DER -in "$W/c.der" -out "$W/c.pem"
python3 - "$W/doc.pdf" <<'PY'
import sys
text = b"BT /F1 24 Tf 72 720 Td (Don de nghi - kyso bench) Tj ET"
objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream", b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
out, offs = b"%PDF-1.7\n", []
for i, o in enumerate(objs):
    offs.append(len(out)); out += b"%d 0 obj\n" % (i + 1) + o + b"\nendobj\n"
x = len(out); out += b"xref\n0 %d\n0000000000 65535 f\r\n" % (len(objs) + 1)
for o in offs: out += b"%010d 00000 n\r\n" % o
out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, x)
open(sys.argv[1], "wb").write(out)
PY
