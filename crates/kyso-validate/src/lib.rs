//! Signature validation after ETSI EN 319 102-1: for each signature, integrity (ByteRange and
//! digest), the cryptographic check, a path to a configured trust anchor, revocation status at the
//! signing time (proven by a signature time-stamp for B-T, else as claimed), key usage, and what
//! changed in the PDF after signing; then a verdict TOTAL-PASSED / INDETERMINATE / TOTAL-FAILED
//! with its sub-indication, reported in Vietnamese (default) or English.
//!
//! Architecture invariant: no IO. Trust anchors and revocation statuses come in from the caller
//! (`kyso-authority` answers revocation from its own store); documents come in as bytes.

mod chain;
mod modifications;
mod report;

pub use chain::TrustAnchors;
pub use report::{render, Lang};

use kyso_sign::pdf::FoundSignature;
use serde::Serialize;
use std::time::SystemTime;
use x509_cert::Certificate;

/// Revocation status of one certificate, as the caller's source knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Revocation {
    Good,
    Revoked {
        at: SystemTime,
        reason: u8,
    },
    /// The source cannot tell (unknown issuer, responder down): the law asks to warn.
    Unknown,
}

/// Where revocation statuses come from (kyso's store, a DSS, OCSP, a CRL).
pub trait RevocationSource {
    fn status(&self, issuer: &Certificate, subject: &Certificate) -> Revocation;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING-KEBAB-CASE")]
pub enum Indication {
    TotalPassed,
    Indeterminate,
    TotalFailed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SubIndication {
    HashFailure,
    SigCryptoFailure,
    Revoked,
    RevokedNoPoe,
    NoCertificateChainFound,
    OutOfBoundsNoPoe,
    TryLater,
    FormatFailure,
    SigConstraintsFailure,
}

/// What changed in the file after a signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Modification {
    /// The signature covers the whole file.
    None,
    /// Later incremental updates only add signatures, form fields, DSS or timestamps.
    AllowedLater { bytes: usize },
    /// A later update changes page content or the page tree.
    PageContentChanged { at_byte: usize, detail: String },
    /// Later updates that could not be analysed.
    Unknown { bytes: usize, detail: String },
}

#[derive(Clone, Debug, Serialize)]
pub struct SignatureReport {
    pub index: usize,
    pub field_name: Option<String>,
    pub signer_name: Option<String>,
    /// `CCCD:0012****7890`
    pub signer_id_masked: Option<String>,
    pub issuer_name: Option<String>,
    pub serial: Option<String>,
    pub cert_valid_from: Option<i64>,
    pub cert_valid_to: Option<i64>,
    /// Claimed by the signer (`/M` or signing-time): not proof of existence.
    pub claimed_signing_time: Option<i64>,
    /// From a signature time-stamp (proof of existence), when present.
    pub timestamp_time: Option<i64>,
    pub byte_range_ok: bool,
    pub digest_ok: bool,
    pub signature_ok: bool,
    pub signing_certificate_ok: bool,
    pub chain: Vec<String>,
    pub chain_ok: bool,
    pub revocation: String,
    pub key_usage_ok: bool,
    pub modification: Modification,
    pub indication: Indication,
    pub sub_indication: Option<SubIndication>,
    pub problems: Vec<String>,
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ValidationError {
    #[error("this PDF has no signature")]
    NoSignature,
    #[error(transparent)]
    Sign(#[from] kyso_sign::SignError),
}

/// Validate every signature of a PDF.
pub fn validate_pdf(
    pdf: &[u8],
    anchors: &TrustAnchors,
    revocation: &dyn RevocationSource,
    now: SystemTime,
) -> Result<Vec<SignatureReport>, ValidationError> {
    if !pdf.starts_with(b"%PDF-") {
        return Err(kyso_sign::SignError::Malformed { what: "PDF", reason: "does not start with %PDF-".into() }.into());
    }
    let sigs = kyso_sign::pdf::signatures(pdf);
    if sigs.is_empty() {
        return Err(ValidationError::NoSignature);
    }
    let last_full = sigs.iter().map(|s| s.covers_whole_file_up_to).max().unwrap_or(0);
    Ok(sigs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let claimed = pdf_claimed_time(pdf, s.byte_range[1]);
            let mut r =
                check_cms(i, s.field_name.clone(), &s.contents, s.digest(pdf), claimed, anchors, revocation, now);
            pdf_checks(&mut r, s, pdf, last_full);
            finish(&mut r);
            r
        })
        .collect())
}

/// Validate a detached CMS/CAdES signature (`.p7s`) over `content`.
pub fn validate_detached(
    cms: &[u8],
    content: &[u8],
    anchors: &TrustAnchors,
    revocation: &dyn RevocationSource,
    now: SystemTime,
) -> SignatureReport {
    let digest = kyso_pki::alg::sha256(content).try_into().unwrap_or([0u8; 32]);
    let mut r = check_cms(0, None, cms, Some(digest), None, anchors, revocation, now);
    r.byte_range_ok = true;
    finish(&mut r);
    r
}

fn blank(index: usize, field_name: Option<String>) -> SignatureReport {
    SignatureReport {
        index,
        field_name,
        signer_name: None,
        signer_id_masked: None,
        issuer_name: None,
        serial: None,
        cert_valid_from: None,
        cert_valid_to: None,
        claimed_signing_time: None,
        timestamp_time: None,
        byte_range_ok: false,
        digest_ok: false,
        signature_ok: false,
        signing_certificate_ok: false,
        chain: Vec::new(),
        chain_ok: false,
        revocation: String::new(),
        key_usage_ok: false,
        modification: Modification::None,
        indication: Indication::Indeterminate,
        sub_indication: None,
        problems: Vec::new(),
        warnings: Vec::new(),
    }
}

fn unix(t: SystemTime) -> i64 {
    kyso_pki::time::unix(t) as i64
}

/// The `/M` date of the signature dictionary holding the `/Contents` that starts at `contents_at`
/// (PAdES puts the claimed signing time there, not in the CMS). `D:YYYYMMDDHHmmSS` with an
/// optional `Z` or `±HH'mm'` offset.
fn pdf_claimed_time(pdf: &[u8], contents_at: usize) -> Option<SystemTime> {
    let from = contents_at.saturating_sub(4096);
    let window = pdf.get(from..contents_at.min(pdf.len()))?;
    let dict_start = window.windows(2).rposition(|w| w == b"<<")?;
    let after = pdf.get(contents_at..(contents_at + 40_000).min(pdf.len()))?;
    let end = after.windows(2).position(|w| w == b">>").unwrap_or(after.len()).min(4096);
    let hay: Vec<u8> = [&window[dict_start..], &after[..end]].concat();
    // `/M (D:…)` or `/M(D:…)`; not `/Mx…`
    let m = (0..hay.len().saturating_sub(2)).find(|&i| {
        hay[i..].starts_with(b"/M") && {
            let rest = &hay[i + 2..];
            let ws = rest.iter().take_while(|c| c.is_ascii_whitespace()).count();
            rest[ws..].starts_with(b"(D:")
        }
    })?;
    let start = m + 2 + hay[m + 2..].iter().take_while(|c| c.is_ascii_whitespace()).count() + 3;
    let raw = &hay[start..(start + 21).min(hay.len())];
    let s = std::str::from_utf8(raw).ok()?;
    let num = |a: usize, b: usize| s.get(a..b).and_then(|x| x.parse::<i64>().ok());
    let (y, mo, d) = (num(0, 4)?, num(4, 6).unwrap_or(1), num(6, 8).unwrap_or(1));
    let (h, mi, se) = (num(8, 10).unwrap_or(0), num(10, 12).unwrap_or(0), num(12, 14).unwrap_or(0));
    let offset = match s.as_bytes().get(14) {
        Some(b'+') | Some(b'-') => {
            let sign = if s.as_bytes()[14] == b'-' { -1 } else { 1 };
            sign * (num(15, 17).unwrap_or(0) * 3600 + num(18, 20).unwrap_or(0) * 60)
        }
        _ => 0,
    };
    let date = time::Date::from_calendar_date(y as i32, time::Month::try_from(mo as u8).ok()?, d as u8).ok()?;
    let t = date.with_hms(h as u8, mi as u8, se as u8).ok()?.assume_utc().unix_timestamp() - offset;
    Some(kyso_pki::time::from_unix(t))
}

#[allow(clippy::too_many_arguments)]
fn check_cms(
    index: usize,
    field_name: Option<String>,
    cms: &[u8],
    digest: Option<[u8; 32]>,
    claimed: Option<SystemTime>,
    anchors: &TrustAnchors,
    revocation: &dyn RevocationSource,
    now: SystemTime,
) -> SignatureReport {
    let mut r = blank(index, field_name);
    let Some(digest) = digest else {
        r.problems.push("the ByteRange does not fit inside the file".into());
        r.sub_indication = Some(SubIndication::FormatFailure);
        return r;
    };
    let check = match kyso_sign::verify_detached(cms, digest) {
        Ok(c) => c,
        Err(e) => {
            r.problems.push(format!("the signature container cannot be read: {e}"));
            r.sub_indication = Some(SubIndication::FormatFailure);
            return r;
        }
    };
    r.digest_ok = check.message_digest_ok;
    r.signature_ok = check.signature_ok;
    r.signing_certificate_ok = check.signing_cert_v2_ok;
    let claimed = check.signing_time.or(claimed);
    r.claimed_signing_time = claimed.map(unix);
    let Ok(cert) = kyso_pki::cert::parse(&check.signer_cert_der) else {
        r.problems.push("the signer certificate cannot be parsed".into());
        r.sub_indication = Some(SubIndication::FormatFailure);
        return r;
    };
    chain::describe_signer(&mut r, &cert);
    // a valid signature time-stamp is proof of existence: it replaces the claimed time
    let mut proven = None;
    if let Some(ts) = &check.timestamp {
        match chain::judge_timestamp(&mut r, ts, anchors, revocation, &check.certificates) {
            Ok(()) => {
                r.timestamp_time = Some(unix(ts.gen_time));
                proven = Some(ts.gen_time);
            }
            Err(why) => {
                r.problems.push(format!("the signature time-stamp is not proof of existence: {why}"));
                chain::set(&mut r, SubIndication::SigConstraintsFailure);
            }
        }
    }
    let path = anchors.build_path(&cert, &check.certificates);
    let signing_time = proven.or(claimed).unwrap_or(now);
    match path {
        Ok(path) => {
            r.chain = path.iter().map(chain::common_name).collect();
            r.chain_ok = true;
            // revocation of each non-anchor certificate, at the claimed signing time
            let mut statuses = Vec::new();
            for pair in path.windows(2) {
                statuses.push((chain::common_name(&pair[0]), revocation.status(&pair[1], &pair[0])));
            }
            chain::judge_revocation(&mut r, &statuses, signing_time, proven.is_some());
        }
        Err(missing) => {
            r.problems.push(format!("no path to a trusted root: {missing}"));
            r.sub_indication = Some(SubIndication::NoCertificateChainFound);
        }
    }
    chain::judge_validity_and_usage(&mut r, &cert, now, proven);
    r
}

fn pdf_checks(r: &mut SignatureReport, s: &FoundSignature, pdf: &[u8], last_full: usize) {
    r.byte_range_ok = s.byte_range[0] == 0 && s.gap_is_contents && s.covers_whole_file_up_to <= pdf.len();
    if !r.byte_range_ok {
        r.problems.push("the ByteRange does not cover the whole revision except the signature value".into());
    }
    if s.sub_filter.as_deref() != Some("/ETSI.CAdES.detached") && s.sub_filter.as_deref() != Some("ETSI.CAdES.detached")
    {
        r.warnings
            .push(format!("SubFilter is {:?}, not ETSI.CAdES.detached (not a PAdES baseline signature)", s.sub_filter));
    }
    r.modification = modifications::analyse(pdf, s.covers_whole_file_up_to, last_full);
}

/// The verdict, from the most serious finding down (EN 319 102-1 order of checks).
fn finish(r: &mut SignatureReport) {
    use Indication::*;
    use SubIndication::*;
    let (ind, sub) = if matches!(r.sub_indication, Some(FormatFailure)) {
        (TotalFailed, Some(FormatFailure))
    } else if !r.byte_range_ok || !r.digest_ok {
        (TotalFailed, Some(HashFailure))
    } else if !r.signature_ok {
        (TotalFailed, Some(SigCryptoFailure))
    } else if let Modification::PageContentChanged { .. } = r.modification {
        (TotalFailed, Some(HashFailure))
    } else if matches!(r.sub_indication, Some(Revoked)) {
        (TotalFailed, Some(Revoked))
    } else if !r.signing_certificate_ok {
        (Indeterminate, Some(FormatFailure))
    } else if let Some(
        s @ (NoCertificateChainFound | RevokedNoPoe | OutOfBoundsNoPoe | TryLater | SigConstraintsFailure),
    ) = r.sub_indication
    {
        (Indeterminate, Some(s))
    } else if !r.key_usage_ok {
        (Indeterminate, Some(SigConstraintsFailure))
    } else if let Modification::Unknown { .. } = r.modification {
        (Indeterminate, Some(FormatFailure))
    } else {
        (TotalPassed, None)
    };
    r.indication = ind;
    r.sub_indication = sub;
}
