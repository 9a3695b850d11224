//! Hostile-input benchmarks (issue 14): `kyso bench validate-many` — validation time against the
//! number of signature dictionaries in a PDF (each one its own incremental update, the worst case
//! for the modification analysis) — and `kyso bench xlsx-bomb`, which writes a small XLSX whose
//! sheet inflates to gigabytes. Both can write their files for the hostile tests and
//! scripts/hostile-load.sh.

use anyhow::{Context, Result};
use kyso_custody::{Kek, KeyAlgorithm, KeyCustody, Vault};
use kyso_pki::cert::{self, CertSpec, Profile, Serial, Urls};
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

struct NoRevocation;

impl kyso_validate::RevocationSource for NoRevocation {
    fn status(&self, _: &x509_cert::Certificate, _: &x509_cert::Certificate) -> kyso_validate::Revocation {
        kyso_validate::Revocation::Good
    }
}

/// A one-page PDF with a classic xref table.
fn base_pdf() -> Vec<u8> {
    let content = "BT /F1 24 Tf 72 720 Td (hostile) Tj ET";
    let objs = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offs = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        offs.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let x = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f\r\n", objs.len() + 1).as_bytes());
    for o in offs {
        out.extend_from_slice(format!("{o:010} 00000 n\r\n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{x}\n%%EOF\n", objs.len() + 1).as_bytes(),
    );
    out
}

/// The number after the last occurrence of `key` in `pdf`.
fn last_number(pdf: &[u8], key: &[u8]) -> Option<usize> {
    let at = pdf.windows(key.len()).rposition(|w| w == key)? + key.len();
    let digits: String = pdf[at..]
        .iter()
        .map(|&b| b as char)
        .skip_while(|c| c.is_whitespace())
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// A PDF signed once for real (a self-signed EC P-256 key: the CMS, its certificate and signature
/// are checked in full), then `n - 1` further incremental updates, each a signature dictionary with
/// that CMS over a ByteRange covering its own revision — what an attacker uploads to make each
/// signature cost a parse of the whole file.
pub fn many_signatures(n: usize) -> Result<Vec<u8>> {
    let vault = Vault::new(&Kek::generate()?);
    let (key, _) = vault.generate(KeyAlgorithm::EcP256)?;
    let now = SystemTime::now();
    let spec = CertSpec {
        profile: Profile::Root,
        subject: kyso_pki::subject::org_name("kyso hostile bench", "Hostile Signer")?,
        subject_public_key_der: key.public_key_der(),
        serial: Serial::random()?,
        not_before: now - Duration::from_secs(3600),
        not_after: now + Duration::from_secs(86_400),
        urls: Urls { crl: None, ocsp: None, ca_issuers: None },
        policy_oid: None,
    };
    let cert_der = cert::self_signed(&spec, &*key)?;
    let opts = kyso_sign::SigOptions::new(now);
    let mut pdf = kyso_sign::pdf::sign(&base_pdf(), &*key, &cert_der, &[], &opts)?;
    let cms = kyso_sign::pdf::signatures(&pdf).pop().context("the first signature")?.contents;
    // padded with zeros to kyso's own /Contents reserve (16 KiB), as a signed file carries it
    let mut hex = hex::encode_upper(&cms);
    while hex.len() < 32 << 10 {
        hex.push('0');
    }
    let root = last_number(&pdf, b"/Root").context("/Root")?;
    let mut size = last_number(&pdf, b"/Size").context("/Size")?;
    for _ in 1..n {
        let prev = last_number(&pdf, b"startxref").context("startxref")?;
        let obj = size;
        size += 1;
        let obj_at = pdf.len() + 1;
        let head = format!(
            "\n{obj} 0 obj\n<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /M (D:20260101000000Z) /ByteRange [0 0000000000 0000000000 0000000000] /Contents "
        );
        let br_at = pdf.len() + head.find("[0 ").context("ByteRange")? + 3;
        pdf.extend_from_slice(head.as_bytes());
        let gap_start = pdf.len();
        pdf.push(b'<');
        pdf.extend_from_slice(hex.as_bytes());
        pdf.push(b'>');
        let gap_end = pdf.len();
        pdf.extend_from_slice(b" >>\nendobj\n");
        let xref = pdf.len();
        pdf.extend_from_slice(
            format!(
                "xref\n0 1\n0000000000 65535 f\r\n{obj} 1\n{obj_at:010} 00000 n\r\ntrailer\n<< /Size {size} /Root {root} 0 R /Prev {prev} >>\nstartxref\n{xref}\n%%EOF\n"
            )
            .as_bytes(),
        );
        let end = pdf.len();
        let br = format!("{gap_start:010} {gap_end:010} {:010}", end - gap_end);
        pdf[br_at..br_at + br.len()].copy_from_slice(br.as_bytes());
    }
    Ok(pdf)
}

/// `kyso bench validate-many`: for each count, build the file and time its validation (best of
/// `runs`) within the default limits, or with the limits lifted (`no_limits`) to show the growth.
pub fn validate_many(
    counts: &[usize],
    runs: usize,
    no_limits: bool,
    out_dir: Option<&Path>,
    json_mode: bool,
) -> Result<()> {
    let mut rows = Vec::new();
    for &n in counts {
        let pdf = many_signatures(n)?;
        if let Some(dir) = out_dir {
            std::fs::create_dir_all(dir)?;
            std::fs::write(dir.join(format!("sigs-{n}.pdf")), &pdf)?;
        }
        let limits = if no_limits {
            kyso_validate::Limits {
                max_bytes: usize::MAX,
                max_signatures: usize::MAX,
                max_dss_items: usize::MAX,
                max_work_bytes: usize::MAX,
            }
        } else {
            kyso_validate::Limits::default()
        };
        let anchors = kyso_validate::TrustAnchors::new();
        let mut best = f64::MAX;
        let mut outcome = String::new();
        for _ in 0..runs.max(1) {
            let t = Instant::now();
            let r = kyso_validate::signatures_within(&pdf, &limits).and_then(|sigs| {
                kyso_validate::validate_found(&pdf, sigs, &anchors, &NoRevocation, SystemTime::now(), &limits)
            });
            best = best.min(t.elapsed().as_secs_f64());
            outcome = match r {
                Ok(reports) => format!("{} reports", reports.len()),
                Err(e) => format!("refused: {e}"),
            };
        }
        if !json_mode {
            println!("{n:>6} signatures, {:>9} bytes: {:>9.3} s  ({outcome})", pdf.len(), best);
        }
        rows.push(json!({ "signatures": n, "bytes": pdf.len(), "seconds": best, "outcome": outcome }));
    }
    if json_mode {
        println!("{}", json!({ "no_limits": no_limits, "runs": rows }));
    }
    Ok(())
}

/// `kyso bench xlsx-bomb`: write an XLSX whose sheet (or shared strings) inflates to `inflated_mb`.
pub fn xlsx_bomb(out: &Path, inflated_mb: u64, shared: bool) -> Result<()> {
    let f = std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    let f = kyso_xlsx::write_bomb(std::io::BufWriter::new(f), inflated_mb << 20, shared)
        .map_err(|e| anyhow::anyhow!("writing {}: {e}", out.display()))?;
    drop(f);
    let len = std::fs::metadata(out)?.len();
    println!("{}: {len} bytes, inflating to {inflated_mb} MiB", out.display());
    Ok(())
}
